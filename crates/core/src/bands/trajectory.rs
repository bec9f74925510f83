//! Trial trajectories of the ownship and their conflicts with the traffic.
//!
//! Each intruder is seen in the plane tangent to the sphere at the pair's midpoint, exactly as
//! [`crate::cpa::relative`] sees it (so the current trajectory grades as the alerting does). The
//! ownship's manoeuvres are built in its own east/north axes and carried into that plane by a
//! 2×2 matrix (the two frames differ by a rotation of a fraction of a milliradian).
//!
//! A trajectory is a list of straight [`Segment`]s, the last one flown to the lookahead.
//! Instantaneous manoeuvres are one segment. Kinematic ones fly the manoeuvre as chords of
//! at most [`CHORD_S`] seconds whose ends lie exactly on the manoeuvre (an arc of the turn
//! rate, a parabola of the acceleration), then straight: a turn of 3°/s at 250 kt leaves the
//! arc by under a metre between chord ends. Each segment's loss interval is solved in closed
//! form ([`crate::wellclear::loss_interval`]), with the chord's velocity standing for the
//! (turning) velocity in modified tau: the approximation of the kinematic bands.
//!
//! A trial's level counts each intruder's horizon ([`horizons`]) from the end of a kinematic
//! turn, speed or vertical-speed change ([`horizon_start`]): the manoeuvre must stay clear,
//! and the flight it leaves is graded over the alerting time, as the current one is. A
//! kinematic climb or descent is graded by phases ([`level_phased`]).

use super::config::{BandsConfig, Mode};
use crate::cpa::{Relative, VREL2_EPS};
use crate::geodesy::{
    cross, dot, east_north, scale, sub, Vec3, EARTH_RADIUS_M, FPM_TO_MPS, FT_TO_M, KT_TO_MPS,
};
use crate::level::AlertLevel;
use crate::track::{TrackReport, TrackState};
use crate::wellclear::alerting::TIME_ROUNDING_S;
use crate::wellclear::{loss_interval, WcvThresholds};

/// Longest chord of a kinematic manoeuvre, seconds.
pub const CHORD_S: f64 = 1.0;

/// The ownship's current state in its own east/north axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Own {
    /// Track, degrees.
    pub track_deg: f64,
    /// Ground speed, m/s.
    pub gs_mps: f64,
    /// Vertical speed, m/s.
    pub vs_mps: f64,
    /// Altitude, metres.
    pub alt_m: f64,
}

impl Own {
    /// From a report.
    pub fn of(r: &TrackReport) -> Own {
        Own {
            track_deg: r.track_deg,
            gs_mps: r.gs_mps,
            vs_mps: r.vs_mps,
            alt_m: r.alt_m,
        }
    }
}

/// One intruder relative to the ownship's current position, in the pair's plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intruder {
    d: [f64; 2],
    v: [f64; 2],
    dalt: f64,
    vs: f64,
    /// ownship east/north components → plane components
    m: [[f64; 2]; 2],
}

/// The intruders of `traffic` as seen from `own` (those more than 120° of arc away, which
/// [`crate::cpa::relative`] also drops, and those with the ownship's name are left out).
pub fn intruders(own: &TrackReport, traffic: &[&TrackReport]) -> Vec<Intruder> {
    let o = own.state();
    let (e, n) = east_north(own.lat, own.lng);
    let mut out = Vec::with_capacity(traffic.len());
    for t in traffic {
        if t.asset == own.asset {
            continue;
        }
        let s = t.state();
        let Some((ep, np)) = plane(&o, &s, e) else {
            continue;
        };
        let d3 = scale(sub(s.n, o.n), EARTH_RADIUS_M);
        out.push(Intruder {
            d: [dot(d3, ep), dot(d3, np)],
            v: [dot(s.v, ep), dot(s.v, np)],
            dalt: s.alt_m - o.alt_m,
            vs: s.vs_mps,
            m: [[dot(e, ep), dot(n, ep)], [dot(e, np), dot(n, np)]],
        });
    }
    out
}

/// The axes of the plane tangent to the sphere at the midpoint of `o` and `s` ([`intruders`]),
/// the first along `e` (the ownship's east) projected; `None` more than 120° of arc apart.
fn plane(o: &TrackState, s: &TrackState, e: Vec3) -> Option<(Vec3, Vec3)> {
    let sum = [o.n[0] + s.n[0], o.n[1] + s.n[1], o.n[2] + s.n[2]];
    let s2 = dot(sum, sum);
    if s2 < 1.0 {
        return None;
    }
    let mid = scale(sum, 1.0 / s2.sqrt());
    let ep = sub(e, scale(mid, dot(e, mid)));
    let ep = scale(ep, 1.0 / dot(ep, ep).sqrt());
    Some((ep, cross(mid, ep)))
}

/// The loss intervals of `thr` within `[0, end_s]` when `own` flies `own_traj` and `other`
/// flies `other_traj` at once (each trajectory in its own aircraft's east/north axes, as
/// [`trial`] makes them), seen in the plane of [`intruders`]: in time order, touching ones
/// merged. Empty when the two are more than 120° of arc apart. With `other_traj` straight on,
/// these are the intervals [`any_loss`] finds against `other` as an [`Intruder`].
pub fn joint_losses(
    (own, own_traj): (&TrackReport, &[Segment]),
    (other, other_traj): (&TrackReport, &[Segment]),
    thr: &WcvThresholds,
    end_s: f64,
) -> Vec<(f64, f64)> {
    let (o, s) = (own.state(), other.state());
    let (e, n) = east_north(own.lat, own.lng);
    let Some((ep, np)) = plane(&o, &s, e) else {
        return Vec::new();
    };
    let (e2, n2) = east_north(other.lat, other.lng);
    let rot = |e: Vec3, n: Vec3| [[dot(e, ep), dot(n, ep)], [dot(e, np), dot(n, np)]];
    let (ma, mb) = (rot(e, n), rot(e2, n2));
    let d3 = scale(sub(s.n, o.n), EARTH_RADIUS_M);
    let d0 = [dot(d3, ep), dot(d3, np)];
    // position and velocity in the plane, altitude offset and vertical speed, at `t`
    let at = |traj: &[Segment], m: &[[f64; 2]; 2], t: f64| {
        let seg = traj.iter().rev().find(|g| g.t0 <= t).or(traj.first())?;
        let dt = t - seg.t0;
        let p = [seg.p[0] + seg.w[0] * dt, seg.p[1] + seg.w[1] * dt];
        let mul = |x: [f64; 2]| [m[0][0] * x[0] + m[0][1] * x[1], m[1][0] * x[0] + m[1][1] * x[1]];
        Some((mul(p), mul(seg.w), seg.z + seg.vz * dt, seg.vz))
    };
    let mut cuts: Vec<f64> = own_traj.iter().chain(other_traj).map(|g| g.t0).collect();
    cuts.push(0.0);
    cuts.retain(|&t| (0.0..end_s).contains(&t));
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    cuts.push(end_s);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for w in cuts.windows(2) {
        let (t0, t1) = (w[0], w[1]);
        let (Some((pa, wa, za, vza)), Some((pb, wb, zb, vzb))) =
            (at(own_traj, &ma, t0), at(other_traj, &mb, t0))
        else {
            continue;
        };
        let d = [d0[0] + pb[0] - pa[0], d0[1] + pb[1] - pa[1], 0.0];
        let v = [wb[0] - wa[0], wb[1] - wa[1], 0.0];
        let vrel2 = dot(v, v);
        let rel = Relative {
            d,
            v,
            dist2: dot(d, d),
            vrel2: if vrel2 <= VREL2_EPS { 0.0 } else { vrel2 },
            dalt: s.alt_m - o.alt_m + zb - za,
            dvs: vzb - vza,
        };
        let Some(li) = loss_interval(&rel, thr, t1 - t0).filter(|li| li.tin_s < li.tout_s) else {
            continue;
        };
        let (tin, tout) = (t0 + li.tin_s, t0 + li.tout_s);
        match out.last_mut() {
            Some(last) if tin <= last.1 => last.1 = tout,
            _ => out.push((tin, tout)),
        }
    }
    out
}

/// A straight piece of the ownship's trajectory from `t0`: its offset from the current
/// position (east/north metres), velocity (east/north m/s), altitude offset and vertical
/// speed at `t0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start, seconds from now.
    pub t0: f64,
    /// Horizontal offset at `t0`, east/north metres.
    pub p: [f64; 2],
    /// Ground velocity, east/north m/s.
    pub w: [f64; 2],
    /// Altitude offset at `t0`, metres.
    pub z: f64,
    /// Vertical speed, m/s.
    pub vz: f64,
}

/// A trial trajectory: segments in time order, the first at 0, the last flown to the end.
pub type Trajectory = Vec<Segment>;

fn en(track_deg: f64, gs: f64) -> [f64; 2] {
    let (s, c) = track_deg.to_radians().sin_cos();
    [gs * s, gs * c]
}

impl Intruder {
    /// The relative geometry `t0` seconds ahead against a segment.
    #[inline]
    pub fn relative(&self, s: &Segment) -> Relative {
        let m = &self.m;
        let mp = [
            m[0][0] * s.p[0] + m[0][1] * s.p[1],
            m[1][0] * s.p[0] + m[1][1] * s.p[1],
        ];
        let mw = [
            m[0][0] * s.w[0] + m[0][1] * s.w[1],
            m[1][0] * s.w[0] + m[1][1] * s.w[1],
        ];
        let d = [
            self.d[0] + self.v[0] * s.t0 - mp[0],
            self.d[1] + self.v[1] * s.t0 - mp[1],
            0.0,
        ];
        let v = [self.v[0] - mw[0], self.v[1] - mw[1], 0.0];
        let vrel2 = dot(v, v);
        Relative {
            d,
            v,
            dist2: dot(d, d),
            vrel2: if vrel2 <= VREL2_EPS { 0.0 } else { vrel2 },
            dalt: self.dalt + self.vs * s.t0 - s.z,
            dvs: self.vs - s.vz,
        }
    }
}

/// Loss intervals of `thr` along `traj` against `intr`, clipped to `[0, end_s]`, in global
/// seconds; calls `f(tin, tout)` for each non-degenerate one until it returns `true`; returns
/// whether it did.
pub fn any_loss(
    traj: &[Segment],
    intr: &Intruder,
    thr: &WcvThresholds,
    end_s: f64,
    mut f: impl FnMut(f64, f64) -> bool,
) -> bool {
    for (i, s) in traj.iter().enumerate() {
        if s.t0 >= end_s {
            break;
        }
        let t1 = traj.get(i + 1).map_or(end_s, |n| n.t0.min(end_s));
        if let Some(li) = loss_interval(&intr.relative(s), thr, t1 - s.t0) {
            if li.tin_s < li.tout_s && f(s.t0 + li.tin_s, s.t0 + li.tout_s) {
                return true;
            }
        }
    }
    false
}

/// The time horizon of each level's bands against each intruder (DAIDALUS's "conflict bands
/// aircraft"): an intruder whose current trajectory already raises a level (its volume entered
/// before the level's alerting time) is avoided over the whole lookahead at that level, so
/// that leaving the band resolves the conflict for good; any other intruder only over the
/// alerting time, as the alerting grades it. `current` is the ownship's current trajectory.
pub fn horizons(current: &[Segment], intruders: &[Intruder], cfg: &BandsConfig) -> Vec<[f64; 3]> {
    let p = &cfg.profile;
    intruders
        .iter()
        .map(|i| {
            let mut h = [0.0; 3];
            for (k, lt) in p.levels.iter().enumerate() {
                let limit = lt.alerting_time_s - TIME_ROUNDING_S;
                let now = any_loss(current, i, &lt.wcv, p.lookahead_s, |tin, _| tin < limit);
                h[k] = if now {
                    p.lookahead_s
                } else {
                    lt.alerting_time_s.min(p.lookahead_s)
                };
            }
            h
        })
        .collect()
}

/// When the horizons of [`level`] start on a trial trajectory of `dim`: at the end of the
/// manoeuvre (the start of the last, straight segment) for a turn, a speed change or a
/// vertical-speed change, so that the manoeuvre itself must stay clear and the flight it
/// leaves has the whole alerting time ahead of it, as the current trajectory has (DAIDALUS's
/// kinematic bands: conflict over `[tsk, tsk + T]` after a manoeuvre of `tsk`, loss of well
/// clear along the manoeuvre over the lookahead). Instantaneous trajectories have no
/// manoeuvre: 0. Altitude keeps 0: a kinematic climb is graded phase by phase
/// ([`level_phased`]); 0 is for the climbs [`climb_phases`] does not model.
pub fn horizon_start(traj: &[Segment], dim: Dim) -> f64 {
    match dim {
        Dim::Alt => 0.0,
        Dim::Track | Dim::Gs | Dim::Vs => traj.last().map_or(0.0, |s| s.t0),
    }
}

/// The alert level `traj` leads to: the highest level whose volume is entered, against any
/// intruder, before that intruder's horizon for the level ([`horizons`]) counted from
/// `from_s` ([`horizon_start`]), and within the lookahead.
pub fn level(
    traj: &[Segment],
    from_s: f64,
    intruders: &[Intruder],
    horizons: &[[f64; 3]],
    cfg: &BandsConfig,
) -> AlertLevel {
    let p = &cfg.profile;
    for (k, lt) in p.levels.iter().enumerate().rev() {
        let hit = intruders.iter().zip(horizons).any(|(i, h)| {
            let end = (from_s + h[k]).min(p.lookahead_s);
            let limit = end - TIME_ROUNDING_S;
            any_loss(traj, i, &lt.wcv, end, |tin, _| tin < limit)
        });
        if hit {
            return lt.level;
        }
    }
    AlertLevel::None
}

/// The phases of a kinematic climb or descent by `dz` metres from vertical speed `vs0`, as
/// [`level_off`] flies it: (end of the vertical acceleration, start of the level-off, level).
/// `None` when `vs0` points away from `dz` or exceeds `rate` (the ownship brakes first; no
/// reference encounter has it).
pub fn climb_phases(dz: f64, vs0: f64, rate: f64, accel: f64) -> Option<(f64, f64, f64)> {
    let (d, v0) = (dz.abs(), vs0 * dz.signum());
    if d <= 0.0 || v0 < 0.0 || v0 > rate || accel <= 0.0 {
        return None;
    }
    let (s1, s3) = (
        (rate * rate - v0 * v0) / (2.0 * accel),
        rate * rate / (2.0 * accel),
    );
    Some(if d >= s1 + s3 {
        let t1 = (rate - v0) / accel;
        let t2 = t1 + (d - s1 - s3) / rate;
        (t1, t2, t2 + rate / accel)
    } else {
        let vp = (accel * d + 0.5 * v0 * v0).sqrt();
        let t1 = (vp - v0) / accel;
        (t1, t1, t1 + vp / accel)
    })
}

/// [`level`] for a kinematic altitude trial whose climb has the phases `(t1, t2, t3)`
/// ([`climb_phases`]), graded as DAIDALUS grades it, phase by phase: the vertical
/// acceleration and the level-off (to a second after it) must stay out of the volume; the
/// straight climb is graded over the horizon from its start, `[t1, t1 + h]`, and no further
/// than the level-off; the level flight over the horizon from a second after the level-off.
/// So a long climb is not graded beyond the horizon, nor is the level flight after it
/// counted from now: a climb lasting longer than the horizon still has to reach its
/// altitude clear, and the flight there is judged as the current one is.
pub fn level_phased(
    traj: &[Segment],
    (t1, t2, t3): (f64, f64, f64),
    intruders: &[Intruder],
    horizons: &[[f64; 3]],
    cfg: &BandsConfig,
) -> AlertLevel {
    let p = &cfg.profile;
    let lookahead = p.lookahead_s;
    for (k, lt) in p.levels.iter().enumerate().rev() {
        let hit = intruders.iter().zip(horizons).any(|(i, h)| {
            let windows = [(0.0, (t1 + h[k]).min(t2)), (t2, t3 + 1.0 + h[k])];
            any_loss(traj, i, &lt.wcv, lookahead, |tin, tout| {
                windows.iter().any(|&(a, b)| {
                    let b = b.min(lookahead);
                    a < b && tin < b - TIME_ROUNDING_S && tout > a
                })
            })
        });
        if hit {
            return lt.level;
        }
    }
    AlertLevel::None
}

/// The dimensions a band is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Track, degrees.
    Track,
    /// Ground speed, knots.
    Gs,
    /// Vertical speed, feet per minute.
    Vs,
    /// Altitude, feet.
    Alt,
}

/// Chords from 0 to `tm` of a manoeuvre whose offset, altitude offset and velocity at time `t`
/// are `at(t)`, then the straight flight from `tm` with velocity `end`.
fn chords(tm: f64, at: impl Fn(f64) -> ([f64; 2], f64), end: ([f64; 2], f64)) -> Trajectory {
    let mut out = Vec::new();
    let mut t = 0.0;
    let (mut p, mut z) = at(0.0);
    while t < tm - 1e-9 {
        let t1 = (t + CHORD_S).min(tm);
        let (p1, z1) = at(t1);
        let dt = t1 - t;
        out.push(Segment {
            t0: t,
            p,
            w: [(p1[0] - p[0]) / dt, (p1[1] - p[1]) / dt],
            z,
            vz: (z1 - z) / dt,
        });
        t = t1;
        p = p1;
        z = z1;
    }
    out.push(Segment {
        t0: t,
        p,
        w: end.0,
        z,
        vz: end.1,
    });
    out
}

/// The trajectory to a trial `value` of `dim` (track degrees with `turn` the signed change in
/// degrees, positive to the right; knots; fpm; feet).
pub fn trial(own: &Own, dim: Dim, value: f64, turn: f64, mode: Mode, cfg: &BandsConfig) -> Trajectory {
    let w0 = en(own.track_deg, own.gs_mps);
    let straight = |w: [f64; 2], z: f64, vz: f64| {
        vec![Segment {
            t0: 0.0,
            p: [0.0, 0.0],
            w,
            z,
            vz,
        }]
    };
    match (dim, mode) {
        (Dim::Track, Mode::Instantaneous) => straight(en(value, own.gs_mps), 0.0, own.vs_mps),
        (Dim::Gs, Mode::Instantaneous) => straight(en(own.track_deg, value * KT_TO_MPS), 0.0, own.vs_mps),
        (Dim::Vs, Mode::Instantaneous) => straight(w0, 0.0, value * FPM_TO_MPS),
        (Dim::Alt, Mode::Instantaneous) => straight(w0, value * FT_TO_M - own.alt_m, 0.0),
        (Dim::Track, Mode::Kinematic) => {
            let omega = cfg.turn_rate_dps.to_radians() * turn.signum();
            let tm = turn.abs() / cfg.turn_rate_dps;
            let psi0 = own.track_deg.to_radians();
            let gs = own.gs_mps;
            let vs = own.vs_mps;
            chords(
                tm,
                |t| {
                    if omega == 0.0 {
                        return ([0.0, 0.0], vs * t);
                    }
                    let psi = psi0 + omega * t;
                    let k = gs / omega;
                    (
                        [k * (psi0.cos() - psi.cos()), k * (psi.sin() - psi0.sin())],
                        vs * t,
                    )
                },
                (en(value, gs), vs),
            )
        }
        (Dim::Gs, Mode::Kinematic) => {
            let target = value * KT_TO_MPS;
            let a = cfg.horizontal_accel_mps2 * (target - own.gs_mps).signum();
            let tm = if a == 0.0 { 0.0 } else { (target - own.gs_mps) / a };
            let u = en(own.track_deg, 1.0);
            let (gs0, vs) = (own.gs_mps, own.vs_mps);
            chords(
                tm,
                |t| {
                    let s = gs0 * t + 0.5 * a * t * t;
                    ([u[0] * s, u[1] * s], vs * t)
                },
                (en(own.track_deg, target), vs),
            )
        }
        (Dim::Vs, Mode::Kinematic) => {
            let target = value * FPM_TO_MPS;
            let a = cfg.vertical_accel_mps2 * (target - own.vs_mps).signum();
            let tm = if a == 0.0 { 0.0 } else { (target - own.vs_mps) / a };
            let vs0 = own.vs_mps;
            chords(
                tm,
                |t| ([w0[0] * t, w0[1] * t], vs0 * t + 0.5 * a * t * t),
                (w0, target),
            )
        }
        (Dim::Alt, Mode::Kinematic) => {
            let (tm, samples) = level_off(
                value * FT_TO_M - own.alt_m,
                own.vs_mps,
                cfg.vertical_rate_fpm * FPM_TO_MPS,
                cfg.vertical_accel_mps2,
                cfg.profile.lookahead_s,
            );
            let target = value * FT_TO_M - own.alt_m;
            chords(
                tm,
                |t| {
                    let z = sample(&samples, t).unwrap_or(target);
                    ([w0[0] * t, w0[1] * t], z)
                },
                (w0, 0.0),
            )
        }
    }
}

/// Integration step of [`level_off`], seconds.
const LEVEL_OFF_DT: f64 = 0.05;

/// The altitude offset (and vertical speed) of a climb or descent by `dz` metres from
/// vertical speed `vs0`: accelerate by `accel` towards the vertical `rate`, hold it, and
/// brake so as to level off at `dz` (the profile DAIDALUS's altitude bands fly). Returns the
/// time it levels off (at most `horizon`) and the offset and vertical speed every
/// [`LEVEL_OFF_DT`] seconds up to it.
pub fn level_off(dz: f64, vs0: f64, rate: f64, accel: f64, horizon: f64) -> (f64, Vec<(f64, f64)>) {
    let mut z = 0.0;
    let mut v = vs0;
    let mut t = 0.0;
    let mut out = vec![(z, v)];
    let dv = accel * LEVEL_OFF_DT;
    while t < horizon {
        let e = dz - z;
        if e.abs() < 0.01 && v.abs() <= dv {
            break;
        }
        let want = e.signum() * rate.min((2.0 * accel * e.abs()).sqrt());
        let v1 = if want > v {
            (v + dv).min(want)
        } else {
            (v - dv).max(want)
        };
        z += 0.5 * (v + v1) * LEVEL_OFF_DT;
        v = v1;
        t += LEVEL_OFF_DT;
        out.push((z, v));
    }
    if t < horizon {
        if let Some(last) = out.last_mut() {
            *last = (dz, 0.0);
        }
    }
    (t.min(horizon), out)
}

/// The offset at `t` from [`level_off`]'s samples (linear between them); `None` past them.
fn sample(s: &[(f64, f64)], t: f64) -> Option<f64> {
    let x = t / LEVEL_OFF_DT;
    let i = x.floor() as usize;
    if i + 1 >= s.len() {
        return if i < s.len() && (x - i as f64) < 1e-9 {
            Some(s[i].0)
        } else {
            None
        };
    }
    let f = x - i as f64;
    Some(s[i].0 + (s[i + 1].0 - s[i].0) * f)
}
