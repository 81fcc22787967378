//! Group commit: every write is a job sent to one writer thread. The thread takes all the jobs
//! waiting, runs them in one transaction, commits once (one fsync for the batch), and only
//! then answers each caller. An answer therefore always means "on disk". A failing write must
//! roll back alone: the batch runs first without savepoints (SQLite copies every page a
//! savepoint touches, a quarter of a write's time), and only when a job fails is it rolled
//! back and run again with a savepoint per job. Between batches the writer brings the person
//! search index up to date with what the writes queued, one short transaction at a time
//! ([`fts::Turns`]), and checkpoints the WAL once it has [`CHECKPOINT_AT`] frames.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use rusqlite::hooks::Wal;

use super::db::{SqliteDb, db_error};
use super::{Health, fts};
use crate::domain::ports::StoreError;
use crate::metrics::Histogram;

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 512;

/// The WAL's length in frames at which the writer checkpoints it between two batches. SQLite
/// starts its WAL over only after a checkpoint copied every frame, which the background
/// checkpointer, running beside a writer that keeps appending, never does (the WAL reached
/// 520 MB in 5 s of creates without the writer's own). SQLite's own automatic checkpoint (at
/// the same length) ran inside a commit, before the batch's callers were answered: ~2 ms more
/// for them about every thirty batches. The writer's `sqlite3_wal_hook` replaces it.
const CHECKPOINT_AT: i32 = 1000;

thread_local! {
    /// The WAL's length in frames after the writer thread's last commit.
    static WAL_FRAMES: Cell<i32> = const { Cell::new(0) };
}

/// The writer connection's WAL hook: notes the WAL's length after each commit.
fn note_wal_frames(_: &Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(frames);
    Ok(())
}

/// Checkpoints the WAL (`PASSIVE`, as SQLite's automatic checkpoint) when the last commit left
/// it [`CHECKPOINT_AT`] frames long or more; whether it was due.
fn checkpoint_if_due(db: &SqliteDb) -> bool {
    if WAL_FRAMES.get() < CHECKPOINT_AT {
        return false;
    }
    WAL_FRAMES.set(0);
    if let Err(e) = execute(db, "PRAGMA wal_checkpoint(PASSIVE)") {
        tracing::warn!(error = %e, "checkpointing the WAL failed; will retry");
    }
    true
}

/// How many persons may stay queued for the index after the writer's turns between two
/// batches: one turn when fewer are, more until fewer are (an import's batches queue
/// thousands of persons each; one step per batch would leave the index ever further behind).
const CATCH_UP_AT: usize = 2 * fts::STEP;

/// A write sent to the writer thread.
pub trait Job: Send {
    /// Runs the write on the writer's connection, inside the batch's transaction, keeping its
    /// outcome; whether it succeeded. A job may be run again after a rollback: the last run's
    /// outcome is the one answered.
    fn run(&mut self, db: &SqliteDb) -> bool;
    /// Answers the caller once the batch is committed, or failed to commit (`commit_error`).
    fn answer(self: Box<Self>, commit_error: Option<&StoreError>);
}

/// Runs a job without a savepoint: whether the transaction holds only whole writes after it
/// (the job succeeded, or failed without changing a row).
fn run_cleanly(db: &SqliteDb, job: &mut dyn Job) -> bool {
    let changes = || db.conn().map(|c| c.total_changes()).ok();
    let before = changes();
    run_guarded(db, job) || (before.is_some() && changes() == before)
}

/// A job's run, with a panic taken as the write's failure.
fn run_guarded(db: &SqliteDb, job: &mut dyn Job) -> bool {
    catch_unwind(AssertUnwindSafe(|| job.run(db))).unwrap_or_else(|_| {
        tracing::error!("a write panicked");
        false
    })
}

/// The writer thread's loop: a batch per wake-up, until every sender is gone; a step of the
/// search indexer whenever a step's worth is queued or no write came for [`fts::IDLE`].
pub fn run(db: SqliteDb, rx: mpsc::Receiver<Box<dyn Job>>, sizes: &Histogram, health: &Health) {
    if let Ok(conn) = db.conn() {
        conn.wal_hook(Some(note_wal_frames));
    }
    // Persons queued for the index (at least; a step that finds fewer sets it right).
    let mut behind = db.conn().and_then(|c| fts::queued(&c)).unwrap_or(1);
    // How long to wait for a write before a step: longer after each step that failed.
    let mut idle = fts::IDLE;
    // Whether the index's segments may need merging (after steps, until FTS5 says no).
    let mut unmerged = true;
    // Steps and their merges between batches, one per turn.
    let mut turns = fts::Turns::default();
    loop {
        let first = if behind > 0 {
            match rx.recv_timeout(idle) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    match index_step(&db, behind) {
                        Some(left) => (behind, idle, unmerged) = (left, fts::IDLE, true),
                        None => idle = (idle * 2).min(fts::RETRY_AT_MOST),
                    }
                    checkpoint_if_due(&db);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else if unmerged {
            // Nothing queued: merge what the steps left, a little at a time between writes.
            match rx.recv_timeout(fts::IDLE) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    unmerged = db
                        .conn()
                        .and_then(|c| fts::merge_some(&c))
                        .unwrap_or_else(|e| {
                            tracing::error!(error = %e, "merging the search index failed");
                            false
                        });
                    checkpoint_if_due(&db);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            // Now and then, look for persons another process queued (an import, say).
            match rx.recv_timeout(fts::LOOK_AGAIN) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    behind = db.conn().and_then(|c| fts::queued(&c)).unwrap_or(0);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        sizes.observe(batch.len() as f64);
        match run_batch(&db, batch) {
            Ok(()) => health.recover(),
            Err(e) => health.fail(format!("writes are failing: {e}")),
        }
        behind += db.take_queued();
        // Turns between batches, each its own transaction: the WAL's checkpoint when it is due,
        // else the index's next (a step or a merge). One, or as many as bring the index within
        // `CATCH_UP_AT` persons of the writes.
        loop {
            let took = checkpoint_if_due(&db)
                || match db.conn().and_then(|c| turns.take(&c, behind)) {
                    Ok(fts::Turn::Stepped(n)) => {
                        (behind, unmerged) = (fts::left(behind, n), true);
                        true
                    }
                    Ok(fts::Turn::Merged) => true,
                    Ok(fts::Turn::Idle) => false,
                    Err(e) => {
                        tracing::error!(error = %e, "the search index could not catch up; will retry");
                        false
                    }
                };
            if !took || behind < CATCH_UP_AT {
                break;
            }
        }
    }
    // The store is closing: catch the index up, for a while (the rest waits for the next start).
    let until = std::time::Instant::now() + fts::CATCH_UP_AT_STOP;
    while behind > 0 && std::time::Instant::now() < until {
        let Some(left) = index_step(&db, behind) else {
            break;
        };
        behind = left;
        checkpoint_if_due(&db);
    }
}

/// One step of the search indexer: how many persons may still be queued, or `None` when it
/// failed (logged; they stay queued for a later step, and searches stay exact meanwhile).
fn index_step(db: &SqliteDb, behind: usize) -> Option<usize> {
    match db.conn().and_then(|c| fts::step(&c)) {
        Ok(n) => Some(fts::left(behind, n)),
        Err(e) => {
            tracing::error!(error = %e, "the search index could not catch up; will retry");
            None
        }
    }
}

fn execute(db: &SqliteDb, sql: &str) -> Result<(), StoreError> {
    db.conn()?.execute_batch(sql).map_err(db_error)
}

/// Runs a batch; an error when it could not be committed (every caller was told).
fn run_batch(db: &SqliteDb, mut batch: Vec<Box<dyn Job>>) -> Result<(), StoreError> {
    if let Err(e) = execute(db, "BEGIN IMMEDIATE") {
        // Dropping the jobs unrun drops their reply channels: each caller gets a retryable error.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return Err(e);
    }
    // Optimistically, no savepoints. A job that fails having changed nothing (most refusals
    // come before any write) leaves the batch as it was; one that fails after changing rows
    // may have written part of its change, and the batch runs again.
    if !batch.iter_mut().all(|job| run_cleanly(db, job.as_mut())) {
        if let Err(e) = execute(db, "ROLLBACK; BEGIN IMMEDIATE") {
            tracing::error!(error = %e, jobs = batch.len(), "cannot run a batch again");
            let _ = execute(db, "ROLLBACK");
            return Err(e);
        }
        for job in &mut batch {
            let end = match execute(db, "SAVEPOINT job") {
                Ok(()) if run_guarded(db, job.as_mut()) => execute(db, "RELEASE job"),
                Ok(()) => execute(db, "ROLLBACK TO job; RELEASE job"),
                Err(e) => Err(e),
            };
            if let Err(e) = end {
                // The batch cannot be trusted to hold only whole writes: nothing is committed.
                tracing::error!(error = %e, "savepoint failed");
                let _ = execute(db, "ROLLBACK");
                return Err(e);
            }
        }
    }
    let commit_error = execute(db, "COMMIT").err().inspect(|_| {
        let _ = execute(db, "ROLLBACK");
    });
    for job in batch {
        job.answer(commit_error.as_ref());
    }
    commit_error.map_or(Ok(()), Err)
}
