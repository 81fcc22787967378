//! Substring search on PostgreSQL: `LIKE` patterns, which the pg_trgm GIN indexes on
//! `persons.search_text` and `organizations.search_text` answer without a scan. The indexes
//! follow their columns by themselves, so writes need nothing more.

use crate::store::sql::{Dialect, sql};

pub static POSTGRES: Dialect = Dialect {
    contains: |q, column, needle| {
        q.push_arg(&format!("{column} LIKE ?"), like(needle));
    },
    person_text: |q, needle| {
        q.push_arg("p.search_text LIKE ?", like(needle));
    },
    person_text_first: |needle, company_id, limit| {
        sql!(
            format!(
                "SELECT p.id FROM persons p WHERE p.search_text LIKE ? AND p.company_id = ? \
                 AND p.active_flag = TRUE LIMIT {limit}"
            ),
            like(needle),
            company_id
        )
    },
    person_text_count: None,
    row_locks: true,
    writing_with: true,
    one_snapshot: Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"),
    // `json_agg` and `json_populate_recordset` take whole rows: no column list needed.
    table_columns: None,
    rows_as_json: |table, _, condition| {
        format!("SELECT COALESCE(json_agg(t), '[]')::text FROM {table} t WHERE {condition}")
    },
    rows_from_json: |table, _| {
        format!(
            "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, (?::text)::json)"
        )
    },
};

/// `LIKE` pattern for a substring, with `%`, `_` and `\` taken literally.
fn like(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
