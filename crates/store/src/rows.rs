//! From database rows to the crate's types, and back: each type a query returns is decoded
//! BY COLUMN NAME ([`FromRow`]), so a query may select its columns in any order and add
//! others; the column lists several queries share ([`PARTY_COLS`], [`TRACK_COLS`],
//! [`VOLUME_COLS`]); and the conversions of seqs, limits and JSON bodies to and from what the
//! database stores.

use crate::db::{Row, Val};
use crate::error::StoreError;
use crate::types::{
    AuditEntry, Candidate, ChainHead, Checkpoint, FilingKind, FilingState, Party, StoredAlert, StoredVolume,
    Window,
};
use deconflict_core::{AssetClass, TrackReport};
use serde::Serialize;
use std::str::FromStr;

/// A value read from one result row, by column name.
pub(crate) trait FromRow: Sized {
    fn from_row(r: &Row) -> Result<Self, StoreError>;
}

/// The columns of a [`Party`] (table `parties`).
pub(crate) const PARTY_COLS: &str = "id, name, member_of, role, created";

impl From<FilingKind> for Val {
    fn from(k: FilingKind) -> Self {
        Val::from(k.as_str())
    }
}

impl From<crate::hotline::MessageKind> for Val {
    fn from(k: crate::hotline::MessageKind) -> Self {
        Val::from(k.as_str())
    }
}

impl From<FilingState> for Val {
    fn from(s: FilingState) -> Self {
        Val::from(s.as_str())
    }
}

/// Column `col` parsed by its type's `FromStr` (a role, a filing's kind or state): a text the
/// type does not know is a storage error, not the caller's.
pub(crate) fn stored<T: FromStr<Err = StoreError>>(r: &Row, col: &str) -> Result<T, StoreError> {
    r.text(col)?
        .parse()
        .map_err(|e| StoreError::Storage(format!("stored {col}: {e}")))
}

impl FromRow for Party {
    fn from_row(r: &Row) -> Result<Party, StoreError> {
        Ok(Party {
            id: r.party("id")?,
            name: r.text("name")?,
            member_of: r.opt_text("member_of")?,
            role: stored(r, "role")?,
            created: r.f64("created")?,
        })
    }
}

/// The columns of a [`TrackReport`] (table `tracks`).
pub(crate) const TRACK_COLS: &str = "asset, time, lat, lng, alt_m, gs_mps, track_deg, vs_mps, class";

impl FromRow for TrackReport {
    fn from_row(r: &Row) -> Result<TrackReport, StoreError> {
        let class = r.text("class")?;
        Ok(TrackReport {
            asset: r.text("asset")?,
            time: r.f64("time")?,
            lat: r.f64("lat")?,
            lng: r.f64("lng")?,
            alt_m: r.f64("alt_m")?,
            gs_mps: r.f64("gs_mps")?,
            track_deg: r.f64("track_deg")?,
            vs_mps: r.f64("vs_mps")?,
            class: AssetClass::from_str(&class)
                .map_err(|e| StoreError::Storage(format!("stored track class {class:?}: {e}")))?,
        })
    }
}

/// The columns of a [`VolumeRow`] (table `volumes`, aliased `v`).
pub(crate) const VOLUME_COLS: &str = "v.id, v.version, v.state, v.body, v.updated, v.t_start, v.t_end, \
                                      v.alt_lo, v.alt_hi, v.lat_lo, v.lat_hi, v.lng_lo, v.lng_hi";

/// A stored filing and its window ([`VOLUME_COLS`]).
pub(crate) struct VolumeRow {
    pub volume: StoredVolume,
    pub window: Window,
}

impl FromRow for VolumeRow {
    fn from_row(r: &Row) -> Result<VolumeRow, StoreError> {
        let id = r.text("id")?;
        let version = seq_from_sql(r.i64("version")?)?;
        let body = r.text("body")?;
        let volume = StoredVolume {
            body: parse_json(&format!("filing {id:?} version {version}"), &body)?,
            id,
            version,
            state: stored(r, "state")?,
            updated: r.f64("updated")?,
        };
        let window = Window {
            t_start: r.f64("t_start")?,
            t_end: r.f64("t_end")?,
            alt_lo: r.f64("alt_lo")?,
            alt_hi: r.f64("alt_hi")?,
            lat_lo: r.f64("lat_lo")?,
            lat_hi: r.f64("lat_hi")?,
            lng_lo: r.f64("lng_lo")?,
            lng_hi: r.f64("lng_hi")?,
        };
        Ok(VolumeRow { volume, window })
    }
}

/// [`VOLUME_COLS`] plus `party_id`, `party_name` and `kind`.
impl FromRow for Candidate {
    fn from_row(r: &Row) -> Result<Candidate, StoreError> {
        let VolumeRow { volume, window } = VolumeRow::from_row(r)?;
        Ok(Candidate {
            party: r.party("party_id")?,
            party_name: r.text("party_name")?,
            kind: stored(r, "kind")?,
            volume,
            window,
        })
    }
}

/// Columns `seq, time, body` of table `alerts`.
impl FromRow for StoredAlert {
    fn from_row(r: &Row) -> Result<StoredAlert, StoreError> {
        let seq = seq_from_sql(r.i64("seq")?)?;
        Ok(StoredAlert {
            seq,
            time: r.f64("time")?,
            body: parse_json(&format!("alert {seq}"), &r.text("body")?)?,
        })
    }
}

/// Columns `chain, seq, time, party_id, kind, body, prev, hash` of table `audit`.
impl FromRow for AuditEntry {
    fn from_row(r: &Row) -> Result<AuditEntry, StoreError> {
        let chain = r.text("chain")?;
        let seq = seq_from_sql(r.i64("seq")?)?;
        let body = r.text("body")?;
        Ok(AuditEntry {
            body: parse_json(&format!("audit entry {seq} of chain {chain:?}"), &body)?,
            chain,
            seq,
            time: r.f64("time")?,
            party: r.opt_party("party_id")?,
            kind: r.text("kind")?,
            prev: r.text("prev")?,
            hash: r.text("hash")?,
        })
    }
}

/// Columns `chain, seq, time, hash, signature` of table `checkpoints`.
impl FromRow for Checkpoint {
    fn from_row(r: &Row) -> Result<Checkpoint, StoreError> {
        Ok(Checkpoint {
            chain: r.text("chain")?,
            seq: seq_from_sql(r.i64("seq")?)?,
            time: r.f64("time")?,
            hash: r.text("hash")?,
            signature: r.text("signature")?,
        })
    }
}

/// Columns `chain, seq, hash` of table `audit_heads`.
impl FromRow for ChainHead {
    fn from_row(r: &Row) -> Result<ChainHead, StoreError> {
        Ok(ChainHead {
            chain: r.text("chain")?,
            seq: seq_from_sql(r.i64("seq")?)?,
            hash: r.text("hash")?,
        })
    }
}

/// A seq (or version) as stored: `BIGINT` (saturating; seqs never get near `i64::MAX`).
pub(crate) fn seq_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// A stored seq (or version); a negative one is a corrupt database.
pub(crate) fn seq_from_sql(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Storage(format!("negative seq {seq} in database")))
}

/// A `LIMIT` (saturating).
pub(crate) fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The compact JSON text a body is stored (and hashed) as.
pub(crate) fn to_json_text(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))
}

/// A stored JSON body (`what` names it in the error).
pub(crate) fn parse_json(what: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Storage(format!("stored body of {what} is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, SqliteDb};
    use deconflict_core::PartyId;

    fn one(sql: &str) -> Row {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &mut dyn Db = &mut SqliteDb(&conn);
        db.query_one(sql, &[]).unwrap()
    }

    #[test]
    fn a_candidate_is_decoded_whatever_the_column_order() {
        // The columns of VOLUME_COLS plus the candidate's, in an order of their own.
        let r = one(
            "SELECT 'alice' AS party_name, 1.0 AS lng_hi, 0.5 AS lng_lo, 2.0 AS lat_hi, 1.5 AS lat_lo, \
             300.0 AS alt_hi, 100.0 AS alt_lo, 20.0 AS t_end, 10.0 AS t_start, 5.0 AS updated, \
             '{\"a\":1}' AS body, 'accepted' AS state, 3 AS version, 'sortie-1' AS id, 'intent' AS kind, \
             9 AS party_id",
        );
        let c = Candidate::from_row(&r).unwrap();
        assert_eq!(
            (c.party, c.party_name.as_str(), c.kind),
            (PartyId(9), "alice", FilingKind::Intent)
        );
        assert_eq!(
            c.volume,
            StoredVolume {
                id: "sortie-1".into(),
                version: 3,
                state: FilingState::Accepted,
                body: serde_json::json!({"a": 1}),
                updated: 5.0,
            }
        );
        assert_eq!(
            c.window,
            Window {
                t_start: 10.0,
                t_end: 20.0,
                alt_lo: 100.0,
                alt_hi: 300.0,
                lat_lo: 1.5,
                lat_hi: 2.0,
                lng_lo: 0.5,
                lng_hi: 1.0,
            }
        );
    }

    #[test]
    fn corrupt_stored_values_are_storage_errors() {
        let r = one("SELECT -1 AS seq, 1.0 AS time, '{}' AS body");
        assert!(
            matches!(StoredAlert::from_row(&r), Err(StoreError::Storage(m)) if m.contains("negative seq"))
        );
        let r = one("SELECT 1 AS seq, 1.0 AS time, 'not json' AS body");
        assert!(matches!(StoredAlert::from_row(&r), Err(StoreError::Storage(m)) if m.contains("alert 1")));
        let r = one("SELECT 1 AS id, 'p' AS name, NULL AS member_of, 'king' AS role, 0.0 AS created");
        assert!(matches!(Party::from_row(&r), Err(StoreError::Storage(m)) if m.contains("stored role")));
        let filing = |kind: &str, state: &str| {
            one(&format!(
                "SELECT 'p' AS party_name, 1.0 AS lng_hi, 0.5 AS lng_lo, 2.0 AS lat_hi, 1.5 AS lat_lo, \
                 300.0 AS alt_hi, 100.0 AS alt_lo, 20.0 AS t_end, 10.0 AS t_start, 5.0 AS updated, \
                 '{{}}' AS body, '{state}' AS state, 1 AS version, 'x' AS id, '{kind}' AS kind, 1 AS party_id"
            ))
        };
        assert!(Candidate::from_row(&filing("constraint", "ended")).is_ok());
        let bad_kind = Candidate::from_row(&filing("plan", "accepted"));
        assert!(matches!(bad_kind, Err(StoreError::Storage(m)) if m.contains("stored kind")));
        let bad_state = Candidate::from_row(&filing("intent", "flying"));
        assert!(matches!(bad_state, Err(StoreError::Storage(m)) if m.contains("stored state")));
    }

    #[test]
    fn filing_kinds_and_states_are_their_stored_text() {
        for k in [FilingKind::Constraint, FilingKind::Intent] {
            assert_eq!(k.as_str().parse::<FilingKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
        }
        for st in [FilingState::Accepted, FilingState::Activated, FilingState::Ended] {
            assert_eq!(st.as_str().parse::<FilingState>(), Ok(st));
            assert_eq!(serde_json::to_value(st).unwrap(), serde_json::json!(st.as_str()));
        }
        // ordered as the text, so candidates and listings keep their order
        assert!(FilingKind::Constraint < FilingKind::Intent);
        assert!("Intent".parse::<FilingKind>().is_err() && "".parse::<FilingState>().is_err());
    }
}
