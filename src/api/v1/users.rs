//! v1 users: `GET /users` and `GET /users/me`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::render;
use crate::api::envelope::success;
use crate::api::{ApiResult, AppState};
use crate::domain::Session;

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
