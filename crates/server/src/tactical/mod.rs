//! The tactical side of the service: every party's live tracks in one scene, scanned for losses of
//! separation, and alerts to **both** parties of a conflict when its level changes.
//!
//! Sans-IO like the core: [`Engine`] takes reports and the current time and returns alert
//! bodies; the runtime stores them durably and only then streams them.
//! * [`engine`]: the scene, the scan, each pair's alert level with hysteresis;
//! * [`views`]: what a party may see (own tracks in full; of others, the state vector only).

pub mod engine;
pub mod views;

pub use engine::{Engine, OpaqueId, Origin, Speaks, Staleness, LOCAL, UNKNOWN};
pub use views::{IntruderView, OwnTrack, StateVector};
