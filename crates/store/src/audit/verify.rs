//! The offline verifier, [`verify_audit`]: reads an export line by line and checks every
//! chain, checkpoint and link (what is checked is in the function's docs). Needs no database,
//! only the export.

use super::format::{
    checkpoint_message, decode32, entry_hash, header_key, Header, Link, LinkBody, AUDIT_FORMAT, LINK_KIND,
};
use crate::types::{valid_chain_name, PartyId, MAX_CHAIN_LEN};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

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
            key = Some(
                header_key(&header.format, AUDIT_FORMAT, &header.public_key)
                    .map_err(|m| err(None, None, m))?,
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
                if matches!(e.party, Some(p) if p.get() < 0) {
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
