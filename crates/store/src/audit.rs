//! The audit chain: entry hashes, signed checkpoints, export and offline verification.
//!
//! # Entry hash
//! SHA-256 over
//! `seq (u64 BE) ‖ time (f64 bits, BE) ‖ party (i64 BE, −1 for none) ‖ len(kind) (u32 BE) ‖ kind ‖
//!  len(body) (u32 BE) ‖ body ‖ prev (32 bytes)`; the first entry's `prev` is 32 zero bytes.
//!
//! `body` is the entry body's compact JSON text, written ONCE when the entry is appended, stored
//! as TEXT, and exported verbatim (as a raw JSON value, never re-serialised). The verifier hashes
//! the exact bytes of the `body` value as they appear in the export line (serde_json's
//! `RawValue`), so verification does not depend on how any JSON library orders keys or prints
//! numbers. The one consequence: an export must not be reformatted (pretty-printed), or every
//! reformatted body is reported as altered.
//!
//! # Checkpoint
//! Ed25519 (the service key) over `"deconflict-checkpoint/1" ‖ seq (u64 BE) ‖ hash (32 bytes)`.
//!
//! # Export (JSON Lines)
//! Line 1: `{"format":"deconflict-audit/1","public_key":"<hex>"}`; then, in seq order,
//! `{"entry":{"seq":..,"time":..,"party":..|null,"kind":..,"body":<json>,"prev":"<hex>","hash":"<hex>"}}`
//! and, right after the entry it covers, `{"checkpoint":{"seq":..,"time":..,"hash":..,"signature":..}}`.

use crate::writer::Ctx;
use crate::{Checkpoint, PartyId, StoreError};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::io::BufRead;

/// The `format` of an export's header line.
pub const AUDIT_FORMAT: &str = "deconflict-audit/1";
/// The domain-separation prefix of a checkpoint signature.
pub const CHECKPOINT_DOMAIN: &[u8] = b"deconflict-checkpoint/1";

/// Hash of one entry (see the module docs). Fails only for a kind or body longer than 4 GiB.
pub fn entry_hash(
    seq: u64,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
    prev: &[u8; 32],
) -> Result<[u8; 32], StoreError> {
    let kind_len =
        u32::try_from(kind.len()).map_err(|_| StoreError::Invalid("audit kind longer than 4 GiB".into()))?;
    let body_len =
        u32::try_from(body.len()).map_err(|_| StoreError::Invalid("audit body longer than 4 GiB".into()))?;
    let mut h = Sha256::new();
    h.update(seq.to_be_bytes());
    h.update(time.to_bits().to_be_bytes());
    h.update(party.unwrap_or(-1).to_be_bytes());
    h.update(kind_len.to_be_bytes());
    h.update(kind.as_bytes());
    h.update(body_len.to_be_bytes());
    h.update(body.as_bytes());
    h.update(prev);
    Ok(h.finalize().into())
}

/// The bytes a checkpoint signature covers.
pub fn checkpoint_message(seq: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 32);
    m.extend_from_slice(CHECKPOINT_DOMAIN);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn decode32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

pub(crate) fn seq_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

pub(crate) fn seq_from_sql(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| StoreError::Storage(format!("negative seq {seq} in database")))
}

/// The newest entry's seq and hash, read inside the caller's transaction ((0, zeros) if none).
fn chain_head(conn: &Connection) -> Result<(u64, [u8; 32]), StoreError> {
    let head: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match head {
        None => Ok((0, [0u8; 32])),
        Some((seq, hash)) => {
            let hash = decode32(&hash).ok_or_else(|| {
                StoreError::Storage(format!("audit entry {seq}: stored hash is not 32-byte hex"))
            })?;
            Ok((seq_from_sql(seq)?, hash))
        }
    }
}

/// Appends one entry (writer thread, inside a transaction); signs a checkpoint when the new
/// seq is a multiple of `checkpoint_every`. Returns the entry's seq.
pub(crate) fn append_entry(
    conn: &Connection,
    ctx: &Ctx,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
) -> Result<u64, StoreError> {
    let (last, prev) = chain_head(conn)?;
    let seq = last
        .checked_add(1)
        .ok_or_else(|| StoreError::Storage("audit seq overflow".into()))?;
    let hash = entry_hash(seq, time, party, kind, body, &prev)?;
    conn.prepare_cached(
        "INSERT INTO audit (seq, time, party_id, kind, body, prev, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        seq_to_sql(seq),
        time,
        party,
        kind,
        body,
        hex::encode(prev),
        hex::encode(hash)
    ])?;
    if ctx.checkpoint_every > 0 && seq % ctx.checkpoint_every == 0 {
        insert_checkpoint(conn, ctx, seq, time, &hash)?;
    }
    Ok(seq)
}

fn insert_checkpoint(
    conn: &Connection,
    ctx: &Ctx,
    seq: u64,
    time: f64,
    hash: &[u8; 32],
) -> Result<Checkpoint, StoreError> {
    let signature = ctx.signing.sign(&checkpoint_message(seq, hash));
    let cp = Checkpoint {
        seq,
        time,
        hash: hex::encode(hash),
        signature: hex::encode(signature.to_bytes()),
    };
    conn.prepare_cached("INSERT INTO checkpoints (seq, time, hash, signature) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![seq_to_sql(seq), time, cp.hash, cp.signature])?;
    Ok(cp)
}

/// Signs the newest entry unless a checkpoint already covers it (writer thread).
pub(crate) fn checkpoint_now(
    conn: &Connection,
    ctx: &Ctx,
    time: f64,
) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, hash) = chain_head(conn)?;
    if seq == 0 {
        return Ok(None);
    }
    let signed: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM checkpoints")?
        .query_row([], |r| r.get(0))?;
    if seq_from_sql(signed)? >= seq {
        return Ok(None);
    }
    insert_checkpoint(conn, ctx, seq, time, &hash).map(Some)
}

// ---------------------------------------------------------------------------------------------
// Export

#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: String,
    pub public_key: String,
}

#[derive(Serialize)]
struct ExportEntry<'a> {
    seq: u64,
    time: f64,
    party: Option<PartyId>,
    kind: &'a str,
    body: &'a RawValue,
    prev: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct EntryLine<'a> {
    entry: ExportEntry<'a>,
}

#[derive(Serialize)]
struct CheckpointLine<'a> {
    checkpoint: &'a Checkpoint,
}

fn io_err(e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("writing the export: {e}"))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Storage(format!("writing the export: {e}"))
}

fn write_checkpoint(w: &mut dyn std::io::Write, cp: &Checkpoint) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *w, &CheckpointLine { checkpoint: cp }).map_err(json_err)?;
    w.write_all(b"\n").map_err(io_err)
}

/// Writes the whole log from one read snapshot (the caller opened the transaction).
pub(crate) fn export(
    conn: &Connection,
    public_key_hex: &str,
    w: &mut dyn std::io::Write,
) -> Result<(), StoreError> {
    let header = Header {
        format: AUDIT_FORMAT.into(),
        public_key: public_key_hex.into(),
    };
    serde_json::to_writer(&mut *w, &header).map_err(json_err)?;
    w.write_all(b"\n").map_err(io_err)?;

    let mut cps = conn.prepare("SELECT seq, time, hash, signature FROM checkpoints ORDER BY seq")?;
    let checkpoints = cps
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .map(|row| {
            let (seq, time, hash, signature) = row?;
            Ok(Checkpoint {
                seq: seq_from_sql(seq)?,
                time,
                hash,
                signature,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut next_cp = checkpoints.iter().peekable();

    let mut stmt =
        conn.prepare("SELECT seq, time, party_id, kind, body, prev, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let seq = seq_from_sql(row.get(0)?)?;
        let time: f64 = row.get(1)?;
        let party: Option<i64> = row.get(2)?;
        let kind: String = row.get(3)?;
        let body: String = row.get(4)?;
        let prev: String = row.get(5)?;
        let hash: String = row.get(6)?;
        // A body that is not JSON (only possible by tampering) is exported as a JSON string, so
        // the export stays readable and verification names this entry.
        let quoted;
        let raw: &RawValue = match serde_json::from_str::<&RawValue>(&body) {
            Ok(raw) => raw,
            Err(_) => {
                quoted = RawValue::from_string(serde_json::to_string(&body).map_err(json_err)?)
                    .map_err(json_err)?;
                &quoted
            }
        };
        let line = EntryLine {
            entry: ExportEntry {
                seq,
                time,
                party,
                kind: &kind,
                body: raw,
                prev: &prev,
                hash: &hash,
            },
        };
        serde_json::to_writer(&mut *w, &line).map_err(json_err)?;
        w.write_all(b"\n").map_err(io_err)?;
        while let Some(cp) = next_cp.next_if(|cp| cp.seq <= seq) {
            write_checkpoint(w, cp)?;
        }
    }
    for cp in next_cp {
        write_checkpoint(w, cp)?;
    }
    w.flush().map_err(io_err)
}

// ---------------------------------------------------------------------------------------------
// Verification

/// Summary of a log that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries checked (seqs 1..=entries).
    pub entries: u64,
    /// Checkpoints whose signature checked.
    pub checkpoints: u64,
    /// Hash of the last entry (hex; 64 zeros for an empty log).
    pub last_hash: String,
    /// Seq of the last signed checkpoint (0: none). Entries after it are chained but unsigned.
    pub last_signed_seq: u64,
}

/// The first thing wrong with a log: the 1-based line, the entry's seq when known, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: entry {seq:?}: {message}")]
pub struct VerifyError {
    pub line: usize,
    pub seq: Option<u64>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyLine {
    #[serde(default)]
    entry: Option<VerifyEntry>,
    #[serde(default)]
    checkpoint: Option<VerifyCheckpoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyEntry {
    seq: u64,
    time: f64,
    party: Option<PartyId>,
    kind: String,
    body: Box<RawValue>,
    prev: String,
    hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyCheckpoint {
    seq: u64,
    #[allow(dead_code)]
    time: f64,
    hash: String,
    signature: String,
}

/// Best effort: the seq a line claims, for naming a line that does not parse.
fn claimed_seq(text: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("entry")
        .or_else(|| v.get("checkpoint"))?
        .get("seq")?
        .as_u64()
}

/// Verifies an export offline (see the module docs for what is hashed and signed).
///
/// Checks, line by line: the header; seqs 1, 2, 3, ... without gaps; each entry's `prev` is its
/// predecessor's hash; each entry's hash recomputed from its fields equals the recorded one;
/// each checkpoint follows the entry it covers, carries that entry's hash, and its signature
/// verifies with the header's public key. Stops at the first problem.
pub fn verify_audit(r: impl BufRead) -> Result<VerifyReport, VerifyError> {
    let mut key: Option<VerifyingKey> = None;
    let mut last_seq = 0u64;
    let mut last_hash = [0u8; 32];
    let mut entries = 0u64;
    let mut checkpoints = 0u64;
    let mut last_signed_seq = 0u64;

    for (i, line) in r.lines().enumerate() {
        let line_no = i + 1;
        let err = |seq: Option<u64>, message: String| VerifyError {
            line: line_no,
            seq,
            message,
        };
        let text = line.map_err(|e| err(None, format!("cannot read the line: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let Some(key) = key.as_ref() else {
            if line_no != 1 {
                return Err(err(None, "the header must be the first line".into()));
            }
            let header: Header =
                serde_json::from_str(&text).map_err(|e| err(None, format!("bad header: {e}")))?;
            if header.format != AUDIT_FORMAT {
                return Err(err(
                    None,
                    format!("unknown format {:?} (expected {AUDIT_FORMAT:?})", header.format),
                ));
            }
            let bytes = decode32(&header.public_key)
                .ok_or_else(|| err(None, "public_key is not 32-byte hex".into()))?;
            key = Some(
                VerifyingKey::from_bytes(&bytes).map_err(|e| err(None, format!("bad public_key: {e}")))?,
            );
            continue;
        };
        let parsed: VerifyLine = serde_json::from_str(&text)
            .map_err(|e| err(claimed_seq(&text), format!("malformed line: {e}")))?;
        match (parsed.entry, parsed.checkpoint) {
            (Some(e), None) => {
                let seq = Some(e.seq);
                if e.seq != last_seq + 1 {
                    return Err(err(
                        seq,
                        format!("expected seq {} (entries missing or out of order)", last_seq + 1),
                    ));
                }
                let prev = decode32(&e.prev).ok_or_else(|| err(seq, "prev is not 32-byte hex".into()))?;
                if prev != last_hash {
                    return Err(err(
                        seq,
                        format!("prev does not match the hash of entry {last_seq}"),
                    ));
                }
                if matches!(e.party, Some(p) if p < 0) {
                    return Err(err(seq, "party must not be negative".into()));
                }
                let recorded = decode32(&e.hash).ok_or_else(|| err(seq, "hash is not 32-byte hex".into()))?;
                let computed = entry_hash(e.seq, e.time, e.party, &e.kind, e.body.get(), &prev)
                    .map_err(|x| err(seq, x.to_string()))?;
                if computed != recorded {
                    return Err(err(
                        seq,
                        "hash mismatch: the entry's fields were altered after it was written".into(),
                    ));
                }
                last_seq = e.seq;
                last_hash = computed;
                entries += 1;
            }
            (None, Some(c)) => {
                let seq = Some(c.seq);
                if last_seq == 0 || c.seq != last_seq {
                    return Err(err(
                        seq,
                        format!("checkpoint must follow the entry it covers (last entry is {last_seq})"),
                    ));
                }
                if checkpoints > 0 && c.seq <= last_signed_seq {
                    return Err(err(seq, "duplicate checkpoint".into()));
                }
                let hash =
                    decode32(&c.hash).ok_or_else(|| err(seq, "checkpoint hash is not 32-byte hex".into()))?;
                if hash != last_hash {
                    return Err(err(
                        seq,
                        format!("checkpoint hash does not match entry {}", c.seq),
                    ));
                }
                let mut sig = [0u8; 64];
                hex::decode_to_slice(&c.signature, &mut sig)
                    .map_err(|_| err(seq, "checkpoint signature is not 64-byte hex".into()))?;
                key.verify_strict(&checkpoint_message(c.seq, &hash), &Signature::from_bytes(&sig))
                    .map_err(|_| err(seq, "bad checkpoint signature".into()))?;
                checkpoints += 1;
                last_signed_seq = c.seq;
            }
            _ => {
                return Err(err(
                    None,
                    "a line must hold exactly one of \"entry\" or \"checkpoint\"".into(),
                ))
            }
        }
    }
    if key.is_none() {
        return Err(VerifyError {
            line: 1,
            seq: None,
            message: "empty log: no header".into(),
        });
    }
    Ok(VerifyReport {
        entries,
        checkpoints,
        last_hash: hex::encode(last_hash),
        last_signed_seq,
    })
}
