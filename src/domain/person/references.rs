//! What a new or changed person points at (its owner, organization, labels, and the users,
//! organizations and persons its custom values name), checked against the company.

use serde_json::{Map, Value};

use super::active_person;
use crate::domain::error::DomainError;
use crate::domain::fields::{self, Fields};
use crate::domain::ports::Store;
use crate::domain::{Session, values};

/// A reference a new or changed person makes to another entity, checked against the store
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
}

impl Reference {
    pub fn owner(id: i64) -> Self {
        Self {
            kind: RefKind::User,
            id,
            error: format!("owner_id: user {id} not found or not accessible"),
        }
    }

    pub fn org(id: i64) -> Self {
        Self {
            kind: RefKind::Org,
            id,
            error: format!("org_id: organization {id} not found or not accessible"),
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

/// Checks that every label id is an option of the company's person label field.
pub fn check_labels(fields: &Fields, ids: Vec<i64>) -> Result<Vec<i64>, DomainError> {
    values::max_items("label_ids", ids.len(), values::MAX_LABELS)?;
    let labels = fields.labels();
    if let Some(missing) = ids.iter().find(|id| !labels.iter().any(|o| o.id == **id)) {
        return Err(DomainError::invalid(
            "label_ids",
            format!("label {missing} is not an option of the person label field"),
        ));
    }
    Ok(ids)
}

/// Checks custom values: every key must name a custom person field of the company and every
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
        let def = fields.custom_by_key(&key).ok_or_else(|| {
            DomainError::invalid(
                &key,
                "no custom person field has this key (see GET /v1/personFields)",
            )
        })?;
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
