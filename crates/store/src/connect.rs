//! Opening a store: [`StoreOptions`] (where and as which node), [`Store`] (the cloneable
//! handle on a backend) and [`Store::connect`], which loads the service key, picks and starts
//! the engine the url names (SQLite or PostgreSQL) and wraps it in the `ops` backend; plus
//! [`redact_url`] for messages and logs.

use crate::backend::StoreBackend;
use crate::engine::Ctx;
use crate::error::StoreError;
use crate::key;
use crate::ops::Backend;
use crate::pg;
use crate::sqlite;
use crate::types::{valid_chain_name, MAX_CHAIN_LEN};
use ed25519_dalek::SigningKey;
use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "deconflict.db";
/// Default number of audit entries between two automatic checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// The chain name of [`Store::open`] and [`Store::open_with`].
pub const DEFAULT_NODE: &str = "main";

#[derive(Clone)]
pub struct StoreOptions {
    /// None or `sqlite:...`: SQLite in `data_dir`. `postgres://...` or `postgresql://...`:
    /// PostgreSQL (the service key still lives in `data_dir`).
    pub url: Option<String>,
    /// Holds `service.key` (and, for SQLite, the database).
    pub data_dir: PathBuf,
    /// Sign a checkpoint whenever a seq of this node's chain is a multiple of this (0: only on
    /// [`StoreBackend::checkpoint`]).
    pub checkpoint_every: u64,
    /// This process's audit chain name: 1 to 64 bytes of `A-Z a-z 0-9 _ . -`.
    pub node: String,
    /// PostgreSQL only: create this schema if needed and use it (`search_path`) on every
    /// connection (tests give each run its own).
    pub pg_schema: Option<String>,
}

impl StoreOptions {
    /// SQLite in `data_dir`, node `main`, default checkpoint interval.
    pub fn new(data_dir: impl Into<PathBuf>) -> StoreOptions {
        StoreOptions {
            url: None,
            data_dir: data_dir.into(),
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            node: DEFAULT_NODE.into(),
            pg_schema: None,
        }
    }
}

/// Redacts the password of a URL `scheme://user:password@host/...` (for messages and logs).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("node", &self.node)
            .field("pg_schema", &self.pg_schema)
            .finish()
    }
}

/// A handle on one store. Cheap to clone; `Send + Sync`. The backend's threads stop when the
/// last clone is dropped (after finishing the queued writes).
#[derive(Clone)]
pub struct Store(Arc<dyn StoreBackend>);

impl Deref for Store {
    type Target = dyn StoreBackend;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.0.backend())
            .field("node", &self.0.node())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `dir`, chain `main`, with a checkpoint
    /// every [`DEFAULT_CHECKPOINT_EVERY`] audit entries.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, DEFAULT_CHECKPOINT_EVERY)
    }

    /// As [`Store::open`], signing a checkpoint whenever an audit seq is a multiple of
    /// `checkpoint_every` (0: only on [`StoreBackend::checkpoint`]).
    pub fn open_with(dir: &Path, checkpoint_every: u64) -> Result<Store, StoreError> {
        Store::connect(&StoreOptions {
            checkpoint_every,
            ..StoreOptions::new(dir)
        })
    }

    /// Opens the backend `opts.url` names (see [`StoreOptions`]); on PostgreSQL, migrates the
    /// database and checks the service key first.
    pub fn connect(opts: &StoreOptions) -> Result<Store, StoreError> {
        if !valid_chain_name(&opts.node) {
            return Err(StoreError::Invalid(format!(
                "node must be 1 to {MAX_CHAIN_LEN} characters of A-Z a-z 0-9 _ . -, got {:?}",
                opts.node
            )));
        }
        enum Kind<'a> {
            Sqlite,
            Postgres(&'a str),
        }
        let kind = match opts.url.as_deref() {
            None => Kind::Sqlite,
            Some(u) if u.starts_with("sqlite:") => Kind::Sqlite,
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => Kind::Postgres(u),
            Some(u) => {
                return Err(StoreError::Invalid(format!(
                    "url: expected sqlite:, postgres:// or postgresql://, got {:?}",
                    redact_url(u)
                )))
            }
        };
        if opts.pg_schema.is_some() && matches!(kind, Kind::Sqlite) {
            return Err(StoreError::Invalid("pg_schema: only for a PostgreSQL url".into()));
        }
        let dir = opts.data_dir.as_path();
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Storage(format!("cannot create {}: {e}", dir.display())))?;
        let signing: SigningKey = key::load_or_create(dir)?;
        let public_key_hex = hex::encode(signing.verifying_key().to_bytes());
        // A secret for opaque ids, derived from (never equal to) the signing seed.
        let id_secret: [u8; 32] = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(b"deconflict-id-secret/1");
            h.update(signing.to_bytes());
            h.finalize().into()
        };
        let ctx = Ctx {
            signing,
            chain: opts.node.clone(),
            checkpoint_every: opts.checkpoint_every,
        };
        let backend: Arc<dyn StoreBackend> = match kind {
            Kind::Sqlite => Arc::new(Backend {
                engine: sqlite::SqliteEngine::open(dir.join(DB_FILE), ctx)?,
                name: "sqlite",
                node: opts.node.clone(),
                public_key_hex,
                id_secret,
            }),
            Kind::Postgres(url) => {
                let mut target = pg::PgTarget::parse(url, opts.pg_schema.as_deref())?;
                // Each node's connections are named after it in pg_stat_activity (unless the URL
                // names them), so an operator can see and, if need be, end one node's sessions.
                if target.config.get_application_name().is_none() {
                    target
                        .config
                        .application_name(&format!("deconflict-{}", opts.node));
                }
                let engine =
                    pg::PgEngine::start(target, ctx, public_key_hex.clone(), dir.display().to_string())?;
                Arc::new(Backend {
                    engine,
                    name: "postgres",
                    node: opts.node.clone(),
                    public_key_hex,
                    id_secret,
                })
            }
        };
        Ok(Store(backend))
    }

    /// Wraps any implementation of the interface (e.g. a test double).
    pub fn from_backend(backend: Arc<dyn StoreBackend>) -> Store {
        Store(backend)
    }
}
