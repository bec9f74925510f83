//! Durable, party-scoped storage of deconflict on SQLite, with the tamper-evident audit chain.
//!
//! - One database file `dir/deconflict.db` (WAL, `synchronous=FULL`, busy timeout 5 s) and the
//!   service's Ed25519 key `dir/service.key`.
//! - Every write goes through one writer thread that groups concurrent writes into one
//!   transaction and one fsync (see [`WriteStats`] and the `writer` module). A write has
//!   committed when its call returns.
//! - Every write transaction is `BEGIN IMMEDIATE` and reads the chain head inside it, so
//!   another process (the CLI) may write to the same directory while the server runs.
//! - Reads use a small pool of separate connections. Every read that returns a party's rows
//!   takes that party's id and filters by it in SQL; only [`Store::all_tracks`],
//!   [`Store::list_parties`] and [`Store::export_audit`] are service-wide.
//! - Times are passed in by the caller (`now`, Unix seconds), never read from a clock here.
//!
//! The audit hash and checkpoint formats are documented in the `audit` module docs
//! (re-exported items: [`entry_hash`], [`checkpoint_message`], [`verify_audit`]).

mod audit;
mod key;
mod schema;
mod writer;

pub use audit::{
    checkpoint_message, entry_hash, sha256_hex, verify_audit, VerifyError, VerifyReport, AUDIT_FORMAT,
    CHECKPOINT_DOMAIN,
};
pub use key::KEY_FILE;
pub use schema::SCHEMA_VERSION;
pub use writer::{WriteStats, MAX_BATCH};

use audit::{append_entry, seq_from_sql, seq_to_sql};
use deconflict_core::{AssetClass, TrackReport};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use writer::{Ctx, Writer};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "deconflict.db";
/// Prefix of every API token.
pub const TOKEN_PREFIX: &str = "dcf_";
/// Default number of audit entries between two automatic checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// Longest party name.
pub const MAX_PARTY_NAME_LEN: usize = 64;
/// Longest audit kind.
pub const MAX_KIND_LEN: usize = 64;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_IDLE_READERS: usize = 16;

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
    pub seq: u64,
    pub time: f64,
    pub party: Option<PartyId>,
    pub kind: String,
    /// Parsed from the stored compact JSON text (the text the hash covers).
    pub body: serde_json::Value,
    /// Hex of the previous entry's hash (64 zeros for entry 1).
    pub prev: String,
    /// Hex of this entry's hash.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub time: f64,
    /// Hex of the hash of entry `seq`.
    pub hash: String,
    /// Hex of the Ed25519 signature over [`checkpoint_message`]`(seq, hash)`.
    pub signature: String,
}

/// One filing of an intent or a constraint, for [`Store::put_volume`].
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

/// A handle on one data directory. Cheap to clone; `Send + Sync`. The writer thread stops when
/// the last clone is dropped (after finishing the queued writes).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    // Declared first so it is dropped (joined) before the readers close.
    writer: Writer,
    readers: ReadPool,
    public_key_hex: String,
    id_secret: [u8; 32],
}

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

    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_conn()?,
        };
        let result = f(&conn);
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

fn check_kind(kind: &str) -> Result<(), StoreError> {
    if kind == "intent" || kind == "constraint" {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "kind must be intent or constraint, got {kind:?}"
        )))
    }
}

fn volume_row(r: &rusqlite::Row) -> Result<StoredVolume, StoreError> {
    let version = seq_from_sql(r.get(1)?)?;
    let body: String = r.get(3)?;
    Ok(StoredVolume {
        id: r.get(0)?,
        version,
        state: r.get(2)?,
        body: parse_json(version, &body)?,
        updated: r.get(4)?,
    })
}

fn check_time(now: f64) -> Result<(), StoreError> {
    if now.is_finite() {
        Ok(())
    } else {
        Err(StoreError::Invalid("time must be a finite number".into()))
    }
}

fn check_party_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_PARTY_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
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

fn parse_json(seq: u64, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Storage(format!("stored body of seq {seq} is not JSON: {e}")))
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn conversion_error(col: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

const PARTY_COLS: &str = "id, name, member_of, role, created";

fn party_row(r: &Row) -> rusqlite::Result<Party> {
    let role: String = r.get(3)?;
    Ok(Party {
        id: r.get(0)?,
        name: r.get(1)?,
        member_of: r.get(2)?,
        role: role.parse().map_err(|e| conversion_error(3, e))?,
        created: r.get(4)?,
    })
}

const TRACK_COLS: &str = "asset, time, lat, lng, alt_m, gs_mps, track_deg, vs_mps, class";

/// Reads a report from columns `offset..offset + 9` in `TRACK_COLS` order.
fn track_row(r: &Row, offset: usize) -> rusqlite::Result<TrackReport> {
    let class: String = r.get(offset + 8)?;
    Ok(TrackReport {
        asset: r.get(offset)?,
        time: r.get(offset + 1)?,
        lat: r.get(offset + 2)?,
        lng: r.get(offset + 3)?,
        alt_m: r.get(offset + 4)?,
        gs_mps: r.get(offset + 5)?,
        track_deg: r.get(offset + 6)?,
        vs_mps: r.get(offset + 7)?,
        class: AssetClass::from_str(&class).map_err(|e| conversion_error(offset + 8, e))?,
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
    for (name, v) in fields {
        if !v.is_finite() {
            return Err(StoreError::Invalid(format!(
                "reports[{i}].{name}: must be a finite number"
            )));
        }
    }
    Ok(())
}

/// Writer side: NotFound unless the party exists.
fn ensure_party(conn: &Connection, party: PartyId) -> Result<(), StoreError> {
    let found = conn
        .prepare_cached("SELECT 1 FROM parties WHERE id = ?1")?
        .query_row([party], |_| Ok(()))
        .optional()?;
    found.ok_or_else(|| StoreError::NotFound(format!("party {party}")))
}

/// Writer side: the id of a party by name, or NotFound.
fn party_id_by_name(conn: &Connection, name: &str) -> Result<PartyId, StoreError> {
    conn.prepare_cached("SELECT id FROM parties WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("party {name:?}")))
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

impl Store {
    /// Opens (creating if needed) the store in `dir`, with a checkpoint every
    /// [`DEFAULT_CHECKPOINT_EVERY`] audit entries.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, DEFAULT_CHECKPOINT_EVERY)
    }

    /// As [`Store::open`], signing a checkpoint whenever an audit seq is a multiple of
    /// `checkpoint_every` (0: only on [`Store::checkpoint`]).
    pub fn open_with(dir: &Path, checkpoint_every: u64) -> Result<Store, StoreError> {
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
        let path = dir.join(DB_FILE);
        let mut conn = open_writer_conn(&path)?;
        schema::migrate(&mut conn)?;
        let writer = Writer::spawn(
            conn,
            Ctx {
                signing,
                checkpoint_every,
            },
        )?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer,
                readers: ReadPool {
                    path,
                    idle: Mutex::new(Vec::new()),
                },
                public_key_hex,
                id_secret,
            }),
        })
    }

    /// Hex of the service's Ed25519 public key (verifies checkpoints).
    pub fn public_key_hex(&self) -> String {
        self.inner.public_key_hex.clone()
    }

    /// An opaque 64-bit id for `label`: the same for the same label on this data directory
    /// (across restarts), unguessable without the service key.
    pub fn opaque_id(&self, label: &str) -> u64 {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.inner.id_secret);
        h.update(label.as_bytes());
        let d = h.finalize();
        u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }

    /// Counters of the group-committing writer (for tests and metrics).
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    // ---- parties and tokens ------------------------------------------------------------------

    /// Adds a party; audited as `party.add`.
    pub fn add_party(
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
        self.inner.writer.run(move |conn, ctx| {
            let exists = conn
                .prepare_cached("SELECT 1 FROM parties WHERE name = ?1")?
                .query_row([&name], |_| Ok(()))
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!("party {name:?} already exists")));
            }
            conn.prepare_cached(
                "INSERT INTO parties (name, member_of, role, created) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![name, member_of, role.as_str(), now])?;
            let id = conn.last_insert_rowid();
            append_entry(conn, ctx, now, Some(id), "party.add", &body)?;
            Ok(Party {
                id,
                name,
                member_of,
                role,
                created: now,
            })
        })
    }

    pub fn party_by_name(&self, name: &str) -> Result<Option<Party>, StoreError> {
        self.inner.readers.with(|conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {PARTY_COLS} FROM parties WHERE name = ?1"))?
                .query_row([name], party_row)
                .optional()?)
        })
    }

    pub fn party(&self, id: PartyId) -> Result<Option<Party>, StoreError> {
        self.inner.readers.with(|conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {PARTY_COLS} FROM parties WHERE id = ?1"))?
                .query_row([id], party_row)
                .optional()?)
        })
    }

    /// Every party, by id (service-wide; for admins).
    pub fn list_parties(&self) -> Result<Vec<Party>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!("SELECT {PARTY_COLS} FROM parties ORDER BY id"))?;
            let rows = stmt.query_map([], party_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Issues a new random token for the party: returned once as `"dcf_" + 64 hex`; only its
    /// SHA-256 is stored. Audited as `token.issue` with the token's row id.
    pub fn issue_token(&self, party_name: &str, now: f64) -> Result<String, StoreError> {
        check_time(now)?;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let hash = sha256_hex(token.as_bytes());
        let name = party_name.to_string();
        self.inner.writer.run(move |conn, ctx| {
            let party = party_id_by_name(conn, &name)?;
            conn.prepare_cached(
                "INSERT INTO tokens (party_id, hash, created, revoked) VALUES (?1, ?2, ?3, NULL)",
            )?
            .execute(params![party, hash, now])?;
            let body = to_json_text(&serde_json::json!({ "token_id": conn.last_insert_rowid() }))?;
            append_entry(conn, ctx, now, Some(party), "token.issue", &body)?;
            Ok(())
        })?;
        Ok(token)
    }

    /// Revokes every live token of the party; returns how many. Audited as `token.revoke`.
    pub fn revoke_tokens(&self, party_name: &str, now: f64) -> Result<usize, StoreError> {
        check_time(now)?;
        let name = party_name.to_string();
        self.inner.writer.run(move |conn, ctx| {
            let party = party_id_by_name(conn, &name)?;
            let n = conn
                .prepare_cached("UPDATE tokens SET revoked = ?1 WHERE party_id = ?2 AND revoked IS NULL")?
                .execute(params![now, party])?;
            let body = to_json_text(&serde_json::json!({ "count": n }))?;
            append_entry(conn, ctx, now, Some(party), "token.revoke", &body)?;
            Ok(n)
        })
    }

    /// The party a token belongs to; None for unknown, revoked or malformed tokens. Looks up
    /// the token's SHA-256 in the database on every call (no cache), so tokens issued or
    /// revoked by another process take effect at once.
    pub fn authenticate(&self, token: &str) -> Result<Option<Party>, StoreError> {
        let Some(secret) = token.strip_prefix(TOKEN_PREFIX) else {
            return Ok(None);
        };
        if secret.len() != 64 || !secret.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Ok(None);
        }
        let hash = sha256_hex(token.as_bytes());
        self.inner.readers.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT p.id, p.name, p.member_of, p.role, p.created \
                     FROM tokens t JOIN parties p ON p.id = t.party_id \
                     WHERE t.hash = ?1 AND t.revoked IS NULL",
                )?
                .query_row([&hash], party_row)
                .optional()?)
        })
    }

    // ---- tracks ------------------------------------------------------------------------------

    /// In one transaction: each report becomes the party's latest for its asset unless the
    /// stored one is newer, plus one audit entry `tracks` with body
    /// `{"count":n,"digest":hex}`, the digest being SHA-256 of the compact JSON array of the
    /// reports (serde_json of `&[TrackReport]`, fields in struct order). Returns the entry's
    /// seq once committed.
    pub fn put_tracks(&self, party: PartyId, reports: &[TrackReport], now: f64) -> Result<u64, StoreError> {
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
        let reports = reports.to_vec();
        self.inner.writer.run(move |conn, ctx| {
            ensure_party(conn, party)?;
            let mut stmt = conn.prepare_cached(
                "INSERT INTO tracks (party_id, asset, time, lat, lng, alt_m, gs_mps, track_deg, \
                 vs_mps, class) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (party_id, asset) DO UPDATE SET time = excluded.time, \
                 lat = excluded.lat, lng = excluded.lng, alt_m = excluded.alt_m, \
                 gs_mps = excluded.gs_mps, track_deg = excluded.track_deg, \
                 vs_mps = excluded.vs_mps, class = excluded.class \
                 WHERE excluded.time >= tracks.time",
            )?;
            for r in &reports {
                stmt.execute(params![
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
                ])?;
            }
            append_entry(conn, ctx, now, Some(party), "tracks", &body)
        })
    }

    /// The party's latest report per asset, by asset id.
    pub fn tracks(&self, party: PartyId) -> Result<Vec<TrackReport>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TRACK_COLS} FROM tracks WHERE party_id = ?1 ORDER BY asset"
            ))?;
            let rows = stmt.query_map([party], |r| track_row(r, 0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Service-internal (engine warm-up after a restart): every party's latest tracks.
    pub fn all_tracks(&self) -> Result<Vec<(PartyId, TrackReport)>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT party_id, {TRACK_COLS} FROM tracks ORDER BY party_id, asset"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, track_row(r, 1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    // ---- intents and constraints (4D volumes) -------------------------------------------------

    /// Files an intent or a constraint (`kind` is `intent` or `constraint`) in one transaction:
    /// checks that `expected_version` is the current version (`None` for a new one), stores the
    /// filing as version + 1, and appends one audit entry `<kind>.put` with body
    /// `{"id","version","state","digest"}`. Returns the new version. `Stale` (nothing stored)
    /// when the version is not the current one, also when another process filed in between.
    pub fn put_volume(&self, party: PartyId, filing: &VolumeFiling, now: f64) -> Result<u64, StoreError> {
        let VolumeFiling {
            kind,
            id,
            expected_version,
            state,
            body,
        } = *filing;
        check_time(now)?;
        check_kind(kind)?;
        if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "id must be 1 to 128 bytes without control characters".into(),
            ));
        }
        let text = to_json_text(body)?;
        let digest = sha256_hex(text.as_bytes());
        let (kind, id, state) = (kind.to_string(), id.to_string(), state.to_string());
        self.inner.writer.run(move |conn, ctx| {
            ensure_party(conn, party)?;
            let current: Option<i64> = conn
                .prepare_cached("SELECT version FROM volumes WHERE party_id = ?1 AND kind = ?2 AND id = ?3")?
                .query_row(params![party, kind, id], |r| r.get(0))
                .optional()?;
            let current = current.map(seq_from_sql).transpose()?;
            if current != expected_version {
                return Err(StoreError::Stale {
                    current: current.unwrap_or(0),
                });
            }
            let version = current.unwrap_or(0) + 1;
            conn.prepare_cached(
                "INSERT INTO volumes (party_id, kind, id, version, state, body, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (party_id, kind, id) DO UPDATE SET \
                 version = excluded.version, state = excluded.state, body = excluded.body, \
                 updated = excluded.updated",
            )?
            .execute(params![party, kind, id, seq_to_sql(version), state, text, now])?;
            let entry = to_json_text(&serde_json::json!({
                "id": id, "version": version, "state": state, "digest": digest
            }))?;
            append_entry(conn, ctx, now, Some(party), &format!("{kind}.put"), &entry)?;
            Ok(version)
        })
    }

    /// The party's own filings of a kind, by id.
    pub fn volumes(&self, party: PartyId, kind: &str) -> Result<Vec<StoredVolume>, StoreError> {
        check_kind(kind)?;
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, version, state, body, updated FROM volumes WHERE party_id = ?1 AND kind = ?2 ORDER BY id",
            )?;
            let mut rows = stmt.query(params![party, kind])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(volume_row(r)?);
            }
            Ok(out)
        })
    }

    /// Service-internal (index warm-up after a restart): every party's filings.
    pub fn all_volumes(&self) -> Result<Vec<(PartyId, String, StoredVolume)>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, version, state, body, updated, party_id, kind FROM volumes ORDER BY party_id, kind, id",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push((r.get(5)?, r.get(6)?, volume_row(r)?));
            }
            Ok(out)
        })
    }

    // ---- alerts ------------------------------------------------------------------------------

    /// In one transaction: gives each alert its party's next seq (1, 2, 3, ... without gaps),
    /// stores it, and appends one audit entry `alert` per alert with body
    /// `{"seq":s,"digest":hex}` (SHA-256 of the alert body's compact JSON). Returns the seqs in
    /// input order. NotFound (and nothing stored) if any party does not exist.
    pub fn append_alerts(&self, alerts: &[NewAlert], now: f64) -> Result<Vec<u64>, StoreError> {
        check_time(now)?;
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let prepared = alerts
            .iter()
            .map(|a| {
                let text = to_json_text(&a.body)?;
                let digest = sha256_hex(text.as_bytes());
                Ok((a.party, text, digest))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.inner.writer.run(move |conn, ctx| {
            let mut seqs = Vec::with_capacity(prepared.len());
            let mut checked: Vec<PartyId> = Vec::new();
            for (party, text, digest) in &prepared {
                if !checked.contains(party) {
                    ensure_party(conn, *party)?;
                    checked.push(*party);
                }
                let last: i64 = conn
                    .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM alerts WHERE party_id = ?1")?
                    .query_row([party], |r| r.get(0))?;
                let seq = seq_from_sql(last)? + 1;
                conn.prepare_cached(
                    "INSERT INTO alerts (party_id, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![party, seq_to_sql(seq), now, text])?;
                let body = to_json_text(&serde_json::json!({ "seq": seq, "digest": digest }))?;
                append_entry(conn, ctx, now, Some(*party), "alert", &body)?;
                seqs.push(seq);
            }
            Ok(seqs)
        })
    }

    /// The party's alerts with seq > `after`, oldest first, at most `limit`.
    pub fn alerts_after(
        &self,
        party: PartyId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, time, body FROM alerts WHERE party_id = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![party, seq_to_sql(after), limit_to_sql(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let seq = seq_from_sql(r.get(0)?)?;
                let body: String = r.get(2)?;
                out.push(StoredAlert {
                    seq,
                    time: r.get(1)?,
                    body: parse_json(seq, &body)?,
                });
            }
            Ok(out)
        })
    }

    /// The party's newest alert seq (0 if none).
    pub fn last_alert_seq(&self, party: PartyId) -> Result<u64, StoreError> {
        self.inner.readers.with(|conn| {
            let last: i64 = conn
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM alerts WHERE party_id = ?1")?
                .query_row([party], |r| r.get(0))?;
            seq_from_sql(last)
        })
    }

    // ---- audit -------------------------------------------------------------------------------

    /// Appends one entry of any kind (1 to 64 bytes); `party`, if given, must exist. Returns
    /// its seq once committed.
    pub fn audit(
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
        let kind = kind.to_string();
        let body = to_json_text(&body)?;
        self.inner.writer.run(move |conn, ctx| {
            if let Some(p) = party {
                ensure_party(conn, p)?;
            }
            append_entry(conn, ctx, now, party, &kind, &body)
        })
    }

    /// The entries about `party` (its `party` field) with seq > `after`, oldest first, at most
    /// `limit`. Each carries `prev` and `hash`, so the party can check them against the chain.
    pub fn audit_for_party(
        &self,
        party: PartyId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.readers.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, time, party_id, kind, body, prev, hash FROM audit \
                 WHERE party_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![party, seq_to_sql(after), limit_to_sql(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let seq = seq_from_sql(r.get(0)?)?;
                let body: String = r.get(4)?;
                out.push(AuditEntry {
                    seq,
                    time: r.get(1)?,
                    party: r.get(2)?,
                    kind: r.get(3)?,
                    body: parse_json(seq, &body)?,
                    prev: r.get(5)?,
                    hash: r.get(6)?,
                });
            }
            Ok(out)
        })
    }

    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.inner.readers.with(|conn| {
            let row: Option<(i64, f64, String, String)> = conn
                .prepare_cached(
                    "SELECT seq, time, hash, signature FROM checkpoints ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            row.map(|(seq, time, hash, signature)| {
                Ok(Checkpoint {
                    seq: seq_from_sql(seq)?,
                    time,
                    hash,
                    signature,
                })
            })
            .transpose()
        })
    }

    /// Signs the newest entry unless a checkpoint already covers it (call on shutdown).
    pub fn checkpoint(&self, now: f64) -> Result<Option<Checkpoint>, StoreError> {
        check_time(now)?;
        self.inner
            .writer
            .run(move |conn, ctx| audit::checkpoint_now(conn, ctx, now))
    }

    /// The whole log as JSON Lines from one consistent snapshot (format in the `audit` module
    /// docs); verify it with [`verify_audit`].
    pub fn export_audit(&self, w: &mut dyn std::io::Write) -> Result<(), StoreError> {
        let mut buf = std::io::BufWriter::with_capacity(1 << 16, w);
        self.inner.readers.with(|conn| {
            let tx = conn.unchecked_transaction()?;
            audit::export(&tx, &self.inner.public_key_hex, &mut buf)?;
            tx.commit()?;
            Ok(())
        })
    }
}
