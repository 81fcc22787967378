//! v2 persons: list, get, add, update (PATCH), delete and search.

use crate::api::extract::{ActivePerson, Caller, PathId};
use crate::domain::ports::Store;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{self, Context, Options};
use crate::api::envelope::{cursor_page, success};
use crate::api::page_cache::CachedPage;
use crate::api::parse::{QueryParams, best_first, contacts, keyset_page};
use crate::api::payload::Payload;
use crate::api::{ApiResult, search};
use crate::domain::person::{self, Person, PersonDraft, person_not_found};
use crate::domain::query::{self, Page, PersonFilter, PersonQuery};
use crate::domain::search::search_persons as run_search;
use crate::domain::{Fields, Kind, MarketingStatus, Session, Timestamp, Visibility, values};
use crate::error::ApiError;

/// Keys of the v2 person object a client may not write.
const READ_ONLY: &[&str] = &["id", "update_time", "is_deleted", "picture_id", "labels"];
/// Contact-sync fields: Pipedrive accepts them only where contact sync is on.
const CONTACT_SYNC: &[&str] = &["notes", "im", "birthday", "job_title", "postal_address"];

/// `GET /api/v2/persons/{id}`: deleted persons too, with `is_deleted: true`.
pub async fn get_person(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    let opts = Options::parse(&q)?;
    let person = person::find_person(store.as_ref(), &session, id).await?;
    one(store.as_ref(), &session, &person, &opts).await
}

/// `POST /api/v2/persons`: 200 (as Pipedrive's v2 spec says) with the person.
pub async fn add_person(Caller { session, store }: Caller, Payload(body): Payload) -> ApiResult {
    let person = person::add_person(store.as_ref(), &session, draft(body)?).await?;
    one(store.as_ref(), &session, &person, &Options::written()).await
}

/// `PATCH /api/v2/persons/{id}`: absent fields stay, `null` clears. v2's PATCH has no
/// `add_time` (v1's `PUT` does).
pub async fn update_person(
    Caller { session, store }: Caller,
    ActivePerson(current): ActivePerson,
    Payload(body): Payload,
) -> ApiResult {
    let draft = draft(body)?;
    if draft.add_time.is_some() {
        return Err(ApiError::invalid(
            "add_time",
            "can only be set when the person is added",
        ));
    }
    let person = person::update_person(store.as_ref(), &session, current, draft).await?;
    one(store.as_ref(), &session, &person, &Options::written()).await
}

/// `DELETE /api/v2/persons/{id}`: a soft delete, `{"id": N}`.
pub async fn delete_person(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    if person::delete_persons(store.as_ref(), &session, &[id])
        .await?
        .is_empty()
    {
        return Err(person_not_found().into());
    }
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

/// `GET /api/v2/persons`: keyset cursors over `sort_by` + id, so paging never skips or repeats
/// a person while others are added or deleted.
pub async fn get_persons(
    Caller { session, store }: Caller,
    page: CachedPage,
    q: QueryParams,
) -> ApiResult {
    page.serve(|_| async move {
        for unsupported in ["filter_id", "deal_id"] {
            if q.str(unsupported).is_some() {
                return Err(ApiError::invalid(
                    unsupported,
                    "is not supported by pipestack",
                ));
            }
        }
        let opts = Options::parse(&q)?;
        let limit = query::limit(q.int("limit")?)?;
        let order = super::ListOrder::parse(&q)?;
        let filter = PersonFilter {
            ids: q.ids("ids", 100)?,
            owner_id: q.id("owner_id")?,
            org_id: q.id("org_id")?,
            updated_since: super::time_param(&q, "updated_since")?,
            updated_until: super::time_param(&q, "updated_until")?,
            ..PersonFilter::default()
        };
        let page = query::list_persons(
            store.as_ref(),
            &session,
            PersonQuery {
                filter,
                order: vec![(order.sort_by, order.direction)],
                page: Page::After(order.after),
                limit,
            },
        )
        .await?;
        let last = page
            .persons
            .last()
            .and_then(|p| Some((order.sort_by.key_of(p)?, p.id)));
        let next_cursor = order.next_cursor(last, page.more);
        let fields = Fields::load(store.as_ref(), Kind::Person, session.company.id).await?;
        let ids: Vec<i64> = page.persons.iter().map(|p| p.id).collect();
        let ctx = Context::new(&session.company, &fields)
            .with_summaries(store.as_ref(), &session, Kind::Person, &ids, &opts)
            .await?;
        let data: Vec<_> = page
            .persons
            .iter()
            .map(|p| render::person(p, &opts, &ctx))
            .collect();
        Ok(cursor_page(data, next_cursor))
    })
    .await
}

/// `GET /api/v2/persons/search`: ranked items, cursor-paged.
pub async fn search_persons(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let sq = search::query(&q)?;
    let hits = run_search(store.as_ref(), &session, &sq).await?;
    let (page, next_cursor) =
        keyset_page(&q, &hits, |h| (best_first(h.score), h.person.id), "search")?;
    let items = search::items(store.as_ref(), &session, page, search::wants_picture(&q)).await?;
    Ok(cursor_page(json!({ "items": items }), next_cursor))
}

async fn one(store: &dyn Store, session: &Session, person: &Person, opts: &Options) -> ApiResult {
    let fields = Fields::load(store, Kind::Person, session.company.id).await?;
    let ctx = Context::new(&session.company, &fields)
        .with_summaries(store, session, Kind::Person, &[person.id], opts)
        .await?;
    Ok(success(
        StatusCode::OK,
        render::person(person, opts, &ctx),
        None,
        None,
    ))
}

/// Parses a v2 body into the domain's command.
pub fn draft(body: Map<String, Value>) -> Result<PersonDraft, ApiError> {
    let mut d = PersonDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = Some(required_string("name", &v)?),
            "first_name" => d.first_name = Some(values::clearable_string("first_name", &v)?),
            "last_name" => d.last_name = Some(values::clearable_string("last_name", &v)?),
            "owner_id" => d.owner_id = Some(values::id("owner_id", &v)?),
            "org_id" => d.org_id = Some(values::opt_id("org_id", &v)?),
            "emails" => d.emails = Some(contacts("emails", &v, false, "work")?),
            "phones" => d.phones = Some(contacts("phones", &v, false, "work")?),
            "label_ids" => d.label_ids = Some(values::id_list("label_ids", &v)?),
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "marketing_status" if !v.is_null() => {
                d.marketing_status = Some(MarketingStatus::parse("marketing_status", &v)?)
            }
            "marketing_status" => {}
            "add_time" if v.is_null() => {}
            "add_time" => {
                let s = values::string("add_time", &v)?;
                d.add_time = Some(Timestamp::parse_rfc3339(s).ok_or_else(|| {
                    ApiError::invalid(
                        "add_time",
                        "must be an RFC 3339 time, e.g. 2024-07-01T05:46:33Z",
                    )
                })?);
            }
            "custom_fields" => super::custom_fields_body(v, &mut d.custom_fields)?,
            k if READ_ONLY.contains(&k) => invalid.push(format!("{k} (read-only)")),
            k if CONTACT_SYNC.contains(&k) => invalid.push(format!(
                "{k} (a contact sync field; contact sync is not supported)"
            )),
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    crate::api::parse::reject_fields(&invalid)?;
    Ok(d)
}

/// A string that may not be null (v2's `name`: `null` would clear a required field).
fn required_string(field: &str, v: &Value) -> Result<String, ApiError> {
    if v.is_null() {
        return Err(person::name_must_be_given().into());
    }
    Ok(values::string(field, v)?.to_owned())
}
