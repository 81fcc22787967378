//! Organizations: what a person's `org_id` points at.

use super::person::{MAX_TEXT, check_owner};
use super::{Session, Timestamp, Visibility, values};
use crate::error::ApiError;
use crate::store::Store;

/// A stored organization, with its live count of (non-deleted) persons.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub name: String,
    pub address: Option<String>,
    pub visible_to: Visibility,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub people_count: i64,
}

/// What a client asked for when adding an organization.
#[derive(Debug, Default)]
pub struct OrganizationDraft {
    pub name: Option<String>,
    pub owner_id: Option<i64>,
    pub address: Option<String>,
    pub visible_to: Option<Visibility>,
    pub add_time: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub company_id: i64,
    pub owner_id: i64,
    pub name: String,
    pub address: Option<String>,
    pub visible_to: Visibility,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
}

pub async fn add_organization(
    store: &dyn Store,
    session: &Session,
    draft: OrganizationDraft,
) -> Result<Organization, ApiError> {
    let name = draft
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("Name must be given."))?;
    values::max_chars("name", &name, MAX_TEXT)?;
    let address = draft
        .address
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    if let Some(a) = &address {
        values::max_chars("address", a, MAX_TEXT)?;
    }
    let owner_id = match draft.owner_id {
        Some(id) => check_owner(store, session, id).await?,
        None => session.user.id,
    };
    let now = Timestamp::now();
    let new = NewOrganization {
        company_id: session.company.id,
        owner_id,
        name,
        address,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        add_time: draft.add_time.unwrap_or(now),
        update_time: now,
    };
    Ok(store.insert_organization(new).await?)
}
