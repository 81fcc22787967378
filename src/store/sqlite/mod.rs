//! The embedded SQLite backend: WAL with `synchronous=FULL`, one writer thread doing group
//! commit, and a pool of read connections that never wait behind it.
//!
//! Group commit: every write is a closure sent to the writer thread. The thread takes all the
//! writes waiting, runs each inside its own SAVEPOINT of one transaction (so a failing write
//! rolls back alone), commits once (one fsync for the batch), and only then answers each caller.
//! An answer therefore always means "on disk".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

pub(crate) mod organizations;

pub use organizations::sortable as org_sortable;

use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params, params_from_iter};
use tokio::sync::oneshot;

use super::cache::Cache;
use super::{FieldChanges, NewCompany, NewField, NewUser, Store, StoreError, id_csv};
use crate::domain::fields::FieldType;
use crate::domain::fields::LABEL_KEY;
use crate::domain::followers::Kind;
use crate::domain::followers::{Follower, FollowerChange, FollowerRef};
use crate::domain::organization::{
    NewOrganization, ORG_LABEL_KEY, Organization, OrganizationChanges, OrganizationQuery,
};
use crate::domain::person::{Contact, NewPerson, Person, PersonChanges, derive};
use crate::domain::query::{Direction, Page, PersonFilter, PersonQuery, SortField};
use crate::domain::user::company_domain;
use crate::domain::{
    Company, FieldDef, FieldOption, MarketingStatus, Session, Timestamp, User, Visibility,
};
use crate::metrics::{BATCH_BOUNDS, Histogram};

/// Migrations, applied in order at start-up; never edit one that has been released.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../../migrations/sqlite/0002_field_settings.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/sqlite/0003_organization_profile.sql"),
    ),
];

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 512;
/// The most persons a search ranks (the first by id when more match).
const MAX_SEARCH_CANDIDATES: usize = 20_000;
/// The writer's page cache for a server: enough for the hot index pages, within the RSS budget.
const WRITER_CACHE_KIB: u32 = 32 * 1024;
/// How many idle read connections are kept.
const MAX_IDLE_READERS: usize = 16;

type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    readers: Arc<ReadPool>,
    sessions: Cache<String, Option<Session>>,
    users: Cache<i64, Vec<User>>,
    fields: Cache<i64, Vec<FieldDef>>,
    /// Writes per group-commit transaction.
    batch_sizes: Arc<Histogram>,
    /// Dropped with the store, which ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
}

struct ReadPool {
    target: Target,
    idle: Mutex<Vec<Connection>>,
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
    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = self.target.connect()?;
                conn.execute_batch("PRAGMA query_only = ON;")
                    .map_err(db_error)?;
                conn
            }
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        result
    }
}

impl SqliteStore {
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

    fn start(mut conn: Connection, target: Target) -> Result<Self, StoreError> {
        migrate(&mut conn)?;
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
            .spawn(move || writer_loop(conn, rx, &sizes))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs,
            readers: Arc::new(ReadPool {
                target,
                idle: Mutex::new(Vec::new()),
            }),
            sessions: Cache::default(),
            users: Cache::default(),
            fields: Cache::default(),
            batch_sizes,
            _stop_checkpoints: stop_checkpoints,
        })
    }

    /// Runs `f` in the writer's next batch; resolves once that batch is committed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
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
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        // A dropped reply means the write never ran or was rolled back: nothing was stored.
        rx.await
            .map_err(|_| StoreError::Unavailable("the write was not committed; try again".into()))?
    }

    /// Runs a read on the calling thread with a pooled connection. Reads are indexed and
    /// short (tens of microseconds), far cheaper than a hop to a blocking thread and back,
    /// which measured as most of a request's CPU; WAL means they never wait for the writer.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.readers.with(f)
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

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>, sizes: &Histogram) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        sizes.observe(batch.len() as f64);
        run_batch(&conn, batch);
    }
}

fn run_batch(conn: &Connection, batch: Vec<Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Dropping the jobs unrun drops their reply channels: each caller gets a retryable error.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return;
    }
    let mut completions = Vec::with_capacity(batch.len());
    PENDING_SEARCH.with(|p| p.borrow_mut().clear());
    for job in batch {
        let mark = PENDING_SEARCH.with(|p| p.borrow().len());
        let savepoint = conn.execute_batch("SAVEPOINT job");
        let (ok, done) = match savepoint {
            Ok(()) => catch_unwind(AssertUnwindSafe(|| job(conn))).unwrap_or_else(|_| {
                let err = StoreError::Internal("a write panicked".into());
                (false, completion_with(err))
            }),
            Err(e) => (false, completion_with(db_error(e))),
        };
        let end = if ok {
            conn.execute_batch("RELEASE job")
        } else {
            PENDING_SEARCH.with(|p| p.borrow_mut().truncate(mark));
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "savepoint failed");
        }
        completions.push(done);
    }
    let commit_error = apply_pending_search(conn)
        .and_then(|()| conn.execute_batch("COMMIT").map_err(db_error))
        .err()
        .inspect(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        });
    for done in completions {
        done(commit_error.as_ref());
    }
}

fn completion_with(err: StoreError) -> Completion {
    Box::new(move |_| tracing::error!(error = %err, "write failed before it could answer"))
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .map_err(db_error)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction().map_err(db_error)?;
        let applied: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        if !applied {
            tx.execute_batch(sql).map_err(db_error)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, Timestamp::now().0],
            )
            .map_err(db_error)?;
        }
        tx.commit().map_err(db_error)?;
    }
    Ok(())
}

pub(super) fn db_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable("the database is busy, try again".into())
        }
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        Some(ErrorCode::DiskFull | ErrorCode::CannotOpen | ErrorCode::SystemIoFailure) => {
            StoreError::Unavailable(format!("the database cannot be written: {e}"))
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

// ---- row mapping --------------------------------------------------------------------------

const COMPANY_COLUMNS: &str = "id, name, domain, campaigns_enabled, add_time";

fn company_row(r: &Row) -> rusqlite::Result<Company> {
    Ok(Company {
        id: r.get(0)?,
        name: r.get(1)?,
        domain: r.get(2)?,
        campaigns_enabled: r.get(3)?,
        add_time: Timestamp(r.get(4)?),
    })
}

const USER_COLUMNS: &str =
    "id, company_id, name, email, is_admin, active_flag, api_token, add_time, update_time";

fn user_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        company_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        is_admin: r.get(4)?,
        active: r.get(5)?,
        api_token: r.get(6)?,
        add_time: Timestamp(r.get(7)?),
        update_time: Timestamp(r.get(8)?),
    })
}

/// Keeps persons the viewer may see: not private, or owned or followed by the viewer.
const PERSON_VISIBLE: &str = " AND (p.visible_to <> 1 OR p.owner_id = ? OR EXISTS (\
    SELECT 1 FROM followers f WHERE f.kind = 'person' AND f.item_id = p.id AND f.user_id = ?))";

const PERSON_COLUMNS: &str = "p.id, p.company_id, p.owner_id, p.org_id, p.name, p.first_name, \
    p.last_name, p.emails, p.phones, p.label_ids, p.visible_to, p.marketing_status, \
    p.custom_fields, p.active_flag, p.add_time, p.update_time, p.delete_time, \
    (SELECT group_concat(f.user_id) FROM followers f WHERE f.kind = 'person' AND f.item_id = p.id), \
    p.marketing_changed";

/// A JSON column, decoded straight from SQLite's buffer; a corrupt value is a conversion error.
fn json_column<T: serde::de::DeserializeOwned>(r: &Row, i: usize) -> rusqlite::Result<T> {
    serde_json::from_str(r.get_ref(i)?.as_str()?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("corrupt JSON column: {e}").into(),
        )
    })
}

fn person_row(r: &Row) -> rusqlite::Result<Person> {
    let marketing = r.get_ref(11)?.as_str_or_null()?;
    Ok(Person {
        id: r.get(0)?,
        company_id: r.get(1)?,
        owner_id: r.get(2)?,
        org_id: r.get(3)?,
        name: r.get(4)?,
        first_name: r.get(5)?,
        last_name: r.get(6)?,
        emails: json_column(r, 7)?,
        phones: json_column(r, 8)?,
        label_ids: json_column(r, 9)?,
        visible_to: Visibility::new(r.get(10)?).unwrap_or(Visibility::DEFAULT),
        marketing_status: marketing.and_then(MarketingStatus::from_name),
        marketing_changed: r.get(18)?,
        custom_fields: json_column(r, 12)?,
        active: r.get(13)?,
        add_time: Timestamp(r.get(14)?),
        update_time: Timestamp(r.get(15)?),
        delete_time: r.get::<_, Option<i64>>(16)?.map(Timestamp),
        follower_ids: id_csv(r.get_ref(17)?.as_str_or_null()?),
    })
}

pub(super) fn get_person(
    conn: &Connection,
    company_id: i64,
    id: i64,
) -> Result<Option<Person>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.company_id = ?1 AND p.id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![company_id, id], person_row).optional())
    .map_err(db_error)
}

fn get_company(conn: &Connection, id: i64) -> Result<Option<Company>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COMPANY_COLUMNS} FROM companies WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row([id], company_row).optional())
    .map_err(db_error)
}

pub(super) fn get_user(
    conn: &Connection,
    company_id: i64,
    id: i64,
) -> Result<Option<User>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE company_id = ?1 AND id = ?2"
    ))
    .and_then(|mut s| s.query_row(params![company_id, id], user_row).optional())
    .map_err(db_error)
}

fn insert_user(conn: &Connection, u: &NewUser) -> Result<User, StoreError> {
    conn.prepare_cached(
        "INSERT INTO users (company_id, name, email, is_admin, active_flag, api_token, add_time, update_time)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![u.company_id, u.name, u.email, u.is_admin, u.api_token, u.add_time.0])
    })
    .map_err(|e| match db_error(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "email: a user with the email {} already exists in this company",
            u.email
        )),
        other => other,
    })?;
    let id = conn.last_insert_rowid();
    get_user(conn, u.company_id, id)?
        .ok_or_else(|| StoreError::Internal("inserted user vanished".into()))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Active fields of a company (or the one with `only` id), built-in first, with options.
fn load_fields(
    conn: &Connection,
    company_id: i64,
    only: Option<i64>,
) -> Result<Vec<FieldDef>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, key, name, field_type, is_custom, order_nr, add_visible_flag,
                    created_by_user_id, updated_by_user_id, add_time, update_time, settings
             FROM person_fields
             WHERE company_id = ?1 AND active_flag = 1 AND (?2 IS NULL OR id = ?2)
             ORDER BY is_custom, order_nr, id",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![company_id, only], |r| {
            let t: String = r.get(3)?;
            Ok(FieldDef {
                id: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                field_type: FieldType::from_name(&t).unwrap_or(FieldType::Varchar),
                is_custom: r.get(4)?,
                order_nr: r.get(5)?,
                add_visible_flag: r.get(6)?,
                created_by_user_id: r.get(7)?,
                updated_by_user_id: r.get(8)?,
                add_time: Timestamp(r.get(9)?),
                update_time: Timestamp(r.get(10)?),
                options: Vec::new(),
                deleted_options: Vec::new(),
                settings: json_column(r, 11)?,
            })
        })
        .map_err(db_error)?;
    let mut fields: Vec<FieldDef> = rows.collect::<Result<_, _>>().map_err(db_error)?;
    for (o, active) in load_options(conn, company_id, true)? {
        if let Some(f) = fields.iter_mut().find(|f| f.key == o.field_key) {
            if active {
                f.options.push(o);
            } else {
                f.deleted_options.push(o);
            }
        }
    }
    Ok(fields)
}

/// The options of every field of a company, each with whether it is active; deleted ones
/// only when `deleted` is true.
fn load_options(
    conn: &Connection,
    company_id: i64,
    deleted: bool,
) -> Result<Vec<(FieldOption, bool)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, field_key, label, color, add_time, update_time, active_flag FROM field_options
             WHERE company_id = ?1 AND (active_flag = 1 OR ?2) ORDER BY order_nr, id",
        )
        .map_err(db_error)?;
    let options = stmt
        .query_map(params![company_id, deleted], |r| {
            Ok((
                FieldOption {
                    id: r.get(0)?,
                    field_key: r.get(1)?,
                    label: r.get(2)?,
                    color: r.get(3)?,
                    add_time: Timestamp(r.get(4)?),
                    update_time: Timestamp(r.get(5)?),
                },
                r.get(6)?,
            ))
        })
        .map_err(db_error)?;
    options.collect::<Result<_, _>>().map_err(db_error)
}

fn insert_options(
    conn: &Connection,
    company_id: i64,
    key: &str,
    labels: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    for label in labels {
        conn.prepare_cached(
            "INSERT INTO field_options (company_id, field_key, label, order_nr, add_time, update_time)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(order_nr), 0) + 1 FROM field_options
                                  WHERE company_id = ?1 AND field_key = ?2), ?4, ?4)",
        )
        .and_then(|mut s| s.execute(params![company_id, key, label, now.0]))
        .map_err(db_error)?;
    }
    Ok(())
}

fn sort_column(f: SortField) -> &'static str {
    match f {
        SortField::Id => "p.id",
        SortField::Name => "p.name COLLATE NOCASE",
        SortField::FirstName => "p.first_name COLLATE NOCASE",
        SortField::LastName => "p.last_name COLLATE NOCASE",
        SortField::FirstChar => "p.first_char",
        SortField::AddTime => "p.add_time",
        SortField::UpdateTime => "p.update_time",
        SortField::OwnerId => "p.owner_id",
        SortField::OrgId => "p.org_id",
        SortField::VisibleTo => "p.visible_to",
        SortField::PrimaryEmail => "p.primary_email COLLATE NOCASE",
    }
}

pub(super) fn dir_sql(d: Direction) -> &'static str {
    match d {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    }
}

pub(crate) fn in_list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Appends a person list's filters (`?` placeholders; the same SQL on both backends).
pub(crate) fn person_filters(sql: &mut String, args: &mut Vec<Sql>, f: &PersonFilter) {
    if let Some(owner) = f.owner_id {
        sql.push_str(" AND p.owner_id = ?");
        args.push(Sql::Integer(owner));
    }
    if let Some(org) = f.org_id {
        sql.push_str(" AND p.org_id = ?");
        args.push(Sql::Integer(org));
    }
    if let Some(ids) = &f.ids {
        sql.push_str(&format!(" AND p.id IN ({})", in_list(ids.len().max(1))));
        if ids.is_empty() {
            args.push(Sql::Null);
        }
        args.extend(ids.iter().map(|i| Sql::Integer(*i)));
    }
    if let Some(c) = &f.first_char {
        sql.push_str(" AND p.first_char = ?");
        args.push(Sql::Text(c.clone()));
    }
    if let Some(v) = f.viewer {
        sql.push_str(PERSON_VISIBLE);
        args.push(Sql::Integer(v));
        args.push(Sql::Integer(v));
    }
    if let Some(t) = f.updated_since {
        sql.push_str(" AND p.update_time >= ?");
        args.push(Sql::Integer(t.0));
    }
    if let Some(t) = f.updated_until {
        sql.push_str(" AND p.update_time < ?");
        args.push(Sql::Integer(t.0));
    }
}

/// The SQL and parameters of a person list.
fn list_sql(company_id: i64, q: &PersonQuery) -> (String, Vec<Sql>) {
    let mut sql = format!(
        "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.company_id = ? AND p.active_flag = 1"
    );
    let mut args = vec![Sql::Integer(company_id)];
    person_filters(&mut sql, &mut args, &q.filter);
    order_and_page(
        &mut sql,
        &mut args,
        &q.order,
        &q.page,
        q.limit,
        "p.id",
        |f| Some(sort_column(f)),
    );
    (sql, args)
}

/// Appends a list's keyset condition, `ORDER BY` (always ending with the id, so the order is
/// total), `LIMIT` and `OFFSET`. `column` maps a sort field to its SQL; `id` is the id column.
pub(crate) fn order_and_page(
    sql: &mut String,
    args: &mut Vec<Sql>,
    order: &[(SortField, Direction)],
    page: &Page,
    limit: i64,
    id: &str,
    column: impl Fn(SortField) -> Option<&'static str>,
) {
    let order: Vec<(SortField, Direction)> = if order.is_empty() {
        vec![(SortField::Id, Direction::Asc)]
    } else {
        order.to_vec()
    };
    let last_dir = order.last().map_or(Direction::Asc, |(_, d)| *d);
    let mut offset = 0;
    match page {
        Page::Offset { start } => offset = *start,
        Page::After(Some((key, after_id))) => {
            let (field, dir) = order[0];
            let op = if dir == Direction::Asc { ">" } else { "<" };
            let col = column(field).unwrap_or(id);
            sql.push_str(&format!(" AND ({col}, {id}) {op} (?, ?)"));
            args.push(Sql::Integer(*key));
            args.push(Sql::Integer(*after_id));
        }
        Page::After(None) => {}
    }
    // Keys in the order given; the id is unique, so it ends the order wherever it stands, and
    // ends it in the last key's direction when not named.
    let mut keys = Vec::new();
    for (field, dir) in &order {
        if *field == SortField::Id {
            break;
        }
        if let Some(c) = column(*field) {
            keys.push(format!("{c} {}", dir_sql(*dir)));
        }
    }
    let id_dir = order
        .iter()
        .find(|(f, _)| *f == SortField::Id)
        .map_or(last_dir, |(_, d)| *d);
    keys.push(format!("{id} {}", dir_sql(id_dir)));
    sql.push_str(&format!(" ORDER BY {} LIMIT ? OFFSET ?", keys.join(", ")));
    args.push(Sql::Integer(limit));
    args.push(Sql::Integer(offset));
}

fn query_persons(conn: &Connection, sql: &str, args: Vec<Sql>) -> Result<Vec<Person>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
    let rows = stmt
        .query_map(params_from_iter(args), person_row)
        .map_err(db_error)?;
    rows.collect::<Result<_, _>>().map_err(db_error)
}

fn is_active_person(conn: &Connection, company_id: i64, id: i64) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT active_flag FROM persons WHERE company_id = ?1 AND id = ?2")
        .and_then(|mut s| {
            s.query_row(params![company_id, id], |r| r.get::<_, bool>(0))
                .optional()
        })
        .map(|a| a.unwrap_or(false))
        .map_err(db_error)
}

/// The SET list and arguments of a person update, for both SQL stores: `update_time` and every
/// column the changes name (the caller refreshes the derived columns).
pub(crate) fn person_update_sets(
    ch: &PersonChanges,
    now: Timestamp,
) -> Result<(Vec<String>, Vec<Sql>), StoreError> {
    let mut sets = vec!["update_time = ?".to_owned()];
    let mut args = vec![Sql::Integer(now.0)];
    let mut set = |col: &str, v: Sql| {
        sets.push(format!("{col} = ?"));
        args.push(v);
    };
    let opt_text = |v: &Option<String>| v.clone().map_or(Sql::Null, Sql::Text);
    if let Some(owner) = ch.owner_id {
        set("owner_id", Sql::Integer(owner));
    }
    if let Some(org) = ch.org_id {
        set("org_id", org.map_or(Sql::Null, Sql::Integer));
    }
    if let Some(name) = &ch.name {
        set("name", Sql::Text(name.name.clone()));
        set("first_name", opt_text(&name.first_name));
        set("last_name", opt_text(&name.last_name));
    }
    if let Some(e) = &ch.emails {
        set("emails", Sql::Text(to_json(e)?));
    }
    if let Some(p) = &ch.phones {
        set("phones", Sql::Text(to_json(p)?));
    }
    if let Some(l) = &ch.label_ids {
        set("label_ids", Sql::Text(to_json(l)?));
    }
    if let Some(v) = ch.visible_to {
        set("visible_to", Sql::Integer(v.get()));
    }
    if let Some((status, used_change)) = ch.marketing_status {
        set("marketing_status", Sql::Text(status.as_str().into()));
        if used_change {
            set("marketing_changed", Sql::Integer(1));
        }
    }
    if let Some(c) = &ch.custom_fields {
        set("custom_fields", Sql::Text(to_json(c)?));
    }
    Ok((sets, args))
}

/// Applies changes to an active person (checked by the caller) and refreshes derived columns.
fn apply_changes(
    conn: &Connection,
    company_id: i64,
    id: i64,
    ch: PersonChanges,
    now: Timestamp,
) -> Result<Person, StoreError> {
    let (sets, mut args) = person_update_sets(&ch, now)?;
    if let Some(e) = &ch.emails {
        index_emails(conn, company_id, id, e)?;
    }
    let (old_org, old_text): (Option<i64>, String) = conn
        .prepare_cached("SELECT org_id, search_text FROM persons WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(db_error)?;
    if let Some(new_org) = ch.org_id
        && new_org != old_org
    {
        if let Some(o) = old_org {
            count_people(conn, o, -1)?;
        }
        if let Some(o) = new_org {
            count_people(conn, o, 1)?;
        }
    }
    let sql = format!(
        "UPDATE persons SET {} WHERE company_id = ? AND id = ?",
        sets.join(", ")
    );
    args.push(Sql::Integer(company_id));
    args.push(Sql::Integer(id));
    conn.execute(&sql, params_from_iter(args))
        .map_err(db_error)?;
    let person = get_person(conn, company_id, id)?
        .ok_or_else(|| StoreError::Internal("updated person vanished".into()))?;
    let d = derive(
        &person.name,
        &person.emails,
        &person.phones,
        &person.custom_fields,
    );
    if d.search_text != old_text {
        index_search(id, Some(&old_text), &d.search_text);
    }
    conn.prepare_cached(
        "UPDATE persons SET primary_email = ?1, first_char = ?2, search_text = ?3 WHERE id = ?4",
    )
    .and_then(|mut s| s.execute(params![d.primary_email, d.first_char, d.search_text, id]))
    .map_err(db_error)?;
    Ok(person)
}

fn follower_row(r: &Row) -> rusqlite::Result<Follower> {
    Ok(Follower {
        id: r.get(0)?,
        item_id: r.get(1)?,
        user_id: r.get(2)?,
        add_time: Timestamp(r.get(3)?),
    })
}

/// A change of followers is a change of the item: its `update_time` moves.
fn touch(conn: &Connection, kind: Kind, item_id: i64, now: Timestamp) -> Result<(), StoreError> {
    let table = match kind {
        Kind::Person => "persons",
        Kind::Organization => "organizations",
    };
    conn.execute(
        &format!("UPDATE {table} SET update_time = ?1 WHERE id = ?2"),
        params![now.0, item_id],
    )
    .map_err(db_error)?;
    Ok(())
}

/// `"1,2,3"` (SQLite's group_concat) as ids.
/// Inserts one person (row, followers, and by trigger its search index and organization count).
/// A new person with everything derived and serialized before it reaches the writer thread,
/// which is the bottleneck of creates: it only binds and inserts.
struct PreparedPerson {
    new: NewPerson,
    derived: crate::domain::person::Derived,
    emails: String,
    phones: String,
    label_ids: String,
    custom_fields: String,
}

impl PreparedPerson {
    fn new(p: NewPerson) -> Result<Self, StoreError> {
        Ok(Self {
            derived: derive(&p.name, &p.emails, &p.phones, &p.custom_fields),
            emails: to_json(&p.emails)?,
            phones: to_json(&p.phones)?,
            label_ids: to_json(&p.label_ids)?,
            custom_fields: to_json(&p.custom_fields)?,
            new: p,
        })
    }

    /// The stored person, as a read would return it, without reading it back.
    fn into_person(self, id: i64) -> Person {
        self.new.into_person(id)
    }
}

/// Inserts one person (row, email and search index entries, organization count, followers).
fn insert_person_row(conn: &Connection, prepared: &PreparedPerson) -> Result<i64, StoreError> {
    let p = &prepared.new;
    let derived = &prepared.derived;
    conn.prepare_cached(
        "INSERT INTO persons (company_id, owner_id, org_id, name, first_name, last_name,
            emails, phones, primary_email, label_ids, visible_to, marketing_status,
            custom_fields, active_flag, add_time, update_time, first_char, search_text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14, ?15, ?16, ?17)",
    )
    .and_then(|mut s| {
        s.execute(params![
            p.company_id,
            p.owner_id,
            p.org_id,
            p.name,
            p.first_name,
            p.last_name,
            prepared.emails,
            prepared.phones,
            derived.primary_email,
            prepared.label_ids,
            p.visible_to.get(),
            p.marketing_status.map(MarketingStatus::as_str),
            prepared.custom_fields,
            p.add_time.0,
            p.update_time.0,
            derived.first_char,
            derived.search_text
        ])
    })
    .map_err(db_error)?;
    let id = conn.last_insert_rowid();
    index_emails(conn, p.company_id, id, &p.emails)?;
    index_search(id, None, &derived.search_text);
    if let Some(org) = p.org_id {
        count_people(conn, org, 1)?;
    }
    for user_id in &p.followers {
        follow(
            conn,
            p.company_id,
            Kind::Person,
            id,
            *user_id,
            p.created_by,
            p.update_time,
        )?;
    }
    Ok(id)
}

/// Replaces a person's rows in `person_emails` (lower-cased values, for exact-email search).
fn index_emails(
    conn: &Connection,
    company_id: i64,
    id: i64,
    emails: &[Contact],
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM person_emails WHERE person_id = ?1")
        .and_then(|mut s| s.execute([id]))
        .map_err(db_error)?;
    for e in emails {
        conn.prepare_cached(
            "INSERT INTO person_emails (company_id, value, person_id) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![company_id, e.value.to_lowercase(), id]))
        .map_err(db_error)?;
    }
    Ok(())
}

/// A change of the trigram index, queued by a write and applied at the end of its batch.
struct SearchOp {
    id: i64,
    old: Option<String>,
    new: String,
}

thread_local! {
    /// The writer thread's queue of search index changes for the batch under way.
    ///
    /// FTS5 flushes its pending terms whenever a savepoint opens; writing the index inside each
    /// write's savepoint made every write a flush and a merge (a third of the writer's time).
    /// Queued here instead, the whole batch's changes go in once, after the last savepoint and
    /// before COMMIT, in the same transaction. A write that fails drops its queued changes.
    static PENDING_SEARCH: std::cell::RefCell<Vec<SearchOp>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Keeps the trigram index in step with `persons.search_text` (an external-content FTS5
/// table: the old text must be given to remove it), at the end of the batch.
fn index_search(id: i64, old: Option<&str>, new: &str) {
    PENDING_SEARCH.with(|p| {
        p.borrow_mut().push(SearchOp {
            id,
            old: old.map(str::to_owned),
            new: new.to_owned(),
        })
    });
}

fn apply_pending_search(conn: &Connection) -> Result<(), StoreError> {
    let ops = PENDING_SEARCH.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for op in ops {
        if let Some(old) = &op.old {
            conn.prepare_cached(
                "INSERT INTO persons_fts (persons_fts, rowid, search_text) VALUES ('delete', ?1, ?2)",
            )
            .and_then(|mut s| s.execute(params![op.id, old]))
            .map_err(db_error)?;
        }
        conn.prepare_cached("INSERT INTO persons_fts (rowid, search_text) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![op.id, op.new]))
            .map_err(db_error)?;
    }
    Ok(())
}

/// Moves an organization's `people_count` by `delta`, in the transaction that changes a
/// person's organization or deletes it.
pub(super) fn count_people(conn: &Connection, org_id: i64, delta: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE organizations SET people_count = people_count + ?1 WHERE id = ?2")
        .and_then(|mut s| s.execute(params![delta, org_id]))
        .map_err(db_error)?;
    Ok(())
}
/// Adds a follower (if not already one) and logs the change; returns the relationship id
/// when a follower was added.
pub(super) fn follow(
    conn: &Connection,
    company_id: i64,
    kind: Kind,
    item_id: i64,
    user_id: i64,
    actor: i64,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO followers (company_id, kind, item_id, user_id, add_time)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![company_id, kind.as_str(), item_id, user_id, now.0]))
        .map_err(db_error)?;
    if n == 0 {
        return Ok(None);
    }
    let id = conn.last_insert_rowid();
    log_follow(
        conn, company_id, kind, item_id, user_id, actor, "added", now,
    )?;
    Ok(Some(id))
}

#[allow(clippy::too_many_arguments)]
fn log_follow(
    conn: &Connection,
    company_id: i64,
    kind: Kind,
    item_id: i64,
    user_id: i64,
    actor: i64,
    action: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO follower_changes (company_id, kind, item_id, user_id, actor_user_id, action, time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![company_id, kind.as_str(), item_id, user_id, actor, action, now.0])
    })
    .map_err(db_error)?;
    Ok(())
}

fn soft_delete(
    conn: &Connection,
    company_id: i64,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE persons SET active_flag = 0, delete_time = ?1, update_time = ?1
             WHERE company_id = ?2 AND id = ?3 AND active_flag = 1",
        )
        .and_then(|mut s| s.execute(params![now.0, company_id, id]))
        .map_err(db_error)?;
    if n == 1 {
        let org: Option<i64> = conn
            .prepare_cached("SELECT org_id FROM persons WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(db_error)?;
        if let Some(o) = org {
            count_people(conn, o, -1)?;
        }
    }
    Ok(n == 1)
}

#[async_trait]
impl Store for SqliteStore {
    fn render_metrics(&self, out: &mut String) {
        out.push_str("# HELP pipestack_store_commit_batch_size Writes committed together in one SQLite transaction (group commit).\n");
        out.push_str("# TYPE pipestack_store_commit_batch_size histogram\n");
        self.batch_sizes
            .render(out, "pipestack_store_commit_batch_size", "");
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(db_error))
            .await
    }

    async fn session_by_token(&self, token: &str) -> Result<Option<Session>, StoreError> {
        if let Some(s) = self.sessions.get(&token.to_owned()) {
            return Ok(s);
        }
        let key = token.to_owned();
        let token = token.to_owned();
        let found = self
            .read(move |conn| {
                let user = conn
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE api_token = ?1 AND active_flag = 1"
                    ))
                    .and_then(|mut s| s.query_row([&token], user_row).optional())
                    .map_err(db_error)?;
                let Some(user) = user else { return Ok(None) };
                let company = get_company(conn, user.company_id)?
                    .ok_or_else(|| StoreError::Internal("user without company".into()))?;
                Ok(Some(Session { company, user }))
            })
            .await?;
        // Only known tokens are cached: a new token works at once.
        if found.is_some() {
            self.sessions.put(key, found.clone());
        }
        Ok(found)
    }

    async fn companies(&self) -> Result<Vec<Company>, StoreError> {
        self.read(|conn| {
            let mut s = conn
                .prepare_cached(&format!(
                    "SELECT {COMPANY_COLUMNS} FROM companies ORDER BY id"
                ))
                .map_err(db_error)?;
            let rows = s.query_map([], company_row).map_err(db_error)?;
            rows.collect::<Result<_, _>>().map_err(db_error)
        })
        .await
    }

    async fn company(&self, id: i64) -> Result<Option<Company>, StoreError> {
        self.read(move |conn| get_company(conn, id)).await
    }

    async fn add_company(
        &self,
        company: NewCompany,
        admin: NewUser,
    ) -> Result<(Company, User), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO companies (name, domain, campaigns_enabled, add_time) VALUES (?1, '', ?2, ?3)",
                params![company.name, company.campaigns_enabled, company.add_time.0],
            )
            .map_err(db_error)?;
            let id = conn.last_insert_rowid();
            conn.execute(
                "UPDATE companies SET domain = ?1 WHERE id = ?2",
                params![company_domain(&company.name, id), id],
            )
            .map_err(db_error)?;
            for (order, (key, name, field_type)) in company.person_fields.iter().enumerate() {
                conn.execute(
                    "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr,
                        add_visible_flag, active_flag, add_time, update_time)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, 1, 1, ?6, ?6)",
                    params![id, key, name, field_type.as_str(), order as i64, company.add_time.0],
                )
                .map_err(db_error)?;
            }
            for key in [LABEL_KEY, ORG_LABEL_KEY] {
                for (order, (label, color)) in company.person_labels.iter().enumerate() {
                    conn.execute(
                        "INSERT INTO field_options (company_id, field_key, label, color, order_nr, add_time, update_time)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                        params![id, key, label, color, order as i64, company.add_time.0],
                    )
                    .map_err(db_error)?;
                }
            }
            let user = insert_user(conn, &NewUser { company_id: id, ..admin })?;
            let company = get_company(conn, id)?
                .ok_or_else(|| StoreError::Internal("inserted company vanished".into()))?;
            Ok((company, user))
        })
        .await
    }

    async fn set_campaigns(&self, company_id: i64, enabled: bool) -> Result<bool, StoreError> {
        let done = self
            .write(move |conn| {
                let n = conn
                    .execute(
                        "UPDATE companies SET campaigns_enabled = ?1 WHERE id = ?2",
                        params![enabled, company_id],
                    )
                    .map_err(db_error)?;
                Ok(n == 1)
            })
            .await;
        if done.is_ok() {
            self.sessions.clear();
        }
        done
    }

    async fn set_user_active(&self, user_id: i64, active: bool) -> Result<bool, StoreError> {
        let done = self
            .write(move |conn| {
                let n = conn
                    .execute(
                        "UPDATE users SET active_flag = ?1, update_time = ?2 WHERE id = ?3",
                        params![active, Timestamp::now().0, user_id],
                    )
                    .map_err(db_error)?;
                Ok(n == 1)
            })
            .await;
        if done.is_ok() {
            self.sessions.clear();
            self.users.clear();
        }
        done
    }

    async fn add_user(&self, user: NewUser) -> Result<User, StoreError> {
        let company = user.company_id;
        let done = self.write(move |conn| insert_user(conn, &user)).await;
        if done.is_ok() {
            self.users.forget(&company);
        }
        done
    }

    async fn set_api_token(&self, user_id: i64, token: &str) -> Result<(), StoreError> {
        let token = token.to_owned();
        let done = self
            .write(move |conn| {
                conn.execute(
                    "UPDATE users SET api_token = ?1, update_time = ?2 WHERE id = ?3",
                    params![token, Timestamp::now().0, user_id],
                )
                .map_err(|e| match db_error(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict("api token: already used by another user".into())
                    }
                    other => other,
                })?;
                Ok(())
            })
            .await;
        if done.is_ok() {
            self.sessions.clear();
            self.users.clear();
        }
        done
    }

    async fn users(&self, company_id: i64) -> Result<Vec<User>, StoreError> {
        if let Some(u) = self.users.get(&company_id) {
            return Ok(u);
        }
        let users: Vec<User> = self
            .read(move |conn| {
                let mut s = conn
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE company_id = ?1 ORDER BY id"
                    ))
                    .map_err(db_error)?;
                let rows = s.query_map([company_id], user_row).map_err(db_error)?;
                rows.collect::<Result<_, _>>().map_err(db_error)
            })
            .await?;
        self.users.put(company_id, users.clone());
        Ok(users)
    }

    async fn user(&self, company_id: i64, id: i64) -> Result<Option<User>, StoreError> {
        self.read(move |conn| get_user(conn, company_id, id)).await
    }

    async fn person_fields(&self, company_id: i64) -> Result<Vec<FieldDef>, StoreError> {
        if let Some(f) = self.fields.get(&company_id) {
            return Ok(f);
        }
        let fields = self
            .read(move |conn| load_fields(conn, company_id, None))
            .await?;
        self.fields.put(company_id, fields.clone());
        Ok(fields)
    }

    async fn insert_field(&self, f: NewField) -> Result<FieldDef, StoreError> {
        let done = self.write(move |conn| {
            let order: i64 = conn
                .query_row(
                    "SELECT COALESCE(MAX(order_nr), 0) + 1 FROM person_fields WHERE company_id = ?1",
                    [f.company_id],
                    |r| r.get(0),
                )
                .map_err(db_error)?;
            conn.execute(
                "INSERT INTO person_fields (company_id, key, name, field_type, is_custom, order_nr,
                    add_visible_flag, active_flag, created_by_user_id, updated_by_user_id, add_time, update_time,
                    settings)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, 1, ?7, ?7, ?8, ?8, ?9)",
                params![f.company_id, f.key, f.name, f.field_type.as_str(), order, f.add_visible_flag, f.user_id, f.now.0, to_json(&f.settings)?],
            )
            .map_err(db_error)?;
            let id = conn.last_insert_rowid();
            insert_options(conn, f.company_id, &f.key, &f.options, f.now)?;
            load_fields(conn, f.company_id, Some(id))?
                .pop()
                .ok_or_else(|| StoreError::Internal("inserted field vanished".into()))
        })
        .await;
        if done.is_ok() {
            self.fields.clear();
        }
        done
    }

    async fn update_field(
        &self,
        company_id: i64,
        id: i64,
        ch: FieldChanges,
        user_id: i64,
        now: Timestamp,
    ) -> Result<Option<FieldDef>, StoreError> {
        let done = self
            .write(move |conn| {
                let Some(field) = load_fields(conn, company_id, Some(id))?.pop() else {
                    return Ok(None);
                };
                ch.check_options_exist(&field)?;
                if let Some(name) = &ch.name {
                    conn.execute(
                        "UPDATE person_fields SET name = ?1 WHERE id = ?2",
                        params![name, id],
                    )
                    .map_err(db_error)?;
                }
                if let Some(flag) = ch.add_visible_flag {
                    conn.execute(
                        "UPDATE person_fields SET add_visible_flag = ?1 WHERE id = ?2",
                        params![flag, id],
                    )
                    .map_err(db_error)?;
                }
                if let Some(settings) = &ch.settings {
                    conn.execute(
                        "UPDATE person_fields SET settings = ?1 WHERE id = ?2",
                        params![to_json(settings)?, id],
                    )
                    .map_err(db_error)?;
                }
                for (oid, label) in &ch.rename_options {
                    conn.execute(
                        "UPDATE field_options SET label = ?1, update_time = ?2 WHERE id = ?3",
                        params![label, now.0, oid],
                    )
                    .map_err(db_error)?;
                }
                for oid in &ch.delete_options {
                    conn.execute(
                        "UPDATE field_options SET active_flag = 0, update_time = ?1 WHERE id = ?2",
                        params![now.0, oid],
                    )
                    .map_err(db_error)?;
                }
                insert_options(conn, company_id, &field.key, &ch.add_options, now)?;
                conn.execute(
                "UPDATE person_fields SET update_time = ?1, updated_by_user_id = ?2 WHERE id = ?3",
                params![now.0, user_id, id],
            )
            .map_err(db_error)?;
                Ok(load_fields(conn, company_id, Some(id))?.pop())
            })
            .await;
        if done.is_ok() {
            self.fields.forget(&company_id);
        }
        done
    }

    async fn delete_fields(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        let done = self
            .write(move |conn| {
                let mut deleted = Vec::new();
                for id in ids {
                    let n = conn
                        .execute(
                            "UPDATE person_fields SET active_flag = 0, update_time = ?1
                         WHERE company_id = ?2 AND id = ?3 AND is_custom = 1 AND active_flag = 1",
                            params![now.0, company_id, id],
                        )
                        .map_err(db_error)?;
                    if n == 1 {
                        deleted.push(id);
                    }
                }
                Ok(deleted)
            })
            .await;
        if done.is_ok() {
            self.fields.forget(&company_id);
        }
        done
    }

    async fn insert_organization(&self, org: NewOrganization) -> Result<Organization, StoreError> {
        self.write(move |conn| organizations::insert(conn, &org))
            .await
    }

    async fn organization(
        &self,
        company_id: i64,
        id: i64,
    ) -> Result<Option<Organization>, StoreError> {
        self.read(move |conn| organizations::get(conn, company_id, id))
            .await
    }

    async fn organizations_by_ids(
        &self,
        company_id: i64,
        ids: &[i64],
    ) -> Result<Vec<Organization>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        self.read(move |conn| organizations::by_ids(conn, company_id, &ids))
            .await
    }

    async fn list_organizations(
        &self,
        company_id: i64,
        query: OrganizationQuery,
    ) -> Result<Vec<Organization>, StoreError> {
        self.read(move |conn| organizations::list(conn, company_id, &query))
            .await
    }

    async fn update_organization(
        &self,
        company_id: i64,
        id: i64,
        changes: OrganizationChanges,
        now: Timestamp,
    ) -> Result<Option<Organization>, StoreError> {
        self.write(move |conn| organizations::update(conn, company_id, id, changes, now))
            .await
    }

    async fn delete_organization(
        &self,
        company_id: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |conn| organizations::delete(conn, company_id, id, now))
            .await
    }

    async fn search_organization_candidates(
        &self,
        company_id: i64,
        needle: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<Organization>, StoreError> {
        let needle = needle.to_owned();
        self.read(move |conn| organizations::search(conn, company_id, &needle, viewer))
            .await
    }

    async fn org_label_options(&self, company_id: i64) -> Result<Vec<FieldOption>, StoreError> {
        self.read(move |conn| {
            Ok(load_options(conn, company_id, false)?
                .into_iter()
                .map(|(o, _)| o)
                .filter(|o| o.field_key == ORG_LABEL_KEY)
                .collect())
        })
        .await
    }

    async fn followers(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<Follower>, StoreError> {
        self.read(move |conn| {
            let mut s = conn
                .prepare_cached(
                    "SELECT id, item_id, user_id, add_time FROM followers
                     WHERE company_id = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY id",
                )
                .map_err(db_error)?;
            let rows = s
                .query_map(params![company_id, kind.as_str(), item_id], follower_row)
                .map_err(db_error)?;
            rows.collect::<Result<_, _>>().map_err(db_error)
        })
        .await
    }

    async fn add_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        user_id: i64,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        self.write(move |conn| {
            let Some(id) = follow(conn, company_id, kind, item_id, user_id, actor, now)? else {
                return Ok(None);
            };
            touch(conn, kind, item_id, now)?;
            Ok(Some(Follower {
                id,
                item_id,
                user_id,
                add_time: now,
            }))
        })
        .await
    }

    async fn remove_follower(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
        which: FollowerRef,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Follower>, StoreError> {
        self.write(move |conn| {
            let (column, value) = match which {
                FollowerRef::Relationship(id) => ("id", id),
                FollowerRef::User(id) => ("user_id", id),
            };
            let found = conn
                .prepare_cached(&format!(
                    "SELECT id, item_id, user_id, add_time FROM followers
                     WHERE company_id = ?1 AND kind = ?2 AND item_id = ?3 AND {column} = ?4"
                ))
                .and_then(|mut s| {
                    s.query_row(
                        params![company_id, kind.as_str(), item_id, value],
                        follower_row,
                    )
                    .optional()
                })
                .map_err(db_error)?;
            let Some(f) = found else { return Ok(None) };
            conn.execute("DELETE FROM followers WHERE id = ?1", [f.id])
                .map_err(db_error)?;
            log_follow(
                conn, company_id, kind, item_id, f.user_id, actor, "removed", now,
            )?;
            touch(conn, kind, item_id, now)?;
            Ok(Some(f))
        })
        .await
    }

    async fn follower_changes(
        &self,
        company_id: i64,
        kind: Kind,
        item_id: i64,
    ) -> Result<Vec<FollowerChange>, StoreError> {
        self.read(move |conn| {
            let mut s = conn
                .prepare_cached(
                    "SELECT id, action, actor_user_id, user_id, time FROM follower_changes
                     WHERE company_id = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY id",
                )
                .map_err(db_error)?;
            let rows = s
                .query_map(params![company_id, kind.as_str(), item_id], |r| {
                    Ok(FollowerChange {
                        id: r.get(0)?,
                        action: r.get(1)?,
                        actor_user_id: r.get(2)?,
                        follower_user_id: r.get(3)?,
                        time: Timestamp(r.get(4)?),
                    })
                })
                .map_err(db_error)?;
            rows.collect::<Result<_, _>>().map_err(db_error)
        })
        .await
    }

    async fn insert_person(&self, p: NewPerson) -> Result<Person, StoreError> {
        let prepared = PreparedPerson::new(p)?;
        let (id, prepared) = self
            .write(move |conn| insert_person_row(conn, &prepared).map(|id| (id, prepared)))
            .await?;
        Ok(prepared.into_person(id))
    }

    async fn insert_persons(&self, persons: Vec<NewPerson>) -> Result<Vec<i64>, StoreError> {
        let prepared = persons
            .into_iter()
            .map(PreparedPerson::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.write(move |conn| {
            prepared
                .iter()
                .map(|p| insert_person_row(conn, p))
                .collect()
        })
        .await
    }

    async fn person(&self, company_id: i64, id: i64) -> Result<Option<Person>, StoreError> {
        self.read(move |conn| get_person(conn, company_id, id))
            .await
    }

    async fn list_persons(
        &self,
        company_id: i64,
        query: PersonQuery,
    ) -> Result<Vec<Person>, StoreError> {
        self.read(move |conn| {
            let (sql, args) = list_sql(company_id, &query);
            query_persons(conn, &sql, args)
        })
        .await
    }

    async fn update_person(
        &self,
        company_id: i64,
        id: i64,
        changes: PersonChanges,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.write(move |conn| {
            if !is_active_person(conn, company_id, id)? {
                return Ok(None);
            }
            apply_changes(conn, company_id, id, changes, now).map(Some)
        })
        .await
    }

    async fn delete_persons(
        &self,
        company_id: i64,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = ids.to_vec();
        self.write(move |conn| {
            let mut deleted = Vec::new();
            for id in ids {
                if soft_delete(conn, company_id, id, now)? {
                    deleted.push(id);
                }
            }
            Ok(deleted)
        })
        .await
    }

    async fn merge_persons(
        &self,
        company_id: i64,
        from: i64,
        into: i64,
        changes: PersonChanges,
        actor: i64,
        now: Timestamp,
    ) -> Result<Option<Person>, StoreError> {
        self.write(move |conn| {
            if !is_active_person(conn, company_id, from)?
                || !is_active_person(conn, company_id, into)?
            {
                return Ok(None);
            }
            let moving: Vec<i64> = conn
                .prepare_cached(
                    "SELECT user_id FROM followers WHERE kind = 'person' AND item_id = ?1",
                )
                .and_then(|mut s| s.query_map([from], |r| r.get(0))?.collect())
                .map_err(db_error)?;
            for user_id in moving {
                follow(conn, company_id, Kind::Person, into, user_id, actor, now)?;
            }
            soft_delete(conn, company_id, from, now)?;
            apply_changes(conn, company_id, into, changes, now).map(Some)
        })
        .await
    }

    async fn persons_by_email(
        &self,
        company_id: i64,
        email: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let email = email.to_lowercase();
        self.read(move |conn| {
            let mut sql = format!(
                "SELECT {PERSON_COLUMNS} FROM persons p
                 WHERE p.id IN (SELECT person_id FROM person_emails WHERE company_id = ? AND value = ?)
                   AND p.company_id = ? AND p.active_flag = 1"
            );
            let mut args = vec![Sql::Integer(company_id), Sql::Text(email), Sql::Integer(company_id)];
            let filter = PersonFilter {
                org_id,
                viewer,
                ..PersonFilter::default()
            };
            person_filters(&mut sql, &mut args, &filter);
            sql.push_str(&format!(" ORDER BY p.id LIMIT {MAX_SEARCH_CANDIDATES}"));
            query_persons(conn, &sql, args)
        })
        .await
    }

    async fn search_candidates(
        &self,
        company_id: i64,
        needle: &str,
        org_id: Option<i64>,
        viewer: Option<i64>,
    ) -> Result<Vec<Person>, StoreError> {
        let needle = needle.to_owned();
        self.read(move |conn| {
            // Three characters or more: the trigram index finds the candidates; shorter terms
            // (which a trigram cannot match) fall back to a scan.
            let (filter, term) = if needle.chars().count() >= 3 {
                (
                    "p.id IN (SELECT rowid FROM persons_fts WHERE persons_fts MATCH ?)",
                    format!("\"{}\"", needle.replace('"', "\"\"")),
                )
            } else {
                ("instr(p.search_text, ?) > 0", needle.clone())
            };
            let mut sql = format!(
                "SELECT {PERSON_COLUMNS} FROM persons p
                 WHERE {filter} AND p.company_id = ? AND p.active_flag = 1"
            );
            let mut args = vec![Sql::Text(term), Sql::Integer(company_id)];
            let filter = PersonFilter {
                org_id,
                viewer,
                ..PersonFilter::default()
            };
            person_filters(&mut sql, &mut args, &filter);
            sql.push_str(&format!(" ORDER BY p.id LIMIT {MAX_SEARCH_CANDIDATES}"));
            query_persons(conn, &sql, args)
        })
        .await
    }
}
