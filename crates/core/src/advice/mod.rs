//! Resolution advice for the two aircraft of a conflict, computed together so that the two
//! never work against each other, and told to each side for its own aircraft only.
//!
//! * **DO-365 pairs** (any pair with a UAS, [`crate::wellclear`]): each side's instantaneous
//!   [`crate::bands`] against the other aircraft give the nearest conflict-free track left and
//!   right, ground speed up and down and vertical speed up and down ([`bands_advice`]).
//! * **Cylinder pairs** (manned against manned): Modified Voltage Potential ([`mvp`]): the miss
//!   vector at the closest point of approach is pushed out to the protected radius (and the
//!   vertical miss to the half-height), each aircraft taking half of the change, in opposite
//!   directions.
//!
//! **Coordination** ([`coordinate`]) picks each side's preferred manoeuvre from its options:
//! * vertical senses are opposite and never crossing: the aircraft that is higher at the closest
//!   point of approach may only be told to climb, the other to descend (a side whose sense is
//!   not free gets no vertical preference rather than the crossing one);
//! * the two are never both told to turn towards the other (towards: to the side the other
//!   aircraft is on); among the allowed pairs of turns the least total turn wins, ties going
//!   to both turning right, as the rules of the air have it;
//! * speed changes are of opposite senses (both speeding up to pass first undo each other);
//!   without such a pair only the side with the smaller change is told;
//! * of a side's turn, speed change and vertical change, the preferred is the quickest to fly
//!   with DAIDALUS's kinematic defaults (3°/s, 2 m/s², 0.25 g).
//!
//! The computation is symmetric: `coordinated(b, a, …)` is `coordinated(a, b, …)` swapped (the
//! two are always taken in one fixed order, so ties break alike), so the two sides may be
//! advised from one call or from two. Two states at one altitude and
//! level at the closest point of approach have no vertical order: neither gets a vertical
//! preference.
//!
//! [`coordinated`] flies the manoeuvres instantaneously, as the instantaneous bands do.
//! [`coordinated_kinematic`] (same arguments, symmetric too) takes DO-365 pairs' options from
//! the kinematic bands and flies the two preferred manoeuvres together kinematically before
//! giving them, so that neither undoes the other (`kinematic.rs` has why, and what it costs).

mod kinematic;
mod mvp;
#[cfg(test)]
mod tests;

pub use kinematic::coordinated_kinematic;
pub use mvp::mvp;

use crate::bands::{compute_dims, BandsConfig, Dim, Direction, Mode, Recovery, Resolution};
use crate::geodesy::{cross, dot, sub, FPM_TO_MPS, KT_TO_MPS};
use crate::separation::SeparationStandard;
use crate::track::{TrackReport, TrackState};
use serde::Serialize;

/// How an advice was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// DO-365 instantaneous bands against the other aircraft.
    Bands,
    /// DO-365 kinematic bands against the other aircraft (3°/s, 2 m/s², 0.25 g), the two
    /// sides' manoeuvres checked flown together ([`coordinated_kinematic`]).
    KinematicBands,
    /// Modified Voltage Potential on the cylinder.
    Mvp,
}

/// One manoeuvre, with the value to fly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "manoeuvre", rename_all = "snake_case")]
pub enum Manoeuvre {
    /// Turn left onto a track.
    TurnLeft {
        /// Degrees in [0, 360).
        track_deg: f64,
    },
    /// Turn right onto a track.
    TurnRight {
        /// Degrees in [0, 360).
        track_deg: f64,
    },
    /// Speed up to a ground speed.
    SpeedUp {
        /// m/s.
        gs_mps: f64,
    },
    /// Slow down to a ground speed.
    SlowDown {
        /// m/s.
        gs_mps: f64,
    },
    /// Raise the vertical speed to a value (a climb, or a shallower descent).
    VsUp {
        /// m/s, positive climbing.
        vs_mps: f64,
    },
    /// Lower the vertical speed to a value (a descent, or a shallower climb).
    VsDown {
        /// m/s, positive climbing.
        vs_mps: f64,
    },
}

/// The advice for one aircraft: the nearest conflict-free value each way in each dimension
/// (`None` when flying on needs no change in it, or nothing is free that way) and the
/// manoeuvre preferred, coordinated with the other side's. All `None` means: no manoeuvre is
/// needed now (a preventive alert, or a conflict being resolved).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Advice {
    /// How it was found.
    pub method: Method,
    /// Nearest conflict-free track turning left, degrees in [0, 360).
    pub track_left_deg: Option<f64>,
    /// Nearest conflict-free track turning right.
    pub track_right_deg: Option<f64>,
    /// Nearest conflict-free ground speed above the current one, m/s.
    pub gs_up_mps: Option<f64>,
    /// Nearest conflict-free ground speed below.
    pub gs_down_mps: Option<f64>,
    /// Nearest conflict-free vertical speed above the current one, m/s.
    pub vs_up_mps: Option<f64>,
    /// Nearest conflict-free vertical speed below.
    pub vs_down_mps: Option<f64>,
    /// The manoeuvre to fly.
    pub preferred: Option<Manoeuvre>,
}

impl Advice {
    /// No option in any dimension.
    pub fn none(method: Method) -> Self {
        Advice {
            method,
            track_left_deg: None,
            track_right_deg: None,
            gs_up_mps: None,
            gs_down_mps: None,
            vs_up_mps: None,
            vs_down_mps: None,
            preferred: None,
        }
    }
}

/// Kinematic rates that rank a side's options by the time they take to fly: turn (°/s),
/// horizontal and vertical acceleration (m/s²). DAIDALUS's defaults.
const TURN_DPS: f64 = 3.0;
const HACCEL: f64 = 2.0;
const VACCEL: f64 = 0.25 * 9.806_65;

/// The advice for `a` and for `b` of a conflict under `std`, coordinated: bands for a DO-365
/// standard, then [`coordinate`]; MVP for the cylinder, whose halves are coordinated as made.
pub fn coordinated(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> (Advice, Advice) {
    // Always computed in one order of the two, so that every tie (grid values make equal
    // turns and speed changes common) is broken the same way whichever side asks.
    if !canonical_first(a, b) {
        let (y, x) = coordinated_in_order(b, a, std);
        return (x, y);
    }
    coordinated_in_order(a, b, std)
}

/// Whether `a` comes first of the two in a fixed order of states (altitude, position,
/// velocity, vertical speed); both ways when they are identical.
fn canonical_first(a: &TrackState, b: &TrackState) -> bool {
    let key = |s: &TrackState| [s.alt_m, s.n[0], s.n[1], s.n[2], s.v[0], s.v[1], s.v[2], s.vs_mps];
    let (ka, kb) = (key(a), key(b));
    ka.iter()
        .zip(&kb)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .is_none_or(|o| o.is_lt())
}

/// [`coordinated`] with `a` taken first.
fn coordinated_in_order(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> (Advice, Advice) {
    match &std.do365 {
        Some(profile) => {
            let cfg = BandsConfig {
                profile: *profile,
                ..BandsConfig::do365a()
            };
            let (x, y) = (bands_advice(a, b, &cfg), bands_advice(b, a, &cfg));
            coordinate(a, b, x, y, std.lookahead_s)
        }
        // MVP's two halves are coordinated as they are made (see `mvp`)
        None => mvp(a, b, std),
    }
}

/// A state as a report at time 0 (the bands take reports).
pub(crate) fn report_of(name: &str, s: &TrackState) -> TrackReport {
    let (lat, lng) = s.lat_lng();
    TrackReport {
        asset: name.to_string(),
        time: 0.0,
        lat,
        lng,
        alt_m: s.alt_m,
        gs_mps: s.ground_speed(),
        track_deg: s.track_deg(),
        vs_mps: s.vs_mps,
        class: s.class,
    }
}

/// The options of `own` from its instantaneous bands against `other` (no preference yet).
pub fn bands_advice(own: &TrackState, other: &TrackState, cfg: &BandsConfig) -> Advice {
    bands_advice_in(own, other, cfg, Mode::Instantaneous)
}

/// The dimensions the advice is made of (no altitude: a target vertical speed is advised).
pub const ADVICE_DIMS: [Dim; 3] = [Dim::Track, Dim::Gs, Dim::Vs];

/// The options of `own` from its bands against `other` flown as `mode` (no preference yet):
/// [`Method::Bands`] instantaneously ([`bands_advice`]), [`Method::KinematicBands`]
/// kinematically, whose options are free with the manoeuvre flown at the configured turn rate
/// and accelerations (and whose recovery times count it).
pub fn bands_advice_in(own: &TrackState, other: &TrackState, cfg: &BandsConfig, mode: Mode) -> Advice {
    advice_and_recovery(own, other, cfg, mode).0
}

/// [`bands_advice_in`], and how each of the bands' dimensions recovered (track, ground speed,
/// vertical speed; altitude is not computed).
fn advice_and_recovery(
    own: &TrackState,
    other: &TrackState,
    cfg: &BandsConfig,
    mode: Mode,
) -> (Advice, [Option<Recovery>; 4]) {
    let o = report_of("own", own);
    let x = report_of("intruder", other);
    let bands = compute_dims(&o, &[&x], cfg, mode, &ADVICE_DIMS);
    let r: Resolution = bands.resolution;
    let kt = |v: Option<f64>| v.map(|v| v * KT_TO_MPS);
    let fpm = |v: Option<f64>| v.map(|v| v * FPM_TO_MPS);
    let advice = Advice {
        method: match mode {
            Mode::Instantaneous => Method::Bands,
            Mode::Kinematic => Method::KinematicBands,
        },
        track_left_deg: r.track_left_deg,
        track_right_deg: r.track_right_deg,
        gs_up_mps: kt(r.gs_up_kt),
        gs_down_mps: kt(r.gs_down_kt),
        vs_up_mps: fpm(r.vs_up_fpm),
        vs_down_mps: fpm(r.vs_down_fpm),
        preferred: None,
    };
    (advice, bands.recovery)
}

/// Which side of `own`'s track `other` is on: `Some(Right)`, `Some(Left)`, or `None` when
/// dead ahead or behind, or the two states coincide.
fn side_of(own: &TrackState, other: &TrackState) -> Option<Direction> {
    // right of the velocity is v × n (n up); the other's offset projected on it
    let right = cross(own.v, own.n);
    let s = dot(sub(other.n, own.n), right);
    if s > 0.0 {
        Some(Direction::Right)
    } else if s < 0.0 {
        Some(Direction::Left)
    } else {
        None
    }
}

/// Whether `a` is above `b` at their horizontal closest point of approach (within
/// `lookahead_s`; now when they are not closing), then by current altitude; `None` when level.
fn above(a: &TrackState, b: &TrackState, lookahead_s: f64) -> Option<bool> {
    let rel = crate::cpa::relative(a.n, a.v, a.alt_m, a.vs_mps, b.n, b.v, b.alt_m, b.vs_mps);
    let t = rel
        .filter(|r| r.vrel2 > 1e-12)
        .map(|r| (-dot(r.d, r.v) / r.vrel2).clamp(0.0, lookahead_s))
        .unwrap_or(0.0);
    let za = a.alt_m + a.vs_mps * t;
    let zb = b.alt_m + b.vs_mps * t;
    if za != zb {
        Some(za > zb)
    } else if a.alt_m != b.alt_m {
        Some(a.alt_m > b.alt_m)
    } else {
        None
    }
}

/// Signed turn from `from` to `to`, degrees in (-180, 180].
fn turn(from: f64, to: f64) -> f64 {
    let d = (to - from).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}

/// A turn a side may make: (direction, target track, |turn| in degrees).
type TurnOption = (Direction, f64, f64);

/// A speed change a side may make: (speeding up, manoeuvre, |change| in m/s).
type SpeedOption = (bool, Manoeuvre, f64);

/// The turns a side may make, each way.
fn turns(own: &TrackState, adv: &Advice) -> Vec<TurnOption> {
    let trk = own.track_deg();
    let mut v = Vec::new();
    if let Some(t) = adv.track_left_deg {
        v.push((Direction::Left, t, turn(t, trk).rem_euclid(360.0)));
    }
    if let Some(t) = adv.track_right_deg {
        v.push((Direction::Right, t, turn(trk, t).rem_euclid(360.0)));
    }
    v
}

/// The coordinated turns of the two sides (see the module docs).
fn coordinate_turns(
    (a, b): (&TrackState, &TrackState),
    (x, y): (&Advice, &Advice),
) -> (Option<Manoeuvre>, Option<Manoeuvre>) {
    let (ta, tb) = (turns(a, x), turns(b, y));
    let (sa, sb) = (side_of(a, b), side_of(b, a));
    let towards = |d: Direction, side: Option<Direction>| side == Some(d);
    let as_manoeuvre = |(d, t, _): TurnOption| match d {
        Direction::Left => Manoeuvre::TurnLeft { track_deg: t },
        _ => Manoeuvre::TurnRight { track_deg: t },
    };
    let mut best: Option<(TurnOption, TurnOption)> = None;
    for &p in &ta {
        for &q in &tb {
            if towards(p.0, sa) && towards(q.0, sb) {
                continue;
            }
            let cost = p.2 + q.2;
            let both_right = p.0 == Direction::Right && q.0 == Direction::Right;
            let better = match best {
                None => true,
                Some((bp, bq)) => {
                    let bc = bp.2 + bq.2;
                    cost < bc - 1e-9 || ((cost - bc).abs() <= 1e-9 && both_right)
                }
            };
            if better {
                best = Some((p, q));
            }
        }
    }
    if let Some((p, q)) = best {
        return (Some(as_manoeuvre(p)), Some(as_manoeuvre(q)));
    }
    // no allowed pair: each side on its own, never towards the other
    let alone = |t: &[TurnOption], side: Option<Direction>| {
        t.iter()
            .filter(|p| !towards(p.0, side))
            .min_by(|p, q| p.2.total_cmp(&q.2))
            .map(|&p| as_manoeuvre(p))
    };
    (alone(&ta, sa), alone(&tb, sb))
}

/// The vertical manoeuvre of a side allowed to go `up` (or down).
fn vertical(adv: &Advice, up: bool) -> Option<Manoeuvre> {
    if up {
        adv.vs_up_mps.map(|v| Manoeuvre::VsUp { vs_mps: v })
    } else {
        adv.vs_down_mps.map(|v| Manoeuvre::VsDown { vs_mps: v })
    }
}

/// The speed changes a side may make.
fn speeds(own: &TrackState, adv: &Advice) -> Vec<SpeedOption> {
    let gs = own.ground_speed();
    let mut v = Vec::new();
    if let Some(u) = adv.gs_up_mps {
        v.push((true, Manoeuvre::SpeedUp { gs_mps: u }, (u - gs).abs()));
    }
    if let Some(d) = adv.gs_down_mps {
        v.push((false, Manoeuvre::SlowDown { gs_mps: d }, (gs - d).abs()));
    }
    v
}

/// The coordinated speed changes: of opposite senses (both speeding up to pass first, or
/// both slowing to let the other pass, undo each other), the least total change; without
/// such a pair, only the side with the smaller change is told.
fn coordinate_speeds(
    (a, b): (&TrackState, &TrackState),
    (x, y): (&Advice, &Advice),
) -> (Option<Manoeuvre>, Option<Manoeuvre>) {
    let (sa, sb) = (speeds(a, x), speeds(b, y));
    let mut best: Option<(SpeedOption, SpeedOption)> = None;
    for &p in &sa {
        for &q in &sb {
            if p.0 != q.0 && best.is_none_or(|(bp, bq)| p.2 + q.2 < bp.2 + bq.2) {
                best = Some((p, q));
            }
        }
    }
    if let Some((p, q)) = best {
        return (Some(p.1), Some(q.1));
    }
    let least = |v: &[SpeedOption]| v.iter().min_by(|p, q| p.2.total_cmp(&q.2)).copied();
    match (least(&sa), least(&sb)) {
        (Some(p), Some(q)) if p.2 <= q.2 => (Some(p.1), None),
        (Some(_), Some(q)) => (None, Some(q.1)),
        (p, q) => (p.map(|p| p.1), q.map(|q| q.1)),
    }
}

/// Seconds a manoeuvre takes to fly from `own`'s state.
fn time_to_fly(own: &TrackState, m: &Manoeuvre) -> f64 {
    match *m {
        Manoeuvre::TurnLeft { track_deg } | Manoeuvre::TurnRight { track_deg } => {
            turn(own.track_deg(), track_deg).abs() / TURN_DPS
        }
        Manoeuvre::SpeedUp { gs_mps } | Manoeuvre::SlowDown { gs_mps } => {
            (gs_mps - own.ground_speed()).abs() / HACCEL
        }
        Manoeuvre::VsUp { vs_mps } | Manoeuvre::VsDown { vs_mps } => (vs_mps - own.vs_mps).abs() / VACCEL,
    }
}

/// Each side's coordinated turn, speed change and vertical change (module docs), any of
/// which may be missing.
type Candidates = [Option<Manoeuvre>; 3];

/// The coordinated candidates of each side, one per dimension (module docs).
fn candidates(
    a: &TrackState,
    b: &TrackState,
    x: &Advice,
    y: &Advice,
    lookahead_s: f64,
) -> (Candidates, Candidates) {
    let (turn_a, turn_b) = coordinate_turns((a, b), (x, y));
    let (speed_a, speed_b) = coordinate_speeds((a, b), (x, y));
    let (vert_a, vert_b) = match above(a, b, lookahead_s) {
        Some(a_up) => (vertical(x, a_up), vertical(y, !a_up)),
        None => (None, None),
    };
    ([turn_a, speed_a, vert_a], [turn_b, speed_b, vert_b])
}

/// A side's candidates, quickest to fly first.
fn by_time_to_fly(own: &TrackState, options: Candidates) -> Vec<Manoeuvre> {
    let mut v: Vec<Manoeuvre> = options.into_iter().flatten().collect();
    // stable: of equal times the first dimension (turn, speed, vertical) comes first
    v.sort_by(|p, q| time_to_fly(own, p).total_cmp(&time_to_fly(own, q)));
    v
}

/// Sets each side's preferred manoeuvre, coordinated (module docs).
pub fn coordinate(
    a: &TrackState,
    b: &TrackState,
    mut x: Advice,
    mut y: Advice,
    lookahead_s: f64,
) -> (Advice, Advice) {
    let (ca, cb) = candidates(a, b, &x, &y, lookahead_s);
    let pick = |own: &TrackState, options: Candidates| {
        options
            .into_iter()
            .flatten()
            .min_by(|p, q| time_to_fly(own, p).total_cmp(&time_to_fly(own, q)))
    };
    x.preferred = pick(a, ca);
    y.preferred = pick(b, cb);
    (x, y)
}
