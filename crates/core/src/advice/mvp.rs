//! Modified Voltage Potential for the cylinder standard (manned against manned).
//!
//! * **Horizontal**: the miss vector at the closest point of approach (`m = d + v·tcpa`, the
//!   other aircraft from the own one) is pushed out along itself to `MARGIN × radius` by
//!   `tcpa`: the relative velocity changes by `Δm / tcpa`. The push is repeated on the new
//!   relative velocity (the closest point moves when the velocity does) until the miss holds.
//!   Each aircraft takes half of the change, in opposite directions, so the two manoeuvres
//!   add up instead of cancelling. A head-on with no miss at all is pushed to the right of the
//!   approach, which turns both aircraft right.
//! * **Vertical**: the relative vertical speed that keeps `MARGIN × half-height` between the two
//!   over the whole time they are within the radius horizontally, in the sense that needs the
//!   smaller change (ties: the order they are in now); again half each.
//! * A pair already within the radius horizontally gets vertical advice only: no horizontal
//!   change takes it out of the cylinder before the vertical loss.
//!
//! A push that would ask either aircraft for a ground speed outside 10–700 kt or a vertical
//! speed beyond ±6,000 fpm (the bands' limits) is not given: the two halves only resolve
//! together.
//!
//! The horizontal advice is one manoeuvre, the new track and the new ground speed together.
//! The two sides are told to fly the same dimension (both the horizontal halves or both the
//! vertical ones: a half alone is not meant to resolve), whichever the slower side flies
//! sooner. This is the whole coordination of MVP: the halves are opposite by construction, so
//! the turn vetoes of the bands' coordination (never both towards the other) do not apply —
//! they would refuse the right turns of a head-on whose tracks are a hair apart, where each
//! aircraft is, by a millimetre, on the other's right.

use super::{time_to_fly, Advice, Manoeuvre, Method};
use crate::cpa::relative;
use crate::geodesy::{add, cross, dot, norm, scale, sub, track_deg, Vec3, FPM_TO_MPS, KT_TO_MPS};
use crate::separation::SeparationStandard;
use crate::track::TrackState;

/// How far beyond the protected volume the advice aims.
pub(crate) const MARGIN: f64 = 1.1;
/// The ground speeds a manoeuvre may ask for, m/s: the bands' limits (10–700 kt). The two
/// halves of a push only resolve together, so a push that asks either aircraft for more is not
/// given at all.
const GS_LIMITS_MPS: (f64, f64) = (10.0 * KT_TO_MPS, 700.0 * KT_TO_MPS);
/// The vertical speed a manoeuvre may ask for, m/s either way: the bands' ±6,000 fpm.
const VS_LIMIT_MPS: f64 = 6000.0 * FPM_TO_MPS;
/// Rounds of the horizontal push.
const ROUNDS: usize = 8;
/// The shortest time a change is spread over, seconds (a closest point of approach or a
/// horizontal entry closer than this, or past, is resolved over this time).
const MIN_TIME_S: f64 = 1.0;

/// The horizontal interval (entry, exit) within `radius` of relative position `d` moving at `v`,
/// over all time; `None` when never.
fn within(d: Vec3, v: Vec3, radius: f64) -> Option<(f64, f64)> {
    let v2 = dot(v, v);
    let c = dot(d, d) - radius * radius;
    if v2 <= 1e-12 {
        return (c < 0.0).then_some((f64::NEG_INFINITY, f64::INFINITY));
    }
    let b = dot(d, v);
    let disc = b * b - v2 * c;
    if disc <= 0.0 {
        return None;
    }
    let r = disc.sqrt();
    Some(((-b - r) / v2, (-b + r) / v2))
}

/// The total change of the relative velocity that pushes the miss out (module docs);
/// zero when the miss already holds or the pair is not closing.
fn horizontal_push(d: Vec3, mut v: Vec3, up: Vec3, radius: f64) -> Vec3 {
    let target = MARGIN * radius;
    let mut total = [0.0; 3];
    for _ in 0..ROUNDS {
        let v2 = dot(v, v);
        if v2 <= 1e-12 {
            break;
        }
        let tcpa = -dot(d, v) / v2;
        if tcpa <= 0.0 {
            break;
        }
        let m = add(d, scale(v, tcpa));
        let miss = norm(m);
        if miss >= target * (1.0 - 1e-6) {
            break;
        }
        let dir = if miss > 1e-3 {
            scale(m, 1.0 / miss)
        } else {
            // no miss: to the right of the approach (v × up)
            let r = cross(v, up);
            let n = norm(r);
            if n <= 1e-12 {
                break;
            }
            scale(r, 1.0 / n)
        };
        let dv = scale(dir, (target - miss) / tcpa.max(MIN_TIME_S));
        v = add(v, dv);
        total = add(total, dv);
    }
    total
}

/// The change of the relative vertical speed (the other minus the own) that keeps the two
/// `MARGIN × half_height` apart over `[t1, t2]`, in sense `s` (+1: the other above).
fn vertical_push(dalt: f64, dvs: f64, s: f64, (t1, t2): (f64, f64), half_height: f64) -> f64 {
    let need = MARGIN * half_height - s * dalt;
    // s·(dalt + dvs'·t) ≥ MARGIN·H for t in [t1, t2]: the binding end is t1 when there is
    // height to gain, t2 when there is some to spare
    let t = if need > 0.0 { t1 } else { t2 };
    let bound = need / t;
    if s * dvs >= bound {
        0.0
    } else {
        s * (bound - s * dvs)
    }
}

/// A velocity moved into the tangent plane at `n`.
fn tangent(n: Vec3, v: Vec3) -> Vec3 {
    sub(v, scale(n, dot(v, n)))
}

/// A manoeuvre and the seconds it takes to fly.
type Choice = Option<(Manoeuvre, f64)>;

/// The advice of one side given its new velocity and vertical speed (no preference yet), with
/// its horizontal and its vertical manoeuvre.
fn advice_of(own: &TrackState, v_new: Option<Vec3>, vs_new: Option<f64>) -> (Advice, Choice, Choice) {
    let mut a = Advice::none(Method::Mvp);
    let mut horizontal = None;
    if let Some(v) = v_new {
        let v = tangent(own.n, v);
        let (trk, gs) = (track_deg(own.n, v), norm(v));
        let turn = super::turn(own.track_deg(), trk);
        let dgs = gs - own.ground_speed();
        if turn > 0.0 {
            a.track_right_deg = Some(trk);
        } else if turn < 0.0 {
            a.track_left_deg = Some(trk);
        }
        if dgs > 0.0 {
            a.gs_up_mps = Some(gs);
        } else if dgs < 0.0 {
            a.gs_down_mps = Some(gs);
        }
        // the turn stands for the horizontal manoeuvre; a pure speed change when the turn
        // is under a degree
        horizontal = if turn.abs() >= 1.0 {
            let m = if turn > 0.0 {
                Manoeuvre::TurnRight { track_deg: trk }
            } else {
                Manoeuvre::TurnLeft { track_deg: trk }
            };
            let speed = Manoeuvre::SpeedUp { gs_mps: gs };
            Some((m, time_to_fly(own, &m).max(time_to_fly(own, &speed))))
        } else if dgs != 0.0 {
            let m = if dgs > 0.0 {
                Manoeuvre::SpeedUp { gs_mps: gs }
            } else {
                Manoeuvre::SlowDown { gs_mps: gs }
            };
            Some((m, time_to_fly(own, &m)))
        } else {
            None
        };
    }
    let mut vertical = None;
    if let Some(vs) = vs_new {
        let m = if vs > own.vs_mps {
            a.vs_up_mps = Some(vs);
            Manoeuvre::VsUp { vs_mps: vs }
        } else {
            a.vs_down_mps = Some(vs);
            Manoeuvre::VsDown { vs_mps: vs }
        };
        vertical = Some((m, time_to_fly(own, &m)));
    }
    (a, horizontal, vertical)
}

/// Sets both sides' preferred manoeuvre in one dimension: the two halves of a push only
/// resolve together, so both fly the horizontal halves or both the vertical ones, whichever
/// the slower of the two flies sooner (ties: horizontal).
fn prefer(
    (mut x, hx, vx): (Advice, Choice, Choice),
    (mut y, hy, vy): (Advice, Choice, Choice),
) -> (Advice, Advice) {
    let both = |p: Choice, q: Choice| p.zip(q).map(|(p, q)| (p.0, q.0, p.1.max(q.1)));
    let pick = match (both(hx, hy), both(vx, vy)) {
        (Some(h), Some(v)) => Some(if v.2 < h.2 { v } else { h }),
        (h, v) => h.or(v),
    };
    if let Some((p, q, _)) = pick {
        x.preferred = Some(p);
        y.preferred = Some(q);
    }
    (x, y)
}

/// The MVP advice of `a` and of `b` against each other under the cylinder of `std`.
pub fn mvp(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> (Advice, Advice) {
    let none = (Advice::none(Method::Mvp), Advice::none(Method::Mvp));
    let Some(rel) = relative(a.n, a.v, a.alt_m, a.vs_mps, b.n, b.v, b.alt_m, b.vs_mps) else {
        return none;
    };
    // horizontally within the radius only over (t1, t2): no conflict outside it
    let Some((t1, t2)) = within(rel.d, rel.v, std.radius_m) else {
        return none;
    };
    if t2 <= 0.0 {
        return none;
    }
    let up = scale(add(a.n, b.n), 0.5);
    // already within the radius, no horizontal change gets the two out in time: vertical only
    let dv = if t1 >= MIN_TIME_S {
        horizontal_push(rel.d, rel.v, up, std.radius_m)
    } else {
        [0.0; 3]
    };
    let (va, vb) = (sub(a.v, scale(dv, 0.5)), add(b.v, scale(dv, 0.5)));
    let flyable = |v: Vec3| (GS_LIMITS_MPS.0..=GS_LIMITS_MPS.1).contains(&norm(v));
    let (va, vb) = if norm(dv) > 0.0 && flyable(va) && flyable(vb) {
        (Some(va), Some(vb))
    } else {
        (None, None)
    };
    // the vertical sense that needs the smaller change (never crossing for nothing); ties
    // keep the order of now; none when level and equal
    let window = (t1.max(MIN_TIME_S), t2.min(std.lookahead_s).max(MIN_TIME_S));
    let push = |s: f64| vertical_push(rel.dalt, rel.dvs, s, window, std.half_height_m);
    let (up_push, down_push) = (push(1.0), push(-1.0));
    let dvs = if up_push.abs() < down_push.abs() {
        up_push
    } else if down_push.abs() < up_push.abs() {
        down_push
    } else if rel.dalt > 0.0 {
        up_push
    } else if rel.dalt < 0.0 {
        down_push
    } else {
        0.0
    };
    let (vsa, vsb) = (a.vs_mps - dvs / 2.0, b.vs_mps + dvs / 2.0);
    let (vsa, vsb) = if dvs != 0.0 && vsa.abs() <= VS_LIMIT_MPS && vsb.abs() <= VS_LIMIT_MPS {
        (Some(vsa), Some(vsb))
    } else {
        (None, None)
    };
    prefer(advice_of(a, va, vsa), advice_of(b, vb, vsb))
}
