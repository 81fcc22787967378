//! The embedded SQLite backend: WAL with `synchronous=FULL`, one writer thread doing group
//! commit (`writer`), a pool of read connections that never wait behind it, and an FTS5
//! trigram index for person search (`fts`). Every statement comes from the SQL core.

mod db;
mod fts;
mod writer;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

pub use db::SqliteDb;
use db::db_error;
use writer::{Completion, Job};

use super::sql::migrations::{self, Engine};
use super::sql::{Backend, BoxFuture, Db};
use crate::domain::ports::StoreError;
use crate::metrics::{BATCH_BOUNDS, Histogram};

/// The writer's page cache for a server: enough for the hot index pages, within the RSS budget.
const WRITER_CACHE_KIB: u32 = 32 * 1024;
/// How many idle read connections are kept.
const MAX_IDLE_READERS: usize = 16;

pub struct Sqlite {
    jobs: mpsc::Sender<Job>,
    readers: Arc<ReadPool>,
    /// Writes per group-commit transaction.
    batch_sizes: Arc<Histogram>,
    /// Dropped with the store, which ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
}

struct ReadPool {
    target: Target,
    idle: Mutex<Vec<SqliteDb>>,
}

#[derive(Clone)]
enum Target {
    File(String),
    Memory(String),
}

impl Target {
    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = match self {
            Target::File(path) => Connection::open(path),
            Target::Memory(uri) => Connection::open_with_flags(
                uri,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
        .map_err(db_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_error)?;
        // Every query shape the store uses stays prepared (the default keeps 16).
        conn.set_prepared_statement_cache_capacity(256);
        // Plans must not depend on bound values: otherwise SQLite marks a statement with
        // `LIMIT ?` (every list) expired whenever that value is bound again, and re-prepares
        // it on every run, which cost a list page ~10% of its time in parsing.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(db_error)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(db_error)?;
        Ok(conn)
    }
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&SqliteDb) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let db = match idle {
            Some(db) => db,
            None => {
                let conn = self.target.connect()?;
                conn.execute_batch("PRAGMA query_only = ON;")
                    .map_err(db_error)?;
                SqliteDb::new(conn)
            }
        };
        let result = f(&db);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(db);
        }
        result
    }
}

/// Runs an operation of the SQL core to completion on this thread: on SQLite every statement
/// is done when first polled, so it never waits.
fn run_now<T>(op: BoxFuture<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut op = pin!(op);
    match op.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Internal(
            "a SQLite operation waited, which it cannot".into(),
        )),
    }
}

impl Sqlite {
    /// Opens (creating if needed) a database file and applies pending migrations.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        Self::open_tuned(path, WRITER_CACHE_KIB)
    }

    /// Like [`open`](Self::open), with the writer's page cache in KiB: bulk loads insert into
    /// many index pages at random places and go several times faster with a large cache.
    pub fn open_tuned(path: &str, writer_cache_kib: u32) -> Result<Self, StoreError> {
        let target = Target::File(path.to_owned());
        let conn = target.connect()?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA cache_size = -{writer_cache_kib}; PRAGMA temp_store = MEMORY;"
        ))
        .map_err(db_error)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(db_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(format!(
                "{path}: could not switch to WAL (journal_mode is {mode})"
            )));
        }
        Self::start(conn, target)
    }

    /// An ephemeral database that lives in memory while the process runs.
    pub fn open_memory() -> Result<Self, StoreError> {
        let name =
            crate::domain::random_hex40().map_err(|e| StoreError::Internal(e.to_string()))?;
        let target = Target::Memory(format!("file:/pipestack-{name}?vfs=memdb"));
        let conn = target.connect()?;
        Self::start(conn, target)
    }

    fn start(conn: Connection, target: Target) -> Result<Self, StoreError> {
        let db = SqliteDb::new(conn);
        migrate(&db)?;
        let (stop_checkpoints, stopped) = mpsc::channel::<()>();
        if let Target::File(_) = &target {
            let checkpointer = target.connect()?;
            std::thread::Builder::new()
                .name("pipestack-checkpoint".into())
                .spawn(move || checkpoint_loop(checkpointer, stopped))
                .map_err(|e| StoreError::Internal(format!("cannot start the checkpointer: {e}")))?;
        }
        let (jobs, rx) = mpsc::channel::<Job>();
        let batch_sizes = Arc::new(Histogram::new(BATCH_BOUNDS));
        let sizes = batch_sizes.clone();
        std::thread::Builder::new()
            .name("pipestack-writer".into())
            .spawn(move || writer::run(db, rx, &sizes))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs,
            readers: Arc::new(ReadPool {
                target,
                idle: Mutex::new(Vec::new()),
            }),
            batch_sizes,
            _stop_checkpoints: stop_checkpoints,
        })
    }
}

impl Backend for Sqlite {
    type Db = SqliteDb;

    /// Runs on the calling thread with a pooled connection. Reads are indexed and short (tens
    /// of microseconds), far cheaper than a hop to a blocking thread and back, which measured
    /// as most of a request's CPU; WAL means they never wait for the writer.
    fn read<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d SqliteDb) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        let readers = self.readers.clone();
        async move { readers.with(|db| run_now(op(db))) }
    }

    /// Runs `op` in the writer's next batch; resolves once that batch is committed.
    fn write<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d SqliteDb) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            let result = run_now(op(db));
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit_error| {
                let outcome = match (result, commit_error) {
                    (Ok(v), None) => Ok(v),
                    (Ok(_), Some(e)) => Err(e.clone()),
                    (Err(e), _) => Err(e),
                };
                let _ = tx.send(outcome);
            });
            (ok, completion)
        });
        let sent = self.jobs.send(job);
        async move {
            sent.map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
            // A dropped reply means the write never ran or was rolled back: nothing was stored.
            rx.await.map_err(|_| {
                StoreError::Unavailable("the write was not committed; try again".into())
            })?
        }
    }

    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        let readers = self.readers.clone();
        async move {
            readers.with(|db| {
                db.conn()?
                    .query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(db_error)
            })
        }
    }

    fn render_metrics(&self, out: &mut String) {
        out.push_str("# HELP pipestack_store_commit_batch_size Writes committed together in one SQLite transaction (group commit).\n");
        out.push_str("# TYPE pipestack_store_commit_batch_size histogram\n");
        self.batch_sizes
            .render(out, "pipestack_store_commit_batch_size", "");
    }
}

/// Copies committed WAL frames into the database file every 50 ms beside the writer (PASSIVE:
/// it never blocks the writer or readers), so that the writer's own automatic checkpoint,
/// which stalls commits while it runs and is what lets the WAL start over, finds little left
/// to do. Ends when the store is dropped.
fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(std::time::Duration::from_millis(50))
    {
        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::debug!(error = %e, "background checkpoint failed; will retry");
        }
    }
}

/// Applies pending migrations in one transaction.
fn migrate(db: &SqliteDb) -> Result<(), StoreError> {
    run_now(Box::pin(db.batch("BEGIN IMMEDIATE")))?;
    let applied = run_now(Box::pin(migrations::apply(db, Engine::Sqlite)));
    let end = if applied.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    run_now(Box::pin(db.batch(end)))?;
    applied
}
