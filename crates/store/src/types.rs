//! The plain data the store takes and returns: parties and roles, filings and their windows,
//! alerts, audit entries, checkpoints and chain heads, plus the public limits the checks
//! enforce. A leaf: it imports only [`StoreError`] (for parsing a [`Role`]).

use crate::error::StoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Prefix of every API token.
pub const TOKEN_PREFIX: &str = "dcf_";

/// True when `token` has the shape of an API token: [`TOKEN_PREFIX`] then 64 lowercase hex
/// digits. Anything else is refused before the database is asked.
pub fn is_token_shaped(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|secret| {
        secret.len() == 64 && secret.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Longest party name.
pub const MAX_PARTY_NAME_LEN: usize = 64;
/// Longest audit kind.
pub const MAX_KIND_LEN: usize = 64;
/// Longest node (audit chain) name.
pub const MAX_CHAIN_LEN: usize = 64;

/// True for a valid chain (node) name: 1 to 64 bytes of `A-Z a-z 0-9 _ . -`. (Party names
/// follow the same rule.)
pub fn valid_chain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CHAIN_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A party's id (the core's type, so the store, the engine and the service agree).
pub use deconflict_core::PartyId;

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

/// What a 4D-volume filing is: an operational intent (where a party means to fly) or a
/// constraint (where others should not). Stored as its [`as_str`](Self::as_str) text; ordered
/// as that text is (constraint before intent), the order filings are listed and decided in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingKind {
    Constraint,
    Intent,
}

impl FilingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingKind::Intent => "intent",
            FilingKind::Constraint => "constraint",
        }
    }
}

impl fmt::Display for FilingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilingKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "intent" => Ok(FilingKind::Intent),
            "constraint" => Ok(FilingKind::Constraint),
            other => Err(StoreError::Invalid(format!(
                "kind must be intent or constraint, got {other:?}"
            ))),
        }
    }
}

/// Where a filing is in its life: accepted (filed, not yet flown), activated (being flown) or
/// ended (kept on the record, no longer checked against). Stored as its
/// [`as_str`](Self::as_str) text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FilingState {
    #[default]
    Accepted,
    Activated,
    Ended,
}

impl FilingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingState::Accepted => "accepted",
            FilingState::Activated => "activated",
            FilingState::Ended => "ended",
        }
    }
}

impl fmt::Display for FilingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilingState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "accepted" => Ok(FilingState::Accepted),
            "activated" => Ok(FilingState::Activated),
            "ended" => Ok(FilingState::Ended),
            other => Err(StoreError::Invalid(format!(
                "state must be accepted, activated or ended, got {other:?}"
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
    /// Hex of the Ed25519 signature over [`checkpoint_message`](crate::checkpoint_message)`(chain,
    /// seq, hash)`.
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

/// Bounding window of a filing: time [t_start, t_end), altitude [alt_lo, alt_hi] metres, latitude
/// and longitude degrees; lng_lo > lng_hi means the box crosses the antimeridian.
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
    /// True when the two windows overlap in time, altitude, latitude and longitude (the same test
    /// [`StoreBackend::file_checked`](crate::StoreBackend::file_checked) applies to pick its
    /// candidates).
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

/// One filing [`StoreBackend::file_checked`](crate::StoreBackend::file_checked) hands its decider:
/// a live filing whose window intersects the new one, or the caller's own current row.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub party: PartyId,
    pub party_name: String,
    pub kind: FilingKind,
    pub volume: StoredVolume,
    pub window: Window,
}

/// What a decider wants stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedWrite {
    pub state: FilingState,
    /// The filing as accepted: the compact JSON text of an object, stored (and hashed) as is.
    pub body: String,
    pub window: Window,
    /// Alerts to append in the same transaction (as
    /// [`StoreBackend::append_alerts`](crate::StoreBackend::append_alerts)).
    pub alerts: Vec<NewAlert>,
}

/// What [`StoreBackend::volumes_updated_since`](crate::StoreBackend::volumes_updated_since) found.
#[derive(Debug, Clone, Default)]
pub struct UpdatedSince {
    /// The filings the caller does not hold, as (party, party name, kind, filing), by
    /// updated, party, kind, id.
    pub filings: Vec<(PartyId, String, FilingKind, StoredVolume)>,
    /// The newest `updated` among all rows read, held or not (`None`: no row).
    pub newest: Option<f64>,
}

/// The decider of [`StoreBackend::file_checked`](crate::StoreBackend::file_checked): pure, and
/// called again if the transaction is retried. `None` stores nothing.
pub type Decide = dyn Fn(&[Candidate]) -> Option<CheckedWrite> + Send + Sync;

/// What [`StoreBackend::file_checked`](crate::StoreBackend::file_checked) stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Filed {
    /// The filing's new version.
    pub version: u64,
    /// The alerts' seqs, in the decider's order.
    pub alert_seqs: Vec<u64>,
    /// Seq (in this node's chain) of the `<kind>.put` audit entry.
    pub audit_seq: u64,
    /// The filer's signed receipt for that entry.
    pub receipt: crate::audit::Receipt,
}

/// One filing of an intent or a constraint, for
/// [`StoreBackend::put_volume`](crate::StoreBackend::put_volume).
#[derive(Debug, Clone, Copy)]
pub struct VolumeFiling<'a> {
    pub kind: FilingKind,
    pub id: &'a str,
    /// The version this filing replaces; `None` for a new id.
    pub expected_version: Option<u64>,
    pub state: FilingState,
    /// The filing as accepted: the compact JSON text of an object, stored (and hashed) as is.
    pub body: &'a str,
    /// Its bounding window (what [`StoreBackend::file_checked`](crate::StoreBackend::file_checked)
    /// matches against).
    pub window: Window,
}

/// A stored intent or constraint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVolume {
    pub id: String,
    pub version: u64,
    pub state: FilingState,
    /// The filing as accepted (JSON).
    pub body: serde_json::Value,
    pub updated: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub party: PartyId,
    pub body: serde_json::Value,
}
