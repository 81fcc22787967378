//! The PostgreSQL backend: the same store over one shared database, so that several pipestack
//! instances can run behind a load balancer. Every write is one transaction, acknowledged
//! after COMMIT (PostgreSQL groups concurrent commits into one WAL flush itself). Substring
//! search uses pg_trgm indexes; migrations run under an advisory lock, so instances starting
//! together migrate once. Every statement comes from the SQL core, but for the one-statement
//! person insert (`fast`) and the pg_trgm search conditions (`trgm`).

mod db;
mod fast;
mod tls;
mod trgm;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use db::PgDb;
use db::pg_error;

use super::StoreOptions;
use super::sql::migrations::{self, Engine};
use super::sql::{Backend, BoxFuture, Db, sql};
use crate::domain::ports::StoreError;

/// The advisory lock key under which migrations run (any constant shared by all instances).
const MIGRATION_LOCK: i64 = 0x7069_7065_7374_6163;
/// Prepared statements kept per pooled connection.
const MAX_CACHED_STATEMENTS: usize = 512;

pub struct Postgres {
    pool: Pool,
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    // The causes say what went wrong (a refused password, a certificate not valid for the
    // host): the pool's own message only that it could not connect.
    let mut message = format!("no database connection: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = c.source();
    }
    StoreError::Unavailable(message)
}

impl Postgres {
    /// Connects to `url`, applies pending migrations under an advisory lock (instances
    /// starting together migrate once), and keeps a pool of `pool_size` connections.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let settings = tls::read_url(url)?;
        let mut config: tokio_postgres::Config = settings
            .url
            .parse()
            .map_err(|e| StoreError::Internal(format!("bad PostgreSQL URL: {e}")))?;
        config.options(format!(
            "-c statement_timeout={}",
            options.statement_timeout_ms
        ));
        config.connect_timeout(std::time::Duration::from_millis(
            options.statement_timeout_ms,
        ));
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
            Manager::from_config(config, NoTls, manager_config)
        } else {
            Manager::from_config(config, tls::connector(&settings)?, manager_config)
        };
        let wait = std::time::Duration::from_millis(options.statement_timeout_ms);
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Internal(format!("cannot build the pool: {e}")))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations in one transaction, under an advisory lock.
    async fn migrate(&self) -> Result<(), StoreError> {
        self.write(|db| {
            Box::pin(async move {
                db.execute(sql!("SELECT pg_advisory_xact_lock(?)", MIGRATION_LOCK))
                    .await?;
                migrations::apply(db, Engine::Postgres).await
            })
        })
        .await
    }
}

/// A pooled connection. Filters and sort orders make many statement shapes: a connection that
/// has gathered more than a bound starts its cache over (PostgreSQL frees the dropped ones).
async fn connect(pool: &Pool) -> Result<PgDb, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    if client.statement_cache.size() > MAX_CACHED_STATEMENTS {
        client.statement_cache.clear();
    }
    Ok(PgDb::new(client))
}

/// How many times a write that lost a deadlock is run in all.
const WRITE_ATTEMPTS: u32 = 3;

/// Runs `op` in one transaction on a connection of `pool`, committing what it wrote.
async fn transaction<T, F>(pool: &Pool, op: F) -> Result<T, StoreError>
where
    F: for<'d> FnOnce(&'d PgDb) -> BoxFuture<'d, Result<T, StoreError>>,
{
    let mut db = connect(pool).await?;
    db.in_transaction = true;
    db.batch("BEGIN").await?;
    match op(&db).await {
        Ok(v) => {
            let committed = db.batch("COMMIT").await;
            // Only a transaction that ended cleanly leaves a connection fit to reuse.
            db.in_transaction = committed.is_err();
            committed.map(|()| v)
        }
        Err(e) => {
            db.in_transaction = db.batch("ROLLBACK").await.is_err();
            Err(e)
        }
    }
}

impl Backend for Postgres {
    type Db = PgDb;

    async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d PgDb) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        let db = connect(&self.pool).await?;
        op(&db).await
    }

    async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d PgDb) -> BoxFuture<'d, Result<T, StoreError>>
            + Clone
            + Send
            + 'static,
    {
        // A transaction PostgreSQL chose as a deadlock's victim wrote nothing: it runs again
        // (a reset of a company while its webhooks' deliveries finish locks rows of theirs in
        // an order no single order serves), and only the last attempt's error is answered.
        let mut attempt = 1;
        loop {
            match transaction(&self.pool, op.clone()).await {
                Err(StoreError::Contended(_)) if attempt < WRITE_ATTEMPTS => attempt += 1,
                done => return done,
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let db = connect(&self.pool).await?;
        db.client()?
            .simple_query("SELECT 1")
            .await
            .map_err(pg_error)?;
        Ok(())
    }
}
