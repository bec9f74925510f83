//! The exact pair test of the detector for any standard of the separation table: the cylinder
//! of [`crate::cpa`], or DO-365 alerting when the pair's standard says `alerting = "do365a"`
//! (or `"do365b"`). The detector and the scene call [`detect_raw`] here.

use super::alerting::raw_level;
use super::volume::{dcpa, loss_interval, tcpa, wcv_violated};
use super::Do365Profile;
use crate::cpa::{self, PairConflict, Relative};
use crate::geodesy::Vec3;
use crate::level::AlertLevel;
use crate::separation::SeparationStandard;

/// The pair test on the raw components (the arguments of [`cpa::relative`], then the pair's
/// standard). `None` when the pair is not in conflict.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn detect_raw(
    na: Vec3,
    va: Vec3,
    alt_a: f64,
    vs_a: f64,
    nb: Vec3,
    vb: Vec3,
    alt_b: f64,
    vs_b: f64,
    std: &SeparationStandard,
) -> Option<PairConflict> {
    match &std.do365 {
        None => cpa::detect_raw(na, va, alt_a, vs_a, nb, vb, alt_b, vs_b, std),
        Some(p) => detect_do365(&cpa::relative(na, va, alt_a, vs_a, nb, vb, alt_b, vs_b)?, p),
    }
}

/// DO-365 alerting of one pair as a conflict of the detector: found when it raises an alert
/// (raw level ≥ 1: some level's volume is entered before its alerting time; no hysteresis, the
/// caller's runs over scans). A volume entered later within the lookahead is no conflict, as
/// DAIDALUS gives it level 0. `tin_s`/`tout_s` are those of the largest volume lost (level 1's
/// in DO-365A, which holds the others), and `los` is well clear lost now in the most severe
/// level's volume (DO-365A's 450 ft DAA well clear).
pub fn detect_do365(rel: &Relative, profile: &Do365Profile) -> Option<PairConflict> {
    detect_do365_held(rel, profile, AlertLevel::None)
}

/// [`detect_do365`] for a pair whose hysteresis holds level `held`: the early alerting times
/// apply up to that level ([`raw_level`]). The service's engine grades its live DO-365 pairs
/// with it; `None` when the raw level is 0.
pub fn detect_do365_held(rel: &Relative, profile: &Do365Profile, held: AlertLevel) -> Option<PairConflict> {
    let level = raw_level(rel, profile, held);
    if level == AlertLevel::None {
        return None;
    }
    let (tin_s, tout_s) = profile.levels.iter().find_map(|l| {
        loss_interval(rel, &l.wcv, profile.lookahead_s)
            .filter(|li| li.tin_s < li.tout_s)
            .map(|li| (li.tin_s, li.tout_s))
    })?;
    Some(PairConflict {
        tin_s,
        tout_s,
        tcpa_s: tcpa(rel),
        dcpa_m: dcpa(rel),
        los: wcv_violated(rel, &profile.levels[2].wcv),
        level,
        hsep_m: rel.dist2.sqrt(),
        vsep_m: rel.dalt.abs(),
    })
}

/// [`detect_raw`] between two track states.
#[inline]
pub fn detect_pair(
    a: &crate::track::TrackState,
    b: &crate::track::TrackState,
    std: &SeparationStandard,
) -> Option<PairConflict> {
    detect_raw(a.n, a.v, a.alt_m, a.vs_mps, b.n, b.v, b.alt_m, b.vs_mps, std)
}
