//! The request plumbing every handler needs, as extractors that reject with Pipedrive's
//! envelope: who is asking ([`Caller`]), the path's parameters ([`PathId`], [`FollowerId`],
//! [`FieldCode`]), the entity the path names as the caller may see it ([`ActivePerson`],
//! [`ActiveOrganization`]) and the query string ([`QueryParams`]). Request bodies are in
//! `super::payload`; extractors run in the order a handler lists them, so one that names an
//! entity before the body is looked up before the body is read.

use std::sync::Arc;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::AppState;
use super::limits::check_text;
use super::parse::QueryParams;
use crate::domain::deal::{self, Deal};
use crate::domain::organization::{self, Organization};
use crate::domain::person::{self, Person};
use crate::domain::ports::Store;
use crate::domain::{Kind, Session};
use crate::error::ApiError;

/// Which kind of item a route is about, for handlers every kind shares (the fields routes):
/// the route table names the handler with its kind, `get_fields::<Organizations>`.
pub trait ItemKind: Send + Sync + 'static {
    const KIND: Kind;
}

pub struct Persons;
pub struct Organizations;
pub struct Deals;

impl ItemKind for Persons {
    const KIND: Kind = Kind::Person;
}

impl ItemKind for Organizations {
    const KIND: Kind = Kind::Organization;
}

impl ItemKind for Deals {
    const KIND: Kind = Kind::Deal;
}

/// The session the request's token opened (set by `super::auth`) and the store it works on.
pub struct Caller {
    pub session: Arc<Session>,
    pub store: Arc<dyn Store>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self {
            session: session(parts)?,
            store: state.store.clone(),
        })
    }
}

fn session(parts: &Parts) -> Result<Arc<Session>, ApiError> {
    parts
        .extensions
        .get::<Arc<Session>>()
        .cloned()
        .ok_or(ApiError::Unauthorized)
}

/// The active person the path's `{id}` names, as the caller may see it: one it may not see
/// is a 404 whatever the body says.
pub struct ActivePerson(pub Person);

impl FromRequestParts<AppState> for ActivePerson {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = path_param(parts, "id").await?;
        let session = session(parts)?;
        let found = person::active_person(state.store.as_ref(), &session, id).await?;
        Ok(Self(found))
    }
}

/// The active organization the path's `{id}` names, as the caller may see it.
pub struct ActiveOrganization(pub Organization);

impl FromRequestParts<AppState> for ActiveOrganization {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = path_param(parts, "id").await?;
        let session = session(parts)?;
        let found = organization::active_organization(state.store.as_ref(), &session, id).await?;
        Ok(Self(found))
    }
}

/// The active deal the path's `{id}` names, as the caller may see it.
pub struct ActiveDeal(pub Deal);

impl FromRequestParts<AppState> for ActiveDeal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let id = path_param(parts, "id").await?;
        let session = session(parts)?;
        let found = deal::active_deal(state.store.as_ref(), &session, id).await?;
        Ok(Self(found))
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

/// A path parameter by name, as a positive integer. A number that is not one (`0`, `-1`, one
/// too large) is a 400 naming the parameter; a word is no id at all, so the path names no
/// route (`/v1/persons/collection`): a 404, as for any path pipestack does not serve.
async fn path_param(parts: &mut Parts, name: &str) -> Result<i64, ApiError> {
    let raw = path_text(parts, name).await?;
    let numeric = {
        let digits = raw.strip_prefix('-').unwrap_or(&raw);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if !numeric {
        return Err(ApiError::NotFound(format!(
            "Unknown route: {} {}",
            parts.method,
            parts.uri.path()
        )));
    }
    match raw.parse::<i64>() {
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
