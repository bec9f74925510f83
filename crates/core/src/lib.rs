#![warn(missing_docs)]

//! # deconflict-core
//!
//! The sans-IO core of deconflict: it takes track states and separation standards and returns
//! conflicts. It never touches a socket, a clock or a disk, so it can be tested, benchmarked and
//! replayed deterministically.
//!
//! * [`geodesy`]: positions and velocities on a spherical Earth.
//! * [`class`], [`separation`]: asset classes and the separation table (TOML); [`level`]:
//!   the DO-365 alert levels.
//! * [`track`]: the `TrackReport` wire form and its validation, and the `TrackState` the
//!   detector works on.
//! * [`cpa`]: the exact pairwise state-based test (`tcpa`, `dcpa`, entry and exit times
//!   `tin`/`tout`).
//! * [`scene`]: one instant's track states in flat arrays, and the exact test of a pair of them.
//! * [`detector`]: the broad phase over flat arrays (swept boxes per time slice, binned per
//!   cube face into Morton-ordered buckets), and brute force.
//! * [`hysteresis`]: one pair's alert level across scans (raise at once, lower or clear only
//!   after `hysteresis_s`), shared by the episodes and the service's tactical engine.
//! * [`episodes`]: conflict episodes with alerting hysteresis.
//! * [`daa`]: DAIDALUS encounter files (`.daa`).
//! * [`input`]: reading track reports from a file's bytes (JSON Lines, `traffic` arrays, `.daa`).
//! * [`party`]: the number of a party (operator) tracks, alerts and filings belong to.
//! * [`strategic`]: strategic deconfliction of ASTM F3548 `Volume4D`s: parsing, the exact 4D
//!   overlap, and an H3 index.
//! * [`synth`]: synthetic traffic for benchmarks and tests.
//! * [`wellclear`]: DO-365 alerting as DAIDALUS does it: the well-clear volume with modified
//!   tau, its loss interval in closed form, alert levels and M-of-N hysteresis.

pub mod advice;
pub mod bands;
pub mod class;
pub mod cpa;
pub mod daa;
pub mod detector;
pub mod episodes;
pub mod geodesy;
pub mod hysteresis;
pub mod input;
pub mod level;
pub mod party;
pub mod scene;
pub mod separation;
pub mod strategic;
pub mod synth;
pub mod text;
pub mod track;
pub mod wellclear;

pub use class::AssetClass;
pub use cpa::{detect_pair, PairConflict};
pub use detector::{brute_force, BroadPhaseConfig, Conflict, Detector, ScanStats, Scene};
pub use episodes::{Episode, EpisodeTracker};
pub use hysteresis::{LevelChange, LevelHysteresis};
pub use party::PartyId;
pub use separation::{AlertLevel, SeparationStandard, SeparationTable};
pub use track::{ReportError, TrackReport, TrackState};
