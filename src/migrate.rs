//! `pipestack migrate --from sqlite://a.db --to postgres://…`: copies a whole store, table by
//! table with ids kept (deleted rows, changelogs and all), into an empty PostgreSQL database,
//! then verifies that every table holds the same number of rows on both sides.

use anyhow::{Context, Result, bail};
use rusqlite::types::Value as Sql;

use crate::store::sql::Arg;

/// The tables, parents before children: the companies, their users and snapshots, every
/// company's data tables (as the admin API's reset and snapshots know them) and the webhooks'
/// outbox and log. Their columns are read from SQLite, and which of them are booleans
/// (integers in SQLite) from PostgreSQL, so a new column needs nothing here; a new table must
/// be added (a migrate refuses a source with a table it does not know).
fn tables() -> Vec<&'static str> {
    let mut all = vec!["companies", "users", "company_snapshots"];
    all.extend_from_slice(crate::store::sql::company_data::TABLES);
    all.extend(["webhook_events", "webhook_deliveries", "webhook_attempts"]);
    all
}

/// SQLite's own tables and those only its engine keeps (the person search index and its queue,
/// rebuilt from the persons by PostgreSQL's own), and the label index the triggers of both
/// keep from the persons, which a migrate does not copy.
fn engine_only(table: &str) -> bool {
    table.starts_with("sqlite_")
        || table.starts_with("persons_fts")
        || table == "person_search_queue"
        || table == "person_labels"
        || table == "schema_migrations"
}

/// A SQLite value as the SQL core's argument (booleans arrive as integers).
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
    let Some(path) = crate::store::sqlite_file(from) else {
        bail!("--from must be a sqlite:// URL");
    };
    let path = path.map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let unknown: Vec<String> = src
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|t| !engine_only(t) && !tables().contains(&t.as_str()))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the source has tables this migrate does not know how to copy: {}",
            unknown.join(", ")
        );
    }
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
    for table in tables() {
        let total: i64 =
            src.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        let cols: Vec<String> = src
            .prepare(&format!("SELECT * FROM {table} LIMIT 0"))?
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let columns = cols.join(", ");
        let booleans: Vec<String> = tx
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 AND data_type = 'boolean'",
                &[&table],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let placeholders: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if booleans.contains(c) {
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
        if cols.first().is_some_and(|c| c == "id") {
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
