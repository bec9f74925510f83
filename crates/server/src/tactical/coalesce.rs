//! Alert coalescing: at most `cap` events per party per scan, the most urgent first, and one
//! summary of the rest. However many conflicts one party's aircraft make at once, what the
//! store writes and the streams carry in one scan is bounded by `cap` × parties, so an alert
//! storm cannot delay another party's alerts nor grow without bound in memory.
//!
//! Urgency: the level first (warning, corrective, preventive, none), then new and raised
//! conflicts before degraded pictures, lowered levels and clearances; among equals, the order
//! of the scan. The events kept stay in the scan's order.

use super::events::{AlertEvent, EventKind};
use deconflict_core::{AlertLevel, PartyId};
use std::collections::HashMap;

/// What was not itemised for one party in one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    /// The party whose events were cut.
    pub party: PartyId,
    /// Events left out.
    pub count: usize,
    /// Of those, how many had each level (index = level, 0 to 3).
    pub by_level: [usize; 4],
}

fn urgency(e: &AlertEvent) -> (AlertLevel, u8) {
    let kind = match e.kind {
        EventKind::New | EventKind::Raised => 3,
        EventKind::Degraded => 2,
        EventKind::Lowered => 1,
        EventKind::Cleared(_) => 0,
    };
    (e.level, kind)
}

/// Keeps at most `cap` of each party's events (the most urgent) in their order and says
/// what was left out. `cap` of 0 keeps everything.
pub fn coalesce(events: Vec<AlertEvent>, cap: usize) -> (Vec<AlertEvent>, Vec<Suppressed>) {
    if cap == 0 {
        return (events, Vec::new());
    }
    let mut per_party: HashMap<PartyId, Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        per_party.entry(e.party).or_default().push(i);
    }
    if per_party.values().all(|v| v.len() <= cap) {
        return (events, Vec::new());
    }
    let mut keep = vec![true; events.len()];
    let mut suppressed = Vec::new();
    for (party, mut idx) in per_party {
        if idx.len() <= cap {
            continue;
        }
        // Most urgent first; a stable sort keeps the scan's order among equals.
        idx.sort_by(|a, b| urgency(&events[*b]).cmp(&urgency(&events[*a])));
        let mut s = Suppressed {
            party,
            count: 0,
            by_level: [0; 4],
        };
        for &i in &idx[cap..] {
            keep[i] = false;
            s.count += 1;
            s.by_level[events[i].level as usize] += 1;
        }
        suppressed.push(s);
    }
    suppressed.sort_by_key(|s| s.party);
    let kept = events
        .into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e))
        .collect();
    (kept, suppressed)
}

impl Suppressed {
    /// The summary's wire body (`type: alert_summary`), stored and streamed like an alert.
    pub fn to_body(&self, time: f64) -> serde_json::Value {
        serde_json::json!({
            "type": "alert_summary",
            "time": deconflict_core::track::format_rfc3339(time),
            "suppressed": self.count,
            "by_level": {
                "none": self.by_level[0],
                "preventive": self.by_level[1],
                "corrective": self.by_level[2],
                "warning": self.by_level[3],
            },
            "note": "more conflict changes in this scan than max_alerts_per_scan; the most urgent were sent, the rest are counted here (GET /v1/tracks shows every live intruder)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tactical::events::{ClearReason, Geometry, Intruder};
    use crate::tactical::views::StateVector;

    fn ev(party: PartyId, n: usize, kind: EventKind, level: AlertLevel) -> AlertEvent {
        let here = deconflict_core::TrackState::new(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, Default::default());
        AlertEvent {
            party,
            conflict_id: format!("c-{n}"),
            kind,
            level,
            time: 0.0,
            own_asset: format!("A{n}"),
            intruder: Intruder {
                state: StateVector {
                    class: "uas_small".into(),
                    time: String::new(),
                    lat: 0.0,
                    lng: 0.0,
                    alt_m: 0.0,
                    gs_mps: 0.0,
                    track_deg: 0.0,
                    vs_mps: 0.0,
                },
                stale: false,
                exact: here,
            },
            geometry: Geometry {
                tin_s: 0.0,
                tout_s: 0.0,
                tcpa_s: 0.0,
                dcpa_m: 0.0,
                los: false,
                hsep_m: 0.0,
                vsep_m: 0.0,
            },
            own_state: here,
            advice: None,
        }
    }

    #[test]
    fn under_the_cap_nothing_changes() {
        let evs: Vec<_> = (0..5)
            .map(|n| ev(PartyId(1), n, EventKind::New, AlertLevel::Preventive))
            .collect();
        let (kept, cut) = coalesce(evs.clone(), 5);
        assert_eq!((kept, cut), (evs, vec![]));
    }

    #[test]
    fn a_storm_keeps_the_most_urgent_in_order_and_counts_the_rest() {
        let mut evs = Vec::new();
        // Party 1: 10 preventive, then one warning, then 3 clearances; party 2: one warning.
        for n in 0..10 {
            evs.push(ev(PartyId(1), n, EventKind::New, AlertLevel::Preventive));
        }
        evs.push(ev(PartyId(2), 100, EventKind::New, AlertLevel::Warning));
        evs.push(ev(PartyId(1), 10, EventKind::Raised, AlertLevel::Warning));
        for n in 11..14 {
            evs.push(ev(
                PartyId(1),
                n,
                EventKind::Cleared(ClearReason::Separated),
                AlertLevel::None,
            ));
        }
        let (kept, cut) = coalesce(evs, 4);
        let ids: Vec<&str> = kept.iter().map(|e| e.conflict_id.as_str()).collect();
        // The warning and the first three preventive of party 1, in scan order; party 2 whole.
        assert_eq!(ids, ["c-0", "c-1", "c-2", "c-100", "c-10"]);
        assert_eq!(
            cut,
            vec![Suppressed {
                party: PartyId(1),
                count: 10,
                by_level: [3, 7, 0, 0]
            }]
        );
        let body = cut[0].to_body(0.0);
        assert_eq!(body["type"], "alert_summary");
        assert_eq!(body["suppressed"], 10);
        assert_eq!(body["by_level"]["preventive"], 7);
    }

    #[test]
    fn a_cap_of_zero_keeps_everything() {
        let evs: Vec<_> = (0..50)
            .map(|n| ev(PartyId(1), n, EventKind::New, AlertLevel::Warning))
            .collect();
        assert_eq!(coalesce(evs.clone(), 0).0, evs);
    }
}
