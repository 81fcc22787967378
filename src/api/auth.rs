//! Token authentication: `x-api-token`, `?api_token=` or `Authorization: Bearer`, resolved to a
//! [`Session`] (company and user) that handlers receive as an extension.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::domain::Session;
use crate::error::ApiError;

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = token(&req) else {
        return ApiError::Unauthorized.into_response();
    };
    match state.store.session_by_token(&token).await {
        Ok(Some(session)) => {
            req.extensions_mut().insert::<Session>(session);
            next.run(req).await
        }
        Ok(None) => ApiError::Unauthorized.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The token a request carries, by precedence: header, bearer, query.
fn token(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(t) = headers.get("x-api-token").and_then(|v| v.to_str().ok()) {
        return non_empty(t);
    }
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, rest) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return non_empty(rest);
        }
    }
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "api_token")
        .and_then(|(_, v)| non_empty(&v))
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}
