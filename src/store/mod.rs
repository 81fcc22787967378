//! Storage: the domain's storage traits ([`crate::domain::ports`]) implemented once over a SQL
//! core, on SQLite or PostgreSQL.
//!
//! - [`sql`]: the one SQL core: arguments, the query builder, the row trait both drivers'
//!   rows implement, the [`sql::Db`] and [`sql::Backend`] traits an engine implements, what
//!   the engines' SQL differs in ([`sql::Dialect`]), and a module per entity with its column
//!   list, row mapper and statements.
//! - [`sql_store`]: [`SqlStore`], the domain's traits over any backend, with [`cached`] in
//!   front (one set of invalidation rules).
//! - [`sqlite`]: the embedded engine (group-commit writer, read pool, FTS5 search index).
//! - [`postgres`]: the engine to scale out on (pool, transactions, one-statement inserts,
//!   pg_trgm search).
//!
//! The backend is chosen at start-up from the database URL's scheme ([`open`]).

pub mod cached;
pub mod postgres;
pub mod sql;
pub mod sql_store;
pub mod sqlite;

use std::sync::Arc;

pub use crate::domain::ports::{Store, StoreError};
pub use sql_store::SqlStore;

/// Settings of a database connection that only some backends use.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// PostgreSQL: connections kept by each instance.
    pub pool_size: usize,
    /// PostgreSQL: the longest a statement may run before it is cancelled (and the request
    /// answered 503).
    pub statement_timeout_ms: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            statement_timeout_ms: 5_000,
        }
    }
}

/// The file a `sqlite://FILE[?mode=…]` URL names (`None` for another scheme). `mode=rwc`, the
/// default, creates the file when it is missing; `mode=rw` opens an existing one only.
pub fn sqlite_file(url: &str) -> Option<Result<&str, StoreError>> {
    let rest = url.strip_prefix("sqlite://")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Some(Err(StoreError::Internal(
            "sqlite:// URL names no file (try sqlite://pipestack.db)".into(),
        )));
    }
    for option in query.split('&').filter(|o| !o.is_empty()) {
        let refused = match option {
            "mode=rwc" => continue,
            "mode=rw" if std::path::Path::new(path).exists() => continue,
            "mode=rw" => format!("{path} does not exist (mode=rw opens an existing database only)"),
            "mode=ro" => format!(
                "{url}: pipestack cannot serve a read-only database (it writes migrations, \
                 logins and webhook deliveries); serve a copy of the file instead"
            ),
            other => format!(
                "unknown option {other:?} in the sqlite:// URL (known: mode=rwc, the default, and mode=rw)"
            ),
        };
        return Some(Err(StoreError::Internal(refused)));
    }
    Some(Ok(path))
}

/// Opens a store for a bulk load: like [`open`], with a large writer cache for SQLite.
pub async fn open_for_bulk(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = sqlite_file(url) {
        let backend = sqlite::Sqlite::open_tuned(path?, 512 * 1024)?;
        return Ok(Arc::new(SqlStore::new(backend)));
    }
    open(url).await
}

/// Opens the store a database URL names: `sqlite://path` (created if missing),
/// `sqlite::memory:`, or `postgres://…`, with default [`StoreOptions`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &StoreOptions::default()).await
}

/// Like [`open`], with explicit options.
pub async fn open_with(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url == "sqlite::memory:" {
        return Ok(Arc::new(SqlStore::new(sqlite::Sqlite::open_memory()?)));
    }
    if let Some(path) = sqlite_file(url) {
        return Ok(Arc::new(SqlStore::new(sqlite::Sqlite::open(path?)?)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let backend = postgres::Postgres::open(url, options).await?;
        return Ok(Arc::new(SqlStore::new(backend)));
    }
    Err(StoreError::Internal(format!(
        "unsupported database URL {url:?}: use sqlite://FILE, postgres://USER:PASSWORD@HOST/DATABASE or --memory"
    )))
}
