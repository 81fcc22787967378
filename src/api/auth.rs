//! Token authentication: `x-api-token`, `?api_token=` or `Authorization: Bearer`, resolved to a
//! [`Session`] (company and user) that handlers receive as an extension; then, when rate limits
//! are on, the request counted against them (`super::rate_limit`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, RoutePattern};
use crate::domain::user::token_digest;
use crate::domain::{Session, Timestamp};
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
    req: Request,
    next: Next,
    matched: Option<&MatchedPath>,
) -> Response {
    let session = match session_of(state, token(&req)).await {
        Ok(session) => session,
        Err(e) => return e.into_response(),
    };
    note_login(state, &session).await;
    match &state.toolkit {
        Some(toolkit) => {
            let s = session.clone();
            toolkit
                .around(state, &session, req, |req| {
                    limited(state, s, req, next, matched)
                })
                .await
        }
        None => limited(state, session, req, next, matched).await,
    }
}

/// The request counted against the rate limits, when they are on, and served.
async fn limited(
    state: &AppState,
    session: Arc<Session>,
    mut req: Request,
    next: Next,
    matched: Option<&MatchedPath>,
) -> Response {
    let Some(limiter) = &state.rate_limiter else {
        req.extensions_mut().insert::<Arc<Session>>(session);
        return next.run(req).await;
    };
    let verdict = match limiter
        .admit(state.store.as_ref(), &session, req.method(), matched)
        .await
    {
        Ok(verdict) => verdict,
        Err(refused) => return refused,
    };
    req.extensions_mut().insert::<Arc<Session>>(session);
    let mut response = next.run(req).await;
    verdict.set_headers(response.headers_mut());
    response
}

/// How stale a user's `last_login` may get before a request moves it.
const LOGIN_GRANULARITY_SECS: i64 = 60;

/// When this process last noted each user's login (`user id → unix seconds`).
#[derive(Default)]
pub struct Logins(Mutex<HashMap<i64, i64>>);

impl Logins {
    /// Whether a login at `now` is news: the user's last one, as stored or as noted here, is a
    /// minute old or more. Notes it if so.
    fn is_news(&self, session: &Session, now: Timestamp) -> bool {
        let fresh = |t: i64| now.0 - t < LOGIN_GRANULARITY_SECS;
        if session.user.last_login.is_some_and(|t| fresh(t.0)) {
            return false;
        }
        let Ok(mut noted) = self.0.lock() else {
            return false;
        };
        if noted.get(&session.user.id).is_some_and(|t| fresh(*t)) {
            return false;
        }
        if noted.len() > 100_000 {
            noted.clear();
        }
        noted.insert(session.user.id, now.0);
        true
    }
}

/// Moves the user's `last_login` to now when it is a minute old or more: a write at most once
/// a minute per user and process. It is a note, not the request's change: if it fails, the
/// request goes on.
pub(crate) async fn note_login(state: &AppState, session: &Session) {
    let now = Timestamp::now();
    if !state.logins.is_news(session, now) {
        return;
    }
    if let Err(e) = state
        .store
        .record_login(session.company.id, session.user.id, now)
        .await
    {
        tracing::warn!(error = %e, user_id = session.user.id, "could not note the login");
    }
}

/// The session a request's token opens: 401 without a token or for one that opens none.
pub async fn session_of(state: &AppState, token: Option<String>) -> Result<Arc<Session>, ApiError> {
    let token = token.ok_or(ApiError::Unauthorized)?;
    super::limits::check_text("api_token", &token)?;
    state
        .store
        .session_by_digest(&token_digest(&token))
        .await?
        .ok_or(ApiError::Unauthorized)
}

/// The token a request carries, by precedence: header, bearer, query.
pub fn token(req: &Request) -> Option<String> {
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
