//! The audit formats: the bytes an entry hash and a checkpoint signature cover (see the
//! `audit` module docs), the format constants, and the JSON shapes the writer and the verifier
//! share (a link body, the export header).

use crate::error::StoreError;
use crate::types::PartyId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    h.update(party.map_or(-1, PartyId::get).to_be_bytes());
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

/// An export header's key, once its `format` is the `expected` one (the verifiers' check of
/// their first line).
pub(crate) fn header_key(
    format: &str,
    expected: &str,
    public_key: &str,
) -> Result<ed25519_dalek::VerifyingKey, String> {
    if format != expected {
        return Err(format!("unknown format {format:?} (expected {expected:?})"));
    }
    let bytes = decode32(public_key).ok_or("public_key is not 32-byte hex")?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| format!("bad public_key: {e}"))
}

/// The 32 bytes a 64-character hex string encodes (`None` for anything else).
pub(crate) fn decode32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// One link of an `audit.link` body: the head of another chain when the link was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Link {
    pub chain: String,
    pub seq: u64,
    pub hash: String,
}

/// The body of an `audit.link` entry: `{"links":[...]}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkBody {
    pub links: Vec<Link>,
}

/// The first line of an export.
#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: String,
    pub public_key: String,
}
