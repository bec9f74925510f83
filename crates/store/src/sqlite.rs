//! The SQLite engine: one database file `dir/deconflict.db` (WAL, `synchronous=FULL`, busy
//! timeout 5 s), the group-committing writer thread (`writer` module) and a small pool of read
//! connections used on the caller's thread.

use crate::db::{Db, SqliteDb};
use crate::engine::{Ctx, Engine, Level, WriteStats};
use crate::error::StoreError;
use crate::schema;
use crate::writer::Writer;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_IDLE_READERS: usize = 16;

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn open_conn(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_conn()?,
        };
        let result = f(&mut SqliteDb(&conn));
        // Never pool a connection left inside a transaction.
        if conn.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }
}

pub(crate) struct SqliteEngine {
    // Declared first so it is dropped (joined) before the readers close.
    writer: Writer,
    readers: Arc<ReadPool>,
}

fn open_writer_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Storage(format!(
            "cannot switch the database to WAL (journal_mode is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteEngine {
    pub(crate) fn open(path: PathBuf, ctx: Ctx) -> Result<SqliteEngine, StoreError> {
        let mut conn = open_writer_conn(&path)?;
        schema::migrate(&mut conn)?;
        let writer = Writer::spawn(conn, ctx)?;
        Ok(SqliteEngine {
            writer,
            readers: Arc::new(ReadPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
        })
    }
}

impl Engine for SqliteEngine {
    /// Every level is the same here: the one writer is serial.
    fn write_at<T, F>(&self, level: Level, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(level, f)
    }

    fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static,
    {
        self.readers.with(f)
    }

    fn read_detached<T, F>(&self, f: F) -> mpsc::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Db) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let readers = Arc::clone(&self.readers);
        let spawned = std::thread::Builder::new()
            .name("deconflict-store-reader".into())
            .spawn(move || {
                let _ = reply.send(readers.with(f));
            });
        if let Err(e) = spawned {
            // The closure (and its sender) is gone; answer with the reason on a fresh channel.
            let (reply, answer) = mpsc::sync_channel(1);
            let _ = reply.send(Err(StoreError::Storage(format!(
                "cannot start a reader thread: {e}"
            ))));
            return answer;
        }
        answer
    }

    fn stats(&self) -> WriteStats {
        self.writer.stats()
    }
}
