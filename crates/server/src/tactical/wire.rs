//! The wire form of an [`AlertEvent`]: the JSON body stored, streamed and listed for a party.
//! Applied at the edge (the runtime, where alerts are handed to the store), never in the engine.
//!
//! The body's keys, their order and their rounding are part of the API (and of the audit
//! chain, which hashes the stored bytes): `conflict_id`, `event`, `level`, `level_name`,
//! `time`, `own_asset`, `intruder` (the state vector and `stale`), the geometry (`tin_s`,
//! `tout_s`, `tcpa_s`, `dcpa_m`, `los`, `hsep_m`, `vsep_m`; numbers to 1e-3, non-finite as
//! `null`) and, for the kinds that have one, `reason`; `advice` when the event has one.

use super::events::AlertEvent;
use deconflict_core::advice::Advice;
use deconflict_core::track::format_rfc3339;
use serde_json::{json, Value};

/// A number to 1e-3; `null` when not finite (an open-ended `tout`, say).
fn num(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

/// The advice's wire form: every key present (`null` when no value that way), numbers to
/// 1e-3, the preferred manoeuvre as `{"manoeuvre": …, "<its unit>": value}` or `null`.
fn advice_body(a: &Advice) -> Value {
    let opt = |x: Option<f64>| x.map_or(Value::Null, num);
    let preferred = match a.preferred {
        None => Value::Null,
        Some(m) => {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                for (k, x) in o.iter_mut() {
                    if k != "manoeuvre" {
                        *x = x.as_f64().map_or(Value::Null, num);
                    }
                }
            }
            v
        }
    };
    json!({
        "method": a.method,
        "track_left_deg": opt(a.track_left_deg),
        "track_right_deg": opt(a.track_right_deg),
        "gs_up_mps": opt(a.gs_up_mps),
        "gs_down_mps": opt(a.gs_down_mps),
        "vs_up_mps": opt(a.vs_up_mps),
        "vs_down_mps": opt(a.vs_down_mps),
        "preferred": preferred,
    })
}

impl AlertEvent {
    /// The JSON body of the alert.
    pub fn to_body(&self) -> Value {
        let mut intruder = serde_json::to_value(&self.intruder.state).unwrap_or(Value::Null);
        intruder["stale"] = json!(self.intruder.stale);
        let mut body = json!({
            "conflict_id": self.conflict_id,
            "event": self.kind.name(),
            "level": self.level as u8,
            "level_name": self.level.name(),
            "time": format_rfc3339(self.time),
            "own_asset": self.own_asset,
            "intruder": intruder,
        });
        let g = &self.geometry;
        body["tin_s"] = num(g.tin_s);
        body["tout_s"] = num(g.tout_s);
        body["tcpa_s"] = num(g.tcpa_s);
        body["dcpa_m"] = num(g.dcpa_m);
        body["los"] = json!(g.los);
        body["hsep_m"] = num(g.hsep_m);
        body["vsep_m"] = num(g.vsep_m);
        if let Some(r) = self.kind.reason() {
            body["reason"] = json!(r);
        }
        if let Some(a) = &self.advice {
            body["advice"] = advice_body(a);
        }
        body
    }
}
