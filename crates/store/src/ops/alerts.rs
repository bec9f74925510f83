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

/// An alert ready to store.
pub(super) struct PreparedAlert {
    pub party: PartyId,
    /// The body's compact JSON text.
    pub text: String,
    /// SHA-256 of the text.
    pub digest: String,
    /// The conflict the alert tells its party of (`conflict_id`), and whether the alert names
    /// the other side (`other_party`, unless anonymous): the party becomes a side of it, whom
    /// the hotline can reach as "the other side of conflict C".
    pub conflict: Option<(String, bool)>,
}

/// What the anonymous side of a conflict is called on the wire (`other_party`).
const ANONYMOUS: &str = "another party";

/// Encodes and hashes alerts on the caller's thread.
pub(super) fn prepare_alerts(alerts: &[NewAlert]) -> Result<Vec<PreparedAlert>, StoreError> {
    alerts.iter().map(|a| prepare(a.party, &a.body)).collect()
}

/// One alert body, encoded and hashed.
pub(super) fn prepare(party: PartyId, body: &serde_json::Value) -> Result<PreparedAlert, StoreError> {
    let text = to_json_text(body)?;
    let digest = sha256_hex(text.as_bytes());
    let conflict = body.get("conflict_id").and_then(|c| c.as_str()).map(|c| {
        let named = body
            .get("other_party")
            .and_then(|o| o.as_str())
            .is_some_and(|o| o != ANONYMOUS);
        (c.to_string(), named)
    });
    Ok(PreparedAlert {
        party,
        text,
        digest,
        conflict,
    })
}

/// Writer side: records `party` as a side of `conflict` (`named`: it was told the other
/// side's name); a side once named stays named.
pub(super) fn note_side(
    db: &mut dyn Db,
    conflict: &str,
    party: PartyId,
    named: bool,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO conflict_sides (conflict, party_id, named) VALUES (?1, ?2, ?3) \
         ON CONFLICT (conflict, party_id) DO UPDATE SET named = CASE WHEN conflict_sides.named > excluded.named \
         THEN conflict_sides.named ELSE excluded.named END",
        &vals![conflict, party, i64::from(named)],
    )?;
    Ok(())
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
    for a in alerts {
        *next.entry(a.party).or_default() += 1;
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
    for a in alerts {
        let party = &a.party;
        let slot = next
            .get_mut(party)
            .ok_or_else(|| StoreError::Storage("alert seq not allocated".into()))?;
        let seq = *slot;
        *slot += 1;
        db.exec(
            "INSERT INTO alerts (party_id, seq, time, body) VALUES (?1, ?2, ?3, ?4)",
            &vals![*party, seq_to_sql(seq), now, &a.text],
        )?;
        let body = to_json_text(&serde_json::json!({ "seq": seq, "digest": a.digest }))?;
        append_entry(db, ctx, now, Some(*party), "alert", &body)?;
        if let Some((conflict, named)) = &a.conflict {
            note_side(db, conflict, *party, *named)?;
        }
        seqs.push(seq);
    }
    Ok(seqs)
}
