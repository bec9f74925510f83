#![allow(clippy::unwrap_used)]
//! The advice resolves what it says, the two sides' advices never work against each other, and
//! the computation is the same from either side.

use super::*;
use crate::class::AssetClass;
use crate::cpa::detect_pair;
use crate::separation::SeparationTable;
use crate::wellclear::{raw_level, Do365Profile};
use crate::AlertLevel;
use proptest::prelude::*;

fn state(lat: f64, lng: f64, alt: f64, gs: f64, trk: f64, vs: f64, class: AssetClass) -> TrackState {
    TrackState::new(lat, lng, alt, gs, trk, vs, class)
}

fn manned() -> SeparationStandard {
    *SeparationTable::defaults().get(AssetClass::FixedWing, AssetClass::FixedWing)
}

fn drones() -> SeparationStandard {
    *SeparationTable::defaults().get(AssetClass::UasLarge, AssetClass::UasLarge)
}

/// `s` flying the horizontal part of `a` (new track and ground speed).
fn fly_horizontal(s: &TrackState, a: &Advice) -> TrackState {
    let (lat, lng) = s.lat_lng();
    let trk = a.track_left_deg.or(a.track_right_deg).unwrap_or(s.track_deg());
    let gs = a.gs_up_mps.or(a.gs_down_mps).unwrap_or(s.ground_speed());
    state(lat, lng, s.alt_m, gs, trk, s.vs_mps, s.class)
}

/// `s` flying the vertical part of `a`.
fn fly_vertical(s: &TrackState, a: &Advice) -> TrackState {
    TrackState {
        vs_mps: a.vs_up_mps.or(a.vs_down_mps).unwrap_or(s.vs_mps),
        ..*s
    }
}

/// `s` flying manoeuvre `m`.
fn fly(s: &TrackState, m: &Manoeuvre) -> TrackState {
    let (lat, lng) = s.lat_lng();
    let (mut trk, mut gs, mut vs) = (s.track_deg(), s.ground_speed(), s.vs_mps);
    match *m {
        Manoeuvre::TurnLeft { track_deg } | Manoeuvre::TurnRight { track_deg } => trk = track_deg,
        Manoeuvre::SpeedUp { gs_mps } | Manoeuvre::SlowDown { gs_mps } => gs = gs_mps,
        Manoeuvre::VsUp { vs_mps } | Manoeuvre::VsDown { vs_mps } => vs = vs_mps,
    }
    state(lat, lng, s.alt_m, gs, trk, vs, s.class)
}

#[test]
fn manned_head_on_both_turn_right_and_separate_vertically_apart() {
    let std = manned();
    // head-on on one meridian, 20 NM apart, the northbound 300 ft below
    let a = state(35.0, 36.0, 6000.0, 220.0, 0.0, 0.0, AssetClass::FixedWing);
    let b = state(
        35.0 + 20.0 * 1852.0 / 111_195.0,
        36.0,
        6091.44,
        220.0,
        180.0,
        0.0,
        AssetClass::FixedWing,
    );
    assert!(detect_pair(&a, &b, &std).is_some());
    let (x, y) = coordinated(&a, &b, &std);
    assert_eq!(x.method, Method::Mvp);
    assert!(
        x.track_right_deg.is_some() && y.track_right_deg.is_some(),
        "{x:?} {y:?}"
    );
    assert!(
        x.vs_down_mps.is_some() && y.vs_up_mps.is_some(),
        "the lower descends: {x:?} {y:?}"
    );
    assert!(x.vs_down_mps.unwrap() < 0.0 && y.vs_up_mps.unwrap() > 0.0);
    // either half on its own is not meant to be enough; both together are
    assert!(detect_pair(&fly_horizontal(&a, &x), &fly_horizontal(&b, &y), &std).is_none());
    assert!(detect_pair(&fly_vertical(&a, &x), &fly_vertical(&b, &y), &std).is_none());
    assert!(x.preferred.is_some() && y.preferred.is_some());
}

#[test]
fn mvp_asks_for_no_speed_beyond_the_limits() {
    let std = manned();
    // head-on 5 km apart at 250 m/s each: pushing the miss out to 5.5 NM in the 10 s left would
    // take some 500 m/s each, and 300 m of height in a second about 150 m/s each
    let a = state(35.0, 36.0, 6000.0, 250.0, 0.0, 0.0, AssetClass::FixedWing);
    let b = state(
        35.0 + 5000.0 / 111_195.0,
        36.0,
        6000.0,
        250.0,
        180.0,
        0.0,
        AssetClass::FixedWing,
    );
    let (x, y) = coordinated(&a, &b, &std);
    assert_eq!((x, y), (Advice::none(Method::Mvp), Advice::none(Method::Mvp)));
}

#[test]
fn no_conflict_no_advice() {
    let std = manned();
    let a = state(35.0, 36.0, 6000.0, 220.0, 0.0, 0.0, AssetClass::FixedWing);
    let b = state(35.0, 37.0, 6000.0, 220.0, 90.0, 0.0, AssetClass::FixedWing);
    let (x, y) = coordinated(&a, &b, &std);
    assert_eq!((x, y), (Advice::none(Method::Mvp), Advice::none(Method::Mvp)));
}

#[test]
fn drones_head_on_get_coordinated_bands_advice() {
    let std = drones();
    // 3 km apart head-on, co-altitude: a conflict DO-365 grades corrective or worse
    let a = state(35.0, 36.0, 900.0, 40.0, 90.0, 0.0, AssetClass::UasLarge);
    let b = state(
        35.0,
        36.0 + 3000.0 / 91_100.0,
        900.0,
        40.0,
        270.0,
        0.0,
        AssetClass::UasLarge,
    );
    let (x, y) = coordinated(&a, &b, &std);
    assert_eq!(x.method, Method::Bands);
    let (px, py) = (x.preferred.unwrap(), y.preferred.unwrap());
    let turns = |m: &Manoeuvre| matches!(m, Manoeuvre::TurnLeft { .. } | Manoeuvre::TurnRight { .. });
    if turns(&px) && turns(&py) {
        // dead ahead: no side to turn towards, so the tie goes to both turning right
        assert!(matches!(px, Manoeuvre::TurnRight { .. }) && matches!(py, Manoeuvre::TurnRight { .. }));
    }
    // both flown together, the pair is no longer corrective
    let (fa, fb) = (fly(&a, &px), fly(&b, &py));
    assert!(level_of(&fa, &fb) < AlertLevel::Corrective, "{px:?} {py:?}");
}

fn level_of(a: &TrackState, b: &TrackState) -> AlertLevel {
    let p = Do365Profile::do365a();
    crate::cpa::relative(a.n, a.v, a.alt_m, a.vs_mps, b.n, b.v, b.alt_m, b.vs_mps)
        .map(|r| raw_level(&r, &p, AlertLevel::None))
        .unwrap_or(AlertLevel::None)
}

/// Two aircraft converging on a point `t` seconds ahead of `a`, `b` missing it by up to
/// 0.02° and `dz` metres, each with a vertical speed up to `vs`: (a, b).
fn pair(
    class: AssetClass,
    speeds: std::ops::Range<f64>,
    dz: f64,
    vs: f64,
) -> impl Strategy<Value = (TrackState, TrackState)> {
    (
        (speeds.clone(), 0.0..360.0f64, -vs..vs),
        (speeds, 0.0..360.0f64, -vs..vs),
        (20.0..200.0f64, -0.02..0.02f64, -0.02..0.02f64, -dz..dz),
    )
        .prop_map(move |((gs, trk, v), (gs2, trk2, v2), (t, mlat, mlng, z))| {
            let a = state(35.0, 36.0, 3000.0, gs, trk, v, class);
            let (lat, lng) = a.propagated(t).lat_lng();
            let at_meet = state(lat + mlat, lng + mlng, 3000.0 + z + v * t, gs2, trk2, v2, class);
            (a, at_meet.propagated(-t))
        })
}

fn swapped((x, y): (Advice, Advice)) -> (Advice, Advice) {
    (y, x)
}

proptest! {
    #![proptest_config(ProptestConfig { max_global_rejects: 100_000, ..ProptestConfig::with_cases(256) })]

    /// Both sides flying their MVP halves, horizontal or vertical, are in conflict no more,
    /// whenever there was time to manoeuvre (separation not lost within 10 s).
    #[test]
    fn mvp_resolves_when_both_fly_it((a, b) in pair(AssetClass::FixedWing, 100.0..250.0, 600.0, 10.0)) {
        let std = manned();
        let c = detect_pair(&a, &b, &std);
        prop_assume!(c.is_some_and(|c| c.tin_s >= 10.0));
        let (x, y) = coordinated(&a, &b, &std);
        let horizontal = |a: &Advice| a.track_left_deg.or(a.track_right_deg).or(a.gs_up_mps).or(a.gs_down_mps).is_some();
        let vertical = |a: &Advice| a.vs_up_mps.or(a.vs_down_mps).is_some();
        // a pair not closing horizontally (at its closest point now) has no horizontal push;
        // a push past the speed limits is not given; both sides get a push or neither does
        prop_assert_eq!(horizontal(&x), horizontal(&y));
        prop_assert_eq!(vertical(&x), vertical(&y));
        if horizontal(&x) {
            let h = detect_pair(&fly_horizontal(&a, &x), &fly_horizontal(&b, &y), &std);
            prop_assert!(h.is_none(), "horizontal {x:?} {y:?} leaves {h:?}");
        }
        let v = detect_pair(&fly_vertical(&a, &x), &fly_vertical(&b, &y), &std);
        prop_assert!(v.is_none(), "vertical {x:?} {y:?} leaves {v:?}");
        // and opposite senses
        prop_assert!(!(x.vs_up_mps.is_some() && y.vs_up_mps.is_some()));
        prop_assert!(!(x.vs_down_mps.is_some() && y.vs_down_mps.is_some()));
        // both sides are told to fly the same dimension (a half alone does not resolve)
        use Manoeuvre::*;
        let dim = |m: Option<Manoeuvre>| m.map(|m| matches!(m, VsUp { .. } | VsDown { .. }));
        prop_assert_eq!(dim(x.preferred), dim(y.preferred), "{:?} {:?}", x.preferred, y.preferred);
        prop_assert_eq!(x.preferred.is_some(), horizontal(&x) || vertical(&x));
    }

    /// Asked from either side, the advice is the same.
    #[test]
    fn advice_is_the_same_from_either_side(
        (a, b) in pair(AssetClass::UasLarge, 20.0..80.0, 200.0, 4.0),
        manned_pair in any::<bool>(),
    ) {
        let std = if manned_pair { manned() } else { drones() };
        prop_assert_eq!(coordinated(&a, &b, &std), swapped(coordinated(&b, &a, &std)));
    }

    /// The two preferred manoeuvres never work against each other: never the same vertical
    /// sense, never crossing (the lower at the closest point of approach never climbs), never
    /// both turning towards the other, never the same speed sense.
    #[test]
    fn preferred_manoeuvres_never_conflict((a, b) in pair(AssetClass::UasLarge, 20.0..80.0, 200.0, 4.0)) {
        let std = drones();
        never_conflict(&a, &b, &coordinated(&a, &b, &std), &std)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The same of the kinematic advice, whose check of the two flown together
    /// (`kinematic.rs`) may replace one side's manoeuvre by another of its coordinated
    /// candidates, or by none. (Flown together, kinematically: `tests/advice_kinematic_props.rs`.)
    #[test]
    fn kinematic_preferred_manoeuvres_never_conflict((a, b) in pair(AssetClass::UasLarge, 20.0..80.0, 200.0, 4.0)) {
        let std = drones();
        let (x, y) = coordinated_kinematic(&a, &b, &std);
        prop_assert_eq!((x.method, y.method), (Method::KinematicBands, Method::KinematicBands));
        never_conflict(&a, &b, &(x, y), &std)?;
    }
}

/// The sense rules of [`preferred_manoeuvres_never_conflict`].
fn never_conflict(
    a: &TrackState,
    b: &TrackState,
    (x, y): &(Advice, Advice),
    std: &SeparationStandard,
) -> Result<(), TestCaseError> {
    let (Some(p), Some(q)) = (x.preferred, y.preferred) else {
        return Ok(());
    };
    use Manoeuvre::*;
    match (p, q) {
        (VsUp { .. }, VsUp { .. }) | (VsDown { .. }, VsDown { .. }) => {
            prop_assert!(false, "same sense {p:?} {q:?}")
        }
        (SpeedUp { .. }, SpeedUp { .. }) | (SlowDown { .. }, SlowDown { .. }) => {
            prop_assert!(false, "same speed sense {p:?} {q:?}")
        }
        (VsUp { .. }, VsDown { .. }) => prop_assert_eq!(above(a, b, std.lookahead_s), Some(true)),
        (VsDown { .. }, VsUp { .. }) => prop_assert_eq!(above(a, b, std.lookahead_s), Some(false)),
        (TurnLeft { .. } | TurnRight { .. }, TurnLeft { .. } | TurnRight { .. }) => {
            let dir = |m: &Manoeuvre| {
                if matches!(m, TurnLeft { .. }) {
                    Direction::Left
                } else {
                    Direction::Right
                }
            };
            let towards = side_of(a, b) == Some(dir(&p)) && side_of(b, a) == Some(dir(&q));
            prop_assert!(!towards, "both turn towards the other: {p:?} {q:?}");
        }
        _ => {}
    }
    Ok(())
}

#[test]
fn kinematic_advice_of_manned_pairs_is_mvp_and_none_without_conflict() {
    let std = manned();
    let a = state(35.0, 36.0, 6000.0, 220.0, 0.0, 0.0, AssetClass::FixedWing);
    let b = state(
        35.0 + 20.0 * 1852.0 / 111_195.0,
        36.0,
        6091.44,
        220.0,
        180.0,
        0.0,
        AssetClass::FixedWing,
    );
    assert_eq!(coordinated_kinematic(&a, &b, &std), coordinated(&a, &b, &std));
    // drones far apart, parallel: no option, no preference
    let a = state(35.0, 36.0, 900.0, 40.0, 90.0, 0.0, AssetClass::UasLarge);
    let b = state(35.1, 36.0, 900.0, 40.0, 90.0, 0.0, AssetClass::UasLarge);
    let none = Advice::none(Method::KinematicBands);
    assert_eq!(coordinated_kinematic(&a, &b, &drones()), (none, none));
}

/// The kinematic advice's options are the instantaneous ones' where the manoeuvre is quick,
/// and further out where it is not: the drones' head-on, 3 km apart at 40 m/s each, leaves
/// 15 s of turning, so the kinematic track options turn at least as far.
#[test]
fn kinematic_options_turn_at_least_as_far_as_instantaneous_ones() {
    let a = state(35.0, 36.0, 900.0, 40.0, 90.0, 0.0, AssetClass::UasLarge);
    let b = state(
        35.0,
        36.0 + 3000.0 / 91_100.0,
        900.0,
        40.0,
        270.0,
        0.0,
        AssetClass::UasLarge,
    );
    let cfg = BandsConfig::do365a();
    let i = bands_advice(&a, &b, &cfg);
    let k = bands_advice_in(&a, &b, &cfg, Mode::Kinematic);
    assert_eq!((i.method, k.method), (Method::Bands, Method::KinematicBands));
    let right = |x: &Advice| turn(90.0, x.track_right_deg.unwrap());
    let left = |x: &Advice| turn(x.track_left_deg.unwrap(), 90.0);
    assert!(right(&k) >= right(&i) && left(&k) >= left(&i), "{i:?} {k:?}");
    assert_eq!(bands_advice_in(&a, &b, &cfg, Mode::Instantaneous), i);
}

/// The trajectory of a manoeuvre turns the way it says, for as long as it takes.
#[test]
fn manoeuvre_trajectories_turn_the_way_they_say() {
    use crate::bands::trajectory::Own;
    let cfg = BandsConfig::do365a();
    let own = Own {
        track_deg: 10.0,
        gs_mps: 50.0,
        vs_mps: 0.0,
        alt_m: 1000.0,
    };
    let heading = |s: &crate::bands::trajectory::Segment| s.w[0].atan2(s.w[1]).to_degrees().rem_euclid(360.0);
    // a left turn of 180°: 60 s at 3°/s, the first chord left of the track, ending on 190°
    let t = kinematic::manoeuvre_trajectory(&own, Some(&Manoeuvre::TurnLeft { track_deg: 190.0 }), &cfg);
    assert!((t.last().unwrap().t0 - 60.0).abs() < 1e-9);
    assert!(turn(10.0, heading(&t[0])) < 0.0, "{:?}", t[0]);
    assert!((heading(t.last().unwrap()) - 190.0).abs() < 1e-9);
    // a right turn of 1° across north: a third of a second
    let own = Own {
        track_deg: 359.5,
        ..own
    };
    let t = kinematic::manoeuvre_trajectory(&own, Some(&Manoeuvre::TurnRight { track_deg: 0.5 }), &cfg);
    assert!((t.last().unwrap().t0 - 1.0 / 3.0).abs() < 1e-9, "{t:?}");
    // none: straight on
    let t = kinematic::manoeuvre_trajectory(&own, None, &cfg);
    assert_eq!(t.len(), 1);
}

/// The head-on of the service's end-to-end test: two drones under a 50 m cylinder on one
/// meridian, a hair apart, so that each is (by floating point) on the other's right. MVP's
/// halves turn both right; the bands' "never both towards the other" veto once refused both
/// turns, leaving one side a 0.009 m/s speed change and the other nothing.
#[test]
fn mvp_head_on_a_hair_apart_turns_both_right() {
    let std = SeparationStandard {
        radius_m: 50.0,
        half_height_m: 15.0,
        lookahead_s: 60.0,
        ..manned()
    };
    let a = state(35.0, 35.0, 120.0, 20.0, 0.0, 0.0, AssetClass::UasSmall);
    let b = state(35.016184, 35.0, 120.0, 20.0, 180.0, 0.0, AssetClass::UasSmall);
    let (x, y) = coordinated(&a, &b, &std);
    assert!(
        matches!(x.preferred, Some(Manoeuvre::TurnRight { .. }))
            && matches!(y.preferred, Some(Manoeuvre::TurnRight { .. })),
        "{x:?} {y:?}"
    );
    let (fa, fb) = (fly(&a, &x.preferred.unwrap()), fly(&b, &y.preferred.unwrap()));
    let (fa, fb) = (fly_horizontal(&fa, &x), fly_horizontal(&fb, &y));
    assert!(detect_pair(&fa, &fb, &std).is_none());
}
