//! The server's own routes, served without a token: health, readiness, metrics, and the API's
//! contract (`/openapi.json`) with its documentation page (`/docs`, self-contained, no CDN).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::{AppState, openapi};
use crate::error::ApiError;

/// `GET /healthz`: the process is alive and serving HTTP (no token needed, no data shown).
pub async fn healthz() -> Response {
    axum::Json(serde_json::json!({"success": true, "data": {"status": "ok"}})).into_response()
}

/// `GET /readyz`: the store answers and takes writes; 503 in the envelope, saying why, when it
/// does not (the database is unreachable, damaged, or writes are failing).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => axum::Json(serde_json::json!({"success": true, "data": {"status": "ready"}}))
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::Unavailable(format!("not ready: {e}")).into_response()
        }
    }
}

/// `GET /metrics`: Prometheus' text format (no token needed; counts only, never data).
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::with_capacity(16 * 1024);
    state.metrics.render(&mut out);
    state.pages.render_metrics(&mut out);
    state.rendered.render_metrics(&mut out);
    state.store.render_metrics(&mut out);
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `GET /openapi.json`: the contract, generated from the route table.
pub async fn openapi_json() -> Response {
    axum::Json(openapi::document()).into_response()
}

/// `GET /`: what this server is and where to go. A browser (asking for HTML) gets a page; any
/// other client the same as JSON in the success envelope.
pub async fn index(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        // A browser goes to the web app; its sign-in page says what this page used to.
        return axum::response::Redirect::to("/app/").into_response();
    }
    axum::Json(serde_json::json!({
        "success": true,
        "data": {
            "name": "pipestack",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A server that speaks Pipedrive's API (v1 and v2) over one durable store",
            "base_urls": {"v1": "/v1", "api_v1": "/api/v1", "api_v2": "/api/v2"},
            "docs": "/docs",
            "openapi": "/openapi.json",
            "admin_api": state.toolkit.is_some().then_some("/_pipestack/"),
            "token": "Send an API token as the x-api-token header or the api_token query \
                parameter. The first start prints the admin's; `pipestack users token ID` \
                makes a new one.",
        },
    }))
    .into_response()
}

/// `GET /docs`: a page that renders `/openapi.json` in the browser, with no outside resources.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
