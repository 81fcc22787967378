//! The admin API for tests (`serve --admin-api`), under `/_pipestack/`: a company reset to its
//! first-start state, snapshots of its data, the journal of its requests, injected faults, its
//! clock, and fixtures. Off by default; when on, it takes an admin user's token and acts on that
//! user's company only. Every answer is in Pipedrive's envelope.
//!
//! Reset, snapshots and the clock are stored like the rest (durable, shared by every instance
//! on one PostgreSQL); the journal and the faults live in this process's memory.

pub mod faults;
pub mod fixtures;
pub mod journal;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body as HttpBody;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::envelope::success;
use super::extract::Caller;
use super::parse::QueryParams;
use super::{ApiResult, AppState, CloseConnection};
use crate::domain::ports::Restore;
use crate::domain::time::real_ms;
use crate::domain::{Clock, Session, Timestamp};
use crate::error::ApiError;
use faults::{Fault, Faults};
use fixtures::Fixtures;
use journal::{Entry, Filter, Journal};

/// Whether a path is the admin API's own.
pub fn is_admin_path(path: &str) -> bool {
    path == "/_pipestack" || path.starts_with("/_pipestack/")
}

/// How the admin API is configured (`--admin-api`, `--journal-size`, `--fixtures`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Entries the journal keeps per company.
    pub journal_size: usize,
    pub fixtures: Option<Arc<Fixtures>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            journal_size: 1000,
            fixtures: None,
        }
    }
}

/// The admin API's state in this process.
pub struct Toolkit {
    pub journal: Journal,
    pub faults: Faults,
    pub fixtures: Option<Arc<Fixtures>>,
}

impl Toolkit {
    pub fn new(config: Config) -> Self {
        Self {
            journal: Journal::new(config.journal_size),
            faults: Faults::default(),
            fixtures: config.fixtures,
        }
    }

    /// Serves an API request of `session`'s company through `inner`: a fault that matches it
    /// acts first (a delay, an answer of its own, or a closed connection); the request and its
    /// answer then go into the journal.
    pub async fn around<F, Fut>(
        &self,
        state: &AppState,
        session: &Session,
        req: Request,
        inner: F,
    ) -> Response
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = Response>,
    {
        let start = Instant::now();
        let time = Timestamp::rfc3339_ms(real_ms());
        let company_id = session.company.id;
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned());
        let query = req.uri().query().map(journal::redact);
        let (parts, body) = req.into_parts();
        let (bytes, fault, response) = match super::payload::read_whole(body, &state.limits).await {
            Err(e) => (Vec::new(), None, e.into_response()),
            Ok(bytes) => {
                let fault =
                    self.faults
                        .take(company_id, &method, &path, route.as_deref(), faults::roll());
                let response = match &fault {
                    Some(f) => {
                        if f.delay_ms > 0 {
                            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
                        }
                        match f.status {
                            _ if f.close_connection => closed(f.id),
                            Some(status) => answer(f, status),
                            None => {
                                let req = Request::from_parts(parts, HttpBody::from(bytes.clone()));
                                let mut response = inner(req).await;
                                response
                                    .headers_mut()
                                    .insert("x-pipestack-fault", HeaderValue::from(f.id));
                                response
                            }
                        }
                    }
                    None => {
                        let req = Request::from_parts(parts, HttpBody::from(bytes.clone()));
                        inner(req).await
                    }
                };
                (bytes, fault, response)
            }
        };
        let (parts, body) = response.into_parts();
        let out = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let (request_body, request_body_truncated) = journal::request_body(&bytes);
        let (response_body, response_body_truncated) = journal::body(&out);
        let closed = parts.extensions.get::<CloseConnection>().is_some();
        self.journal.record(
            company_id,
            Entry {
                id: self.journal.next_id(),
                time,
                user_id: session.user.id,
                method,
                path,
                route,
                query,
                request_body,
                request_body_truncated,
                status: (!closed).then_some(parts.status.as_u16()),
                response_body: if closed { Value::Null } else { response_body },
                response_body_truncated,
                duration_ms: start.elapsed().as_secs_f64() * 1000.0,
                fault_id: fault.map(|f| f.id),
            },
        );
        Response::from_parts(parts, HttpBody::from(out))
    }
}

/// A fault's own answer: its body, or Pipedrive's envelope for its status.
fn answer(f: &Fault, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(Value::String(text)) = &f.body {
        let mut response = (status, text.clone()).into_response();
        response
            .headers_mut()
            .insert("x-pipestack-fault", HeaderValue::from(f.id));
        return response;
    }
    let body = f.body.clone().unwrap_or_else(|| {
        if status.is_success() {
            json!({"success": true, "data": null})
        } else {
            json!({
                "success": false,
                "error": format!("Injected fault {} (pipestack admin API)", f.id),
                "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.",
                "data": null,
                "additional_data": null,
            })
        }
    });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("x-pipestack-fault", HeaderValue::from(f.id));
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

/// A response the server answers by closing the connection (a 500 where nothing can close it).
fn closed(fault_id: u64) -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(CloseConnection);
    response
        .headers_mut()
        .insert("x-pipestack-fault", HeaderValue::from(fault_id));
    response
}

/// The admin API's routes, behind an admin token.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/_pipestack", get(index))
        .route("/_pipestack/", get(index))
        .route("/_pipestack/reset", post(reset))
        .route(
            "/_pipestack/snapshots",
            get(list_snapshots).post(save_snapshot),
        )
        .route("/_pipestack/snapshots/{name}", delete(delete_snapshot))
        .route(
            "/_pipestack/snapshots/{name}/restore",
            post(restore_snapshot),
        )
        .route(
            "/_pipestack/requests",
            get(list_requests).delete(clear_requests),
        )
        .route(
            "/_pipestack/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_pipestack/faults/{id}", delete(delete_fault))
        .route(
            "/_pipestack/clock",
            get(get_clock).put(set_clock).delete(reset_clock),
        )
        .route_layer(middleware::from_fn_with_state(state, authenticate))
}

/// What `GET /_pipestack/` lists.
const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("GET", "/_pipestack/", "this index"),
    (
        "POST",
        "/_pipestack/reset",
        "the company back to its first-start state (users kept; journal, faults and clock cleared; fixtures applied to the first company)",
    ),
    ("GET", "/_pipestack/snapshots", "the company's snapshots"),
    (
        "POST",
        "/_pipestack/snapshots",
        "save the company's data as {\"name\": …} (replaces one of that name)",
    ),
    (
        "POST",
        "/_pipestack/snapshots/{name}/restore",
        "put the company's data back as the snapshot has it",
    ),
    (
        "DELETE",
        "/_pipestack/snapshots/{name}",
        "delete a snapshot",
    ),
    (
        "GET",
        "/_pipestack/requests",
        "the journal, newest first (limit, method, path prefix, status)",
    ),
    ("DELETE", "/_pipestack/requests", "empty the journal"),
    ("GET", "/_pipestack/faults", "the injected faults"),
    (
        "POST",
        "/_pipestack/faults",
        "inject a fault: method, path, status, body, delay_ms, times, probability, close_connection",
    ),
    ("DELETE", "/_pipestack/faults", "delete every fault"),
    ("DELETE", "/_pipestack/faults/{id}", "delete a fault"),
    ("GET", "/_pipestack/clock", "the company's clock"),
    (
        "PUT",
        "/_pipestack/clock",
        "set it: {\"time\": RFC 3339} or {\"offset_seconds\": N}, with \"frozen\": true to stop it",
    ),
    ("DELETE", "/_pipestack/clock", "back to real time"),
];

/// Admin tokens only; the session goes to the handlers as on the API's routes.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let session = match super::auth::session_of(&state, super::auth::token(&req)).await {
        Ok(session) => session,
        Err(e) => return e.into_response(),
    };
    if !session.user.is_admin {
        return ApiError::Forbidden("The admin API takes an admin user's API token".into())
            .into_response();
    }
    req.extensions_mut().insert::<Arc<Session>>(session);
    next.run(req).await
}

/// An admin request's JSON body, whatever its declared type (`curl -d` sends a form's), within
/// the usual limits; empty reads as `null`.
struct Body(Value);

impl axum::extract::FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = super::payload::read_whole(req.into_body(), &state.limits).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Value::Null));
        }
        super::json::parse(&bytes, state.limits.max_json_depth)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))
    }
}

fn toolkit(state: &AppState) -> Result<&Toolkit, ApiError> {
    state
        .toolkit
        .as_deref()
        .ok_or_else(|| ApiError::NotFound("The admin API is off".into()))
}

fn ok(data: Value) -> ApiResult {
    Ok(success(StatusCode::OK, data, None, None))
}

async fn index(State(state): State<AppState>, Caller { session, store }: Caller) -> ApiResult {
    let t = toolkit(&state)?;
    let company_id = session.company.id;
    let snapshots = store.snapshots(company_id).await?;
    let first = store.companies().await?.first().map(|c| c.id);
    ok(json!({
        "company_id": company_id,
        "user_id": session.user.id,
        "endpoints": ENDPOINTS.iter().map(|(m, p, s)| json!({"method": m, "path": p, "summary": s})).collect::<Vec<_>>(),
        "journal": {"size": t.journal.size(), "entries": t.journal.count(company_id)},
        "faults": t.faults.list(company_id),
        "snapshots": snapshots.iter().map(render_snapshot).collect::<Vec<_>>(),
        "clock": render_clock(session.company.clock),
        "fixtures": t.fixtures.as_ref().map(|f| json!({
            "file": f.file,
            "applied_to_company_id": first,
            "counts": f.counts(),
        })),
    }))
}

/// `POST /_pipestack/reset`.
async fn reset(State(state): State<AppState>, Caller { session, store }: Caller) -> ApiResult {
    let t = toolkit(&state)?;
    let start = Instant::now();
    let company_id = session.company.id;
    store
        .reset_company(company_id, crate::setup::defaults(), Timestamp::now())
        .await?;
    t.journal.clear(company_id);
    t.faults.delete(company_id, None);
    let mut applied = None;
    if let Some(f) = &t.fixtures
        && store.companies().await?.first().map(|c| c.id) == Some(company_id)
    {
        let company = store
            .company(company_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("The company is gone".into()))?;
        let session = Arc::new(Session {
            company,
            ..Session::clone(&session)
        });
        f.apply(&store, &session).await?;
        applied = Some(f.counts());
    }
    ok(json!({
        "company_id": company_id,
        "fixtures": applied,
        "took_ms": start.elapsed().as_secs_f64() * 1000.0,
    }))
}

fn render_snapshot(s: &crate::domain::ports::SnapshotInfo) -> Value {
    json!({"name": s.name, "add_time": s.add_time.rfc3339(), "size_bytes": s.size_bytes})
}

/// A snapshot's name: what a path segment carries without escaping.
fn snapshot_name(name: &str) -> Result<&str, ApiError> {
    if name.is_empty()
        || name.len() > 100
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(ApiError::invalid(
            "name",
            "must be 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit",
        ));
    }
    Ok(name)
}

async fn save_snapshot(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    Body(body): Body,
) -> ApiResult {
    toolkit(&state)?;
    let name = match body.get("name") {
        Some(Value::String(n)) => snapshot_name(n)?,
        None | Some(Value::Null) => return Err(ApiError::invalid("name", "is required")),
        Some(_) => return Err(ApiError::invalid("name", "must be a string")),
    };
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "name"))
    {
        return Err(ApiError::invalid(
            k,
            "is not a snapshot's field (only name)",
        ));
    }
    let info = store
        .save_snapshot(session.company.id, name, Timestamp::now())
        .await?;
    Ok(success(
        StatusCode::CREATED,
        render_snapshot(&info),
        None,
        None,
    ))
}

async fn list_snapshots(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
) -> ApiResult {
    toolkit(&state)?;
    let list = store.snapshots(session.company.id).await?;
    ok(list.iter().map(render_snapshot).collect())
}

async fn restore_snapshot(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    Path(name): Path<String>,
) -> ApiResult {
    toolkit(&state)?;
    let name = snapshot_name(&name)?;
    match store.restore_snapshot(session.company.id, name).await? {
        Restore::Done => ok(json!({"name": name, "restored": true})),
        Restore::NotFound => Err(ApiError::NotFound(format!("Snapshot {name:?} not found"))),
        Restore::Stale { schema } => Err(ApiError::Conflict(format!(
            "Snapshot {name:?} was taken at schema version {schema}, before an upgrade: take it again"
        ))),
    }
}

async fn delete_snapshot(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    Path(name): Path<String>,
) -> ApiResult {
    toolkit(&state)?;
    let name = snapshot_name(&name)?;
    if store.delete_snapshot(session.company.id, name).await? {
        ok(json!({"name": name, "deleted": true}))
    } else {
        Err(ApiError::NotFound(format!("Snapshot {name:?} not found")))
    }
}

async fn list_requests(
    State(state): State<AppState>,
    Caller { session, .. }: Caller,
    query: QueryParams,
) -> ApiResult {
    let t = toolkit(&state)?;
    let limit = match query.int("limit")? {
        None => 100,
        Some(n) if (1..=10_000).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid("limit", "must be from 1 to 10000")),
    };
    let status = match query.int("status")? {
        None => None,
        Some(s @ 100..=599) => Some(s as u16),
        Some(_) => return Err(ApiError::invalid("status", "must be an HTTP status")),
    };
    let filter = Filter {
        limit,
        method: query.str("method").map(str::to_owned),
        path: query.str("path").map(str::to_owned),
        status,
    };
    let entries = t.journal.list(session.company.id, &filter);
    let entries: Vec<&Entry> = entries.iter().map(|e| e.as_ref()).collect();
    Ok(success(
        StatusCode::OK,
        entries,
        Some(json!({"journal_size": t.journal.size()})),
        None,
    ))
}

async fn clear_requests(
    State(state): State<AppState>,
    Caller { session, .. }: Caller,
) -> ApiResult {
    let t = toolkit(&state)?;
    let n = t.journal.clear(session.company.id);
    ok(json!({"deleted": n}))
}

async fn list_faults(State(state): State<AppState>, Caller { session, .. }: Caller) -> ApiResult {
    let t = toolkit(&state)?;
    ok(json!(t.faults.list(session.company.id)))
}

async fn add_fault(
    State(state): State<AppState>,
    Caller { session, .. }: Caller,
    Body(body): Body,
) -> ApiResult {
    let t = toolkit(&state)?;
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request(
            "Malformed request body: expected a JSON object",
        ));
    };
    let fault = t.faults.add(session.company.id, Fault::parse(&body)?);
    Ok(success(StatusCode::CREATED, fault, None, None))
}

async fn clear_faults(State(state): State<AppState>, Caller { session, .. }: Caller) -> ApiResult {
    let t = toolkit(&state)?;
    ok(json!({"deleted": t.faults.delete(session.company.id, None)}))
}

async fn delete_fault(
    State(state): State<AppState>,
    Caller { session, .. }: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let t = toolkit(&state)?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::invalid("id", "must be a fault's id (a whole number)"))?;
    match t.faults.delete(session.company.id, Some(id)) {
        0 => Err(ApiError::NotFound(format!("Fault {id} not found"))),
        _ => ok(json!({"id": id, "deleted": true})),
    }
}

fn render_clock(clock: Clock) -> Value {
    json!({
        "now": Timestamp::rfc3339_ms(clock.now_ms()),
        "real_time": clock.is_real(),
        "offset_seconds": clock.offset_ms as f64 / 1000.0,
        "frozen": clock.frozen_ms.is_some(),
    })
}

/// The longest a clock may be moved, either way: a century.
const MAX_OFFSET_MS: i64 = 100 * 366 * 86_400 * 1000;

/// A clock from `PUT /_pipestack/clock`'s body.
fn clock_from(body: &Value) -> Result<Clock, ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request(
            "Send {\"time\": RFC 3339} or {\"offset_seconds\": N}, with \"frozen\": true to stop the clock",
        ));
    };
    if let Some(k) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "time" | "offset_seconds" | "frozen"))
    {
        return Err(ApiError::invalid(
            k,
            "is not a clock's field (time, offset_seconds, frozen)",
        ));
    }
    let frozen = match body.get("frozen") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::invalid("frozen", "must be true or false")),
    };
    let real = real_ms();
    let target = match (body.get("time"), body.get("offset_seconds")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Give time or offset_seconds, not both",
            ));
        }
        (Some(Value::String(t)), None) => {
            let at = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    ApiError::invalid(
                        "time",
                        "must be an RFC 3339 time such as 2025-01-31T09:00:00Z",
                    )
                })?;
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
        }
        (Some(_), None) => return Err(ApiError::invalid("time", "must be an RFC 3339 string")),
        (None, Some(v)) => {
            let seconds = v
                .as_f64()
                .ok_or_else(|| ApiError::invalid("offset_seconds", "must be a number"))?;
            let offset = (seconds * 1000.0).round();
            if offset.abs() > MAX_OFFSET_MS as f64 {
                return Err(ApiError::invalid(
                    "offset_seconds",
                    "must be within a century either way",
                ));
            }
            real.saturating_add(offset as i64)
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "Give time (RFC 3339) or offset_seconds",
            ));
        }
    };
    // A year later than 9999 cannot be written as Pipedrive's times are (a running clock is
    // held at the end of 9999 by `Clock::now_ms`).
    if !(0..=Clock::LAST_MS).contains(&target) {
        let field = if body.contains_key("time") {
            "time"
        } else {
            "offset_seconds"
        };
        return Err(ApiError::invalid(
            field,
            "must bring the clock between 1970 and 9999",
        ));
    }
    Ok(Clock {
        offset_ms: target - real,
        frozen_ms: frozen.then_some(target),
    })
}

async fn get_clock(State(state): State<AppState>, Caller { session, .. }: Caller) -> ApiResult {
    toolkit(&state)?;
    ok(render_clock(session.company.clock))
}

async fn set_clock(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
    Body(body): Body,
) -> ApiResult {
    toolkit(&state)?;
    let clock = clock_from(&body)?;
    store.set_clock(session.company.id, clock).await?;
    ok(render_clock(clock))
}

async fn reset_clock(
    State(state): State<AppState>,
    Caller { session, store }: Caller,
) -> ApiResult {
    toolkit(&state)?;
    store.set_clock(session.company.id, Clock::REAL).await?;
    ok(render_clock(Clock::REAL))
}
