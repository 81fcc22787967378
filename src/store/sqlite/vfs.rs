//! The file layer under every SQLite file the store opens: the platform's own (`unix`), except
//! that a WAL file's writes are gathered and handed to the kernel a commit at a time (in pieces
//! of at most 124 KiB: two `pwrite`s for a batch of creates).
//!
//! SQLite appends a commit to the WAL frame by frame, each as two writes (its 24-byte header,
//! then the page), so a batch of creates touching ~30 pages made ~60 system calls, each page
//! of the kernel's cache written two or three times over. Those writes were a fifth of the
//! writer thread's time. Here they wait in memory while they follow on from one another, and
//! go to the file at the latest when SQLite syncs the WAL, reads it, asks its size, truncates
//! or closes it, and as soon as a commit's last frame is written (so that another connection
//! that sees the commit finds it in the file, whatever the writer's `synchronous`). What SQLite
//! counts on from a write is unchanged: nothing is durable before `xSync`, and every byte it
//! wrote is in the file before anyone may read it.
//!
//! One of the three places pipestack calls SQLite's C API itself (with `snapshot.rs` and
//! `pcache.rs`): rusqlite has no wrapper for a VFS.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name connections open files by (`Connection::open_with_flags_and_vfs`).
pub const NAME: &CStr = c"pipestack";

/// The most bytes gathered before they are written: a commit of ~60 pages. A larger
/// transaction (an import's) is written a gathering at a time.
const GATHER_AT_MOST: usize = 256 * 1024;

/// The most bytes the platform's `xWrite` takes in one call (SQLite's `unix` VFS keeps only
/// the low 17 bits of a write's length).
const WRITE_AT_MOST: usize = 0x1_F000;

/// The size of a WAL frame's header; its bytes 4..8 are the database's size after a commit,
/// zero in every frame but a commit's last.
const FRAME_HEADER: c_int = 24;

/// The platform's VFS, which does all the work (its address, set once by [`register`]).
static PLATFORM: OnceLock<usize> = OnceLock::new();

/// Registers the VFS (once per process; later calls return the first call's outcome).
pub fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // SAFETY: `sqlite3_vfs_find` initializes SQLite if need be and returns the default
            // VFS, which lives as long as the process (it is never unregistered).
            let platform = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
            if platform.is_null() {
                return Err("SQLite has no default VFS".into());
            }
            // SAFETY: `platform` is a valid, registered VFS (above); copying it copies plain
            // fields and function pointers. Its functions other than `xOpen` are kept as they
            // are: they receive this VFS, whose fields are the platform's own (its `pAppData`
            // and `mxPathname` among them).
            let vfs = unsafe {
                ffi::sqlite3_vfs {
                    szOsFile: HEADER as c_int + (*platform).szOsFile,
                    pNext: std::ptr::null_mut(),
                    zName: NAME.as_ptr(),
                    xOpen: Some(open),
                    ..*platform
                }
            };
            PLATFORM.get_or_init(|| platform as usize);
            // SAFETY: the VFS is leaked, so it outlives every connection; registering it does
            // not make it the default.
            let rc = unsafe { ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0) };
            if rc == ffi::SQLITE_OK {
                Ok(())
            } else {
                Err(format!("cannot register SQLite's file layer (error {rc})"))
            }
        })
        .clone()
}

fn platform() -> *mut ffi::sqlite3_vfs {
    PLATFORM
        .get()
        .map_or(std::ptr::null_mut(), |&p| p as *mut _)
}

/// A WAL file: SQLite's file handle, whose platform file lies after it (at [`HEADER`]).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    gathered: *mut Gathered,
}

/// Where the platform's file starts in SQLite's allocation for a file.
const HEADER: usize = std::mem::size_of::<WalFile>().next_multiple_of(8);

/// Writes not yet handed to the file: `bytes` go at offset `at`.
#[derive(Default)]
struct Gathered {
    at: i64,
    bytes: Vec<u8>,
    /// The last write was a commit's last frame's header: its page ends the commit.
    ends_commit: bool,
}

/// Opens a file: a WAL file wrapped, any other the platform's as it is (at the start of the
/// allocation, so SQLite calls the platform's methods directly).
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let platform = platform();
    // SAFETY: `open` is reachable only through the VFS `register` made after setting PLATFORM.
    let Some(platform_open) = (unsafe { (*platform).xOpen }) else {
        return ffi::SQLITE_CANTOPEN;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // SAFETY: SQLite allocated `file` with this VFS's `szOsFile`, more than the platform's.
        return unsafe { platform_open(platform, name, file, flags, out_flags) };
    }
    // SAFETY: as above; the platform's file fits after HEADER, which keeps its alignment (8).
    // SQLite must find no methods on a file that failed to open, or it would close it.
    unsafe {
        (*file).pMethods = std::ptr::null();
        let rc = platform_open(platform, name, inner(file), flags, out_flags);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let wal = file.cast::<WalFile>();
        (*wal).gathered = Box::into_raw(Box::default());
        (*wal).base.pMethods = &WAL_METHODS;
        ffi::SQLITE_OK
    }
}

/// The platform's file inside a wrapped one.
///
/// # Safety
/// `file` is a file this VFS opened.
unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: the allocation is HEADER bytes longer than the platform's file (`register`).
    unsafe { file.cast::<u8>().add(HEADER).cast() }
}

/// The writes gathered for a WAL file this VFS opened.
///
/// # Safety
/// `file` is a WAL file this VFS opened and has not closed; SQLite uses a file from one
/// thread at a time, so no other reference to its writes exists meanwhile.
unsafe fn gathered<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Gathered {
    // SAFETY: see above; `gathered` was set by `open` and is freed only by `close`.
    unsafe { &mut *(*file.cast::<WalFile>()).gathered }
}

/// The platform file's methods.
///
/// # Safety
/// `inner` is an open platform file.
unsafe fn methods<'a>(inner: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: an open file has methods, which live as long as the platform's VFS.
    unsafe { &*(*inner).pMethods }
}

/// Hands the gathered writes to the file, in as few writes as the platform takes.
///
/// # Safety
/// `file` is a WAL file this VFS opened and has not closed.
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the caller's promise.
    let (gathered, inner) = unsafe { (gathered(file), inner(file)) };
    // Every read of a WAL comes here first; a reader's file has never gathered anything.
    if gathered.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: as above.
    let Some(write) = (unsafe { methods(inner) }).xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let mut at = gathered.at;
    let mut rc = ffi::SQLITE_OK;
    for piece in gathered.bytes.chunks(WRITE_AT_MOST) {
        // SAFETY: the platform's xWrite reads `piece`, which outlives the call.
        rc = unsafe { write(inner, piece.as_ptr().cast(), piece.len() as c_int, at) };
        #[cfg(test)]
        tests::WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += piece.len() as i64;
    }
    // After a failed write SQLite fails the transaction; the bytes are not tried again.
    gathered.bytes.clear();
    rc
}

unsafe extern "C" fn wal_write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes a WAL file this VFS opened and `amount` readable bytes at `data`.
    unsafe {
        let gathered = gathered(file);
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), amount.max(0) as usize);
        let follows = gathered.at + gathered.bytes.len() as i64 == offset;
        if !gathered.bytes.is_empty()
            && (!follows || gathered.bytes.len() + bytes.len() > GATHER_AT_MOST)
        {
            let rc = flush(file);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        if gathered.bytes.is_empty() {
            gathered.at = offset;
        }
        gathered.bytes.extend_from_slice(bytes);
        let ends_commit = std::mem::take(&mut gathered.ends_commit);
        if amount == FRAME_HEADER {
            gathered.ends_commit = bytes[4..8] != [0; 4];
        }
        if ends_commit || gathered.bytes.len() >= GATHER_AT_MOST {
            return flush(file);
        }
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn wal_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file it opened through this VFS once; its writes are freed here.
    unsafe {
        let flushed = flush(file);
        let inner = inner(file);
        let closed = methods(inner)
            .xClose
            .map_or(ffi::SQLITE_OK, |close| close(inner));
        drop(Box::from_raw((*file.cast::<WalFile>()).gathered));
        (*file).pMethods = std::ptr::null();
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

/// A method of the platform's file, called on the wrapped file's platform file after the
/// gathered writes are in it (`flush`) or as it is (`as_is`).
macro_rules! forward {
    ($name:ident, $method:ident, flush, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite passes a WAL file this VFS opened.
            unsafe {
                let rc = flush(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                let inner = inner(file);
                methods(inner).$method.map_or($missing, |m| m(inner $(, $arg)*))
            }
        }
    };
    ($name:ident, $method:ident, as_is, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite passes a WAL file this VFS opened.
            unsafe {
                let inner = inner(file);
                methods(inner).$method.map_or($missing, |m| m(inner $(, $arg)*))
            }
        }
    };
}

forward!(wal_read, xRead, flush, (buf: *mut c_void, amount: c_int, offset: i64), ffi::SQLITE_IOERR_READ);
forward!(wal_truncate, xTruncate, flush, (size: i64), ffi::SQLITE_IOERR_TRUNCATE);
forward!(wal_sync, xSync, flush, (flags: c_int), ffi::SQLITE_IOERR_FSYNC);
forward!(wal_file_size, xFileSize, flush, (size: *mut i64), ffi::SQLITE_IOERR_FSTAT);
forward!(wal_lock, xLock, as_is, (level: c_int), ffi::SQLITE_OK);
forward!(wal_unlock, xUnlock, as_is, (level: c_int), ffi::SQLITE_OK);
forward!(wal_reserved, xCheckReservedLock, as_is, (out: *mut c_int), ffi::SQLITE_OK);
forward!(wal_control, xFileControl, flush, (op: c_int, arg: *mut c_void), ffi::SQLITE_NOTFOUND);
forward!(wal_sector_size, xSectorSize, as_is, (), 4096);
forward!(wal_characteristics, xDeviceCharacteristics, as_is, (), 0);
forward!(wal_shm_map, xShmMap, as_is, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR_SHMMAP);
forward!(wal_shm_lock, xShmLock, as_is, (offset: c_int, n: c_int, flags: c_int), ffi::SQLITE_IOERR_SHMLOCK);
forward!(wal_shm_unmap, xShmUnmap, as_is, (delete: c_int), ffi::SQLITE_OK);
forward!(wal_fetch, xFetch, flush, (offset: i64, amount: c_int, out: *mut *mut c_void), ffi::SQLITE_OK);
forward!(wal_unfetch, xUnfetch, as_is, (offset: i64, page: *mut c_void), ffi::SQLITE_OK);

unsafe extern "C" fn wal_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite passes a WAL file this VFS opened.
    unsafe {
        let inner = inner(file);
        if let Some(barrier) = methods(inner).xShmBarrier {
            barrier(inner);
        }
    }
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(wal_close),
    xRead: Some(wal_read),
    xWrite: Some(wal_write),
    xTruncate: Some(wal_truncate),
    xSync: Some(wal_sync),
    xFileSize: Some(wal_file_size),
    xLock: Some(wal_lock),
    xUnlock: Some(wal_unlock),
    xCheckReservedLock: Some(wal_reserved),
    xFileControl: Some(wal_control),
    xSectorSize: Some(wal_sector_size),
    xDeviceCharacteristics: Some(wal_characteristics),
    xShmMap: Some(wal_shm_map),
    xShmLock: Some(wal_shm_lock),
    xShmBarrier: Some(wal_shm_barrier),
    xShmUnmap: Some(wal_shm_unmap),
    xFetch: Some(wal_fetch),
    xUnfetch: Some(wal_unfetch),
};

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use rusqlite::{Connection, OpenFlags};

    use super::*;

    /// Writes handed to WAL files, by every test of the process.
    pub(super) static WRITES: AtomicU64 = AtomicU64::new(0);

    fn open(path: &std::path::Path, synchronous: &str) -> Connection {
        register().unwrap();
        let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), NAME).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};"
        ))
        .unwrap();
        conn
    }

    #[test]
    fn a_commit_of_many_pages_is_written_to_the_wal_in_a_write_or_two() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("t.db"), "FULL");
        conn.execute_batch("CREATE TABLE t (v TEXT); CREATE INDEX t_v ON t (v);")
            .unwrap();
        let before = WRITES.load(Ordering::Relaxed);
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..200 {
            conn.execute(
                "INSERT INTO t VALUES (?)",
                [format!("{i:0>4}{}", "x".repeat(500))],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        let frames: i64 = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(frames > 50, "the commit wrote {frames} frames");
        // Other tests may write meanwhile; a write per frame would be over a hundred.
        let writes = WRITES.load(Ordering::Relaxed) - before;
        assert!(writes < 20, "{frames} frames in {writes} writes");
    }

    #[test]
    fn a_transaction_larger_than_the_gathering_reads_back_whole_and_survives_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open(&path, "FULL");
        // A small cache makes SQLite spill pages to the WAL before the commit, read them back
        // and write some of them again in place.
        writer
            .execute_batch("PRAGMA cache_size = 10; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v);")
            .unwrap();
        writer.execute_batch("BEGIN").unwrap();
        for i in 0..4000 {
            writer
                .execute(
                    "INSERT INTO t VALUES (?, ?)",
                    rusqlite::params![i, format!("{:0>6}{}", (i * 7919) % 4000, "y".repeat(300))],
                )
                .unwrap();
        }
        writer
            .execute_batch("UPDATE t SET v = v || 'z' WHERE k % 3 = 0; COMMIT")
            .unwrap();
        // What a crash would leave: the files as they are now, the writer still open.
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        std::fs::copy(dir.path().join("t.db-wal"), dir.path().join("copy.db-wal")).unwrap();
        for file in [&path, &copy] {
            let reader = open(file, "FULL");
            let check: String = reader
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            let seen: (i64, i64, i64) = reader
                .query_row(
                    "SELECT count(*), sum(k), sum(v LIKE '%z') FROM t",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(seen, (4000, 3999 * 4000 / 2, 1334), "{}", file.display());
        }
    }

    #[test]
    fn another_connection_finds_a_commit_in_the_file_whatever_the_writer_s_synchronous() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open(&path, "OFF");
        writer.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        let reader = open(&path, "FULL");
        for i in 1..=50 {
            writer
                .execute("INSERT INTO t VALUES (?)", [i.to_string()])
                .unwrap();
            let last: (i64, String) = reader
                .query_row("SELECT count(*), max(v + 0) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)?.to_string()))
                })
                .unwrap();
            assert_eq!(last, (i, i.to_string()));
        }
    }
}
