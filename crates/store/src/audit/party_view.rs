//! What a party is shown of the audit: its own sub-chains (one per node), their heads, the
//! newest party checkpoint with the party's own leaves and inclusion proofs, and the whole view
//! as JSON Lines (format `deconflict-party-audit/1`) for the offline verifier
//! ([`verify_party_audit`](super::verify_party_audit)).
//!
//! # The view's export
//! Line 1: `{"format":"deconflict-party-audit/1","public_key":"<hex>","party":<id>}`; then the
//! party's entries, sub-chain by sub-chain in chain-name (byte) order, each in seq order:
//! `{"entry":{"chain":..,"seq":..,"time":..,"kind":..,"body":<json>,"prev":"<hex>","hash":"<hex>"}}`
//! (`seq`, `prev` and `hash` are the sub-chain's: `pseq`, the previous `phash`, `phash`); last,
//! if one covers the party, the newest party checkpoint
//! `{"checkpoint":{"chain":..,"n":..,"time":..,"root":..,"size":..,"signature":..,
//! "leaves":[{"chain":..,"party":..,"seq":..,"hash":..,"nonce":..,"index":..,"proof":["<hex>",..]},..]}}`
//! holding the party's leaves only. All of it from one snapshot.

use super::party::{merkle_proof, PartyCheckpoint, PartyLeaf};
use crate::db::{vals, Db};
use crate::error::StoreError;
use crate::rows::{limit_to_sql, seq_from_sql, seq_to_sql};
use crate::types::PartyId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The format of a party view's export.
pub const PARTY_AUDIT_FORMAT: &str = "deconflict-party-audit/1";

/// One entry of a party's sub-chain, as the party sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyAuditEntry {
    /// The node whose sub-chain this is.
    pub chain: String,
    /// Place in the (chain, party) sub-chain: 1, 2, 3, ...
    pub seq: u64,
    pub time: f64,
    pub kind: String,
    /// Parsed from the stored compact JSON text (the text the hash covers).
    pub body: serde_json::Value,
    /// Hex of the sub-chain's previous hash (64 zeros for seq 1).
    pub prev: String,
    /// Hex of this entry's sub-chain hash.
    pub hash: String,
}

/// The head of one of a party's sub-chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyHead {
    pub chain: String,
    pub seq: u64,
    pub hash: String,
}

/// One of a party's leaves in a party checkpoint, with what proves it is in the signed tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyLeafProof {
    #[serde(flatten)]
    pub leaf: PartyLeaf,
    /// The leaf's index in the tree.
    pub index: u64,
    /// Hex of the sibling hashes, leaf to root (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

/// A party checkpoint as a party is shown it: the signed root and its own leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyCheckpointView {
    #[serde(flatten)]
    pub checkpoint: PartyCheckpoint,
    pub leaves: Vec<PartyLeafProof>,
}

fn entry_of(chain: &str, r: &crate::db::Row, prev: String) -> Result<(PartyAuditEntry, String), StoreError> {
    let seq = seq_from_sql(r.i64("pseq")?)?;
    let text = r.text("body")?;
    let hash = r.text("phash")?;
    let body = serde_json::from_str(&text)
        .map_err(|e| StoreError::Storage(format!("audit {chain:?} entry {seq}: stored body: {e}")))?;
    Ok((
        PartyAuditEntry {
            chain: chain.to_string(),
            seq,
            time: r.f64("time")?,
            kind: r.text("kind")?,
            body,
            prev,
            hash: hash.clone(),
        },
        hash,
    ))
}

/// The hash of entry `pseq` of the (chain, party) sub-chain (zeros for 0).
fn phash_at(db: &mut dyn Db, party: PartyId, chain: &str, pseq: u64) -> Result<String, StoreError> {
    if pseq == 0 {
        return Ok("0".repeat(64));
    }
    Ok(db
        .query_opt(
            "SELECT phash FROM audit WHERE party_id = ?1 AND chain = ?2 AND pseq = ?3",
            &vals![party, chain, seq_to_sql(pseq)],
        )?
        .map(|r| r.text("phash"))
        .transpose()?
        .unwrap_or_default())
}

/// A page of the (chain, party) sub-chain: entries with seq above `after`, at most `limit`.
pub(crate) fn party_entries(
    db: &mut dyn Db,
    party: PartyId,
    chain: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<PartyAuditEntry>, StoreError> {
    let mut prev = phash_at(db, party, chain, after)?;
    let mut out = Vec::new();
    for r in db.query(
        "SELECT pseq, time, kind, body, phash FROM audit \
         WHERE party_id = ?1 AND chain = ?2 AND pseq > ?3 ORDER BY pseq LIMIT ?4",
        &vals![party, chain, seq_to_sql(after), limit_to_sql(limit)],
    )? {
        let (e, hash) = entry_of(chain, &r, prev)?;
        prev = hash;
        out.push(e);
    }
    Ok(out)
}

/// The heads of the party's sub-chains, by chain name (byte order).
pub(crate) fn party_heads(db: &mut dyn Db, party: PartyId) -> Result<Vec<PartyHead>, StoreError> {
    let mut out = db
        .query(
            "SELECT chain, seq, hash FROM party_heads WHERE party_id = ?1",
            &vals![party],
        )?
        .iter()
        .map(|r| {
            Ok(PartyHead {
                chain: r.text("chain")?,
                seq: seq_from_sql(r.i64("seq")?)?,
                hash: r.text("hash")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| a.chain.as_bytes().cmp(b.chain.as_bytes()));
    Ok(out)
}

/// The newest party checkpoint (of any node) with the party's leaves and their proofs; `None`
/// if none has been signed since the party's first entry.
pub(crate) fn party_checkpoint_view(
    db: &mut dyn Db,
    party: PartyId,
) -> Result<Option<PartyCheckpointView>, StoreError> {
    let Some(r) = db.query_opt(
        "SELECT chain, n, time, root, size, signature, leaves FROM party_checkpoints \
         ORDER BY time DESC, chain DESC, n DESC LIMIT 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    let checkpoint = PartyCheckpoint {
        chain: r.text("chain")?,
        n: seq_from_sql(r.i64("n")?)?,
        time: r.f64("time")?,
        root: r.text("root")?,
        size: seq_from_sql(r.i64("size")?)?,
        signature: r.text("signature")?,
    };
    let all: Vec<PartyLeaf> = serde_json::from_str(&r.text("leaves")?)
        .map_err(|e| StoreError::Storage(format!("stored party checkpoint leaves: {e}")))?;
    let hashes = all
        .iter()
        .map(|l| {
            l.leaf_hash()
                .ok_or_else(|| StoreError::Storage("stored party checkpoint leaf: bad hex".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaves: Vec<PartyLeafProof> = all
        .iter()
        .enumerate()
        .filter(|(_, l)| l.party == party)
        .map(|(i, l)| PartyLeafProof {
            leaf: l.clone(),
            index: i as u64,
            proof: merkle_proof(&hashes, i).iter().map(hex::encode).collect(),
        })
        .collect();
    if leaves.is_empty() {
        return Ok(None);
    }
    Ok(Some(PartyCheckpointView { checkpoint, leaves }))
}

#[derive(Serialize)]
struct ViewHeader<'a> {
    format: &'a str,
    public_key: &'a str,
    party: PartyId,
}

#[derive(Serialize)]
struct ViewEntry<'a> {
    chain: &'a str,
    seq: u64,
    time: f64,
    kind: &'a str,
    body: &'a RawValue,
    prev: &'a str,
    hash: &'a str,
}

/// One entry line (a struct, not `json!`: the raw body must go out byte for byte).
#[derive(Serialize)]
struct EntryLine<'a> {
    entry: ViewEntry<'a>,
}

fn write_line(buf: &mut Vec<u8>, v: &impl Serialize) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *buf, v)
        .map_err(|e| StoreError::Storage(format!("writing the export: {e}")))?;
    buf.push(b'\n');
    Ok(())
}

/// The party's whole view as JSON Lines (see the module docs), from one read snapshot, in
/// chunks handed to `emit`.
pub(crate) fn export_party(
    db: &mut dyn Db,
    public_key_hex: &str,
    party: PartyId,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    db.begin_snapshot()?;
    let result = export_party_in_snapshot(db, public_key_hex, party, emit);
    let end = db.end_snapshot();
    result.and(end)
}

fn export_party_in_snapshot(
    db: &mut dyn Db,
    public_key_hex: &str,
    party: PartyId,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    const PAGE: i64 = 1000;
    let mut buf = Vec::with_capacity(1 << 16);
    write_line(
        &mut buf,
        &ViewHeader {
            format: PARTY_AUDIT_FORMAT,
            public_key: public_key_hex,
            party,
        },
    )?;
    for head in party_heads(db, party)? {
        let chain = head.chain.as_str();
        let (mut after, mut prev) = (0i64, "0".repeat(64));
        loop {
            let rows = db.query(
                "SELECT pseq, time, kind, body, phash FROM audit \
                 WHERE party_id = ?1 AND chain = ?2 AND pseq > ?3 ORDER BY pseq LIMIT ?4",
                &vals![party, chain, after, PAGE],
            )?;
            for r in &rows {
                after = r.i64("pseq")?;
                let body = r.text("body")?;
                // A body that is not JSON (only by tampering) goes out as a JSON string.
                let quoted;
                let raw: &RawValue = match serde_json::from_str::<&RawValue>(&body) {
                    Ok(raw) => raw,
                    Err(_) => {
                        quoted = RawValue::from_string(serde_json::Value::String(body.clone()).to_string())
                            .map_err(|e| StoreError::Storage(format!("writing the export: {e}")))?;
                        &quoted
                    }
                };
                let (kind, hash) = (r.text("kind")?, r.text("phash")?);
                write_line(
                    &mut buf,
                    &EntryLine {
                        entry: ViewEntry {
                            chain,
                            seq: seq_from_sql(after)?,
                            time: r.f64("time")?,
                            kind: &kind,
                            body: raw,
                            prev: &prev,
                            hash: &hash,
                        },
                    },
                )?;
                prev = hash;
                if buf.len() >= 1 << 16 {
                    emit(std::mem::take(&mut buf))?;
                }
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
    }
    if let Some(cp) = party_checkpoint_view(db, party)? {
        write_line(&mut buf, &serde_json::json!({ "checkpoint": cp }))?;
    }
    emit(buf)
}
