//! Track reports: each party's latest report per asset (an upsert that keeps the newer one,
//! in multi-row statements of a few fixed sizes), audited as one `tracks` entry per call.

use super::parties::ensure_party;
use crate::audit::{append_with_receipt, sha256_hex, Receipt};
use crate::db::{vals, Val};
use crate::engine::Engine;
use crate::error::StoreError;
use crate::rows::{to_json_text, FromRow, TRACK_COLS};
use crate::types::PartyId;
use crate::validate::{check_report, check_time};
use deconflict_core::TrackReport;
use std::collections::HashMap;
use std::sync::OnceLock;

/// [`StoreBackend::put_tracks`](crate::StoreBackend::put_tracks).
pub(super) fn put_tracks<E: Engine>(
    engine: &E,
    party: PartyId,
    reports: &[TrackReport],
    now: f64,
) -> Result<Receipt, StoreError> {
    check_time(now)?;
    for (i, r) in reports.iter().enumerate() {
        check_report(i, r)?;
    }
    // Encoding and hashing happen on the caller's thread, not the writer's.
    let json = serde_json::to_vec(reports)
        .map_err(|e| StoreError::Invalid(format!("cannot encode reports: {e}")))?;
    let body = to_json_text(&serde_json::json!({
        "count": reports.len(), "digest": sha256_hex(&json)
    }))?;
    let rows: Vec<Vec<Val>> = dedupe_reports(reports)
        .into_iter()
        .map(|r| {
            Vec::from(vals![
                party,
                r.asset,
                r.time,
                r.lat,
                r.lng,
                r.alt_m,
                r.gs_mps,
                r.track_deg,
                r.vs_mps,
                r.class.as_str()
            ])
        })
        .collect();
    engine.write_relaxed(move |db, ctx| {
        ensure_party(db, party)?;
        let mut rest: &[Vec<Val>] = &rows;
        while !rest.is_empty() {
            let size = TRACK_CHUNKS
                .iter()
                .copied()
                .find(|&s| s <= rest.len())
                .unwrap_or(1);
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            let params: Vec<Val> = chunk.iter().flatten().cloned().collect();
            db.exec(tracks_sql(chunk.len()), &params)?;
            rest = tail;
        }
        append_with_receipt(db, ctx, now, party, "tracks", &body)
    })
}

/// [`StoreBackend::tracks`](crate::StoreBackend::tracks).
pub(super) fn tracks<E: Engine>(engine: &E, party: PartyId) -> Result<Vec<TrackReport>, StoreError> {
    engine.read(move |db| {
        let mut out = db
            .query(
                &format!("SELECT {TRACK_COLS} FROM tracks WHERE party_id = ?1"),
                &vals![party],
            )?
            .iter()
            .map(TrackReport::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Byte order on every backend, whatever the database's collation.
        out.sort_by(|a, b| a.asset.cmp(&b.asset));
        Ok(out)
    })
}

/// [`StoreBackend::all_tracks`](crate::StoreBackend::all_tracks).
pub(super) fn all_tracks<E: Engine>(engine: &E) -> Result<Vec<(PartyId, TrackReport)>, StoreError> {
    engine.read(|db| {
        let mut out = db
            .query(&format!("SELECT party_id, {TRACK_COLS} FROM tracks"), &[])?
            .iter()
            .map(|r| Ok((r.party("party_id")?, TrackReport::from_row(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| (a.0, &a.1.asset).cmp(&(b.0, &b.1.asset)));
        Ok(out)
    })
}

/// The multi-row track upsert for `n` rows (cached per size).
fn tracks_sql(n: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        TRACK_CHUNKS
            .iter()
            .map(|&size| {
                let rows: Vec<String> = (0..size)
                    .map(|r| {
                        let cols: Vec<String> = (1..=10).map(|c| format!("?{}", r * 10 + c)).collect();
                        format!("({})", cols.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO tracks (party_id, asset, time, lat, lng, alt_m, gs_mps, track_deg, \
                     vs_mps, class) VALUES {} \
                     ON CONFLICT (party_id, asset) DO UPDATE SET time = excluded.time, \
                     lat = excluded.lat, lng = excluded.lng, alt_m = excluded.alt_m, \
                     gs_mps = excluded.gs_mps, track_deg = excluded.track_deg, \
                     vs_mps = excluded.vs_mps, class = excluded.class \
                     WHERE excluded.time >= tracks.time",
                    rows.join(", ")
                )
            })
            .collect()
    });
    let i = TRACK_CHUNKS
        .iter()
        .position(|&s| s == n)
        .unwrap_or(TRACK_CHUNKS.len() - 1);
    all.get(i).map_or("", String::as_str)
}

/// Row counts of the track upsert statements (a few fixed sizes keep the statement caches hot).
const TRACK_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// Of several reports of one asset in one call, the one that would win applied in order
/// (a later report replaces an earlier one unless it is older).
fn dedupe_reports(reports: &[TrackReport]) -> Vec<TrackReport> {
    let mut out: Vec<TrackReport> = Vec::with_capacity(reports.len());
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(reports.len());
    for r in reports {
        match at.get(r.asset.as_str()) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    if r.time >= slot.time {
                        *slot = r.clone();
                    }
                }
            }
            None => {
                at.insert(&r.asset, out.len());
                out.push(r.clone());
            }
        }
    }
    out
}
