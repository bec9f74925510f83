//! What the engine tells: one [`AlertEvent`] per side of each change of a conflict, typed.
//! The engine never builds JSON nor the store's types; the wire form of an event is
//! [`AlertEvent::to_body`] (in [`super::wire`]), applied where alerts are handed to the store.

use super::views::StateVector;
use deconflict_core::advice::Advice;
use deconflict_core::{AlertLevel, PairConflict, PartyId, TrackState};

/// One change of a conflict, as told to one of its two sides.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    /// The side told: the owner of [`AlertEvent::own_asset`].
    pub party: PartyId,
    /// The conflict's opaque id, the same for both sides and on every node.
    pub conflict_id: String,
    /// What happened to the conflict.
    pub kind: EventKind,
    /// The level reported after the change (level 0 when cleared).
    pub level: AlertLevel,
    /// When (Unix seconds): the time of the scan.
    pub time: f64,
    /// The side's own asset in the conflict.
    pub own_asset: String,
    /// What the side may see of the other aircraft.
    pub intruder: Intruder,
    /// The pair's geometry at the scan that found the change (for a clearance or a degraded
    /// picture: at the last scan that found the conflict).
    pub geometry: Geometry,
    /// The side's own aircraft at `time` (service-internal: the advice is computed from it).
    pub own_state: TrackState,
    /// Resolution advice for the side's own aircraft, coordinated with the other side's
    /// ([`super::advise`]); `None` for a clearance, or when the scan's advice budget ran out.
    pub advice: Option<Advice>,
}

/// The other aircraft of a conflict, as disclosed to one side: its state vector at the time of
/// the event, and whether its owner has gone quiet (the vector is then extrapolated).
#[derive(Debug, Clone, PartialEq)]
pub struct Intruder {
    /// Class and state vector: the allow-list of a disclosure.
    pub state: StateVector,
    /// No report for longer than the coasting time.
    pub stale: bool,
    /// The exact state behind [`Intruder::state`] (service-internal, never on the wire: the
    /// advice is computed from it).
    pub exact: TrackState,
}

/// The geometry of a pair (from [`PairConflict`], without its level).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Seconds until separation is lost (0 when it already is).
    pub tin_s: f64,
    /// Seconds until separation is regained; `+inf` when never.
    pub tout_s: f64,
    /// Seconds to the horizontal closest point of approach (negative when diverging).
    pub tcpa_s: f64,
    /// Horizontal distance at the closest point of approach, metres.
    pub dcpa_m: f64,
    /// Separation is lost now.
    pub los: bool,
    /// Current horizontal separation, metres.
    pub hsep_m: f64,
    /// Current vertical separation (absolute altitude difference), metres.
    pub vsep_m: f64,
}

impl From<&PairConflict> for Geometry {
    fn from(c: &PairConflict) -> Self {
        Geometry {
            tin_s: c.tin_s,
            tout_s: c.tout_s,
            tcpa_s: c.tcpa_s,
            dcpa_m: c.dcpa_m,
            los: c.los,
            hsep_m: c.hsep_m,
            vsep_m: c.vsep_m,
        }
    }
}

/// What happened to a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// First found at an alert level (≥ 1).
    New,
    /// Its level rose (told at once).
    Raised,
    /// Its level fell, and the lower level has lasted the hysteresis.
    Lowered,
    /// It is over.
    Cleared(ClearReason),
    /// One of its tracks went stale (coasting): the picture is degraded.
    Degraded,
}

/// Why a conflict was cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClearReason {
    /// The scans have not found it for the hysteresis.
    Separated,
    /// One of its tracks was dropped (no report for the drop time).
    TrackLost,
}

impl EventKind {
    /// The event's name on the wire (`event`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Raised => "raised",
            EventKind::Lowered => "lowered",
            EventKind::Cleared(_) => "cleared",
            EventKind::Degraded => "degraded",
        }
    }

    /// The reason on the wire (`reason`), for the kinds that give one.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            EventKind::Cleared(ClearReason::Separated) => Some("separated"),
            EventKind::Cleared(ClearReason::TrackLost) => Some("track_lost"),
            EventKind::Degraded => Some("track_stale"),
            EventKind::New | EventKind::Raised | EventKind::Lowered => None,
        }
    }
}
