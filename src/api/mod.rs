//! The HTTP surface: the router, request logging, authentication, and the two dialects.
//!
//! `v1` is Pipedrive's legacy dialect (`/v1/...` and `/api/v1/...`): the seed's shapes, 201 on
//! create, expanded `owner_id`/`org_id`, `related_objects`. Both dialects call the same domain
//! functions; they only parse and render.

pub mod admin;
pub mod auth;
pub mod envelope;
pub mod extract;
pub mod followers;
pub mod item_search;
pub mod json;
pub mod limits;
pub mod openapi;
pub mod page_cache;
pub mod parse;
pub mod payload;
pub mod rate_limit;
pub mod rendered;
pub mod routes;
pub mod search;
pub mod service;
pub mod v1;
pub mod v2;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::metrics::HttpMetrics;
use crate::store::Store;
use limits::Limits;
use rate_limit::RateLimiter;

/// What the server is configured with besides its store.
#[derive(Default)]
pub struct Options {
    pub limits: Limits,
    /// `None` unless rate limits are switched on.
    pub rate_limiter: Option<RateLimiter>,
    /// How webhooks are delivered.
    pub webhooks: crate::webhooks::Config,
    /// The admin API for tests; `None`: off.
    pub admin: Option<admin::Config>,
}

/// What every handler and middleware can reach: one `Arc`, so a clone per request is one
/// reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    pub rate_limiter: Option<RateLimiter>,
    pub webhooks: crate::webhooks::Config,
    pub metrics: HttpMetrics,
    /// Logins noted lately, so that a user's `last_login` is written once a minute.
    pub logins: auth::Logins,
    /// Rendered list pages by the data's version.
    pub pages: page_cache::PageCache,
    /// Persons rendered for list pages, by the data's version.
    pub rendered: rendered::RenderedPersons,
    /// The admin API's journal, faults and fixtures; `None` when it is off.
    pub toolkit: Option<Arc<admin::Toolkit>>,
}

/// Marks a response the server answers by closing the connection instead (an injected
/// fault).
#[derive(Debug, Clone, Copy)]
pub struct CloseConnection;

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Default limits, no rate limits.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_options(store, Options::default())
    }

    pub fn with_options(store: Arc<dyn Store>, options: Options) -> Self {
        Self(Arc::new(Shared {
            store,
            limits: options.limits,
            rate_limiter: options.rate_limiter,
            webhooks: options.webhooks,
            metrics: HttpMetrics::default(),
            logins: auth::Logins::default(),
            pages: page_cache::PageCache::default(),
            rendered: rendered::RenderedPersons::default(),
            toolkit: options
                .admin
                .map(|config| Arc::new(admin::Toolkit::new(config))),
        }))
    }
}

/// The whole application: every route, with authentication and rate limits, the error
/// envelope for unknown routes and wrong methods, the header limits, metrics, and one log line
/// per request.
pub fn router(state: AppState) -> Router {
    let api = routes::api().route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let public = routes::public().route_layer(middleware::from_fn(tag_route));
    let mut app = Router::new()
        .merge(public)
        .merge(api)
        .merge(crate::web::routes());
    if state.toolkit.is_some() {
        app = app.merge(admin::routes(state.clone()));
    }
    app.fallback(|State(state): State<AppState>, req: Request| async move {
        let answer = unknown_route(&state, req.method(), req.uri().path());
        journaled(&state, req, answer).await
    })
    .method_not_allowed_fallback(|State(state): State<AppState>, req: Request| async move {
        if crate::web::is_app_path(req.uri().path()) {
            let e = ApiError::MethodNotAllowed;
            return crate::web::refusal(e.status(), &e.to_string());
        }
        journaled(&state, req, ApiError::MethodNotAllowed).await
    })
    .layer(middleware::from_fn_with_state(state.clone(), edge))
    .with_state(state)
}

/// The 404 of a path no route serves, naming the prefix meant when it can.
fn unknown_route(state: &AppState, method: &Method, path: &str) -> ApiError {
    if state.toolkit.is_none() && admin::is_admin_path(path) {
        return ApiError::NotFound(
            "The admin API is off: start the server with --admin-api (PIPESTACK_ADMIN_API=true)"
                .into(),
        );
    }
    let hint = routes::suggest(path);
    if hint.is_empty() {
        ApiError::NotFound(format!("Unknown route: {method} {path}"))
    } else {
        ApiError::NotFound(format!(
            "Unknown route: {method} {path} (did you mean {}?)",
            hint.join(" or ")
        ))
    }
}

/// An answer to a request no route took (unknown path, wrong method): with the admin API on,
/// a request with a valid token still goes into its company's journal and meets its faults, so
/// that a typo in a test's path shows there.
async fn journaled(state: &AppState, req: Request, answer: ApiError) -> Response {
    if let Some(toolkit) = &state.toolkit
        && !admin::is_admin_path(req.uri().path())
        && let Ok(session) = auth::session_of(state, auth::token(&req)).await
    {
        return toolkit
            .around(
                state,
                &session,
                req,
                |_| async move { answer.into_response() },
            )
            .await;
    }
    answer.into_response()
}

/// The matched route pattern, carried out on the response for `edge`'s metrics (set by
/// [`auth::authenticate`] on API routes and by `tag_route` on the server's own).
#[derive(Clone)]
pub struct RoutePattern(pub MatchedPath);

async fn tag_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(RoutePattern(m));
    }
    response
}

/// The outermost middleware: the header limits, then one log line per request (method, path
/// but never the query, which may hold `api_token`, status and latency) and the request
/// counted in the metrics under its route pattern.
async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = match limits::check_head(&req, &state.limits) {
        Ok(()) => next.run(req).await,
        // The web app's pages answer with a page, the API with its envelope.
        Err(e) if crate::web::is_app_path(&path) => crate::web::refusal(e.status(), &e.to_string()),
        Err(e) => e.into_response(),
    };
    let route = response
        .extensions()
        .get::<RoutePattern>()
        .map_or("unmatched", |r| r.0.as_str());
    let elapsed = start.elapsed().as_secs_f64();
    state
        .metrics
        .record(method.as_str(), route, response.status().as_u16(), elapsed);
    tracing::info!(
        target: "pipestack::request",
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = format_args!("{:.3}", elapsed * 1000.0),
    );
    response
}

/// A response that is either a success or an [`ApiError`].
pub type ApiResult = Result<Response, ApiError>;

pub fn ok(value: impl IntoResponse) -> ApiResult {
    Ok(value.into_response())
}
