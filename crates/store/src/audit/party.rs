//! Party sub-chains: the audit as one party may see it, verifiable offline without learning
//! anything of the other parties' activity.
//!
//! # Sub-chains
//! Every entry about a party (its `party` field set) is, besides its place in its node's chain,
//! entry `pseq` (1, 2, 3, ... without gaps) of the **(chain, party)** sub-chain, with
//! `phash` = SHA-256 over
//! `"deconflict-party-entry/1" ‖ len(chain) (u32 BE) ‖ chain ‖ party (i64 BE) ‖ pseq (u64 BE) ‖
//! time (f64 bits, BE) ‖ len(kind) (u32 BE) ‖ kind ‖ len(body) (u32 BE) ‖ body ‖ pprev (32 bytes)`
//! (`pprev` = 32 zero bytes for pseq 1). Unlike the node chain's hash it covers nothing of other
//! parties' entries: neither the global seq nor the previous global hash, so a party can
//! recompute its own sub-chain from its own entries alone. A sub-chain is written only by its
//! node's writer (like the node chain), so nodes never contend on a party's head.
//!
//! # Party checkpoints
//! Every `party_checkpoint_s` (on a timer, whatever the activity, so their rhythm says nothing)
//! a node signs the heads of every sub-chain at once: the leaves, one per (chain, party) in
//! (chain, party) order, are SHA-256 over
//! `0x00 ‖ len(chain) (u32 BE) ‖ chain ‖ party (i64 BE) ‖ seq (u64 BE) ‖ hash (32) ‖ nonce (16)`
//! with a fresh random `nonce` per leaf and checkpoint, and the root is the Merkle tree hash of
//! RFC 9162 §2.1.1 over them (interior nodes SHA-256 over `0x01 ‖ left ‖ right`). The
//! signature (Ed25519, the service key) covers
//! `"deconflict-party-heads/1" ‖ time (f64 bits, BE) ‖ leaf count (u64 BE) ‖ root (32)`.
//!
//! A party is handed its own leaves with their nonces and inclusion proofs (RFC 9162 §2.1.3).
//! The nonces make the other leaves, and so every sibling hash in a proof, change at every
//! checkpoint whether or not anyone was active: a proof tells a party nothing but the number
//! of sub-chains.

use super::format::decode32;
use crate::db::{vals, Db};
use crate::engine::Ctx;
use crate::error::StoreError;
use crate::rows::{seq_from_sql, seq_to_sql};
use crate::types::PartyId;
use ed25519_dalek::Signer;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The domain-separation prefix of a sub-chain entry hash.
pub const PARTY_ENTRY_DOMAIN: &[u8] = b"deconflict-party-entry/1";
/// The domain-separation prefix of a party checkpoint signature.
pub const PARTY_HEADS_DOMAIN: &[u8] = b"deconflict-party-heads/1";

fn len32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes()
}

/// The hash of entry `pseq` of the (chain, party) sub-chain (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn party_entry_hash(
    chain: &str,
    party: PartyId,
    pseq: u64,
    time: f64,
    kind: &str,
    body: &str,
    pprev: &[u8; 32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PARTY_ENTRY_DOMAIN);
    h.update(len32(chain.len()));
    h.update(chain.as_bytes());
    h.update(party.get().to_be_bytes());
    h.update(pseq.to_be_bytes());
    h.update(time.to_bits().to_be_bytes());
    h.update(len32(kind.len()));
    h.update(kind.as_bytes());
    h.update(len32(body.len()));
    h.update(body.as_bytes());
    h.update(pprev);
    h.finalize().into()
}

/// One sub-chain head as a checkpoint signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyLeaf {
    pub chain: String,
    pub party: PartyId,
    pub seq: u64,
    /// Hex of the head entry's `phash`.
    pub hash: String,
    /// Hex of the leaf's 16 random bytes.
    pub nonce: String,
}

impl PartyLeaf {
    /// The leaf hash (see the module docs); `None` if `hash` or `nonce` is not hex of the
    /// right length.
    pub fn leaf_hash(&self) -> Option<[u8; 32]> {
        let hash = decode32(&self.hash)?;
        let mut nonce = [0u8; 16];
        hex::decode_to_slice(&self.nonce, &mut nonce).ok()?;
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(len32(self.chain.len()));
        h.update(self.chain.as_bytes());
        h.update(self.party.get().to_be_bytes());
        h.update(self.seq.to_be_bytes());
        h.update(hash);
        h.update(nonce);
        Some(h.finalize().into())
    }
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash of RFC 9162 §2.1.1 over leaf hashes (SHA-256 of nothing for none).
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&merkle_root(&leaves[..k]), &merkle_root(&leaves[k..]))
        }
    }
}

/// The inclusion proof (audit path) of leaf `m` (RFC 9162 §2.1.3.1); empty if `m` is out of
/// range or the tree has one leaf.
pub fn merkle_proof(leaves: &[[u8; 32]], m: usize) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 || m >= n {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = merkle_proof(&leaves[..k], m);
        p.push(merkle_root(&leaves[k..]));
        p
    } else {
        let mut p = merkle_proof(&leaves[k..], m - k);
        p.push(merkle_root(&leaves[..k]));
        p
    }
}

/// Whether `proof` shows leaf `index` of a tree of `size` leaves with root `root` is `leaf`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8; 32], proof: &[[u8; 32]], root: &[u8; 32]) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnn, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = node(p, &r);
            while fnn & 1 == 0 && fnn != 0 {
                fnn >>= 1;
                sn >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// The bytes a party checkpoint signature covers.
pub fn party_checkpoint_message(time: f64, size: u64, root: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(PARTY_HEADS_DOMAIN.len() + 8 + 8 + 32);
    m.extend_from_slice(PARTY_HEADS_DOMAIN);
    m.extend_from_slice(&time.to_bits().to_be_bytes());
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(root);
    m
}

/// The (chain, party) sub-chain's head, read inside the caller's transaction.
fn party_head(db: &mut dyn Db, chain: &str, party: PartyId) -> Result<(u64, [u8; 32]), StoreError> {
    match db.query_opt(
        "SELECT seq, hash FROM party_heads WHERE chain = ?1 AND party_id = ?2",
        &vals![chain, party],
    )? {
        None => Ok((0, [0u8; 32])),
        Some(r) => {
            let seq = seq_from_sql(r.i64("seq")?)?;
            let hash = decode32(&r.text("hash")?).ok_or_else(|| {
                StoreError::Storage(format!("party head {chain:?}/{party}: hash is not 32-byte hex"))
            })?;
            Ok((seq, hash))
        }
    }
}

/// Extends the (chain, party) sub-chain by one entry (writer thread, inside the transaction
/// that appends the entry) and returns its `pseq` and `phash` for the entry's row.
pub(crate) fn extend(
    db: &mut dyn Db,
    chain: &str,
    party: PartyId,
    time: f64,
    kind: &str,
    body: &str,
) -> Result<(u64, [u8; 32]), StoreError> {
    let (last, prev) = party_head(db, chain, party)?;
    let pseq = last
        .checked_add(1)
        .ok_or_else(|| StoreError::Storage("party audit seq overflow".into()))?;
    let hash = party_entry_hash(chain, party, pseq, time, kind, body, &prev);
    db.exec(
        "INSERT INTO party_heads (chain, party_id, seq, hash) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (chain, party_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        &vals![chain, party, seq_to_sql(pseq), hex::encode(hash)],
    )?;
    Ok((pseq, hash))
}

/// Gives every entry about a party that has no sub-chain place yet its `pseq` and `phash`, in
/// (chain, seq) order (the migration to schema version 5, inside its transaction).
pub(crate) fn backfill(db: &mut dyn Db) -> Result<(), StoreError> {
    loop {
        let rows = db.query(
            "SELECT chain, seq, time, party_id, kind, body FROM audit \
             WHERE party_id IS NOT NULL AND pseq IS NULL ORDER BY chain, seq LIMIT 1000",
            &[],
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        for r in &rows {
            let chain = r.text("chain")?;
            let party = r.party("party_id")?;
            let (pseq, phash) = extend(
                db,
                &chain,
                party,
                r.f64("time")?,
                &r.text("kind")?,
                &r.text("body")?,
            )?;
            db.exec(
                "UPDATE audit SET pseq = ?1, phash = ?2 WHERE chain = ?3 AND seq = ?4",
                &vals![
                    seq_to_sql(pseq),
                    hex::encode(phash),
                    chain.as_str(),
                    r.i64("seq")?
                ],
            )?;
        }
    }
}

/// A signed party checkpoint as stored (every leaf) or handed to a party (its own leaves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyCheckpoint {
    /// The node that signed it.
    pub chain: String,
    /// This node's party checkpoint number (1, 2, 3, ...).
    pub n: u64,
    pub time: f64,
    /// Hex of the Merkle root over every sub-chain head.
    pub root: String,
    /// How many leaves (sub-chains) the tree has.
    pub size: u64,
    /// Hex of the Ed25519 signature over [`party_checkpoint_message`].
    pub signature: String,
}

/// Signs every sub-chain head at once (writer thread); see the module docs.
pub(crate) fn sign_party_checkpoint(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
) -> Result<PartyCheckpoint, StoreError> {
    let mut leaves = Vec::new();
    for r in db.query("SELECT chain, party_id, seq, hash FROM party_heads", &[])? {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        leaves.push(PartyLeaf {
            chain: r.text("chain")?,
            party: r.party("party_id")?,
            seq: seq_from_sql(r.i64("seq")?)?,
            hash: r.text("hash")?,
            nonce: hex::encode(nonce),
        });
    }
    // Byte order of chain names, whatever the database's collation.
    leaves.sort_by(|a, b| (a.chain.as_bytes(), a.party).cmp(&(b.chain.as_bytes(), b.party)));
    let hashes = leaves
        .iter()
        .map(|l| {
            l.leaf_hash()
                .ok_or_else(|| StoreError::Storage(format!("party head {}/{}: bad hash", l.chain, l.party)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let root = merkle_root(&hashes);
    let size = hashes.len() as u64;
    let signature = ctx.signing.sign(&party_checkpoint_message(time, size, &root));
    let n = db
        .query_one(
            "SELECT COALESCE(MAX(n), 0) AS n FROM party_checkpoints WHERE chain = ?1",
            &vals![ctx.chain.as_str()],
        )?
        .i64("n")?
        + 1;
    let cp = PartyCheckpoint {
        chain: ctx.chain.clone(),
        n: seq_from_sql(n)?,
        time,
        root: hex::encode(root),
        size,
        signature: hex::encode(signature.to_bytes()),
    };
    let leaves_json = serde_json::to_string(&leaves)
        .map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))?;
    db.exec(
        "INSERT INTO party_checkpoints (chain, n, time, root, size, signature, leaves) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &vals![
            cp.chain.as_str(),
            n,
            time,
            cp.root.as_str(),
            seq_to_sql(size),
            cp.signature.as_str(),
            leaves_json
        ],
    )?;
    Ok(cp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| Sha256::digest((i as u64).to_be_bytes()).into())
            .collect()
    }

    #[test]
    fn every_leaf_of_every_tree_size_proves_and_nothing_else_does() {
        for n in 1..40usize {
            let l = leaves(n);
            let root = merkle_root(&l);
            for m in 0..n {
                let p = merkle_proof(&l, m);
                assert!(
                    verify_inclusion(m as u64, n as u64, &l[m], &p, &root),
                    "n={n} m={m}"
                );
                // Another leaf, another index, another size, a cut proof or another root fail.
                assert!(!verify_inclusion(m as u64, n as u64, &l[(m + 1) % n], &p, &root) || n == 1);
                if n > 1 {
                    assert!(!verify_inclusion(
                        ((m + 1) % n) as u64,
                        n as u64,
                        &l[m],
                        &p,
                        &root
                    ));
                    assert!(!verify_inclusion(
                        m as u64,
                        n as u64,
                        &l[m],
                        &p[..p.len() - 1],
                        &root
                    ));
                }
                // (A proof may also fit a larger size for the same root: the size is signed.)
                assert!(!verify_inclusion(m as u64, n as u64, &l[m], &p, &[7u8; 32]));
            }
            assert!(!verify_inclusion(n as u64, n as u64, &l[0], &[], &root));
        }
    }

    #[test]
    fn the_root_is_rfc_9162s_for_small_trees() {
        let l = leaves(3);
        assert_eq!(merkle_root(&l), node(&node(&l[0], &l[1]), &l[2]));
        let l = leaves(5);
        let left = node(&node(&l[0], &l[1]), &node(&l[2], &l[3]));
        assert_eq!(merkle_root(&l), node(&left, &l[4]));
    }

    #[test]
    fn a_leaf_hash_needs_hex_of_the_right_length() {
        let mut leaf = PartyLeaf {
            chain: "main".into(),
            party: PartyId(1),
            seq: 1,
            hash: "00".repeat(32),
            nonce: "11".repeat(16),
        };
        assert!(leaf.leaf_hash().is_some());
        leaf.nonce = "11".repeat(15);
        assert!(leaf.leaf_hash().is_none());
    }
}
