//! Alerts: each party's gap-free sequence (seqs allocated from a per-party counter row, in
//! commit order across nodes), one `alert` audit entry per alert, and the reads of a party's
//! alerts. [`insert_alerts`] also serves checked filings.

use super::parties::ensure_party;
use crate::audit::{append_entry, sha256_hex};
use crate::db::{vals, Db};
use crate::engine::{Ctx, Engine};
use crate::error::StoreError;
use crate::rows::{limit_to_sql, seq_from_sql, seq_to_sql, to_json_text, FromRow};
use crate::types::{NewAlert, PartyId, StoredAlert};
use crate::validate::check_time;

/// [`StoreBackend::append_alerts`](crate::StoreBackend::append_alerts).
pub(super) fn append_alerts<E: Engine>(
    engine: &E,
    alerts: &[NewAlert],
    now: f64,
) -> Result<Vec<u64>, StoreError> {
    check_time(now)?;
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let prepared = prepare_alerts(alerts)?;
    engine.write_alone(move |db, ctx| insert_alerts(db, ctx, now, &prepared))
}

/// [`StoreBackend::alerts_after`](crate::StoreBackend::alerts_after).
pub(super) fn alerts_after<E: Engine>(
    engine: &E,
    party: PartyId,
    after: u64,
    limit: usize,
) -> Result<Vec<StoredAlert>, StoreError> {
    engine.read(move |db| {
        db.query(
            "SELECT seq, time, body FROM alerts WHERE party_id = ?1 AND seq > ?2 \
             ORDER BY seq LIMIT ?3",
            &vals![party, seq_to_sql(after), limit_to_sql(limit)],
        )?
        .iter()
        .map(StoredAlert::from_row)
        .collect()
    })
}

/// [`StoreBackend::last_alert_seq`](crate::StoreBackend::last_alert_seq).
pub(super) fn last_alert_seq<E: Engine>(engine: &E, party: PartyId) -> Result<u64, StoreError> {
    engine.read(move |db| {
        let last = db
            .query_one(
                "SELECT COALESCE(MAX(seq), 0) AS seq FROM alerts WHERE party_id = ?1",
                &vals![party],
            )?
            .i64("seq")?;
        seq_from_sql(last)
    })
}

/// An alert ready to store: (party, body text, digest of the text).
pub(super) type PreparedAlert = (PartyId, String, String);

/// Encodes and hashes alerts on the caller's thread.
pub(super) fn prepare_alerts(alerts: &[NewAlert]) -> Result<Vec<PreparedAlert>, StoreError> {
    alerts
        .iter()
        .map(|a| {
            let text = to_json_text(&a.body)?;
            let digest = sha256_hex(text.as_bytes());
            Ok((a.party, text, digest))
        })
        .collect()
}

/// Writer side: stores alerts with per-party gap-free seqs, one `alert` audit entry each.
pub(super) fn insert_alerts(
    db: &mut dyn Db,
    ctx: &Ctx,
    now: f64,
    alerts: &[PreparedAlert],
) -> Result<Vec<u64>, StoreError> {
    // Each party's seqs come from its counter row, taken in party order: a concurrent writer
    // waits on the row lock (and then sees the new value) instead of colliding on the alerts'
    // primary key, and two writers cannot wait on each other in a cycle.
    // `next` holds each party's alert count, then (once its counter is taken) its next seq.
    let mut next: std::collections::BTreeMap<PartyId, u64> = std::collections::BTreeMap::new();
    for (party, _, _) in alerts {
        *next.entry(*party).or_default() += 1;
    }
    for (&party, slot) in next.iter_mut() {
        let n = *slot;
        ensure_party(db, party)?;
        db.exec(
            "INSERT INTO alert_seqs (party_id, last) VALUES (?1, 0) ON CONFLICT (party_id) DO NOTHING",
            &vals![party],
        )?;
        let last = db
            .query_one(
                "UPDATE alert_seqs SET last = last + ?2 WHERE party_id = ?1 RETURNING last",
                &vals![party, seq_to_sql(n)],
            )?
            .i64("last")?;
        *slot = seq_from_sql(last)? + 1 - n;
    }
    let mut seqs = Vec::with_capacity(alerts.len());
    for (party, text, digest) in alerts {
        let slot = next
            .get_mut(party)
            .ok_or_else(|| StoreError::Storage("alert seq not allocated".into()))?;
        let seq = *slot;
        *slot += 1;
        db.exec(
            "INSERT INTO alerts (party_id, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
            &vals![*party, seq_to_sql(seq), now, text],
        )?;
        let body = to_json_text(&serde_json::json!({ "seq": seq, "digest": digest }))?;
        append_entry(db, ctx, now, Some(*party), "alert", &body)?;
        seqs.push(seq);
    }
    Ok(seqs)
}
