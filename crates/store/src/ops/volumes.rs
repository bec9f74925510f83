//! Intents and constraints (4D volumes): versioned filings with their windows, plain
//! ([`put_volume`]) or checked against every intersecting filing in the same transaction
//! ([`file_checked`]), and the reads of one party's, every party's and recently updated
//! filings.

use super::alerts::{insert_alerts, prepare_alerts};
use super::parties::ensure_party;
use crate::audit::{append_with_receipt, sha256_hex, Receipt};
use crate::db::{vals, Db};
use crate::engine::{Ctx, Engine};
use crate::error::StoreError;
use crate::rows::{seq_from_sql, seq_to_sql, stored, to_json_text, FromRow, VolumeRow, VOLUME_COLS};
use crate::types::{
    Candidate, Decide, Filed, FilingKind, FilingState, PartyId, StoredVolume, UpdatedSince, VolumeFiling,
    Window,
};
use crate::validate::{check_json_object, check_time, check_volume_id, check_window};
use std::sync::Arc;

/// [`StoreBackend::put_volume`](crate::StoreBackend::put_volume).
pub(super) fn put_volume<E: Engine>(
    engine: &E,
    party: PartyId,
    filing: &VolumeFiling,
    now: f64,
) -> Result<Filed, StoreError> {
    let VolumeFiling {
        kind,
        id,
        expected_version,
        state,
        body,
        window,
    } = *filing;
    check_time(now)?;
    check_volume_id(id)?;
    check_window("window", &window)?;
    check_json_object("body", body)?;
    let text = body.to_string();
    let digest = sha256_hex(text.as_bytes());
    let id = id.to_string();
    engine.write(move |db, ctx| {
        ensure_party(db, party)?;
        let current = db
            .query_opt(
                "SELECT version FROM volumes WHERE party_id = ?1 AND kind = ?2 AND id = ?3",
                &vals![party, kind, &id],
            )?
            .map(|r| r.i64("version").and_then(seq_from_sql))
            .transpose()?;
        if current != expected_version {
            return Err(StoreError::Stale {
                current: current.unwrap_or(0),
            });
        }
        let version = current.unwrap_or(0) + 1;
        upsert_volume(db, party, kind, &id, version, state, &text, &window, now)?;
        let receipt = put_entry(db, ctx, now, party, kind, &id, version, state, &digest)?;
        Ok(Filed {
            version,
            alert_seqs: Vec::new(),
            audit_seq: receipt.entry_seq,
            receipt,
        })
    })
}

/// [`StoreBackend::file_checked`](crate::StoreBackend::file_checked).
pub(super) fn file_checked<E: Engine>(
    engine: &E,
    party: PartyId,
    kind: FilingKind,
    id: &str,
    window: &Window,
    now: f64,
    decide: Arc<Decide>,
) -> Result<Option<Filed>, StoreError> {
    check_time(now)?;
    check_volume_id(id)?;
    check_window("window", window)?;
    let (id, w) = (id.to_string(), *window);
    engine.write(move |db, ctx| {
        ensure_party(db, party)?;
        let mut candidates = Vec::new();
        let own = db.query_opt(
            &format!(
                "SELECT {VOLUME_COLS}, v.party_id, p.name AS party_name, v.kind FROM volumes v \
                 JOIN parties p ON p.id = v.party_id \
                 WHERE v.party_id = ?1 AND v.kind = ?2 AND v.id = ?3"
            ),
            &vals![party, kind, &id],
        )?;
        if let Some(r) = own {
            candidates.push(Candidate::from_row(&r)?);
        }
        let current = candidates.first().map_or(0, |c| c.volume.version);
        let rows = db.query(
            &format!(
                "SELECT {VOLUME_COLS}, v.party_id, p.name AS party_name, v.kind FROM volumes v \
                 JOIN parties p ON p.id = v.party_id \
                 WHERE v.state <> 'ended' AND v.t_start < ?1 AND v.t_end > ?2 \
                 AND v.alt_lo <= ?3 AND v.alt_hi >= ?4 AND v.lat_lo <= ?5 AND v.lat_hi >= ?6"
            ),
            &vals![w.t_end, w.t_start, w.alt_hi, w.alt_lo, w.lat_hi, w.lat_lo],
        )?;
        for r in &rows {
            let c = Candidate::from_row(r)?;
            let is_own = c.party == party && c.kind == kind && c.volume.id == id;
            if !is_own && c.window.lng_intersects(&w) {
                candidates.push(c);
            }
        }
        candidates.sort_by(|a, b| (a.party, a.kind, &a.volume.id).cmp(&(b.party, b.kind, &b.volume.id)));
        let Some(write) = decide(&candidates) else {
            return Ok(None);
        };
        check_window("decision.window", &write.window)?;
        check_json_object("decision.body", &write.body)?;
        let text = write.body.clone();
        let digest = sha256_hex(text.as_bytes());
        let alerts = prepare_alerts(&write.alerts)?;
        let version = current + 1;
        upsert_volume(
            db,
            party,
            kind,
            &id,
            version,
            write.state,
            &text,
            &write.window,
            now,
        )?;
        let alert_seqs = insert_alerts(db, ctx, now, &alerts)?;
        let receipt = put_entry(db, ctx, now, party, kind, &id, version, write.state, &digest)?;
        Ok(Some(Filed {
            version,
            alert_seqs,
            audit_seq: receipt.entry_seq,
            receipt,
        }))
    })
}

/// [`StoreBackend::volumes`](crate::StoreBackend::volumes).
pub(super) fn volumes<E: Engine>(
    engine: &E,
    party: PartyId,
    kind: FilingKind,
) -> Result<Vec<StoredVolume>, StoreError> {
    engine.read(move |db| {
        let mut out = db
            .query(
                &format!("SELECT {VOLUME_COLS} FROM volumes v WHERE v.party_id = ?1 AND v.kind = ?2"),
                &vals![party, kind],
            )?
            .iter()
            .map(|r| VolumeRow::from_row(r).map(|v| v.volume))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    })
}

/// [`StoreBackend::all_volumes`](crate::StoreBackend::all_volumes).
pub(super) fn all_volumes<E: Engine>(
    engine: &E,
) -> Result<Vec<(PartyId, FilingKind, StoredVolume)>, StoreError> {
    engine.read(|db| {
        let mut out = db
            .query(
                &format!("SELECT {VOLUME_COLS}, v.party_id, v.kind FROM volumes v"),
                &[],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.party("party_id")?,
                    stored(r, "kind")?,
                    VolumeRow::from_row(r)?.volume,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
        Ok(out)
    })
}

/// [`StoreBackend::volumes_updated_since`](crate::StoreBackend::volumes_updated_since).
pub(super) fn volumes_updated_since<E: Engine>(
    engine: &E,
    after: f64,
    known: &dyn Fn(PartyId, FilingKind, &str, u64) -> bool,
) -> Result<UpdatedSince, StoreError> {
    if after.is_nan() {
        return Err(StoreError::Invalid("after: must be a number".into()));
    }
    let keys = engine.read(move |db| {
        db.query(
            "SELECT party_id, kind, id, version, updated FROM volumes WHERE updated >= ?1",
            &vals![after],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.party("party_id")?,
                stored::<FilingKind>(r, "kind")?,
                r.text("id")?,
                seq_from_sql(r.i64("version")?)?,
                r.f64("updated")?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()
    })?;
    let newest = keys.iter().map(|k| k.4).reduce(f64::max);
    let wanted: Vec<(PartyId, FilingKind, String)> = keys
        .into_iter()
        .filter(|(p, k, id, v, _)| !known(*p, *k, id, *v))
        .map(|(p, k, id, _, _)| (p, k, id))
        .collect();
    if wanted.is_empty() {
        return Ok(UpdatedSince {
            filings: Vec::new(),
            newest,
        });
    }
    let filings = engine.read(move |db| {
        let mut out = Vec::with_capacity(wanted.len());
        for (party, kind, id) in &wanted {
            // Read again whole: it may have changed since; the newer version is as good.
            let row = db.query_opt(
                &format!(
                    "SELECT {VOLUME_COLS}, v.party_id, p.name AS party_name, v.kind FROM volumes v \
                     JOIN parties p ON p.id = v.party_id \
                     WHERE v.party_id = ?1 AND v.kind = ?2 AND v.id = ?3"
                ),
                &vals![*party, *kind, id],
            )?;
            if let Some(r) = row {
                let c = Candidate::from_row(&r)?;
                out.push((c.party, c.party_name, c.kind, c.volume));
            }
        }
        out.sort_by(|a, b| {
            a.3.updated
                .total_cmp(&b.3.updated)
                .then_with(|| (a.0, a.2, &a.3.id).cmp(&(b.0, b.2, &b.3.id)))
        });
        Ok(out)
    })?;
    let newest = filings.iter().map(|f| f.3.updated).chain(newest).reduce(f64::max);
    Ok(UpdatedSince { filings, newest })
}

/// Writer side: inserts or replaces a filing row.
#[allow(clippy::too_many_arguments)]
fn upsert_volume(
    db: &mut dyn Db,
    party: PartyId,
    kind: FilingKind,
    id: &str,
    version: u64,
    state: FilingState,
    text: &str,
    w: &Window,
    now: f64,
) -> Result<(), StoreError> {
    db.exec(
        "INSERT INTO volumes (party_id, kind, id, version, state, body, updated, t_start, t_end, \
         alt_lo, alt_hi, lat_lo, lat_hi, lng_lo, lng_hi) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (party_id, kind, id) DO UPDATE SET \
         version = excluded.version, state = excluded.state, body = excluded.body, \
         updated = excluded.updated, t_start = excluded.t_start, t_end = excluded.t_end, \
         alt_lo = excluded.alt_lo, alt_hi = excluded.alt_hi, lat_lo = excluded.lat_lo, \
         lat_hi = excluded.lat_hi, lng_lo = excluded.lng_lo, lng_hi = excluded.lng_hi",
        &vals![
            party,
            kind,
            id,
            seq_to_sql(version),
            state,
            text,
            now,
            w.t_start,
            w.t_end,
            w.alt_lo,
            w.alt_hi,
            w.lat_lo,
            w.lat_hi,
            w.lng_lo,
            w.lng_hi
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn put_entry(
    db: &mut dyn Db,
    ctx: &Ctx,
    now: f64,
    party: PartyId,
    kind: FilingKind,
    id: &str,
    version: u64,
    state: FilingState,
    digest: &str,
) -> Result<Receipt, StoreError> {
    let entry = to_json_text(&serde_json::json!({
        "id": id, "version": version, "state": state.as_str(), "digest": digest
    }))?;
    append_with_receipt(db, ctx, now, party, &format!("{kind}.put"), &entry)
}
