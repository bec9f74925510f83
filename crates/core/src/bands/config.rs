//! The bands' configuration (DAIDALUS's `DO_365A_no_SUM.conf`, hard-coded with the keys named)
//! and the types every other part of [`crate::bands`] shares.

use crate::level::AlertLevel;
use crate::wellclear::Do365Profile;
use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};

/// Standard gravity, m/s² (DAIDALUS's `[G]` unit).
pub const G_MPS2: f64 = 9.80665;

/// How a trial manoeuvre is flown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The ownship's track, speed or vertical speed changes at once to the trial value (and
    /// the altitude is reached at once, level); then straight.
    Instantaneous,
    /// The change is flown at the configured turn rate / accelerations (altitudes at the
    /// configured vertical rate), then straight.
    Kinematic,
}

/// What a range of a band leads to: DAIDALUS's band regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BandLevel {
    /// No alert (DAIDALUS `NONE`).
    None,
    /// DAIDALUS `RECOVERY`: no conflict-free value exists, and this one recovers well clear
    /// soonest while keeping out of the (shrunk) recovery cylinder.
    Recovery,
    /// A preventive alert (DAIDALUS `FAR`).
    Preventive,
    /// A corrective alert (DAIDALUS `MID`).
    Corrective,
    /// A warning (DAIDALUS `NEAR`).
    Warning,
}

impl BandLevel {
    /// `none`, `recovery`, `preventive`, `corrective`, `warning`.
    pub fn name(self) -> &'static str {
        match self {
            BandLevel::None => "none",
            BandLevel::Recovery => "recovery",
            BandLevel::Preventive => "preventive",
            BandLevel::Corrective => "corrective",
            BandLevel::Warning => "warning",
        }
    }

    /// The inverse of [`BandLevel::name`]; also DAIDALUS's region names (`NONE`, `FAR`, `MID`,
    /// `NEAR`, `RECOVERY`).
    pub fn parse(s: &str) -> Option<BandLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" => BandLevel::None,
            "recovery" => BandLevel::Recovery,
            "preventive" | "far" => BandLevel::Preventive,
            "corrective" | "mid" => BandLevel::Corrective,
            "warning" | "near" => BandLevel::Warning,
            _ => return None,
        })
    }

    /// The band region an alert level maps to without any region table (0 → none, …).
    pub fn of_alert(level: AlertLevel) -> BandLevel {
        match level {
            AlertLevel::None => BandLevel::None,
            AlertLevel::Preventive => BandLevel::Preventive,
            AlertLevel::Corrective => BandLevel::Corrective,
            AlertLevel::Warning => BandLevel::Warning,
        }
    }

    /// A value the pilot may fly: not a conflict band (`none`, `preventive` or `recovery`).
    pub fn is_free(self) -> bool {
        matches!(
            self,
            BandLevel::None | BandLevel::Preventive | BandLevel::Recovery
        )
    }
}

impl Serialize for BandLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One range of a dimension, `[lo, hi]` in the dimension's unit, and what it leads to.
/// Serialised as `[lo, hi, "level"]`. Neighbouring bands share their boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// What a value of the range leads to.
    pub level: BandLevel,
}

impl Serialize for Band {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let round = |x: f64| (x * 1e6).round() / 1e6;
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&round(self.lo))?;
        t.serialize_element(&round(self.hi))?;
        t.serialize_element(&self.level)?;
        t.end()
    }
}

/// Everything the bands depend on. [`BandsConfig::do365a`] is DAIDALUS's
/// `DO_365A_no_SUM.conf`; each field names its key.
#[derive(Debug, Clone, PartialEq)]
pub struct BandsConfig {
    /// The alerting levels (volumes and alerting times), alerter `DWC_Phase_I`, and
    /// `lookahead_time` (180 s).
    pub profile: Do365Profile,
    /// The band region each level (1, 2, 3) is shown as: `DWC_Phase_I_alert_N_region`
    /// (`NONE`, `MID`, `NEAR`: a preventive alert is *not* a band in DO-365A).
    pub region: [BandLevel; 3],
    /// Index (0-based) into `profile.levels` of the corrective level: `corrective_region = MID`.
    /// Values below it are free; its volume is the one recovery must regain.
    pub corrective: usize,
    /// `min_hs`, `max_hs`, knots.
    pub gs_kt: (f64, f64),
    /// `min_vs`, `max_vs`, feet per minute.
    pub vs_fpm: (f64, f64),
    /// `min_alt`, `max_alt`, feet.
    pub alt_ft: (f64, f64),
    /// `step_hdir` (°), `step_hs` (kt), `step_vs` (fpm), `step_alt` (ft).
    pub step: [f64; 4],
    /// `turn_rate`, degrees per second.
    pub turn_rate_dps: f64,
    /// `horizontal_accel`, m/s².
    pub horizontal_accel_mps2: f64,
    /// `vertical_accel` (0.25 G), m/s².
    pub vertical_accel_mps2: f64,
    /// `vertical_rate` of altitude manoeuvres, feet per minute.
    pub vertical_rate_fpm: f64,
    /// `min_horizontal_recovery` (nmi) and `min_vertical_recovery` (ft), as metres.
    pub recovery_m: (f64, f64),
    /// `horizontal_nmac` (500 ft) and `vertical_nmac` (100 ft), as metres: the recovery
    /// cylinder is never shrunk below them.
    pub nmac_m: (f64, f64),
    /// `ca_factor`: each recovery round shrinks the cylinder by this fraction.
    pub ca_factor: f64,
    /// `recovery_stability_time`, seconds, added to the earliest recovery time.
    pub recovery_stability_s: f64,
}

impl BandsConfig {
    /// DAIDALUS v2.0.4's `DO_365A_no_SUM.conf` (see the field docs for the keys).
    pub fn do365a() -> Self {
        use crate::geodesy::{FT_TO_M, NM_TO_M};
        BandsConfig {
            profile: Do365Profile::do365a(),
            region: [BandLevel::None, BandLevel::Corrective, BandLevel::Warning],
            corrective: 1,
            gs_kt: (10.0, 700.0),
            vs_fpm: (-6000.0, 6000.0),
            alt_ft: (100.0, 50000.0),
            step: [1.0, 5.0, 100.0, 100.0],
            turn_rate_dps: 3.0,
            horizontal_accel_mps2: 2.0,
            vertical_accel_mps2: 0.25 * G_MPS2,
            vertical_rate_fpm: 500.0,
            recovery_m: (0.66 * NM_TO_M, 450.0 * FT_TO_M),
            nmac_m: (500.0 * FT_TO_M, 100.0 * FT_TO_M),
            ca_factor: 0.1,
            recovery_stability_s: 3.0,
        }
    }

    /// The band region of an alert level.
    pub fn region_of(&self, level: AlertLevel) -> BandLevel {
        match level {
            AlertLevel::None => BandLevel::None,
            l => self.region[l as usize - 1],
        }
    }
}

impl Default for BandsConfig {
    fn default() -> Self {
        Self::do365a()
    }
}
