//! SQLite's own page cache, with one scan less per commit: a cache that holds no page at or
//! beyond the database's end is not asked to drop such pages.
//!
//! At the end of every transaction SQLite tells its page cache to drop the pages beyond the
//! database's size. The default cache (`pcache1`) knows only the largest page number it ever
//! held, and when that is far beyond the size it scans its whole hash table (8,192 buckets
//! for the writer's cache). A B-tree split that sorts its new pages swaps two of them through
//! page 262,145 (the page holding SQLite's lock byte, never a real page), so after almost
//! every batch of creates the cache believed it held that page and scanned every bucket: 4% of
//! the writer's time. This layer forwards every call to the default cache and notes the
//! largest page number each cache was given (the lock-byte page apart, while a page stands
//! there), so that it forwards a truncation only when a page may lie beyond the new end.
//!
//! Installed by the binary first thing (`super::prepare`, before any thread can use SQLite:
//! SQLite's configuration is not thread-safe); a process that does not keeps the default
//! cache as it is (the tests that run the server inside the test's own process).
//!
//! One of the three places pipestack calls SQLite's C API itself (with `snapshot.rs` and
//! `vfs.rs`): rusqlite has no wrapper for a page cache.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The default page cache's methods, which do all the work.
static DEFAULT: OnceLock<Methods> = OnceLock::new();

/// `sqlite3_pcache_methods2` holds raw pointers (its `pArg`), which the default cache never
/// dereferences from another thread than SQLite's own calls.
struct Methods(ffi::sqlite3_pcache_methods2);

// SAFETY: the methods are plain function pointers and an argument SQLite hands back to them;
// SQLite calls them from any thread, as it would the default cache's own.
unsafe impl Send for Methods {}
// SAFETY: as above; the struct is never written after it is set.
unsafe impl Sync for Methods {}

type Fetch =
    unsafe extern "C" fn(*mut ffi::sqlite3_pcache, c_uint, c_int) -> *mut ffi::sqlite3_pcache_page;

type Unpin = unsafe extern "C" fn(*mut ffi::sqlite3_pcache, *mut ffi::sqlite3_pcache_page, c_int);

/// SQLite's lock byte (`PENDING_BYTE`): the page holding it is never used for data.
const PENDING_BYTE: c_uint = 0x4000_0000;

/// One cache: the default cache's, and what this layer knows of the page numbers it holds.
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    /// The default cache's `xFetch` and `xUnpin`, called for every page a statement reads
    /// (kept here, one indirection less than through [`default`]).
    fetch: Fetch,
    unpin: Unpin,
    /// The lock-byte page's number for this cache's page size.
    lock_page: c_uint,
    /// At least the largest page number held since the last truncation, the lock-byte page's
    /// apart.
    largest: c_uint,
    /// Whether a page stands under the lock-byte page's number now.
    at_lock_page: bool,
}

/// Wraps SQLite's default page cache; whether it could (SQLite had not started yet). No other
/// thread may use SQLite meanwhile.
pub fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let mut default = std::mem::MaybeUninit::<ffi::sqlite3_pcache_methods2>::zeroed();
        // SAFETY: SQLITE_CONFIG_GETPCACHE2 writes the current (default) methods into the
        // struct; it and SQLITE_CONFIG_PCACHE2 are refused once SQLite has started, and only
        // `install` calls them, once.
        unsafe {
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, default.as_mut_ptr())
                != ffi::SQLITE_OK
            {
                return false;
            }
            let default = default.assume_init();
            if default.xCreate.is_none() {
                return false;
            }
            let methods = ffi::sqlite3_pcache_methods2 {
                xCreate: Some(create),
                xCachesize: Some(cachesize),
                xPagecount: Some(pagecount),
                xFetch: Some(fetch),
                xUnpin: Some(unpin),
                xRekey: Some(rekey),
                xTruncate: Some(truncate),
                xDestroy: Some(destroy),
                xShrink: Some(shrink),
                ..default
            };
            let _ = DEFAULT.set(Methods(default));
            // SQLite copies the struct.
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &methods) == ffi::SQLITE_OK
        }
    })
}

/// The default cache's methods: set before SQLITE_CONFIG_PCACHE2 let SQLite call any of the
/// methods below, so never `None` there.
fn default() -> Option<&'static ffi::sqlite3_pcache_methods2> {
    DEFAULT.get().map(|m| &m.0)
}

/// # Safety
/// `cache` was returned by `create` and not destroyed; SQLite calls a cache's methods under
/// its own mutex, one at a time.
unsafe fn cache<'a>(cache: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    // SAFETY: the caller's promise.
    unsafe { &mut *cache.cast::<Cache>() }
}

unsafe extern "C" fn create(
    page: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let Some(((create, fetch), unpin)) =
        default().and_then(|d| d.xCreate.zip(d.xFetch).zip(d.xUnpin))
    else {
        return std::ptr::null_mut();
    };
    // SAFETY: the default cache's own method, called as SQLite called this one.
    let inner = unsafe { create(page, extra, purgeable) };
    if inner.is_null() {
        return inner;
    }
    let cache = Cache {
        inner,
        fetch,
        unpin,
        lock_page: PENDING_BYTE / page.max(1) as c_uint + 1,
        largest: 0,
        at_lock_page: false,
    };
    Box::into_raw(Box::new(cache)).cast()
}

/// Calls the default cache's method `$method` on the cache's inner cache.
macro_rules! inner {
    ($cache:expr, $method:ident $(, $arg:expr)*) => {{
        let cache: &mut Cache = $cache;
        // SAFETY: the default cache's own method on its own cache, as SQLite called ours.
        default()
            .and_then(|d| d.$method)
            .map(|m| unsafe { m(cache.inner $(, $arg)*) })
    }};
}

unsafe extern "C" fn cachesize(c: *mut ffi::sqlite3_pcache, size: c_int) {
    // SAFETY: SQLite passes a cache `create` made.
    inner!(unsafe { cache(c) }, xCachesize, size);
}

unsafe extern "C" fn pagecount(c: *mut ffi::sqlite3_pcache) -> c_int {
    // SAFETY: SQLite passes a cache `create` made.
    inner!(unsafe { cache(c) }, xPagecount).unwrap_or(0)
}

unsafe extern "C" fn fetch(
    c: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    // SAFETY: SQLite passes a cache `create` made.
    let cache = unsafe { cache(c) };
    // SAFETY: the default cache's own method on its own cache, as SQLite called ours.
    let page = unsafe { (cache.fetch)(cache.inner, key, create) };
    if !page.is_null() {
        if key == cache.lock_page {
            cache.at_lock_page = true;
        } else {
            cache.largest = cache.largest.max(key);
        }
    }
    page
}

unsafe extern "C" fn unpin(
    c: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    // SAFETY: SQLite passes a cache `create` made and a page of it; the default cache's own
    // method on its own cache.
    unsafe {
        let cache = cache(c);
        (cache.unpin)(cache.inner, page, discard);
    }
}

unsafe extern "C" fn rekey(
    c: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    // SAFETY: SQLite passes a cache `create` made and a page of it.
    let cache = unsafe { cache(c) };
    inner!(cache, xRekey, page, old, new);
    if old == cache.lock_page {
        cache.at_lock_page = false;
    }
    if new == cache.lock_page {
        cache.at_lock_page = true;
    } else {
        cache.largest = cache.largest.max(new);
    }
}

unsafe extern "C" fn truncate(c: *mut ffi::sqlite3_pcache, limit: c_uint) {
    // SAFETY: SQLite passes a cache `create` made.
    let cache = unsafe { cache(c) };
    let beyond = cache.largest >= limit || (cache.at_lock_page && cache.lock_page >= limit);
    if beyond {
        inner!(cache, xTruncate, limit);
        cache.largest = cache.largest.min(limit.saturating_sub(1));
        cache.at_lock_page &= cache.lock_page < limit;
    }
    #[cfg(test)]
    tests::note(beyond);
}

unsafe extern "C" fn destroy(c: *mut ffi::sqlite3_pcache) {
    // SAFETY: SQLite destroys a cache `create` made, once, and calls none of its methods after.
    let cache = unsafe { Box::from_raw(c.cast::<Cache>()) };
    if let Some(destroy) = default().and_then(|d| d.xDestroy) {
        // SAFETY: the default cache's own method on its own cache.
        unsafe { destroy(cache.inner) };
    }
}

unsafe extern "C" fn shrink(c: *mut ffi::sqlite3_pcache) {
    // SAFETY: SQLite passes a cache `create` made.
    inner!(unsafe { cache(c) }, xShrink);
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use rusqlite::Connection;

    /// Truncations forwarded to the default cache, and those skipped.
    static FORWARDED: AtomicU64 = AtomicU64::new(0);
    static SKIPPED: AtomicU64 = AtomicU64::new(0);

    pub fn note(forwarded: bool) {
        let counter = if forwarded { &FORWARDED } else { &SKIPPED };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn splits_and_rollbacks(conn: &Connection) {
        conn.execute_batch(
            "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v);",
        )
        .unwrap();
        for round in 0..40 {
            conn.execute_batch("BEGIN").unwrap();
            for i in 0..200 {
                conn.execute(
                    "INSERT INTO t (v) VALUES (?)",
                    [format!(
                        "{:0>6}{}",
                        (round * 7919 + i * 104_729) % 100_000,
                        "v".repeat(200)
                    )],
                )
                .unwrap();
            }
            // Every fourth transaction grows the file and is rolled back: the pages it added
            // must leave the cache, or the next transaction would find them.
            let end = if round % 4 == 3 { "ROLLBACK" } else { "COMMIT" };
            conn.execute_batch(end).unwrap();
        }
    }

    /// Needs a process of its own, in which SQLite starts here and no other thread uses it
    /// meanwhile: nextest runs each test so; under `cargo test` it checks nothing.
    #[test]
    fn a_commit_scans_the_cache_only_when_a_page_may_lie_beyond_the_end_and_data_stays_whole() {
        if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() != Ok("process-per-test") {
            eprintln!("not in a process of its own: nothing checked");
            return;
        }
        let installed = super::install();
        assert!(installed, "SQLite started before the test");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA cache_size = 200;")
            .unwrap();
        splits_and_rollbacks(&conn);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 30 * 200);
        // A fresh connection (its own cache) reads what the first one wrote, whole.
        let other = Connection::open(&path).unwrap();
        let (count, sum): (i64, i64) = other
            .query_row(
                "SELECT count(*), sum(length(v)) FROM t INDEXED BY t_v WHERE v > ''",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((count, sum), (6000, 6000 * 206));
        let (forwarded, skipped) = (
            FORWARDED.load(Ordering::Relaxed),
            SKIPPED.load(Ordering::Relaxed),
        );
        assert!(
            forwarded >= 10,
            "every rollback's truncation forwarded: {forwarded}"
        );
        assert!(
            skipped > forwarded,
            "commits' truncations skipped: {skipped} against {forwarded}"
        );
    }
}
