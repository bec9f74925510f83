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
//! takes the first queued job, drains up to [`PG_MAX_BATCH`] more, runs them in ONE transaction with
//! a `SAVEPOINT` per job (a job failing with an ordinary error rolls back only its savepoint and
//! gets its error), and commits once. A serialization failure (SQLSTATE 40001), a deadlock
//! (40P01) or a unique violation (23505: another node took the same seq or id first) anywhere
//! in the batch, the `COMMIT` included, rolls back the WHOLE batch and runs it again after a
//! short jittered pause, up to [`MAX_ATTEMPTS`] times; then every job gets the error. Jobs are
//! therefore `Fn` (re-runnable) and must not have effects outside the transaction.

use crate::db::{Db, Row, Val};
use crate::schema::PG_MIGRATIONS;
use crate::writer::{Ctx, Stats, WriteStats};
use crate::{Engine, Level, StoreError, SCHEMA_VERSION};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use rand::Rng;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How many times a batch is tried before its jobs get the serialization error.
pub const MAX_ATTEMPTS: u32 = 30;
/// Reader threads (and so read connections) per store handle.
pub const READERS: usize = 4;
const MIGRATION_ATTEMPTS: u32 = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated connection target.
#[derive(Clone)]
pub(crate) struct PgTarget {
    pub config: postgres::Config,
    /// `host:port/dbname`, for messages (never the password).
    pub desc: String,
    pub schema: Option<String>,
}

impl PgTarget {
    pub(crate) fn parse(url: &str, schema: Option<&str>) -> Result<PgTarget, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("url: not a PostgreSQL connection URL: {e}")))?;
        if let Some(s) = schema {
            let ok = !s.is_empty()
                && s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !s.as_bytes()[0].is_ascii_digit();
            if !ok {
                return Err(StoreError::Invalid(
                    "pg_schema: must be 1 to 63 characters of a-z 0-9 _, not starting with a digit".into(),
                ));
            }
            let opts = match config.get_options() {
                Some(o) if !o.trim().is_empty() => format!("{o} -c search_path={s}"),
                _ => format!("-c search_path={s}"),
            };
            config.options(&opts);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let db = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("")
            .to_string();
        Ok(PgTarget {
            desc: format!("PostgreSQL at {host}:{port}/{db}"),
            config,
            schema: schema.map(str::to_string),
        })
    }
}

/// How a failed statement should be handled.
fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::LOCK_NOT_AVAILABLE
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

/// One connection, (re)connected on demand, with its prepared statements.
pub(crate) struct PgConn {
    target: PgTarget,
    client: Option<Client>,
    stmts: HashMap<String, Statement>,
    /// The first retryable failure since [`PgConn::reset`].
    retry: Option<StoreError>,
    /// The first database error of any kind since [`PgConn::reset`].
    failed: Option<StoreError>,
    /// A read snapshot transaction is open.
    in_snapshot: bool,
}

impl PgConn {
    fn new(target: PgTarget) -> PgConn {
        PgConn {
            target,
            client: None,
            stmts: HashMap::new(),
            retry: None,
            failed: None,
            in_snapshot: false,
        }
    }

    fn reset(&mut self) {
        self.retry = None;
        self.failed = None;
    }

    fn client(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            self.stmts.clear();
            let client = self.target.config.connect(NoTls).map_err(|e| {
                StoreError::Storage(format!(
                    "cannot connect to {}: {}",
                    self.target.desc,
                    describe(&e)
                ))
            })?;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Storage(format!("no connection to {}", self.target.desc)))
    }

    /// Turns a driver error into a StoreError, remembering whether it calls for a retry.
    fn error(&mut self, e: postgres::Error) -> StoreError {
        let err = if e.is_closed() || self.client.as_ref().is_some_and(Client::is_closed) {
            StoreError::Storage(format!(
                "connection to {} lost: {}",
                self.target.desc,
                describe(&e)
            ))
        } else if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict(describe(&e))
        } else {
            StoreError::Storage(format!("{}: {}", self.target.desc, describe(&e)))
        };
        if retryable(&e) && self.retry.is_none() {
            self.retry = Some(err.clone());
        }
        if self.failed.is_none() {
            self.failed = Some(err.clone());
        }
        err
    }

    /// Runs statements without parameters (transaction control, DDL).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let r = self.client()?.batch_execute(sql);
        r.map_err(|e| self.error(e))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let pg_sql = translate_placeholders(sql);
        let r = self.client()?.prepare(&pg_sql);
        let stmt = r.map_err(|e| self.error(e))?;
        if self.stmts.len() > 256 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => e.to_string(),
    }
}

/// `?1` → `$1` (the SQL of this crate has no `?` inside literals).
fn translate_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn param(i: usize, v: &Val, ty: &Type) -> Result<Box<dyn ToSql + Sync>, StoreError> {
    let bad = || {
        StoreError::Storage(format!(
            "parameter {}: cannot pass {v:?} as PostgreSQL type {ty}",
            i + 1
        ))
    };
    Ok(match *ty {
        Type::INT8 => match v {
            Val::Null => Box::new(None::<i64>),
            Val::Int(x) => Box::new(*x),
            _ => return Err(bad()),
        },
        Type::INT4 => match v {
            Val::Null => Box::new(None::<i32>),
            Val::Int(x) => Box::new(i32::try_from(*x).map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        Type::FLOAT8 => match v {
            Val::Null => Box::new(None::<f64>),
            Val::Real(x) => Box::new(*x),
            Val::Int(x) => Box::new(*x as f64),
            _ => return Err(bad()),
        },
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => match v {
            Val::Null => Box::new(None::<String>),
            Val::Text(x) => Box::new(x.clone()),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}

fn read_row(row: &postgres::Row) -> Result<Row, postgres::Error> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map_or(Val::Null, |x| Val::Int(x.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map_or(Val::Null, |x| Val::Int(x.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map_or(Val::Null, Val::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map_or(Val::Null, |x| Val::Real(x.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map_or(Val::Null, |x| Val::Int(x.into())),
            _ => row.try_get::<_, Option<String>>(i)?.map_or(Val::Null, Val::Text),
        };
        out.push(v);
    }
    Ok(Row(out))
}

impl Db for PgConn {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let boxed = bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let r = self.client()?.execute(&stmt, &refs);
        r.map_err(|e| self.error(e))
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let boxed = bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let r = self.client()?.query(&stmt, &refs);
        let rows = r.map_err(|e| self.error(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(read_row(row).map_err(|e| self.error(e))?);
        }
        Ok(out)
    }

    fn begin_snapshot(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        self.in_snapshot = true;
        Ok(())
    }

    fn end_snapshot(&mut self) -> Result<(), StoreError> {
        if self.in_snapshot {
            self.in_snapshot = false;
            self.batch("COMMIT")?;
        }
        Ok(())
    }
}

fn bind(stmt: &Statement, params: &[Val]) -> Result<Vec<Box<dyn ToSql + Sync>>, StoreError> {
    let types = stmt.params();
    if types.len() != params.len() {
        return Err(StoreError::Storage(format!(
            "statement takes {} parameters, got {}",
            types.len(),
            params.len()
        )));
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (v, ty))| param(i, v, ty))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Jobs

trait Job: Send {
    /// The transaction the job needs.
    fn level(&self) -> Level;
    /// Runs the job (again, on a retry); true when it succeeded.
    fn run(&mut self, db: &mut PgConn, ctx: &Ctx) -> bool;
    /// Records the job's outcome as `err` (the job's own error, or the batch's).
    fn set_err(&mut self, err: StoreError);
    fn reply(self: Box<Self>);
}

struct TypedJob<T, F> {
    level: Level,
    f: F,
    result: Option<Result<T, StoreError>>,
    reply: mpsc::SyncSender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: Fn(&mut dyn Db, &Ctx) -> Result<T, StoreError> + Send,
{
    fn level(&self) -> Level {
        self.level
    }

    fn run(&mut self, db: &mut PgConn, ctx: &Ctx) -> bool {
        let f = &self.f;
        let result = catch_unwind(AssertUnwindSafe(|| f(db, ctx)))
            .unwrap_or_else(|_| Err(StoreError::Storage("write job panicked".into())));
        // A job that swallowed a database error must not commit over it.
        let result = match (result, db.failed.take()) {
            (Ok(_), Some(e)) => Err(e),
            (r, _) => r,
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn set_err(&mut self, err: StoreError) {
        self.result = Some(Err(err));
    }

    fn reply(self: Box<Self>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Storage("write job did not run".into())));
        let _ = self.reply.send(result);
    }
}

type ReadJob = Box<dyn FnOnce(&mut PgConn) + Send>;

pub(crate) struct PgEngine {
    writer: Option<mpsc::Sender<Box<dyn Job>>>,
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
        let (wtx, wrx) = mpsc::channel::<Box<dyn Job>>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), StoreError>>(1);
        let thread_stats = Arc::clone(&stats);
        let wtarget = target.clone();
        let writer = std::thread::Builder::new()
            .name("deconflict-pg-writer".into())
            .spawn(move || {
                let mut conn = PgConn::new(wtarget);
                let setup = setup(&mut conn, &public_key_hex, &key_dir);
                let ok = setup.is_ok();
                let _ = ready_tx.send(setup);
                if ok {
                    writer_loop(&mut conn, &ctx, &wrx, &thread_stats);
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
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Box<dyn Job> = Box::new(TypedJob {
            level,
            f,
            result: None,
            reply,
        });
        self.writer
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
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

// ---------------------------------------------------------------------------------------------
// Setup

/// The most jobs one PostgreSQL transaction takes. Smaller than SQLite's batch: a
/// serialization failure re-runs the whole batch, and a big transaction (a job may upsert
/// thousands of reports) both fails more often and costs more to redo. Measured with
/// `deconflict bench cluster`.
pub const PG_MAX_BATCH: usize = 16;
/// ... and of SERIALIZABLE jobs (filings, administration), whose reads conflict with other
/// nodes' writes: few per transaction keeps the read set, and the work a retry redoes, small.
pub const PG_SERIALIZABLE_BATCH: usize = 4;

fn backoff(attempt: u32, unit: Duration, cap: Duration) -> Duration {
    let base = unit.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    base.mul_f64(jitter)
}

fn setup(conn: &mut PgConn, public_key_hex: &str, key_dir: &str) -> Result<(), StoreError> {
    conn.client()?;
    let mut last = None;
    for attempt in 0..MIGRATION_ATTEMPTS {
        match migrate(conn) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e @ StoreError::Invalid(_)) => return Err(e),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                last = Some(e);
                std::thread::sleep(backoff(
                    attempt,
                    Duration::from_millis(20),
                    Duration::from_millis(500),
                ));
            }
        }
    }
    if let Some(e) = last {
        return Err(StoreError::Storage(format!(
            "migrating {}: {e}",
            conn.target.desc
        )));
    }
    conn.reset();
    let db: &mut dyn Db = conn;
    db.exec(
        "INSERT INTO service_key (id, public_key) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
        &[Val::Text(public_key_hex.to_string())],
    )?;
    let stored = db
        .query_one("SELECT public_key FROM service_key WHERE id = 1", &[])?
        .text(0)?;
    if stored != public_key_hex {
        return Err(StoreError::Invalid(format!(
            "service.key in {key_dir} does not match the key this database was created with; \
             copy service.key from a node of this cluster into {key_dir}"
        )));
    }
    Ok(())
}

fn migrate(conn: &mut PgConn) -> Result<(), StoreError> {
    if let Some(schema) = conn.target.schema.clone() {
        conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
    }
    conn.batch("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let current = {
        let db: &mut dyn Db = conn;
        db.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
            .i64(0)?
    };
    if current > SCHEMA_VERSION {
        let _ = conn.batch("ROLLBACK");
        return Err(StoreError::Invalid(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for &(version, sql) in PG_MIGRATIONS {
        if version > current {
            conn.batch(sql)?;
            conn.batch(&format!(
                "INSERT INTO schema_version (version) VALUES ({version})"
            ))?;
        }
    }
    conn.batch("COMMIT")
}

// ---------------------------------------------------------------------------------------------
// The writer

fn writer_loop(conn: &mut PgConn, ctx: &Ctx, rx: &mpsc::Receiver<Box<dyn Job>>, stats: &Stats) {
    // A batch holds jobs of one level; a job of another level waits for the next batch.
    let mut held: Option<Box<dyn Job>> = None;
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

fn run_batch(conn: &mut PgConn, ctx: &Ctx, batch: &mut [Box<dyn Job>], stats: &Stats) {
    for attempt in 0..MAX_ATTEMPTS {
        match try_batch(conn, ctx, batch) {
            Outcome::Committed => {
                stats.transactions.fetch_add(1, Ordering::Relaxed);
                stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
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

fn try_batch(conn: &mut PgConn, ctx: &Ctx, batch: &mut [Box<dyn Job>]) -> Outcome {
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
