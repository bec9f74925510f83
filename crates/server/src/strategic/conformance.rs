//! Tracks meet volumes: a live track outside its party's *activated* intents is flagged to its
//! owner (conformance); a live track inside a constraint that binds its party raises an alert to
//! both the track's owner and the constraint's owner (intrusion). Each on a change only.
//!
//! Pure: the runtime hands in the live tracks (extrapolated to `now`), the strategic picture
//! and the time; this module keeps each track's last status and returns the alerts.

use super::Strategic;
use crate::tactical::StateVector;
use deconflict_core::track::format_rfc3339;
use deconflict_core::TrackState;
use deconflict_store::{NewAlert, PartyId};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A live track against the filings: conforming to its party's activated intents (None when
/// the party has none), and the keys of the constraints binding it that it is inside.
pub type TrackVolumes = (Option<bool>, Vec<u64>);

/// The last status of every live track that has one, across checks.
#[derive(Debug, Default)]
pub struct Conformance {
    status: HashMap<(PartyId, String), TrackVolumes>,
    seen: HashSet<(PartyId, String)>,
}

impl Conformance {
    /// Whether no track holds a status (with no filings to check either, a check can be skipped).
    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// Checks one live track of `party` (named `name`) at `now` against the filings, pushing
    /// the alerts its change of status calls for.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &mut self,
        st: &Strategic,
        party: PartyId,
        name: &str,
        asset: &str,
        ts: &TrackState,
        now: f64,
        alerts: &mut Vec<NewAlert>,
    ) {
        let (lat, lng) = ts.lat_lng();
        let (conforming, inside) = st.check_point(party, name, lat, lng, ts.alt_m, now);
        let key = (party, asset.to_string());
        self.seen.insert(key.clone());
        let prev = self.status.get(&key).cloned().unwrap_or((None, Vec::new()));
        let time = format_rfc3339(now);
        if conforming == Some(false) && prev.0 != Some(false) {
            alerts.push(NewAlert {
                party,
                body: json!({"event": "nonconforming", "time": time,
                    "own_asset": asset, "reason": "outside your activated intents"}),
            });
        } else if prev.0 == Some(false) && conforming != Some(false) {
            alerts.push(NewAlert {
                party,
                body: json!({"event": "conforming", "time": time, "own_asset": asset}),
            });
        }
        let keys: Vec<u64> = inside.iter().map(|f| f.key).collect();
        for f in inside.iter().filter(|f| !prev.1.contains(&f.key)) {
            let who = if f.disclose_name {
                f.party_name.clone()
            } else {
                "another party".into()
            };
            alerts.push(NewAlert {
                party,
                body: json!({"event": "constraint_intrusion", "time": time,
                    "own_asset": asset, "constraint_owner": who, "constraint_type": f.body.constraint_type()}),
            });
            alerts.push(NewAlert {
                party: f.party,
                body: json!({"event": "constraint_intrusion", "time": time,
                    "own_constraint": f.id,
                    "intruder": StateVector::of(ts, now)}),
            });
        }
        if conforming.is_some() || !keys.is_empty() || prev.0.is_some() || !prev.1.is_empty() {
            self.status.insert(key, (conforming, keys));
        }
    }

    /// Ends one round of checks: tracks not checked in it (dropped, or spoken for by another
    /// node) lose their status.
    pub fn finish(&mut self) {
        let seen = std::mem::take(&mut self.seen);
        self.status.retain(|k, _| seen.contains(k));
    }
}
