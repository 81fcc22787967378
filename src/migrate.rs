//! `pipestack migrate --from sqlite://a.db --to postgres://…`: copies a whole store, table by
//! table with ids kept (deleted rows, changelogs and all), into an empty PostgreSQL database,
//! then verifies that every table holds the same number of rows on both sides.

use anyhow::{Context, Result, bail};
use rusqlite::types::Value as Sql;

use crate::store::sql::Arg;

/// The tables, parents before children, and their columns (the same on both backends).
const TABLES: &[(&str, &str)] = &[
    ("companies", "id, name, domain, campaigns_enabled, add_time"),
    (
        "users",
        "id, company_id, name, email, is_admin, active_flag, api_token, add_time, update_time",
    ),
    (
        "field_options",
        "id, company_id, field_key, label, color, order_nr, active_flag, add_time, update_time",
    ),
    (
        "person_fields",
        "id, company_id, key, name, field_type, is_custom, order_nr, add_visible_flag, active_flag, created_by_user_id, updated_by_user_id, add_time, update_time, settings",
    ),
    (
        "organizations",
        "id, company_id, owner_id, name, address, address_parts, label_ids, visible_to, search_text, people_count, active_flag, add_time, update_time, delete_time, profile, name_key",
    ),
    (
        "persons",
        "id, company_id, owner_id, org_id, name, first_name, last_name, emails, phones, primary_email, first_char, search_text, label_ids, visible_to, marketing_status, marketing_changed, custom_fields, active_flag, add_time, update_time, delete_time, name_key, first_name_key, last_name_key",
    ),
    ("person_emails", "company_id, value, person_id"),
    (
        "followers",
        "id, company_id, kind, item_id, user_id, add_time",
    ),
    (
        "follower_changes",
        "id, company_id, kind, item_id, user_id, actor_user_id, action, time",
    ),
];

/// Columns that are booleans in PostgreSQL (integers in SQLite).
const BOOLEANS: &[&str] = &[
    "campaigns_enabled",
    "is_admin",
    "active_flag",
    "is_custom",
    "add_visible_flag",
    "marketing_changed",
];

/// A SQLite value as the SQL core's argument (booleans arrive as integers; see [`BOOLEANS`]).
fn arg(v: Sql) -> Arg {
    match v {
        Sql::Null => Arg::Null,
        Sql::Integer(i) => Arg::Int(i),
        Sql::Real(f) => Arg::Real(f),
        Sql::Text(t) => Arg::Text(t),
        Sql::Blob(b) => Arg::Text(String::from_utf8_lossy(&b).into_owned()),
    }
}

pub async fn migrate(
    from: &str,
    to: &str,
    progress: &(dyn Fn(&str, u64, u64) + Sync),
) -> Result<Vec<(String, i64)>> {
    let Some(path) = from.strip_prefix("sqlite://") else {
        bail!("--from must be a sqlite:// URL");
    };
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        bail!("--to must be a postgres:// URL");
    }
    // Opening both stores applies each side's migrations, so the schemas are current.
    crate::store::open(from)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::store::open(to)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let src =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {path}"))?;
    let (mut pg, conn) = tokio_postgres::connect(to, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let existing: i64 = pg
        .query_one("SELECT COUNT(*) FROM companies", &[])
        .await?
        .get(0);
    if existing > 0 {
        bail!("the destination already holds data: migrate into an empty database");
    }
    let tx = pg.transaction().await?;
    let mut counts = Vec::new();
    for (table, columns) in TABLES {
        let total: i64 =
            src.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        let cols: Vec<&str> = columns.split(", ").collect();
        let placeholders: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if BOOLEANS.contains(c) {
                    format!("(${}::bigint <> 0)", i + 1)
                } else {
                    format!("${}", i + 1)
                }
            })
            .collect();
        let insert = tx
            .prepare(&format!(
                "INSERT INTO {table} ({columns}) VALUES ({})",
                placeholders.join(", ")
            ))
            .await?;
        let mut stmt = src.prepare(&format!("SELECT {columns} FROM {table}"))?;
        let mut rows = stmt.query([])?;
        let mut done = 0u64;
        while let Some(row) = rows.next()? {
            let values: Vec<Arg> = (0..cols.len())
                .map(|i| row.get::<_, Sql>(i).map(arg))
                .collect::<Result<_, _>>()?;
            let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
                .iter()
                .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            tx.execute(&insert, &refs)
                .await
                .with_context(|| format!("copying {table}"))?;
            done += 1;
            if done.is_multiple_of(1000) {
                progress(table, done, total as u64);
            }
        }
        progress(table, done, total as u64);
        if cols.first() == Some(&"id") {
            tx.execute(
                &format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"),
                &[],
            )
            .await?;
        }
        counts.push((table.to_string(), total));
    }
    tx.commit().await?;
    for (table, expected) in &counts {
        let got: i64 = pg
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await?
            .get(0);
        if got != *expected {
            bail!("{table}: copied {got} rows of {expected}");
        }
    }
    Ok(counts)
}
