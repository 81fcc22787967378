//! Schema migrations, applied in order at start-up by both engines: each engine's own SQL
//! files (types and indexes differ), and the steps only pipestack can do, such as filling a
//! new column with what the domain derives from existing rows.

use super::{Db, activities, fields, first, organizations, persons, pipelines, sql, tenants};
use crate::domain::ports::StoreError;
use crate::domain::{Kind, Timestamp};

/// One migration: never edit one that has been released; add a new one (its SQL for each
/// engine in `migrations/<engine>/`, and its line in [`MIGRATIONS`]).
pub struct Migration {
    pub version: i64,
    pub sqlite: &'static str,
    pub postgres: &'static str,
    /// What to compute for existing rows once the SQL has run.
    pub fill: Option<Fill>,
    /// Whether it changes the tables a company's data is kept in (a snapshot taken before it
    /// cannot be restored after it); `false` for an engine's own structures and for a table
    /// added.
    pub data: bool,
}

/// Which engine's SQL a migration runs.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A migration's line: its version, file name (the same in both engines' folders) and fill.
macro_rules! migration {
    ($version:literal, $file:literal, $fill:expr) => {
        Migration {
            version: $version,
            sqlite: include_str!(concat!("../../../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../../../migrations/postgres/", $file)),
            fill: $fill,
            data: true,
        }
    };
    ($version:literal, $file:literal, engine only) => {
        Migration {
            data: false,
            ..migration!($version, $file, None)
        }
    };
    // A table added to the company's data: a snapshot from before it restores (without rows
    // for it: a restore empties every table and fills those the snapshot holds).
    ($version:literal, $file:literal, added table) => {
        Migration {
            data: false,
            ..migration!($version, $file, None)
        }
    };
    // A nullable column added whose NULL means what rows meant before it: a snapshot from
    // before it restores (its rows get NULL).
    ($version:literal, $file:literal, added column) => {
        Migration {
            data: false,
            ..migration!($version, $file, None)
        }
    };
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_init.sql", None),
    migration!(2, "0002_field_settings.sql", None),
    migration!(3, "0003_organization_profile.sql", None),
    migration!(4, "0004_sort_keys.sql", Some(Fill::SortKeys)),
    migration!(5, "0005_hashed_tokens.sql", Some(Fill::TokenDigests)),
    migration!(6, "0006_pipelines.sql", Some(Fill::DefaultPipelines)),
    migration!(
        7,
        "0007_fields_by_kind.sql",
        Some(Fill::BuiltinFields(Kind::Organization))
    ),
    migration!(8, "0008_deals.sql", Some(Fill::BuiltinFields(Kind::Deal))),
    migration!(
        9,
        "0009_activities_notes.sql",
        Some(Fill::DefaultActivityTypes)
    ),
    migration!(10, "0010_webhooks.sql", None),
    migration!(11, "0011_test_toolkit.sql", None),
    migration!(12, "0012_search_queue.sql", engine only),
    // A copy of what the followers table holds: snapshots leave it out of account (a restore
    // computes it again).
    migration!(13, "0013_person_follower_ids.sql", engine only),
    // An index the triggers keep from the persons' labels.
    migration!(14, "0014_person_labels.sql", engine only),
    // The outbox is never in a snapshot.
    migration!(15, "0015_event_source.sql", engine only),
    migration!(16, "0016_person_changes.sql", added table),
    // SQLite indexes a new person's labels by a statement, not a trigger.
    migration!(17, "0017_person_labels_on_insert.sql", engine only),
    // SQLite checks the followers' kinds without a temporary B-tree per insert.
    migration!(18, "0018_follower_kinds_compared.sql", engine only),
    // A new item's follows logged from their rows: NULL, what a snapshot from before holds,
    // means logged, as they were.
    migration!(19, "0019_unlogged_first_follows.sql", added column),
];

/// A step of a migration done in Rust.
#[derive(Debug, Clone, Copy)]
pub enum Fill {
    /// The sort keys of every person's and organization's name (migration 4).
    SortKeys,
    /// Every API token replaced by its SHA-256 (migration 5).
    TokenDigests,
    /// Every company's default pipeline and stages (migration 6).
    DefaultPipelines,
    /// Every company's built-in fields of a kind (migration 7: organizations; 8: deals).
    BuiltinFields(Kind),
    /// Every company's default activity types (migration 9).
    DefaultActivityTypes,
}

/// Applies the pending migrations, inside the caller's transaction.
pub async fn apply(db: &impl Db, engine: Engine) -> Result<(), StoreError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for m in MIGRATIONS {
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
        db.batch(match engine {
            Engine::Sqlite => m.sqlite,
            Engine::Postgres => m.postgres,
        })
        .await?;
        match m.fill {
            Some(Fill::SortKeys) => {
                persons::fill_sort_keys(db).await?;
                organizations::fill_sort_keys(db).await?;
            }
            Some(Fill::TokenDigests) => tenants::fill_token_digests(db).await?,
            Some(Fill::DefaultPipelines) => pipelines::fill_defaults(db).await?,
            Some(Fill::BuiltinFields(kind)) => fields::fill_builtins(db, kind).await?,
            Some(Fill::DefaultActivityTypes) => activities::fill_defaults(db).await?,
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
