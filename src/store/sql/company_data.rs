//! A company's data as a whole: emptied back to its defaults (the admin API's reset), copied
//! into a snapshot and put back from one. Every table is named once, here; the engines differ
//! only in how rows become JSON and back ([`super::Dialect`]).

use std::collections::BTreeMap;

use super::{Db, FromRow, Row, first, migrations, sql};
use crate::domain::Timestamp;
use crate::domain::ports::{Defaults, Restore, SnapshotInfo, StoreError};

/// The company's data tables, parents before children: what a reset empties and a snapshot
/// keeps. Users are accounts (the CLI makes them, and they hold the tokens): they stay.
pub const TABLES: &[&str] = &[
    "field_options",
    "person_fields",
    "organization_fields",
    "deal_fields",
    "organizations",
    "persons",
    "person_emails",
    "person_changes",
    "pipelines",
    "stages",
    "deals",
    "deal_refs",
    "followers",
    "follower_changes",
    "activity_types",
    "activities",
    "activity_participants",
    "notes",
    "webhooks",
];

/// The webhooks' outbox and log, children first: emptied by a reset and a restore (their
/// events belong to the data replaced), never kept in a snapshot.
const TRANSIENT: &[(&str, &str)] = &[
    (
        "webhook_deliveries",
        "webhook_id IN (SELECT id FROM webhooks WHERE company_id = ?)",
    ),
    (
        "webhook_attempts",
        "webhook_id IN (SELECT id FROM webhooks WHERE company_id = ?)",
    ),
    ("webhook_events", "company_id = ?"),
];

/// The schema a snapshot is taken at: the version of the last migration that changed the
/// company data's tables (an engine's own structures, such as SQLite's search queue, leave
/// snapshots restorable).
fn schema() -> i64 {
    migrations::MIGRATIONS
        .iter()
        .rev()
        .find(|m| m.data)
        .map_or(0, |m| m.version)
}

/// The company's persons' ids and search texts (what the engine's text index holds).
async fn person_texts(db: &impl Db, company_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    db.rows(sql!(
        "SELECT id, search_text FROM persons WHERE company_id = ?",
        company_id
    ))
    .await
}

/// Deletes the company's data (its users kept), taking its persons out of the engine's text
/// index first.
async fn empty<D: Db>(db: &D, company_id: i64) -> Result<(), StoreError> {
    // Locked in the order the outbox's writers take them, so that a delivery finishing
    // meanwhile waits instead of deadlocking: events not yet made into deliveries (locked
    // before their webhooks), then the webhooks (locked before their deliveries and the events
    // those finish). PostgreSQL runs a deadlock's victim again all the same.
    if D::DIALECT.row_locks {
        for lock in [
            "SELECT id FROM webhook_events WHERE company_id = ? AND hooks IS NOT NULL \
             ORDER BY id FOR UPDATE",
            "SELECT id FROM webhooks WHERE company_id = ? ORDER BY id FOR UPDATE",
        ] {
            db.rows::<i64>(sql!(lock, company_id)).await?;
        }
    }
    for (id, text) in &person_texts(db, company_id).await? {
        db.search_text_changed(*id, Some(text))?;
    }
    for (table, condition) in TRANSIENT {
        db.execute(sql!(
            format!("DELETE FROM {table} WHERE {condition}"),
            company_id
        ))
        .await?;
    }
    for table in TABLES.iter().rev() {
        db.execute(sql!(
            format!("DELETE FROM {table} WHERE company_id = ?"),
            company_id
        ))
        .await?;
    }
    Ok(())
}

/// Holds the company's row until the write commits: resets, restores and saves of one company
/// follow each other (on PostgreSQL; SQLite's one writer runs them one at a time anyway).
async fn hold<D: Db>(db: &D, company_id: i64) -> Result<(), StoreError> {
    let mut q = sql!("SELECT c.id FROM companies c WHERE c.id = ?", company_id);
    super::lock::<D>(&mut q, "c");
    first::<i64, _>(db, q).await?;
    Ok(())
}

/// The company back to how it started: its data deleted, its defaults put back, its clock
/// real time again.
pub async fn reset<D: Db>(
    db: &D,
    company_id: i64,
    defaults: &Defaults,
    at: Timestamp,
) -> Result<(), StoreError> {
    hold(db, company_id).await?;
    empty(db, company_id).await?;
    super::tenants::add_defaults(db, company_id, defaults, at).await?;
    super::tenants::set_clock(db, company_id, Default::default()).await?;
    Ok(())
}

async fn columns<D: Db>(db: &D, table: &str) -> Result<Vec<String>, StoreError> {
    match D::DIALECT.table_columns {
        Some(list) => db.rows(sql!(list, table)).await,
        None => Ok(Vec::new()),
    }
}

/// A snapshot's content: the schema it was taken at and each table's rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct Copy {
    schema: i64,
    tables: BTreeMap<String, serde_json::Value>,
}

/// Saves the company's data under `name` (replacing a snapshot of that name).
pub async fn save<D: Db>(
    db: &D,
    company_id: i64,
    name: &str,
    at: Timestamp,
) -> Result<SnapshotInfo, StoreError> {
    // Every table read as of one moment: on PostgreSQL a write committing between two of the
    // reads would otherwise leave, say, a deal without its person in the copy.
    if let Some(set) = D::DIALECT.one_snapshot {
        db.batch(set).await?;
    }
    hold(db, company_id).await?;
    let mut tables = BTreeMap::new();
    for table in TABLES {
        let cols = columns(db, table).await?;
        let select = (D::DIALECT.rows_as_json)(table, &cols, "company_id = ?");
        let rows: Vec<String> = db.rows(sql!(select, company_id)).await?;
        let text = rows.into_iter().next().unwrap_or_else(|| "[]".into());
        let value = serde_json::from_str(&text)
            .map_err(|e| StoreError::Internal(format!("{table} as JSON: {e}")))?;
        tables.insert((*table).to_owned(), value);
    }
    let data = super::to_json(&Copy {
        schema: schema(),
        tables,
    })?;
    db.execute(sql!(
        "DELETE FROM company_snapshots WHERE company_id = ? AND name = ?",
        company_id,
        name
    ))
    .await?;
    db.execute(sql!(
        "INSERT INTO company_snapshots (company_id, name, add_time, data) VALUES (?, ?, ?, ?)",
        company_id,
        name,
        at,
        &data
    ))
    .await?;
    Ok(SnapshotInfo {
        name: name.to_owned(),
        add_time: at,
        size_bytes: data.len() as i64,
    })
}

impl FromRow for SnapshotInfo {
    fn from_row(r: &impl Row) -> Result<Self, StoreError> {
        Ok(SnapshotInfo {
            name: r.string(0)?,
            add_time: r.time(1)?,
            size_bytes: r.int(2)?,
        })
    }
}

pub async fn list(db: &impl Db, company_id: i64) -> Result<Vec<SnapshotInfo>, StoreError> {
    db.rows(sql!(
        "SELECT name, add_time, CAST(LENGTH(data) AS BIGINT) FROM company_snapshots WHERE company_id = ? \
         ORDER BY add_time DESC, id DESC",
        company_id
    ))
    .await
}

/// Replaces the company's data with the snapshot's, in the write's one transaction.
pub async fn restore<D: Db>(db: &D, company_id: i64, name: &str) -> Result<Restore, StoreError> {
    let data: Option<String> = first(
        db,
        sql!(
            "SELECT data FROM company_snapshots WHERE company_id = ? AND name = ?",
            company_id,
            name
        ),
    )
    .await?;
    let Some(data) = data else {
        return Ok(Restore::NotFound);
    };
    let copy: Copy = serde_json::from_str(&data)
        .map_err(|e| StoreError::Internal(format!("snapshot {name:?}: {e}")))?;
    if copy.schema != schema() {
        return Ok(Restore::Stale {
            schema: copy.schema,
        });
    }
    hold(db, company_id).await?;
    empty(db, company_id).await?;
    for table in TABLES {
        let rows = copy
            .tables
            .get(*table)
            .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
        let Some(rows) = rows else { continue };
        let cols = columns(db, table).await?;
        let insert = (D::DIALECT.rows_from_json)(table, &cols);
        db.execute(sql!(insert, super::to_json(rows)?)).await?;
    }
    for (id, _) in &person_texts(db, company_id).await? {
        db.search_text_changed(*id, None)?;
    }
    // The persons put back are new persons: their labels are indexed as an add's are.
    let labelled: Vec<(i64, String)> = db
        .rows(sql!(
            "SELECT id, label_ids FROM persons WHERE company_id = ? AND label_ids <> '[]'",
            company_id
        ))
        .await?;
    for (id, labels) in labelled {
        let labels: Vec<i64> = serde_json::from_str(&labels)
            .map_err(|e| StoreError::Internal(format!("person {id}'s label_ids: {e}")))?;
        super::persons::index_labels(db, company_id, id, &labels).await?;
    }
    super::followers::refresh_company(db, company_id).await?;
    Ok(Restore::Done)
}

pub async fn delete(db: &impl Db, company_id: i64, name: &str) -> Result<bool, StoreError> {
    let n = db
        .execute(sql!(
            "DELETE FROM company_snapshots WHERE company_id = ? AND name = ?",
            company_id,
            name
        ))
        .await?;
    Ok(n > 0)
}
