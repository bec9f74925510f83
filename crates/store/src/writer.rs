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
//! (the `pg` module) does the same grouping with `SERIALIZABLE` transactions and retries.

use crate::StoreError;
use ed25519_dalek::SigningKey;
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// The most jobs one transaction takes.
pub const MAX_BATCH: usize = 256;

/// What the writer thread knows besides its connection.
pub(crate) struct Ctx {
    pub signing: SigningKey,
    /// This node's audit chain.
    pub chain: String,
    /// Sign a checkpoint whenever an entry's seq is a multiple of this (0: never automatically).
    pub checkpoint_every: u64,
}

/// Counters of the writer: how many transactions committed and how many jobs they carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Committed write transactions (one fsync each).
    pub transactions: u64,
    /// Jobs carried by those transactions (failed jobs included).
    pub jobs: u64,
    /// Whole batches rolled back and run again after a serialization failure, a deadlock or a
    /// unique violation caused by another node (PostgreSQL only; always 0 on SQLite).
    pub retries: u64,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub transactions: AtomicU64,
    pub jobs: AtomicU64,
    pub retries: AtomicU64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> WriteStats {
        WriteStats {
            transactions: self.transactions.load(Ordering::Relaxed),
            jobs: self.jobs.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

trait Job: Send {
    /// Runs the job; true when it succeeded.
    fn run(&mut self, conn: &Connection, ctx: &Ctx) -> bool;
    /// The batch failed as a whole: replace a success (or a job that never ran) by `err`.
    fn fail(&mut self, err: StoreError);
    fn reply(self: Box<Self>);
}

struct TypedJob<T, F> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: mpsc::SyncSender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &Ctx) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection, ctx: &Ctx) -> bool {
        let Some(f) = self.f.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(conn, ctx)))
            .unwrap_or_else(|_| Err(StoreError::Storage("write job panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, err: StoreError) {
        if !matches!(self.result, Some(Err(_))) {
            self.result = Some(Err(err));
        }
    }

    fn reply(self: Box<Self>) {
        let this = *self;
        let result = this
            .result
            .unwrap_or_else(|| Err(StoreError::Storage("write job did not run".into())));
        // The caller may have gone away; nothing to do then.
        let _ = this.reply.send(result);
    }
}

pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Job>>>,
    handle: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Writer {
    pub(crate) fn spawn(conn: Connection, ctx: Ctx) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
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
    pub(crate) fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        let stopped = || StoreError::Storage("the writer thread has stopped".into());
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Box<dyn Job> = Box::new(TypedJob {
            f: Some(f),
            result: None,
            reply,
        });
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }

    pub(crate) fn stats(&self) -> WriteStats {
        self.stats.snapshot()
    }
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

fn writer_loop(conn: Connection, ctx: Ctx, rx: mpsc::Receiver<Box<dyn Job>>, stats: Arc<Stats>) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &ctx, &mut batch, &stats);
        for job in batch {
            job.reply();
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn abort(conn: &Connection, batch: &mut [Box<dyn Job>], err: StoreError) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let err = StoreError::Storage(format!("write transaction aborted: {err}"));
    for job in batch.iter_mut() {
        job.fail(err.clone());
    }
}

fn run_batch(conn: &Connection, ctx: &Ctx, batch: &mut [Box<dyn Job>], stats: &Stats) {
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
        Ok(()) => {
            stats.transactions.fetch_add(1, Ordering::Relaxed);
            stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => abort(conn, batch, e),
    }
}
