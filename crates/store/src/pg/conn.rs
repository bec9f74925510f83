//! One PostgreSQL connection of the engine ([`PgConn`]): its target ([`PgTarget`], parsed and
//! validated from the URL), (re)connecting on demand, prepared statements, the translation of
//! the crate's `?N` placeholders and [`Val`]s to PostgreSQL's, reading rows back, and which
//! failures call for a retry of the whole batch.

use crate::db::{Db, Row, Val};
use crate::error::StoreError;
use crate::job::WriteConn;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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

/// The pause before attempt `attempt + 1`: `unit` doubled per attempt, at most `cap`, jittered
/// by ±50 % so that nodes retrying at once spread out.
pub(super) fn backoff(attempt: u32, unit: Duration, cap: Duration) -> Duration {
    let base = unit.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    base.mul_f64(jitter)
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
    pub(super) target: PgTarget,
    client: Option<Client>,
    stmts: HashMap<String, Statement>,
    /// The first retryable failure since [`PgConn::reset`].
    pub(super) retry: Option<StoreError>,
    /// The first database error of any kind since [`PgConn::reset`].
    pub(super) failed: Option<StoreError>,
    /// A read snapshot transaction is open.
    pub(super) in_snapshot: bool,
}

impl PgConn {
    pub(super) fn new(target: PgTarget) -> PgConn {
        PgConn {
            target,
            client: None,
            stmts: HashMap::new(),
            retry: None,
            failed: None,
            in_snapshot: false,
        }
    }

    pub(super) fn reset(&mut self) {
        self.retry = None;
        self.failed = None;
    }

    pub(super) fn client(&mut self) -> Result<&mut Client, StoreError> {
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
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
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

fn read_row(names: &Arc<[String]>, row: &postgres::Row) -> Result<Row, postgres::Error> {
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
    Ok(Row::new(Arc::clone(names), out))
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
        let names: Arc<[String]> = stmt.columns().iter().map(|c| c.name().to_string()).collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(read_row(&names, row).map_err(|e| self.error(e))?);
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

impl WriteConn for PgConn {
    fn with_db<R>(&mut self, f: impl FnOnce(&mut dyn Db) -> R) -> R {
        f(self)
    }

    fn take_failure(&mut self) -> Option<StoreError> {
        self.failed.take()
    }
}
