//! v2 activities: list, get, add, update (PATCH) and delete.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{ListOrder, time_param};
use crate::api::ApiResult;
use crate::api::envelope::{cursor_page, success};
use crate::api::extract::{Caller, FieldCode, PathId};
use crate::api::parse::{QueryParams, keyset_page, reject_fields};
use crate::api::payload::Payload;
use crate::domain::activity::{
    self, Activity, ActivityDraft, ActivityFilter, Attendee, Participant, activity_not_found,
};
use crate::domain::query::{self, ListQuery, Page, SortField};
use crate::domain::values;
use crate::error::ApiError;

/// What v2 activity lists can be sorted by.
const SORTS: &[SortField] = &[
    SortField::Id,
    SortField::UpdateTime,
    SortField::AddTime,
    SortField::DueDate,
];

/// An activity in the v2 shape; `attendees` only when asked for.
pub fn render(a: &Activity, attendees: bool) -> Value {
    let v = &a.values;
    let participants: Vec<Value> = v
        .participants
        .iter()
        .map(|p| json!({"person_id": p.person_id, "primary": p.primary}))
        .collect();
    let mut out = json!({
        "id": a.id,
        "subject": v.subject,
        "type": v.type_key,
        "owner_id": v.owner_id,
        "creator_user_id": a.creator_user_id,
        "is_deleted": !a.active,
        "add_time": a.add_time.rfc3339(),
        "update_time": a.update_time.rfc3339(),
        "deal_id": v.deal_id,
        "lead_id": null,
        "person_id": v.person_id,
        "org_id": v.org_id,
        "project_id": null,
        "due_date": v.due_date,
        "due_time": v.due_time,
        "duration": v.duration,
        "busy": v.busy,
        "done": v.done,
        "marked_as_done_time": v.marked_as_done_time.map(|t| t.rfc3339()),
        "location": v.location,
        "participants": participants,
        "conference_meeting_client": null,
        "conference_meeting_url": null,
        "conference_meeting_id": null,
        "public_description": v.public_description,
        "priority": v.priority,
        "note": v.note,
    });
    if attendees {
        out["attendees"] = json!(v.attendees);
    }
    out
}

/// Whether `include_fields` names `only`, the one optional part these answers have; any other
/// name is a 400.
fn includes(q: &QueryParams, only: &str) -> Result<bool, ApiError> {
    let mut wanted = false;
    for f in q.list("include_fields") {
        if f != only {
            return Err(ApiError::invalid(
                "include_fields",
                format!("{f:?} cannot be included: use {only}"),
            ));
        }
        wanted = true;
    }
    Ok(wanted)
}

/// `GET /api/v2/activities/{id}`: deleted ones too, with `is_deleted: true`.
pub async fn get_activity(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    let attendees = includes(&q, "attendees")?;
    let a = activity::find_activity(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, render(&a, attendees), None, None))
}

/// `POST /api/v2/activities`: 200 (as Pipedrive's v2 says) with the activity.
pub async fn add_activity(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let a = activity::add_activity(store.as_ref(), &session, draft(body)?).await?;
    Ok(success(StatusCode::OK, render(&a, true), None, None))
}

/// `PATCH /api/v2/activities/{id}`: absent fields stay, `null` clears.
pub async fn update_activity(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    Payload(body): Payload,
) -> ApiResult {
    let current = activity::find_activity(store.as_ref(), &session, id).await?;
    if !current.active {
        return Err(activity_not_found().into());
    }
    let a = activity::update_activity(store.as_ref(), &session, &current, draft(body)?).await?;
    Ok(success(StatusCode::OK, render(&a, true), None, None))
}

/// `DELETE /api/v2/activities/{id}`: a soft delete, `{"id": N}`.
pub async fn delete_activity(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    activity::delete_activity(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

/// `GET /api/v2/activities`: activities that are not deleted.
pub async fn get_activities(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "is not supported by pipestack",
        ));
    }
    if q.str("lead_id").is_some() {
        return Err(ApiError::invalid("lead_id", "pipestack has no leads"));
    }
    let attendees = includes(&q, "attendees")?;
    let limit = query::limit(q.int("limit")?)?;
    let order = ListOrder::parse_among(&q, SORTS)?;
    let filter = ActivityFilter {
        ids: q.ids("ids", 100)?,
        owner_id: q.id("owner_id")?,
        deal_id: q.id("deal_id")?,
        person_id: q.id("person_id")?,
        org_id: q.id("org_id")?,
        done: q.str("done").map(|_| q.bool("done")).transpose()?,
        updated_since: time_param(&q, "updated_since")?,
        updated_until: time_param(&q, "updated_until")?,
        ..ActivityFilter::default()
    };
    let query = ListQuery {
        filter,
        order: vec![(order.sort_by, order.direction)],
        page: Page::After(order.after),
        limit,
    };
    let (list, more) = activity::list_activities(store.as_ref(), &session, query).await?;
    let last = list.last().map(|a| {
        let key = match order.sort_by {
            SortField::AddTime => a.add_time.0,
            SortField::UpdateTime => a.update_time.0,
            SortField::DueDate => a.values.due_key(),
            _ => a.id,
        };
        (key, a.id)
    });
    let next_cursor = order.next_cursor(last, more);
    let data: Vec<Value> = list.iter().map(|a| render(a, attendees)).collect();
    Ok(cursor_page(data, next_cursor))
}

/// Keys of the v2 activity object a client may not write.
const READ_ONLY: &[&str] = &[
    "id",
    "creator_user_id",
    "add_time",
    "update_time",
    "marked_as_done_time",
    "is_deleted",
];

/// Keys of Pipedrive's activity that name what pipestack does not have.
const UNSUPPORTED: &[&str] = &[
    "lead_id",
    "project_id",
    "conference_meeting_client",
    "conference_meeting_url",
    "conference_meeting_id",
];

/// `null`, or a string (numbers are not turned into strings).
fn opt_text(field: &str, v: &Value) -> Result<Option<String>, ApiError> {
    Ok(values::opt_string(field, v)?.map(str::to_owned))
}

fn participants(v: &Value) -> Result<Vec<Participant>, ApiError> {
    let bad = |why: &str| ApiError::invalid("participants", why);
    let Value::Array(items) = v else {
        return Err(bad(&format!(
            "must be a list of {{\"person_id\", \"primary\"}}, got {}",
            values::describe(v)
        )));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(bad("each participant must be an object with person_id"));
            };
            if let Some(k) = m
                .keys()
                .find(|k| !["person_id", "primary", "primary_flag"].contains(&k.as_str()))
            {
                return Err(bad(&format!("{k:?} is not a participant's key")));
            }
            let person_id = values::id(
                "participants.person_id",
                m.get("person_id").unwrap_or(&Value::Null),
            )?;
            let primary = match m.get("primary").or_else(|| m.get("primary_flag")) {
                None | Some(Value::Null) => false,
                Some(p) => values::boolean("participants.primary", p)?,
            };
            Ok(Participant { person_id, primary })
        })
        .collect()
}

fn attendees(v: &Value) -> Result<Vec<Attendee>, ApiError> {
    let Value::Array(items) = v else {
        return Err(ApiError::invalid(
            "attendees",
            format!("must be a list, got {}", values::describe(v)),
        ));
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(ApiError::invalid(
                    "attendees",
                    "each attendee must be an object",
                ));
            };
            let mut a = Attendee::default();
            for (k, v) in m {
                let field = format!("attendees.{k}");
                match k.as_str() {
                    "email" | "email_address" => a.email = opt_text(&field, v)?,
                    "name" => a.name = opt_text(&field, v)?,
                    "status" => a.status = opt_text(&field, v)?,
                    "is_organizer" => {
                        a.is_organizer = match v {
                            Value::Null => false,
                            Value::Number(n) => n.as_i64() == Some(1),
                            other => values::boolean(&field, other)?,
                        }
                    }
                    "person_id" => a.person_id = values::opt_id(&field, v)?,
                    "user_id" => a.user_id = values::opt_id(&field, v)?,
                    _ => {
                        return Err(ApiError::invalid(
                            "attendees",
                            format!("{k:?} is not an attendee's key"),
                        ));
                    }
                }
            }
            Ok(a)
        })
        .collect()
}

/// An activity's `location`: an object of its parts, or (as v1 wrote it) a string.
fn location(v: &Value) -> Result<Option<Map<String, Value>>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(Map::from_iter([("value".to_owned(), json!(s))]))),
        Value::Object(m) => Ok(Some(m.clone())),
        other => Err(ApiError::invalid(
            "location",
            format!(
                "must be an object or a string, got {}",
                values::describe(other)
            ),
        )),
    }
}

/// Parses a v2 body into the domain's command.
pub fn draft(body: Map<String, Value>) -> Result<ActivityDraft, ApiError> {
    let mut d = ActivityDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        let k = key.as_str();
        match k {
            "subject" => d.subject = Some(values::opt_string(k, &v)?.unwrap_or("").to_owned()),
            "type" => d.type_key = Some(values::string(k, &v)?.to_owned()),
            "owner_id" => d.owner_id = Some(values::id(k, &v)?),
            "deal_id" => d.deal_id = Some(values::opt_id(k, &v)?),
            "person_id" => d.person_id = Some(values::opt_id(k, &v)?),
            "org_id" => d.org_id = Some(values::opt_id(k, &v)?),
            "due_date" => d.due_date = Some(opt_text(k, &v)?.filter(|s| !s.is_empty())),
            "due_time" => d.due_time = Some(opt_text(k, &v)?),
            "duration" => d.duration = Some(opt_text(k, &v)?),
            "busy" if v.is_null() => d.busy = Some(None),
            "busy" => d.busy = Some(Some(values::boolean(k, &v)?)),
            "done" => d.done = Some(values::boolean(k, &v)?),
            "location" => d.location = Some(location(&v)?),
            "public_description" => d.public_description = Some(opt_text(k, &v)?),
            "priority" if v.is_null() => d.priority = Some(None),
            "priority" => d.priority = Some(Some(values::integer(k, &v)?)),
            "note" => d.note = Some(opt_text(k, &v)?),
            "participants" if v.is_null() => d.participants = Some(Vec::new()),
            "participants" => d.participants = Some(participants(&v)?),
            "attendees" if v.is_null() => d.attendees = Some(Vec::new()),
            "attendees" => d.attendees = Some(attendees(&v)?),
            k if UNSUPPORTED.contains(&k) && v.is_null() => {}
            k if UNSUPPORTED.contains(&k) => invalid.push(format!(
                "{k} (pipestack has no leads, projects or conference apps)"
            )),
            k if READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    Ok(d)
}

/// One activity field in v2's shape; `type` lists the active activity types as its options
/// (string ids, as Pipedrive's built-in fields have).
fn activity_field(
    (code, name, field_type, optional): activity::FieldSpec,
    types: &[activity::ActivityType],
    ui: bool,
) -> Value {
    let options = (code == "type").then(|| {
        types
            .iter()
            .filter(|t| t.active)
            .map(|t| json!({"id": t.key_string, "label": t.name, "color": t.color}))
            .collect::<Vec<Value>>()
    });
    let subfields = (field_type == "address").then(|| {
        activity::LOCATION_KEYS[1..]
            .iter()
            .map(|part| {
                json!({
                    "field_code": format!("{code}_{part}"),
                    "field_name": format!("{name} ({part})"),
                    "field_type": "varchar",
                })
            })
            .collect::<Vec<Value>>()
    });
    let mut v = json!({
        "field_name": name,
        "field_code": code,
        "field_type": field_type,
        "options": options,
        "subfields": subfields,
        "is_custom_field": false,
        "is_optional_response_field": optional,
    });
    if ui {
        v["ui_visibility"] = json!({"add_visible_flag": true, "details_visible_flag": true});
    }
    v
}

/// `GET /api/v2/activityFields`: the fields an activity has, cursor-paged.
pub async fn get_activity_fields(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let ui = includes(&q, "ui_visibility")?;
    let types = store.activity_types(session.company.id).await?;
    let all: Vec<(usize, activity::FieldSpec)> =
        activity::FIELDS.iter().copied().enumerate().collect();
    let (page, next_cursor) = keyset_page(&q, &all, |(n, _)| *n, "activity field list")?;
    let data: Vec<Value> = page
        .iter()
        .map(|(_, f)| activity_field(*f, &types, ui))
        .collect();
    Ok(cursor_page(data, next_cursor))
}

/// `GET /api/v2/activityFields/{field_code}`.
pub async fn get_activity_field(
    Caller { session, store }: Caller,
    FieldCode(code): FieldCode,
    q: QueryParams,
) -> ApiResult {
    let ui = includes(&q, "ui_visibility")?;
    let f = activity::FIELDS
        .iter()
        .copied()
        .find(|f| f.0 == code)
        .ok_or_else(|| ApiError::NotFound(format!("Activity field {code:?} not found")))?;
    let types = store.activity_types(session.company.id).await?;
    Ok(success(
        StatusCode::OK,
        activity_field(f, &types, ui),
        None,
        None,
    ))
}
