//! A person's name and its parts: how a full name splits, how parts make a name, and how an
//! update changes either.

use super::{MAX_TEXT, Person};
use crate::domain::error::DomainError;
use crate::domain::values;

/// A person's name and its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Splits a full name: the first word is the first name and the rest, however many words, is
/// the last name (`"Jack"` → `Jack`/`null`; `"Anna Maria van Dijk"` → `Anna`/`Maria van Dijk`).
pub fn split_name(name: &str) -> Name {
    let name = name.trim();
    let mut words = name.split_whitespace();
    let first = words.next().map(str::to_owned);
    let rest: Vec<&str> = words.collect();
    Name {
        name: name.to_owned(),
        first_name: first,
        last_name: (!rest.is_empty()).then(|| rest.join(" ")),
    }
}

/// Resolves `name`, `first_name` and `last_name` as Pipedrive does: a `name` is split into its
/// parts, unless parts are also given, which then win for the parts; parts alone make the name
/// by concatenation, and may not both be empty. `Ok(None)` when nothing was given.
pub fn resolve_name(
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<Option<Name>, DomainError> {
    for (field, v) in [("name", name), ("first_name", first), ("last_name", last)] {
        if let Some(v) = v {
            values::max_chars(field, v, MAX_TEXT)?;
        }
    }
    if let Some(name) = name {
        if name.trim().is_empty() {
            return Err(name_must_be_given());
        }
        // Parts given with the name replace the split ones; an empty (or null) part leaves the
        // split one (SDKs send null for every unset key).
        let mut out = split_name(name);
        if let Some(first) = first.and_then(name_part) {
            out.first_name = Some(first);
        }
        if let Some(last) = last.and_then(name_part) {
            out.last_name = Some(last);
        }
        return Ok(Some(out));
    }
    if first.is_none() && last.is_none() {
        return Ok(None);
    }
    let first = first.map(str::trim).unwrap_or("");
    let last = last.map(str::trim).unwrap_or("");
    if first.is_empty() && last.is_empty() {
        return Err(name_must_be_given());
    }
    let name = format!("{first} {last}").trim().to_owned();
    if name.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            "name",
            format!(
                "first_name and last_name make the name, which must be at most {MAX_TEXT} \
                 characters"
            ),
        ));
    }
    Ok(Some(Name {
        name,
        first_name: name_part(first),
        last_name: name_part(last),
    }))
}

/// A first or last name as stored: a missing part is `None`, as for a one-word name.
fn name_part(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The name after an update: a new `name` is split as on create; `first_name` or `last_name`
/// alone replace that part and rebuild the name from both parts.
pub fn resolve_update_name(
    current: &Person,
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<Option<Name>, DomainError> {
    if name.is_some() || (first.is_some() && last.is_some()) {
        return resolve_name(name, first, last);
    }
    if first.is_none() && last.is_none() {
        return Ok(None);
    }
    let first = first.or(current.first_name.as_deref());
    let last = last.or(current.last_name.as_deref());
    resolve_name(None, Some(first.unwrap_or("")), Some(last.unwrap_or("")))
}

pub fn name_must_be_given() -> DomainError {
    DomainError::refused("Name must be given.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_names_have_no_last_name() {
        let n = split_name("Jack");
        assert_eq!(n.first_name.as_deref(), Some("Jack"));
        assert_eq!(n.last_name, None);
    }

    #[test]
    fn the_last_name_is_everything_after_the_first_word() {
        let n = split_name("  Anna   Maria van Dijk ");
        assert_eq!(n.name, "Anna   Maria van Dijk");
        assert_eq!(n.first_name.as_deref(), Some("Anna"));
        assert_eq!(n.last_name.as_deref(), Some("Maria van Dijk"));
    }

    #[test]
    fn parts_alone_make_the_name() {
        let n = resolve_name(None, Some("Will"), Some("Smith"))
            .unwrap()
            .unwrap();
        assert_eq!(n.name, "Will Smith");
        assert!(resolve_name(None, Some(""), Some(" ")).is_err());
        assert!(resolve_name(Some(" "), None, None).is_err());
        assert_eq!(resolve_name(None, None, None).unwrap(), None);
    }
}
