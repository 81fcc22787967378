//! `/v1/notes`: list, get, add, update and delete (notes have no v2 API in Pipedrive).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::activities::Linked;
use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::extract::{Caller, PathId};
use crate::api::parse::{QueryParams, reject_fields};
use crate::api::payload::Payload;
use crate::domain::note::{self, Note, NoteDraft, NoteFilter};
use crate::domain::ports::Store;
use crate::domain::query::{self, ListQuery, Page};
use crate::domain::{Session, Timestamp, values};
use crate::error::ApiError;

/// A note in v1's shape: the items it is attached to with their names, its author.
fn render(n: &Note, rel: &Linked, me: i64) -> Value {
    let v = &n.values;
    let author = rel.users.get(&v.user_id);
    json!({
        "id": n.id,
        "active_flag": n.active,
        "add_time": v.add_time.v1(),
        "update_time": n.update_time.v1(),
        "content": v.content,
        "user_id": v.user_id,
        "last_update_user_id": n.last_update_user_id,
        "deal_id": v.deal_id,
        "deal": v.deal_id.and_then(|id| rel.deals.get(&id)).map(|d| json!({"title": d.title})),
        "person_id": v.person_id,
        "person": v.person_id.and_then(|id| rel.persons.get(&id)).map(|p| json!({"name": p.name})),
        "org_id": v.org_id,
        "organization": v.org_id.and_then(|id| rel.orgs.get(&id)).map(|o| json!({"name": o.name})),
        "lead_id": null,
        "project_id": null,
        "project": null,
        "task_id": null,
        "task": null,
        "pinned_to_lead_flag": false,
        "pinned_to_deal_flag": v.pinned_to_deal,
        "pinned_to_organization_flag": v.pinned_to_org,
        "pinned_to_person_flag": v.pinned_to_person,
        "pinned_to_project_flag": false,
        "pinned_to_task_flag": false,
        "user": author.map(|u| json!({
            "email": u.email,
            "icon_url": null,
            "is_you": u.id == me,
            "name": u.name,
        })),
    })
}

async fn linked(store: &dyn Store, session: &Session, notes: &[Note]) -> Result<Linked, ApiError> {
    let v = notes.iter().map(|n| &n.values);
    Linked::load(
        store,
        session,
        v.clone().filter_map(|v| v.person_id).collect(),
        v.clone().filter_map(|v| v.org_id).collect(),
        v.clone().filter_map(|v| v.deal_id).collect(),
        v.clone().map(|v| v.user_id).collect(),
    )
    .await
}

/// A note as v1 shows it to the session's user.
pub async fn render_one(store: &dyn Store, session: &Session, n: &Note) -> Result<Value, ApiError> {
    let list = [n.clone()];
    let rel = linked(store, session, &list).await?;
    Ok(render(n, &rel, session.user.id))
}

async fn one(store: &dyn Store, session: &Session, n: Note) -> ApiResult {
    let list = [n];
    let rel = linked(store, session, &list).await?;
    Ok(success(
        StatusCode::OK,
        render(&list[0], &rel, session.user.id),
        None,
        None,
    ))
}

/// v1's `0`/`1` flags (booleans and their strings too).
fn flag(field: &str, v: &Value) -> Result<bool, ApiError> {
    Ok(values::boolean(field, v)?)
}

/// Keys of Pipedrive's note that name what pipestack does not have.
const UNSUPPORTED: &[&str] = &[
    "lead_id",
    "project_id",
    "task_id",
    "pinned_to_lead_flag",
    "pinned_to_project_flag",
    "pinned_to_task_flag",
];

/// Parses a v1 body into the domain's command (the importer reads rows with it too).
pub fn draft(body: Map<String, Value>) -> Result<NoteDraft, ApiError> {
    let mut d = NoteDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        match k {
            "content" => d.content = Some(values::string(k, &v)?.to_owned()),
            "user_id" => d.user_id = Some(values::id(k, &v)?),
            "deal_id" => d.deal_id = Some(values::opt_id(k, &v)?),
            "person_id" => d.person_id = Some(values::opt_id(k, &v)?),
            "org_id" => d.org_id = Some(values::opt_id(k, &v)?),
            "pinned_to_deal_flag" => d.pinned_to_deal = Some(flag(k, &v)?),
            "pinned_to_person_flag" => d.pinned_to_person = Some(flag(k, &v)?),
            "pinned_to_organization_flag" => d.pinned_to_org = Some(flag(k, &v)?),
            "add_time" => d.add_time = super::add_time(&v)?,
            k if UNSUPPORTED.contains(&k)
                && (values::is_blank(&v) || v == json!(0) || v == json!(false)) => {}
            k if UNSUPPORTED.contains(&k) => {
                invalid.push(format!("{k} (pipestack has no leads, projects or tasks)"))
            }
            "id" | "active_flag" | "update_time" | "last_update_user_id" => {
                invalid.push(format!("{k} (read-only)"))
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// `GET /v1/notes/{id}`.
pub async fn get_note(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let n = note::find_note(store.as_ref(), &session, id).await?;
    one(store.as_ref(), &session, n).await
}

/// `POST /v1/notes`: `content` and a deal, person or organization needed; 200 (as Pipedrive).
pub async fn add_note(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let n = note::add_note(store.as_ref(), &session, draft(body)?).await?;
    one(store.as_ref(), &session, n).await
}

/// `PUT /v1/notes/{id}`.
pub async fn update_note(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let current = note::find_note(store.as_ref(), &session, id).await?;
    let n = note::update_note(store.as_ref(), &session, current, draft(body)?).await?;
    one(store.as_ref(), &session, n).await
}

/// `DELETE /v1/notes/{id}`: `data` is `true`, as Pipedrive writes it.
pub async fn delete_note(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    note::delete_note(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, json!(true), None, None))
}

/// A day's start (`YYYY-MM-DD`, UTC), `days` later.
fn day(q: &QueryParams, name: &str, days: i64) -> Result<Option<Timestamp>, ApiError> {
    q.str(name)
        .map(|s| {
            values::parse_date(s)
                .and_then(|d| Timestamp::parse_v1(&format!("{d} 00:00:00")))
                .map(|t| Timestamp(t.0 + days * 86_400))
                .ok_or_else(|| ApiError::invalid(name, "must be a date in the format YYYY-MM-DD"))
        })
        .transpose()
}

/// `GET /v1/notes`: by author, deal, person, organization, pin flags, add date
/// (`start_date`/`end_date`, whole days) and `updated_since`; `sort`, offset paging.
pub async fn get_notes(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    for unsupported in ["lead_id", "project_id", "task_id"] {
        if q.str(unsupported).is_some() {
            return Err(ApiError::invalid(
                unsupported,
                "pipestack has no leads, projects or tasks",
            ));
        }
    }
    let (start, limit) = super::paging(&q)?;
    let order = q
        .str("sort")
        .map(|s| query::parse_sort(s, "notes", note::sortable))
        .transpose()?
        .unwrap_or_default();
    let filter = NoteFilter {
        user_id: q.id("user_id")?,
        deal_id: q.id("deal_id")?,
        person_id: q.id("person_id")?,
        org_id: q.id("org_id")?,
        pinned_to_deal: q.zero_one("pinned_to_deal_flag")?,
        pinned_to_person: q.zero_one("pinned_to_person_flag")?,
        pinned_to_org: q.zero_one("pinned_to_organization_flag")?,
        added_from: day(&q, "start_date", 0)?,
        added_to: day(&q, "end_date", 1)?,
        updated_since: q
            .str("updated_since")
            .map(|s| {
                Timestamp::parse_rfc3339(s).ok_or_else(|| {
                    ApiError::invalid(
                        "updated_since",
                        "must be an RFC 3339 time, e.g. 2025-01-01T10:20:00Z",
                    )
                })
            })
            .transpose()?,
        ..NoteFilter::default()
    };
    let query = ListQuery {
        filter,
        order,
        page: Page::Offset { start },
        limit,
    };
    let (list, more) = note::list_notes(store.as_ref(), &session, query).await?;
    let rel = linked(store.as_ref(), &session, &list).await?;
    let data: Vec<Value> = list
        .iter()
        .map(|n| render(n, &rel, session.user.id))
        .collect();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "pagination": super::pagination(start, limit, list.len(), more) })),
        None,
    ))
}

/// `GET /v1/noteFields`: the fields a note has (built in; pipestack has no custom note fields).
pub async fn get_note_fields(Caller { .. }: Caller) -> ApiResult {
    let data: Vec<Value> = note::FIELDS
        .iter()
        .map(|(id, key, name, field_type, mandatory)| {
            let options = (*field_type == "enum")
                .then(|| json!([{"id": 1, "label": "Yes"}, {"id": 0, "label": "No"}]));
            json!({
                "id": id,
                "key": key,
                "name": name,
                "field_type": field_type,
                "active_flag": true,
                "edit_flag": false,
                "bulk_edit_allowed": *key != "content",
                "mandatory_flag": mandatory,
                "options": options,
            })
        })
        .collect();
    let count = data.len();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({"start": 0, "limit": count, "more_items_in_collection": false})),
        None,
    ))
}
