//! DAIDALUS-style bands (DO-365): for an ownship and its traffic at one instant, the ranges
//! of track, ground speed, vertical speed and altitude, each tagged with the level flying
//! that value would lead to, and a resolution (sans-IO, pure).
//!
//! A trial value's level is graded with the well-clear machinery of [`crate::wellclear`]: the
//! highest level whose volume is entered, against any intruder, before its alerting time
//! (counted from the end of a kinematic turn, speed or vertical-speed change, the manoeuvre
//! itself kept clear), as the alerting grades the current trajectory, then shown as that
//! level's band region
//! (DO-365A shows a preventive alert as `none`: `DWC_Phase_I_alert_1_region = NONE`). When
//! no value of a dimension is free, recovery bands replace the values that regain well clear
//! soonest while keeping out of a shrinking cylinder.
//!
//! This module owns:
//! * [`config`]: [`BandsConfig`] (DAIDALUS's `DO_365A_no_SUM.conf`, keys named), the band
//!   levels and [`Band`];
//! * [`trajectory`]: trial trajectories, instantaneous and kinematic (turn 3°/s, 2 m/s²,
//!   0.25 g, 500 fpm to an altitude), as straight segments whose loss intervals are solved in
//!   closed form;
//! * [`grid`]: DAIDALUS's grid of trial values, the ranges, recovery and the [`Resolution`];
//!   [`compute`] is the entry point;
//! * [`hysteresis`]: [`BandsHysteresis`], the bands as DAIDALUS shows them over time (M of N
//!   on every boundary, persistence of the band the ownship is in).
//!
//! How the bands compare with DAIDALUS's own on the reference encounters, and where and why
//! they differ, is in `docs/do365.md`.

pub mod config;
pub mod grid;
pub mod hysteresis;
pub mod trajectory;

pub use config::{Band, BandLevel, BandsConfig, Mode};
pub use grid::{compute, compute_dims, level_at, Bands, Direction, Recovery, Resolution, ALL_DIMS};
pub use hysteresis::{BandsHysteresis, HysteresisConfig};
pub use trajectory::Dim;

#[cfg(test)]
mod tests;
