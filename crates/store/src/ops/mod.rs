//! The operations, once for both backends: [`Backend`] implements
//! [`StoreBackend`] over any [`Engine`], each method handing over to the function of its
//! domain, where that domain's SQL lives:
//!
//! - `parties`: parties and API tokens;
//! - `tracks`: track reports;
//! - `volumes`: intents and constraints, plain and checked filing;
//! - `alerts`: alerts and their per-party seqs;
//! - `messages`: the hotline's messages and mailboxes, and the sides of each conflict;
//! - `audit`: the audit calls of the interface (the chains themselves are the `audit` module's).
//!
//! Each function checks its arguments on the caller's thread (`validate`), then runs one job
//! on the engine: a write job (re-runnable, so `Fn`) in the writer's transaction, or a read.

mod alerts;
mod audit;
mod messages;
mod parties;
mod tracks;
mod volumes;

use crate::audit::{
    self as chains, PartyAuditEntry, PartyCheckpoint, PartyCheckpointView, PartyHead, Receipt,
};
use crate::backend::StoreBackend;
use crate::engine::{Engine, WriteStats};
use crate::error::StoreError;
use crate::hotline::{Acked, HotlinePolicy, MailItem, NewMessage, Sent, StreamEntry};
use crate::types::{
    AuditEntry, ChainHead, Checkpoint, Decide, Filed, FilingKind, NewAlert, Party, PartyId, Role,
    StoredAlert, StoredVolume, UpdatedSince, VolumeFiling, Window,
};
use deconflict_core::TrackReport;
use std::sync::Arc;

/// The store on one engine, as [`Store::connect`](crate::Store::connect) builds it.
pub(crate) struct Backend<E> {
    pub engine: E,
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    pub node: String,
    pub public_key_hex: String,
    /// Secret of [`StoreBackend::opaque_id`], derived from the service key.
    pub id_secret: [u8; 32],
}

impl<E: Engine> StoreBackend for Backend<E> {
    fn node(&self) -> &str {
        &self.node
    }

    fn backend(&self) -> &'static str {
        self.name
    }

    fn public_key_hex(&self) -> String {
        self.public_key_hex.clone()
    }

    fn opaque_id(&self, label: &str) -> u64 {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.id_secret);
        h.update(label.as_bytes());
        let d = h.finalize();
        u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }

    fn write_stats(&self) -> WriteStats {
        self.engine.stats()
    }

    // ---- parties and tokens ----

    fn add_party(
        &self,
        name: &str,
        member_of: Option<&str>,
        role: Role,
        now: f64,
    ) -> Result<Party, StoreError> {
        parties::add_party(&self.engine, name, member_of, role, now)
    }

    fn party_by_name(&self, name: &str) -> Result<Option<Party>, StoreError> {
        parties::party_by_name(&self.engine, name)
    }

    fn party(&self, id: PartyId) -> Result<Option<Party>, StoreError> {
        parties::party(&self.engine, id)
    }

    fn list_parties(&self) -> Result<Vec<Party>, StoreError> {
        parties::list_parties(&self.engine)
    }

    fn issue_token(&self, party_name: &str, now: f64) -> Result<String, StoreError> {
        parties::issue_token(&self.engine, party_name, now)
    }

    fn revoke_tokens(&self, party_name: &str, now: f64) -> Result<usize, StoreError> {
        parties::revoke_tokens(&self.engine, party_name, now)
    }

    fn authenticate(&self, token: &str) -> Result<Option<Party>, StoreError> {
        parties::authenticate(&self.engine, token)
    }

    fn revocations(&self) -> Result<u64, StoreError> {
        parties::revocations(&self.engine)
    }

    // ---- tracks ----

    fn put_tracks(&self, party: PartyId, reports: &[TrackReport], now: f64) -> Result<Receipt, StoreError> {
        tracks::put_tracks(&self.engine, party, reports, now)
    }

    fn tracks(&self, party: PartyId) -> Result<Vec<TrackReport>, StoreError> {
        tracks::tracks(&self.engine, party)
    }

    fn all_tracks(&self) -> Result<Vec<(PartyId, TrackReport)>, StoreError> {
        tracks::all_tracks(&self.engine)
    }

    // ---- intents and constraints ----

    fn put_volume(&self, party: PartyId, filing: &VolumeFiling, now: f64) -> Result<Filed, StoreError> {
        volumes::put_volume(&self.engine, party, filing, now)
    }

    fn file_checked(
        &self,
        party: PartyId,
        kind: FilingKind,
        id: &str,
        window: &Window,
        now: f64,
        decide: Arc<Decide>,
    ) -> Result<Option<Filed>, StoreError> {
        volumes::file_checked(&self.engine, party, kind, id, window, now, decide)
    }

    fn volumes(&self, party: PartyId, kind: FilingKind) -> Result<Vec<StoredVolume>, StoreError> {
        volumes::volumes(&self.engine, party, kind)
    }

    fn all_volumes(&self) -> Result<Vec<(PartyId, FilingKind, StoredVolume)>, StoreError> {
        volumes::all_volumes(&self.engine)
    }

    fn volumes_updated_since(
        &self,
        after: f64,
        known: &dyn Fn(PartyId, FilingKind, &str, u64) -> bool,
    ) -> Result<UpdatedSince, StoreError> {
        volumes::volumes_updated_since(&self.engine, after, known)
    }

    // ---- alerts ----

    fn append_alerts(&self, alerts: &[NewAlert], now: f64) -> Result<Vec<u64>, StoreError> {
        alerts::append_alerts(&self.engine, alerts, now)
    }

    fn alerts_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<StoredAlert>, StoreError> {
        alerts::alerts_after(&self.engine, party, after, limit)
    }

    fn last_alert_seq(&self, party: PartyId) -> Result<u64, StoreError> {
        alerts::last_alert_seq(&self.engine, party)
    }

    // ---- the hotline ----

    fn send_message(&self, msg: &NewMessage, now: f64) -> Result<Sent, StoreError> {
        messages::send_message(&self.engine, msg, now)
    }

    fn messages_after(&self, party: PartyId, after: u64, limit: usize) -> Result<Vec<MailItem>, StoreError> {
        messages::messages_after(&self.engine, party, after, limit)
    }

    fn message(&self, party: PartyId, id: &str) -> Result<Option<MailItem>, StoreError> {
        messages::message(&self.engine, party, id)
    }

    fn unacked_messages(&self, party: PartyId, limit: usize) -> Result<Vec<MailItem>, StoreError> {
        messages::unacked_messages(&self.engine, party, limit)
    }

    fn mark_delivered(&self, party: PartyId, ids: &[String], now: f64) -> Result<Vec<String>, StoreError> {
        messages::mark_delivered(&self.engine, party, ids, now)
    }

    fn ack_message(&self, party: PartyId, id: &str, now: f64) -> Result<Acked, StoreError> {
        messages::ack_message(&self.engine, party, id, now)
    }

    fn sweep_messages(&self, policy: &HotlinePolicy, now: f64) -> Result<Vec<StreamEntry>, StoreError> {
        messages::sweep_messages(&self.engine, policy, now)
    }

    fn note_conflict_sides(&self, sides: &[(String, PartyId, bool)]) -> Result<(), StoreError> {
        messages::note_conflict_sides(&self.engine, sides)
    }

    fn conflict_others(
        &self,
        party: PartyId,
        conflict: &str,
    ) -> Result<Option<Vec<(PartyId, bool)>>, StoreError> {
        messages::conflict_others(&self.engine, party, conflict)
    }

    fn hotline_backlog(&self) -> Result<(u64, Option<f64>), StoreError> {
        messages::hotline_backlog(&self.engine)
    }

    // ---- audit ----

    fn audit(
        &self,
        party: Option<PartyId>,
        kind: &str,
        body: serde_json::Value,
        now: f64,
    ) -> Result<u64, StoreError> {
        audit::audit(&self.engine, party, kind, body, now)
    }

    fn audit_for_party(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::audit_for_party(&self.engine, party, chain, after, limit)
    }

    fn latest_checkpoint(&self, chain: &str) -> Result<Option<Checkpoint>, StoreError> {
        audit::latest_checkpoint(&self.engine, chain)
    }

    fn checkpoint(&self, now: f64) -> Result<Option<Checkpoint>, StoreError> {
        audit::checkpoint(&self.engine, now)
    }

    fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        audit::chain_heads(&self.engine)
    }

    fn link_chains(&self, now: f64) -> Result<Option<u64>, StoreError> {
        audit::link_chains(&self.engine, now)
    }

    fn export_audit(&self, w: &mut dyn std::io::Write) -> Result<(), StoreError> {
        audit::export_audit(&self.engine, &self.public_key_hex, w)
    }

    fn party_audit(
        &self,
        party: PartyId,
        chain: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<PartyAuditEntry>, StoreError> {
        let chain = chain.to_string();
        self.engine
            .read(move |db| chains::party_entries(db, party, &chain, after, limit))
    }

    fn party_heads(&self, party: PartyId) -> Result<Vec<PartyHead>, StoreError> {
        self.engine.read(move |db| chains::party_heads(db, party))
    }

    fn party_checkpoint_view(&self, party: PartyId) -> Result<Option<PartyCheckpointView>, StoreError> {
        self.engine
            .read(move |db| chains::party_checkpoint_view(db, party))
    }

    fn party_checkpoint(&self, now: f64) -> Result<PartyCheckpoint, StoreError> {
        crate::validate::check_time(now)?;
        self.engine
            .write_relaxed(move |db, ctx| chains::sign_party_checkpoint(db, ctx, now))
    }

    fn export_party_audit(&self, party: PartyId, w: &mut dyn std::io::Write) -> Result<(), StoreError> {
        let key = self.public_key_hex.clone();
        audit::stream_export(&self.engine, w, move |db, emit| {
            chains::export_party(db, &key, party, emit)
        })
    }
}
