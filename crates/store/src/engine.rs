//! Engines: where the SQL runs. An [`Engine`] runs write jobs on its writer (group-committed
//! transactions of a [`Level`]) and read jobs on its read connections; every operation in the
//! `ops` module is written once against it. Also what the writer knows besides its connection
//! ([`Ctx`]) and the writer's counters ([`WriteStats`]), common to both engines: SQLite
//! (`sqlite` and `writer` modules) and PostgreSQL (`pg` module).

use crate::db::Db;
use crate::error::StoreError;
use ed25519_dalek::SigningKey;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// The transaction a write job needs. PostgreSQL honours it; SQLite's one writer is serial,
/// so there every level is the same.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Level {
    /// SERIALIZABLE (filings, administration): on PostgreSQL batched with at most
    /// `PG_SERIALIZABLE_BATCH` others.
    Serializable,
    /// READ COMMITTED, for a job that reads nothing it decides on except through rows it
    /// writes (an upsert that keeps the newer report; an audit seq allocated as MAX + 1 on
    /// this node's own chain, which collides on the primary key and is retried; a cross-link,
    /// which may record any committed head). On PostgreSQL such jobs commit in batches of
    /// their own (at most `PG_MAX_BATCH`), so big track batches neither take serializable
    /// predicate locks nor abort one another.
    ReadCommitted,
    /// READ COMMITTED in a transaction of its own, for a job that holds locks other nodes'
    /// writers wait for (a party's alert seq counter, taken under a row lock, so seqs stay
    /// gap-free and in commit order): the locks are held for one short transaction, not for
    /// a batch of track upserts, and two such transactions take their locks in one order
    /// (they cannot deadlock).
    Alone,
}

/// A backend's way of running jobs: writes on its writer (one group-committed transaction,
/// re-run on a retry, so `Fn`), reads on a read connection.
pub(crate) trait Engine: Send + Sync + 'static {
    /// Runs a write job in a transaction of `level`.
    fn write_at<T, F>(&self, level: Level, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static;

    /// [`Level::Serializable`].
    fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_at(Level::Serializable, f)
    }

    /// [`Level::ReadCommitted`].
    fn write_relaxed<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_at(Level::ReadCommitted, f)
    }

    /// [`Level::Alone`].
    fn write_alone<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_at(Level::Alone, f)
    }

    fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static;

    /// Runs `f` on a read connection in the background; the result arrives on the receiver.
    fn read_detached<T, F>(&self, f: F) -> mpsc::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static;

    fn stats(&self) -> WriteStats;
}

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

/// The live counters behind [`WriteStats`], updated by the writer thread.
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

    /// Counts one committed transaction of `jobs` jobs.
    pub(crate) fn committed(&self, jobs: usize) {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.jobs.fetch_add(jobs as u64, Ordering::Relaxed);
    }
}
