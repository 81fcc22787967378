//! The HTML of notes and activity notes, made safe once, when it is written: scripts, styles,
//! event handlers, `javascript:` links and every tag or attribute outside a plain rich-text
//! list are removed (by `ammonia`, a well-kept sanitizer on html5ever), what is left kept
//! as written. Pipedrive strips unsafe markup too; its exact list is not documented.

use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Links keep their target but always open apart from the app, as rich-text editors write.
    b.link_rel(Some("noopener noreferrer"));
    b
});

/// `html` with only safe markup left.
pub fn sanitize(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn scripts_and_event_handlers_are_removed_and_formatting_kept() {
        let dirty = "<p onclick=\"steal()\">Hi <b>there</b><script>alert(1)</script></p>\
                     <a href=\"javascript:alert(1)\">x</a><img src=x onerror=alert(1)>";
        let clean = sanitize(dirty);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(clean.contains("<p>Hi <b>there</b></p>"), "{clean}");
    }

    #[test]
    fn plain_text_stays_as_written() {
        assert_eq!(sanitize("Called, will call back"), "Called, will call back");
    }
}
