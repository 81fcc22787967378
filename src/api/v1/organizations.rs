//! v1 organizations: list, add, get, update, delete, and an organization's persons.

use crate::api::extract::{ActiveOrganization, Caller, PathId};
use crate::domain::ports::Store;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::render::{self, Related};
use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::parse::{QueryParams, reject_fields};
use crate::api::payload::Payload;
use crate::domain::organization::{
    self, Address, Organization, OrganizationDraft, OrganizationFilter, OrganizationQuery,
};
use crate::domain::person::{self, Person};
use crate::domain::query::{self, Page, PersonFilter, PersonQuery};
use crate::domain::summary::{self, Summary};
use crate::domain::{Fields, Kind, Session, Visibility, values};
use crate::error::ApiError;

/// `POST /v1/organizations`: 201 with the organization.
pub async fn add_organization(
    Caller { session, store }: Caller,
    Payload(body): Payload,
) -> ApiResult {
    let org = organization::add_organization(store.as_ref(), &session, draft(body)?).await?;
    respond(store.as_ref(), &session, &org, StatusCode::CREATED).await
}

/// `GET /v1/organizations/{id}` (deleted ones too, with `active_flag: false`).
pub async fn get_organization(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let org = organization::find_organization(store.as_ref(), &session, id).await?;
    respond(store.as_ref(), &session, &org, StatusCode::OK).await
}

/// `PUT /v1/organizations/{id}`: a partial update.
pub async fn update_organization(
    Caller { session, store }: Caller,
    ActiveOrganization(current): ActiveOrganization,
    Payload(body): Payload,
) -> ApiResult {
    let org =
        organization::update_organization(store.as_ref(), &session, &current, draft(body)?).await?;
    respond(store.as_ref(), &session, &org, StatusCode::OK).await
}

/// `DELETE /v1/organizations/{id}`: a soft delete that detaches the organization's persons.
pub async fn delete_organization(
    Caller { session, store }: Caller,
    PathId(id): PathId,
) -> ApiResult {
    organization::delete_organization(store.as_ref(), &session, id).await?;
    Ok(success(StatusCode::OK, json!({ "id": id }), None, None))
}

/// `GET /v1/organizations`: `start`/`limit`, `sort`, `first_char`, `user_id`.
pub async fn get_organizations(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    if q.str("filter_id").is_some() {
        return Err(ApiError::invalid(
            "filter_id",
            "saved filters are not supported",
        ));
    }
    let (start, limit) = super::paging(&q)?;
    let order = q
        .str("sort")
        .map(|s| query::parse_sort(s, "organizations", crate::domain::organization::sortable))
        .transpose()?
        .unwrap_or_default();
    let filter = OrganizationFilter {
        owner_id: q.id("user_id")?,
        first_char: q.str("first_char").and_then(person::first_char),
        ..OrganizationFilter::default()
    };
    let (orgs, more) = organization::list_organizations(
        store.as_ref(),
        &session,
        OrganizationQuery {
            filter,
            order,
            page: Page::Offset { start },
            limit,
        },
    )
    .await?;
    let users = users_by_id(store.as_ref(), &session).await?;
    let fields = Fields::load(store.as_ref(), Kind::Organization, session.company.id).await?;
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let summaries = summary::summaries(
        store.as_ref(),
        &session,
        Kind::Organization,
        &ids,
        (true, true),
    )
    .await?;
    let none = Summary::default();
    let data = orgs
        .iter()
        .map(|o| {
            let s = summaries.get(&o.id).unwrap_or(&none);
            render::organization(o, users.get(&o.owner_id), &session.company, &fields, s)
        })
        .collect();
    let mut related = Map::new();
    related.insert(
        "user".into(),
        related_users(&users, orgs.iter().map(|o| o.owner_id)),
    );
    Ok(success(
        StatusCode::OK,
        Value::Array(data),
        Some(json!({ "pagination": super::pagination(start, limit, orgs.len(), more) })),
        Some(related),
    ))
}

/// `GET /v1/organizations/{id}/persons`: the organization's (visible) persons.
pub async fn get_organization_persons(
    Caller { session, store }: Caller,
    PathId(id): PathId,
    q: QueryParams,
) -> ApiResult {
    organization::active_organization(store.as_ref(), &session, id).await?;
    let (start, limit) = super::paging(&q)?;
    let page = query::list_persons(
        store.as_ref(),
        &session,
        PersonQuery {
            filter: PersonFilter {
                org_id: Some(id),
                ..PersonFilter::default()
            },
            order: Vec::new(),
            page: Page::Offset { start },
            limit,
        },
    )
    .await?;
    let persons: Vec<&Person> = page.persons.iter().collect();
    let related = Related::load(store.as_ref(), &session, &persons).await?;
    let data: Vec<_> = persons
        .iter()
        .map(|p| render::person(p, &related))
        .collect();
    Ok(success(
        StatusCode::OK,
        data,
        Some(json!({ "pagination": super::pagination(start, limit, persons.len(), page.more) })),
        Some(related.objects()),
    ))
}

async fn users_by_id(
    store: &dyn Store,
    session: &Session,
) -> Result<std::collections::BTreeMap<i64, crate::domain::User>, ApiError> {
    Ok(store
        .users(session.company.id)
        .await?
        .iter()
        .map(|u| (u.id, u.clone()))
        .collect())
}

fn related_users(
    users: &std::collections::BTreeMap<i64, crate::domain::User>,
    ids: impl Iterator<Item = i64>,
) -> Value {
    let mut out = Map::new();
    for id in ids {
        if let Some(u) = users.get(&id) {
            out.insert(id.to_string(), json!(render::user_brief(u)));
        }
    }
    Value::Object(out)
}

/// An organization as v1 shows it to the session's user, without `related_objects`.
pub async fn render_one(
    store: &dyn Store,
    session: &Session,
    org: &Organization,
) -> Result<Value, ApiError> {
    let users = users_by_id(store, session).await?;
    let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
    let summary = summary::summaries(store, session, Kind::Organization, &[org.id], (true, true))
        .await?
        .remove(&org.id)
        .unwrap_or_default();
    Ok(render::organization(
        org,
        users.get(&org.owner_id),
        &session.company,
        &fields,
        &summary,
    ))
}

async fn respond(
    store: &dyn Store,
    session: &Session,
    org: &Organization,
    status: StatusCode,
) -> ApiResult {
    let users = users_by_id(store, session).await?;
    let fields = Fields::load(store, Kind::Organization, session.company.id).await?;
    let summary = summary::summaries(store, session, Kind::Organization, &[org.id], (true, true))
        .await?
        .remove(&org.id)
        .unwrap_or_default();
    let mut related = Map::new();
    related.insert(
        "user".into(),
        related_users(&users, std::iter::once(org.owner_id)),
    );
    Ok(success(
        status,
        render::organization(
            org,
            users.get(&org.owner_id),
            &session.company,
            &fields,
            &summary,
        ),
        None,
        Some(related),
    ))
}

/// Keys of the v1 organization object a client may not write.
const READ_ONLY: &[&str] = &[
    "id",
    "company_id",
    "active_flag",
    "first_char",
    "update_time",
    "delete_time",
    "picture_id",
    "owner_name",
    "cc_email",
    "country_code",
    "next_activity_date",
    "next_activity_time",
    "next_activity_id",
    "last_activity_id",
    "last_activity_date",
];

pub fn draft(body: Map<String, Value>) -> Result<OrganizationDraft, ApiError> {
    let mut d = OrganizationDraft::default();
    let mut label: Option<Option<i64>> = None;
    let mut label_ids = None;
    let mut custom = super::CustomParts::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        let Some(v) = custom.take(&key, v) else {
            continue;
        };
        match key.as_str() {
            "name" => d.name = Some(values::opt_string("name", &v)?.unwrap_or("").to_owned()),
            "owner_id" => d.owner_id = values::opt_id("owner_id", &v)?,
            "address" => {
                d.address = Some(values::opt_string("address", &v)?.map(|a| Address {
                    value: a.to_owned(),
                    parts: Map::new(),
                }))
            }
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "label" => label = Some(values::opt_id("label", &v)?),
            "label_ids" => label_ids = Some(values::id_list("label_ids", &v)?),
            "add_time" => d.add_time = super::add_time(&v)?,
            k if READ_ONLY.contains(&k) || k.ends_with("_count") => {
                invalid.push(format!("{k} (read-only)"))
            }
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    reject_fields(&invalid)?;
    d.label_ids = super::persons::labels(label, label_ids)?;
    d.custom_fields = custom.into_values();
    Ok(d)
}
