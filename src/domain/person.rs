//! Persons: the entity, the command both dialects parse into, and the rules for adding one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    CustomField, MarketingStatus, Session, Timestamp, Visibility, is_custom_field_key, values,
};
use crate::error::ApiError;
use crate::store::Store;

/// The longest `name`, `first_name`, `last_name`, email or phone value accepted.
pub const MAX_TEXT: usize = 255;

/// One email address or phone number of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub value: String,
    pub primary: bool,
    pub label: String,
}

/// An email or phone as a dialect parsed it, before the primary rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInput {
    pub value: String,
    pub primary: Option<bool>,
    /// Already defaulted by the dialect (v1: `""`, v2: `"work"`).
    pub label: String,
}

/// A stored person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    /// `None` when never set; shown as `no_consent` where Campaigns is on.
    pub marketing_status: Option<MarketingStatus>,
    pub custom_fields: Map<String, Value>,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
    pub followers_count: i64,
}

impl Person {
    /// The value of the primary email, if the person has any email.
    pub fn primary_email(&self) -> Option<&str> {
        primary_value(&self.emails)
    }

    /// The lower-cased first character of the name (v1's `first_char`).
    pub fn first_char(&self) -> Option<String> {
        first_char(&self.name)
    }
}

/// What a client asked for when adding (or, later, changing) a person, parsed but not yet
/// checked against the company's data. Both dialects produce this.
#[derive(Debug, Default)]
pub struct PersonDraft {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub owner_id: Option<i64>,
    /// `Some(None)` clears the organization.
    pub org_id: Option<Option<i64>>,
    pub emails: Option<Vec<ContactInput>>,
    pub phones: Option<Vec<ContactInput>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    pub marketing_status: Option<MarketingStatus>,
    pub add_time: Option<Timestamp>,
    /// Custom field values by key, in request order.
    pub custom_fields: Vec<(String, Value)>,
}

/// A person ready to be stored: every rule applied, every reference checked.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub company_id: i64,
    pub owner_id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Contact>,
    pub phones: Vec<Contact>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    pub marketing_status: Option<MarketingStatus>,
    pub custom_fields: Map<String, Value>,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    /// Users who follow the person from its creation (its owner).
    pub followers: Vec<i64>,
}

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
) -> Result<Option<Name>, ApiError> {
    for (field, v) in [("name", name), ("first_name", first), ("last_name", last)] {
        if let Some(v) = v {
            values::max_chars(field, v, MAX_TEXT)?;
        }
    }
    if let Some(name) = name {
        if name.trim().is_empty() {
            return Err(name_must_be_given());
        }
        let mut out = split_name(name);
        if let Some(first) = first {
            out.first_name = Some(first.trim().to_owned());
        }
        if let Some(last) = last {
            out.last_name = Some(last.trim().to_owned());
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
    Ok(Some(Name {
        name: format!("{first} {last}").trim().to_owned(),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
    }))
}

pub fn name_must_be_given() -> ApiError {
    ApiError::bad_request("Name must be given.")
}

/// Applies the primary rule to a list of emails or phones: empty values are dropped (Pipedrive
/// renders "none" as `[{"value":"","primary":true}]`, so a client may echo that back), at most one
/// may be primary, and when none is the first one is.
pub fn normalize_contacts(
    field: &str,
    inputs: Vec<ContactInput>,
) -> Result<Vec<Contact>, ApiError> {
    let inputs: Vec<ContactInput> = inputs
        .into_iter()
        .filter(|c| !c.value.trim().is_empty())
        .collect();
    let primaries = inputs.iter().filter(|c| c.primary == Some(true)).count();
    if primaries > 1 {
        return Err(ApiError::invalid(
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

pub fn first_char(name: &str) -> Option<String> {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_lowercase().collect())
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
fn marketing_status_for(
    session: &Session,
    asked: Option<MarketingStatus>,
    emails: &[Contact],
) -> Result<Option<MarketingStatus>, ApiError> {
    if asked.is_some() && !session.company.campaigns_enabled {
        return Err(ApiError::invalid(
            "marketing_status",
            "the Campaigns product is not enabled for this company",
        ));
    }
    let has_valid_email = emails.iter().any(|c| is_valid_email(&c.value));
    Ok(if has_valid_email { asked } else { None })
}

/// Checks that `owner_id` names an active user of the session's company.
pub async fn check_owner(store: &dyn Store, session: &Session, id: i64) -> Result<i64, ApiError> {
    match store.user(session.company.id, id).await? {
        Some(u) if u.active => Ok(id),
        _ => Err(ApiError::invalid(
            "owner_id",
            format!("user {id} not found or not accessible"),
        )),
    }
}

/// Checks that `org_id` names an active organization of the session's company.
pub async fn check_org(store: &dyn Store, session: &Session, id: i64) -> Result<i64, ApiError> {
    match store.organization(session.company.id, id).await? {
        Some(o) if o.active => Ok(id),
        _ => Err(ApiError::invalid(
            "org_id",
            format!("organization {id} not found or not accessible"),
        )),
    }
}

/// Checks that every label id is an option of the company's person label field.
pub async fn check_labels(
    store: &dyn Store,
    session: &Session,
    ids: Vec<i64>,
) -> Result<Vec<i64>, ApiError> {
    if ids.is_empty() {
        return Ok(ids);
    }
    let options = store.label_options(session.company.id).await?;
    if let Some(missing) = ids.iter().find(|id| !options.iter().any(|o| o.id == **id)) {
        return Err(ApiError::invalid(
            "label_ids",
            format!("label {missing} is not an option of the person label field"),
        ));
    }
    Ok(ids)
}

/// Checks custom field values: every key must name a custom person field of the company.
pub async fn check_custom_fields(
    store: &dyn Store,
    session: &Session,
    given: Vec<(String, Value)>,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    if given.is_empty() {
        return Ok(out);
    }
    let fields: Vec<CustomField> = store.custom_fields(session.company.id).await?;
    for (key, value) in given {
        if !is_custom_field_key(&key) || !fields.iter().any(|f| f.key == key) {
            return Err(ApiError::invalid(
                &key,
                "no custom person field has this key (see GET /v1/personFields)",
            ));
        }
        if !value.is_null() {
            out.insert(key, value);
        }
    }
    Ok(out)
}

/// Adds a person: the one implementation behind v1 `POST /persons` and v2 `POST /persons`.
pub async fn add_person(
    store: &dyn Store,
    session: &Session,
    draft: PersonDraft,
) -> Result<Person, ApiError> {
    let name = resolve_name(
        draft.name.as_deref(),
        draft.first_name.as_deref(),
        draft.last_name.as_deref(),
    )?
    .ok_or_else(name_must_be_given)?;
    let emails = normalize_contacts("email", draft.emails.unwrap_or_default())?;
    let phones = normalize_contacts("phone", draft.phones.unwrap_or_default())?;
    let marketing_status = marketing_status_for(session, draft.marketing_status, &emails)?;
    let owner_id = match draft.owner_id {
        Some(id) => check_owner(store, session, id).await?,
        None => session.user.id,
    };
    let org_id = match draft.org_id.flatten() {
        Some(id) => Some(check_org(store, session, id).await?),
        None => None,
    };
    let label_ids = check_labels(store, session, draft.label_ids.unwrap_or_default()).await?;
    let custom_fields = check_custom_fields(store, session, draft.custom_fields).await?;
    let now = Timestamp::now();
    let new = NewPerson {
        company_id: session.company.id,
        owner_id,
        org_id,
        name: name.name,
        first_name: name.first_name,
        last_name: name.last_name,
        emails,
        phones,
        label_ids,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        marketing_status,
        custom_fields,
        add_time: draft.add_time.unwrap_or(now),
        update_time: now,
        followers: vec![owner_id],
    };
    Ok(store.insert_person(new).await?)
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
