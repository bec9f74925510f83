//! Kinematic advice for DO-365 pairs ([`coordinated_kinematic`]): each side's options from its
//! *kinematic* bands against the other aircraft, coordinated as [`super::coordinate`] does, and
//! the two preferred manoeuvres checked flown together.
//!
//! **Why kinematic.** The instantaneous bands ([`super::coordinated`]) assume a track, speed or
//! vertical speed reached at once. Flown at 3°/s, 2 m/s² and 0.25 g, a value free of conflict
//! can lose well clear while it is being reached, and a recovery takes longer than the
//! instantaneous recovery bands' time to recovery. The kinematic bands grade each value flown
//! as it will be: free values stay well clear, recovery values regain it by their (kinematic)
//! time to recovery.
//!
//! **Why flown together.** Each side's bands assume the other flies straight on. The
//! coordination rules keep manoeuvres of one kind from undoing each other (vertical senses,
//! turns, speed senses), but not manoeuvres of different kinds, a turn against a speed change
//! most often: one side told to turn left and the other to speed up, each free of conflict
//! alone, lost well clear together from 24 s to 69 s. So the two are flown together here
//! (kinematically, [`joint_losses`]), against the corrective volume (DO-365A's well clear, the
//! one recovery regains) over the lookahead. They must regain well clear no later than either
//! side's manoeuvre alone (so never lose it when one alone would not), and enter neither side's
//! recovery cylinder. When they do not, the side that does better alone keeps its manoeuvre,
//! and the other gets the first of its other coordinated candidates (quickest to fly first)
//! with which the two together pass, or no preferred manoeuvre (it flies straight on, as its
//! partner's bands assumed; its options are still given).
//!
//! **Measured** (`tests/advice_kinematic_props.rs`, `survey`: 1,000 random converging drone
//! encounters in corrective or warning alert, 244 with well clear already lost; flown
//! kinematically, both sides at once; "promise": no loss, or regained by the time to
//! recovery, of each side's manoeuvre alone):
//!
//! | advice | broken | of which |
//! |---|---|---|
//! | instantaneous ([`super::coordinated`]) | 425 | a side alone misses its promise 423; together miss the better promise 122 (lose well clear though promised none 22); enter a recovery cylinder 56; later than one side alone 4 |
//! | the same flown at once (its own model) | 7 | later than one side alone 6 (lose well clear though promised none 2) |
//! | kinematic bands, coordination rules only | 9 | later than one side alone 5 (lose well clear though promised none 2); enter a recovery cylinder 6 |
//! | [`coordinated_kinematic`] | 0 | (and 0 of 12,000 more, seeds 1–3) |
//!
//! It costs some 1.5 ms a pair (release build; the instantaneous advice 0.12 ms): the two
//! sides' kinematic track, speed and vertical-speed bands (no altitude bands, by far the
//! costliest kinematically) and a few flights of the pair.
//!
//! Cylinder pairs (manned against manned) get MVP as from [`super::coordinated`]: it is not
//! kinematic.

use super::{
    advice_and_recovery, by_time_to_fly, candidates, canonical_first, mvp, report_of, Advice, Manoeuvre,
};
use crate::bands::trajectory::{joint_losses, trial, Own, Trajectory};
use crate::bands::{BandsConfig, Dim, Mode, Recovery};
use crate::geodesy::{FPM_TO_MPS, KT_TO_MPS};
use crate::separation::SeparationStandard;
use crate::track::{TrackReport, TrackState};
use crate::wellclear::WcvThresholds;

/// Two times of regaining well clear this close are the same, seconds.
const SAME_S: f64 = 1e-6;

/// The kinematic advice for `a` and for `b` of a conflict under `std`, coordinated and
/// checked flown together (module docs); symmetric as [`super::coordinated`] is.
pub fn coordinated_kinematic(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> (Advice, Advice) {
    if !canonical_first(a, b) {
        let (y, x) = in_order(b, a, std);
        return (x, y);
    }
    in_order(a, b, std)
}

/// [`coordinated_kinematic`] with `a` taken first.
fn in_order(a: &TrackState, b: &TrackState, std: &SeparationStandard) -> (Advice, Advice) {
    let Some(profile) = &std.do365 else {
        return mvp(a, b, std);
    };
    let cfg = BandsConfig {
        profile: *profile,
        ..BandsConfig::do365a()
    };
    let (mut x, rec_a) = advice_and_recovery(a, b, &cfg, Mode::Kinematic);
    let (mut y, rec_b) = advice_and_recovery(b, a, &cfg, Mode::Kinematic);
    let (ca, cb) = candidates(a, b, &x, &y, std.lookahead_s);
    let (ra, rb) = (report_of("own", a), report_of("intruder", b));
    let pair = Pair {
        own: (Own::of(&ra), Own::of(&rb)),
        reports: (ra, rb),
        recovery: (rec_a, rec_b),
        cfg: &cfg,
    };
    (x.preferred, y.preferred) = together(&pair, &by_time_to_fly(a, ca), &by_time_to_fly(b, cb));
    (x, y)
}

/// The trajectory of `own` flying `m` kinematically under `cfg` (straight on without one), in
/// its own east/north axes ([`trial`]).
pub(crate) fn manoeuvre_trajectory(own: &Own, m: Option<&Manoeuvre>, cfg: &BandsConfig) -> Trajectory {
    let trk = own.track_deg;
    let k = Mode::Kinematic;
    match m.copied() {
        None => trial(
            own,
            Dim::Gs,
            own.gs_mps / KT_TO_MPS,
            0.0,
            Mode::Instantaneous,
            cfg,
        ),
        Some(Manoeuvre::TurnLeft { track_deg }) => {
            let u = -(trk - track_deg).rem_euclid(360.0);
            trial(own, Dim::Track, trk + u, u, k, cfg)
        }
        Some(Manoeuvre::TurnRight { track_deg }) => {
            let u = (track_deg - trk).rem_euclid(360.0);
            trial(own, Dim::Track, trk + u, u, k, cfg)
        }
        Some(Manoeuvre::SpeedUp { gs_mps } | Manoeuvre::SlowDown { gs_mps }) => {
            trial(own, Dim::Gs, gs_mps / KT_TO_MPS, 0.0, k, cfg)
        }
        Some(Manoeuvre::VsUp { vs_mps } | Manoeuvre::VsDown { vs_mps }) => {
            trial(own, Dim::Vs, vs_mps / FPM_TO_MPS, 0.0, k, cfg)
        }
    }
}

/// The recovery cylinder `m` keeps out of when its dimension recovered ([`Recovery`]).
fn cylinder(recovery: &[Option<Recovery>; 4], m: &Manoeuvre) -> Option<WcvThresholds> {
    let k = match m {
        Manoeuvre::TurnLeft { .. } | Manoeuvre::TurnRight { .. } => 0,
        Manoeuvre::SpeedUp { .. } | Manoeuvre::SlowDown { .. } => 1,
        Manoeuvre::VsUp { .. } | Manoeuvre::VsDown { .. } => 2,
    };
    recovery[k].map(|r| WcvThresholds {
        dthr_m: r.cylinder_m.0,
        zthr_m: r.cylinder_m.1,
        tthr_s: 0.0,
    })
}

/// The two aircraft as the bands see them, and how each one's bands recovered.
struct Pair<'a> {
    reports: (TrackReport, TrackReport),
    own: (Own, Own),
    recovery: ([Option<Recovery>; 4], [Option<Recovery>; 4]),
    cfg: &'a BandsConfig,
}

type Flown<'m> = Option<&'m Manoeuvre>;

impl Pair<'_> {
    /// The loss intervals of `thr` within the lookahead with `a` flying `p` and `b` flying `q`
    /// kinematically, at once.
    fn losses(&self, p: Flown, q: Flown, thr: &WcvThresholds) -> Vec<(f64, f64)> {
        let ta = manoeuvre_trajectory(&self.own.0, p, self.cfg);
        let tb = manoeuvre_trajectory(&self.own.1, q, self.cfg);
        let end = self.cfg.profile.lookahead_s;
        joint_losses((&self.reports.0, &ta), (&self.reports.1, &tb), thr, end)
    }

    /// When well clear (the corrective volume) is last regained within the lookahead, `a`
    /// flying `p` and `b` flying `q`: 0 when it is never lost.
    fn regained(&self, p: Flown, q: Flown) -> f64 {
        let wcv = self.cfg.profile.levels[self.cfg.corrective].wcv;
        self.losses(p, q, &wcv).last().map_or(0.0, |l| l.1)
    }

    /// Whether `p` and `q` flown together do no worse than each alone, `alone` being the
    /// earlier of the two alone's [`Pair::regained`]: well clear regained no later, and neither
    /// side's recovery cylinder (which its manoeuvre alone keeps out of) entered.
    fn no_worse(&self, p: &Manoeuvre, q: &Manoeuvre, alone: f64) -> bool {
        let (p, q) = (Some(p), Some(q));
        self.regained(p, q) <= alone + SAME_S
            && [(&self.recovery.0, p), (&self.recovery.1, q)]
                .into_iter()
                .filter_map(|(r, m)| m.and_then(|m| cylinder(r, m)))
                .all(|cyl| self.losses(p, q, &cyl).is_empty())
    }
}

/// The preferred manoeuvres of the two sides from their candidates (quickest first), flown
/// together no worse than either alone (module docs).
fn together(pair: &Pair, pa: &[Manoeuvre], pb: &[Manoeuvre]) -> (Option<Manoeuvre>, Option<Manoeuvre>) {
    let (Some(p), Some(q)) = (pa.first(), pb.first()) else {
        return (pa.first().copied(), pb.first().copied());
    };
    let (alone_a, alone_b) = (pair.regained(Some(p), None), pair.regained(None, Some(q)));
    if pair.no_worse(p, q, alone_a.min(alone_b)) {
        return (Some(*p), Some(*q));
    }
    if alone_a <= alone_b {
        let other = pb[1..]
            .iter()
            .find(|q| pair.no_worse(p, q, alone_a.min(pair.regained(None, Some(q)))));
        (Some(*p), other.copied())
    } else {
        let other = pa[1..]
            .iter()
            .find(|p| pair.no_worse(p, q, alone_b.min(pair.regained(Some(p), None))));
        (other.copied(), Some(*q))
    }
}
