//! The PostgreSQL engine: threads the store owns, each with its own connection.
//!
//! The synchronous `postgres` client runs a small tokio runtime of its own inside every call,
//! which must never happen on a thread that already runs a tokio runtime (the server calls the
//! store from inside `spawn_blocking` and async code). So no PostgreSQL call ever runs on the
//! caller's thread: connecting, migrating and every write happen on one writer thread, every
//! read on one of a few reader threads; callers hand them closures over channels and block on
//! the reply.
//!
//! Writes are group-committed as on SQLite, but every transaction is `SERIALIZABLE`: the writer
//! takes the first queued job, drains up to [`PG_MAX_BATCH`](writer::PG_MAX_BATCH) more, runs them
//! in ONE transaction with a `SAVEPOINT` per job (a job failing with an ordinary error rolls back
//! only its savepoint and gets its error), and commits once. A serialization failure (SQLSTATE
//! 40001), a deadlock (40P01) or a unique violation (23505: another node took the same seq or id
//! first) anywhere in the batch, the `COMMIT` included, rolls back the WHOLE batch and runs it
//! again after a short jittered pause, up to [`MAX_ATTEMPTS`] times; then every job gets the error.
//! Jobs are therefore `Fn` (re-runnable) and must not have effects outside the transaction.
//!
//! Files: `conn` (one connection: target, statements, values, errors), `setup` (migration and
//! the service-key check), `writer` (the batching, retrying writer loop); this file starts the
//! threads and is the [`Engine`].

mod conn;
mod setup;
mod writer;

pub(crate) use conn::PgTarget;
pub use writer::MAX_ATTEMPTS;

use crate::db::Db;
use crate::engine::{Ctx, Engine, Level, Stats, WriteStats};
use crate::error::StoreError;
use crate::job;
use conn::PgConn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use writer::PgJob;

/// Reader threads (and so read connections) per store handle.
pub const READERS: usize = 4;

type ReadJob = Box<dyn FnOnce(&mut PgConn) + Send>;

pub(crate) struct PgEngine {
    writer: Option<mpsc::Sender<PgJob>>,
    readers: Option<mpsc::Sender<ReadJob>>,
    threads: Vec<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl PgEngine {
    /// Starts the writer thread, which connects, migrates and checks the service key (the
    /// first node to connect records its key; every later one must have the same), then the
    /// reader threads (which connect on their first read).
    pub(crate) fn start(
        target: PgTarget,
        ctx: Ctx,
        public_key_hex: String,
        key_dir: String,
    ) -> Result<PgEngine, StoreError> {
        let stats = Arc::new(Stats::default());
        let (wtx, wrx) = mpsc::channel::<PgJob>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), StoreError>>(1);
        let thread_stats = Arc::clone(&stats);
        let wtarget = target.clone();
        let writer = std::thread::Builder::new()
            .name("deconflict-pg-writer".into())
            .spawn(move || {
                let mut conn = PgConn::new(wtarget);
                let setup = setup::setup(&mut conn, &public_key_hex, &key_dir);
                let ok = setup.is_ok();
                let _ = ready_tx.send(setup);
                if ok {
                    writer::writer_loop(&mut conn, &ctx, &wrx, &thread_stats);
                }
            })
            .map_err(|e| StoreError::Storage(format!("cannot start the writer thread: {e}")))?;
        let mut engine = PgEngine {
            writer: Some(wtx),
            readers: None,
            threads: vec![writer],
            stats,
        };
        ready_rx
            .recv()
            .map_err(|_| StoreError::Storage("the PostgreSQL writer thread stopped during setup".into()))??;

        let (rtx, rrx) = mpsc::channel::<ReadJob>();
        let rrx = Arc::new(Mutex::new(rrx));
        engine.readers = Some(rtx);
        for i in 0..READERS {
            let rrx = Arc::clone(&rrx);
            let rtarget = target.clone();
            let h = std::thread::Builder::new()
                .name(format!("deconflict-pg-reader-{i}"))
                .spawn(move || {
                    let mut conn = PgConn::new(rtarget);
                    loop {
                        let job = {
                            let rx = rrx.lock().unwrap_or_else(|p| p.into_inner());
                            rx.recv()
                        };
                        let Ok(job) = job else { break };
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                        if conn.in_snapshot {
                            conn.in_snapshot = false;
                            let _ = conn.batch("ROLLBACK");
                        }
                    }
                })
                .map_err(|e| StoreError::Storage(format!("cannot start a reader thread: {e}")))?;
            engine.threads.push(h);
        }
        Ok(engine)
    }
}

impl Drop for PgEngine {
    fn drop(&mut self) {
        self.writer = None;
        self.readers = None;
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Storage("the PostgreSQL store threads have stopped".into())
}

impl Engine for PgEngine {
    fn write_at<T, F>(&self, level: Level, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        job::submit(self.writer.as_ref(), level, f, stopped)
    }

    fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static,
    {
        self.read_detached(f).recv().map_err(|_| stopped())?
    }

    fn read_detached<T, F>(&self, f: F) -> mpsc::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: ReadJob = Box::new(move |conn: &mut PgConn| {
            conn.reset();
            let r = f(conn);
            let _ = reply.send(r);
        });
        if let Some(tx) = self.readers.as_ref() {
            // On failure the job (and its reply sender) is dropped: the receiver sees a hang-up.
            let _ = tx.send(job);
        }
        answer
    }

    fn stats(&self) -> WriteStats {
        self.stats.snapshot()
    }
}
