//! The SQL core's [`Db`] on a SQLite connection: arguments, rows and errors in rusqlite's
//! terms, and SQLite's dialect (FTS5 for person search, `instr` for substrings).

use std::future::{Future, ready};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, ToSql, params_from_iter};

use super::fts;
use crate::domain::ports::StoreError;
use crate::store::sql::{Arg, Db, Dialect, FromRow, Query, Row};

/// A SQLite connection the SQL core runs on. The connection sits behind a mutex only so that
/// the handle is `Sync` like PostgreSQL's (one thread uses it at a time; the lock is never
/// contended).
pub struct SqliteDb {
    conn: Mutex<Connection>,
    /// Persons queued for the search index since the writer last looked (writer only; a
    /// rolled-back write's count stays: it only makes the indexer look sooner).
    queued: AtomicUsize,
}

pub static SQLITE: Dialect = Dialect {
    contains: |q, column, needle| {
        q.push_arg(&format!("instr({column}, ?) > 0"), needle);
    },
    person_text: fts::person_text,
    person_text_first: fts::person_text_first,
    person_text_count: Some(fts::person_text_count),
    row_locks: false,
    writing_with: false,
    one_snapshot: None,
    table_columns: Some("SELECT name FROM pragma_table_info(?) ORDER BY cid"),
    rows_as_json: |table, columns, condition| {
        // REALs as text of 17 digits (JSON's own prints 15, losing the last ones), read back
        // exactly into the column's REAL affinity.
        let pairs: Vec<String> = columns
            .iter()
            .map(|c| format!("'{c}', IIF(typeof({c}) = 'real', printf('%!.17g', {c}), {c})"))
            .collect();
        format!(
            "SELECT json_group_array(json_object({})) FROM {table} WHERE {condition}",
            pairs.join(", ")
        )
    },
    rows_from_json: |table, columns| {
        let values: Vec<String> = columns.iter().map(|c| format!("value ->> '{c}'")).collect();
        format!(
            "INSERT INTO {table} ({}) SELECT {} FROM json_each(?)",
            columns.join(", "),
            values.join(", ")
        )
    },
};

impl SqliteDb {
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Mutex::new(conn),
            queued: AtomicUsize::new(0),
        }
    }

    pub fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Internal("a SQLite connection was poisoned".into()))
    }

    /// How many persons were queued for the search index since the last call.
    pub fn take_queued(&self) -> usize {
        self.queued.swap(0, Ordering::Relaxed)
    }

    fn run_rows<T: FromRow>(&self, q: &Query) -> Result<Vec<T>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&q.sql).map_err(db_error)?;
        let mut rows = stmt
            .query(params_from_iter(q.args.iter()))
            .map_err(db_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            out.push(T::from_row(row)?);
        }
        Ok(out)
    }

    fn run_insert(&self, q: &Query) -> Result<Option<i64>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&q.sql).map_err(db_error)?;
        let n = stmt
            .execute(params_from_iter(q.args.iter()))
            .map_err(db_error)?;
        Ok((n > 0).then(|| conn.last_insert_rowid()))
    }

    fn run_execute(&self, q: &Query) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&q.sql).map_err(db_error)?;
        let n = stmt
            .execute(params_from_iter(q.args.iter()))
            .map_err(db_error)?;
        Ok(n as u64)
    }
}

impl Db for SqliteDb {
    const DIALECT: &'static Dialect = &SQLITE;

    fn rows<T: FromRow + Send>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send {
        ready(self.run_rows(&query))
    }

    fn execute(&self, query: Query) -> impl Future<Output = Result<u64, StoreError>> + Send {
        ready(self.run_execute(&query))
    }

    fn insert(&self, query: Query) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send {
        ready(self.run_insert(&query))
    }

    fn batch(&self, sql: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(
            self.conn()
                .and_then(|c| c.execute_batch(sql).map_err(db_error)),
        )
    }

    fn search_text_changed(&self, id: i64, before: Option<&str>) -> Result<(), StoreError> {
        fts::enqueue(&*self.conn()?, id, before)?;
        self.queued.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(Value::Null),
            Arg::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Arg::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
            Arg::Real(f) => ToSqlOutput::Owned(Value::Real(*f)),
            Arg::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.get(i).map_err(db_error)
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.get(i).map_err(db_error)
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.get(i).map_err(db_error)
    }

    fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.get_ref(i)
            .map_err(db_error)?
            .as_str()
            .map_err(|e| StoreError::Internal(format!("column {i}: {e}")))
    }

    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.get(i).map_err(db_error)
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.get_ref(i)
            .map_err(db_error)?
            .as_str_or_null()
            .map_err(|e| StoreError::Internal(format!("column {i}: {e}")))
    }
}

pub fn db_error(e: rusqlite::Error) -> StoreError {
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
