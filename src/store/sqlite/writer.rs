//! Group commit: every write is a job sent to one writer thread. The thread takes all the jobs
//! waiting, runs each inside its own SAVEPOINT of one transaction (so a failing write rolls
//! back alone), commits once (one fsync for the batch), and only then answers each caller. An
//! answer therefore always means "on disk". Between batches it brings the person search index
//! up to date with what the writes queued ([`fts`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use super::db::{SqliteDb, db_error};
use super::{Health, fts};
use crate::domain::ports::StoreError;
use crate::metrics::Histogram;

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 512;

/// What a job does once its batch is committed (or failed to commit): answers its caller.
pub type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// A write: runs on the writer's connection and says whether it succeeded.
pub type Job = Box<dyn FnOnce(&SqliteDb) -> (bool, Completion) + Send>;

/// The writer thread's loop: a batch per wake-up, until every sender is gone; a step of the
/// search indexer whenever a step's worth is queued or no write came for [`fts::IDLE`].
pub fn run(db: SqliteDb, rx: mpsc::Receiver<Job>, sizes: &Histogram, health: &Health) {
    // Persons queued for the index (at least; a step that finds fewer sets it right).
    let mut behind = db.conn().and_then(|c| fts::queued(&c)).unwrap_or(1);
    // How long to wait for a write before a step: longer after each step that failed.
    let mut idle = fts::IDLE;
    // Whether the index's segments may need merging (after steps, until FTS5 says no).
    let mut unmerged = true;
    loop {
        let first = if behind > 0 {
            match rx.recv_timeout(idle) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    match index_step(&db, behind) {
                        Some(left) => (behind, idle, unmerged) = (left, fts::IDLE, true),
                        None => idle = (idle * 2).min(fts::RETRY_AT_MOST),
                    }
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
        while behind >= fts::STEP {
            let Some(left) = index_step(&db, behind) else {
                break;
            };
            (behind, unmerged) = (left, true);
        }
    }
    // The store is closing: catch the index up, for a while (the rest waits for the next start).
    let until = std::time::Instant::now() + fts::CATCH_UP_AT_STOP;
    while behind > 0 && std::time::Instant::now() < until {
        let Some(left) = index_step(&db, behind) else {
            break;
        };
        behind = left;
    }
}

/// One step of the search indexer: how many persons may still be queued, or `None` when it
/// failed (logged; they stay queued for a later step, and searches stay exact meanwhile).
fn index_step(db: &SqliteDb, behind: usize) -> Option<usize> {
    match db.conn().and_then(|c| fts::step(&c)) {
        Ok(n) if n < fts::STEP => Some(0),
        Ok(n) => Some(behind.saturating_sub(n).max(1)),
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
fn run_batch(db: &SqliteDb, batch: Vec<Job>) -> Result<(), StoreError> {
    if let Err(e) = execute(db, "BEGIN IMMEDIATE") {
        // Dropping the jobs unrun drops their reply channels: each caller gets a retryable error.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return Err(e);
    }
    let mut completions = Vec::with_capacity(batch.len());
    for job in batch {
        let (ok, done) = match execute(db, "SAVEPOINT job") {
            Ok(()) => catch_unwind(AssertUnwindSafe(|| job(db))).unwrap_or_else(|_| {
                let err = StoreError::Internal("a write panicked".into());
                (false, completion_with(err))
            }),
            Err(e) => (false, completion_with(e)),
        };
        let end = if ok {
            execute(db, "RELEASE job")
        } else {
            execute(db, "ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "savepoint failed");
        }
        completions.push(done);
    }
    let commit_error = execute(db, "COMMIT").err().inspect(|_| {
        let _ = execute(db, "ROLLBACK");
    });
    for done in completions {
        done(commit_error.as_ref());
    }
    commit_error.map_or(Ok(()), Err)
}

fn completion_with(err: StoreError) -> Completion {
    Box::new(move |_| tracing::error!(error = %err, "write failed before it could answer"))
}
