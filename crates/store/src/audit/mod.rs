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
//!
//! # Party sub-chains
//! Besides its node chain, every entry about a party is in that party's (chain, party)
//! sub-chain, whose hash covers only the party's own entries, and signed party checkpoints
//! commit to every sub-chain's head at once through a Merkle tree with blinded leaves. A party
//! is shown only its sub-chains and its own leaves with their proofs, and verifies them offline
//! ([`verify_party_audit`]) without learning any other party's count or timing. Formats in the
//! `party` and `party_view` modules.
//!
//! # Files
//! - `format`: what is hashed and signed ([`entry_hash`], [`checkpoint_message`]), the format
//!   constants, and the JSON of a link body and of the export header, shared by the writer
//!   and the verifier.
//! - `chain`: appending an entry to this node's chain (inside the writing transaction),
//!   signing checkpoints, reading chain heads, cross-linking the chains.
//! - `export`: the JSON Lines export, read from one snapshot.
//! - `verify`: the offline verifier of an export, [`verify_audit`]; it needs no database.
//! - `party`: sub-chain hashes, the Merkle tree, extending a sub-chain, signing party
//!   checkpoints, the backfill of the migration to schema version 5.
//! - `party_view`: what a party is shown (pages, heads, its checkpoint leaves) and its export.
//! - `party_verify`: the offline verifier of a party's view, [`verify_party_audit`] (and of
//!   the party's receipts against it).
//! - `receipt`: the signed receipt each acknowledged write returns.

mod chain;
mod export;
mod format;
mod party;
mod party_verify;
mod party_view;
mod receipt;
mod verify;

pub(crate) use chain::{append_entry, append_with_receipt, chain_heads, checkpoint_now, link_chains};
pub(crate) use export::export;
pub use format::{checkpoint_message, entry_hash, sha256_hex, AUDIT_FORMAT, CHECKPOINT_DOMAIN, LINK_KIND};
pub(crate) use party::{backfill as backfill_party_chains, sign_party_checkpoint};
pub use party::{
    merkle_proof, merkle_root, party_checkpoint_message, party_entry_hash, verify_inclusion, PartyCheckpoint,
    PartyLeaf, PARTY_ENTRY_DOMAIN, PARTY_HEADS_DOMAIN,
};
pub use party_verify::{
    verify_party_audit, verify_party_audit_with_receipts, PartySubChainReport, PartyVerifyReport,
};
pub(crate) use party_view::{export_party, party_checkpoint_view, party_entries, party_heads};
pub use party_view::{PartyAuditEntry, PartyCheckpointView, PartyHead, PartyLeafProof, PARTY_AUDIT_FORMAT};
pub use receipt::{receipt_message, Receipt, RECEIPT_DOMAIN};
pub use verify::{verify_audit, ChainReport, VerifyError, VerifyReport};
