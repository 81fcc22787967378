//! The embedded SQLite backend: WAL with `synchronous=FULL`, one writer thread doing group
//! commit (`writer`), a pool of read connections that never wait behind it, and an FTS5
//! trigram index for person search (`fts`), over the platform's files with the WAL's writes
//! gathered a commit at a time (`vfs`) and SQLite's page cache spared a scan per commit
//! (`pcache`). Every statement comes from the SQL core.

mod db;
mod fts;
mod pcache;
mod snapshot;
mod vfs;
mod writer;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, MAIN_DB, OpenFlags};
use tokio::sync::oneshot;

pub use db::SqliteDb;
use db::db_error;
use writer::Job;

use super::sql::migrations::{self, Engine};
use super::sql::{Backend, BoxFuture, Db};
use crate::domain::ports::{DataVersion, StoreError};
use crate::metrics::{BATCH_BOUNDS, Histogram};

/// Prepares SQLite for this process before anything uses it: its page cache without a scan of
/// every page at each commit (`pcache`). For the start of `main`, while no other thread can
/// use SQLite (its configuration is not thread-safe); whether it was in time. A process that
/// does not call it runs SQLite as it comes.
pub fn prepare() -> bool {
    pcache::install()
}

/// The writer's page cache for a server: enough for the hot index pages, within the RSS budget.
const WRITER_CACHE_KIB: u32 = 32 * 1024;
/// How many idle read connections are kept.
const MAX_IDLE_READERS: usize = 16;
/// How many long reads (searches, deep pages) run at once; more wait their turn. Each holds a
/// blocking thread and a connection with its page cache: unbounded, 32 concurrent searches at
/// a million persons took the server past 200 MB, and ran no faster.
const LONG_READS: usize = 4;

pub struct Sqlite {
    /// `None` once the store is being dropped.
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    long_reads: Arc<tokio::sync::Semaphore>,
    /// The writer thread, joined when the store is dropped: it catches the search index up
    /// before it ends (for a bounded time).
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Arc<ReadPool>,
    /// Writes per group-commit transaction.
    batch_sizes: Arc<Histogram>,
    health: Arc<Health>,
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
            Target::File(path) => {
                vfs::register().map_err(StoreError::Internal)?;
                Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs::NAME)
            }
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
        // A connection a failed read left inside a transaction would serve that snapshot to
        // every later read: it is closed instead.
        let clean = db.conn().is_ok_and(|c| c.is_autocommit());
        if clean
            && let Ok(mut idle) = self.idle.lock()
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
        if conn.is_readonly(MAIN_DB).map_err(db_error)? {
            return Err(StoreError::Unavailable(format!(
                "{path}: this process cannot write the database file; check the permissions of \
                 the file and of its folder (SQLite keeps its -wal and -shm files there)"
            )));
        }
        let health = Arc::new(Health::default());
        check_integrity(&conn, path, &health)?;
        Self::start_with(conn, target, health)
    }

    /// An ephemeral database that lives in memory while the process runs.
    pub fn open_memory() -> Result<Self, StoreError> {
        let name =
            crate::domain::random_hex40().map_err(|e| StoreError::Internal(e.to_string()))?;
        let target = Target::Memory(format!("file:/pipestack-{name}?vfs=memdb"));
        let conn = target.connect()?;
        Self::start_with(conn, target, Arc::new(Health::default()))
    }

    fn start_with(
        conn: Connection,
        target: Target,
        health: Arc<Health>,
    ) -> Result<Self, StoreError> {
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
        let (jobs, rx) = mpsc::channel::<Box<dyn Job>>();
        let batch_sizes = Arc::new(Histogram::new(BATCH_BOUNDS));
        let sizes = batch_sizes.clone();
        let writer_health = health.clone();
        let writer = std::thread::Builder::new()
            .name("pipestack-writer".into())
            .spawn(move || writer::run(db, rx, &sizes, &writer_health))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            long_reads: Arc::new(tokio::sync::Semaphore::new(LONG_READS)),
            writer: Some(writer),
            readers: Arc::new(ReadPool {
                target,
                idle: Mutex::new(Vec::new()),
            }),
            batch_sizes,
            health,
            _stop_checkpoints: stop_checkpoints,
        })
    }
}

impl Drop for Sqlite {
    /// Ends the writer (it finishes the writes it was given and catches the search index up,
    /// for a bounded time) and waits for it, so that a process that ends after the store leaves
    /// nothing behind for the next start.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(writer) = self.writer.take()
            && writer.thread().id() != std::thread::current().id()
            && writer.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// What `/readyz` must know beyond "the file answers a read": whether the last write batch
/// committed, and whether the integrity check found damage.
#[derive(Default)]
pub struct Health {
    problem: Mutex<Option<String>>,
}

impl Health {
    pub fn fail(&self, problem: String) {
        if let Ok(mut p) = self.problem.lock() {
            *p = Some(problem);
        }
    }

    pub fn recover(&self) {
        if let Ok(mut p) = self.problem.lock()
            && p.is_some()
        {
            *p = None;
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        match self.problem.lock().ok().and_then(|p| p.clone()) {
            Some(problem) => Err(StoreError::Unavailable(problem)),
            None => Ok(()),
        }
    }
}

/// Files up to this size are checked before the server starts; larger ones beside it. The
/// check reads every page, about 5 ms a megabyte here: 16 MiB keeps the first answer within
/// 100 ms (at 256 MiB a 175 MB file took 870 ms to answer after a restart).
const CHECK_BEFORE_START_BYTES: u64 = 16 * 1024 * 1024;

/// Runs SQLite's `quick_check`: before starting on a small file (damage refuses the start), in
/// the background on a large one (damage is logged and makes `/readyz` answer 503).
fn check_integrity(conn: &Connection, path: &str, health: &Arc<Health>) -> Result<(), StoreError> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size <= CHECK_BEFORE_START_BYTES {
        return quick_check(conn, path);
    }
    let checker = Target::File(path.to_owned()).connect()?;
    let (health, path) = (health.clone(), path.to_owned());
    std::thread::Builder::new()
        .name("pipestack-check".into())
        .spawn(move || match quick_check(&checker, &path) {
            Ok(()) => tracing::info!(%path, "database check: ok"),
            Err(e) => {
                tracing::error!(error = %e, "database check failed");
                health.fail(e.to_string());
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the database check: {e}")))?;
    Ok(())
}

fn quick_check(conn: &Connection, path: &str) -> Result<(), StoreError> {
    let damaged = |what: String| {
        StoreError::Internal(format!(
            "{path}: the database file is damaged ({what}, from SQLite's quick_check); restore \
             it from a backup"
        ))
    };
    let result: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    if result == "ok" {
        Ok(())
    } else {
        Err(damaged(result))
    }
}

/// A write of [`Sqlite::write`] as the writer runs it: `op`, a copy of it made by the caller
/// for the run again that a failing batch needs (at most one: the writer's thread makes no
/// copies), what the last run gave, and whom to answer.
struct Write<F, T> {
    op: Option<F>,
    again: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<F, T> Job for Write<F, T>
where
    T: Send + 'static,
    F: for<'d> FnOnce(&'d SqliteDb) -> BoxFuture<'d, Result<T, StoreError>> + Send,
{
    fn run(&mut self, db: &SqliteDb) -> bool {
        // Cleared first: a run that panics leaves no outcome of an earlier run behind.
        self.outcome = None;
        let outcome = match self.op.take().or_else(|| self.again.take()) {
            Some(op) => run_now(op(db)),
            None => Err(StoreError::Internal("a write was run a third time".into())),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn answer(self: Box<Self>, commit_error: Option<&StoreError>) {
        let outcome = match (self.outcome, commit_error) {
            (Some(Ok(v)), None) => Ok(v),
            (Some(Ok(_)), Some(e)) => Err(e.clone()),
            (Some(Err(e)), _) => Err(e),
            (None, _) => Err(StoreError::Internal("a write panicked".into())),
        };
        let _ = self.reply.send(outcome);
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

    /// On a blocking thread: SQLite works on the calling thread, and a read of seconds there
    /// would hold up every request that runtime thread serves.
    fn read_long<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d SqliteDb) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        let readers = self.readers.clone();
        let long_reads = self.long_reads.clone();
        async move {
            // The permit goes with the read, not with the request: a read whose client has gone
            // runs on and still counts.
            let turn = long_reads
                .acquire_owned()
                .await
                .map_err(|e| StoreError::Internal(format!("a read failed: {e}")))?;
            tokio::task::spawn_blocking(move || {
                let _turn = turn;
                readers.with(|db| run_now(op(db)))
            })
            .await
            .map_err(|e| StoreError::Internal(format!("a read failed: {e}")))?
        }
    }

    /// Runs `op` in the writer's next batch; resolves once that batch is committed.
    fn write<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d SqliteDb) -> BoxFuture<'d, Result<T, StoreError>>
            + Clone
            + Send
            + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Write {
            again: Some(op.clone()),
            op: Some(op),
            outcome: None,
            reply: tx,
        });
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        async move {
            if !sent {
                return Err(StoreError::Unavailable(
                    "the database writer has stopped".into(),
                ));
            }
            // A dropped reply means the write never ran or was rolled back: nothing was stored.
            rx.await.map_err(|_| {
                StoreError::Unavailable("the write was not committed; try again".into())
            })?
        }
    }

    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        let readers = self.readers.clone();
        let health = self.health.check();
        async move {
            health?;
            readers.with(|db| {
                db.conn()?
                    .query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(db_error)
            })
        }
    }

    /// SQLite's snapshot of the WAL (`snapshot`): one short read transaction.
    fn version(&self) -> impl Future<Output = Result<Option<DataVersion>, StoreError>> + Send {
        let readers = self.readers.clone();
        async move {
            readers.with(|db| {
                let taken = snapshot::current(&*db.conn()?).map_err(db_error)?;
                Ok(taken.map(|bytes| DataVersion(Box::new(bytes))))
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
/// it never blocks the writer or readers), so that the writer's own checkpoint (between
/// batches, `writer::CHECKPOINT_AT`), which is what lets the WAL start over, finds little
/// left to do. Ends when the store is dropped.
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
    let applied = run_now(Box::pin(migrations::apply(db, Engine::Sqlite)))
        .and_then(|()| fts::tune(&*db.conn()?));
    let end = if applied.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    run_now(Box::pin(db.batch(end)))?;
    applied
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::sql::sql;

    /// Rows of the test table, in order.
    fn names(path: &std::path::Path) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT name FROM t ORDER BY name").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// No trigger fires on an insert into `persons`: one would make every person's insert a
    /// statement transaction, whose journal copies each page the insert touches (migration 17;
    /// the writer spent 8% of its time there in durable creates).
    #[test]
    fn no_trigger_fires_on_an_insert_into_persons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Sqlite::open(path.to_str().unwrap()).unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let triggers: Vec<String> = conn
            .prepare(
                "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'persons'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            !triggers.is_empty(),
            "the label index's other triggers are there"
        );
        for sql in &triggers {
            assert!(!sql.to_uppercase().contains(" INSERT ON "), "{sql}");
        }
    }

    /// No write of a person, its emails, its follower or its changelog builds a temporary
    /// B-tree: SQLite builds one on every run for an `IN` list of three constants or more
    /// (a `CHECK` of the followers' kinds did, until migration 18).
    #[test]
    fn no_insert_of_a_create_builds_a_temporary_b_tree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(Sqlite::open(path.to_str().unwrap()).unwrap());
        let conn = Connection::open(&path).unwrap();
        for table in ["persons", "person_emails", "followers", "follower_changes"] {
            let columns: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?) WHERE name <> 'id'")
                .unwrap()
                .query_map([table], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let values = vec!["?"; columns.len()].join(", ");
            let insert = format!(
                "INSERT INTO {table} ({}) VALUES ({values})",
                columns.join(", ")
            );
            let opcodes: Vec<String> = conn
                .prepare(&format!("EXPLAIN {insert}"))
                .unwrap()
                .query_map(
                    rusqlite::params_from_iter(vec![rusqlite::types::Null; columns.len()]),
                    |r| r.get("opcode"),
                )
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                opcodes.iter().any(|o| o == "Insert"),
                "{insert}: {opcodes:?}"
            );
            assert!(
                !opcodes.iter().any(|o| o == "OpenEphemeral"),
                "{insert}: {opcodes:?}"
            );
        }
    }

    /// The WAL starts over under writes that never pause: the writer checkpoints it between
    /// batches once it is `writer::CHECKPOINT_AT` frames long (the background checkpointer
    /// alone cannot finish a checkpoint while the writer appends), so it stays a few MB while
    /// ~40 MB of pages go through it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_short_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Arc::new(Sqlite::open(path.to_str().unwrap()).unwrap());
        store
            .write(|db: &SqliteDb| {
                Box::pin(async move { db.batch("CREATE TABLE t (v BLOB)").await })
            })
            .await
            .unwrap();
        let writers = (0..32).map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..300 {
                    store
                        .write(|db: &SqliteDb| {
                            Box::pin(async move {
                                db.execute(sql!("INSERT INTO t (v) VALUES (zeroblob(4000))"))
                                    .await
                            })
                        })
                        .await
                        .unwrap();
                }
            })
        });
        for w in writers.collect::<Vec<_>>() {
            w.await.unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len();
        assert!(wal < 12 << 20, "the WAL grew to {} MB", wal >> 20);
    }

    /// A batch that queues thousands of persons for the search index (an import's) is followed
    /// by as many turns as bring the index within two steps of the writes, not by one step.
    #[tokio::test]
    async fn the_index_catches_up_to_two_steps_after_a_batch_that_queued_thousands() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let store = Sqlite::open(path.to_str().unwrap()).unwrap();
        // Persons without rows: a step takes them off the queue and indexes nothing.
        store
            .write(|db: &SqliteDb| {
                Box::pin(async move {
                    for id in 1..=5_000 {
                        db.search_text_changed(id, None)?;
                    }
                    Ok(())
                })
            })
            .await
            .unwrap();
        // The next write runs after the turns that followed the first one's batch.
        let queued: Vec<i64> = store
            .write(|db: &SqliteDb| {
                Box::pin(async move {
                    db.rows(sql!("SELECT count(*) FROM person_search_queue"))
                        .await
                })
            })
            .await
            .unwrap();
        assert!(
            queued[0] < 2 * fts::STEP as i64,
            "{} persons still queued",
            queued[0]
        );
    }

    /// Writes queued together run in one batch without savepoints; when one fails after it
    /// has written (or panics), the batch is rolled back and run again with a savepoint per
    /// write: the failing write leaves nothing, the others are committed once, and every
    /// caller gets its own write's answer. One refused before it changed a row costs nothing.
    #[tokio::test]
    async fn a_failing_write_rolls_back_alone_and_its_batch_runs_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Sqlite::open(path.to_str().unwrap()).unwrap();
        store
            .write(|db: &SqliteDb| {
                Box::pin(async move { db.batch("CREATE TABLE t (name TEXT UNIQUE)").await })
            })
            .await
            .unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let insert = |name: &'static str, then: Option<&'static str>| {
            let runs = runs.clone();
            store.write(move |db: &SqliteDb| {
                Box::pin(async move {
                    runs.fetch_add(1, Ordering::Relaxed);
                    db.execute(sql!("INSERT INTO t (name) VALUES (?)", name))
                        .await?;
                    match then {
                        Some("fail") => Err(StoreError::Conflict(format!("{name} refused"))),
                        Some(_) => panic!("{name} panics"),
                        None => Ok(name),
                    }
                })
            })
        };
        // The first write holds the writer while the others queue behind it, into one batch.
        let hold = store.write(|_db: &SqliteDb| {
            Box::pin(async move {
                std::thread::sleep(std::time::Duration::from_millis(100));
                Ok("held")
            })
        });
        let writes = (
            insert("a", None),
            insert("b", Some("fail")),
            insert("c", None),
            insert("d", Some("panic")),
            insert("e", None),
        );
        assert_eq!(hold.await.unwrap(), "held");
        let (a, b, c, d, e) = writes;
        assert_eq!(a.await.unwrap(), "a");
        assert!(matches!(b.await, Err(StoreError::Conflict(m)) if m == "b refused"));
        assert_eq!(c.await.unwrap(), "c");
        assert!(matches!(d.await, Err(StoreError::Internal(m)) if m.contains("panicked")));
        assert_eq!(e.await.unwrap(), "e");
        assert_eq!(names(&path), ["a", "c", "e"]);
        // a and b ran optimistically, then all five again with savepoints.
        assert_eq!(runs.load(Ordering::Relaxed), 7);

        // A batch that succeeds runs each write once.
        let (f, g) = (insert("f", None), insert("g", None));
        assert_eq!((f.await.unwrap(), g.await.unwrap()), ("f", "g"));
        assert_eq!(runs.load(Ordering::Relaxed), 9);
        assert_eq!(names(&path), ["a", "c", "e", "f", "g"]);

        // A write refused before it changed anything leaves its batch as it was: run once.
        let refuse = || {
            let runs = runs.clone();
            store.write(move |db: &SqliteDb| {
                Box::pin(async move {
                    runs.fetch_add(1, Ordering::Relaxed);
                    db.execute(sql!("UPDATE t SET name = 'z' WHERE name = 'none'"))
                        .await?;
                    Err::<&str, _>(StoreError::Conflict("refused".into()))
                })
            })
        };
        let hold = store.write(|_db: &SqliteDb| {
            Box::pin(async move {
                std::thread::sleep(std::time::Duration::from_millis(100));
                Ok("held")
            })
        });
        let (h, x, i) = (insert("h", None), refuse(), insert("i", None));
        assert_eq!(hold.await.unwrap(), "held");
        assert_eq!(h.await.unwrap(), "h");
        assert!(matches!(x.await, Err(StoreError::Conflict(m)) if m == "refused"));
        assert_eq!(i.await.unwrap(), "i");
        assert_eq!(runs.load(Ordering::Relaxed), 12, "each of the three once");
        assert_eq!(names(&path), ["a", "c", "e", "f", "g", "h", "i"]);
    }
}
