//! A write job, as both writers (SQLite's `writer` module and the `pg` module) queue and run
//! it: the caller's closure, the transaction [`Level`] it asked for, its outcome and the
//! channel its caller waits on.
//!
//! A writer holds jobs as `Box<dyn Job<C>>`, `C` being its connection type; a connection
//! implements [`WriteConn`] to show itself to the closure as a [`Db`]. [`submit`] queues a job
//! and blocks until the writer replied.

use crate::db::{Db, SqliteDb};
use crate::engine::{Ctx, Level};
use crate::error::StoreError;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

/// A writer's connection, as its jobs see it.
pub(crate) trait WriteConn {
    /// Runs `f` on the connection seen as a [`Db`].
    fn with_db<R>(&mut self, f: impl FnOnce(&mut dyn Db) -> R) -> R;
    /// A database error the job met since the writer last reset the connection, whether or
    /// not the job passed it on (a job that swallowed one must not commit over it).
    fn take_failure(&mut self) -> Option<StoreError>;
}

impl WriteConn for rusqlite::Connection {
    fn with_db<R>(&mut self, f: impl FnOnce(&mut dyn Db) -> R) -> R {
        f(&mut SqliteDb(self))
    }

    /// SQLite reports every error to the statement's caller; nothing is left behind.
    fn take_failure(&mut self) -> Option<StoreError> {
        None
    }
}

/// One queued write, whatever its result type.
pub(crate) trait Job<C>: Send {
    /// The transaction the job needs.
    fn level(&self) -> Level;
    /// Runs the job (again, on a PostgreSQL retry); true when it succeeded.
    fn run(&mut self, conn: &mut C, ctx: &Ctx) -> bool;
    /// The batch failed as a whole: replace a success (or a job that never ran) by `err`,
    /// keeping a job's own error.
    fn fail(&mut self, err: StoreError);
    /// Records `err` as the job's outcome, whatever it was.
    fn set_err(&mut self, err: StoreError);
    /// Sends the outcome to the caller.
    fn reply(self: Box<Self>);
}

/// A [`Job`] returning `T`.
pub(crate) struct TypedJob<T, F> {
    level: Level,
    f: F,
    result: Option<Result<T, StoreError>>,
    reply: mpsc::SyncSender<Result<T, StoreError>>,
}

impl<C, T, F> Job<C> for TypedJob<T, F>
where
    C: WriteConn,
    T: Send,
    F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send,
{
    fn level(&self) -> Level {
        self.level
    }

    fn run(&mut self, conn: &mut C, ctx: &Ctx) -> bool {
        let f = &self.f;
        let result = conn
            .with_db(|db| catch_unwind(AssertUnwindSafe(|| f(db, ctx))))
            .unwrap_or_else(|_| Err(StoreError::Storage("write job panicked".into())));
        // A job that swallowed a database error must not commit over it.
        let result = match (result, conn.take_failure()) {
            (Ok(_), Some(e)) => Err(e),
            (r, _) => r,
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, err: StoreError) {
        if !matches!(self.result, Some(Err(_))) {
            self.result = Some(Err(err));
        }
    }

    fn set_err(&mut self, err: StoreError) {
        self.result = Some(Err(err));
    }

    fn reply(self: Box<Self>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Storage("write job did not run".into())));
        // The caller may have gone away; nothing to do then.
        let _ = self.reply.send(result);
    }
}

/// Queues `f` as a job of `level` on a writer's channel (`None`: the writer is shut down) and
/// waits for its outcome; `stopped` is the error when the writer is gone.
pub(crate) fn submit<C, T, F>(
    writer: Option<&mpsc::Sender<Box<dyn Job<C>>>>,
    level: Level,
    f: F,
    stopped: fn() -> StoreError,
) -> Result<T, StoreError>
where
    C: WriteConn + 'static,
    T: Send + 'static,
    F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, answer) = mpsc::sync_channel(1);
    let job: Box<dyn Job<C>> = Box::new(TypedJob {
        level,
        f,
        result: None,
        reply,
    });
    writer.ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
    answer.recv().map_err(|_| stopped())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// A connection that may report an error its job swallowed.
    struct Fake {
        conn: rusqlite::Connection,
        swallowed: Option<StoreError>,
    }

    impl WriteConn for Fake {
        fn with_db<R>(&mut self, f: impl FnOnce(&mut dyn Db) -> R) -> R {
            f(&mut SqliteDb(&self.conn))
        }

        fn take_failure(&mut self) -> Option<StoreError> {
            self.swallowed.take()
        }
    }

    fn ctx() -> Ctx {
        Ctx {
            signing: SigningKey::from_bytes(&[7u8; 32]),
            chain: "main".into(),
            checkpoint_every: 0,
        }
    }

    fn job(ok: bool) -> (Box<dyn Job<Fake>>, mpsc::Receiver<Result<u64, StoreError>>) {
        let (reply, answer) = mpsc::sync_channel(1);
        let f = move |db: &mut dyn Db, _: &Ctx| -> Result<u64, StoreError> {
            let n = db.query_one("SELECT 41 + 1 AS n", &[])?.i64("n")?;
            if ok {
                Ok(n as u64)
            } else {
                Err(StoreError::Conflict("own".into()))
            }
        };
        let job: Box<dyn Job<Fake>> = Box::new(TypedJob {
            level: Level::Serializable,
            f,
            result: None,
            reply,
        });
        (job, answer)
    }

    fn fake(swallowed: Option<StoreError>) -> Fake {
        Fake {
            conn: rusqlite::Connection::open_in_memory().unwrap(),
            swallowed,
        }
    }

    #[test]
    fn a_job_runs_and_replies() {
        let (mut j, answer) = job(true);
        assert_eq!(j.level(), Level::Serializable);
        assert!(j.run(&mut fake(None), &ctx()));
        j.reply();
        assert_eq!(answer.recv().unwrap(), Ok(42));
    }

    #[test]
    fn a_job_that_swallowed_a_database_error_fails_with_it() {
        let (mut j, answer) = job(true);
        let err = StoreError::Storage("lost".into());
        assert!(!j.run(&mut fake(Some(err.clone())), &ctx()));
        j.reply();
        assert_eq!(answer.recv().unwrap(), Err(err));
    }

    #[test]
    fn a_failed_batch_keeps_a_jobs_own_error_unless_set() {
        let batch = StoreError::Storage("batch".into());
        // fail: a success (or a job that never ran) gets the batch's error, a failure keeps its own.
        let (mut ran, ran_answer) = job(true);
        assert!(ran.run(&mut fake(None), &ctx()));
        ran.fail(batch.clone());
        ran.reply();
        assert_eq!(ran_answer.recv().unwrap(), Err(batch.clone()));
        let (mut own, own_answer) = job(false);
        assert!(!own.run(&mut fake(None), &ctx()));
        own.fail(batch.clone());
        own.reply();
        assert_eq!(
            own_answer.recv().unwrap(),
            Err(StoreError::Conflict("own".into()))
        );
        let (never, never_answer) = job(true);
        never.reply();
        assert!(
            matches!(never_answer.recv().unwrap(), Err(StoreError::Storage(m)) if m.contains("did not run"))
        );
        // set_err: whatever the outcome was.
        let (mut own, own_answer) = job(false);
        assert!(!own.run(&mut fake(None), &ctx()));
        own.set_err(batch.clone());
        own.reply();
        assert_eq!(own_answer.recv().unwrap(), Err(batch));
    }
}
