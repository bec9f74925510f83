//! The audit operations of the interface: appending an entry of the caller's kind, reading a
//! party's entries and checkpoints, signing, chain heads, cross-links and the export. How the
//! chains are written and exported is the `audit` module's.

use super::parties::ensure_party;
use crate::audit::{self as chains, append_entry};
use crate::db::vals;
use crate::engine::Engine;
use crate::error::StoreError;
use crate::rows::{limit_to_sql, seq_to_sql, to_json_text, FromRow};
use crate::types::{AuditEntry, ChainHead, Checkpoint, PartyId};
use crate::validate::{check_audit_kind, check_time};
use std::sync::mpsc;

/// [`StoreBackend::audit`](crate::StoreBackend::audit).
pub(super) fn audit<E: Engine>(
    engine: &E,
    party: Option<PartyId>,
    kind: &str,
    body: serde_json::Value,
    now: f64,
) -> Result<u64, StoreError> {
    check_time(now)?;
    check_audit_kind(kind)?;
    let kind = kind.to_string();
    let body = to_json_text(&body)?;
    engine.write(move |db, ctx| {
        if let Some(p) = party {
            ensure_party(db, p)?;
        }
        append_entry(db, ctx, now, party, &kind, &body)
    })
}

/// [`StoreBackend::audit_for_party`](crate::StoreBackend::audit_for_party).
pub(super) fn audit_for_party<E: Engine>(
    engine: &E,
    party: PartyId,
    chain: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let chain = chain.to_string();
    engine.read(move |db| {
        db.query(
            "SELECT chain, seq, time, party_id, kind, body, prev, hash FROM audit \
             WHERE party_id = ?1 AND chain = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
            &vals![party, chain, seq_to_sql(after), limit_to_sql(limit)],
        )?
        .iter()
        .map(AuditEntry::from_row)
        .collect()
    })
}

/// [`StoreBackend::latest_checkpoint`](crate::StoreBackend::latest_checkpoint).
pub(super) fn latest_checkpoint<E: Engine>(
    engine: &E,
    chain: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let chain = chain.to_string();
    engine.read(move |db| {
        db.query_opt(
            "SELECT chain, seq, time, hash, signature FROM checkpoints WHERE chain = ?1 \
             ORDER BY seq DESC LIMIT 1",
            &vals![&chain],
        )?
        .map(|r| Checkpoint::from_row(&r))
        .transpose()
    })
}

/// [`StoreBackend::checkpoint`](crate::StoreBackend::checkpoint).
pub(super) fn checkpoint<E: Engine>(engine: &E, now: f64) -> Result<Option<Checkpoint>, StoreError> {
    check_time(now)?;
    engine.write(move |db, ctx| chains::checkpoint_now(db, ctx, now))
}

/// [`StoreBackend::chain_heads`](crate::StoreBackend::chain_heads).
pub(super) fn chain_heads<E: Engine>(engine: &E) -> Result<Vec<ChainHead>, StoreError> {
    engine.read(chains::chain_heads)
}

/// [`StoreBackend::link_chains`](crate::StoreBackend::link_chains).
pub(super) fn link_chains<E: Engine>(engine: &E, now: f64) -> Result<Option<u64>, StoreError> {
    check_time(now)?;
    engine.write_relaxed(move |db, ctx| chains::link_chains(db, ctx, now))
}

/// [`StoreBackend::export_audit`](crate::StoreBackend::export_audit).
pub(super) fn export_audit<E: Engine>(
    engine: &E,
    public_key_hex: &str,
    w: &mut dyn std::io::Write,
) -> Result<(), StoreError> {
    let public_key_hex = public_key_hex.to_string();
    stream_export(engine, w, move |db, emit| {
        chains::export(db, &public_key_hex, emit)
    })
}

/// Runs an export (`produce`, which reads one snapshot and hands out chunks of lines) on a
/// read connection of the backend (a thread of its own) and writes the chunks to `w` here.
pub(super) fn stream_export<E: Engine, P>(
    engine: &E,
    w: &mut dyn std::io::Write,
    produce: P,
) -> Result<(), StoreError>
where
    P: FnOnce(
            &mut dyn crate::db::Db,
            &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
        ) -> Result<(), StoreError>
        + Send
        + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let done = engine.read_detached(move |db| {
        produce(db, &mut |chunk| {
            tx.send(chunk)
                .map_err(|_| StoreError::Storage("export cancelled".into()))
        })
    });
    let mut write_err = None;
    for chunk in rx {
        if let Err(e) = w.write_all(&chunk) {
            write_err = Some(StoreError::Storage(format!("writing the export: {e}")));
            break;
        }
    }
    let produced = done
        .recv()
        .unwrap_or_else(|_| Err(StoreError::Storage("the export reader stopped".into())));
    if let Some(e) = write_err {
        return Err(e);
    }
    produced?;
    w.flush()
        .map_err(|e| StoreError::Storage(format!("writing the export: {e}")))
}
