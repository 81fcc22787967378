//! What a new or changed item points at (its owner, organization, labels, and the users,
//! organizations and persons its custom values name), checked against the company; and the
//! rules of custom values and labels, which every kind of item shares.

use serde_json::{Map, Value};

use crate::domain::error::DomainError;
use crate::domain::fields::{self, Fields};
use crate::domain::person::active_person;
use crate::domain::ports::Store;
use crate::domain::{Session, values};

/// A reference a new or changed item makes to another entity, checked against the store
/// (the API) or against what an import has loaded, after every store-free rule has passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub kind: RefKind,
    pub id: i64,
    /// The 400's message when the reference does not hold.
    pub error: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// An active user of the company.
    User,
    /// An active organization the session's user may see.
    Org,
    /// An active person the session's user may see.
    Person,
    /// An active deal the session's user may see.
    Deal,
}

impl Reference {
    pub fn owner(id: i64) -> Self {
        Self {
            kind: RefKind::User,
            id,
            error: format!("owner_id: user {id} not found or not accessible"),
        }
    }

    /// A note's author (`user_id`): an active user of the company.
    pub fn user(id: i64) -> Self {
        Self {
            kind: RefKind::User,
            id,
            error: format!("user_id: user {id} not found or not accessible"),
        }
    }

    pub fn org(id: i64) -> Self {
        Self {
            kind: RefKind::Org,
            id,
            error: format!("org_id: organization {id} not found or not accessible"),
        }
    }

    pub fn person(id: i64) -> Self {
        Self {
            kind: RefKind::Person,
            id,
            error: format!("person_id: person {id} not found or not accessible"),
        }
    }

    pub fn deal(id: i64) -> Self {
        Self {
            kind: RefKind::Deal,
            id,
            error: format!("deal_id: deal {id} not found or not accessible"),
        }
    }

    /// A person an activity is with, named in `participants`.
    pub fn participant(id: i64) -> Self {
        Self {
            kind: RefKind::Person,
            id,
            error: format!("participants: person {id} not found or not accessible"),
        }
    }

    pub fn fail(&self) -> DomainError {
        DomainError::refused(self.error.clone())
    }
}

/// Checks references against the store.
pub async fn check_references(
    store: &dyn Store,
    session: &Session,
    refs: &[Reference],
) -> Result<(), DomainError> {
    for r in refs {
        let ok = match r.kind {
            RefKind::User => store
                .user(session.company.id, r.id)
                .await?
                .is_some_and(|u| u.active),
            RefKind::Org => {
                match crate::domain::organization::active_organization(store, session, r.id).await {
                    Ok(_) => true,
                    Err(DomainError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                }
            }
            RefKind::Person => match active_person(store, session, r.id).await {
                Ok(_) => true,
                Err(DomainError::NotFound(_)) => false,
                Err(e) => return Err(e),
            },
            RefKind::Deal => match crate::domain::deal::active_deal(store, session, r.id).await {
                Ok(_) => true,
                Err(DomainError::NotFound(_)) => false,
                Err(e) => return Err(e),
            },
        };
        if !ok {
            return Err(r.fail());
        }
    }
    Ok(())
}

/// Checks that `owner_id` names an active user of the session's company.
pub async fn check_owner(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<i64, DomainError> {
    check_references(store, session, &[Reference::owner(id)]).await?;
    Ok(id)
}

/// Checks that every label id is an option of the company's label field of the item's kind.
pub fn check_labels(fields: &Fields, ids: Vec<i64>) -> Result<Vec<i64>, DomainError> {
    values::max_items("label_ids", ids.len(), values::MAX_LABELS)?;
    let labels = fields.labels();
    if let Some(missing) = ids.iter().find(|id| !labels.iter().any(|o| o.id == **id)) {
        return Err(DomainError::invalid(
            "label_ids",
            format!(
                "label {missing} is not an option of the {} label field",
                fields.kind.as_str()
            ),
        ));
    }
    Ok(ids)
}

/// Checks custom values: every key must name a custom field of the item's kind and every
/// value fit its type. Returns canonical values (`None` clears) and adds the references that
/// user, org and people values make.
pub fn check_custom_fields(
    fields: &Fields,
    given: Vec<(String, Value)>,
    refs: &mut Vec<Reference>,
    stored: Option<&Map<String, Value>>,
) -> Result<Vec<(String, Option<Value>)>, DomainError> {
    let mut out = Vec::with_capacity(given.len());
    for (key, value) in given {
        let def = fields
            .custom_by_key(&key)
            .ok_or_else(|| fields.unknown_key(&key))?;
        let parsed = fields::parse_value(def, &value)?;
        let unchanged = stored.is_some_and(|s| s.get(&key) == parsed.as_ref());
        if let Some(r) = parsed.as_ref().and_then(|v| fields::reference(def, v))
            && !unchanged
        {
            refs.push(r);
        }
        out.push((key, parsed));
    }
    Ok(out)
}

/// An item's custom values (`current`) with the given ones merged in (`null` clears one;
/// composite values such as monetary ones keep the parts not given), checked.
pub fn merge_custom_values(
    fields: &Fields,
    current: &Map<String, Value>,
    given: Vec<(String, Value)>,
    refs: &mut Vec<Reference>,
) -> Result<Map<String, Value>, DomainError> {
    let given = given
        .into_iter()
        .map(|(key, value)| match fields.custom_by_key(&key) {
            Some(def) => {
                let value = fields::merge_update(def, current.get(&key), value);
                (key, value)
            }
            None => (key, value),
        })
        .collect();
    let given = check_custom_fields(fields, given, refs, Some(current))?;
    let mut merged = current.clone();
    for (key, value) in given {
        match value {
            Some(v) => merged.insert(key, v),
            None => merged.remove(&key),
        };
    }
    Ok(merged)
}

/// New custom values, checked; those given as `null` are left out.
pub fn new_custom_values(
    fields: &Fields,
    given: Vec<(String, Value)>,
    refs: &mut Vec<Reference>,
) -> Result<Map<String, Value>, DomainError> {
    Ok(check_custom_fields(fields, given, refs, None)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}
