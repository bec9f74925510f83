//! DO-365 detect-and-avoid alerting as NASA's DAIDALUS does it: the well-clear volume with
//! modified tau, its loss interval in closed form, the per-level alert thresholds, and
//! DAIDALUS's alerting hysteresis (sans-IO: the caller passes `now`).
//!
//! This module owns:
//! * [`volume`]: the well-clear volume (WCV) of one level, `DTHR`, `ZTHR`, `TTHR` (TCOA = 0), the
//!   predicate "well clear is violated now", and the interval `[tin, tout]` over which it is
//!   violated when both aircraft fly straight, solved in closed form (no time stepping);
//! * [`alerting`]: the raw alert level of a pair (the highest level whose volume is entered
//!   before its alerting time) and [`alerting::MofNHysteresis`], DAIDALUS's M-of-N hysteresis
//!   with persistence and early alerting times;
//! * the built-in profiles below, [`Do365Profile::do365a`] and [`Do365Profile::do365b_noncoop`].
//!
//! Relative positions and velocities come from [`crate::cpa::relative`], the plane tangent to
//! the sphere at the pair's midpoint, so they agree with the cylinder test of the rest of core.
//!
//! ## Sources of the thresholds
//! * DO-365A (cooperative intruders): the `DWC_Phase_I` alerter of DAIDALUS v2.0.4's
//!   `DO_365A_no_SUM.conf` (copied in `../shared/data/daidalus/`): levels 1 preventive
//!   (0.66 NM, 700 ft, 35 s; alerting time 55 s, early 75 s), 2 corrective (0.66 NM, 450 ft,
//!   35 s; 55 s, early 75 s), 3 warning (0.66 NM, 450 ft, 35 s; 25 s, early 55 s); lookahead
//!   180 s. These are the DO-365A Phase I DAA well clear (DMOD = HMD = 4000 ft, h* = 450 ft,
//!   τ*mod = 35 s) and its alerting table.
//! * DO-365B non-cooperative intruders: the `DWC_Phase_II` alerter of the same file,
//!   DAIDALUS's second (non-cooperative) alerter: every level DTHR 1500 ft, ZTHR 450 ft,
//!   TTHR 0 s (no tau: a cylinder with the HMD filter), alerting time 45 s (early 75 s);
//!   lookahead 180 s. The DO-365B text itself was not available here (and the non-cooperative
//!   well clear remembered from it, 2200 ft / 450 ft, does not match this file), so these are
//!   DAIDALUS's numbers; a different table needs a new [`Do365Profile`] value.

pub mod alerting;
pub mod encounter;
pub mod pair;
pub mod volume;

pub use alerting::{raw_level, MofNConfig, MofNHysteresis};
pub use encounter::{EncounterAlerting, LevelRow};
pub use volume::{loss_interval, wcv_violated, LossInterval, WcvThresholds};

use crate::geodesy::{FT_TO_M, NM_TO_M};
use crate::level::AlertLevel;

/// The thresholds of one alert level: its well-clear volume and its alerting times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelThresholds {
    /// The level these thresholds raise.
    pub level: AlertLevel,
    /// The well-clear volume of this level.
    pub wcv: WcvThresholds,
    /// The level is raised when its volume is entered within this many seconds.
    pub alerting_time_s: f64,
    /// While the level is already held (with hysteresis), it stays raised as long as its
    /// volume is entered within this many seconds (≥ `alerting_time_s`).
    pub early_alerting_time_s: f64,
}

/// A DO-365 alerting profile: the three levels (preventive, corrective, warning) and the
/// lookahead over which loss intervals are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Do365Profile {
    /// Short name (`do365a`, `do365b_noncoop`).
    pub name: &'static str,
    /// Loss intervals are computed over `[0, lookahead_s]`, seconds.
    pub lookahead_s: f64,
    /// Levels 1, 2, 3 in this order.
    pub levels: [LevelThresholds; 3],
}

impl Do365Profile {
    /// DO-365A with cooperative intruders: DAIDALUS's `DO_365A_no_SUM.conf`, alerter
    /// `DWC_Phase_I` (see the module docs).
    pub fn do365a() -> Self {
        let level = |level, zthr_ft: f64, alert: f64, early: f64| LevelThresholds {
            level,
            wcv: WcvThresholds {
                dthr_m: 0.66 * NM_TO_M,
                zthr_m: zthr_ft * FT_TO_M,
                tthr_s: 35.0,
            },
            alerting_time_s: alert,
            early_alerting_time_s: early,
        };
        Do365Profile {
            name: "do365a",
            lookahead_s: 180.0,
            levels: [
                level(AlertLevel::Preventive, 700.0, 55.0, 75.0),
                level(AlertLevel::Corrective, 450.0, 55.0, 75.0),
                level(AlertLevel::Warning, 450.0, 25.0, 55.0),
            ],
        }
    }

    /// DO-365B with non-cooperative intruders: the `DWC_Phase_II` alerter of the same file
    /// (DTHR 1500 ft, ZTHR 450 ft, no tau; 45 s, early 75 s; see the module docs).
    pub fn do365b_noncoop() -> Self {
        let level = |level| LevelThresholds {
            level,
            wcv: WcvThresholds {
                dthr_m: 1500.0 * FT_TO_M,
                zthr_m: 450.0 * FT_TO_M,
                tthr_s: 0.0,
            },
            alerting_time_s: 45.0,
            early_alerting_time_s: 75.0,
        };
        Do365Profile {
            name: "do365b_noncoop",
            lookahead_s: 180.0,
            levels: [
                level(AlertLevel::Preventive),
                level(AlertLevel::Corrective),
                level(AlertLevel::Warning),
            ],
        }
    }

    /// A built-in profile by name (`do365a`, `do365b_noncoop`).
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "do365a" => Some(Self::do365a()),
            "do365b_noncoop" | "do365b" => Some(Self::do365b_noncoop()),
            _ => None,
        }
    }

    /// Largest DTHR of any level, metres (what a broad phase must reserve horizontally).
    pub fn max_dthr_m(&self) -> f64 {
        self.levels.iter().map(|l| l.wcv.dthr_m).fold(0.0, f64::max)
    }

    /// Largest ZTHR of any level, metres.
    pub fn max_zthr_m(&self) -> f64 {
        self.levels.iter().map(|l| l.wcv.zthr_m).fold(0.0, f64::max)
    }

    /// Largest TTHR of any level, seconds.
    pub fn max_tthr_s(&self) -> f64 {
        self.levels.iter().map(|l| l.wcv.tthr_s).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests;
