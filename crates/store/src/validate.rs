//! The checks on what callers pass in, run on the caller's thread before a job is queued:
//! times, kinds, ids, names, windows and track reports. Each fails with
//! [`StoreError::Invalid`] naming the offending field. It imports only the error, the types
//! and one audit constant.

use crate::audit::LINK_KIND;
use crate::error::StoreError;
use crate::types::{valid_chain_name, Window, MAX_KIND_LEN, MAX_PARTY_NAME_LEN};
use deconflict_core::TrackReport;

/// `text` (field `what`) is the JSON text of an object: a filing's body, stored as sent to
/// the store (already compact) rather than re-encoded.
pub(crate) fn check_json_object(what: &str, text: &str) -> Result<(), StoreError> {
    if !text.trim_start().starts_with('{') {
        return Err(StoreError::Invalid(format!("{what} must be a JSON object")));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(format!("{what} is not JSON: {e}")))
}

pub(crate) fn check_volume_id(id: &str) -> Result<(), StoreError> {
    // The API's rule (`deconflict_core::text`), again at the storage layer.
    deconflict_core::text::check_id(id, 128).map_err(|e| StoreError::Invalid(format!("id: {e}")))
}

pub(crate) fn check_time(now: f64) -> Result<(), StoreError> {
    if now.is_finite() {
        Ok(())
    } else {
        Err(StoreError::Invalid("time must be a finite number".into()))
    }
}

/// `Invalid("{prefix}.{name}: must be a finite number")` for the first field that is not.
pub(crate) fn check_finite(prefix: &str, fields: &[(&str, f64)]) -> Result<(), StoreError> {
    match fields.iter().find(|(_, v)| !v.is_finite()) {
        Some((name, _)) => Err(StoreError::Invalid(format!(
            "{prefix}.{name}: must be a finite number"
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_window(field: &str, w: &Window) -> Result<(), StoreError> {
    let fields = [
        ("t_start", w.t_start),
        ("t_end", w.t_end),
        ("alt_lo", w.alt_lo),
        ("alt_hi", w.alt_hi),
        ("lat_lo", w.lat_lo),
        ("lat_hi", w.lat_hi),
        ("lng_lo", w.lng_lo),
        ("lng_hi", w.lng_hi),
    ];
    check_finite(field, &fields)?;
    let invalid = |msg: &str| Err(StoreError::Invalid(format!("{field}.{msg}")));
    if w.t_end < w.t_start {
        return invalid("t_end: must not be before t_start");
    }
    if w.alt_hi < w.alt_lo {
        return invalid("alt_hi: must not be below alt_lo");
    }
    for (name, v) in [("lat_lo", w.lat_lo), ("lat_hi", w.lat_hi)] {
        if !(-90.0..=90.0).contains(&v) {
            return invalid(&format!("{name}: must be within -90 to 90 degrees"));
        }
    }
    if w.lat_hi < w.lat_lo {
        return invalid("lat_hi: must not be below lat_lo");
    }
    for (name, v) in [("lng_lo", w.lng_lo), ("lng_hi", w.lng_hi)] {
        if !(-180.0..=180.0).contains(&v) {
            return invalid(&format!("{name}: must be within -180 to 180 degrees"));
        }
    }
    Ok(())
}

pub(crate) fn check_party_name(name: &str) -> Result<(), StoreError> {
    if valid_chain_name(name) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "party name must be 1 to {MAX_PARTY_NAME_LEN} characters of A-Z a-z 0-9 _ . -"
        )))
    }
}

pub(crate) fn check_report(i: usize, r: &TrackReport) -> Result<(), StoreError> {
    deconflict_core::text::check_id(&r.asset, deconflict_core::track::MAX_ASSET_ID_LEN)
        .map_err(|e| StoreError::Invalid(format!("reports[{i}].asset: {e}")))?;
    let fields = [
        ("time", r.time),
        ("lat", r.lat),
        ("lng", r.lng),
        ("alt_m", r.alt_m),
        ("gs_mps", r.gs_mps),
        ("track_deg", r.track_deg),
        ("vs_mps", r.vs_mps),
    ];
    check_finite(&format!("reports[{i}]"), &fields)?;
    Ok(())
}

/// A party's `member_of`: 1 to 256 bytes without control characters.
pub(crate) fn check_member_of(member_of: Option<&str>) -> Result<(), StoreError> {
    if let Some(m) = member_of {
        if m.is_empty() || m.len() > 256 || m.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "member_of must be 1 to 256 bytes without control characters".into(),
            ));
        }
    }
    Ok(())
}

/// The kind of an entry appended by [`StoreBackend::audit`](crate::StoreBackend::audit).
pub(crate) fn check_audit_kind(kind: &str) -> Result<(), StoreError> {
    if kind.is_empty() || kind.len() > MAX_KIND_LEN || kind.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "audit kind must be 1 to {MAX_KIND_LEN} bytes without control characters"
        )));
    }
    if kind == LINK_KIND {
        return Err(StoreError::Invalid(format!(
            "audit kind {LINK_KIND:?} is reserved for link_chains"
        )));
    }
    Ok(())
}
