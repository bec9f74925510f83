//! The interface every caller uses: the [`StoreBackend`] trait, one method per operation,
//! object safe, reached through a [`Store`](crate::Store). The one implementation for both
//! databases is in the `ops` module (its SQL per domain in `ops/*.rs`); a test double may
//! implement it too ([`Store::from_backend`](crate::Store::from_backend)).

use crate::audit::{PartyAuditEntry, PartyCheckpoint, PartyCheckpointView, PartyHead, Receipt};
use crate::engine::WriteStats;
use crate::error::StoreError;
use crate::hotline::{Acked, HotlinePolicy, MailItem, NewMessage, Sent, StreamEntry};
use crate::types::{
    AuditEntry, ChainHead, Checkpoint, Decide, Filed, FilingKind, NewAlert, Party, PartyId, Role,
    StoredAlert, StoredVolume, UpdatedSince, VolumeFiling, Window,
};
use deconflict_core::TrackReport;
use std::sync::Arc;

/// Every operation of the store, whatever the backend. Object safe; reached through [`Store`](crate::Store).
pub trait StoreBackend: Send + Sync {
    /// This process's node name: the audit chain its writes extend.
    fn node(&self) -> &str;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Hex of the service's Ed25519 public key (verifies checkpoints).
    fn public_key_hex(&self) -> String;
    /// An opaque 64-bit id for `label`: the same for the same label under the same service key
    /// (across restarts and nodes), unguessable without it.
    fn opaque_id(&self, label: &str) -> u64;
    /// Counters of the group-committing writer (for tests and metrics).
    fn write_stats(&self) -> WriteStats;

    // ---- parties and tokens ----

    /// Adds a party; audited as `party.add`. Conflict if the name exists.
    fn add_party(
        &self,
        name: &str,
        member_of: Option<&str>,
        role: Role,
        now: f64,
    ) -> Result<Party, StoreError>;
    fn party_by_name(&self, name: &str) -> Result<Option<Party>, StoreError>;
    fn party(&self, id: PartyId) -> Result<Option<Party>, StoreError>;
    /// Every party, by id (service-wide; for admins).
    fn list_parties(&self) -> Result<Vec<Party>, StoreError>;
    /// Issues a new random token for the party: returned once as `"dcf_" + 64 hex`; only its
    /// SHA-256 is stored. Audited as `token.issue` with the token's row id.
    fn issue_token(&self, party_name: &str, now: f64) -> Result<String, StoreError>;
    /// Revokes every live token of the party; returns how many. Audited as `token.revoke`.
    fn revoke_tokens(&self, party_name: &str, now: f64) -> Result<usize, StoreError>;
    /// The party a token belongs to; None for unknown, revoked or malformed tokens. Looks up
    /// the token's SHA-256 in the database on every call (no cache), so tokens issued or
    /// revoked by another process take effect at once.
    fn authenticate(&self, token: &str) -> Result<Option<Party>, StoreError>;
    /// How many tokens have been revoked, ever: it only grows, so a change tells a node
    /// watching it (a cheap count, whichever process revoked) to check its open streams'
    /// tokens again.
    fn revocations(&self) -> Result<u64, StoreError>;

    // ---- tracks ----

    /// In one transaction: each report becomes the party's latest for its asset unless the
    /// stored one is newer, plus one audit entry `tracks` with body
    /// `{"count":n,"digest":hex}`, the digest being SHA-256 of the compact JSON array of the
    /// reports (serde_json of `&[TrackReport]`, fields in struct order). Returns the entry's
    /// seq once committed.
    fn put_tracks(&self, party: PartyId, reports: &[TrackReport], now: f64) -> Result<Receipt, StoreError>;
    /// The party's latest report per asset, by asset id.
    fn tracks(&self, party: PartyId) -> Result<Vec<TrackReport>, StoreError>;
    /// Service-internal (engine warm-up after a restart): every party's latest tracks, by
    /// party then asset.
    fn all_tracks(&self) -> Result<Vec<(PartyId, TrackReport)>, StoreError>;

    // ---- intents and constraints (4D volumes) ----

    /// Files an intent or a constraint (`kind` is `intent` or `constraint`) in one transaction:
    /// checks that `expected_version` is the current version (`None` for a new one), stores the
    /// filing and its window as version + 1, and appends one audit entry `<kind>.put` with body
    /// `{"id","version","state","digest"}`. Returns the new version and the entry's receipt (no alerts). `Stale` (nothing stored)
    /// when the version is not the current one, also when another process filed in between.
    fn put_volume(&self, party: PartyId, filing: &VolumeFiling, now: f64) -> Result<Filed, StoreError>;
    /// Checked filing, in ONE write transaction: reads the candidates (every filing of any
    /// party and kind whose state is not `ended` and whose window intersects `window`, plus the
    /// caller's own row `(party, kind, id)` whatever its state and window), ordered by party,
    /// kind, id; calls `decide` on them (again if the transaction is retried). `None` from the
    /// decider: nothing is stored, `Ok(None)`. `Some(w)`: appends `w.alerts` as
    /// [`StoreBackend::append_alerts`] does, stores the filing as version `current + 1`
    /// (`current` being 0 for a new id) with `w.state`, `w.body` and `w.window`, and appends the
    /// `<kind>.put` audit entry as [`StoreBackend::put_volume`] does.
    fn file_checked(
        &self,
        party: PartyId,
        kind: FilingKind,
        id: &str,
        window: &Window,
        now: f64,
        decide: Arc<Decide>,
    ) -> Result<Option<Filed>, StoreError>;
    /// The party's own filings of a kind, by id.
    fn volumes(&self, party: PartyId, kind: FilingKind) -> Result<Vec<StoredVolume>, StoreError>;
    /// Service-internal (index warm-up after a restart): every party's filings as (party, kind,
    /// filing), by party, kind, id.
    fn all_volumes(&self) -> Result<Vec<(PartyId, FilingKind, StoredVolume)>, StoreError>;
    /// Service-internal (picking up other nodes' filings): every filing with `updated >= after`
    /// that the caller does not hold yet, as (party, party name, kind, filing), by updated,
    /// party, kind, id; and the newest `updated` of every row with `updated >= after`, held or
    /// not (the caller's next cursor). `known(party, kind, id, version)` says whether the
    /// caller holds that version or a newer one; those rows are skipped before their bodies
    /// are read, so a caller re-reading a safety margin every second does not re-read every
    /// filing in it.
    fn volumes_updated_since(
        &self,
        after: f64,
        known: &dyn Fn(PartyId, FilingKind, &str, u64) -> bool,
    ) -> Result<UpdatedSince, StoreError>;

    // ---- alerts ----

    /// In one transaction: gives each alert its party's next seq (1, 2, 3, ... without gaps,
    /// in commit order across nodes), stores it, and appends one audit entry `alert` per alert
    /// with body `{"seq":s,"digest":hex}` (SHA-256 of the alert body's compact JSON). Returns
    /// the seqs in input order. NotFound (and nothing stored) if any party does not exist.
    fn append_alerts(&self, alerts: &[NewAlert], now: f64) -> Result<Vec<u64>, StoreError>;
    /// The party's alerts with seq > `after`, oldest first, at most `limit`.
    fn alerts_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<StoredAlert>, StoreError>;
    /// The party's newest alert seq (0 if none).
    fn last_alert_seq(&self, party: PartyId) -> Result<u64, StoreError>;

    // ---- the hotline ----

    /// In one transaction: stores the message, the sender's copy and each recipient's (each
    /// the next seq of its party's mailbox), puts each recipient's copy on its stream (its
    /// next alert seq), and appends `message.send` to the sender's record (its receipt is
    /// returned) and `message.receive` to each recipient's. Invalid (nothing stored) for a bad
    /// id or kind, no recipient, a repeated one or the sender among them; NotFound for a
    /// party that does not exist; Conflict when the id exists.
    fn send_message(&self, msg: &NewMessage, now: f64) -> Result<Sent, StoreError>;
    /// The party's mailbox items with seq > `after`, oldest first, at most `limit`: its own
    /// messages (with the copies it is shown) and the copies it received.
    fn messages_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<MailItem>, StoreError>;
    /// The party's copy of message `id`, if it has one.
    fn message(&self, party: PartyId, id: &str) -> Result<Option<MailItem>, StoreError>;
    /// The party's received copies not yet acknowledged, oldest first, at most `limit`.
    fn unacked_messages(&self, party: PartyId, limit: usize) -> Result<Vec<MailItem>, StoreError>;
    /// Marks the party's received copies of `ids` delivered (those not yet marked; others'
    /// ids and unknown ones are skipped); `message.deliver` on its record, `message.delivered`
    /// on the sender's when the sender is shown that copy. Returns the ids marked.
    fn mark_delivered(&self, party: PartyId, ids: &[String], now: f64) -> Result<Vec<String>, StoreError>;
    /// Acknowledges the party's copy of `id` (NotFound if it received none): `message.ack`
    /// on its record; on the first acknowledgement, `message.acked` on the sender's record
    /// and a `message.ack` entry on the sender's stream when it is shown that copy.
    fn ack_message(&self, party: PartyId, id: &str, now: f64) -> Result<Acked, StoreError>;
    /// Re-sends every unacknowledged copy due under `policy` (a new stream entry, marked
    /// `resend`) and escalates those past their escalation age (marked `escalated`; the
    /// sender told by a `message.escalated` stream entry), with audit entries. Safe on
    /// several nodes at once: each copy is taken by one. Returns the stream entries.
    fn sweep_messages(&self, policy: &HotlinePolicy, now: f64) -> Result<Vec<StreamEntry>, StoreError>;
    /// Records parties as sides of conflicts: (conflict id, party, told the other side's
    /// name). Alerts carrying a `conflict_id` record their party themselves.
    fn note_conflict_sides(&self, sides: &[(String, PartyId, bool)]) -> Result<(), StoreError>;
    /// The other sides of `conflict` as (party, told the caller's name), or None when `party`
    /// is not a side of it.
    fn conflict_others(
        &self,
        party: PartyId,
        conflict: &str,
    ) -> Result<Option<Vec<(PartyId, bool)>>, StoreError>;
    /// Service-internal (the operator's metrics): how many received copies are not
    /// acknowledged, and when the oldest of them was sent.
    fn hotline_backlog(&self) -> Result<(u64, Option<f64>), StoreError>;

    // ---- audit ----

    /// Appends one entry of any kind (1 to 64 bytes, not `audit.link`) to this node's chain;
    /// `party`, if given, must exist. Returns its seq once committed.
    fn audit(
        &self,
        party: Option<PartyId>,
        kind: &str,
        body: serde_json::Value,
        now: f64,
    ) -> Result<u64, StoreError>;
    /// The entries of `chain` about `party` (their `party` field) with seq > `after`, oldest
    /// first, at most `limit`. Each carries `prev` and `hash`, so the party can check them
    /// against the chain.
    fn audit_for_party(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// The newest checkpoint of `chain`.
    fn latest_checkpoint(&self, chain: &str) -> Result<Option<Checkpoint>, StoreError>;
    /// Signs this node's chain head unless a checkpoint already covers it (call on shutdown).
    fn checkpoint(&self, now: f64) -> Result<Option<Checkpoint>, StoreError>;
    /// The head of every chain, by chain name.
    fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError>;
    /// Appends to this node's chain one `audit.link` entry with body
    /// `{"links":[{"chain":c,"seq":s,"hash":h},...]}` recording the current head of every OTHER
    /// chain, but only if some other chain's head differs from what this chain's previous link
    /// recorded. Returns the new entry's seq, or None. (A link moves this chain's head, so two
    /// nodes that both link periodically each append about one link per period.)
    fn link_chains(&self, now: f64) -> Result<Option<u64>, StoreError>;
    /// Every chain as JSON Lines from one consistent snapshot (format in the `audit` module
    /// docs); verify it with [`verify_audit`](crate::verify_audit).
    fn export_audit(&self, w: &mut dyn std::io::Write) -> Result<(), StoreError>;

    // ---- the party's view of the audit (no other party's activity in it) ----

    /// The (chain, party) sub-chain's entries with seq > `after`, oldest first, at most
    /// `limit`.
    fn party_audit(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<PartyAuditEntry>, StoreError>;
    /// The heads of the party's sub-chains (one per node that wrote about it).
    fn party_heads(&self, party: PartyId) -> Result<Vec<PartyHead>, StoreError>;
    /// The newest party checkpoint with the party's leaves and their inclusion proofs.
    fn party_checkpoint_view(&self, party: PartyId) -> Result<Option<PartyCheckpointView>, StoreError>;
    /// Signs every sub-chain's head at once (call on a fixed timer: see `audit::party`).
    fn party_checkpoint(&self, now: f64) -> Result<PartyCheckpoint, StoreError>;
    /// The party's whole view as JSON Lines from one snapshot; verify it with
    /// [`verify_party_audit`](crate::verify_party_audit).
    fn export_party_audit(&self, party: PartyId, w: &mut dyn std::io::Write) -> Result<(), StoreError>;
}
