//! The single writer thread and its group commit.
//!
//! Every write is a job: a closure run on the writer thread against the write connection.
//! Callers send a boxed job over a channel and block on a reply. The writer takes the first
//! job, drains whatever else is queued (up to [`MAX_BATCH`] jobs), runs them all in ONE
//! `BEGIN IMMEDIATE` transaction with a `SAVEPOINT` per job, commits once (one fsync), and only
//! then replies to every caller. A failing job rolls back only its own savepoint and gets its
//! own error; the others still commit. If the commit itself fails, every job of the batch gets
//! the error and nothing of the batch is kept.
//!
//! This is the SQLite writer; `BEGIN IMMEDIATE` takes SQLite's write lock, so another process
//! writing the same file waits (busy timeout) instead of interleaving. The PostgreSQL writer
//! (the `pg` module) does the same grouping with `SERIALIZABLE` transactions and retries; both
//! queue the same jobs (the `job` module).

use crate::db::Db;
use crate::engine::{Ctx, Level, Stats, WriteStats};
use crate::error::StoreError;
use crate::job::{self, Job};
use rusqlite::Connection;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// The most jobs one transaction takes.
pub const MAX_BATCH: usize = 256;

pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Job<Connection>>>>,
    handle: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Writer {
    pub(crate) fn spawn(conn: Connection, ctx: Ctx) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job<Connection>>>();
        let stats = Arc::new(Stats::default());
        let thread_stats = Arc::clone(&stats);
        let handle = std::thread::Builder::new()
            .name("deconflict-store-writer".into())
            .spawn(move || writer_loop(conn, ctx, rx, thread_stats))
            .map_err(|e| StoreError::Storage(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            handle: Some(handle),
            stats,
        })
    }

    /// Runs `f` on the writer thread inside the next group transaction; returns once committed.
    /// (Every level is the same here: the one writer is serial.)
    pub(crate) fn run<T, F>(&self, level: Level, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        job::submit(self.tx.as_ref(), level, f, stopped)
    }

    pub(crate) fn stats(&self) -> WriteStats {
        self.stats.snapshot()
    }
}

fn stopped() -> StoreError {
    StoreError::Storage("the writer thread has stopped".into())
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the loop once the queued jobs are done.
        self.tx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn writer_loop(
    mut conn: Connection,
    ctx: Ctx,
    rx: mpsc::Receiver<Box<dyn Job<Connection>>>,
    stats: Arc<Stats>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut conn, &ctx, &mut batch, &stats);
        for job in batch {
            job.reply();
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn abort(conn: &Connection, batch: &mut [Box<dyn Job<Connection>>], err: StoreError) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let err = StoreError::Storage(format!("write transaction aborted: {err}"));
    for job in batch.iter_mut() {
        job.fail(err.clone());
    }
}

fn run_batch(conn: &mut Connection, ctx: &Ctx, batch: &mut [Box<dyn Job<Connection>>], stats: &Stats) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        abort(conn, batch, e);
        return;
    }
    for i in 0..batch.len() {
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            abort(conn, batch, e);
            return;
        }
        let ok = batch[i].run(conn, ctx);
        let end = if ok {
            exec(conn, "RELEASE job")
        } else {
            exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))
        };
        if let Err(e) = end {
            abort(conn, batch, e);
            return;
        }
    }
    match exec(conn, "COMMIT") {
        Ok(()) => stats.committed(batch.len()),
        Err(e) => abort(conn, batch, e),
    }
}
