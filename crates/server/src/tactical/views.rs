//! What a party is shown of the tactical picture: its own tracks in full ([`OwnTrack`]), and of
//! another party's aircraft only the class and state vector a live conflict discloses
//! ([`StateVector`], [`IntruderView`]).

use deconflict_core::track::format_rfc3339;
use deconflict_core::TrackState;
use serde::Serialize;

/// A track as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnTrack {
    pub asset: String,
    pub class: String,
    pub time: String,
    pub lat: f64,
    pub lng: f64,
    pub alt_m: f64,
    pub gs_mps: f64,
    pub track_deg: f64,
    pub vs_mps: f64,
    /// No report for longer than the coasting time.
    pub coasting: bool,
}

/// Everything a disclosure may carry about another party's aircraft: class and state vector at
/// `time`. No id, callsign or history. Every disclosure (alerts, the picture, constraint
/// intrusions) is built from this one type, so the allow-list lives in one place.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StateVector {
    pub class: String,
    pub time: String,
    pub lat: f64,
    pub lng: f64,
    pub alt_m: f64,
    pub gs_mps: f64,
    pub track_deg: f64,
    pub vs_mps: f64,
}

impl StateVector {
    /// The vector of a state already extrapolated to `now`; positions to 1e-6 degrees, the
    /// rest to 1e-3.
    pub fn of(st: &TrackState, now: f64) -> Self {
        let (lat, lng) = st.lat_lng();
        let r = |x: f64, k: f64| (x * k).round() / k;
        StateVector {
            class: st.class.as_str().to_string(),
            time: format_rfc3339(now),
            lat: r(lat, 1e6),
            lng: r(lng, 1e6),
            alt_m: r(st.alt_m, 1e3),
            gs_mps: r(st.ground_speed(), 1e3),
            track_deg: r(st.track_deg(), 1e3),
            vs_mps: r(st.vs_mps, 1e3),
        }
    }
}

/// What another party may see of one of its aircraft while a conflict with one of your own
/// assets is live.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IntruderView {
    /// The conflict this disclosure belongs to.
    pub conflict_id: String,
    /// Your asset in that conflict.
    pub own_asset: String,
    #[serde(flatten)]
    pub state: StateVector,
    /// Its owner has not reported it for the coasting time: extrapolated.
    pub stale: bool,
}
