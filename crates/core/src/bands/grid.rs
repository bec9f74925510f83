//! The bands of one ownship: trial values on DAIDALUS's grid, their levels, recovery, the
//! ranges and the resolution.
//!
//! * **Grid**: each dimension is tried at the current value plus and minus whole steps
//!   (`step_hdir` 1°, `step_hs` 5 kt, `step_vs` 100 fpm, `step_alt` 100 ft) within its limits
//!   (and at the limits themselves); track at −180°…+180° of turn (`left_hdir`/`right_hdir`).
//! * **Ranges**: a run of grid values of one level is a band closed at its end values; the gap
//!   between two neighbouring values of different levels goes to the more severe one, with
//!   `none` < `recovery` < `preventive` < `corrective` < `warning`. This is how DAIDALUS's
//!   bands come out: its conflict-free ranges end at grid values and the conflicts fill the rest.
//!   A range is at least two grid values: a lone value below a band level between two at or
//!   above it takes that level (DAIDALUS's conflict-free sets are unions of intervals, and
//!   `[v, v]` is none); likewise recovery needs two neighbouring values that recover.
//! * **Recovery** (a dimension none of whose values is below the corrective region): the
//!   cylinder of `min_horizontal_recovery` × `min_vertical_recovery` (0.66 NM × 450 ft) is
//!   shrunk by `ca_factor` (10 %) per round, never below the NMAC cylinder (500 ft × 100 ft),
//!   until some value stays out of it over the whole lookahead. Among those, the earliest time
//!   after which some value is clear of the corrective volume is found by DAIDALUS's bisection
//!   (halving `[0, lookahead + 1]` until within 0.5 s), plus `recovery_stability_time` (3 s);
//!   the values clear of the corrective volume from then on are the recovery bands.
//! * **Resolution**: when the current value is in a conflict band (corrective or worse), the
//!   nearest free value (none, preventive or recovery) above and below, and the nearer of the
//!   two as preferred (ties: right, up).

use super::config::{Band, BandLevel, BandsConfig, Mode};
use super::trajectory::{
    any_loss, climb_phases, horizon_start, horizons, intruders, level, level_phased, trial, Dim, Intruder,
    Own, Trajectory,
};
use crate::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use crate::track::TrackReport;
use crate::wellclear::{wcv_violated, WcvThresholds};
use serde::Serialize;

/// A direction of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Turn left (decreasing track).
    Left,
    /// Turn right.
    Right,
    /// Increase.
    Up,
    /// Decrease.
    Down,
}

/// The nearest conflict-free value each way in each dimension (`None` when the current value
/// is not in a conflict band, or nothing is free that way), and the preferred way.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Resolution {
    /// Nearest free track turning left, degrees in [0, 360).
    pub track_left_deg: Option<f64>,
    /// Nearest free track turning right.
    pub track_right_deg: Option<f64>,
    /// The nearer of the two (ties: right).
    pub preferred_track: Option<Direction>,
    /// Nearest free ground speed above the current one, knots.
    pub gs_up_kt: Option<f64>,
    /// Nearest free ground speed below.
    pub gs_down_kt: Option<f64>,
    /// The nearer of the two (ties: up).
    pub preferred_gs: Option<Direction>,
    /// Nearest free vertical speed above, feet per minute.
    pub vs_up_fpm: Option<f64>,
    /// Nearest free vertical speed below.
    pub vs_down_fpm: Option<f64>,
    /// The nearer of the two (ties: up).
    pub preferred_vs: Option<Direction>,
    /// Nearest free altitude above, feet.
    pub alt_up_ft: Option<f64>,
    /// Nearest free altitude below.
    pub alt_down_ft: Option<f64>,
    /// The nearer of the two (ties: up).
    pub preferred_alt: Option<Direction>,
}

/// How a dimension recovered (DAIDALUS's "Recovery Information").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    /// Time to recovery, seconds.
    pub time_s: f64,
    /// The recovery cylinder's radius and half-height, metres.
    pub cylinder_m: (f64, f64),
    /// How many times the cylinder was shrunk.
    pub n_factor: u32,
}

/// The bands of one ownship at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    /// Track, degrees, covering [0, 360] in increasing order.
    pub track_deg: Vec<Band>,
    /// Ground speed, knots, covering the configured limits.
    pub gs_kt: Vec<Band>,
    /// Vertical speed, feet per minute.
    pub vs_fpm: Vec<Band>,
    /// Altitude, feet.
    pub alt_ft: Vec<Band>,
    /// Recovery of track, gs, vs, altitude, when computed.
    pub recovery: [Option<Recovery>; 4],
    /// The resolution.
    pub resolution: Resolution,
}

/// The trial values of one dimension, ascending, and the index of the current one.
struct Axis {
    values: Vec<f64>,
    /// for track: the signed turn to each value
    turns: Vec<f64>,
    current: usize,
}

fn linear_axis(current: f64, (min, max): (f64, f64), step: f64) -> Axis {
    let c = current.clamp(min, max);
    let mut down = Vec::new();
    let mut v = c - step;
    while v > min + 1e-9 {
        down.push(v);
        v -= step;
    }
    if c > min {
        down.push(min);
    }
    down.reverse();
    let current = down.len();
    down.push(c);
    let mut v = c + step;
    while v < max - 1e-9 {
        down.push(v);
        v += step;
    }
    if c < max {
        down.push(max);
    }
    let n = down.len();
    Axis {
        values: down,
        turns: vec![0.0; n],
        current,
    }
}

fn track_axis(current: f64, step: f64) -> Axis {
    let k = (180.0 / step).round() as i64;
    let turns: Vec<f64> = (-k..=k).map(|j| j as f64 * step).collect();
    Axis {
        values: turns.iter().map(|u| current + u).collect(),
        current: k as usize,
        turns,
    }
}

/// Builds the ranges of levels given at ascending grid `values` (module docs).
pub fn ranges(values: &[f64], levels: &[BandLevel]) -> Vec<Band> {
    let mut out: Vec<Band> = Vec::new();
    let mut push = |lo: f64, hi: f64, level: BandLevel| match out.last_mut() {
        Some(b) if b.level == level => b.hi = hi,
        _ => out.push(Band { lo, hi, level }),
    };
    for i in 0..values.len() {
        push(values[i], values[i], levels[i]);
        if i + 1 < values.len() {
            push(values[i], values[i + 1], levels[i].max(levels[i + 1]));
        }
    }
    // a free value between two gaps of the same conflict level is a band of its own ([v, v]);
    // merging by level above already keeps it
    out
}

/// Track ranges on the relative axis turned into absolute degrees covering [0, 360].
fn wrap_track(bands: Vec<Band>) -> Vec<Band> {
    let mut out: Vec<Band> = Vec::new();
    for b in bands {
        let shift = (b.lo / 360.0).floor() * 360.0;
        let (lo, hi) = (b.lo - shift, b.hi - shift);
        if hi > 360.0 + 1e-9 {
            out.push(Band {
                lo,
                hi: 360.0,
                level: b.level,
            });
            out.push(Band {
                lo: 0.0,
                hi: hi - 360.0,
                level: b.level,
            });
        } else {
            out.push(Band {
                lo,
                hi,
                level: b.level,
            });
        }
    }
    out.retain(|b| !(b.lo == b.hi && b.lo >= 360.0 - 1e-9));
    out.sort_by(|a, b| a.lo.total_cmp(&b.lo).then(a.hi.total_cmp(&b.hi)));
    let mut merged: Vec<Band> = Vec::new();
    for b in out {
        match merged.last_mut() {
            Some(m) if m.level == b.level && b.lo <= m.hi + 1e-9 => m.hi = m.hi.max(b.hi),
            _ => merged.push(b),
        }
    }
    merged
}

/// The level of `x` in `bands` (the first band holding it; `None` outside them all).
pub fn level_at(bands: &[Band], x: f64) -> Option<BandLevel> {
    bands
        .iter()
        .find(|b| b.lo - 1e-6 <= x && x <= b.hi + 1e-6)
        .map(|b| b.level)
}

/// The latest time, within the lookahead, at which `traj` is in `thr` against any intruder
/// (0 when never).
fn last_loss(traj: &Trajectory, intr: &[Intruder], thr: &WcvThresholds, end: f64) -> f64 {
    let mut last: f64 = 0.0;
    for i in intr {
        any_loss(traj, i, thr, end, |_, tout| {
            last = last.max(tout);
            false
        });
    }
    last
}

/// Recovery bands of one dimension (module docs): which values recover, and how.
fn recovery(trajs: &[Trajectory], intr: &[Intruder], cfg: &BandsConfig) -> Option<(Vec<bool>, Recovery)> {
    let t_end = cfg.profile.lookahead_s;
    let wcv = cfg.profile.levels[cfg.corrective].wcv;
    let last: Vec<f64> = trajs.iter().map(|t| last_loss(t, intr, &wcv, t_end)).collect();
    let (mut h, mut v) = cfg.recovery_m;
    let mut n = 0u32;
    loop {
        let cyl = WcvThresholds {
            dthr_m: h.max(cfg.nmac_m.0),
            zthr_m: v.max(cfg.nmac_m.1),
            tthr_s: 0.0,
        };
        let free: Vec<bool> = trajs
            .iter()
            .map(|t| !intr.iter().any(|i| any_loss(t, i, &cyl, t_end, |_, _| true)))
            .collect();
        // a range needs two neighbouring values (a lone one is no range, see `lone_values`):
        // the earliest time from which some two neighbours are both clear
        if let Some(tmin) = (1..free.len())
            .filter(|&i| free[i - 1] && free[i])
            .map(|i| last[i - 1].max(last[i]))
            .reduce(f64::min)
        {
            // DAIDALUS's bisection on the recovery time, emulated: `pivot` is green when some
            // value is clear of the corrective volume from `pivot` on, that is `pivot ≥ tmin`
            let (mut red, mut green) = (0.0, t_end + 1.0);
            let mut pivot = t_end;
            while green - red > 0.5 {
                if pivot >= tmin {
                    green = pivot;
                } else {
                    red = pivot;
                }
                pivot = 0.5 * (red + green);
            }
            let t_rec = (green + cfg.recovery_stability_s).min(t_end);
            let ok: Vec<bool> = free.iter().zip(&last).map(|(f, l)| *f && *l <= t_rec).collect();
            let ok = (0..ok.len())
                .map(|i| ok[i] && ((i > 0 && ok[i - 1]) || ok.get(i + 1).copied().unwrap_or(false)))
                .collect();
            return Some((
                ok,
                Recovery {
                    time_s: t_rec,
                    cylinder_m: (cyl.dthr_m, cyl.zthr_m),
                    n_factor: n,
                },
            ));
        }
        if h <= cfg.nmac_m.0 && v <= cfg.nmac_m.1 {
            return None;
        }
        h *= 1.0 - cfg.ca_factor;
        v *= 1.0 - cfg.ca_factor;
        n += 1;
    }
}

/// Well clear already lost: the band region of the most severe level at or above the
/// corrective one whose volume the ownship is inside now, against any intruder.
fn lost_now(current: &Trajectory, intr: &[Intruder], cfg: &BandsConfig) -> Option<BandLevel> {
    let seg = current.first()?;
    cfg.profile.levels[cfg.corrective..]
        .iter()
        .rev()
        .find(|lt| intr.iter().any(|i| wcv_violated(&i.relative(seg), &lt.wcv)))
        .map(|lt| cfg.region_of(lt.level))
}

/// A value below some band level whose two neighbours on the grid are not is raised to that
/// level: DAIDALUS builds each region's conflict-free set from ranges of grid values, and a
/// range of one value, `[v, v]`, is empty there (its free sets are unions of intervals of
/// positive length). Each level is judged on the levels as graded, independently, the value
/// taking the most severe it is lone for.
fn lone_values(levels: &mut [BandLevel], cfg: &BandsConfig) {
    let graded = levels.to_vec();
    let n = graded.len();
    let mut thresholds: Vec<BandLevel> = cfg.region.iter().copied().filter(|l| !l.is_free()).collect();
    thresholds.sort();
    thresholds.dedup();
    for th in thresholds {
        let below = |i: usize| graded[i] < th;
        for (i, l) in levels.iter_mut().enumerate() {
            let alone = below(i) && !(i > 0 && below(i - 1)) && !(i + 1 < n && below(i + 1));
            if alone && *l < th {
                *l = th;
            }
        }
    }
}

/// One dimension: the levels of its grid (all of them at least `saturated`'s when well clear
/// is already lost), with recovery.
fn dimension(
    own: &Own,
    dim: Dim,
    axis: &Axis,
    (intr, hor, saturated): (&[Intruder], &[[f64; 3]], Option<BandLevel>),
    cfg: &BandsConfig,
    mode: Mode,
) -> (Vec<BandLevel>, Option<Recovery>) {
    let trajs: Vec<Trajectory> = axis
        .values
        .iter()
        .zip(&axis.turns)
        .map(|(&x, &u)| trial(own, dim, x, u, mode, cfg))
        .collect();
    let phases = |x: f64| match (dim, mode) {
        (Dim::Alt, Mode::Kinematic) => climb_phases(
            x * FT_TO_M - own.alt_m,
            own.vs_mps,
            cfg.vertical_rate_fpm * FPM_TO_MPS,
            cfg.vertical_accel_mps2,
        ),
        _ => None,
    };
    let mut levels: Vec<BandLevel> = trajs
        .iter()
        .zip(&axis.values)
        .map(|(t, &x)| {
            cfg.region_of(match phases(x) {
                Some(ph) => level_phased(t, ph, intr, hor, cfg),
                None => level(t, horizon_start(t, dim), intr, hor, cfg),
            })
        })
        .collect();
    if let Some(sat) = saturated {
        for l in levels.iter_mut().filter(|l| l.is_free()) {
            *l = sat;
        }
    }
    lone_values(&mut levels, cfg);
    let mut rec = None;
    if !levels.iter().any(|l| l.is_free()) {
        if let Some((ok, info)) = recovery(&trajs, intr, cfg) {
            for (l, ok) in levels.iter_mut().zip(ok) {
                if ok {
                    *l = BandLevel::Recovery;
                }
            }
            rec = Some(info);
        }
    }
    (levels, rec)
}

/// A free value and its distance from the current one.
type Free = Option<(f64, f64)>;

/// The nearest free value above and below the current one (`None`s when the current value
/// is free), as (down, up), with the distance each way.
fn nearest_free(axis: &Axis, levels: &[BandLevel]) -> (Free, Free) {
    let c = axis.current;
    if levels[c].is_free() {
        return (None, None);
    }
    let dist = |i: usize| {
        if axis.turns[i] != 0.0 {
            axis.turns[i].abs()
        } else {
            (axis.values[i] - axis.values[c]).abs()
        }
    };
    let up = (c + 1..levels.len())
        .find(|&i| levels[i].is_free())
        .map(|i| (axis.values[i], dist(i)));
    let down = (0..c)
        .rev()
        .find(|&i| levels[i].is_free())
        .map(|i| (axis.values[i], dist(i)));
    (down, up)
}

fn prefer(down: Free, up: Free, d: Direction, u: Direction) -> Option<Direction> {
    match (down, up) {
        (Some(a), Some(b)) => Some(if a.1 < b.1 { d } else { u }),
        (Some(_), None) => Some(d),
        (None, Some(_)) => Some(u),
        (None, None) => None,
    }
}

/// The bands of `own` against `traffic` (reports at the same instant; one with the ownship's
/// name is skipped) under `cfg`, flown as `mode`.
pub fn compute(own: &TrackReport, traffic: &[&TrackReport], cfg: &BandsConfig, mode: Mode) -> Bands {
    compute_dims(own, traffic, cfg, mode, &ALL_DIMS)
}

/// Every dimension, in the order of [`Bands`]' fields.
pub const ALL_DIMS: [Dim; 4] = [Dim::Track, Dim::Gs, Dim::Vs, Dim::Alt];

/// [`compute`] for the dimensions in `dims` only: each of the others has no bands (an empty
/// list), no recovery and no resolution. The dimensions are computed independently, so those
/// computed are exactly [`compute`]'s. The advice needs no altitude, which is by far the
/// costliest dimension kinematically (its level-offs are integrated and flown as up to
/// 180 chords each: some 99 % of a kinematic [`compute`]).
pub fn compute_dims(
    own: &TrackReport,
    traffic: &[&TrackReport],
    cfg: &BandsConfig,
    mode: Mode,
    dims: &[Dim],
) -> Bands {
    let intr = intruders(own, traffic);
    let o = Own::of(own);
    let current = trial(&o, Dim::Gs, o.gs_mps / KT_TO_MPS, 0.0, Mode::Instantaneous, cfg);
    let hor = horizons(&current, &intr, cfg);
    let saturated = lost_now(&current, &intr, cfg);
    let axes = [
        track_axis(o.track_deg, cfg.step[0]),
        linear_axis(o.gs_mps / KT_TO_MPS, cfg.gs_kt, cfg.step[1]),
        linear_axis(o.vs_mps / FPM_TO_MPS, cfg.vs_fpm, cfg.step[2]),
        linear_axis(o.alt_m / FT_TO_M, cfg.alt_ft, cfg.step[3]),
    ];
    let mut out: Vec<Vec<Band>> = Vec::with_capacity(4);
    let mut recovery = [None; 4];
    let mut res = Resolution::default();
    for (k, (axis, dim)) in axes.iter().zip(ALL_DIMS).enumerate() {
        if !dims.contains(&dim) {
            out.push(Vec::new());
            continue;
        }
        let (levels, rec) = dimension(&o, dim, axis, (&intr, &hor, saturated), cfg, mode);
        recovery[k] = rec;
        let (down, up) = nearest_free(axis, &levels);
        let val = |x: Option<(f64, f64)>| x.map(|x| x.0);
        match dim {
            Dim::Track => {
                let abs = |x: Option<(f64, f64)>| x.map(|x| x.0.rem_euclid(360.0));
                res.track_left_deg = abs(down);
                res.track_right_deg = abs(up);
                res.preferred_track = prefer(down, up, Direction::Left, Direction::Right);
            }
            Dim::Gs => {
                (res.gs_down_kt, res.gs_up_kt) = (val(down), val(up));
                res.preferred_gs = prefer(down, up, Direction::Down, Direction::Up);
            }
            Dim::Vs => {
                (res.vs_down_fpm, res.vs_up_fpm) = (val(down), val(up));
                res.preferred_vs = prefer(down, up, Direction::Down, Direction::Up);
            }
            Dim::Alt => {
                (res.alt_down_ft, res.alt_up_ft) = (val(down), val(up));
                res.preferred_alt = prefer(down, up, Direction::Down, Direction::Up);
            }
        }
        let r = ranges(&axis.values, &levels);
        out.push(if dim == Dim::Track { wrap_track(r) } else { r });
    }
    let alt_ft = out.pop().unwrap_or_default();
    let vs_fpm = out.pop().unwrap_or_default();
    let gs_kt = out.pop().unwrap_or_default();
    let track_deg = out.pop().unwrap_or_default();
    Bands {
        track_deg,
        gs_kt,
        vs_fpm,
        alt_ft,
        recovery,
        resolution: res,
    }
}
