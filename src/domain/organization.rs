//! Organizations: what a person's `org_id` points at, with owners, labels, custom fields,
//! followers and visibility like persons.

use std::sync::Arc;

use crate::domain::webhook::{ChangeSource, Stamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::DomainError;
use super::fields::{Fields, push_custom_text};
use super::followers;
use super::person::{MAX_TEXT, check_owner};
use super::ports::{Edit, Store};
use super::query::{Direction, Page, SortField};
use super::references::{check_labels, check_references, merge_custom_values, new_custom_values};
use super::search::score_value;
use super::{Kind, Session, Timestamp, Visibility, values};

/// A stored organization, with its live count of (non-deleted) persons.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Organization {
    pub id: i64,
    pub company_id: i64,
    pub owner_id: i64,
    pub name: String,
    pub address: Option<String>,
    /// The address's parts (`country`, `locality`, …), as v2 and v1's `address_*` show them.
    pub address_parts: Map<String, Value>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    pub active: bool,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub delete_time: Option<Timestamp>,
    pub people_count: i64,
    pub follower_ids: Vec<i64>,
    pub profile: OrgProfile,
    /// Custom values by field key, in their canonical form.
    pub custom_fields: Map<String, Value>,
}

/// v2's company facts about an organization, each `null` until set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgProfile {
    pub website: Option<String>,
    pub linkedin: Option<String>,
    pub industry: Option<i64>,
    pub annual_revenue: Option<i64>,
    pub employee_count: Option<i64>,
}

impl OrgProfile {
    /// `current` with the values `given` names (already checked by the dialect); `null`
    /// clears one.
    pub fn patched(&self, given: &Map<String, Value>) -> Result<Self, DomainError> {
        let mut merged = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        merged.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
        serde_json::from_value(Value::Object(merged))
            .map_err(|e| DomainError::refused(format!("Invalid organization field: {e}")))
    }
}

impl Organization {
    pub fn followers_count(&self) -> i64 {
        self.follower_ids.len() as i64
    }
}

/// What a client asked for when adding or changing an organization. For updates, `None`
/// leaves a field alone; `address: Some(None)` clears the address.
#[derive(Debug, Default)]
pub struct OrganizationDraft {
    pub name: Option<String>,
    pub owner_id: Option<i64>,
    pub address: Option<Option<Address>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    pub add_time: Option<Timestamp>,
    /// [`OrgProfile`] values given, by key, checked for type by the dialect.
    pub profile: Map<String, Value>,
    /// Custom values given, by key (`null` clears one).
    pub custom_fields: Vec<(String, Value)>,
}

/// What substring search over organizations matches: the name, the address and the custom
/// values, lowercased (both stores index this one text).
pub fn search_text(name: &str, address: Option<&str>, custom: &Map<String, Value>) -> String {
    let mut t = name.to_lowercase();
    if let Some(a) = address {
        t.push('\n');
        t.push_str(&a.to_lowercase());
    }
    push_custom_text(&mut t, custom);
    t
}

/// An address: its value and parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Address {
    pub value: String,
    pub parts: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub company_id: i64,
    pub owner_id: i64,
    pub name: String,
    pub address: Option<Address>,
    pub label_ids: Vec<i64>,
    pub visible_to: Visibility,
    pub add_time: Timestamp,
    pub update_time: Timestamp,
    pub created_by: i64,
    pub profile: OrgProfile,
    pub custom_fields: Map<String, Value>,
    /// Where it is added: its webhook event's `change_source`.
    pub source: ChangeSource,
}

/// Column-level changes; `None` leaves a column alone.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub owner_id: Option<i64>,
    pub address: Option<Option<Address>>,
    pub label_ids: Option<Vec<i64>>,
    pub visible_to: Option<Visibility>,
    pub profile: Option<OrgProfile>,
    /// The whole set of custom values after the change.
    pub custom_fields: Option<Map<String, Value>>,
}

/// Which organizations a list holds: never deleted ones; `viewer` hides private ones the user
/// may not see.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub owner_id: Option<i64>,
    pub ids: Option<Vec<i64>>,
    pub first_char: Option<String>,
    pub updated_since: Option<Timestamp>,
    pub updated_until: Option<Timestamp>,
    pub viewer: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct OrganizationQuery {
    pub filter: OrganizationFilter,
    pub order: Vec<(SortField, Direction)>,
    pub page: Page,
    pub limit: i64,
}

/// Whether organizations can be sorted by a field.
pub fn sortable(f: SortField) -> bool {
    matches!(
        f,
        SortField::Id
            | SortField::Name
            | SortField::AddTime
            | SortField::UpdateTime
            | SortField::OwnerId
            | SortField::VisibleTo
    )
}

pub fn org_not_found() -> DomainError {
    DomainError::NotFound("Organization not found".into())
}

pub fn can_see_org(session: &Session, o: &Organization) -> bool {
    followers::can_see(session, o.owner_id, o.visible_to, &o.follower_ids)
}

/// The organizations `persons` point at, by id, that the session's user may see. One the user
/// may not see is left out: its name and address are not the person's to show (the person
/// shows its bare id).
pub async fn of_persons<'a>(
    store: &dyn Store,
    session: &Session,
    persons: impl IntoIterator<Item = &'a super::person::Person>,
) -> Result<std::collections::BTreeMap<i64, Organization>, DomainError> {
    let ids = persons.into_iter().filter_map(|p| p.org_id).collect();
    visible_by_ids(store, session, ids).await
}

/// The organizations among `ids` the session's user may see, deleted ones too, by id.
pub async fn visible_by_ids(
    store: &dyn Store,
    session: &Session,
    mut ids: Vec<i64>,
) -> Result<std::collections::BTreeMap<i64, Organization>, DomainError> {
    ids.sort_unstable();
    ids.dedup();
    Ok(store
        .organizations_by_ids(session.company.id, &ids)
        .await?
        .into_iter()
        .filter(|o| can_see_org(session, o))
        .map(|o| (o.id, o))
        .collect())
}

/// Whether an organization exists for the session's user (visible, deleted ones too): a filter
/// by one that does not is a filter by nothing, so lists and search within it are empty.
pub async fn exists_for(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<bool, DomainError> {
    match find_organization(store, session, id).await {
        Ok(_) => Ok(true),
        Err(DomainError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// An organization of the session's company that its user may see (deleted ones too), or 404.
pub async fn find_organization(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Organization, DomainError> {
    store
        .organization(session.company.id, id)
        .await?
        .filter(|o| can_see_org(session, o))
        .ok_or_else(org_not_found)
}

/// Like [`find_organization`], but not deleted.
pub async fn active_organization(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Organization, DomainError> {
    find_organization(store, session, id).await.and_then(|o| {
        if o.active {
            Ok(o)
        } else {
            Err(org_not_found())
        }
    })
}

fn check_address(a: Option<Address>) -> Result<Option<Address>, DomainError> {
    let Some(mut a) = a else { return Ok(None) };
    a.value = a.value.trim().to_owned();
    if a.value.is_empty() {
        return Ok(None);
    }
    values::max_chars("address", &a.value, MAX_TEXT)?;
    for (k, v) in &a.parts {
        if let Some(s) = v.as_str() {
            values::max_chars(&format!("address.{k}"), s, MAX_TEXT)?;
        }
    }
    Ok(Some(a))
}

fn check_name(name: Option<String>) -> Result<Option<String>, DomainError> {
    match name.map(|n| n.trim().to_owned()) {
        None => Ok(None),
        Some(n) if n.is_empty() => Err(DomainError::refused("Name must be given.")),
        Some(n) => {
            values::max_chars("name", &n, MAX_TEXT)?;
            Ok(Some(n))
        }
    }
}

pub async fn add_organization(
    store: &dyn Store,
    session: &Session,
    draft: OrganizationDraft,
) -> Result<Organization, DomainError> {
    let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
    let name =
        check_name(draft.name)?.ok_or_else(|| DomainError::refused("Name must be given."))?;
    let address = check_address(draft.address.flatten())?;
    let owner_id = match draft.owner_id {
        Some(id) => check_owner(store, session, id).await?,
        None => session.user.id,
    };
    let label_ids = check_labels(&fields, draft.label_ids.unwrap_or_default())?;
    let mut refs = Vec::new();
    let custom_fields = new_custom_values(&fields, draft.custom_fields, &mut refs)?;
    check_references(store, session, &refs).await?;
    let now = session.now();
    let new = NewOrganization {
        company_id: session.company.id,
        owner_id,
        name,
        address,
        label_ids,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        add_time: draft.add_time.unwrap_or(now),
        update_time: now,
        created_by: session.user.id,
        source: session.source,
        profile: OrgProfile::default().patched(&draft.profile)?,
        custom_fields,
    };
    Ok(store.insert_organization(new).await?)
}

/// `current` is the organization as found by [`active_organization`], looked up before the
/// body is read. Every change but the profile and the custom values replaces a value whole;
/// the profile's keys and the custom values are merged into the organization as it is inside
/// the write's transaction, so that two requests setting different keys both keep theirs.
pub async fn update_organization(
    store: &dyn Store,
    session: &Session,
    current: &Organization,
    draft: OrganizationDraft,
) -> Result<Organization, DomainError> {
    let id = current.id;
    if draft.add_time.is_some() {
        return Err(DomainError::invalid(
            "add_time",
            "can only be set when the organization is added",
        ));
    }
    let mut base = OrganizationChanges {
        name: check_name(draft.name)?,
        address: draft.address.map(check_address).transpose()?,
        visible_to: draft.visible_to,
        ..OrganizationChanges::default()
    };
    // Refused now, before writing, if the keys do not fit.
    current.profile.patched(&draft.profile)?;
    // The current owner sent back is no change (and may since have been deactivated).
    if let Some(owner) = draft.owner_id.filter(|o| *o != current.owner_id) {
        base.owner_id = Some(check_owner(store, session, owner).await?);
    }
    let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
    if let Some(labels) = draft.label_ids {
        base.label_ids = Some(check_labels(&fields, labels)?);
    }
    // Checked on the organization as read (a bad value is refused before any write, and what
    // the values refer to is checked), then merged again inside the write.
    let mut checked = Vec::new();
    let custom = draft.custom_fields;
    if !custom.is_empty() {
        merge_custom_values(
            &fields,
            &current.custom_fields,
            custom.clone(),
            &mut checked,
        )?;
        check_references(store, session, &checked).await?;
    }
    let profile = draft.profile;
    let edit: Edit<Organization, OrganizationChanges> = Arc::new(move |org| {
        let mut changes = base.clone();
        if !profile.is_empty() {
            changes.profile = Some(org.profile.patched(&profile)?);
        }
        if !custom.is_empty() {
            let mut refs = Vec::new();
            let merged =
                merge_custom_values(&fields, &org.custom_fields, custom.clone(), &mut refs)?;
            if refs.iter().any(|r| !checked.contains(r)) {
                return Err(changed_meanwhile());
            }
            changes.custom_fields = Some(merged);
        }
        Ok(changes)
    });
    store
        .update_organization(session.company.id, id, edit, Stamp::by(session))
        .await?
        .ok_or_else(org_not_found)
}

/// The answer to a change that could not be applied to the organization as it now is.
fn changed_meanwhile() -> DomainError {
    DomainError::Conflict(
        "The organization was changed by another request meanwhile; read it again and retry."
            .into(),
    )
}

/// Deletes an organization (soft, like persons). Its persons stay, detached: their `org_id`
/// becomes `null` (and their `update_time` moves), so no person points at a deleted
/// organization and `people_count` needs no special case.
pub async fn delete_organization(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<(), DomainError> {
    active_organization(store, session, id).await?;
    if store
        .delete_organization(session.company.id, id, Stamp::by(session))
        .await?
    {
        Ok(())
    } else {
        Err(org_not_found())
    }
}

/// One page of organizations and whether more follow.
pub async fn list_organizations(
    store: &dyn Store,
    session: &Session,
    mut query: OrganizationQuery,
) -> Result<(Vec<Organization>, bool), DomainError> {
    query.filter.viewer = followers::viewer(session);
    let limit = query.limit;
    query.limit += 1;
    let mut orgs = store.list_organizations(session.company.id, query).await?;
    let more = orgs.len() as i64 > limit;
    orgs.truncate(limit as usize);
    Ok((orgs, more))
}

/// Where organization search looks.
#[derive(Debug, Clone, Copy)]
pub struct OrgSearchFields {
    pub name: bool,
    pub address: bool,
    pub custom_fields: bool,
    /// The text of the organization's notes.
    pub notes: bool,
}

/// Organizations matching a term in their name, address or searchable custom values, best
/// first (ranked as persons are).
pub async fn search_organizations(
    store: &dyn Store,
    session: &Session,
    term: &str,
    within: OrgSearchFields,
    exact: bool,
) -> Result<Vec<(f64, Organization)>, DomainError> {
    let needle = term.to_lowercase();
    let mut candidates = store
        .search_organization_candidates(session.company.id, &needle, followers::viewer(session))
        .await?;
    // Organizations whose notes match, loaded when nothing else found them.
    let mut noted = if within.notes {
        super::note::texts_matching(store, session, Kind::Organization, &needle).await?
    } else {
        std::collections::HashMap::new()
    };
    let missing: Vec<i64> = noted
        .keys()
        .copied()
        .filter(|id| !candidates.iter().any(|o| o.id == *id))
        .collect();
    if !missing.is_empty() {
        candidates.extend(
            store
                .organizations_by_ids(session.company.id, &missing)
                .await?
                .into_iter()
                .filter(|o| o.active && can_see_org(session, o)),
        );
    }
    let fields = if within.custom_fields {
        Fields::load(store, Kind::Organization, session.company.id).await?
    } else {
        Fields::none(Kind::Organization)
    };
    let mut hits: Vec<(f64, Organization)> = candidates
        .into_iter()
        .filter_map(|o| {
            let mut best: Option<f64> = None;
            let mut consider = |v: &str| {
                if let Some(s) = score_value(&v.to_lowercase(), &needle, exact) {
                    best = Some(best.map_or(s, |b: f64| b.max(s)));
                }
            };
            if within.name {
                consider(&o.name);
            }
            for text in noted.remove(&o.id).unwrap_or_default() {
                consider(&text);
            }
            if within.address
                && let Some(a) = &o.address
            {
                consider(a);
            }
            for def in fields.custom() {
                if let Some(text) = o
                    .custom_fields
                    .get(&def.key)
                    .and_then(|v| super::fields::search_text(def, v))
                {
                    consider(&text);
                }
            }
            best.map(|s| (s, o))
        })
        .collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    Ok(hits)
}
