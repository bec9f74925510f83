//! The offline verifier of a party's view ([`verify_party_audit`]): the party's own sub-chains
//! and the signed party checkpoint that commits to their heads. Needs no database and nothing
//! of any other party.

use super::format::{decode32, header_key};
use super::party::{party_checkpoint_message, party_entry_hash, verify_inclusion};
use super::party_view::{PartyCheckpointView, PARTY_AUDIT_FORMAT};
use super::verify::VerifyError;
use crate::types::{valid_chain_name, PartyId};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::BufRead;

/// What verified of a party's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyVerifyReport {
    pub party: PartyId,
    /// Entries checked, every sub-chain together.
    pub entries: u64,
    /// Each sub-chain (by node): entries, and the seq the checkpoint signs (0: none).
    pub chains: Vec<PartySubChainReport>,
    /// Whether a signed party checkpoint was present and verified.
    pub signed: bool,
    /// Receipts checked against the view ([`verify_party_audit_with_receipts`]).
    pub receipts: u64,
}

/// One verified sub-chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartySubChainReport {
    pub chain: String,
    pub entries: u64,
    /// The last seq the checkpoint signs (0: none); entries after it are chained, unsigned.
    pub signed_seq: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    public_key: String,
    party: PartyId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    entry: Option<Entry>,
    #[serde(default)]
    checkpoint: Option<PartyCheckpointView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    chain: String,
    seq: u64,
    time: f64,
    kind: String,
    body: Box<RawValue>,
    prev: String,
    hash: String,
}

/// Verifies a party's view offline (format in the `party_view` module docs): the header; each
/// sub-chain appears once, in chain-name order, seqs 1, 2, 3, ... without gaps, each `prev`
/// its predecessor's hash, each hash recomputed from the entry and the header's party; then
/// the checkpoint, if any: its signature with the header's key, and for each of its leaves
/// (all the header's party's) the inclusion proof against the signed root and the leaf's head
/// being the entry of that seq in the view, with that hash. Stops at the first problem.
pub fn verify_party_audit(r: impl BufRead) -> Result<PartyVerifyReport, VerifyError> {
    verify_party_audit_with_receipts(r, "")
}

/// [`verify_party_audit`], then every receipt of `receipts` (JSON Lines of
/// [`Receipt`](super::Receipt), as the party's writes were answered) against the view: each
/// must be signed by the view's key, be the view's party's, and name an entry of the view with
/// that hash, so an acknowledged entry that was cut (after the last checkpoint too) is named.
/// A receipt's failure names its line in `receipts`.
pub fn verify_party_audit_with_receipts(
    r: impl BufRead,
    receipts: &str,
) -> Result<PartyVerifyReport, VerifyError> {
    let mut header: Option<(VerifyingKey, PartyId)> = None;
    // chain -> hash of seq i + 1
    let mut chains: BTreeMap<String, Vec<[u8; 32]>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut signed: BTreeMap<String, u64> = BTreeMap::new();
    let mut checkpoint_seen = false;
    let mut entries = 0u64;
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
        let Some((key, party)) = header.as_ref() else {
            if line_no != 1 {
                return Err(err(None, None, "the header must be the first line".into()));
            }
            let h: Header =
                serde_json::from_str(&text).map_err(|e| err(None, None, format!("bad header: {e}")))?;
            let key =
                header_key(&h.format, PARTY_AUDIT_FORMAT, &h.public_key).map_err(|m| err(None, None, m))?;
            header = Some((key, h.party));
            continue;
        };
        let parsed: Line =
            serde_json::from_str(&text).map_err(|e| err(None, None, format!("malformed line: {e}")))?;
        if checkpoint_seen {
            return Err(err(None, None, "nothing may follow the checkpoint".into()));
        }
        match (parsed.entry, parsed.checkpoint) {
            (Some(e), None) => {
                let (chain, seq) = (Some(e.chain.as_str()), Some(e.seq));
                if !valid_chain_name(&e.chain) {
                    return Err(err(chain, seq, "not a chain name".into()));
                }
                if order.last() != Some(&e.chain) {
                    if chains.contains_key(&e.chain)
                        || order.last().is_some_and(|l| e.chain.as_bytes() <= l.as_bytes())
                    {
                        return Err(err(
                            chain,
                            seq,
                            "sub-chains must appear once each, in name order".into(),
                        ));
                    }
                    order.push(e.chain.clone());
                    chains.insert(e.chain.clone(), Vec::new());
                }
                let hashes = chains
                    .get_mut(&e.chain)
                    .ok_or_else(|| err(chain, seq, "internal: no open sub-chain".into()))?;
                if e.seq != hashes.len() as u64 + 1 {
                    return Err(err(
                        chain,
                        seq,
                        format!(
                            "expected seq {} (entries missing or out of order)",
                            hashes.len() + 1
                        ),
                    ));
                }
                let prev =
                    decode32(&e.prev).ok_or_else(|| err(chain, seq, "prev is not 32-byte hex".into()))?;
                if prev != hashes.last().copied().unwrap_or([0u8; 32]) {
                    return Err(err(chain, seq, "prev is not the previous entry's hash".into()));
                }
                let recorded =
                    decode32(&e.hash).ok_or_else(|| err(chain, seq, "hash is not 32-byte hex".into()))?;
                let computed =
                    party_entry_hash(&e.chain, *party, e.seq, e.time, &e.kind, e.body.get(), &prev);
                if computed != recorded {
                    return Err(err(chain, seq, "hash mismatch: the entry was altered".into()));
                }
                hashes.push(recorded);
                entries += 1;
            }
            (None, Some(cp)) => {
                checkpoint_seen = true;
                let c = &cp.checkpoint;
                let root = decode32(&c.root)
                    .ok_or_else(|| err(None, None, "checkpoint root is not 32-byte hex".into()))?;
                let mut sig = [0u8; 64];
                hex::decode_to_slice(&c.signature, &mut sig)
                    .map_err(|_| err(None, None, "checkpoint signature is not 64-byte hex".into()))?;
                key.verify_strict(
                    &party_checkpoint_message(c.time, c.size, &root),
                    &Signature::from_bytes(&sig),
                )
                .map_err(|_| err(None, None, "checkpoint signature does not verify".into()))?;
                for l in &cp.leaves {
                    let (chain, seq) = (Some(l.leaf.chain.as_str()), Some(l.leaf.seq));
                    if l.leaf.party != *party {
                        return Err(err(chain, seq, "a checkpoint leaf of another party".into()));
                    }
                    let leaf = l
                        .leaf
                        .leaf_hash()
                        .ok_or_else(|| err(chain, seq, "leaf hash or nonce is not hex".into()))?;
                    let proof = l
                        .proof
                        .iter()
                        .map(|p| decode32(p))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| err(chain, seq, "proof is not 32-byte hex".into()))?;
                    if !verify_inclusion(l.index, c.size, &leaf, &proof, &root) {
                        return Err(err(chain, seq, "the leaf is not in the signed tree".into()));
                    }
                    let held = chains.get(&l.leaf.chain).and_then(|h| {
                        usize::try_from(l.leaf.seq)
                            .ok()
                            .and_then(|s| s.checked_sub(1))
                            .and_then(|s| h.get(s))
                    });
                    if held.map(hex::encode).as_deref() != Some(l.leaf.hash.as_str()) {
                        return Err(err(
                            chain,
                            seq,
                            "the signed head is not an entry of this view (entries cut or altered)".into(),
                        ));
                    }
                    signed.insert(l.leaf.chain.clone(), l.leaf.seq);
                }
            }
            _ => {
                return Err(err(
                    None,
                    None,
                    "a line must hold exactly one of entry, checkpoint".into(),
                ))
            }
        }
    }
    let Some((key, party)) = header else {
        return Err(VerifyError {
            line: 1,
            chain: None,
            seq: None,
            message: "empty view (no header)".into(),
        });
    };
    let held: std::collections::HashMap<String, Vec<[u8; 32]>> = chains.clone().into_iter().collect();
    let receipts = super::receipt::check_receipts(receipts, &key, party, &held)?;
    Ok(PartyVerifyReport {
        party,
        entries,
        chains: order
            .iter()
            .map(|c| PartySubChainReport {
                chain: c.clone(),
                entries: chains.get(c).map_or(0, |h| h.len() as u64),
                signed_seq: signed.get(c).copied().unwrap_or(0),
            })
            .collect(),
        signed: checkpoint_seen,
        receipts,
    })
}
