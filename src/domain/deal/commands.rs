//! The commands on deals: add (and the store-free rules the importer shares), find, change,
//! delete, list and search. Both dialects call these.

use std::sync::Arc;

use crate::domain::webhook::Stamp;
use serde_json::{Map, Value};

use super::status::{Closing, ClosingAsked, DealStatus, closing_after};
use super::{CustomRef, Deal, DealChanges, DealDraft, DealFilter, NewDeal, Placement};
use crate::domain::error::DomainError;
use crate::domain::fields::{DEFAULT_CURRENCY, FieldType, Fields};
use crate::domain::followers::{self, can_see};
use crate::domain::person::MAX_TEXT;
use crate::domain::ports::{Edit, Store};
use crate::domain::query::{ListQuery, one_page};
use crate::domain::references::{
    Reference, check_labels, check_references, merge_custom_values, new_custom_values,
};
use crate::domain::search::score_value;
use crate::domain::{Kind, Session, Timestamp, Visibility, values};

pub fn deal_not_found() -> DomainError {
    DomainError::NotFound("Deal not found".into())
}

pub fn can_see_deal(session: &Session, d: &Deal) -> bool {
    can_see(session, d.owner_id, d.visible_to, &d.follower_ids)
}

/// A deal of the session's company that its user may see (deleted ones too), or 404.
pub async fn find_deal(store: &dyn Store, session: &Session, id: i64) -> Result<Deal, DomainError> {
    store
        .deal(session.company.id, id)
        .await?
        .filter(|d| can_see_deal(session, d))
        .ok_or_else(deal_not_found)
}

/// Like [`find_deal`], but not deleted.
pub async fn active_deal(
    store: &dyn Store,
    session: &Session,
    id: i64,
) -> Result<Deal, DomainError> {
    find_deal(store, session, id).await.and_then(|d| {
        if d.active {
            Ok(d)
        } else {
            Err(deal_not_found())
        }
    })
}

fn check_title(title: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(title) = title.map(|t| t.trim().to_owned()) else {
        return Ok(None);
    };
    if title.is_empty() {
        return Err(DomainError::invalid("title", "must not be empty"));
    }
    values::max_chars("title", &title, MAX_TEXT)?;
    Ok(Some(title))
}

fn check_currency(c: String) -> Result<String, DomainError> {
    let c = c.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(DomainError::invalid(
            "currency",
            "must be a three-letter code such as USD",
        ))
    }
}

fn check_probability(p: Option<f64>) -> Result<Option<f64>, DomainError> {
    match p {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(DomainError::invalid(
            "probability",
            format!("must be between 0 and 100, got {p}"),
        )),
        p => Ok(p),
    }
}

fn check_date(d: Option<String>) -> Result<Option<String>, DomainError> {
    d.map(|d| {
        values::parse_date(&d).ok_or_else(|| {
            DomainError::invalid(
                "expected_close_date",
                "must be a date in the format YYYY-MM-DD",
            )
        })
    })
    .transpose()
}

fn check_reason(r: Option<Option<String>>) -> Result<Option<Option<String>>, DomainError> {
    Ok(match r {
        Some(Some(r)) if !r.trim().is_empty() => {
            values::max_chars("lost_reason", r.trim(), MAX_TEXT)?;
            Some(Some(r.trim().to_owned()))
        }
        Some(_) => Some(None),
        None => None,
    })
}

/// Where a deal goes as asked: a stage wins over a pipeline (a pipeline that disagrees with
/// the stage is ignored, as Pipedrive documents).
fn placement(stage_id: Option<i64>, pipeline_id: Option<i64>) -> Placement {
    match (stage_id, pipeline_id) {
        (Some(s), _) => Placement::Stage(s),
        (None, Some(p)) => Placement::Pipeline(p),
        (None, None) => Placement::Default,
    }
}

/// Whether and since when a deal is archived: `archive_time` needs an archived deal, and an
/// archived one without it is archived now (or keeps its time).
fn archiving(
    archived: bool,
    asked: Option<Timestamp>,
    kept: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Timestamp>, DomainError> {
    match (archived, asked) {
        (false, Some(_)) => Err(DomainError::invalid(
            "archive_time",
            "can only be set when the deal is archived",
        )),
        (false, None) => Ok(None),
        (true, Some(t)) => Ok(Some(t)),
        (true, None) => Ok(Some(kept.unwrap_or(now))),
    }
}

/// The persons and organizations a deal's custom values name.
pub fn custom_refs(fields: &Fields, values: &Map<String, Value>) -> Vec<CustomRef> {
    fields
        .custom()
        .filter_map(|def| {
            let kind = match def.field_type {
                FieldType::People => Kind::Person,
                FieldType::Org => Kind::Organization,
                _ => return None,
            };
            let item_id = values.get(&def.key)?.as_i64()?;
            Some(CustomRef {
                field_key: def.key.clone(),
                kind,
                item_id,
            })
        })
        .collect()
}

/// Every rule for a new deal that needs no store: the deal to insert and the references it
/// makes. The API and the importer both go through here; `origin` says which.
pub fn prepare_deal(
    session: &Session,
    fields: &Fields,
    draft: DealDraft,
    now: Timestamp,
    origin: &str,
) -> Result<(NewDeal, Vec<Reference>), DomainError> {
    let title = check_title(draft.title)?.ok_or_else(|| DomainError::Required("title".into()))?;
    let mut refs = Vec::new();
    let owner_id = match draft.owner_id {
        Some(id) => {
            refs.push(Reference::owner(id));
            id
        }
        None => session.user.id,
    };
    let person_id = draft.person_id.flatten();
    if let Some(id) = person_id {
        refs.push(Reference::person(id));
    }
    let org_id = draft.org_id.flatten();
    if let Some(id) = org_id {
        refs.push(Reference::org(id));
    }
    let status = draft.status.unwrap_or(DealStatus::Open);
    let asked = ClosingAsked {
        won_time: draft.won_time,
        lost_time: draft.lost_time,
        close_time: draft.close_time,
        lost_reason: check_reason(draft.lost_reason)?,
    };
    let closing = closing_after((DealStatus::Open, &Closing::default()), status, &asked, now)?;
    let is_archived = draft.is_archived.unwrap_or(false);
    let archive_time = archiving(is_archived, draft.archive_time, None, now)?;
    let label_ids = check_labels(fields, draft.label_ids.unwrap_or_default())?;
    let custom_fields = new_custom_values(fields, draft.custom_fields, &mut refs)?;
    let new = NewDeal {
        company_id: session.company.id,
        creator_user_id: session.user.id,
        source: session.source,
        owner_id,
        person_id,
        org_id,
        placement: placement(draft.stage_id, draft.pipeline_id),
        title,
        value: draft.value.unwrap_or(0.0),
        currency: draft
            .currency
            .map(check_currency)
            .transpose()?
            .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
        status,
        probability: check_probability(draft.probability.flatten())?,
        visible_to: draft.visible_to.unwrap_or(Visibility::DEFAULT),
        expected_close_date: check_date(draft.expected_close_date.flatten())?,
        label_ids,
        refs: custom_refs(fields, &custom_fields),
        custom_fields,
        origin: origin.to_owned(),
        is_archived,
        archive_time,
        closing,
        add_time: now,
        update_time: now,
        contacts_for: followers::viewer(session),
    };
    Ok((new, refs))
}

/// Adds a deal: the one implementation behind v2 `POST /deals`.
pub async fn add_deal(
    store: &dyn Store,
    session: &Session,
    draft: DealDraft,
) -> Result<Deal, DomainError> {
    let fields = Fields::load(store, Kind::Deal, session.company.id).await?;
    let (new, mut refs) = prepare_deal(session, &fields, draft, session.now(), "API")?;
    // The contact person and organization are checked (active, visible) inside the write,
    // under the lock that keeps them so: not twice.
    let contacts = [
        new.person_id.map(Reference::person),
        new.org_id.map(Reference::org),
    ];
    refs.retain(|r| !contacts.iter().flatten().any(|c| c == r));
    check_references(store, session, &refs).await?;
    Ok(store.insert_deal(new).await?)
}

/// What `draft` changes on `current` (nothing where it sets what `current` holds), and the
/// references the changes make: the rules of an update, with no store.
fn deal_changes(
    fields: &Fields,
    current: &Deal,
    draft: &DealDraft,
    now: Timestamp,
) -> Result<(DealChanges, Vec<Reference>), DomainError> {
    let mut refs = Vec::new();
    let mut ch = DealChanges {
        title: check_title(draft.title.clone())?.filter(|t| *t != current.title),
        value: draft.value.filter(|v| *v != current.value),
        currency: draft
            .currency
            .clone()
            .map(check_currency)
            .transpose()?
            .filter(|c| *c != current.currency),
        probability: draft
            .probability
            .map(check_probability)
            .transpose()?
            .filter(|p| *p != current.probability),
        visible_to: draft.visible_to.filter(|v| *v != current.visible_to),
        expected_close_date: draft
            .expected_close_date
            .clone()
            .map(check_date)
            .transpose()?
            .filter(|d| *d != current.expected_close_date),
        ..DealChanges::default()
    };
    // Sending back what the deal holds changes nothing and is not checked again.
    if let Some(owner) = draft.owner_id.filter(|o| *o != current.owner_id) {
        refs.push(Reference::owner(owner));
        ch.owner_id = Some(owner);
    }
    if let Some(person) = draft.person_id.filter(|p| *p != current.person_id) {
        refs.extend(person.map(Reference::person));
        ch.person_id = Some(person);
    }
    if let Some(org) = draft.org_id.filter(|o| *o != current.org_id) {
        refs.extend(org.map(Reference::org));
        ch.org_id = Some(org);
    }
    ch.placement = match (draft.stage_id, draft.pipeline_id) {
        (Some(s), _) if s != current.stage_id => Some(Placement::Stage(s)),
        (None, Some(p)) if p != current.pipeline_id => Some(Placement::Pipeline(p)),
        _ => None,
    };
    let status = draft.status.unwrap_or(current.status);
    let asked = ClosingAsked {
        won_time: draft.won_time,
        lost_time: draft.lost_time,
        close_time: draft.close_time,
        lost_reason: check_reason(draft.lost_reason.clone())?,
    };
    if status != current.status || !asked.is_empty() {
        let closing = closing_after((current.status, &current.closing), status, &asked, now)?;
        ch.status = Some(status).filter(|s| *s != current.status);
        ch.closing = Some(closing).filter(|c| *c != current.closing);
    }
    if draft.is_archived.is_some() || draft.archive_time.is_some() {
        let archived = draft.is_archived.unwrap_or(current.is_archived);
        let time = archiving(archived, draft.archive_time, current.archive_time, now)?;
        ch.is_archived = Some(archived).filter(|a| *a != current.is_archived);
        ch.archive_time = Some(time).filter(|t| *t != current.archive_time);
    }
    if let Some(labels) = &draft.label_ids {
        ch.label_ids =
            Some(check_labels(fields, labels.clone())?).filter(|l| *l != current.label_ids);
    }
    if !draft.custom_fields.is_empty() {
        let merged = merge_custom_values(
            fields,
            &current.custom_fields,
            draft.custom_fields.clone(),
            &mut refs,
        )?;
        if merged != current.custom_fields {
            let deal_refs = custom_refs(fields, &merged);
            ch.custom_fields = Some((merged, deal_refs));
        }
    }
    Ok((ch, refs))
}

/// Changes a deal: the one implementation behind v2 `PATCH /deals/{id}`. Absent fields stay,
/// `null` clears; `update_time` moves when something changes.
///
/// Decided twice, as persons are: on `current` (found before the body was read) to refuse a
/// bad request and check what it refers to; then inside the write on the deal as it is there,
/// so that two changes released together both keep theirs. A reference only the deal as it
/// is now makes (one the first decision did not check) is a 409.
pub async fn update_deal(
    store: &dyn Store,
    session: &Session,
    current: &Deal,
    draft: DealDraft,
) -> Result<Deal, DomainError> {
    let fields = Fields::load(store, Kind::Deal, session.company.id).await?;
    let (changes, checked) = deal_changes(&fields, current, &draft, session.now())?;
    check_references(store, session, &checked).await?;
    if changes.is_empty() {
        return Ok(current.clone());
    }
    let clock = session.company.clock;
    let edit: Edit<Deal, DealChanges> = Arc::new(move |deal| {
        let (changes, refs) = deal_changes(&fields, deal, &draft, clock.now())?;
        match refs.into_iter().find(|r| !checked.contains(r)) {
            Some(_) => Err(DomainError::Conflict(
                "The deal was changed by another request meanwhile; read it again and retry."
                    .into(),
            )),
            None => Ok(changes),
        }
    });
    store
        .update_deal(session.company.id, current.id, edit, Stamp::by(session))
        .await?
        .ok_or_else(deal_not_found)
}

impl DealChanges {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.owner_id.is_none()
            && self.person_id.is_none()
            && self.org_id.is_none()
            && self.placement.is_none()
            && self.value.is_none()
            && self.currency.is_none()
            && self.status.is_none()
            && self.probability.is_none()
            && self.visible_to.is_none()
            && self.expected_close_date.is_none()
            && self.label_ids.is_none()
            && self.custom_fields.is_none()
            && self.is_archived.is_none()
            && self.archive_time.is_none()
            && self.closing.is_none()
    }
}

/// Soft-deletes a deal the user may see: it stays readable by id (`is_deleted: true`) and is
/// listed under `status=deleted` for 30 days; it leaves every count.
pub async fn delete_deal(store: &dyn Store, session: &Session, id: i64) -> Result<(), DomainError> {
    active_deal(store, session, id).await?;
    if store
        .delete_deal(session.company.id, id, Stamp::by(session))
        .await?
    {
        Ok(())
    } else {
        Err(deal_not_found())
    }
}

/// One page of deals and whether more follow. A filter by a person or organization the user
/// may not see is a filter by nothing.
pub async fn list_deals(
    store: &dyn Store,
    session: &Session,
    mut query: ListQuery<DealFilter>,
) -> Result<(Vec<Deal>, bool), DomainError> {
    let f = &query.filter;
    let persons: Vec<i64> = f.person_id.into_iter().collect();
    if !crate::domain::query::may_filter_by(store, session, &persons, f.org_id, None).await? {
        return Ok((Vec::new(), false));
    }
    query.filter.viewer = followers::viewer(session);
    one_page(query, |q| store.list_deals(session.company.id, q)).await
}

/// Where deal search looks, and what it is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct DealSearch {
    pub title: bool,
    pub custom_fields: bool,
    /// The text of the deal's notes.
    pub notes: bool,
    pub person_id: Option<i64>,
    pub org_id: Option<i64>,
    pub status: Option<DealStatus>,
}

/// Deals (not deleted) matching a term in their title or searchable custom values, best
/// first, ranked as persons are.
pub async fn search_deals(
    store: &dyn Store,
    session: &Session,
    term: &str,
    within: &DealSearch,
    exact: bool,
) -> Result<Vec<(f64, Deal)>, DomainError> {
    let needle = term.to_lowercase();
    let mut candidates = store
        .search_deal_candidates(session.company.id, &needle, followers::viewer(session))
        .await?;
    // Deals whose notes match, loaded when nothing else found them (as the user may see them).
    let mut noted = if within.notes {
        crate::domain::note::texts_matching(store, session, Kind::Deal, &needle).await?
    } else {
        std::collections::HashMap::new()
    };
    let missing: Vec<i64> = noted
        .keys()
        .copied()
        .filter(|id| !candidates.iter().any(|d| d.id == *id))
        .collect();
    if !missing.is_empty() {
        let filter = DealFilter {
            ids: Some(missing),
            live: true,
            ..DealFilter::default()
        };
        let (found, _) = list_deals(store, session, ListQuery::first_page(filter)).await?;
        candidates.extend(found);
    }
    let fields = if within.custom_fields {
        Fields::load(store, Kind::Deal, session.company.id).await?
    } else {
        Fields::none(Kind::Deal)
    };
    let mut hits: Vec<(f64, Deal)> = candidates
        .into_iter()
        .filter(|d| within.person_id.is_none_or(|p| d.person_id == Some(p)))
        .filter(|d| within.org_id.is_none_or(|o| d.org_id == Some(o)))
        .filter(|d| within.status.is_none_or(|s| d.status == s))
        .filter_map(|d| {
            let mut best: Option<f64> = None;
            let mut consider = |v: &str| {
                if let Some(s) = score_value(&v.to_lowercase(), &needle, exact) {
                    best = Some(best.map_or(s, |b: f64| b.max(s)));
                }
            };
            if within.title {
                consider(&d.title);
            }
            for text in noted.remove(&d.id).unwrap_or_default() {
                consider(&text);
            }
            for def in fields.custom() {
                if let Some(text) = d
                    .custom_fields
                    .get(&def.key)
                    .and_then(|v| crate::domain::fields::search_text(def, v))
                {
                    consider(&text);
                }
            }
            best.map(|s| (s, d))
        })
        .collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    Ok(hits)
}
