//! v1 users: `GET /users` and `GET /users/me`.

use crate::api::extract::{Caller, PathId};
use axum::http::StatusCode;
use serde_json::Value;

use super::render;
use crate::api::ApiResult;
use crate::api::envelope::success;
use crate::api::parse::QueryParams;
use crate::error::ApiError;

pub async fn get_users(Caller { session, store }: Caller) -> ApiResult {
    let users = store.users(session.company.id).await?;
    let data = users
        .iter()
        .map(|u| render::user(u, &session, false))
        .collect();
    Ok(success(StatusCode::OK, Value::Array(data), None, None))
}

pub async fn get_current_user(Caller { session, .. }: Caller) -> ApiResult {
    let data = render::user(&session.user, &session, true);
    Ok(success(StatusCode::OK, data, None, None))
}

/// `GET /v1/users/{id}`: a user of the token's company.
pub async fn get_user(Caller { session, store }: Caller, PathId(id): PathId) -> ApiResult {
    let user = store
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
pub async fn find_users_by_name(Caller { session, store }: Caller, q: QueryParams) -> ApiResult {
    let term = q
        .str("term")
        .ok_or_else(|| ApiError::invalid("term", "is required"))?
        .to_lowercase();
    let by_email = q.bool("search_by_email")?;
    let users = store.users(session.company.id).await?;
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
