//! Emails and phones (the primary rule), and the marketing consent that hangs on an email.

use super::{Contact, ContactInput, MAX_TEXT, Person};
use crate::domain::error::DomainError;
use crate::domain::{MarketingStatus, Session, values};

/// Applies the primary rule to a list of emails or phones: empty values are dropped (Pipedrive
/// renders "none" as `[{"value":"","primary":true}]`, so a client may echo that back), at most one
/// may be primary, and when none is the first one is.
pub fn normalize_contacts(
    field: &str,
    inputs: Vec<ContactInput>,
) -> Result<Vec<Contact>, DomainError> {
    values::max_items(field, inputs.len(), values::MAX_CONTACTS)?;
    let inputs: Vec<ContactInput> = inputs
        .into_iter()
        .filter(|c| !c.value.trim().is_empty())
        .collect();
    let primaries = inputs.iter().filter(|c| c.primary == Some(true)).count();
    if primaries > 1 {
        return Err(DomainError::invalid(
            field,
            "at most one value can be marked as primary",
        ));
    }
    let mut out = Vec::with_capacity(inputs.len());
    for (i, c) in inputs.into_iter().enumerate() {
        let value = c.value.trim().to_owned();
        values::max_chars(&format!("{field}[{i}].value"), &value, MAX_TEXT)?;
        values::max_chars(&format!("{field}[{i}].label"), &c.label, MAX_TEXT)?;
        let primary = match c.primary {
            Some(p) => p,
            None => primaries == 0 && i == 0,
        };
        out.push(Contact {
            value,
            primary,
            label: c.label,
        });
    }
    Ok(out)
}

pub fn primary_value(contacts: &[Contact]) -> Option<&str> {
    contacts
        .iter()
        .find(|c| c.primary)
        .or(contacts.first())
        .map(|c| c.value.as_str())
}
/// Whether an address looks deliverable enough for marketing: `local@domain.tld`, no spaces.
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !s.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The marketing status a person gets: only where Campaigns is on, and only with a valid email;
/// otherwise it is not set and reads as `no_consent`.
pub(super) fn marketing_status_for(
    session: &Session,
    asked: Option<MarketingStatus>,
    emails: &[Contact],
) -> Result<Option<MarketingStatus>, DomainError> {
    if asked.is_some() && !session.company.campaigns_enabled {
        return Err(DomainError::invalid(
            "marketing_status",
            "the Campaigns product is not enabled for this company",
        ));
    }
    let has_valid_email = emails.iter().any(|c| is_valid_email(&c.value));
    Ok(if has_valid_email { asked } else { None })
}

/// A marketing status change on update: only where Campaigns is on; not set without a valid
/// email; and, once a status is set, changed only once: later changes are silently ignored, as
/// Pipedrive does.
pub(super) fn marketing_change(
    session: &Session,
    current: &Person,
    asked: Option<MarketingStatus>,
    emails: &[Contact],
) -> Result<Option<(MarketingStatus, bool)>, DomainError> {
    let Some(asked) = marketing_status_for(session, asked, emails)? else {
        return Ok(None);
    };
    match current.marketing_status {
        None => Ok(Some((asked, false))),
        Some(now) if now == asked || current.marketing_changed => Ok(None),
        Some(_) => Ok(Some((asked, true))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: &str, primary: Option<bool>) -> ContactInput {
        ContactInput {
            value: value.into(),
            primary,
            label: String::new(),
        }
    }

    #[test]
    fn the_first_contact_is_primary_when_none_is_marked() {
        let c = normalize_contacts("email", vec![input("a@x.io", None), input("b@x.io", None)])
            .unwrap();
        assert!(c[0].primary && !c[1].primary);
        let c = normalize_contacts(
            "email",
            vec![input("a@x.io", None), input("b@x.io", Some(true))],
        )
        .unwrap();
        assert!(!c[0].primary && c[1].primary);
    }

    #[test]
    fn two_primaries_are_refused_and_empty_values_dropped() {
        assert!(
            normalize_contacts(
                "email",
                vec![input("a", Some(true)), input("b", Some(true))]
            )
            .is_err()
        );
        assert!(
            normalize_contacts("email", vec![input("", Some(true))])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn email_validity_for_marketing() {
        assert!(is_valid_email("john.doe@example.com"));
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "john@localhost",
            "jo hn@x.io",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
