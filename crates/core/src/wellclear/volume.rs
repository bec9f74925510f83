//! The DO-365 well-clear volume (WCV) with modified tau, and its loss interval in closed form.
//!
//! With `s` the horizontal relative position, `v` the relative velocity, `r = |s|`:
//! * modified tau: `tau_mod = (DTHR² − r²)/(s·v)` while closing (`s·v < 0`);
//! * horizontal well clear is violated when `r ≤ DTHR`, or when `dcpa ≤ DTHR` (the HMD filter)
//!   and `0 ≤ tau_mod ≤ TTHR`;
//! * vertical well clear is violated when `|dz| ≤ ZTHR` (TCOA = 0);
//! * well clear is violated when both are.
//!
//! The comparisons are inclusive (a pair exactly at `DTHR` or `ZTHR` is inside the volume).
//! Vertically the threshold carries a margin of [`ZTHR_ROUNDING_M`] (1 µm): altitudes come in
//! feet, and `10450 ft − 10000 ft` converted to metres is 450 ft plus or minus the last bit
//! about a third of the time, so without it a pair exactly at ZTHR would be inside or outside
//! by chance. Horizontally there is no margin: positions come from latitudes and longitudes
//! and are never exact, and a margin there would turn a tangent pass into a loss of
//! `√(2·DTHR·margin)/|v|` seconds.
//!
//! ## The loss interval in closed form
//! Along straight lines, write `τ = t − tcpa` and `h = √(DTHR² − dcpa²)/|v|` (when
//! `dcpa ≤ DTHR`). Then `r² = dcpa² + |v|²τ²` and `s·v = |v|²τ`, and while closing (`τ < 0`,
//! `r > DTHR`) the condition `tau_mod ≤ TTHR` is `r² − DTHR² ≤ −TTHR·(s·v)`, that is
//! `τ² + TTHR·τ − h² ≤ 0`, whose smaller root is `τ₁ = −(TTHR/2 + √(TTHR²/4 + h²))`. The
//! quadratic is ≤ 0 on `[τ₁, 0]` (it is `−h² ≤ 0` at `τ = 0`), and that stretch covers the
//! entry into the disc (`τ = −h`), so the horizontal violation is the single interval
//! `[tcpa + τ₁, tcpa + h]`; with `TTHR = 0` it is the disc's `[tcpa − h, tcpa + h]`. The
//! vertical violation is `[(−ZTHR − dz)/dvz, (ZTHR − dz)/dvz]` (sorted), or all time or never
//! when `dvz = 0`. The loss interval is their intersection within `[0, lookahead]`.
//!
//! Degenerate cases are decided by comparisons, never by dividing by a tiny number: a relative
//! horizontal speed with `|v|² ≤` [`VREL2_EPS`] is zero (inside the disc for all time or never),
//! and `dvz = 0` is tested exactly. No NaN arises from finite inputs.

use crate::cpa::{Relative, VREL2_EPS};
use crate::geodesy::{add, cross, dot, scale};

/// Margin added to ZTHR, metres (module docs): far below any altimeter's resolution, far above
/// the rounding of altitudes converted from feet (about 1e-12 m).
pub const ZTHR_ROUNDING_M: f64 = 1e-6;

/// The thresholds of one well-clear volume (TCOA is 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WcvThresholds {
    /// Horizontal distance threshold DTHR (also the HMD filter), metres.
    pub dthr_m: f64,
    /// Vertical distance threshold ZTHR, metres.
    pub zthr_m: f64,
    /// Modified-tau threshold TTHR, seconds.
    pub tthr_s: f64,
}

/// The interval over which a pair violates a well-clear volume, within `[0, lookahead]`:
/// `0 ≤ tin_s ≤ tout_s ≤ lookahead`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossInterval {
    /// Seconds until well clear is lost (0 when it already is).
    pub tin_s: f64,
    /// Seconds until well clear is regained, or the lookahead when it is not regained within it.
    pub tout_s: f64,
}

/// Seconds to the horizontal closest point of approach (0 when the relative speed is zero).
#[inline]
pub fn tcpa(rel: &Relative) -> f64 {
    if rel.vrel2 <= VREL2_EPS {
        0.0
    } else {
        -dot(rel.d, rel.v) / rel.vrel2
    }
}

/// Horizontal distance at the closest point of approach, metres (the current distance when the
/// relative speed is zero).
#[inline]
pub fn dcpa(rel: &Relative) -> f64 {
    dcpa2(rel).sqrt()
}

#[inline(always)]
fn dcpa2(rel: &Relative) -> f64 {
    if rel.vrel2 <= VREL2_EPS {
        rel.dist2
    } else {
        let c = cross(rel.d, rel.v);
        dot(c, c) / rel.vrel2
    }
}

/// Modified tau `(DTHR² − r²)/(s·v)`, seconds, while the pair is closing horizontally
/// (`s·v < 0`); `None` otherwise.
#[inline]
pub fn tau_mod(rel: &Relative, dthr_m: f64) -> Option<f64> {
    let sv = dot(rel.d, rel.v);
    (sv < 0.0 && rel.vrel2 > VREL2_EPS).then(|| (dthr_m * dthr_m - rel.dist2) / sv)
}

/// Whether horizontal well clear is violated now.
#[inline]
pub fn horizontal_violated(rel: &Relative, thr: &WcvThresholds) -> bool {
    let d2 = thr.dthr_m * thr.dthr_m;
    if rel.dist2 <= d2 {
        return true;
    }
    if rel.vrel2 <= VREL2_EPS {
        return false;
    }
    let sv = dot(rel.d, rel.v);
    if sv >= 0.0 {
        return false;
    }
    // dcpa ≤ DTHR, without dividing: |s × v|² ≤ DTHR²·|v|²
    let c = cross(rel.d, rel.v);
    if dot(c, c) > d2 * rel.vrel2 {
        return false;
    }
    // 0 ≤ tau_mod ≤ TTHR with s·v < 0 and r > DTHR: r² − DTHR² ≤ −TTHR·(s·v)
    rel.dist2 - d2 <= -thr.tthr_s * sv
}

/// Whether vertical well clear is violated now (`|dz| ≤ ZTHR`; TCOA = 0).
#[inline]
pub fn vertical_violated(rel: &Relative, thr: &WcvThresholds) -> bool {
    rel.dalt.abs() <= thr.zthr_m + ZTHR_ROUNDING_M
}

/// Whether well clear is violated now.
#[inline]
pub fn wcv_violated(rel: &Relative, thr: &WcvThresholds) -> bool {
    vertical_violated(rel, thr) && horizontal_violated(rel, thr)
}

/// The relative geometry `t_s` seconds ahead, both aircraft flying straight in the pair's
/// plane (the model the loss interval assumes).
pub fn relative_at(rel: &Relative, t_s: f64) -> Relative {
    let d = add(rel.d, scale(rel.v, t_s));
    Relative {
        d,
        v: rel.v,
        dist2: dot(d, d),
        vrel2: rel.vrel2,
        dalt: rel.dalt + rel.dvs * t_s,
        dvs: rel.dvs,
    }
}

/// The times (over all time, possibly infinite) at which horizontal well clear is violated, in
/// closed form (module docs); `None` when never.
#[inline]
pub fn horizontal_interval(rel: &Relative, thr: &WcvThresholds) -> Option<(f64, f64)> {
    let d2 = thr.dthr_m * thr.dthr_m;
    if rel.vrel2 <= VREL2_EPS {
        return (rel.dist2 <= d2).then_some((f64::NEG_INFINITY, f64::INFINITY));
    }
    let dc2 = dcpa2(rel);
    if dc2 > d2 {
        return None;
    }
    let tc = -dot(rel.d, rel.v) / rel.vrel2;
    let h2 = (d2 - dc2) / rel.vrel2;
    let half_t = 0.5 * thr.tthr_s;
    let tin = tc - (half_t + (half_t * half_t + h2).sqrt());
    let tout = tc + h2.sqrt();
    Some((tin, tout))
}

/// The times (over all time, possibly infinite) at which vertical well clear is violated;
/// `None` when never.
#[inline]
pub fn vertical_interval(rel: &Relative, thr: &WcvThresholds) -> Option<(f64, f64)> {
    let z = thr.zthr_m + ZTHR_ROUNDING_M;
    if rel.dvs == 0.0 {
        return (rel.dalt.abs() <= z).then_some((f64::NEG_INFINITY, f64::INFINITY));
    }
    let t1 = (-z - rel.dalt) / rel.dvs;
    let t2 = (z - rel.dalt) / rel.dvs;
    Some(if t1 <= t2 { (t1, t2) } else { (t2, t1) })
}

/// The interval within `[0, lookahead_s]` over which well clear is violated, in closed form;
/// `None` when it is not violated within the lookahead.
#[inline]
pub fn loss_interval(rel: &Relative, thr: &WcvThresholds, lookahead_s: f64) -> Option<LossInterval> {
    let (vin, vout) = vertical_interval(rel, thr)?;
    if vout < 0.0 || vin > lookahead_s {
        return None;
    }
    let (hin, hout) = horizontal_interval(rel, thr)?;
    let tin = hin.max(vin).max(0.0);
    let tout = hout.min(vout).min(lookahead_s);
    (tin <= tout).then_some(LossInterval {
        tin_s: tin,
        tout_s: tout,
    })
}
