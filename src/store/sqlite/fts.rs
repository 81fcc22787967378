//! Person search on SQLite: an FTS5 trigram index over `persons.search_text`, kept in step by
//! the writer at the end of each batch.
//!
//! FTS5 flushes its pending terms whenever a savepoint opens; writing the index inside each
//! write's savepoint made every write a flush and a merge (a third of the writer's time). The
//! writes of a batch queue their changes instead ([`SearchOp`]), and the whole batch's changes
//! go in once, after the last savepoint and before COMMIT, in the same transaction. A write
//! that fails drops its queued changes.

use rusqlite::{Connection, params};

use super::db::db_error;
use crate::domain::ports::StoreError;
use crate::store::sql::Query;

/// A change of the trigram index, queued by a write and applied at the end of its batch.
#[derive(Debug)]
pub struct SearchOp {
    pub id: i64,
    /// The text indexed until now (an external-content FTS5 table must be given the old text
    /// to take it out), `None` for a new person.
    pub old: Option<String>,
    /// `None` when the person's rows are deleted (a company's reset or restore).
    pub new: Option<String>,
}

/// Appends the candidate condition of person search: three characters or more go through the
/// trigram index; shorter terms, which a trigram cannot match, scan.
pub fn person_text(q: &mut Query, needle: &str) {
    if needle.chars().count() >= 3 {
        q.push_arg(
            "p.id IN (SELECT rowid FROM persons_fts WHERE persons_fts MATCH ?)",
            format!("\"{}\"", needle.replace('"', "\"\"")),
        );
    } else {
        q.push_arg("instr(p.search_text, ?) > 0", needle);
    }
}

/// Applies a batch's queued changes to the index.
pub fn apply(conn: &Connection, ops: Vec<SearchOp>) -> Result<(), StoreError> {
    for op in ops {
        if let Some(old) = &op.old {
            conn.prepare_cached(
                "INSERT INTO persons_fts (persons_fts, rowid, search_text) VALUES ('delete', ?1, ?2)",
            )
            .and_then(|mut s| s.execute(params![op.id, old]))
            .map_err(db_error)?;
        }
        if let Some(new) = &op.new {
            conn.prepare_cached("INSERT INTO persons_fts (rowid, search_text) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![op.id, new]))
                .map_err(db_error)?;
        }
    }
    Ok(())
}
