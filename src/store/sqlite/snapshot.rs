//! The identity of the data a read sees: SQLite's snapshot of a WAL database, compiled in with
//! `SQLITE_ENABLE_SNAPSHOT` (`.cargo/config.toml`). A snapshot is a copy of the WAL index
//! header as a read transaction begins; every commit, by any connection of any process,
//! changes it, and two equal ones mean identical data. Cached list pages are keyed by it.
//!
//! The one place pipestack calls SQLite's C API itself: rusqlite has no wrapper for snapshots.
#![allow(unsafe_code)]

use rusqlite::{Connection, ffi};

/// The size of a snapshot (`sqlite3_snapshot.hidden`).
pub const SIZE: usize = 48;

/// The snapshot a read transaction begun now would see; `None` when the database has none
/// (not in WAL mode: an in-memory database) or SQLite could not take one (the WAL being
/// recovered). Runs its own short read transaction, and leaves none open, even on an error.
pub fn current(conn: &Connection) -> rusqlite::Result<Option<[u8; SIZE]>> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let taken = take(conn);
    if let Err(e) = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]))
    {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e);
    }
    Ok(taken)
}

/// The snapshot of the read transaction open on `conn`'s main database (opened if need be).
fn take(conn: &Connection) -> Option<[u8; SIZE]> {
    let mut snapshot: *mut ffi::sqlite3_snapshot = std::ptr::null_mut();
    // SAFETY: the handle is valid while `conn` is borrowed, and only this thread uses the
    // connection meanwhile; the schema name is a NUL-terminated string; SQLite writes a
    // pointer to a snapshot it allocated into `snapshot`, or leaves it null on failure.
    let rc = unsafe { ffi::sqlite3_snapshot_get(conn.handle(), c"main".as_ptr(), &mut snapshot) };
    if rc != ffi::SQLITE_OK || snapshot.is_null() {
        return None;
    }
    // SAFETY: `sqlite3_snapshot_get` succeeded: `snapshot` points to an initialized
    // `sqlite3_snapshot` that is ours until it is freed, once, here.
    unsafe {
        let bytes = (*snapshot).hidden;
        ffi::sqlite3_snapshot_free(snapshot);
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
        conn
    }

    #[test]
    fn a_snapshot_changes_with_every_commit_of_any_connection_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (reader, writer) = (wal(&path), wal(&path));
        writer
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let first = current(&reader).unwrap().unwrap();
        assert_eq!(
            current(&reader).unwrap(),
            Some(first),
            "no commit, same data"
        );
        reader
            .query_row("SELECT count(*) FROM t", [], |_| Ok(()))
            .unwrap();
        assert_eq!(
            current(&reader).unwrap(),
            Some(first),
            "reads change nothing"
        );
        writer.execute_batch("UPDATE t SET x = 2;").unwrap();
        let second = current(&reader).unwrap().unwrap();
        assert_ne!(first, second, "another connection's commit");
        assert_eq!(
            current(&writer).unwrap(),
            Some(second),
            "every connection sees the same"
        );
        writer
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        writer.execute_batch("UPDATE t SET x = 3;").unwrap();
        let third = current(&reader).unwrap().unwrap();
        assert!(
            third != first && third != second,
            "a commit into a restarted WAL"
        );
        assert!(reader.is_autocommit(), "its read transaction is over");
    }

    #[test]
    fn a_database_without_a_wal_has_no_snapshot() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(current(&conn).unwrap(), None);
        assert!(conn.is_autocommit());
    }
}
