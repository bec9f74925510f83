//! The PostgreSQL writer loop: batches of one [`Level`], each run in ONE transaction with a
//! savepoint per job, and the whole batch rolled back and run again (up to [`MAX_ATTEMPTS`]
//! times) after a retryable failure (see the `pg` module docs).

use super::conn::{backoff, PgConn};
use crate::engine::{Ctx, Level, Stats};
use crate::error::StoreError;
use crate::job::Job;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

/// How many times a batch is tried before its jobs get the serialization error.
pub const MAX_ATTEMPTS: u32 = 30;
/// The most jobs one PostgreSQL transaction takes. Smaller than SQLite's batch: a
/// serialization failure re-runs the whole batch, and a big transaction (a job may upsert
/// thousands of reports) both fails more often and costs more to redo. Measured with
/// `deconflict bench cluster`.
pub(super) const PG_MAX_BATCH: usize = 16;
/// ... and of SERIALIZABLE jobs (filings, administration), whose reads conflict with other
/// nodes' writes: few per transaction keeps the read set, and the work a retry redoes, small.
pub(super) const PG_SERIALIZABLE_BATCH: usize = 4;

/// A job of the PostgreSQL writer.
pub(super) type PgJob = Box<dyn Job<PgConn>>;

pub(super) fn writer_loop(conn: &mut PgConn, ctx: &Ctx, rx: &mpsc::Receiver<PgJob>, stats: &Stats) {
    // A batch holds jobs of one level; a job of another level waits for the next batch.
    let mut held: Option<PgJob> = None;
    loop {
        let first = match held.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        let level = first.level();
        let cap = match level {
            Level::Serializable => PG_SERIALIZABLE_BATCH,
            Level::ReadCommitted => PG_MAX_BATCH,
            Level::Alone => 1,
        };
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < cap {
            match rx.try_recv() {
                Ok(job) if job.level() == level => batch.push(job),
                Ok(job) => {
                    held = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(conn, ctx, &mut batch, stats);
        for job in batch {
            job.reply();
        }
    }
}

enum Outcome {
    Committed,
    /// Roll back and run the whole batch again.
    Retry(StoreError),
    /// Roll back; every job gets the error.
    Failed(StoreError),
}

fn run_batch(conn: &mut PgConn, ctx: &Ctx, batch: &mut [PgJob], stats: &Stats) {
    for attempt in 0..MAX_ATTEMPTS {
        match try_batch(conn, ctx, batch) {
            Outcome::Committed => {
                stats.committed(batch.len());
                return;
            }
            Outcome::Retry(e) => {
                let _ = conn.batch("ROLLBACK");
                if attempt + 1 == MAX_ATTEMPTS {
                    let err = StoreError::Storage(format!(
                        "write transaction failed {MAX_ATTEMPTS} times under contention: {e}"
                    ));
                    for job in batch.iter_mut() {
                        job.set_err(err.clone());
                    }
                    return;
                }
                stats.retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(backoff(
                    attempt,
                    Duration::from_millis(2),
                    Duration::from_millis(250),
                ));
            }
            Outcome::Failed(e) => {
                let _ = conn.batch("ROLLBACK");
                let err = StoreError::Storage(format!("write transaction aborted: {e}"));
                for job in batch.iter_mut() {
                    job.set_err(err.clone());
                }
                return;
            }
        }
    }
}

/// Classifies the failure of a control statement.
fn control(conn: &mut PgConn, sql: &str) -> Result<(), Outcome> {
    conn.reset();
    match conn.batch(sql) {
        Ok(()) => Ok(()),
        Err(e) => Err(match conn.retry.take() {
            Some(r) => Outcome::Retry(r),
            None => Outcome::Failed(e),
        }),
    }
}

fn try_batch(conn: &mut PgConn, ctx: &Ctx, batch: &mut [PgJob]) -> Outcome {
    let begin = if batch.iter().any(|j| j.level() == Level::Serializable) {
        // A serializable transaction that waits on a row another transaction holds ends in a
        // serialization failure anyway once that one commits; failing fast instead (and being
        // retried) also breaks, within 100 ms rather than PostgreSQL's 1 s deadlock_timeout,
        // any cycle with another node's alert transaction (a batch of filings appends alerts
        // in job order, not party order).
        "BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL lock_timeout = '100ms'"
    } else {
        "BEGIN ISOLATION LEVEL READ COMMITTED"
    };
    if let Err(o) = control(conn, begin) {
        return o;
    }
    for job in batch.iter_mut() {
        if let Err(o) = control(conn, "SAVEPOINT job") {
            return o;
        }
        conn.reset();
        let ok = job.run(conn, ctx);
        if let Some(r) = conn.retry.take() {
            return Outcome::Retry(r);
        }
        let end = if ok {
            control(conn, "RELEASE SAVEPOINT job")
        } else {
            control(conn, "ROLLBACK TO SAVEPOINT job").and_then(|()| control(conn, "RELEASE SAVEPOINT job"))
        };
        if let Err(o) = end {
            return o;
        }
    }
    match control(conn, "COMMIT") {
        Ok(()) => Outcome::Committed,
        Err(o) => o,
    }
}
