//! # deconflict-core
//!
//! The sans-IO core of deconflict: it takes track states and separation standards and returns
//! conflicts. It never touches a socket, a clock or a disk, so it can be tested, benchmarked and
//! replayed deterministically.
//!
//! * [`geodesy`]: positions and velocities on a spherical Earth.
//! * [`class`], [`separation`]: asset classes and the separation table (TOML).
//! * [`track`]: the `TrackReport` wire form and its validation.
//! * [`cpa`]: the exact pairwise state-based test (`tcpa`, `dcpa`, entry and exit times).
//! * [`detector`]: the time-sliced spatial-hash broad phase over flat arrays, and brute force.
//! * [`episodes`]: conflict episodes with alerting hysteresis.
//! * [`synth`]: synthetic traffic for benchmarks.

pub mod class;
pub mod cpa;
pub mod detector;
pub mod episodes;
pub mod geodesy;
pub mod separation;
pub mod strategic;
pub mod synth;
pub mod track;

pub use class::AssetClass;
pub use cpa::{detect_pair, PairConflict};
pub use detector::{brute_force, BroadPhaseConfig, Conflict, Detector, ScanStats, Scene};
pub use episodes::{Episode, EpisodeTracker, LevelChange};
pub use separation::{AlertLevel, SeparationStandard, SeparationTable};
pub use track::{ReportError, TrackReport, TrackState};
