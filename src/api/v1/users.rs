//! v1 users: `GET /users` and `GET /users/me`.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::render;
use crate::api::envelope::success;
use crate::api::parse::QueryParams;
use crate::api::{ApiResult, AppState};
use crate::domain::Session;
use crate::error::ApiError;

pub async fn get_users(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> ApiResult {
    let users = state.store.users(session.company.id).await?;
    let data = users
        .iter()
        .map(|u| render::user(u, &session, false))
        .collect();
    Ok(success(StatusCode::OK, Value::Array(data), None, None))
}

pub async fn get_current_user(Extension(session): Extension<Session>) -> ApiResult {
    let data = render::user(&session.user, &session, true);
    Ok(success(StatusCode::OK, data, None, None))
}

/// `GET /v1/users/{id}`: a user of the token's company.
pub async fn get_user(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = crate::api::path_id(&id)?;
    let user = state
        .store
        .user(session.company.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found or not accessible.".into()))?;
    Ok(success(
        StatusCode::OK,
        render::user(&user, &session, false),
        None,
        None,
    ))
}

/// `GET /v1/users/find?term=…`: users whose name (or, with `search_by_email=1`, email)
/// contains the term, case-insensitively.
pub async fn find_users_by_name(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let q = QueryParams::parse(raw.as_deref());
    let term = q
        .str("term")
        .ok_or_else(|| ApiError::invalid("term", "is required"))?
        .to_lowercase();
    let by_email = q.bool("search_by_email")?;
    let users = state.store.users(session.company.id).await?;
    let data: Vec<Value> = users
        .iter()
        .filter(|u| {
            let hay = if by_email { &u.email } else { &u.name };
            hay.to_lowercase().contains(&term)
        })
        .map(|u| render::user(u, &session, false))
        .collect();
    Ok(success(StatusCode::OK, Value::Array(data), None, None))
}
