//! Signed receipts: what an acknowledged write hands back to the party that made it, so that
//! cutting the write's audit entry later (the tail after the last party checkpoint included)
//! is provable by anyone holding the receipt.
//!
//! A receipt names the entry's place in the party's sub-chain (`chain`, `party`, `seq`), its
//! sub-chain `hash` and `time`, and carries the service's Ed25519 signature over
//! `"deconflict-receipt/1" ‖ len(chain) (u32 BE) ‖ chain ‖ party (i64 BE) ‖ seq (u64 BE) ‖
//! time (f64 bits, BE) ‖ hash (32)`. A view (`party_view`) that lacks entry `seq` of that
//! sub-chain with that hash has been cut or altered: [`check_receipts`] says which.

use super::format::decode32;
use super::verify::VerifyError;
use crate::engine::Ctx;
use crate::types::PartyId;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The domain-separation prefix of a receipt signature.
pub const RECEIPT_DOMAIN: &[u8] = b"deconflict-receipt/1";

/// A signed receipt for one acknowledged write (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The node whose chain holds the entry.
    pub chain: String,
    pub party: PartyId,
    /// The entry's place in the (chain, party) sub-chain.
    pub seq: u64,
    pub time: f64,
    /// Hex of the entry's sub-chain hash.
    pub hash: String,
    /// Hex of the Ed25519 signature over [`receipt_message`].
    pub signature: String,
    /// The entry's seq in the node's whole chain: for the operator and the tests, never in
    /// what a party is sent (it would count the other parties' entries).
    #[serde(skip)]
    pub entry_seq: u64,
}

/// The bytes a receipt signature covers.
pub fn receipt_message(chain: &str, party: PartyId, seq: u64, time: f64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(RECEIPT_DOMAIN.len() + 4 + chain.len() + 8 + 8 + 8 + 32);
    m.extend_from_slice(RECEIPT_DOMAIN);
    m.extend_from_slice(&u32::try_from(chain.len()).unwrap_or(u32::MAX).to_be_bytes());
    m.extend_from_slice(chain.as_bytes());
    m.extend_from_slice(&party.get().to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&time.to_bits().to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// Signs the receipt of entry `seq` (hash `hash`) of the (chain, party) sub-chain.
pub(crate) fn sign(
    ctx: &Ctx,
    party: PartyId,
    seq: u64,
    time: f64,
    hash: &[u8; 32],
    entry_seq: u64,
) -> Receipt {
    let signature = ctx
        .signing
        .sign(&receipt_message(&ctx.chain, party, seq, time, hash));
    Receipt {
        chain: ctx.chain.clone(),
        party,
        seq,
        time,
        hash: hex::encode(hash),
        signature: hex::encode(signature.to_bytes()),
        entry_seq,
    }
}

impl Receipt {
    /// Whether the signature is the service's (`key`) over this receipt.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), String> {
        let hash = decode32(&self.hash).ok_or("hash is not 32-byte hex")?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig).map_err(|_| "signature is not 64-byte hex")?;
        key.verify_strict(
            &receipt_message(&self.chain, self.party, self.seq, self.time, &hash),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| "the signature does not verify".to_string())
    }
}

/// Checks receipts (JSON Lines, one [`Receipt`] per line) against a verified view: each must
/// be signed by `key`, be the view's party's, and name an entry of the view with that hash.
/// `held` maps each sub-chain of the view to its hashes (of seq 1, 2, ...). Returns how many
/// receipts were checked; the first failure names the receipt's line.
pub(crate) fn check_receipts(
    receipts: &str,
    key: &VerifyingKey,
    party: PartyId,
    held: &HashMap<String, Vec<[u8; 32]>>,
) -> Result<u64, VerifyError> {
    let mut n = 0;
    for (i, line) in receipts.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |chain: Option<&str>, seq: Option<u64>, m: String| VerifyError {
            line: i + 1,
            chain: chain.map(str::to_string),
            seq,
            message: format!("receipt: {m}"),
        };
        let r: Receipt =
            serde_json::from_str(line).map_err(|e| err(None, None, format!("malformed: {e}")))?;
        let (chain, seq) = (Some(r.chain.as_str()), Some(r.seq));
        r.verify(key).map_err(|m| err(chain, seq, m))?;
        if r.party != party {
            return Err(err(chain, seq, "another party's receipt".into()));
        }
        let have = held.get(&r.chain).and_then(|h| {
            usize::try_from(r.seq)
                .ok()
                .and_then(|s| s.checked_sub(1))
                .and_then(|s| h.get(s))
        });
        if have.map(hex::encode).as_deref() != Some(r.hash.as_str()) {
            return Err(err(
                chain,
                seq,
                "the view lacks this acknowledged entry (cut or altered)".into(),
            ));
        }
        n += 1;
    }
    Ok(n)
}
