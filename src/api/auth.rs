//! Token authentication: `x-api-token`, `?api_token=` or `Authorization: Bearer`, resolved to a
//! [`Session`] (company and user) that handlers receive as an extension; then, when rate limits
//! are on, the request counted against them (`super::rate_limit`).

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, RoutePattern};
use crate::domain::Session;
use crate::error::ApiError;

/// Resolves the token to a session, counts the request against the rate limits (when on), and
/// tags the response with its route pattern for the metrics.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut response = admit(&state, req, next, matched.as_ref()).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(RoutePattern(m));
    }
    response
}

async fn admit(
    state: &AppState,
    mut req: Request,
    next: Next,
    matched: Option<&MatchedPath>,
) -> Response {
    let Some(token) = token(&req) else {
        return ApiError::Unauthorized.into_response();
    };
    if let Err(e) = super::limits::check_text("api_token", &token) {
        return e.into_response();
    }
    let session = match state.store.session_by_token(&token).await {
        Ok(Some(session)) => session,
        Ok(None) => return ApiError::Unauthorized.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(limiter) = &state.rate_limiter else {
        req.extensions_mut().insert::<Session>(session);
        return next.run(req).await;
    };
    let verdict = match limiter
        .admit(state.store.as_ref(), &session, req.method(), matched)
        .await
    {
        Ok(verdict) => verdict,
        Err(refused) => return refused,
    };
    req.extensions_mut().insert::<Session>(session);
    let mut response = next.run(req).await;
    verdict.set_headers(response.headers_mut());
    response
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
