//! v1 persons: add, get, list, update, delete (one and bulk), search and merge.

use crate::api::extract::{ActivePerson, Caller, PathId};
use crate::domain::ports::Store;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{self, Related};
use crate::api::AppState;
use crate::api::envelope::{cursor_page, success};
use crate::api::page_cache::{CachedPage, MadeOfKept};
use crate::api::parse::{QueryParams, contacts, decode_cursor, encode_cursor, required_id};
use crate::api::payload::Payload;
use crate::api::rendered::{self, Rendered, Shape};
use crate::api::{ApiResult, search};
use crate::domain::Kind;
use crate::domain::person::{self, Person, PersonDraft, person_not_found};
use crate::domain::ports::DataVersion;
use crate::domain::query::{self, Page, PersonFilter, PersonQuery};
use crate::domain::search::search_persons;
use crate::domain::summary;
use crate::domain::{MarketingStatus, Session, Visibility, values};
use crate::error::ApiError;
use axum::extract::State;

/// Keys of the v1 person object that a client may not write.
const READ_ONLY: &[&str] = &[
    "id",
    "company_id",
    "active_flag",
    "primary_email",
    "first_char",
    "update_time",
    "delete_time",
    "picture_id",
    "org_name",
    "owner_name",
    "cc_email",
    "next_activity_date",
    "next_activity_time",
    "next_activity_id",
    "last_activity_id",
    "last_activity_date",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
    "related_objects",
];

/// `POST /v1/persons`: 201 with the person and its `related_objects`.
pub async fn add_person(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let person = person::add_person(store.as_ref(), &session, draft(body)?).await?;
    let related = Related::load_added(store.as_ref(), &session, &[&person]).await?;
    Ok(reply(&person, &related, StatusCode::CREATED, None))
}

/// `GET /v1/persons/{id}`: the person (deleted ones too, with `active_flag: false`).
pub async fn get_person(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let person = person::find_person(store.as_ref(), &session, id).await?;
    let additional = json!({ "dropbox_email": session.company.cc_email() });
    respond(
        store.as_ref(),
        &session,
        &person,
        StatusCode::OK,
        Some(additional),
    )
    .await
}

/// `GET /v1/persons/{id}/changelog`: what each change did to each field, newest first,
/// cursor-paged (`cursor`, `limit`).
pub async fn get_person_changelog(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    let limit = query::limit(q.int("limit")?)? as usize;
    let before = match q.str("cursor") {
        None => None,
        Some(c) => Some(
            decode_cursor(c)?
                .get("before")
                .and_then(Value::as_i64)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a changelog cursor"))?,
        ),
    };
    let (changes, more) = person::changelog(store.as_ref(), &session, id, before, limit).await?;
    let next = match changes.last() {
        Some(last) if more => Some(encode_cursor(&json!({ "before": last.id }))),
        _ => None,
    };
    let data: Vec<Value> = changes
        .iter()
        .map(|c| {
            json!({
                "field_key": c.change.field_key,
                "old_value": c.change.old_value,
                "new_value": c.change.new_value,
                "actor_user_id": c.actor_user_id,
                "time": c.time.v1(),
                "change_source": c.source.as_str(),
                "change_source_user_agent": null,
                "is_bulk_update_flag": false,
            })
        })
        .collect();
    Ok(cursor_page(Value::Array(data), next))
}

/// `PUT /v1/persons/{id}`: a partial update; `email`/`phone` replace the whole list.
pub async fn update_person(
    Caller { session, store }: Caller,
    ActivePerson(current): ActivePerson,
    Payload(body): Payload,
) -> ApiResult {
    let person = person::update_person(store.as_ref(), &session, current, draft(body)?).await?;
    respond(store.as_ref(), &session, &person, StatusCode::OK, None).await
}

/// `DELETE /v1/persons/{id}`: a soft delete.
pub async fn delete_person(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let deleted = person::delete_persons(store.as_ref(), &session, &[id]).await?;
    if deleted.is_empty() {
        return Err(person_not_found().into());
    }
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

/// `DELETE /v1/persons?ids=1,2,3`: deletes those of the ids that are persons of the company and
/// not already deleted, and lists them.
pub async fn delete_persons(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let ids = q.ids("ids", 1000)?.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "Please provide at least one item to delete",
        ));
    }
    let deleted = person::delete_persons(store.as_ref(), &session, &ids).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "id": deleted }),
        None,
        None,
    ))
}

/// `GET /v1/persons`: `start`/`limit` paging, `sort`, `first_char`, `user_id`.
pub async fn list_persons(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    page: CachedPage,
    q: QueryParams,
) -> ApiResult {
    page.serve(|version| async move {
        if q.str("filter_id").is_some() {
            return Err(ApiError::invalid(
                "filter_id",
                "saved filters are not supported",
            ));
        }
        let (start, limit) = super::paging(&q)?;
        let order = q
            .str("sort")
            .map(|s| query::parse_sort(s, "persons", query::person_sortable))
            .transpose()?
            .unwrap_or_default();
        let filter = PersonFilter {
            owner_id: q.id("user_id")?,
            first_char: q.str("first_char").and_then(person::first_char),
            ..PersonFilter::default()
        };
        let query = PersonQuery {
            filter,
            order,
            page: Page::Offset { start },
            limit,
        };
        let pagination =
            |shown, more| json!({ "pagination": super::pagination(start, limit, shown, more) });
        if let Some(version) = version
            && let Some((data, more, related)) =
                kept_page(&state, store.as_ref(), &session, &version, query.clone()).await?
        {
            let shown = data.len();
            let mut response = success(
                StatusCode::OK,
                data,
                Some(pagination(shown, more)),
                Some(related.objects()),
            );
            response.extensions_mut().insert(MadeOfKept);
            return Ok(response);
        }
        let page = query::list_persons(store.as_ref(), &session, query).await?;
        let persons: Vec<&Person> = page.persons.iter().collect();
        let related = Related::load(store.as_ref(), &session, &persons).await?;
        let data: Vec<_> = persons
            .iter()
            .map(|p| render::person(p, &related))
            .collect();
        Ok(success(
            StatusCode::OK,
            data,
            Some(pagination(page.persons.len(), page.more)),
            Some(related.objects()),
        ))
    })
    .await
}

/// A v1 page of persons made of those rendered for this version of the data ([`rendered`]):
/// its ids are listed, and only the persons not kept are read and rendered (then kept). What
/// they refer to is read for the whole page. `None` while the version is new (the page is then
/// read in one statement and nothing is kept: while commits follow each other closely, no
/// other page would use it), and for a page one of whose persons was gone by the time it was
/// read (a commit in between).
async fn kept_page(
    state: &AppState,
    store: &dyn Store,
    session: &Session,
    version: &DataVersion,
    query: PersonQuery,
) -> Result<Option<(Vec<rendered::Json>, bool, Related)>, ApiError> {
    if !state.rendered.holds(version) {
        return Ok(None);
    }
    let (ids, more) = query::list_person_ids(store, session, query).await?;
    let mut kept = state.rendered.get(version, session, Shape::V1, &ids);
    let missing: Vec<i64> = ids
        .iter()
        .zip(&kept)
        .filter(|(_, k)| k.is_none())
        .map(|(id, _)| *id)
        .collect();
    let persons = query::visible_persons(store, session, missing.clone()).await?;
    if persons.len() != missing.len() {
        return Ok(None);
    }
    let mut related = Related::of(
        store,
        session,
        kept.iter()
            .flatten()
            .map(|k| k.owner_id)
            .chain(persons.iter().map(|p| p.owner_id))
            .collect(),
        kept.iter()
            .flatten()
            .filter_map(|k| k.org_id)
            .chain(persons.iter().filter_map(|p| p.org_id))
            .collect(),
    )
    .await?;
    related.summaries =
        summary::summaries(store, session, Kind::Person, &missing, (true, true)).await?;
    let fresh = render_each(&persons, &related)?;
    for (id, person) in &fresh {
        let at = ids.iter().position(|i| i == id);
        if let Some(slot) = at.and_then(|i| kept.get_mut(i)) {
            *slot = Some(person.clone());
        }
    }
    state.rendered.put(version, session, Shape::V1, fresh);
    let data = kept.into_iter().flatten().map(|k| k.json).collect();
    Ok(Some((data, more, related)))
}

/// Each person rendered on its own, to be kept, by id.
fn render_each(persons: &[Person], related: &Related) -> Result<Vec<(i64, Rendered)>, ApiError> {
    persons
        .iter()
        .map(|p| {
            let rendered = Rendered {
                json: rendered::Json::new(&render::person(p, related))?,
                owner_id: p.owner_id,
                org_id: p.org_id,
            };
            Ok((p.id, rendered))
        })
        .collect()
}

/// `GET /v1/persons/search`: ranked items with `start`/`limit` paging.
pub async fn search_persons_v1(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    if q.str("term").is_none_or(|t| t.trim().is_empty()) {
        return Err(ApiError::InputRequired("term".into()));
    }
    let sq = search::query(&q)?;
    let (start, limit) = super::paging(&q)?;
    let hits = search_persons(store.as_ref(), &session, &sq).await?;
    let (page, more) = super::page_of(&hits, start, limit);
    let items = search::items(store.as_ref(), &session, page, search::wants_picture(&q)).await?;
    Ok(success(
        StatusCode::OK,
        json!({ "items": items }),
        Some(json!({ "pagination": super::pagination(start, limit, page.len(), more) })),
        None,
    ))
}

/// `GET /v1/persons/{id}/permittedUsers`: ids of the users who may see the person.
pub async fn get_person_users(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let person = person::find_person(store.as_ref(), &session, id).await?;
    let users =
        crate::domain::followers::permitted_users(store.as_ref(), &session, &person).await?;
    Ok(success(StatusCode::OK, json!(users), None, None))
}

/// `PUT /v1/persons/{id}/merge`: merges `{id}` into `merge_with_id`, which is kept.
pub async fn merge_persons(
    Caller { session, store }: Caller,
    ActivePerson(from): ActivePerson,
    Payload(body): Payload,
) -> ApiResult {
    let id = from.id;
    let into = required_id(&body, "merge_with_id")?;
    if let Some(extra) = body.keys().find(|k| *k != "merge_with_id") {
        return Err(ApiError::bad_request(format!(
            "Invalid field(s) in the payload: {extra} (unknown field)"
        )));
    }
    let person = person::merge_persons(store.as_ref(), &session, from, into).await?;
    let related = Related::load(store.as_ref(), &session, &[&person]).await?;
    let mut data = serde_json::to_value(render::person(&person, &related))
        .map_err(|e| ApiError::Internal(format!("rendering a person: {e}")))?;
    data["owner_id"] = json!(person.owner_id);
    data["org_id"] = json!(person.org_id);
    data["merge_what_id"] = json!(id);
    Ok(success(StatusCode::OK, data, None, None))
}

/// A person as v1 shows it to the session's user, without `related_objects` (a webhook's
/// `current`, say).
pub async fn render_one(
    store: &dyn Store,
    session: &Session,
    person: &Person,
) -> Result<Value, ApiError> {
    let related = Related::load(store, session, &[person]).await?;
    serde_json::to_value(render::person(person, &related))
        .map_err(|e| ApiError::Internal(format!("rendering a person: {e}")))
}

async fn respond(
    store: &dyn Store,
    session: &Session,
    person: &Person,
    status: StatusCode,
    additional: Option<Value>,
) -> ApiResult {
    let related = Related::load(store, session, &[person]).await?;
    Ok(reply(person, &related, status, additional))
}

fn reply(
    person: &Person,
    related: &Related,
    status: StatusCode,
    additional: Option<Value>,
) -> axum::response::Response {
    success(
        status,
        render::person(person, related),
        additional,
        Some(related.objects()),
    )
}

/// Parses a v1 body (JSON or form, already a JSON object) into the domain's command.
pub fn draft(body: Map<String, Value>) -> Result<PersonDraft, ApiError> {
    let mut d = PersonDraft::default();
    let mut label: Option<Option<i64>> = None;
    let mut name_null = false;
    let mut label_ids: Option<Vec<i64>> = None;
    let mut invalid: Vec<String> = Vec::new();
    let mut custom = super::CustomParts::default();
    for (key, v) in body {
        let Some(v) = custom.take(&key, v) else {
            continue;
        };
        match key.as_str() {
            // `null` with a first or last name is no name (it is built from the parts);
            // alone, it is a name that cannot be empty (below).
            "name" if v.is_null() => name_null = true,
            "name" => d.name = Some(values::clearable_string("name", &v)?),
            "first_name" => d.first_name = Some(values::clearable_string("first_name", &v)?),
            "last_name" => d.last_name = Some(values::clearable_string("last_name", &v)?),
            "owner_id" => d.owner_id = values::opt_id("owner_id", &v)?,
            "org_id" => d.org_id = Some(values::opt_id("org_id", &v)?),
            "email" => d.emails = Some(contacts("email", &v, true, "")?),
            "phone" => d.phones = Some(contacts("phone", &v, true, "")?),
            "label" => label = Some(values::opt_id("label", &v)?),
            "label_ids" => label_ids = Some(values::id_list("label_ids", &v)?),
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "marketing_status" if !v.is_null() => {
                d.marketing_status = Some(MarketingStatus::parse("marketing_status", &v)?)
            }
            "marketing_status" => {}
            "add_time" => d.add_time = super::add_time(&v)?,
            k if READ_ONLY.contains(&k) || k.ends_with("_count") => {
                invalid.push(format!("{k} (read-only)"))
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    crate::api::parse::reject_fields(&invalid)?;
    if name_null && d.name.is_none() && d.first_name.is_none() && d.last_name.is_none() {
        d.name = Some(String::new());
    }
    d.label_ids = labels(label, label_ids)?;
    d.custom_fields = custom.into_values();
    Ok(d)
}

/// v1's two ways of writing labels: `label` (one id, overwriting the list) and `label_ids`
/// (the list; `label` reads as its first element). Both at once must agree.
pub fn labels(
    label: Option<Option<i64>>,
    label_ids: Option<Vec<i64>>,
) -> Result<Option<Vec<i64>>, ApiError> {
    match (label, label_ids) {
        (None, ids) => Ok(ids),
        (Some(l), None) => Ok(Some(l.into_iter().collect())),
        (Some(l), Some(ids)) if ids.first().copied() == l => Ok(Some(ids)),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "label",
            "disagrees with label_ids: send one of them, or label equal to the first of label_ids",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_overwrites_and_label_ids_lead() {
        assert_eq!(labels(Some(Some(3)), None).unwrap(), Some(vec![3]));
        assert_eq!(labels(Some(None), None).unwrap(), Some(vec![]));
        assert_eq!(labels(None, Some(vec![1, 2])).unwrap(), Some(vec![1, 2]));
        assert_eq!(
            labels(Some(Some(1)), Some(vec![1, 2])).unwrap(),
            Some(vec![1, 2])
        );
        assert!(labels(Some(Some(2)), Some(vec![1, 2])).is_err());
    }
}
