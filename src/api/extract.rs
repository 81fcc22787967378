//! The request plumbing every handler needs, as extractors that reject with Pipedrive's
//! envelope: who is asking ([`Caller`]), the path's parameters ([`PathId`], [`FollowerId`],
//! [`FieldCode`]) and the query string ([`QueryParams`]). Request bodies are in `super::payload`.

use std::sync::Arc;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::AppState;
use super::limits::check_text;
use super::parse::QueryParams;
use crate::domain::Session;
use crate::domain::ports::Store;
use crate::error::ApiError;

/// The session the request's token opened (set by `super::auth`) and the store it works on.
pub struct Caller {
    pub session: Session,
    pub store: Arc<dyn Store>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = parts
            .extensions
            .remove::<Session>()
            .ok_or(ApiError::Unauthorized)?;
        Ok(Self {
            session,
            store: state.store.clone(),
        })
    }
}

/// A path parameter by name, as text. A parameter that is not UTF-8 is a 400 naming it
/// (axum's message: ``Invalid UTF-8 in `id` ``).
async fn path_text(parts: &mut Parts, name: &str) -> Result<String, ApiError> {
    let params = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => params,
        Err(e @ RawPathParamsRejection::InvalidUtf8InPathParam(_)) => {
            return Err(ApiError::bad_request(e.body_text()));
        }
        Err(e) => return Err(ApiError::Internal(format!("path parameters: {e}"))),
    };
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| ApiError::Internal(format!("the route has no path parameter {name}")))
        .and_then(|value| {
            check_text(name, &value)?;
            Ok(value)
        })
}

/// A path parameter by name, as a positive integer; anything else is a 400 naming it.
async fn path_param(parts: &mut Parts, name: &str) -> Result<i64, ApiError> {
    match path_text(parts, name).await?.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::invalid(name, "must be a positive integer")),
    }
}

/// The `{id}` of the path.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "id").await.map(Self)
    }
}

/// The `{follower_id}` of the path: v1's relationship id, v2's user id.
pub struct FollowerId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for FollowerId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "follower_id").await.map(Self)
    }
}

/// The `{field_code}` of a v2 field path: a key (`name`, a 40-hex custom key) or an id.
pub struct FieldCode(pub String);

impl<S: Send + Sync> FromRequestParts<S> for FieldCode {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_text(parts, "field_code").await.map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = Self::parse(parts.uri.query());
        query.check_text()?;
        Ok(query)
    }
}
