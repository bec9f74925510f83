//! The exact pairwise test: state-based closest point of approach.
//!
//! Both aircraft fly straight at constant velocity (the state-based assumption of BlueSky's
//! `StateBased` detector and of DAIDALUS). Their relative position and velocity are taken in
//! the plane tangent to the sphere at the pair's midpoint; the protected volume is a cylinder
//! of `radius_m` and `half_height_m` round one of them. Then
//!
//! * horizontally: `tcpa = -(d·v)/|v|²`, `dcpa = |d × v|/|v|`, and the pair is inside the
//!   radius during `tcpa ± sqrt(R² − dcpa²)/|v|` (for all time when `|v| = 0` and `|d| < R`);
//! * vertically: inside the half-height during `(±H − dalt)/dvs` (for all time when `dvs = 0`
//!   and `|dalt| < H`, never when `dvs = 0` and `|dalt| ≥ H`);
//! * a conflict is an overlap `tin < tout` of the two intervals with `tout > 0` and
//!   `tin < lookahead`, or a loss of separation now.
//!
//! Inequalities are strict: being exactly at the radius or the half-height is not a loss of
//! separation. The degenerate cases (zero relative speed, zero relative vertical rate,
//! co-altitude, `|dalt| = H`) are decided by comparisons, never by dividing by a tiny number,
//! so no NaN can appear for finite inputs.

use crate::geodesy::{add, cross, dot, scale, sub, Vec3, EARTH_RADIUS_M};
use crate::separation::{AlertLevel, SeparationStandard};
use crate::track::TrackState;

/// Squared relative horizontal speeds at or below this ((m/s)², i.e. 1 µm/s) count as zero:
/// the pair then moves at most 0.3 mm relative to each other over the default tables' longest
/// lookahead (300 s), and 1.2 mm over the longest a table accepts
/// ([`crate::separation::MAX_LOOKAHEAD_S`]).
pub const VREL2_EPS: f64 = 1e-12;

/// The result of a pair test that found a conflict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairConflict {
    /// Seconds until separation is lost (0 when it already is).
    pub tin_s: f64,
    /// Seconds until separation is regained; `+inf` when never (parallel, co-altitude).
    pub tout_s: f64,
    /// Seconds to the horizontal closest point of approach (negative when diverging).
    pub tcpa_s: f64,
    /// Horizontal distance at the closest point of approach, metres.
    pub dcpa_m: f64,
    /// Separation is lost now.
    pub los: bool,
    /// The DO-365 alert level, graded from `tin_s` by the standard's alerting times (a loss of
    /// separation now is always a warning; see [`SeparationStandard::level`]).
    pub level: AlertLevel,
    /// Current horizontal separation, metres.
    pub hsep_m: f64,
    /// Current vertical separation (absolute altitude difference), metres.
    pub vsep_m: f64,
}

/// Relative geometry of a pair, whether in conflict or not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relative {
    /// Relative position of b from a in the midpoint tangent plane (3D vector in that plane),
    /// metres.
    pub d: Vec3,
    /// Relative velocity of b from a, projected into the same plane, m/s.
    pub v: Vec3,
    /// `|d|²`: the squared current horizontal distance, m².
    pub dist2: f64,
    /// `|v|²`: the squared relative horizontal speed, (m/s)².
    pub vrel2: f64,
    /// Altitude of b minus altitude of a, metres.
    pub dalt: f64,
    /// Vertical speed of b minus that of a, m/s.
    pub dvs: f64,
}

/// Relative geometry of b seen from a, from each one's unit position vector, tangent ground
/// velocity (m/s), altitude (metres) and vertical speed (m/s). `None` when the pair is more than
/// 120° of arc (about 13,300 km) apart: never in conflict with the bounded radii and lookaheads
/// this crate accepts.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn relative(
    na: Vec3,
    va: Vec3,
    alt_a: f64,
    vs_a: f64,
    nb: Vec3,
    vb: Vec3,
    alt_b: f64,
    vs_b: f64,
) -> Option<Relative> {
    let s = add(na, nb);
    let s2 = dot(s, s);
    // |na + nb|² < 1  <=>  more than 120 degrees apart.
    if s2 < 1.0 {
        return None;
    }
    let m = scale(s, 1.0 / s2.sqrt());
    let d3 = scale(sub(nb, na), EARTH_RADIUS_M);
    let v3 = sub(vb, va);
    let dm = dot(d3, m);
    let vm = dot(v3, m);
    let d = sub(d3, scale(m, dm));
    let v = sub(v3, scale(m, vm));
    Some(Relative {
        d,
        v,
        dist2: dot(d, d),
        vrel2: dot(v, v),
        dalt: alt_b - alt_a,
        dvs: vs_b - vs_a,
    })
}

/// The state-based test on the raw components: the arguments of [`relative`], then the
/// standard for the pair. `None` when the pair is not in conflict. This is the cylinder only:
/// a standard with DO-365 alerting ([`SeparationStandard::do365`]) is tested by
/// [`crate::wellclear::pair::detect_raw`], which the detector calls for every pair.
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
    let rel = relative(na, va, alt_a, vs_a, nb, vb, alt_b, vs_b)?;
    detect_relative(&rel, std)
}

/// The state-based test on a relative geometry.
#[inline(always)]
pub fn detect_relative(rel: &Relative, std: &SeparationStandard) -> Option<PairConflict> {
    let r2 = std.radius_m * std.radius_m;
    let h = std.half_height_m;
    let Relative {
        d,
        v,
        dist2,
        vrel2,
        dalt,
        dvs,
    } = *rel;
    let los = dist2 < r2 && dalt.abs() < h;

    // Vertical interval first: it is the cheaper rejection.
    let (vin, vout) = if dvs == 0.0 {
        if dalt.abs() < h {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            // never inside vertically, and so not in separation loss now either
            return None;
        }
    } else {
        let t1 = (-h - dalt) / dvs;
        let t2 = (h - dalt) / dvs;
        if t1 < t2 {
            (t1, t2)
        } else {
            (t2, t1)
        }
    };

    let (tcpa, dcpa, hin, hout);
    if vrel2 <= VREL2_EPS {
        tcpa = 0.0;
        dcpa = dist2.sqrt();
        if dist2 < r2 {
            hin = f64::NEG_INFINITY;
            hout = f64::INFINITY;
        } else {
            hin = f64::INFINITY;
            hout = f64::NEG_INFINITY;
        }
    } else {
        tcpa = -dot(d, v) / vrel2;
        let c = cross(d, v);
        let dcpa2 = dot(c, c) / vrel2;
        dcpa = dcpa2.sqrt();
        if dcpa2 < r2 {
            let half = ((r2 - dcpa2) / vrel2).sqrt();
            hin = tcpa - half;
            hout = tcpa + half;
        } else {
            hin = f64::INFINITY;
            hout = f64::NEG_INFINITY;
        }
    }

    let tin = hin.max(vin);
    let tout = hout.min(vout);
    let predicted = tin < tout && tout > 0.0 && tin < std.lookahead_s;
    if !(predicted || los) {
        return None;
    }
    let tin_s = if los { 0.0 } else { tin.max(0.0) };
    let tout_s = if predicted { tout } else { tin_s };
    Some(PairConflict {
        tin_s,
        tout_s,
        tcpa_s: tcpa,
        dcpa_m: dcpa,
        los,
        level: std.level(tin_s, los),
        hsep_m: dist2.sqrt(),
        vsep_m: dalt.abs(),
    })
}

/// The state-based (cylinder) test between two track states; for any standard of a table,
/// DO-365 included, [`crate::wellclear::pair::detect_pair`].
#[inline]
pub fn detect_pair(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> Option<PairConflict> {
    detect_raw(a.n, a.v, a.alt_m, a.vs_mps, b.n, b.v, b.alt_m, b.vs_mps, std)
}

/// Current horizontal and vertical separation of two states (metres), used to follow an
/// encounter after it has been detected.
pub fn separation(a: &TrackState, b: &TrackState) -> (f64, f64) {
    (
        crate::geodesy::great_circle_m(a.n, b.n),
        (b.alt_m - a.alt_m).abs(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::AssetClass::FixedWing;
    use crate::geodesy::NM_TO_M;

    fn st(lat: f64, lng: f64, alt: f64, gs: f64, trk: f64, vs: f64) -> TrackState {
        TrackState::new(lat, lng, alt, gs, trk, vs, FixedWing)
    }

    fn std5() -> SeparationStandard {
        SeparationStandard::new(5.0 * NM_TO_M, 304.8, 300.0)
    }

    /// Latitude offset in degrees for a northward distance in metres.
    fn dlat(m: f64) -> f64 {
        m / EARTH_RADIUS_M * 180.0 / std::f64::consts::PI
    }

    #[test]
    fn head_on_at_same_altitude() {
        // 60 km apart, closing at 400 m/s: CPA in 150 s at 0 m; entry when 9260 m apart.
        let a = st(0.0, 0.0, 10_000.0, 200.0, 0.0, 0.0);
        let b = st(dlat(60_000.0), 0.0, 10_000.0, 200.0, 180.0, 0.0);
        let c = detect_pair(&a, &b, &std5()).unwrap();
        // (the midpoint-plane projection shortens 60 km by ~0.2 m: 1e-5 relative)
        assert!((c.tcpa_s - 150.0).abs() < 0.01, "{c:?}");
        assert!(c.dcpa_m < 1e-3);
        assert!((c.tin_s - (60_000.0 - 9260.0) / 400.0).abs() < 0.01, "{c:?}");
        assert!((c.tout_s - (60_000.0 + 9260.0) / 400.0).abs() < 0.01);
        assert!(!c.los);
        assert_eq!(c.level, AlertLevel::Preventive);
    }

    #[test]
    fn symmetric() {
        let a = st(35.0, 35.0, 3000.0, 150.0, 50.0, 5.0);
        let b = st(35.2, 35.3, 3500.0, 180.0, 235.0, -3.0);
        let ab = detect_pair(&a, &b, &std5()).unwrap();
        let ba = detect_pair(&b, &a, &std5()).unwrap();
        assert!((ab.tin_s - ba.tin_s).abs() < 1e-9);
        assert!((ab.tcpa_s - ba.tcpa_s).abs() < 1e-9);
        assert!((ab.dcpa_m - ba.dcpa_m).abs() < 1e-6);
    }

    #[test]
    fn parallel_same_speed_inside_is_unbounded_los() {
        let a = st(10.0, 10.0, 5000.0, 200.0, 90.0, 0.0);
        let b = st(10.0 + dlat(1000.0), 10.0, 5000.0, 200.0, 90.0, 0.0);
        let c = detect_pair(&a, &b, &std5()).unwrap();
        assert!(c.los);
        assert_eq!(c.tin_s, 0.0);
        assert!(c.tout_s.is_infinite());
        assert_eq!(c.tcpa_s, 0.0);
        assert!(c.tcpa_s.is_finite() && c.dcpa_m.is_finite());
        assert_eq!(c.level, AlertLevel::Warning);
    }

    #[test]
    fn parallel_same_speed_outside_is_clear() {
        let a = st(10.0, 10.0, 5000.0, 200.0, 90.0, 0.0);
        let b = st(10.0 + dlat(10_000.0), 10.0, 5000.0, 200.0, 90.0, 0.0);
        assert!(detect_pair(&a, &b, &std5()).is_none());
    }

    #[test]
    fn dalt_exactly_half_height_with_zero_vs_is_not_a_conflict() {
        // BlueSky reports this pair (its 1e-6 vertical-rate floor); it never loses separation.
        let a = st(0.0, 0.0, 3000.0, 200.0, 0.0, 0.0);
        let b = st(0.0, 0.0, 3000.0 + 304.8, 200.0, 180.0, 0.0);
        assert!(detect_pair(&a, &b, &std5()).is_none());
        let b = st(0.0, 0.0, 3000.0 + 304.79, 200.0, 180.0, 0.0);
        assert!(detect_pair(&a, &b, &std5()).unwrap().los);
    }

    #[test]
    fn vertical_entry_decides() {
        // Co-located horizontally, 1000 m apart vertically, closing at 10 m/s: enters after
        // (1000 - 304.8)/10 s.
        let a = st(0.0, 0.0, 3000.0, 100.0, 0.0, 5.0);
        let b = st(0.0, 0.0, 4000.0, 100.0, 0.0, -5.0);
        let c = detect_pair(&a, &b, &std5()).unwrap();
        assert!((c.tin_s - 69.52).abs() < 1e-6, "{c:?}");
        assert!((c.tout_s - 130.48).abs() < 1e-6, "{c:?}");
        assert_eq!(c.level, AlertLevel::Preventive);
    }

    #[test]
    fn diverging_pair_is_clear() {
        let a = st(0.0, 0.0, 3000.0, 200.0, 180.0, 0.0);
        let b = st(dlat(20_000.0), 0.0, 3000.0, 200.0, 0.0, 0.0);
        assert!(detect_pair(&a, &b, &std5()).is_none());
    }

    #[test]
    fn entry_beyond_lookahead_is_clear() {
        let a = st(0.0, 0.0, 3000.0, 100.0, 0.0, 0.0);
        let b = st(dlat(200_000.0), 0.0, 3000.0, 100.0, 180.0, 0.0);
        // closing at 200 m/s from 200 km: entry at (200000-9260)/200 = 953 s
        assert!(detect_pair(&a, &b, &std5()).is_none());
    }

    #[test]
    fn near_poles_and_antimeridian() {
        let a = st(89.99, 0.0, 3000.0, 100.0, 0.0, 0.0);
        let b = st(89.99, 180.0, 3000.0, 100.0, 0.0, 0.0);
        // 2.2 km apart across the pole, both flying north: towards each other through it
        let c = detect_pair(&a, &b, &std5()).unwrap();
        assert!(c.los && c.hsep_m > 2_000.0 && c.hsep_m < 2_300.0);
        let a = st(0.0, 179.95, 3000.0, 200.0, 90.0, 0.0);
        let b = st(0.0, -179.95, 3000.0, 200.0, 270.0, 0.0);
        let c = detect_pair(&a, &b, &std5()).unwrap();
        assert!((c.tcpa_s - 11_119.5 / 400.0).abs() < 0.05, "{c:?}");
    }

    #[test]
    fn no_nan_on_identical_states() {
        let a = st(0.0, 0.0, 3000.0, 0.0, 0.0, 0.0);
        let c = detect_pair(&a, &a, &std5()).unwrap();
        for x in [c.tin_s, c.tcpa_s, c.dcpa_m, c.hsep_m, c.vsep_m] {
            assert!(x.is_finite());
        }
    }
}
