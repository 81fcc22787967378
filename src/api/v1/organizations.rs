//! v1 organizations: enough for persons' `org_id` (add and get).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::render;
use crate::api::envelope::success;
use crate::api::payload::Payload;
use crate::api::{ApiResult, AppState, path_id};
use crate::domain::organization::{self, Organization, OrganizationDraft};
use crate::domain::{Session, Visibility, values};
use crate::error::ApiError;

/// `POST /v1/organizations`: 201 with the organization.
pub async fn add_organization(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Payload(body): Payload,
) -> ApiResult {
    let draft = draft(body)?;
    let org = organization::add_organization(state.store.as_ref(), &session, draft).await?;
    respond(&state, &session, &org, StatusCode::CREATED).await
}

/// `GET /v1/organizations/{id}`.
pub async fn get_organization(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = path_id(&id)?;
    let org = state
        .store
        .organization(session.company.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Organization not found".into()))?;
    respond(&state, &session, &org, StatusCode::OK).await
}

async fn respond(
    state: &AppState,
    session: &Session,
    org: &Organization,
    status: StatusCode,
) -> ApiResult {
    let owner = state.store.user(session.company.id, org.owner_id).await?;
    let mut related = Map::new();
    let mut users = Map::new();
    if let Some(u) = &owner {
        users.insert(u.id.to_string(), render::user_brief(u));
    }
    related.insert("user".into(), Value::Object(users));
    Ok(success(
        status,
        render::organization(org, owner.as_ref(), &session.company),
        None,
        Some(related),
    ))
}

fn draft(body: Map<String, Value>) -> Result<OrganizationDraft, ApiError> {
    let mut d = OrganizationDraft::default();
    let mut invalid = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "name" => d.name = values::opt_string("name", &v)?.map(str::to_owned),
            "owner_id" => d.owner_id = values::opt_id("owner_id", &v)?,
            "address" => d.address = values::opt_string("address", &v)?.map(str::to_owned),
            "visible_to" => d.visible_to = Some(Visibility::parse("visible_to", &v)?),
            "add_time" => d.add_time = super::add_time(&v)?,
            _ => invalid.push(format!("{key} (unknown field)")),
        }
    }
    crate::api::parse::reject_fields(&invalid)?;
    Ok(d)
}
