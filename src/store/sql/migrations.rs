//! Schema migrations, applied in order at start-up by both engines: each engine's own SQL
//! files (types and indexes differ), and the steps only pipestack can do, such as filling a
//! new column with what the domain derives from existing rows.

use super::{Db, first, organizations, persons, sql};
use crate::domain::Timestamp;
use crate::domain::ports::StoreError;

/// One migration: never edit one that has been released; add a new one.
pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
    /// What to compute for existing rows once the SQL has run.
    pub fill: Option<Fill>,
}

/// A step of a migration done in Rust.
#[derive(Debug, Clone, Copy)]
pub enum Fill {
    /// The sort keys of every person's and organization's name (migration 4).
    SortKeys,
}

/// Applies the pending migrations, inside the caller's transaction.
pub async fn apply(db: &impl Db, migrations: &[Migration]) -> Result<(), StoreError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for m in migrations {
        let applied: Option<i64> = first(
            db,
            sql!(
                "SELECT version FROM schema_migrations WHERE version = ?",
                m.version
            ),
        )
        .await?;
        if applied.is_some() {
            continue;
        }
        db.batch(m.sql).await?;
        match m.fill {
            Some(Fill::SortKeys) => {
                persons::fill_sort_keys(db).await?;
                organizations::fill_sort_keys(db).await?;
            }
            None => {}
        }
        db.execute(sql!(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            m.version,
            Timestamp::now()
        ))
        .await?;
    }
    Ok(())
}
