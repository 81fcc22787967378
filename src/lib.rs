//! pipestack: a durable, multi-tenant server that speaks Pipedrive's persons API.
//!
//! Integration developers point their Pipedrive client at it instead of a hand-written mock;
//! teams keep their contacts in it. Every write is on disk before it is acknowledged.
//!
//! # Layout
//!
//! - [`config`]: the command line (clap, with `PIPESTACK_*` environment fallbacks).
//! - [`error`]: [`error::ApiError`], the HTTP edge's error, rendered as Pipedrive's envelope
//!   (converted from the domain's own [`domain::DomainError`]).
//! - [`domain`]: companies, users, persons, organizations, deals, activities, notes and every
//!   rule about them, once (the summary fields they show in [`domain::summary`]);
//!   [`domain::ports`]: the storage traits the domain needs, one per concern.
//! - [`store`]: those traits implemented once ([`store::SqlStore`], with a short-lived cache of
//!   sessions, users and fields) over one SQL core (`store::sql`: a module per entity with its
//!   columns, row mapper and statements), on two thin engines: SQLite (WAL, group commit, FTS5
//!   trigram search) and PostgreSQL (pool, one-statement inserts, pg_trgm).
//! - [`api`]: the route table, authentication, extractors, request bodies, the OpenAPI
//!   document, and the two dialects (`api::v1`, `api::v2`), which only parse requests into
//!   domain commands and render results; `api::admin`, the admin API for tests (reset,
//!   snapshots, request journal, faults, clock, fixtures).
//! - [`setup`]: first-start bootstrap (a company, its admin and an API token).
//! - [`import`]: the bulk loader behind `pipestack import`.
//! - [`migrate`]: `pipestack migrate`, a whole SQLite store copied into PostgreSQL.
//! - [`server`]: the HTTP/1.1 accept loop (connection cap, header and idle timeouts, drain).
//! - [`metrics`]: the counters and histograms behind `GET /metrics`.
//! - [`webhooks`]: the dispatcher delivering the outbox's events to webhooks, in the
//!   background, with Pipedrive's retries and bans.
//! - [`fuzzing`]: the request parsers' fuzz entry points (for `fuzz/` and its regression test).

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod fuzzing;
pub mod import;
pub mod metrics;
pub mod migrate;
pub mod server;
pub mod setup;
pub mod store;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use api::{AppState, router};

/// Serves the API on `listener` with the default limits and no rate limits until `shutdown`
/// resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn store::Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_state(listener, AppState::new(store), shutdown).await
}

/// Serves the API with the limits, rate limiter and metrics of `state`.
pub async fn serve_state(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let dispatcher = webhooks::spawn(state.store.clone(), state.webhooks.clone());
    let served = server::run(listener, router(state), &limits, shutdown).await;
    dispatcher.abort();
    served
}
