//! Durable, party-scoped storage of deconflict on SQLite or PostgreSQL, with tamper-evident,
//! per-node audit chains.
//!
//! # One interface, two backends
//! Every operation is a method of [`StoreBackend`]; a [`Store`] is a cheap, cloneable handle on
//! one backend (`Deref<Target = dyn StoreBackend>`, so callers write `store.put_tracks(..)`).
//! [`Store::connect`] picks the backend from [`StoreOptions::url`]:
//!
//! - **SQLite** (no url, or `sqlite:`): one database file `data_dir/deconflict.db` (WAL,
//!   `synchronous=FULL`, busy timeout 5 s). Every write goes through one writer thread that
//!   groups concurrent writes into one `BEGIN IMMEDIATE` transaction and one fsync (see
//!   [`WriteStats`] and the `writer` module); another process (the CLI) may write to the same
//!   directory while the server runs. Reads use a small pool of separate connections.
//!   [`Store::open`] / [`Store::open_with`] open this backend with the chain name `main`.
//! - **PostgreSQL** (`postgres://` or `postgresql://`): several server processes ("nodes")
//!   share one database. Every PostgreSQL call runs on threads the store owns (one writer, a few
//!   readers, each with its own connection), never on the caller's thread. Writes are group
//!   committed too, in `SERIALIZABLE` transactions; a batch that hits a serialization failure,
//!   a deadlock or a unique violation caused by another node is rolled back and run again
//!   (see the `pg` module). The SQL is kept portable to PostgreSQL-wire distributed engines
//!   (CockroachDB): plain types, no sequences (ids are `MAX(id) + 1` inside the transaction),
//!   no advisory locks, no `LOCK TABLE`, no extensions.
//!
//! In both, a write has committed when its call returns, and the service's Ed25519 key is the
//! file `data_dir/service.key`. On PostgreSQL the first node to connect records its public key
//! in the database and every other node must have the same key file (checkpoints and opaque
//! ids must agree), or [`Store::connect`] fails.
//!
//! # Audit
//! Each node appends to its own hash chain (named by [`StoreOptions::node`]), so nodes never
//! contend on one chain head; [`StoreBackend::link_chains`] cross-links the chains, and
//! [`verify_audit`] checks all chains and their links together. Formats are in the `audit`
//! module docs (re-exported items: [`entry_hash`], [`checkpoint_message`], [`verify_audit`]).
//!
//! # Checked filing
//! [`StoreBackend::file_checked`] is the heart of multi-node strategic deconfliction: in ONE
//! write transaction it reads every live filing whose [`Window`] intersects the new one (any
//! party, any kind) plus the caller's own current row, asks a pure decider what to store, and
//! stores the filing, its alerts and its audit entries. Two conflicting filings sent at the
//! same instant to two nodes can never both miss each other: the transaction serialized second
//! sees the first among its candidates (SQLite serializes writers; PostgreSQL's `SERIALIZABLE`
//! aborts and the writer re-runs the loser, decider included).
//!
//! # Scoping and time
//! Every read that returns a party's rows takes that party's id and filters by it in SQL; only
//! [`StoreBackend::all_tracks`], [`StoreBackend::all_volumes`],
//! [`StoreBackend::volumes_updated_since`], [`StoreBackend::list_parties`],
//! [`StoreBackend::chain_heads`] and [`StoreBackend::export_audit`] are service-wide. Times are
//! passed in by the caller (`now`, Unix seconds), never read from a clock here.

mod audit;
mod db;
mod key;
mod pg;
mod schema;
mod sqlite;
mod writer;

pub use audit::{
    checkpoint_message, entry_hash, sha256_hex, verify_audit, ChainReport, VerifyError, VerifyReport,
    AUDIT_FORMAT, CHECKPOINT_DOMAIN, LINK_KIND,
};
pub use key::KEY_FILE;
pub use pg::{MAX_ATTEMPTS, READERS as PG_READERS};
pub use schema::SCHEMA_VERSION;
pub use writer::{WriteStats, MAX_BATCH};

use audit::{append_entry, seq_from_sql, seq_to_sql, valid_chain_name};
use db::{vals, Db, Row, Val};
use deconflict_core::{AssetClass, TrackReport};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{mpsc, Arc, OnceLock};
use writer::Ctx;

/// File name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "deconflict.db";
/// Prefix of every API token.
pub const TOKEN_PREFIX: &str = "dcf_";
/// Default number of audit entries between two automatic checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// Longest party name.
pub const MAX_PARTY_NAME_LEN: usize = 64;
/// Longest audit kind.
pub const MAX_KIND_LEN: usize = 64;
/// Longest node (audit chain) name.
pub const MAX_CHAIN_LEN: usize = 64;
/// The chain name of [`Store::open`] and [`Store::open_with`].
pub const DEFAULT_NODE: &str = "main";

pub type PartyId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Party,
    Observer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Party => "party",
            Role::Observer => "observer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "party" => Ok(Role::Party),
            "observer" => Ok(Role::Observer),
            "admin" => Ok(Role::Admin),
            other => Err(StoreError::Invalid(format!(
                "unknown role {other:?} (expected party, observer or admin)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub id: PartyId,
    pub name: String,
    pub member_of: Option<String>,
    pub role: Role,
    pub created: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub seq: u64,
    pub time: f64,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The chain (node) the entry belongs to.
    pub chain: String,
    pub seq: u64,
    pub time: f64,
    pub party: Option<PartyId>,
    pub kind: String,
    /// Parsed from the stored compact JSON text (the text the hash covers).
    pub body: serde_json::Value,
    /// Hex of the previous entry's hash in the same chain (64 zeros for entry 1).
    pub prev: String,
    /// Hex of this entry's hash.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain the checkpoint signs.
    pub chain: String,
    pub seq: u64,
    pub time: f64,
    /// Hex of the hash of entry `seq` of `chain`.
    pub hash: String,
    /// Hex of the Ed25519 signature over [`checkpoint_message`]`(chain, seq, hash)`.
    pub signature: String,
}

/// The newest entry of one audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub chain: String,
    pub seq: u64,
    /// Hex of the entry's hash.
    pub hash: String,
}

/// Bounding window of a filing: time [t_start, t_end), altitude [alt_lo, alt_hi] metres, latitude and
/// longitude degrees; lng_lo > lng_hi means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub t_start: f64,
    pub t_end: f64,
    pub alt_lo: f64,
    pub alt_hi: f64,
    pub lat_lo: f64,
    pub lat_hi: f64,
    pub lng_lo: f64,
    pub lng_hi: f64,
}

impl Window {
    /// True when the two windows overlap in time, altitude, latitude and longitude (the same
    /// test [`StoreBackend::file_checked`] applies to pick its candidates).
    pub fn intersects(&self, other: &Window) -> bool {
        self.t_start < other.t_end
            && self.t_end > other.t_start
            && self.alt_lo <= other.alt_hi
            && self.alt_hi >= other.alt_lo
            && self.lat_lo <= other.lat_hi
            && self.lat_hi >= other.lat_lo
            && self.lng_intersects(other)
    }

    /// Longitude overlap, honouring boxes that cross the antimeridian (lng_lo > lng_hi).
    pub fn lng_intersects(&self, other: &Window) -> bool {
        let a = lng_ranges(self.lng_lo, self.lng_hi);
        let b = lng_ranges(other.lng_lo, other.lng_hi);
        a.iter()
            .flatten()
            .any(|x| b.iter().flatten().any(|y| x.0 <= y.1 && x.1 >= y.0))
    }
}

fn lng_ranges(lo: f64, hi: f64) -> [Option<(f64, f64)>; 2] {
    if lo <= hi {
        [Some((lo, hi)), None]
    } else {
        [Some((lo, 180.0)), Some((-180.0, hi))]
    }
}

/// One filing [`StoreBackend::file_checked`] hands its decider: a live filing whose window
/// intersects the new one, or the caller's own current row.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub party: PartyId,
    pub party_name: String,
    /// `intent` or `constraint`.
    pub kind: String,
    pub volume: StoredVolume,
    pub window: Window,
}

/// What a decider wants stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedWrite {
    pub state: String,
    /// The filing as accepted.
    pub body: serde_json::Value,
    pub window: Window,
    /// Alerts to append in the same transaction (as [`StoreBackend::append_alerts`]).
    pub alerts: Vec<NewAlert>,
}

/// What [`StoreBackend::volumes_updated_since`] found.
#[derive(Debug, Clone, Default)]
pub struct UpdatedSince {
    /// The filings the caller does not hold, as (party, party name, kind, filing), by
    /// updated, party, kind, id.
    pub filings: Vec<(PartyId, String, String, StoredVolume)>,
    /// The newest `updated` among all rows read, held or not (`None`: no row).
    pub newest: Option<f64>,
}

/// The decider of [`StoreBackend::file_checked`]: pure, and called again if the transaction is
/// retried. `None` stores nothing.
pub type Decide = dyn Fn(&[Candidate]) -> Option<CheckedWrite> + Send + Sync;

/// What [`StoreBackend::file_checked`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// The filing's new version.
    pub version: u64,
    /// The alerts' seqs, in the decider's order.
    pub alert_seqs: Vec<u64>,
    /// Seq (in this node's chain) of the `<kind>.put` audit entry.
    pub audit_seq: u64,
}

/// One filing of an intent or a constraint, for [`StoreBackend::put_volume`].
#[derive(Debug, Clone, Copy)]
pub struct VolumeFiling<'a> {
    /// `intent` or `constraint`.
    pub kind: &'a str,
    pub id: &'a str,
    /// The version this filing replaces; `None` for a new id.
    pub expected_version: Option<u64>,
    pub state: &'a str,
    /// The filing as accepted.
    pub body: &'a serde_json::Value,
    /// Its bounding window (what [`StoreBackend::file_checked`] matches against).
    pub window: Window,
}

/// A stored intent or constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVolume {
    pub id: String,
    pub version: u64,
    pub state: String,
    /// The filing as accepted (JSON).
    pub body: serde_json::Value,
    pub updated: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub party: PartyId,
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("storage: {0}")]
    Storage(String),
    /// An update named a version that is no longer the current one.
    #[error("stale version: the current version is {current}")]
    Stale { current: u64 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
            _ => StoreError::Storage(e.to_string()),
        }
    }
}

/// Every operation of the store, whatever the backend. Object safe; reached through [`Store`].
pub trait StoreBackend: Send + Sync {
    /// This process's node name: the audit chain its writes extend.
    fn node(&self) -> &str;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Hex of the service's Ed25519 public key (verifies checkpoints).
    fn public_key_hex(&self) -> String;
    /// An opaque 64-bit id for `label`: the same for the same label under the same service key
    /// (across restarts and nodes), unguessable without it.
    fn opaque_id(&self, label: &str) -> u64;
    /// Counters of the group-committing writer (for tests and metrics).
    fn write_stats(&self) -> WriteStats;

    // ---- parties and tokens ----

    /// Adds a party; audited as `party.add`. Conflict if the name exists.
    fn add_party(
        &self,
        name: &str,
        member_of: Option<&str>,
        role: Role,
        now: f64,
    ) -> Result<Party, StoreError>;
    fn party_by_name(&self, name: &str) -> Result<Option<Party>, StoreError>;
    fn party(&self, id: PartyId) -> Result<Option<Party>, StoreError>;
    /// Every party, by id (service-wide; for admins).
    fn list_parties(&self) -> Result<Vec<Party>, StoreError>;
    /// Issues a new random token for the party: returned once as `"dcf_" + 64 hex`; only its
    /// SHA-256 is stored. Audited as `token.issue` with the token's row id.
    fn issue_token(&self, party_name: &str, now: f64) -> Result<String, StoreError>;
    /// Revokes every live token of the party; returns how many. Audited as `token.revoke`.
    fn revoke_tokens(&self, party_name: &str, now: f64) -> Result<usize, StoreError>;
    /// The party a token belongs to; None for unknown, revoked or malformed tokens. Looks up
    /// the token's SHA-256 in the database on every call (no cache), so tokens issued or
    /// revoked by another process take effect at once.
    fn authenticate(&self, token: &str) -> Result<Option<Party>, StoreError>;

    // ---- tracks ----

    /// In one transaction: each report becomes the party's latest for its asset unless the
    /// stored one is newer, plus one audit entry `tracks` with body
    /// `{"count":n,"digest":hex}`, the digest being SHA-256 of the compact JSON array of the
    /// reports (serde_json of `&[TrackReport]`, fields in struct order). Returns the entry's
    /// seq once committed.
    fn put_tracks(&self, party: PartyId, reports: &[TrackReport], now: f64) -> Result<u64, StoreError>;
    /// The party's latest report per asset, by asset id.
    fn tracks(&self, party: PartyId) -> Result<Vec<TrackReport>, StoreError>;
    /// Service-internal (engine warm-up after a restart): every party's latest tracks, by
    /// party then asset.
    fn all_tracks(&self) -> Result<Vec<(PartyId, TrackReport)>, StoreError>;

    // ---- intents and constraints (4D volumes) ----

    /// Files an intent or a constraint (`kind` is `intent` or `constraint`) in one transaction:
    /// checks that `expected_version` is the current version (`None` for a new one), stores the
    /// filing and its window as version + 1, and appends one audit entry `<kind>.put` with body
    /// `{"id","version","state","digest"}`. Returns the new version. `Stale` (nothing stored)
    /// when the version is not the current one, also when another process filed in between.
    fn put_volume(&self, party: PartyId, filing: &VolumeFiling, now: f64) -> Result<u64, StoreError>;
    /// Checked filing, in ONE write transaction: reads the candidates (every filing of any
    /// party and kind whose state is not `ended` and whose window intersects `window`, plus the
    /// caller's own row `(party, kind, id)` whatever its state and window), ordered by party,
    /// kind, id; calls `decide` on them (again if the transaction is retried). `None` from the
    /// decider: nothing is stored, `Ok(None)`. `Some(w)`: appends `w.alerts` as
    /// [`StoreBackend::append_alerts`] does, stores the filing as version `current + 1`
    /// (`current` being 0 for a new id) with `w.state`, `w.body` and `w.window`, and appends the
    /// `<kind>.put` audit entry as [`StoreBackend::put_volume`] does.
    fn file_checked(
        &self,
        party: PartyId,
        kind: &str,
        id: &str,
        window: &Window,
        now: f64,
        decide: Arc<Decide>,
    ) -> Result<Option<Filed>, StoreError>;
    /// The party's own filings of a kind, by id.
    fn volumes(&self, party: PartyId, kind: &str) -> Result<Vec<StoredVolume>, StoreError>;
    /// Service-internal (index warm-up after a restart): every party's filings as (party, kind,
    /// filing), by party, kind, id.
    fn all_volumes(&self) -> Result<Vec<(PartyId, String, StoredVolume)>, StoreError>;
    /// Service-internal (picking up other nodes' filings): every filing with `updated >= after`
    /// that the caller does not hold yet, as (party, party name, kind, filing), by updated,
    /// party, kind, id; and the newest `updated` of every row with `updated >= after`, held or
    /// not (the caller's next cursor). `known(party, kind, id, version)` says whether the
    /// caller holds that version or a newer one; those rows are skipped before their bodies
    /// are read, so a caller re-reading a safety margin every second does not re-read every
    /// filing in it.
    fn volumes_updated_since(
        &self,
        after: f64,
        known: &dyn Fn(PartyId, &str, &str, u64) -> bool,
    ) -> Result<UpdatedSince, StoreError>;

    // ---- alerts ----

    /// In one transaction: gives each alert its party's next seq (1, 2, 3, ... without gaps,
    /// in commit order across nodes), stores it, and appends one audit entry `alert` per alert
    /// with body `{"seq":s,"digest":hex}` (SHA-256 of the alert body's compact JSON). Returns
    /// the seqs in input order. NotFound (and nothing stored) if any party does not exist.
    fn append_alerts(&self, alerts: &[NewAlert], now: f64) -> Result<Vec<u64>, StoreError>;
    /// The party's alerts with seq > `after`, oldest first, at most `limit`.
    fn alerts_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<StoredAlert>, StoreError>;
    /// The party's newest alert seq (0 if none).
    fn last_alert_seq(&self, party: PartyId) -> Result<u64, StoreError>;

    // ---- audit ----

    /// Appends one entry of any kind (1 to 64 bytes, not `audit.link`) to this node's chain;
    /// `party`, if given, must exist. Returns its seq once committed.
    fn audit(
        &self,
        party: Option<PartyId>,
        kind: &str,
        body: serde_json::Value,
        now: f64,
    ) -> Result<u64, StoreError>;
    /// The entries of `chain` about `party` (their `party` field) with seq > `after`, oldest
    /// first, at most `limit`. Each carries `prev` and `hash`, so the party can check them
    /// against the chain.
    fn audit_for_party(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The newest checkpoint of `chain`.
    fn latest_checkpoint(&self, chain: &str) -> Result<Option<Checkpoint>, StoreError>;
    /// Signs this node's chain head unless a checkpoint already covers it (call on shutdown).
    fn checkpoint(&self, now: f64) -> Result<Option<Checkpoint>, StoreError>;
    /// The head of every chain, by chain name.
    fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError>;
    /// Appends to this node's chain one `audit.link` entry with body
    /// `{"links":[{"chain":c,"seq":s,"hash":h},...]}` recording the current head of every OTHER
    /// chain, but only if some other chain's head differs from what this chain's previous link
    /// recorded. Returns the new entry's seq, or None. (A link moves this chain's head, so two
    /// nodes that both link periodically each append about one link per period.)
    fn link_chains(&self, now: f64) -> Result<Option<u64>, StoreError>;
    /// Every chain as JSON Lines from one consistent snapshot (format in the `audit` module
    /// docs); verify it with [`verify_audit`].
    fn export_audit(&self, w: &mut dyn std::io::Write) -> Result<(), StoreError>;
}

/// Where and as whom to open a store, for [`Store::connect`].
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

// ---------------------------------------------------------------------------------------------
// Engines: where the SQL runs

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

struct Backend<E> {
    engine: E,
    name: &'static str,
    node: String,
    public_key_hex: String,
    id_secret: [u8; 32],
}

// ---------------------------------------------------------------------------------------------
// Checks and row conversions

fn check_kind(kind: &str) -> Result<(), StoreError> {
    if kind == "intent" || kind == "constraint" {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "kind must be intent or constraint, got {kind:?}"
        )))
    }
}

fn check_volume_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "id must be 1 to 128 bytes without control characters".into(),
        ));
    }
    Ok(())
}

fn check_time(now: f64) -> Result<(), StoreError> {
    if now.is_finite() {
        Ok(())
    } else {
        Err(StoreError::Invalid("time must be a finite number".into()))
    }
}

/// `Invalid("{prefix}.{name}: must be a finite number")` for the first field that is not.
fn check_finite(prefix: &str, fields: &[(&str, f64)]) -> Result<(), StoreError> {
    match fields.iter().find(|(_, v)| !v.is_finite()) {
        Some((name, _)) => Err(StoreError::Invalid(format!(
            "{prefix}.{name}: must be a finite number"
        ))),
        None => Ok(()),
    }
}

fn check_window(field: &str, w: &Window) -> Result<(), StoreError> {
    let fields = [
        ("t_start", w.t_start),
        ("t_end", w.t_end),
        ("alt_lo", w.alt_lo),
        ("alt_hi", w.alt_hi),
        ("lat_lo", w.lat_lo),
        ("lat_hi", w.lat_hi),
        ("lng_lo", w.lng_lo),
        ("lng_hi", w.lng_hi),
    ];
    check_finite(field, &fields)?;
    let invalid = |msg: &str| Err(StoreError::Invalid(format!("{field}.{msg}")));
    if w.t_end < w.t_start {
        return invalid("t_end: must not be before t_start");
    }
    if w.alt_hi < w.alt_lo {
        return invalid("alt_hi: must not be below alt_lo");
    }
    for (name, v) in [("lat_lo", w.lat_lo), ("lat_hi", w.lat_hi)] {
        if !(-90.0..=90.0).contains(&v) {
            return invalid(&format!("{name}: must be within -90 to 90 degrees"));
        }
    }
    if w.lat_hi < w.lat_lo {
        return invalid("lat_hi: must not be below lat_lo");
    }
    for (name, v) in [("lng_lo", w.lng_lo), ("lng_hi", w.lng_hi)] {
        if !(-180.0..=180.0).contains(&v) {
            return invalid(&format!("{name}: must be within -180 to 180 degrees"));
        }
    }
    Ok(())
}

fn check_party_name(name: &str) -> Result<(), StoreError> {
    if valid_chain_name(name) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "party name must be 1 to {MAX_PARTY_NAME_LEN} characters of A-Z a-z 0-9 _ . -"
        )))
    }
}

fn to_json_text(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))
}

fn parse_json(what: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Storage(format!("stored body of {what} is not JSON: {e}")))
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

const PARTY_COLS: &str = "id, name, member_of, role, created";

fn party_row(r: &Row) -> Result<Party, StoreError> {
    Ok(Party {
        id: r.i64(0)?,
        name: r.text(1)?,
        member_of: r.opt_text(2)?,
        role: r
            .text(3)?
            .parse()
            .map_err(|e| StoreError::Storage(format!("stored role: {e}")))?,
        created: r.f64(4)?,
    })
}

const TRACK_COLS: &str = "asset, time, lat, lng, alt_m, gs_mps, track_deg, vs_mps, class";

/// Reads a report from columns `offset..offset + 9` in `TRACK_COLS` order.
fn track_row(r: &Row, offset: usize) -> Result<TrackReport, StoreError> {
    let class = r.text(offset + 8)?;
    Ok(TrackReport {
        asset: r.text(offset)?,
        time: r.f64(offset + 1)?,
        lat: r.f64(offset + 2)?,
        lng: r.f64(offset + 3)?,
        alt_m: r.f64(offset + 4)?,
        gs_mps: r.f64(offset + 5)?,
        track_deg: r.f64(offset + 6)?,
        vs_mps: r.f64(offset + 7)?,
        class: AssetClass::from_str(&class)
            .map_err(|e| StoreError::Storage(format!("stored track class {class:?}: {e}")))?,
    })
}

fn check_report(i: usize, r: &TrackReport) -> Result<(), StoreError> {
    if r.asset.is_empty() || r.asset.len() > deconflict_core::track::MAX_ASSET_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "reports[{i}].asset: must be 1 to {} bytes",
            deconflict_core::track::MAX_ASSET_ID_LEN
        )));
    }
    let fields = [
        ("time", r.time),
        ("lat", r.lat),
        ("lng", r.lng),
        ("alt_m", r.alt_m),
        ("gs_mps", r.gs_mps),
        ("track_deg", r.track_deg),
        ("vs_mps", r.vs_mps),
    ];
    check_finite(&format!("reports[{i}]"), &fields)?;
    Ok(())
}

const VOLUME_COLS: &str = "v.id, v.version, v.state, v.body, v.updated, v.t_start, v.t_end, v.alt_lo, \
                           v.alt_hi, v.lat_lo, v.lat_hi, v.lng_lo, v.lng_hi";

/// Reads a filing from columns `0..13` in `VOLUME_COLS` order.
fn volume_row(r: &Row) -> Result<(StoredVolume, Window), StoreError> {
    let id = r.text(0)?;
    let version = seq_from_sql(r.i64(1)?)?;
    let body = r.text(3)?;
    let volume = StoredVolume {
        body: parse_json(&format!("filing {id:?} version {version}"), &body)?,
        id,
        version,
        state: r.text(2)?,
        updated: r.f64(4)?,
    };
    let window = Window {
        t_start: r.f64(5)?,
        t_end: r.f64(6)?,
        alt_lo: r.f64(7)?,
        alt_hi: r.f64(8)?,
        lat_lo: r.f64(9)?,
        lat_hi: r.f64(10)?,
        lng_lo: r.f64(11)?,
        lng_hi: r.f64(12)?,
    };
    Ok((volume, window))
}

fn audit_row(r: &Row) -> Result<AuditEntry, StoreError> {
    let chain = r.text(0)?;
    let seq = seq_from_sql(r.i64(1)?)?;
    let body = r.text(5)?;
    Ok(AuditEntry {
        body: parse_json(&format!("audit entry {seq} of chain {chain:?}"), &body)?,
        chain,
        seq,
        time: r.f64(2)?,
        party: r.opt_i64(3)?,
        kind: r.text(4)?,
        prev: r.text(6)?,
        hash: r.text(7)?,
    })
}

/// Writer side: NotFound unless the party exists.
fn ensure_party(db: &mut dyn Db, party: PartyId) -> Result<(), StoreError> {
    db.query_opt("SELECT 1 FROM parties WHERE id = ?1", &vals![party])?
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("party {party}")))
}

/// Writer side: the id of a party by name, or NotFound.
fn party_id_by_name(db: &mut dyn Db, name: &str) -> Result<PartyId, StoreError> {
    db.query_opt("SELECT id FROM parties WHERE name = ?1", &vals![name])?
        .ok_or_else(|| StoreError::NotFound(format!("party {name:?}")))?
        .i64(0)
}

/// Writer side: the next id of a table (`MAX(id) + 1`, inside the transaction; a concurrent
/// writer that takes the same id makes one of the two retry).
fn next_id(db: &mut dyn Db, table: &str) -> Result<i64, StoreError> {
    let sql = match table {
        "parties" => "SELECT COALESCE(MAX(id), 0) + 1 FROM parties",
        _ => "SELECT COALESCE(MAX(id), 0) + 1 FROM tokens",
    };
    db.query_one(sql, &[])?.i64(0)
}

/// An alert ready to store: (party, body text, digest of the text).
type PreparedAlert = (PartyId, String, String);

fn prepare_alerts(alerts: &[NewAlert]) -> Result<Vec<PreparedAlert>, StoreError> {
    alerts
        .iter()
        .map(|a| {
            let text = to_json_text(&a.body)?;
            let digest = sha256_hex(text.as_bytes());
            Ok((a.party, text, digest))
        })
        .collect()
}

/// Writer side: stores alerts with per-party gap-free seqs, one `alert` audit entry each.
fn insert_alerts(
    db: &mut dyn Db,
    ctx: &Ctx,
    now: f64,
    alerts: &[PreparedAlert],
) -> Result<Vec<u64>, StoreError> {
    // Each party's seqs come from its counter row, taken in party order: a concurrent writer
    // waits on the row lock (and then sees the new value) instead of colliding on the alerts'
    // primary key, and two writers cannot wait on each other in a cycle.
    // `next` holds each party's alert count, then (once its counter is taken) its next seq.
    let mut next: std::collections::BTreeMap<PartyId, u64> = std::collections::BTreeMap::new();
    for (party, _, _) in alerts {
        *next.entry(*party).or_default() += 1;
    }
    for (&party, slot) in next.iter_mut() {
        let n = *slot;
        ensure_party(db, party)?;
        db.exec(
            "INSERT INTO alert_seqs (party_id, last) VALUES (?1, 0) ON CONFLICT (party_id) DO NOTHING",
            &vals![party],
        )?;
        let last = db
            .query_one(
                "UPDATE alert_seqs SET last = last + ?2 WHERE party_id = ?1 RETURNING last",
                &vals![party, seq_to_sql(n)],
            )?
            .i64(0)?;
        *slot = seq_from_sql(last)? + 1 - n;
    }
    let mut seqs = Vec::with_capacity(alerts.len());
    for (party, text, digest) in alerts {
        let slot = next
            .get_mut(party)
            .ok_or_else(|| StoreError::Storage("alert seq not allocated".into()))?;
        let seq = *slot;
        *slot += 1;
        db.exec(
            "INSERT INTO alerts (party_id, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
            &vals![*party, seq_to_sql(seq), now, text],
        )?;
        let body = to_json_text(&serde_json::json!({ "seq": seq, "digest": digest }))?;
        append_entry(db, ctx, now, Some(*party), "alert", &body)?;
        seqs.push(seq);
    }
    Ok(seqs)
}

/// Writer side: inserts or replaces a filing row.
#[allow(clippy::too_many_arguments)]
fn upsert_volume(
    db: &mut dyn Db,
    party: PartyId,
    kind: &str,
    id: &str,
    version: u64,
    state: &str,
    text: &str,
    w: &Window,
    now: f64,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO volumes (party_id, kind, id, version, state, body, updated, t_start, t_end, \
         alt_lo, alt_hi, lat_lo, lat_hi, lng_lo, lng_hi) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (party_id, kind, id) DO UPDATE SET \
         version = excluded.version, state = excluded.state, body = excluded.body, \
         updated = excluded.updated, t_start = excluded.t_start, t_end = excluded.t_end, \
         alt_lo = excluded.alt_lo, alt_hi = excluded.alt_hi, lat_lo = excluded.lat_lo, \
         lat_hi = excluded.lat_hi, lng_lo = excluded.lng_lo, lng_hi = excluded.lng_hi",
        &vals![
            party,
            kind,
            id,
            seq_to_sql(version),
            state,
            text,
            now,
            w.t_start,
            w.t_end,
            w.alt_lo,
            w.alt_hi,
            w.lat_lo,
            w.lat_hi,
            w.lng_lo,
            w.lng_hi
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn put_entry(
    db: &mut dyn Db,
    ctx: &Ctx,
    now: f64,
    party: PartyId,
    kind: &str,
    id: &str,
    version: u64,
    state: &str,
    digest: &str,
) -> Result<u64, StoreError> {
    let entry = to_json_text(&serde_json::json!({
        "id": id, "version": version, "state": state, "digest": digest
    }))?;
    append_entry(db, ctx, now, Some(party), &format!("{kind}.put"), &entry)
}

/// The multi-row track upsert for `n` rows (cached per size).
fn tracks_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        TRACK_CHUNKS
            .iter()
            .map(|&size| {
                let rows: Vec<String> = (0..size)
                    .map(|r| {
                        let cols: Vec<String> = (1..=10).map(|c| format!("?{}", r * 10 + c)).collect();
                        format!("({})", cols.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO tracks (party_id, asset, time, lat, lng, alt_m, gs_mps, track_deg, \
                     vs_mps, class) VALUES {} \
                     ON CONFLICT (party_id, asset) DO UPDATE SET time = excluded.time, \
                     lat = excluded.lat, lng = excluded.lng, alt_m = excluded.alt_m, \
                     gs_mps = excluded.gs_mps, track_deg = excluded.track_deg, \
                     vs_mps = excluded.vs_mps, class = excluded.class \
                     WHERE excluded.time >= tracks.time",
                    rows.join(", ")
                )
            })
            .collect()
    });
    let i = TRACK_CHUNKS
        .iter()
        .position(|&s| s == n)
        .unwrap_or(TRACK_CHUNKS.len() - 1);
    all.get(i).map_or("", String::as_str)
}

/// Row counts of the track upsert statements (a few fixed sizes keep the statement caches hot).
const TRACK_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// Of several reports of one asset in one call, the one that would win applied in order
/// (a later report replaces an earlier one unless it is older).
fn dedupe_reports(reports: &[TrackReport]) -> Vec<TrackReport> {
    let mut out: Vec<TrackReport> = Vec::with_capacity(reports.len());
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(reports.len());
    for r in reports {
        match at.get(r.asset.as_str()) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    if r.time >= slot.time {
                        *slot = r.clone();
                    }
                }
            }
            None => {
                at.insert(&r.asset, out.len());
                out.push(r.clone());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The operations, once for both backends

impl<E: Engine> StoreBackend for Backend<E> {
    fn node(&self) -> &str {
        &self.node
    }

    fn backend(&self) -> &'static str {
        self.name
    }

    fn public_key_hex(&self) -> String {
        self.public_key_hex.clone()
    }

    fn opaque_id(&self, label: &str) -> u64 {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.id_secret);
        h.update(label.as_bytes());
        let d = h.finalize();
        u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }

    fn write_stats(&self) -> WriteStats {
        self.engine.stats()
    }

    // ---- parties and tokens ----

    fn add_party(
        &self,
        name: &str,
        member_of: Option<&str>,
        role: Role,
        now: f64,
    ) -> Result<Party, StoreError> {
        check_party_name(name)?;
        check_time(now)?;
        if let Some(m) = member_of {
            if m.is_empty() || m.len() > 256 || m.chars().any(char::is_control) {
                return Err(StoreError::Invalid(
                    "member_of must be 1 to 256 bytes without control characters".into(),
                ));
            }
        }
        let name = name.to_string();
        let member_of = member_of.map(str::to_string);
        let body = to_json_text(&serde_json::json!({
            "name": name, "member_of": member_of, "role": role.as_str()
        }))?;
        self.engine.write(move |db, ctx| {
            if db
                .query_opt("SELECT 1 FROM parties WHERE name = ?1", &vals![&name])?
                .is_some()
            {
                return Err(StoreError::Conflict(format!("party {name:?} already exists")));
            }
            let id = next_id(db, "parties")?;
            db.exec(
                "INSERT INTO parties (id, name, member_of, role, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                &vals![id, &name, member_of.as_deref(), role.as_str(), now],
            )?;
            append_entry(db, ctx, now, Some(id), "party.add", &body)?;
            Ok(Party {
                id,
                name: name.clone(),
                member_of: member_of.clone(),
                role,
                created: now,
            })
        })
    }

    fn party_by_name(&self, name: &str) -> Result<Option<Party>, StoreError> {
        let name = name.to_string();
        self.engine.read(move |db| {
            db.query_opt(
                &format!("SELECT {PARTY_COLS} FROM parties WHERE name = ?1"),
                &vals![name],
            )?
            .map(|r| party_row(&r))
            .transpose()
        })
    }

    fn party(&self, id: PartyId) -> Result<Option<Party>, StoreError> {
        self.engine.read(move |db| {
            db.query_opt(
                &format!("SELECT {PARTY_COLS} FROM parties WHERE id = ?1"),
                &vals![id],
            )?
            .map(|r| party_row(&r))
            .transpose()
        })
    }

    fn list_parties(&self) -> Result<Vec<Party>, StoreError> {
        self.engine.read(|db| {
            db.query(&format!("SELECT {PARTY_COLS} FROM parties ORDER BY id"), &[])?
                .iter()
                .map(party_row)
                .collect()
        })
    }

    fn issue_token(&self, party_name: &str, now: f64) -> Result<String, StoreError> {
        check_time(now)?;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let hash = sha256_hex(token.as_bytes());
        let name = party_name.to_string();
        self.engine.write(move |db, ctx| {
            let party = party_id_by_name(db, &name)?;
            let id = next_id(db, "tokens")?;
            db.exec(
                "INSERT INTO tokens (id, party_id, hash, created, revoked) VALUES (?1, ?2, ?3, ?4, NULL)",
                &vals![id, party, &hash, now],
            )?;
            let body = to_json_text(&serde_json::json!({ "token_id": id }))?;
            append_entry(db, ctx, now, Some(party), "token.issue", &body)?;
            Ok(())
        })?;
        Ok(token)
    }

    fn revoke_tokens(&self, party_name: &str, now: f64) -> Result<usize, StoreError> {
        check_time(now)?;
        let name = party_name.to_string();
        self.engine.write(move |db, ctx| {
            let party = party_id_by_name(db, &name)?;
            let n = db.exec(
                "UPDATE tokens SET revoked = ?1 WHERE party_id = ?2 AND revoked IS NULL",
                &vals![now, party],
            )?;
            let body = to_json_text(&serde_json::json!({ "count": n }))?;
            append_entry(db, ctx, now, Some(party), "token.revoke", &body)?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn authenticate(&self, token: &str) -> Result<Option<Party>, StoreError> {
        let Some(secret) = token.strip_prefix(TOKEN_PREFIX) else {
            return Ok(None);
        };
        if secret.len() != 64 || !secret.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Ok(None);
        }
        let hash = sha256_hex(token.as_bytes());
        self.engine.read(move |db| {
            db.query_opt(
                "SELECT p.id, p.name, p.member_of, p.role, p.created \
                 FROM tokens t JOIN parties p ON p.id = t.party_id \
                 WHERE t.hash = ?1 AND t.revoked IS NULL",
                &vals![hash],
            )?
            .map(|r| party_row(&r))
            .transpose()
        })
    }

    // ---- tracks ----

    fn put_tracks(&self, party: PartyId, reports: &[TrackReport], now: f64) -> Result<u64, StoreError> {
        check_time(now)?;
        for (i, r) in reports.iter().enumerate() {
            check_report(i, r)?;
        }
        // Encoding and hashing happen on the caller's thread, not the writer's.
        let json = serde_json::to_vec(reports)
            .map_err(|e| StoreError::Invalid(format!("cannot encode reports: {e}")))?;
        let body = to_json_text(&serde_json::json!({
            "count": reports.len(), "digest": sha256_hex(&json)
        }))?;
        let rows: Vec<Vec<Val>> = dedupe_reports(reports)
            .into_iter()
            .map(|r| {
                Vec::from(vals![
                    party,
                    r.asset,
                    r.time,
                    r.lat,
                    r.lng,
                    r.alt_m,
                    r.gs_mps,
                    r.track_deg,
                    r.vs_mps,
                    r.class.as_str()
                ])
            })
            .collect();
        self.engine.write_relaxed(move |db, ctx| {
            ensure_party(db, party)?;
            let mut rest: &[Vec<Val>] = &rows;
            while !rest.is_empty() {
                let size = TRACK_CHUNKS
                    .iter()
                    .copied()
                    .find(|&s| s <= rest.len())
                    .unwrap_or(1);
                let (chunk, tail) = rest.split_at(size.min(rest.len()));
                let params: Vec<Val> = chunk.iter().flatten().cloned().collect();
                db.exec(tracks_sql(chunk.len()), &params)?;
                rest = tail;
            }
            append_entry(db, ctx, now, Some(party), "tracks", &body)
        })
    }

    fn tracks(&self, party: PartyId) -> Result<Vec<TrackReport>, StoreError> {
        self.engine.read(move |db| {
            let mut out = db
                .query(
                    &format!("SELECT {TRACK_COLS} FROM tracks WHERE party_id = ?1"),
                    &vals![party],
                )?
                .iter()
                .map(|r| track_row(r, 0))
                .collect::<Result<Vec<_>, _>>()?;
            // Byte order on every backend, whatever the database's collation.
            out.sort_by(|a, b| a.asset.cmp(&b.asset));
            Ok(out)
        })
    }

    fn all_tracks(&self) -> Result<Vec<(PartyId, TrackReport)>, StoreError> {
        self.engine.read(|db| {
            let mut out = db
                .query(&format!("SELECT party_id, {TRACK_COLS} FROM tracks"), &[])?
                .iter()
                .map(|r| Ok((r.i64(0)?, track_row(r, 1)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.sort_by(|a, b| (a.0, &a.1.asset).cmp(&(b.0, &b.1.asset)));
            Ok(out)
        })
    }

    // ---- intents and constraints ----

    fn put_volume(&self, party: PartyId, filing: &VolumeFiling, now: f64) -> Result<u64, StoreError> {
        let VolumeFiling {
            kind,
            id,
            expected_version,
            state,
            body,
            window,
        } = *filing;
        check_time(now)?;
        check_kind(kind)?;
        check_volume_id(id)?;
        check_window("window", &window)?;
        let text = to_json_text(body)?;
        let digest = sha256_hex(text.as_bytes());
        let (kind, id, state) = (kind.to_string(), id.to_string(), state.to_string());
        self.engine.write(move |db, ctx| {
            ensure_party(db, party)?;
            let current = db
                .query_opt(
                    "SELECT version FROM volumes WHERE party_id = ?1 AND kind = ?2 AND id = ?3",
                    &vals![party, &kind, &id],
                )?
                .map(|r| r.i64(0).and_then(seq_from_sql))
                .transpose()?;
            if current != expected_version {
                return Err(StoreError::Stale {
                    current: current.unwrap_or(0),
                });
            }
            let version = current.unwrap_or(0) + 1;
            upsert_volume(db, party, &kind, &id, version, &state, &text, &window, now)?;
            put_entry(db, ctx, now, party, &kind, &id, version, &state, &digest)?;
            Ok(version)
        })
    }

    fn file_checked(
        &self,
        party: PartyId,
        kind: &str,
        id: &str,
        window: &Window,
        now: f64,
        decide: Arc<Decide>,
    ) -> Result<Option<Filed>, StoreError> {
        check_time(now)?;
        check_kind(kind)?;
        check_volume_id(id)?;
        check_window("window", window)?;
        let (kind, id, w) = (kind.to_string(), id.to_string(), *window);
        self.engine.write(move |db, ctx| {
            ensure_party(db, party)?;
            let candidate = |r: &Row| -> Result<Candidate, StoreError> {
                let (volume, window) = volume_row(r)?;
                Ok(Candidate {
                    party: r.i64(13)?,
                    party_name: r.text(14)?,
                    kind: r.text(15)?,
                    volume,
                    window,
                })
            };
            let mut candidates = Vec::new();
            let own = db.query_opt(
                &format!(
                    "SELECT {VOLUME_COLS}, v.party_id, p.name, v.kind FROM volumes v \
                     JOIN parties p ON p.id = v.party_id \
                     WHERE v.party_id = ?1 AND v.kind = ?2 AND v.id = ?3"
                ),
                &vals![party, &kind, &id],
            )?;
            if let Some(r) = own {
                candidates.push(candidate(&r)?);
            }
            let current = candidates.first().map_or(0, |c| c.volume.version);
            let rows = db.query(
                &format!(
                    "SELECT {VOLUME_COLS}, v.party_id, p.name, v.kind FROM volumes v \
                     JOIN parties p ON p.id = v.party_id \
                     WHERE v.state <> 'ended' AND v.t_start < ?1 AND v.t_end > ?2 \
                     AND v.alt_lo <= ?3 AND v.alt_hi >= ?4 AND v.lat_lo <= ?5 AND v.lat_hi >= ?6"
                ),
                &vals![w.t_end, w.t_start, w.alt_hi, w.alt_lo, w.lat_hi, w.lat_lo],
            )?;
            for r in &rows {
                let c = candidate(r)?;
                let is_own = c.party == party && c.kind == kind && c.volume.id == id;
                if !is_own && c.window.lng_intersects(&w) {
                    candidates.push(c);
                }
            }
            candidates
                .sort_by(|a, b| (a.party, &a.kind, &a.volume.id).cmp(&(b.party, &b.kind, &b.volume.id)));
            let Some(write) = decide(&candidates) else {
                return Ok(None);
            };
            check_window("decision.window", &write.window)?;
            let text = to_json_text(&write.body)?;
            let digest = sha256_hex(text.as_bytes());
            let alerts = prepare_alerts(&write.alerts)?;
            let version = current + 1;
            upsert_volume(
                db,
                party,
                &kind,
                &id,
                version,
                &write.state,
                &text,
                &write.window,
                now,
            )?;
            let alert_seqs = insert_alerts(db, ctx, now, &alerts)?;
            let audit_seq = put_entry(db, ctx, now, party, &kind, &id, version, &write.state, &digest)?;
            Ok(Some(Filed {
                version,
                alert_seqs,
                audit_seq,
            }))
        })
    }

    fn volumes(&self, party: PartyId, kind: &str) -> Result<Vec<StoredVolume>, StoreError> {
        check_kind(kind)?;
        let kind = kind.to_string();
        self.engine.read(move |db| {
            let mut out = db
                .query(
                    &format!("SELECT {VOLUME_COLS} FROM volumes v WHERE v.party_id = ?1 AND v.kind = ?2"),
                    &vals![party, kind],
                )?
                .iter()
                .map(|r| volume_row(r).map(|(v, _)| v))
                .collect::<Result<Vec<_>, _>>()?;
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(out)
        })
    }

    fn all_volumes(&self) -> Result<Vec<(PartyId, String, StoredVolume)>, StoreError> {
        self.engine.read(|db| {
            let mut out = db
                .query(
                    &format!("SELECT {VOLUME_COLS}, v.party_id, v.kind FROM volumes v"),
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.i64(13)?, r.text(14)?, volume_row(r)?.0)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.sort_by(|a, b| (a.0, &a.1, &a.2.id).cmp(&(b.0, &b.1, &b.2.id)));
            Ok(out)
        })
    }

    fn volumes_updated_since(
        &self,
        after: f64,
        known: &dyn Fn(PartyId, &str, &str, u64) -> bool,
    ) -> Result<UpdatedSince, StoreError> {
        if after.is_nan() {
            return Err(StoreError::Invalid("after: must be a number".into()));
        }
        let keys = self.engine.read(move |db| {
            db.query(
                "SELECT party_id, kind, id, version, updated FROM volumes WHERE updated >= ?1",
                &vals![after],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.i64(0)?,
                    r.text(1)?,
                    r.text(2)?,
                    seq_from_sql(r.i64(3)?)?,
                    r.f64(4)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()
        })?;
        let newest = keys.iter().map(|k| k.4).reduce(f64::max);
        let wanted: Vec<(PartyId, String, String)> = keys
            .into_iter()
            .filter(|(p, k, id, v, _)| !known(*p, k, id, *v))
            .map(|(p, k, id, _, _)| (p, k, id))
            .collect();
        if wanted.is_empty() {
            return Ok(UpdatedSince {
                filings: Vec::new(),
                newest,
            });
        }
        let filings = self.engine.read(move |db| {
            let mut out = Vec::with_capacity(wanted.len());
            for (party, kind, id) in &wanted {
                // Read again whole: it may have changed since; the newer version is as good.
                let row = db.query_opt(
                    &format!(
                        "SELECT {VOLUME_COLS}, v.party_id, p.name, v.kind FROM volumes v \
                         JOIN parties p ON p.id = v.party_id \
                         WHERE v.party_id = ?1 AND v.kind = ?2 AND v.id = ?3"
                    ),
                    &vals![*party, kind, id],
                )?;
                if let Some(r) = row {
                    out.push((r.i64(13)?, r.text(14)?, r.text(15)?, volume_row(&r)?.0));
                }
            }
            out.sort_by(|a, b| {
                a.3.updated
                    .total_cmp(&b.3.updated)
                    .then_with(|| (a.0, &a.2, &a.3.id).cmp(&(b.0, &b.2, &b.3.id)))
            });
            Ok(out)
        })?;
        let newest = filings.iter().map(|f| f.3.updated).chain(newest).reduce(f64::max);
        Ok(UpdatedSince { filings, newest })
    }

    // ---- alerts ----

    fn append_alerts(&self, alerts: &[NewAlert], now: f64) -> Result<Vec<u64>, StoreError> {
        check_time(now)?;
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let prepared = prepare_alerts(alerts)?;
        self.engine
            .write_alone(move |db, ctx| insert_alerts(db, ctx, now, &prepared))
    }

    fn alerts_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<StoredAlert>, StoreError> {
        self.engine.read(move |db| {
            db.query(
                "SELECT seq, time, body FROM alerts WHERE party_id = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
                &vals![party, seq_to_sql(after), limit_to_sql(limit)],
            )?
            .iter()
            .map(|r| {
                let seq = seq_from_sql(r.i64(0)?)?;
                Ok(StoredAlert {
                    seq,
                    time: r.f64(1)?,
                    body: parse_json(&format!("alert {seq}"), &r.text(2)?)?,
                })
            })
            .collect()
        })
    }

    fn last_alert_seq(&self, party: PartyId) -> Result<u64, StoreError> {
        self.engine.read(move |db| {
            let last = db
                .query_one(
                    "SELECT COALESCE(MAX(seq), 0) FROM alerts WHERE party_id = ?1",
                    &vals![party],
                )?
                .i64(0)?;
            seq_from_sql(last)
        })
    }

    // ---- audit ----

    fn audit(
        &self,
        party: Option<PartyId>,
        kind: &str,
        body: serde_json::Value,
        now: f64,
    ) -> Result<u64, StoreError> {
        check_time(now)?;
        if kind.is_empty() || kind.len() > MAX_KIND_LEN || kind.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "audit kind must be 1 to {MAX_KIND_LEN} bytes without control characters"
            )));
        }
        if kind == LINK_KIND {
            return Err(StoreError::Invalid(format!(
                "audit kind {LINK_KIND:?} is reserved for link_chains"
            )));
        }
        let kind = kind.to_string();
        let body = to_json_text(&body)?;
        self.engine.write(move |db, ctx| {
            if let Some(p) = party {
                ensure_party(db, p)?;
            }
            append_entry(db, ctx, now, party, &kind, &body)
        })
    }

    fn audit_for_party(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let chain = chain.to_string();
        self.engine.read(move |db| {
            db.query(
                "SELECT chain, seq, time, party_id, kind, body, prev, hash FROM audit \
                 WHERE party_id = ?1 AND chain = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
                &vals![party, chain, seq_to_sql(after), limit_to_sql(limit)],
            )?
            .iter()
            .map(audit_row)
            .collect()
        })
    }

    fn latest_checkpoint(&self, chain: &str) -> Result<Option<Checkpoint>, StoreError> {
        let chain = chain.to_string();
        self.engine.read(move |db| {
            db.query_opt(
                "SELECT seq, time, hash, signature FROM checkpoints WHERE chain = ?1 \
                 ORDER BY seq DESC LIMIT 1",
                &vals![&chain],
            )?
            .map(|r| audit::checkpoint_row(&chain, &r))
            .transpose()
        })
    }

    fn checkpoint(&self, now: f64) -> Result<Option<Checkpoint>, StoreError> {
        check_time(now)?;
        self.engine
            .write(move |db, ctx| audit::checkpoint_now(db, ctx, now))
    }

    fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.engine.read(audit::chain_heads)
    }

    fn link_chains(&self, now: f64) -> Result<Option<u64>, StoreError> {
        check_time(now)?;
        self.engine
            .write_relaxed(move |db, ctx| audit::link_chains(db, ctx, now))
    }

    fn export_audit(&self, w: &mut dyn std::io::Write) -> Result<(), StoreError> {
        // The snapshot is read on a read connection of the backend (a thread of its own); the
        // lines come back in chunks and are written here.
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
        let public_key_hex = self.public_key_hex.clone();
        let done = self.engine.read_detached(move |db| {
            audit::export(db, &public_key_hex, &mut |chunk| {
                tx.send(chunk)
                    .map_err(|_| StoreError::Storage("export cancelled".into()))
            })
        });
        let mut write_err = None;
        for chunk in rx {
            if let Err(e) = w.write_all(&chunk) {
                write_err = Some(StoreError::Storage(format!("writing the export: {e}")));
                break;
            }
        }
        let produced = done
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Storage("the export reader stopped".into())));
        if let Some(e) = write_err {
            return Err(e);
        }
        produced?;
        w.flush()
            .map_err(|e| StoreError::Storage(format!("writing the export: {e}")))
    }
}
