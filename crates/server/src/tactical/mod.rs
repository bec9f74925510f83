//! The tactical side of the service: every party's live tracks in one scene, scanned for losses of
//! separation, and alerts to **both** parties of a conflict when its level changes.
//!
//! Sans-IO like the core: [`Engine`] takes reports and the current time and returns typed
//! [`AlertEvent`]s; it reads no clock, draws no randomness and knows neither JSON nor the store.
//! The runtime turns the events into alert bodies ([`AlertEvent::to_body`]), stores them
//! durably and only then streams them.
//! * [`coalesce`]: at most `max_alerts_per_scan` events per party per scan, the most urgent,
//!   and a summary of the rest;
//! * [`advise`]: coordinated resolution advice for each side's own aircraft, after
//!   coalescing, within a per-scan budget shared fairly between parties;
//! * [`engine`]: the scene, the scan, each pair's alert level ([`level`]: the core's hysteresis for a
//!   cylinder, DAIDALUS's M-of-N on 1 Hz samples for DO-365),
//!   and the events of a tick;
//! * [`events`]: the typed events ([`AlertEvent`], [`EventKind`]);
//! * [`wire`]: their JSON bodies, exactly as stored and streamed;
//! * [`ids`]: node origins, which node speaks for a pair, and conflict ids ([`ConflictIds`]);
//! * [`views`]: what a party may see (own tracks in full; of others, the state vector only).

pub mod advise;
pub mod coalesce;
pub mod engine;
pub mod events;
pub mod ids;
pub mod level;
pub mod views;
pub mod wire;

#[cfg(test)]
mod tests;

pub use advise::{advise, AdviceBudget, Advised};
pub use coalesce::{coalesce, Suppressed};
pub use engine::{Engine, Staleness};
pub use events::{AlertEvent, ClearReason, EventKind, Geometry, Intruder};
pub use ids::{ConflictIds, OpaqueId, Origin, Speaks, LOCAL, UNKNOWN};
pub use views::{IntruderView, OwnTrack, StateVector};
