//! The one SQL core both backends share: pipestack's own argument type, a small query
//! builder, the row trait each driver's rows implement, the [`Db`] trait an engine executes
//! queries through, and a module per entity holding its statements, column list and row
//! mapper once.
//!
//! Statements are written once with `?` placeholders (PostgreSQL's engine numbers them) and in
//! the SQL both engines speak: `TRUE`/`FALSE`, `ON CONFLICT DO NOTHING`,
//! `string_agg`. What really differs is in [`Dialect`]. Every entity operation is an `async fn`
//! generic over [`Db`]: on PostgreSQL it awaits the network; on SQLite every statement is done
//! when its future is first polled, so the writer thread runs the same code to completion
//! without a runtime.

pub mod activities;
pub mod company_data;
pub mod deals;
pub mod fields;
pub mod followers;
pub mod migrations;
pub mod notes;
pub mod organizations;
pub mod paging;
pub mod person_changes;
pub mod persons;
pub mod pipelines;
pub mod summaries;
pub mod tenants;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;

use crate::domain::Timestamp;
use crate::domain::ports::{DataVersion, StoreError};

/// A future an engine runs an operation as (`Send`, so PostgreSQL's can cross threads).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A value bound to a placeholder. Each engine converts it to its own type: SQLite stores
/// booleans as integers, PostgreSQL binds whatever type it inferred for the placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Null,
    Int(i64),
    Bool(bool),
    Real(f64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Self::Int(v.0)
    }
}

impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// A statement and its arguments, in placeholder order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// `sql!("… ? … ?", a, b)`: a [`Query`] with its arguments.
macro_rules! sql {
    ($text:expr $(, $arg:expr)* $(,)?) => {
        $crate::store::sql::Query {
            sql: ::std::string::String::from($text),
            args: vec![$($crate::store::sql::Arg::from($arg)),*],
        }
    };
}
pub(crate) use sql;

impl Query {
    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends SQL text holding one `?` and its argument.
    pub fn push_arg(&mut self, sql: &str, arg: impl Into<Arg>) -> &mut Self {
        self.sql.push_str(sql);
        self.args.push(arg.into());
        self
    }

    /// Appends `<column> IN (?, …)` for `ids`; no ids match nothing.
    pub fn push_in(&mut self, column: &str, ids: &[i64]) -> &mut Self {
        self.sql.push_str(column);
        self.sql.push_str(" IN (");
        if ids.is_empty() {
            self.sql.push_str("NULL");
        }
        for (i, id) in ids.iter().enumerate() {
            self.sql.push_str(if i == 0 { "?" } else { ", ?" });
            self.args.push(Arg::Int(*id));
        }
        self.sql.push(')');
        self
    }
}

/// One row of a result, as either driver returns it: columns by position.
pub trait Row {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn flag(&self, i: usize) -> Result<bool, StoreError>;
    fn text(&self, i: usize) -> Result<&str, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError>;
    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError>;

    fn real(&self, i: usize) -> Result<f64, StoreError> {
        self.opt_real(i)?
            .ok_or_else(|| StoreError::Internal(format!("column {i}: unexpected NULL")))
    }

    fn string(&self, i: usize) -> Result<String, StoreError> {
        self.text(i).map(str::to_owned)
    }

    fn opt_string(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.opt_text(i)?.map(str::to_owned))
    }

    fn time(&self, i: usize) -> Result<Timestamp, StoreError> {
        self.int(i).map(Timestamp)
    }

    fn opt_time(&self, i: usize) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.opt_int(i)?.map(Timestamp))
    }

    /// A JSON column, decoded straight from the driver's buffer.
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        serde_json::from_str(self.text(i)?)
            .map_err(|e| StoreError::Internal(format!("column {i}: corrupt JSON: {e}")))
    }

    /// Ids aggregated with `string_agg` (`"1,5,9"`; none is `NULL`).
    fn ids(&self, i: usize) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .opt_text(i)?
            .map(|s| s.split(',').filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default())
    }
}

/// A type read from one row: each entity's one row mapper.
pub trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self, StoreError>;
}

impl FromRow for i64 {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        row.int(0)
    }
}

impl FromRow for Option<i64> {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        row.opt_int(0)
    }
}

impl FromRow for (i64, String) {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok((row.int(0)?, row.string(1)?))
    }
}

impl FromRow for (i64, bool) {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        Ok((row.int(0)?, row.flag(1)?))
    }
}

impl FromRow for String {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        row.string(0)
    }
}

impl FromRow for bool {
    fn from_row(row: &impl Row) -> Result<Self, StoreError> {
        row.flag(0)
    }
}

/// What the engines' SQL really differs in.
pub struct Dialect {
    /// Appends a condition: the (lower-cased) text `column` contains `needle` as a substring.
    pub contains: fn(&mut Query, column: &str, needle: &str),
    /// Appends the condition of person search: `p.search_text` contains `needle`, through the
    /// engine's own text index.
    pub person_text: fn(&mut Query, needle: &str),
    /// A whole query: the ids of at most `limit` of a company's non-deleted persons whose text
    /// contains `needle`, which stops once it has them (how many match, when few).
    pub person_text_first: fn(needle: &str, company_id: i64, limit: usize) -> Query,
    /// A whole query: a bound, counted up to `limit`, on the persons (of any company) listing
    /// the text index's matches for `needle` goes through; `None` where the engine has no such
    /// count that is cheap.
    pub person_text_count: Option<fn(needle: &str, limit: usize) -> Query>,
    /// Whether writes run side by side and must lock the rows they decide on
    /// (`FOR NO KEY UPDATE`); SQLite's one writer runs them one after the other.
    pub row_locks: bool,
    /// Whether a statement's `WITH` may write (PostgreSQL): then a row and its log entry are
    /// written in one statement, one round trip.
    pub writing_with: bool,
    /// What makes a write transaction read every table as of one moment, run as its first
    /// statement (`None`: the engine's transactions already do).
    pub one_snapshot: Option<&'static str>,
    /// The statement that lists a table's columns in order (its one argument: the table),
    /// for engines whose JSON functions need them named.
    pub table_columns: Option<&'static str>,
    /// A `SELECT` of one JSON array of the rows of `table` meeting `condition`, each an object
    /// of its `columns`.
    pub rows_as_json: fn(table: &str, columns: &[String], condition: &str) -> String,
    /// An `INSERT` of the rows of such an array (its one argument) into `table`.
    pub rows_from_json: fn(table: &str, columns: &[String]) -> String,
}

/// Appends the lock a write takes on the rows of `alias` it reads to decide on them.
pub fn lock<D: Db>(q: &mut Query, alias: &str) {
    if D::DIALECT.row_locks {
        q.push(" FOR NO KEY UPDATE OF ");
        q.push(alias);
    }
}

/// Appends the lock a write takes on rows of `alias` it only refers to (the stage a deal goes
/// into, say): others may refer to them too, but none may change or delete them until the
/// write commits.
pub fn share<D: Db>(q: &mut Query, alias: &str) {
    if D::DIALECT.row_locks {
        q.push(" FOR SHARE OF ");
        q.push(alias);
    }
}

/// A connection (or a transaction on one) that runs queries: each engine implements it once.
pub trait Db: Sync + Sized {
    const DIALECT: &'static Dialect;

    /// The rows a query returns, each mapped by `T`'s row mapper.
    fn rows<T: FromRow + Send>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send;

    /// Runs a statement; how many rows it changed.
    fn execute(&self, query: Query) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs an `INSERT` written without `RETURNING`: the new row's id, or `None` when it
    /// inserted nothing (`ON CONFLICT DO NOTHING`). SQLite reads the rowid (its `RETURNING`
    /// costs a temporary table per statement); PostgreSQL appends `RETURNING id`.
    fn insert(&self, query: Query) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Runs statements without arguments, separated by `;` (migrations, transaction control).
    fn batch(&self, sql: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A person's search text is about to change, or their row to be inserted or deleted
    /// (`before`: the text they had, `None` for a new row): engines whose text index does not
    /// follow the column by itself (SQLite's FTS5) take note in the same transaction.
    fn search_text_changed(&self, _id: i64, _before: Option<&str>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Inserts a person and what comes with it; an engine with a faster way overrides it.
    fn insert_person(
        &self,
        person: &persons::PreparedPerson,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        persons::insert_rows(self, person)
    }
}

/// The first row of a query, if any.
pub async fn first<T: FromRow + Send, D: Db>(
    db: &D,
    query: Query,
) -> Result<Option<T>, StoreError> {
    Ok(db.rows(query).await?.into_iter().next())
}

/// The id of a row an `INSERT` must have inserted.
pub async fn insert_id<D: Db>(db: &D, query: Query) -> Result<i64, StoreError> {
    db.insert(query)
        .await?
        .ok_or_else(|| StoreError::Internal("an insert inserted nothing".into()))
}

pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// A row that a statement of this transaction wrote and that must therefore exist.
pub fn vanished(what: &str) -> StoreError {
    StoreError::Internal(format!("{what} vanished inside its own transaction"))
}

/// An engine: how operations get a [`Db`] to run on, as a read or as one committed write.
pub trait Backend: Send + Sync + 'static {
    type Db: Db;

    /// Runs `op` on a connection for reading.
    fn read<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d Self::Db) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static;

    /// Runs `op`, a read that may take long (a list at a deep offset, a sort no index serves,
    /// a search), without holding up anything else the process serves meanwhile.
    fn read_long<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d Self::Db) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        self.read(op)
    }

    /// [`read`](Self::read) when the caller knows `op` is `quick`, else
    /// [`read_long`](Self::read_long).
    fn read_as<T, F>(
        &self,
        quick: bool,
        op: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d Self::Db) -> BoxFuture<'d, Result<T, StoreError>> + Send + 'static,
    {
        async move {
            if quick {
                self.read(op).await
            } else {
                self.read_long(op).await
            }
        }
    }

    /// Runs `op` in a transaction and resolves once it is committed to disk; an error rolls
    /// back everything `op` wrote. An engine may run a copy of `op` again after a transaction
    /// the engine aborted without writing anything (PostgreSQL's deadlock victims).
    fn write<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'d> FnOnce(&'d Self::Db) -> BoxFuture<'d, Result<T, StoreError>>
            + Clone
            + Send
            + 'static;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The identity of the data a read begun now would see ([`Store::version`]).
    ///
    /// [`Store::version`]: crate::domain::ports::Store::version
    fn version(&self) -> impl Future<Output = Result<Option<DataVersion>, StoreError>> + Send {
        async { Ok(None) }
    }

    /// The engine's own metrics, in Prometheus' text format.
    fn render_metrics(&self, _out: &mut String) {}
}
