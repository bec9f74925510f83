//! The audit chains: entry hashes, signed checkpoints, cross-links, export and offline
//! verification.
//!
//! # One chain per node
//! Every process writing to a database (a "node", named by `StoreOptions::node`; `main` for
//! [`Store::open`](crate::Store::open)) appends to its OWN hash chain, so nodes sharing one
//! PostgreSQL database never contend on one chain head. A chain is the sequence of entries with
//! one `chain` name, seqs 1, 2, 3, ... without gaps; its head (newest seq and hash) is kept in
//! the `audit_heads` table and read and updated inside the writing transaction, and the
//! primary key (chain, seq) with that transaction keeps two processes that use the same chain
//! name from ever forking it.
//!
//! The chains are tied together by **links**: [`link_chains`](crate::StoreBackend::link_chains)
//! appends to this node's chain one entry of kind `audit.link` whose body
//! `{"links":[{"chain":c,"seq":s,"hash":h},...]}` records the current head of every other
//! chain. Once B's entry s is linked from A, altering it (or anything before it) in B breaks
//! either B's own chain or A's link, and A's link is itself covered by A's chain and
//! checkpoints.
//!
//! # Entry hash
//! SHA-256 over
//! `len(chain) (u32 BE) ‖ chain ‖ seq (u64 BE) ‖ time (f64 bits, BE) ‖ party (i64 BE, −1 for
//! none) ‖ len(kind) (u32 BE) ‖ kind ‖ len(body) (u32 BE) ‖ body ‖ prev (32 bytes)`; each
//! chain's first entry has `prev` = 32 zero bytes.
//!
//! `body` is the entry body's compact JSON text, written ONCE when the entry is appended, stored
//! as TEXT, and exported verbatim (as a raw JSON value, never re-serialised). The verifier hashes
//! the exact bytes of the `body` value as they appear in the export line (serde_json's
//! `RawValue`), so verification does not depend on how any JSON library orders keys or prints
//! numbers. The one consequence: an export must not be reformatted (pretty-printed), or every
//! reformatted body is reported as altered.
//!
//! # Checkpoint
//! Ed25519 (the service key, shared by every node) over
//! `"deconflict-checkpoint/2" ‖ len(chain) (u32 BE) ‖ chain ‖ seq (u64 BE) ‖ hash (32 bytes)`.
//! A node signs its own chain's head (every `checkpoint_every` entries and on request).
//!
//! # Export (JSON Lines)
//! Line 1: `{"format":"deconflict-audit/2","public_key":"<hex>"}`; then every chain in
//! chain-name (byte) order, its entries in seq order,
//! `{"entry":{"chain":..,"seq":..,"time":..,"party":..|null,"kind":..,"body":<json>,"prev":"<hex>","hash":"<hex>"}}`
//! and, right after the entry it covers,
//! `{"checkpoint":{"chain":..,"seq":..,"time":..,"hash":..,"signature":..}}`. The whole export
//! comes from one consistent snapshot (on PostgreSQL a `REPEATABLE READ READ ONLY`
//! transaction).
//!
//! # Verification
//! [`verify_audit`] checks every chain on its own (continuity from seq 1, `prev` links, hashes,
//! checkpoint signatures) and then every `audit.link` entry: each link must name an entry that
//! is in the export with exactly that hash.
//!
//! Databases of schema version 2 and older had one chain in format `deconflict-audit/1`; the
//! migration to version 3 keeps it, unexported, in `audit_v1` / `checkpoints_v1`.

use crate::db::{vals, Db, Row};
use crate::writer::Ctx;
use crate::{ChainHead, Checkpoint, PartyId, StoreError, MAX_CHAIN_LEN};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

/// The `format` of an export's header line.
pub const AUDIT_FORMAT: &str = "deconflict-audit/2";
/// The domain-separation prefix of a checkpoint signature.
pub const CHECKPOINT_DOMAIN: &[u8] = b"deconflict-checkpoint/2";
/// The kind of the entries [`link_chains`](crate::StoreBackend::link_chains) appends.
pub const LINK_KIND: &str = "audit.link";

fn len_u32(what: &str, n: usize) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Invalid(format!("audit {what} longer than 4 GiB")))
}

/// Hash of one entry (see the module docs). Fails only for a chain, kind or body longer than
/// 4 GiB.
pub fn entry_hash(
    chain: &str,
    seq: u64,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
    prev: &[u8; 32],
) -> Result<[u8; 32], StoreError> {
    let chain_len = len_u32("chain", chain.len())?;
    let kind_len = len_u32("kind", kind.len())?;
    let body_len = len_u32("body", body.len())?;
    let mut h = Sha256::new();
    h.update(chain_len.to_be_bytes());
    h.update(chain.as_bytes());
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

/// The bytes a checkpoint signature covers. (Chain names are at most 64 bytes; a longer one's
/// length prefix saturates at `u32::MAX`.)
pub fn checkpoint_message(chain: &str, seq: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 4 + chain.len() + 8 + 32);
    m.extend_from_slice(CHECKPOINT_DOMAIN);
    m.extend_from_slice(&u32::try_from(chain.len()).unwrap_or(u32::MAX).to_be_bytes());
    m.extend_from_slice(chain.as_bytes());
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

/// True for a valid chain (node) name: 1 to 64 bytes of `A-Z a-z 0-9 _ . -`.
pub(crate) fn valid_chain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CHAIN_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn stored_hash(chain: &str, seq: i64, hash: &str) -> Result<[u8; 32], StoreError> {
    decode32(hash).ok_or_else(|| {
        StoreError::Storage(format!(
            "audit chain {chain:?} entry {seq}: stored hash is not 32-byte hex"
        ))
    })
}

/// The chain's newest seq and hash, read inside the caller's transaction ((0, zeros) if none).
fn chain_head(db: &mut dyn Db, chain: &str) -> Result<(u64, [u8; 32]), StoreError> {
    let head = match db.query_opt(
        "SELECT seq, hash FROM audit_heads WHERE chain = ?1",
        &vals![chain],
    )? {
        Some(r) => Some(r),
        // No head row yet (or lost): fall back to the chain itself.
        None => db.query_opt(
            "SELECT seq, hash FROM audit WHERE chain = ?1 ORDER BY seq DESC LIMIT 1",
            &vals![chain],
        )?,
    };
    match head {
        None => Ok((0, [0u8; 32])),
        Some(r) => {
            let seq = r.i64(0)?;
            let hash = stored_hash(chain, seq, &r.text(1)?)?;
            Ok((seq_from_sql(seq)?, hash))
        }
    }
}

/// Appends one entry to this node's chain (writer thread, inside the write transaction); signs
/// a checkpoint when the new seq is a multiple of `checkpoint_every`. Returns the entry's seq.
pub(crate) fn append_entry(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
) -> Result<u64, StoreError> {
    let chain = ctx.chain.as_str();
    let (last, prev) = chain_head(db, chain)?;
    let seq = last
        .checked_add(1)
        .ok_or_else(|| StoreError::Storage("audit seq overflow".into()))?;
    let hash = entry_hash(chain, seq, time, party, kind, body, &prev)?;
    let hash_hex = hex::encode(hash);
    db.exec(
        "INSERT INTO audit (chain, seq, time, party_id, kind, body, prev, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &vals![
            chain,
            seq_to_sql(seq),
            time,
            party,
            kind,
            body,
            hex::encode(prev),
            hash_hex.as_str()
        ],
    )?;
    db.exec(
        "INSERT INTO audit_heads (chain, seq, hash, link_seq) VALUES (?1, ?2, ?3, 0) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        &vals![chain, seq_to_sql(seq), hash_hex],
    )?;
    if ctx.checkpoint_every > 0 && seq % ctx.checkpoint_every == 0 {
        insert_checkpoint(db, ctx, seq, time, &hash)?;
    }
    Ok(seq)
}

fn insert_checkpoint(
    db: &mut dyn Db,
    ctx: &Ctx,
    seq: u64,
    time: f64,
    hash: &[u8; 32],
) -> Result<Checkpoint, StoreError> {
    let signature = ctx.signing.sign(&checkpoint_message(&ctx.chain, seq, hash));
    let cp = Checkpoint {
        chain: ctx.chain.clone(),
        seq,
        time,
        hash: hex::encode(hash),
        signature: hex::encode(signature.to_bytes()),
    };
    db.exec(
        "INSERT INTO checkpoints (chain, seq, time, hash, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
        &vals![
            cp.chain.as_str(),
            seq_to_sql(seq),
            time,
            cp.hash.as_str(),
            cp.signature.as_str()
        ],
    )?;
    Ok(cp)
}

/// Signs this node's chain head unless a checkpoint already covers it (writer thread).
pub(crate) fn checkpoint_now(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, hash) = chain_head(db, &ctx.chain)?;
    if seq == 0 {
        return Ok(None);
    }
    let signed = db
        .query_one(
            "SELECT COALESCE(MAX(seq), 0) FROM checkpoints WHERE chain = ?1",
            &vals![ctx.chain.as_str()],
        )?
        .i64(0)?;
    if seq_from_sql(signed)? >= seq {
        return Ok(None);
    }
    insert_checkpoint(db, ctx, seq, time, &hash).map(Some)
}

pub(crate) fn checkpoint_row(chain: &str, r: &Row) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        chain: chain.to_string(),
        seq: seq_from_sql(r.i64(0)?)?,
        time: r.f64(1)?,
        hash: r.text(2)?,
        signature: r.text(3)?,
    })
}

/// Every chain's head, by chain name (byte order).
pub(crate) fn chain_heads(db: &mut dyn Db) -> Result<Vec<ChainHead>, StoreError> {
    let mut out = db
        .query("SELECT chain, seq, hash FROM audit_heads", &[])?
        .iter()
        .map(|r| {
            Ok(ChainHead {
                chain: r.text(0)?,
                seq: seq_from_sql(r.i64(1)?)?,
                hash: r.text(2)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| a.chain.cmp(&b.chain));
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    chain: String,
    seq: u64,
    hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    links: Vec<Link>,
}

/// Appends an `audit.link` entry recording every other chain's head, unless none moved since
/// this chain's previous link (writer thread). Returns the new entry's seq.
pub(crate) fn link_chains(db: &mut dyn Db, ctx: &Ctx, time: f64) -> Result<Option<u64>, StoreError> {
    let chain = ctx.chain.as_str();
    let mut others = Vec::new();
    let mut link_seq = 0i64;
    for r in db.query("SELECT chain, seq, hash, link_seq FROM audit_heads", &[])? {
        let name = r.text(0)?;
        if name == chain {
            link_seq = r.i64(3)?;
        } else {
            others.push(Link {
                chain: name,
                seq: seq_from_sql(r.i64(1)?)?,
                hash: r.text(2)?,
            });
        }
    }
    others.sort_by(|a, b| a.chain.cmp(&b.chain));
    let previous = if link_seq > 0 {
        match db.query_opt(
            "SELECT body FROM audit WHERE chain = ?1 AND seq = ?2",
            &vals![chain, link_seq],
        )? {
            Some(r) => serde_json::from_str::<LinkBody>(&r.text(0)?)
                .map(|b| b.links)
                .unwrap_or_default(),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    if others.is_empty() || others == previous {
        return Ok(None);
    }
    let body = serde_json::to_string(&LinkBody { links: others })
        .map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))?;
    let seq = append_entry(db, ctx, time, None, LINK_KIND, &body)?;
    db.exec(
        "UPDATE audit_heads SET link_seq = ?1 WHERE chain = ?2",
        &vals![seq_to_sql(seq), chain],
    )?;
    Ok(Some(seq))
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
    chain: &'a str,
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

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Storage(format!("writing the export: {e}"))
}

fn write_line(buf: &mut Vec<u8>, v: &impl Serialize) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *buf, v).map_err(json_err)?;
    buf.push(b'\n');
    Ok(())
}

/// Entries fetched per query while exporting.
const EXPORT_PAGE: i64 = 1000;
/// Bytes handed to `emit` at a time.
const EXPORT_CHUNK: usize = 1 << 16;

/// Produces the whole export from one read snapshot, in chunks of lines handed to `emit`.
pub(crate) fn export(
    db: &mut dyn Db,
    public_key_hex: &str,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    db.begin_snapshot()?;
    let result = export_in_snapshot(db, public_key_hex, emit);
    let end = db.end_snapshot();
    result.and(end)
}

fn export_in_snapshot(
    db: &mut dyn Db,
    public_key_hex: &str,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut buf = Vec::with_capacity(EXPORT_CHUNK + 4096);
    write_line(
        &mut buf,
        &Header {
            format: AUDIT_FORMAT.into(),
            public_key: public_key_hex.into(),
        },
    )?;
    // Chain names are sorted here, not in SQL, so the order is byte order on every backend
    // whatever the database's collation.
    let mut chains = db
        .query("SELECT chain FROM audit UNION SELECT chain FROM checkpoints", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<Vec<_>, _>>()?;
    chains.sort();
    chains.dedup();
    for chain in &chains {
        let checkpoints = db
            .query(
                "SELECT seq, time, hash, signature FROM checkpoints WHERE chain = ?1 ORDER BY seq",
                &vals![chain],
            )?
            .iter()
            .map(|r| checkpoint_row(chain, r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut next_cp = checkpoints.iter().peekable();
        let mut after = i64::MIN;
        loop {
            let rows = db.query(
                "SELECT seq, time, party_id, kind, body, prev, hash FROM audit \
                 WHERE chain = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                &vals![chain, after, EXPORT_PAGE],
            )?;
            for row in &rows {
                after = row.i64(0)?;
                let seq = seq_from_sql(after)?;
                let body = row.text(4)?;
                // A body that is not JSON (only possible by tampering) is exported as a JSON
                // string, so the export stays readable and verification names this entry.
                let quoted;
                let raw: &RawValue = match serde_json::from_str::<&RawValue>(&body) {
                    Ok(raw) => raw,
                    Err(_) => {
                        quoted = RawValue::from_string(serde_json::to_string(&body).map_err(json_err)?)
                            .map_err(json_err)?;
                        &quoted
                    }
                };
                let kind = row.text(3)?;
                let prev = row.text(5)?;
                let hash = row.text(6)?;
                write_line(
                    &mut buf,
                    &EntryLine {
                        entry: ExportEntry {
                            chain,
                            seq,
                            time: row.f64(1)?,
                            party: row.opt_i64(2)?,
                            kind: &kind,
                            body: raw,
                            prev: &prev,
                            hash: &hash,
                        },
                    },
                )?;
                while let Some(cp) = next_cp.next_if(|cp| cp.seq <= seq) {
                    write_line(&mut buf, &CheckpointLine { checkpoint: cp })?;
                }
                if buf.len() >= EXPORT_CHUNK {
                    emit(std::mem::take(&mut buf))?;
                }
            }
            if (rows.len() as i64) < EXPORT_PAGE {
                break;
            }
        }
        for cp in next_cp {
            write_line(&mut buf, &CheckpointLine { checkpoint: cp })?;
        }
    }
    emit(buf)
}

// ---------------------------------------------------------------------------------------------
// Verification

/// What verified of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub chain: String,
    /// Entries checked (seqs 1..=entries).
    pub entries: u64,
    /// Checkpoints whose signature checked.
    pub checkpoints: u64,
    /// Hash of the chain's last entry (hex).
    pub last_hash: String,
    /// Seq of the chain's last signed checkpoint (0: none). Entries after it are chained but
    /// unsigned.
    pub last_signed_seq: u64,
}

/// Summary of a log that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries checked, all chains together.
    pub entries: u64,
    /// Checkpoints whose signature checked, all chains together.
    pub checkpoints: u64,
    /// Links (from `audit.link` entries) that named an entry of the export with its hash.
    pub links: u64,
    /// Each chain, in export (name) order.
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    /// The report of one chain.
    pub fn chain(&self, name: &str) -> Option<&ChainReport> {
        self.chains.iter().find(|c| c.chain == name)
    }
}

/// The first thing wrong with a log: the 1-based line, the entry's chain and seq when known,
/// and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct VerifyError {
    pub line: usize,
    pub chain: Option<String>,
    pub seq: Option<u64>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        match (&self.chain, self.seq) {
            (Some(c), Some(s)) => write!(f, "chain {c:?} entry {s}: ")?,
            (Some(c), None) => write!(f, "chain {c:?}: ")?,
            (None, Some(s)) => write!(f, "entry {s}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
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
    chain: String,
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
    chain: String,
    seq: u64,
    #[allow(dead_code)]
    time: f64,
    hash: String,
    signature: String,
}

/// Best effort: the chain and seq a line claims, for naming a line that does not parse.
fn claimed(text: &str) -> (Option<String>, Option<u64>) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return (None, None);
    };
    let Some(item) = v.get("entry").or_else(|| v.get("checkpoint")) else {
        return (None, None);
    };
    (
        item.get("chain").and_then(|c| c.as_str()).map(str::to_string),
        item.get("seq").and_then(|s| s.as_u64()),
    )
}

/// The chain being read.
struct OpenChain {
    name: String,
    last_seq: u64,
    last_hash: [u8; 32],
    checkpoints: u64,
    last_signed_seq: u64,
    /// Hash of entry seq i + 1, for resolving links.
    hashes: Vec<[u8; 32]>,
}

impl OpenChain {
    fn new(name: String) -> OpenChain {
        OpenChain {
            name,
            last_seq: 0,
            last_hash: [0u8; 32],
            checkpoints: 0,
            last_signed_seq: 0,
            hashes: Vec::new(),
        }
    }
}

/// A link to check once every chain is read.
struct PendingLink {
    line: usize,
    from_chain: String,
    from_seq: u64,
    link: Link,
}

/// Verifies an export offline (see the module docs for what is hashed and signed).
///
/// Checks, line by line: the header; the chains appear once each, in name order; in each chain
/// seqs 1, 2, 3, ... without gaps; each entry's `prev` is its predecessor's hash; each entry's
/// hash recomputed from its fields equals the recorded one; each checkpoint follows the entry it
/// covers, carries that entry's hash, and its signature verifies with the header's public key.
/// Then every link of every `audit.link` entry must name an entry of the export with exactly
/// the recorded hash. Stops at the first problem.
pub fn verify_audit(r: impl BufRead) -> Result<VerifyReport, VerifyError> {
    let mut key: Option<VerifyingKey> = None;
    let mut cur: Option<OpenChain> = None;
    let mut done: Vec<ChainReport> = Vec::new();
    let mut hashes: HashMap<String, Vec<[u8; 32]>> = HashMap::new();
    let mut pending: Vec<PendingLink> = Vec::new();
    let mut entries = 0u64;
    let mut checkpoints = 0u64;

    let finish = |c: OpenChain, done: &mut Vec<ChainReport>, hashes: &mut HashMap<String, Vec<[u8; 32]>>| {
        done.push(ChainReport {
            chain: c.name.clone(),
            entries: c.last_seq,
            checkpoints: c.checkpoints,
            last_hash: hex::encode(c.last_hash),
            last_signed_seq: c.last_signed_seq,
        });
        hashes.insert(c.name, c.hashes);
    };

    for (i, line) in r.lines().enumerate() {
        let line_no = i + 1;
        let err = |chain: Option<&str>, seq: Option<u64>, message: String| VerifyError {
            line: line_no,
            chain: chain.map(str::to_string),
            seq,
            message,
        };
        let text = line.map_err(|e| err(None, None, format!("cannot read the line: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let Some(key) = key.as_ref() else {
            if line_no != 1 {
                return Err(err(None, None, "the header must be the first line".into()));
            }
            let header: Header =
                serde_json::from_str(&text).map_err(|e| err(None, None, format!("bad header: {e}")))?;
            if header.format != AUDIT_FORMAT {
                return Err(err(
                    None,
                    None,
                    format!("unknown format {:?} (expected {AUDIT_FORMAT:?})", header.format),
                ));
            }
            let bytes = decode32(&header.public_key)
                .ok_or_else(|| err(None, None, "public_key is not 32-byte hex".into()))?;
            key = Some(
                VerifyingKey::from_bytes(&bytes)
                    .map_err(|e| err(None, None, format!("bad public_key: {e}")))?,
            );
            continue;
        };
        let parsed: VerifyLine = serde_json::from_str(&text).map_err(|e| {
            let (chain, seq) = claimed(&text);
            err(chain.as_deref(), seq, format!("malformed line: {e}"))
        })?;
        match (parsed.entry, parsed.checkpoint) {
            (Some(e), None) => {
                let (chain, seq) = (Some(e.chain.as_str()), Some(e.seq));
                if !valid_chain_name(&e.chain) {
                    return Err(err(
                        chain,
                        seq,
                        format!("chain name must be 1 to {MAX_CHAIN_LEN} characters of A-Z a-z 0-9 _ . -"),
                    ));
                }
                if cur.as_ref().is_none_or(|c| c.name != e.chain) {
                    if let Some(c) = cur.take() {
                        if e.chain.as_bytes() <= c.name.as_bytes() {
                            return Err(err(
                                chain,
                                seq,
                                format!(
                                    "chain out of order after chain {:?} (each chain appears once, \
                                     chains in name order)",
                                    c.name
                                ),
                            ));
                        }
                        finish(c, &mut done, &mut hashes);
                    }
                    cur = Some(OpenChain::new(e.chain.clone()));
                }
                let Some(c) = cur.as_mut() else {
                    return Err(err(chain, seq, "internal: no open chain".into()));
                };
                if e.seq != c.last_seq + 1 {
                    return Err(err(
                        chain,
                        seq,
                        format!(
                            "expected seq {} (entries missing or out of order)",
                            c.last_seq + 1
                        ),
                    ));
                }
                let prev =
                    decode32(&e.prev).ok_or_else(|| err(chain, seq, "prev is not 32-byte hex".into()))?;
                if prev != c.last_hash {
                    return Err(err(
                        chain,
                        seq,
                        format!("prev does not match the hash of entry {}", c.last_seq),
                    ));
                }
                if matches!(e.party, Some(p) if p < 0) {
                    return Err(err(chain, seq, "party must not be negative".into()));
                }
                let recorded =
                    decode32(&e.hash).ok_or_else(|| err(chain, seq, "hash is not 32-byte hex".into()))?;
                let computed = entry_hash(&e.chain, e.seq, e.time, e.party, &e.kind, e.body.get(), &prev)
                    .map_err(|x| err(chain, seq, x.to_string()))?;
                if computed != recorded {
                    return Err(err(
                        chain,
                        seq,
                        "hash mismatch: the entry's fields were altered after it was written".into(),
                    ));
                }
                if e.kind == LINK_KIND {
                    let body: LinkBody = serde_json::from_str(e.body.get())
                        .map_err(|x| err(chain, seq, format!("malformed {LINK_KIND} body: {x}")))?;
                    for link in body.links {
                        if !valid_chain_name(&link.chain) || decode32(&link.hash).is_none() || link.seq == 0 {
                            return Err(err(
                                chain,
                                seq,
                                format!(
                                    "malformed link to chain {:?} entry {}: needs a chain name, a seq \
                                     from 1 and a 32-byte hex hash",
                                    link.chain, link.seq
                                ),
                            ));
                        }
                        pending.push(PendingLink {
                            line: line_no,
                            from_chain: e.chain.clone(),
                            from_seq: e.seq,
                            link,
                        });
                    }
                }
                c.last_seq = e.seq;
                c.last_hash = computed;
                c.hashes.push(computed);
                entries += 1;
            }
            (None, Some(cp)) => {
                let (chain, seq) = (Some(cp.chain.as_str()), Some(cp.seq));
                let Some(c) = cur.as_mut().filter(|c| c.name == cp.chain && c.last_seq > 0) else {
                    return Err(err(
                        chain,
                        seq,
                        "checkpoint must follow the entry it covers (no entry of its chain before it)".into(),
                    ));
                };
                if cp.seq != c.last_seq {
                    return Err(err(
                        chain,
                        seq,
                        format!(
                            "checkpoint must follow the entry it covers (last entry is {})",
                            c.last_seq
                        ),
                    ));
                }
                if c.checkpoints > 0 && cp.seq <= c.last_signed_seq {
                    return Err(err(chain, seq, "duplicate checkpoint".into()));
                }
                let hash = decode32(&cp.hash)
                    .ok_or_else(|| err(chain, seq, "checkpoint hash is not 32-byte hex".into()))?;
                if hash != c.last_hash {
                    return Err(err(
                        chain,
                        seq,
                        format!("checkpoint hash does not match entry {}", cp.seq),
                    ));
                }
                let mut sig = [0u8; 64];
                hex::decode_to_slice(&cp.signature, &mut sig)
                    .map_err(|_| err(chain, seq, "checkpoint signature is not 64-byte hex".into()))?;
                key.verify_strict(
                    &checkpoint_message(&cp.chain, cp.seq, &hash),
                    &Signature::from_bytes(&sig),
                )
                .map_err(|_| err(chain, seq, "bad checkpoint signature".into()))?;
                c.checkpoints += 1;
                c.last_signed_seq = cp.seq;
                checkpoints += 1;
            }
            _ => {
                return Err(err(
                    None,
                    None,
                    "a line must hold exactly one of \"entry\" or \"checkpoint\"".into(),
                ))
            }
        }
    }
    if key.is_none() {
        return Err(VerifyError {
            line: 1,
            chain: None,
            seq: None,
            message: "empty log: no header".into(),
        });
    }
    if let Some(c) = cur.take() {
        finish(c, &mut done, &mut hashes);
    }
    let links = pending.len() as u64;
    for p in pending {
        let target = hashes
            .get(&p.link.chain)
            .and_then(|v| usize::try_from(p.link.seq - 1).ok().and_then(|i| v.get(i)));
        let problem = match target {
            None => Some("no such entry in the export"),
            Some(h) if Some(*h) != decode32(&p.link.hash) => {
                Some("the hash does not match (that entry was altered after it was linked)")
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(VerifyError {
                line: p.line,
                chain: Some(p.from_chain),
                seq: Some(p.from_seq),
                message: format!("link to chain {:?} entry {}: {problem}", p.link.chain, p.link.seq),
            });
        }
    }
    Ok(VerifyReport {
        entries,
        checkpoints,
        links,
        chains: done,
    })
}
