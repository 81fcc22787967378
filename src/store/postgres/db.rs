//! The SQL core's [`Db`] on a pooled PostgreSQL connection: arguments, rows and errors in
//! tokio-postgres' terms.

use std::future::Future;

use deadpool_postgres::Object;
use tokio_postgres::types::{IsNull, ToSql, Type};

use super::{fast, trgm};
use crate::domain::ports::StoreError;
use crate::store::sql::persons::PreparedPerson;
use crate::store::sql::{Arg, Db, Dialect, FromRow, Query, Row};

/// A pooled connection, possibly inside a transaction.
pub struct PgDb {
    client: Option<Object>,
    /// Set between `BEGIN` and the end of the transaction: a connection dropped in between
    /// (its request cancelled) is closed, not returned to the pool with the transaction open.
    pub(super) in_transaction: bool,
}

/// `?` placeholders (the SQL core's) to PostgreSQL's `$1, $2, …`.
pub fn number(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn pg_error(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        if code == "23505" || code == "23503" {
            return StoreError::Conflict(db.message().to_owned());
        }
        // A deadlock or a serialization failure: nothing was written, and the same request
        // may succeed if sent again.
        if code == "40P01" || code == "40001" {
            return StoreError::Contended(db.message().to_owned());
        }
        if code.starts_with("57") || code.starts_with("08") || code.starts_with("53") {
            return StoreError::Unavailable(format!(
                "the database is unavailable: {}",
                db.message()
            ));
        }
        return StoreError::Internal(db.message().to_owned());
    }
    if e.is_closed() {
        return StoreError::Unavailable("the database connection was lost".into());
    }
    StoreError::Unavailable(format!("the database does not answer: {e}"))
}

impl PgDb {
    pub fn new(client: Object) -> Self {
        Self {
            client: Some(client),
            in_transaction: false,
        }
    }

    pub fn client(&self) -> Result<&Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Internal("a connection used after it was closed".into()))
    }

    /// The connection's prepared statement for `sql` (with `$n` placeholders), preparing it on
    /// first use: one round trip per query instead of two.
    pub async fn prepared(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        self.client()?.prepare_cached(sql).await.map_err(pg_error)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.in_transaction
            && let Some(client) = self.client.take()
        {
            // Taken out of the pool and dropped: the connection closes and PostgreSQL rolls
            // the transaction back.
            drop(Object::take(client));
        }
    }
}

fn refs(args: &[Arg]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Db for PgDb {
    const DIALECT: &'static Dialect = &trgm::POSTGRES;

    async fn rows<T: FromRow + Send>(&self, query: Query) -> Result<Vec<T>, StoreError> {
        let stmt = self.prepared(&number(&query.sql)).await?;
        let rows = self
            .client()?
            .query(&stmt, &refs(&query.args))
            .await
            .map_err(pg_error)?;
        rows.iter().map(T::from_row).collect()
    }

    async fn execute(&self, query: Query) -> Result<u64, StoreError> {
        let stmt = self.prepared(&number(&query.sql)).await?;
        self.client()?
            .execute(&stmt, &refs(&query.args))
            .await
            .map_err(pg_error)
    }

    async fn insert(&self, query: Query) -> Result<Option<i64>, StoreError> {
        let stmt = self
            .prepared(&format!("{} RETURNING id", number(&query.sql)))
            .await?;
        let row = self
            .client()?
            .query_opt(&stmt, &refs(&query.args))
            .await
            .map_err(pg_error)?;
        row.map(|r| r.try_get(0).map_err(|e| column_error(0, e)))
            .transpose()
    }

    async fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.client()?.batch_execute(sql).await.map_err(pg_error)
    }

    fn insert_person(
        &self,
        person: &PreparedPerson,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        fast::insert_person(self, person)
    }
}

/// Binds to whatever type PostgreSQL inferred for the placeholder, so the SQL core's loosely
/// typed values (and NULLs) bind anywhere.
impl ToSql for Arg {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Bool(b) => b.to_sql(ty, out),
            Arg::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Arg::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Arg::Int(i) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                i.to_string().to_sql(ty, out)
            }
            Arg::Int(i) => i.to_sql(ty, out),
            Arg::Real(f) => f.to_sql(ty, out),
            Arg::Text(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn column_error(i: usize, e: tokio_postgres::Error) -> StoreError {
    StoreError::Internal(format!("column {i}: {e}"))
}

impl Row for tokio_postgres::Row {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }

    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }

    fn text(&self, i: usize) -> Result<&str, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }

    fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }

    fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.try_get(i).map_err(|e| column_error(i, e))
    }
}
