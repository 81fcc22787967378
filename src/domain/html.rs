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

/// The text of (sanitized) HTML, as a search reads it: tags dropped (a block or line break
/// as a space), the entities the sanitizer writes decoded, runs of white space as one.
pub fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                out.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{sanitize, text};

    #[test]
    fn text_drops_tags_and_decodes_entities() {
        assert_eq!(
            text("<p>Likes <b>golf</b> &amp; tennis</p><p>Calls &lt;9am&gt;</p>"),
            "Likes golf & tennis Calls <9am>"
        );
    }

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
