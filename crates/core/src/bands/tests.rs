#![allow(clippy::unwrap_used)]
//! The bands partition their ranges, a resolution is conflict-free when flown, and the
//! trajectories end where the manoeuvres say.

use super::grid::ranges;
use super::trajectory::{level_off, trial, Dim, Own};
use super::*;
use crate::class::AssetClass;
use crate::cpa::relative;
use crate::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use crate::level::AlertLevel;
use crate::track::TrackReport;
use crate::wellclear::raw_level;
use proptest::prelude::*;
use BandLevel::{Corrective, Warning};

fn report(name: &str, lat: f64, lng: f64, alt_m: f64, gs: f64, trk: f64, vs: f64) -> TrackReport {
    TrackReport {
        asset: name.into(),
        time: 0.0,
        lat,
        lng,
        alt_m,
        gs_mps: gs,
        track_deg: trk,
        vs_mps: vs,
        class: AssetClass::UasLarge,
    }
}

#[test]
fn gaps_go_to_the_more_severe_level() {
    let v = [0.0, 5.0, 10.0, 15.0, 20.0];
    let l = [
        BandLevel::None,
        BandLevel::None,
        Warning,
        Corrective,
        BandLevel::None,
    ];
    let b = ranges(&v, &l);
    let got: Vec<(f64, f64, BandLevel)> = b.iter().map(|b| (b.lo, b.hi, b.level)).collect();
    assert_eq!(
        got,
        vec![
            (0.0, 5.0, BandLevel::None),
            (5.0, 15.0, Warning),
            (15.0, 20.0, Corrective),
            (20.0, 20.0, BandLevel::None)
        ]
    );
    // an isolated free value is a band of its own
    let b = ranges(&[0.0, 1.0, 2.0], &[Warning, BandLevel::None, Warning]);
    assert_eq!(b.len(), 3);
    assert_eq!((b[1].lo, b[1].hi, b[1].level), (1.0, 1.0, BandLevel::None));
}

#[test]
fn kinematic_manoeuvres_end_where_they_say() {
    let cfg = BandsConfig::do365a();
    let own = Own {
        track_deg: 0.0,
        gs_mps: 100.0,
        vs_mps: 0.0,
        alt_m: 3000.0,
    };
    // a 90° right turn at 3°/s lasts 30 s and ends heading east, offset by the turn radius
    let t = trial(&own, Dim::Track, 90.0, 90.0, Mode::Kinematic, &cfg);
    let last = t.last().unwrap();
    let r = 100.0 / 3f64.to_radians();
    assert!((last.t0 - 30.0).abs() < 1e-9);
    assert!(
        (last.p[0] - r).abs() < 1e-6 && (last.p[1] - r).abs() < 1e-6,
        "{last:?}"
    );
    assert!((last.w[0] - 100.0).abs() < 1e-9 && last.w[1].abs() < 1e-9);
    // speeding up by 20 m/s at 2 m/s² takes 10 s
    let t = trial(&own, Dim::Gs, 120.0 / KT_TO_MPS, 0.0, Mode::Kinematic, &cfg);
    let last = t.last().unwrap();
    assert!(
        (last.t0 - 10.0).abs() < 1e-9 && (last.p[1] - 1100.0).abs() < 1e-6,
        "{last:?}"
    );
    // a climb of 1000 ft at 500 fpm levels off at +1000 ft a little after 120 s
    let (tm, s) = level_off(
        1000.0 * FT_TO_M,
        0.0,
        500.0 * FPM_TO_MPS,
        cfg.vertical_accel_mps2,
        180.0,
    );
    assert!((120.0..123.0).contains(&tm), "{tm}");
    assert!((s.last().unwrap().0 - 1000.0 * FT_TO_M).abs() < 1e-9);
    assert!(s.iter().all(|(_, v)| v.abs() <= 500.0 * FPM_TO_MPS + 1e-9));
}

#[test]
fn no_traffic_means_no_bands() {
    let own = report("own", 35.4, 35.95, 3000.0, 80.0, 10.0, 0.0);
    let b = compute(&own, &[], &BandsConfig::do365a(), Mode::Kinematic);
    for bands in [&b.track_deg, &b.gs_kt, &b.vs_fpm, &b.alt_ft] {
        assert_eq!(bands.len(), 1, "{bands:?}");
        assert_eq!(bands[0].level, BandLevel::None);
    }
    assert_eq!((b.track_deg[0].lo, b.track_deg[0].hi), (0.0, 360.0));
    assert_eq!((b.gs_kt[0].lo, b.gs_kt[0].hi), (10.0, 700.0));
    assert_eq!(b.resolution, Resolution::default());
}

fn encounter() -> impl Strategy<Value = (TrackReport, Vec<TrackReport>)> {
    let own = (40.0..150.0f64, 0.0..360.0f64, -5.0..5.0f64)
        .prop_map(|(gs, trk, vs)| report("own", 35.4, 35.95, 3000.0, gs, trk, vs));
    let intruder = (
        -0.12..0.12f64,
        -0.12..0.12f64,
        -300.0..300.0f64,
        20.0..200.0f64,
        0.0..360.0f64,
        -8.0..8.0f64,
    );
    (own, prop::collection::vec(intruder, 1..4)).prop_map(|(own, is)| {
        let traffic = is
            .into_iter()
            .enumerate()
            .map(|(k, (dlat, dlon, dz, gs, trk, vs))| {
                report(
                    &format!("i{k}"),
                    35.4 + dlat,
                    35.95 + dlon,
                    3000.0 + dz,
                    gs,
                    trk,
                    vs,
                )
            })
            .collect();
        (own, traffic)
    })
}

/// The raw level of `own` flown as it is against `traffic`.
fn raw(own: &TrackReport, traffic: &[TrackReport]) -> AlertLevel {
    let o = own.state();
    let p = crate::wellclear::Do365Profile::do365a();
    traffic
        .iter()
        .filter_map(|t| {
            let s = t.state();
            relative(o.n, o.v, o.alt_m, o.vs_mps, s.n, s.v, s.alt_m, s.vs_mps)
        })
        .map(|r| raw_level(&r, &p, AlertLevel::None))
        .max()
        .unwrap_or(AlertLevel::None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Each dimension's bands cover its range from end to end, in order, each band starting
    /// where the previous one ends, with no two neighbours of one level.
    #[test]
    fn bands_partition_their_ranges((own, traffic) in encounter(), kinematic in any::<bool>()) {
        let cfg = BandsConfig::do365a();
        let mode = if kinematic { Mode::Kinematic } else { Mode::Instantaneous };
        let refs: Vec<&TrackReport> = traffic.iter().collect();
        let b = compute(&own, &refs, &cfg, mode);
        for (bands, (lo, hi)) in [
            (&b.track_deg, (0.0, 360.0)),
            (&b.gs_kt, cfg.gs_kt),
            (&b.vs_fpm, cfg.vs_fpm),
            (&b.alt_ft, cfg.alt_ft),
        ] {
            prop_assert!(!bands.is_empty());
            prop_assert!((bands[0].lo - lo).abs() < 1e-9, "{bands:?}");
            prop_assert!((bands[bands.len() - 1].hi - hi).abs() < 1e-9, "{bands:?}");
            for w in bands.windows(2) {
                prop_assert!((w[0].hi - w[1].lo).abs() < 1e-9, "gap or overlap: {bands:?}");
                prop_assert!(w[0].level != w[1].level, "{bands:?}");
            }
            for x in bands {
                prop_assert!(x.lo <= x.hi, "{bands:?}");
            }
        }
    }

    /// A resolution flown instantaneously is conflict-free: no corrective or warning alert
    /// (its volume entered within its alerting time) against any intruder, unless it is a
    /// recovery value, which must at least lie in a recovery band.
    #[test]
    fn resolutions_are_conflict_free((own, traffic) in encounter()) {
        let cfg = BandsConfig::do365a();
        let refs: Vec<&TrackReport> = traffic.iter().collect();
        let b = compute(&own, &refs, &cfg, Mode::Instantaneous);
        let r = b.resolution;
        let mut flown: Vec<(TrackReport, &[Band], f64)> = Vec::new();
        for x in [r.track_left_deg, r.track_right_deg].into_iter().flatten() {
            flown.push((TrackReport { track_deg: x, ..own.clone() }, &b.track_deg, x));
        }
        for x in [r.gs_up_kt, r.gs_down_kt].into_iter().flatten() {
            flown.push((TrackReport { gs_mps: x * KT_TO_MPS, ..own.clone() }, &b.gs_kt, x));
        }
        for x in [r.vs_up_fpm, r.vs_down_fpm].into_iter().flatten() {
            flown.push((TrackReport { vs_mps: x * FPM_TO_MPS, ..own.clone() }, &b.vs_fpm, x));
        }
        for x in [r.alt_up_ft, r.alt_down_ft].into_iter().flatten() {
            flown.push((TrackReport { alt_m: x * FT_TO_M, vs_mps: 0.0, ..own.clone() }, &b.alt_ft, x));
        }
        for (o, bands, x) in flown {
            // a resolution is a grid value at the end of its free band, which it shares with
            // the conflict band next to it
            let holding: Vec<BandLevel> = bands
                .iter()
                .filter(|b| b.lo - 1e-6 <= x && x <= b.hi + 1e-6)
                .map(|b| b.level)
                .collect();
            if holding.contains(&BandLevel::Recovery) {
                continue;
            }
            prop_assert!(holding.iter().any(|l| l.is_free()), "resolution {x} not in a free band: {bands:?}");
            let lvl = raw(&o, &traffic);
            prop_assert!(lvl < AlertLevel::Corrective, "resolution {x} flown is {lvl:?}");
        }
        // and a track resolution is there exactly when the current track is in a conflict
        // band; flying on in conflict, the current track is in a conflict band, or in a
        // recovery band when well clear is already lost and holding the track recovers
        // (the current track is a grid value: on the edge of two bands, it is in the free one)
        let trk = own.track_deg.rem_euclid(360.0);
        let holding: Vec<BandLevel> = b
            .track_deg
            .iter()
            .filter(|b| b.lo - 1e-6 <= trk && trk <= b.hi + 1e-6)
            .map(|b| b.level)
            .collect();
        let free_now = holding.iter().any(|l| l.is_free());
        prop_assert_eq!(r.preferred_track.is_some(), !free_now && b.track_deg.iter().any(|b| b.level.is_free()));
        let now = raw(&own, &traffic);
        if cfg.region_of(now) >= Corrective {
            prop_assert!(!free_now || holding.contains(&BandLevel::Recovery), "flying on is {now:?}, its track bands {holding:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The dimensions are computed independently: those [`compute_dims`] computes are
    /// [`compute`]'s, and the others are left empty.
    #[test]
    fn some_dimensions_are_those_of_all((own, traffic) in encounter(), kinematic in any::<bool>()) {
        let cfg = BandsConfig::do365a();
        let mode = if kinematic { Mode::Kinematic } else { Mode::Instantaneous };
        let refs: Vec<&TrackReport> = traffic.iter().collect();
        let all = compute(&own, &refs, &cfg, mode);
        let some = compute_dims(&own, &refs, &cfg, mode, &[Dim::Track, Dim::Gs, Dim::Vs]);
        prop_assert_eq!(&some.track_deg, &all.track_deg);
        prop_assert_eq!(&some.gs_kt, &all.gs_kt);
        prop_assert_eq!(&some.vs_fpm, &all.vs_fpm);
        prop_assert!(some.alt_ft.is_empty());
        prop_assert_eq!(&some.recovery[..3], &all.recovery[..3]);
        prop_assert_eq!(some.recovery[3], None);
        let (r, s) = (all.resolution, some.resolution);
        prop_assert_eq!(
            Resolution { alt_up_ft: None, alt_down_ft: None, preferred_alt: None, ..r },
            s
        );
        let vs_only = compute_dims(&own, &refs, &cfg, mode, &[Dim::Vs]);
        prop_assert!(vs_only.track_deg.is_empty() && vs_only.gs_kt.is_empty());
        prop_assert_eq!(&vs_only.vs_fpm, &all.vs_fpm);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Two flights graded together: against a straight intruder they are the bands' own
    /// intervals ([`any_loss`]), and from the other side they are the same.
    #[test]
    fn joint_losses_are_the_bands_and_symmetric(
        (own, traffic) in encounter(),
        turn in -180.0..180.0f64,
        other_turn in -180.0..180.0f64,
    ) {
        use super::trajectory::{any_loss, intruders, joint_losses};
        let cfg = BandsConfig::do365a();
        let thr = cfg.profile.levels[cfg.corrective].wcv;
        let end = cfg.profile.lookahead_s;
        let other = &traffic[0];
        let o = Own::of(&own);
        let x = Own::of(other);
        let traj = trial(&o, Dim::Track, o.track_deg + turn, turn, Mode::Kinematic, &cfg);
        let straight = trial(&x, Dim::Gs, x.gs_mps / KT_TO_MPS, 0.0, Mode::Instantaneous, &cfg);
        let ours = joint_losses((&own, &traj), (other, &straight), &thr, end);
        let mut theirs: Vec<(f64, f64)> = Vec::new();
        any_loss(&traj, &intruders(&own, &[other])[0], &thr, end, |i, o| {
            match theirs.last_mut() {
                Some(l) if i <= l.1 => l.1 = o,
                _ => theirs.push((i, o)),
            }
            false
        });
        prop_assert_eq!(ours.len(), theirs.len(), "{:?} {:?}", ours, theirs);
        for (a, b) in ours.iter().zip(&theirs) {
            prop_assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6, "{:?} {:?}", ours, theirs);
        }
        // both turning, seen from either side
        let other_traj = trial(&x, Dim::Track, x.track_deg + other_turn, other_turn, Mode::Kinematic, &cfg);
        let ab = joint_losses((&own, &traj), (other, &other_traj), &thr, end);
        let ba = joint_losses((other, &other_traj), (&own, &traj), &thr, end);
        prop_assert_eq!(ab.len(), ba.len(), "{:?} {:?}", ab, ba);
        for (a, b) in ab.iter().zip(&ba) {
            prop_assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6, "{:?} {:?}", ab, ba);
        }
    }
}

#[test]
fn joint_losses_of_aircraft_half_a_world_apart_are_none() {
    use super::trajectory::joint_losses;
    let cfg = BandsConfig::do365a();
    let a = report("a", 0.0, 0.0, 3000.0, 50.0, 90.0, 0.0);
    let b = report("b", 0.0, 179.0, 3000.0, 50.0, 270.0, 0.0);
    let ta = trial(
        &Own::of(&a),
        Dim::Gs,
        50.0 / KT_TO_MPS,
        0.0,
        Mode::Instantaneous,
        &cfg,
    );
    let tb = trial(
        &Own::of(&b),
        Dim::Gs,
        50.0 / KT_TO_MPS,
        0.0,
        Mode::Instantaneous,
        &cfg,
    );
    let huge = crate::wellclear::WcvThresholds {
        dthr_m: 3.0e7,
        zthr_m: 1.0e4,
        tthr_s: 0.0,
    };
    assert!(joint_losses((&a, &ta), (&b, &tb), &huge, 180.0).is_empty());
    // the same pair near each other is inside so large a volume all the time
    let b = report("b", 0.0, 0.1, 3000.0, 50.0, 270.0, 0.0);
    let tb = trial(
        &Own::of(&b),
        Dim::Gs,
        50.0 / KT_TO_MPS,
        0.0,
        Mode::Instantaneous,
        &cfg,
    );
    assert_eq!(
        joint_losses((&a, &ta), (&b, &tb), &huge, 180.0),
        vec![(0.0, 180.0)]
    );
}

/// DAIDALUS's 2-of-4 filter: a band reaching a new value shows it one step late, and one
/// leaving a value keeps it two steps; a boundary that stops moving shows where it is.
#[test]
fn hysteresis_lags_a_moving_boundary() {
    let own = report("own", 35.0, 35.0, 3000.0, 100.0, 0.0, 0.0);
    let gs = |edge: f64| Bands {
        track_deg: Vec::new(),
        gs_kt: vec![
            Band {
                lo: 10.0,
                hi: edge,
                level: BandLevel::None,
            },
            Band {
                lo: edge,
                hi: 700.0,
                level: Warning,
            },
        ],
        vs_fpm: Vec::new(),
        alt_ft: Vec::new(),
        recovery: [None; 4],
        resolution: Resolution::default(),
    };
    let mut f = BandsHysteresis::new(HysteresisConfig::do365a());
    let shown = |f: &mut BandsHysteresis, t: f64, edge: f64| {
        let mut b = gs(edge);
        f.apply(t, &own, &mut b);
        b.gs_kt[1].lo
    };
    assert_eq!(shown(&mut f, 0.0, 600.0), 600.0);
    // growing down by 5 kt a step: the previous step's edge
    assert_eq!(shown(&mut f, 1.0, 595.0), 600.0);
    assert_eq!(shown(&mut f, 2.0, 590.0), 595.0);
    // shrinking back: 590 kt was raised once (never shown), 595 kt twice: it holds for two
    // more steps
    assert_eq!(shown(&mut f, 3.0, 600.0), 595.0);
    assert_eq!(shown(&mut f, 4.0, 600.0), 595.0);
    assert_eq!(shown(&mut f, 5.0, 600.0), 600.0);
    // a gap longer than the hysteresis time forgets the past
    assert_eq!(shown(&mut f, 20.0, 650.0), 650.0);
}
