//! How names sort: without regard to case or accents (`Ångström` with the A's, `émile` with
//! the E's, `Zoë` beside `zoe`), as Pipedrive's case- and accent-insensitive collation sorts
//! them, and identically on every backend: the stores compare these keys byte by byte.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The key a text sorts by: decomposed, without its combining marks, lower-cased, with the
/// letters that do not decompose spelled out (`ß` → `ss`, `æ` → `ae`, `ø` → `o`).
pub fn sort_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'ß' | 'ẞ' => key.push_str("ss"),
            'æ' | 'Æ' => key.push_str("ae"),
            'œ' | 'Œ' => key.push_str("oe"),
            'ø' | 'Ø' => key.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => key.push('d'),
            'ł' | 'Ł' => key.push('l'),
            'þ' | 'Þ' => key.push_str("th"),
            'ı' => key.push('i'),
            _ => key.extend(c.to_lowercase()),
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::sort_key;

    #[test]
    fn keys_ignore_case_and_accents() {
        assert_eq!(sort_key("Ångström"), "angstrom");
        assert_eq!(sort_key("émile"), "emile");
        assert_eq!(sort_key("Zoë"), sort_key("zoe"));
        assert_eq!(sort_key("Straße"), "strasse");
        assert_eq!(sort_key("Łukasz Øster"), "lukasz oster");
        assert_eq!(sort_key("ＡＢＣ"), "abc");
    }

    #[test]
    fn keys_sort_accented_names_with_their_letter() {
        let mut names = ["zoe", "Zoë", "émile", "Ångström", "Bob", "Eve"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, ["Ångström", "Bob", "émile", "Eve", "zoe", "Zoë"]);
    }
}
