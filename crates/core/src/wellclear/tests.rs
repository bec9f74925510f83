#![allow(clippy::unwrap_used)]
//! Boundary cases of the well-clear volume, the closed-form interval against time stepping,
//! and the M-of-N hysteresis.

use super::alerting::assess;
use super::volume::*;
use super::*;
use crate::cpa::Relative;
use crate::geodesy::{dot, Vec3};
use proptest::prelude::*;
use AlertLevel::{Corrective, Preventive, Warning};

/// A relative geometry in a flat frame (x east, y north; z unused), built exactly.
fn rel(d: [f64; 2], v: [f64; 2], dalt: f64, dvs: f64) -> Relative {
    let d: Vec3 = [d[0], d[1], 0.0];
    let v: Vec3 = [v[0], v[1], 0.0];
    Relative {
        d,
        v,
        dist2: dot(d, d),
        vrel2: dot(v, v),
        dalt,
        dvs,
    }
}

const THR: WcvThresholds = WcvThresholds {
    dthr_m: 1000.0,
    zthr_m: 100.0,
    tthr_s: 30.0,
};

#[test]
fn dalt_exactly_zthr_is_inside() {
    // co-located horizontally, level, |dz| = ZTHR exactly: violated now and for all time
    let r = rel([0.0, 0.0], [0.0, 0.0], 100.0, 0.0);
    assert!(wcv_violated(&r, &THR));
    let li = loss_interval(&r, &THR, 180.0).unwrap();
    assert_eq!((li.tin_s, li.tout_s), (0.0, 180.0));
    let r = rel([0.0, 0.0], [0.0, 0.0], -100.0, 0.0);
    assert!(wcv_violated(&r, &THR));
    // a hair (10 µm) outside: never
    let r = rel([0.0, 0.0], [0.0, 0.0], 100.00001, 0.0);
    assert!(!wcv_violated(&r, &THR));
    assert_eq!(loss_interval(&r, &THR, 180.0), None);
    // climbing through: enters when |dz| reaches ZTHR (to within the 1 µm margin)
    let r = rel([0.0, 0.0], [0.0, 0.0], -300.0, 10.0);
    let li = loss_interval(&r, &THR, 180.0).unwrap();
    assert!(
        (li.tin_s - 20.0).abs() < 1e-6 && (li.tout_s - 40.0).abs() < 1e-6,
        "{li:?}"
    );
    // at the edge now and leaving: violated now, so a warning
    let mut p = Do365Profile::do365a();
    for l in &mut p.levels {
        l.wcv = THR;
    }
    let r = rel([0.0, 0.0], [0.0, 0.0], 100.0, 1.0);
    assert!(wcv_violated(&r, &THR));
    assert_eq!(assess(&r, &p, AlertLevel::None).level, Warning);
    // level at |dz| = ZTHR exactly is a warning too (entered now, for good)
    let r = rel([0.0, 0.0], [0.0, 0.0], 100.0, 0.0);
    assert_eq!(assess(&r, &p, AlertLevel::None).level, Warning);
    // ZTHR given in feet: 10450 ft − 10000 ft is 450 ft whichever way the metres round
    let ft = crate::geodesy::FT_TO_M;
    let thr_ft = WcvThresholds {
        zthr_m: 450.0 * ft,
        ..THR
    };
    for base in (0..40_000).step_by(50) {
        let base = f64::from(base);
        let dz = (base + 450.0) * ft - base * ft;
        let r = rel([0.0, 0.0], [0.0, 0.0], dz, 0.0);
        assert!(wcv_violated(&r, &thr_ft), "{base} ft + 450 ft: dz {dz} m");
    }
}

#[test]
fn dcpa_exactly_dthr_is_inside_for_tthr_before_cpa() {
    // from 5000 m west and 1000 m north, 100 m/s east: tcpa 50 s, dcpa = DTHR = 1000 m exactly
    let r = rel([-5000.0, 1000.0], [100.0, 0.0], 0.0, 0.0);
    assert_eq!(dcpa(&r), 1000.0);
    assert_eq!(tcpa(&r), 50.0);
    // h = 0, so the interval is [tcpa − TTHR, tcpa]
    let li = loss_interval(&r, &THR, 180.0).unwrap();
    assert_eq!((li.tin_s, li.tout_s), (20.0, 50.0));
    // the predicate agrees: tau_mod at t = 20 is exactly TTHR
    let at = relative_at(&r, 20.0);
    assert_eq!(tau_mod(&at, 1000.0), Some(30.0));
    assert!(wcv_violated(&at, &THR));
    assert!(!wcv_violated(&relative_at(&r, 19.9), &THR));
    assert!(wcv_violated(&relative_at(&r, 50.0), &THR));
    assert!(!wcv_violated(&relative_at(&r, 50.1), &THR));
    // one metre wider miss: never
    let r = rel([-5000.0, 1001.0], [100.0, 0.0], 0.0, 0.0);
    assert_eq!(loss_interval(&r, &THR, 180.0), None);
    // with TTHR = 0 only the tangent instant remains, which is no alert
    let thr0 = WcvThresholds { tthr_s: 0.0, ..THR };
    let r = rel([-5000.0, 1000.0], [100.0, 0.0], 0.0, 0.0);
    let li = loss_interval(&r, &thr0, 180.0).unwrap();
    assert_eq!((li.tin_s, li.tout_s), (50.0, 50.0));
}

#[test]
fn zero_closure_parallel_same_speed() {
    // same velocity: relative speed exactly zero, inside and outside
    let inside = rel([600.0, 800.0], [0.0, 0.0], 50.0, 0.0);
    assert!(wcv_violated(&inside, &THR));
    let li = loss_interval(&inside, &THR, 180.0).unwrap();
    assert_eq!((li.tin_s, li.tout_s), (0.0, 180.0));
    assert_eq!(tau_mod(&inside, 1000.0), None);
    let edge = rel([600.0, 800.0], [0.0, 0.0], 0.0, 0.0); // r = 1000 = DTHR exactly
    assert!(wcv_violated(&edge, &THR));
    let outside = rel([600.0, 800.001], [0.0, 0.0], 0.0, 0.0);
    assert!(!wcv_violated(&outside, &THR));
    assert_eq!(loss_interval(&outside, &THR, 180.0), None);
    // a relative speed below VREL2_EPS counts as zero: no NaN, no infinity in the output
    let creeping = rel([600.0, 800.001], [-1e-7, 0.0], 0.0, 0.0);
    assert_eq!(loss_interval(&creeping, &THR, 180.0), None);
    let creeping_in = rel([600.0, 800.0], [-1e-7, 0.0], 0.0, 0.0);
    let li = loss_interval(&creeping_in, &THR, 180.0).unwrap();
    assert!(li.tin_s == 0.0 && li.tout_s == 180.0);
    // closing in parallel lanes offset vertically beyond ZTHR: never
    let r = rel([0.0, -5000.0], [0.0, 100.0], 101.0, 0.0);
    assert_eq!(loss_interval(&r, &THR, 180.0), None);
}

#[test]
fn head_on_matches_daidalus_e1_at_t0() {
    // E1 at t = 0 (DAIDALUS's CSV): 19.964205 NM, closing 499.996 kt, HMD 0.099821 NM;
    // time to the DO-365A volumes 108.122 s.
    use crate::geodesy::{KT_TO_MPS, NM_TO_M};
    let rng = 19.964205 * NM_TO_M;
    let off = 0.099821 * NM_TO_M;
    let along = (rng * rng - off * off).sqrt();
    let r = rel([off, along], [0.0, -499.995928 * KT_TO_MPS], 0.0, 0.0);
    let a = assess(&r, &Do365Profile::do365a(), AlertLevel::None);
    let tin = a.intervals[2].unwrap().tin_s;
    assert!((tin - 108.122176).abs() < 1e-3, "{tin}");
    assert_eq!(a.level, AlertLevel::None);
}

#[test]
fn levels_follow_the_alerting_times() {
    let p = Do365Profile::do365a();
    let v = 100.0;
    // head on at the same altitude, entry into every volume at tin
    let at_tin = |tin: f64, dalt: f64| {
        // tau_mod entry for dcpa = 0: r² − D² = TTHR·r·v  →  r = (T v + √(T²v² + 4D²))/2
        let d = p.levels[0].wcv.dthr_m;
        let t = 35.0;
        let r_entry = (t * v + (t * t * v * v + 4.0 * d * d).sqrt()) / 2.0;
        rel([0.0, r_entry + v * tin], [0.0, -v], dalt, 0.0)
    };
    let level = |r: &Relative, held| assess(r, &p, held).level;
    assert_eq!(level(&at_tin(60.0, 0.0), AlertLevel::None), AlertLevel::None);
    assert_eq!(level(&at_tin(54.0, 0.0), AlertLevel::None), Corrective);
    assert_eq!(level(&at_tin(24.0, 0.0), AlertLevel::None), Warning);
    // 600 ft apart: only the preventive volume (700 ft)
    assert_eq!(level(&at_tin(24.0, 600.0 * 0.3048), AlertLevel::None), Preventive);
    // early alerting times while held
    assert_eq!(level(&at_tin(60.0, 0.0), Corrective), Corrective);
    assert_eq!(level(&at_tin(76.0, 0.0), Corrective), AlertLevel::None);
    assert_eq!(level(&at_tin(40.0, 0.0), Warning), Warning);
    assert_eq!(level(&at_tin(40.0, 0.0), Corrective), Corrective);
    // raw_level (the hot path) agrees with assess
    for tin in [0.0, 10.0, 24.9, 25.1, 54.9, 55.1, 74.0, 76.0, 200.0] {
        for held in [AlertLevel::None, Preventive, Corrective, Warning] {
            for dalt in [0.0, 150.0, 200.0] {
                let r = at_tin(tin, dalt);
                assert_eq!(raw_level(&r, &p, held), level(&r, held), "{tin} {held:?} {dalt}");
            }
        }
    }
}

#[test]
fn do365b_noncoop_is_a_cylinder_with_an_hmd_filter() {
    let p = Do365Profile::do365b_noncoop();
    let d = p.levels[0].wcv.dthr_m;
    // head on, entry into the 1500 ft disc in 40 s: alert (45 s); in 50 s: not yet
    let r = rel([0.0, d + 40.0 * 100.0], [0.0, -100.0], 0.0, 0.0);
    assert_eq!(assess(&r, &p, AlertLevel::None).level, Warning);
    let r = rel([0.0, d + 50.0 * 100.0], [0.0, -100.0], 0.0, 0.0);
    assert_eq!(assess(&r, &p, AlertLevel::None).level, AlertLevel::None);
    assert_eq!(Do365Profile::by_name("do365b").unwrap(), p);
    assert!(Do365Profile::by_name("tcas").is_none());
}

fn thresholds() -> impl Strategy<Value = WcvThresholds> {
    (
        100.0..3000.0f64,
        30.0..300.0f64,
        prop_oneof![Just(0.0), 0.0..60.0f64],
    )
        .prop_map(|(dthr_m, zthr_m, tthr_s)| WcvThresholds {
            dthr_m,
            zthr_m,
            tthr_s,
        })
}

fn geometry() -> impl Strategy<Value = Relative> {
    (
        -20_000.0..20_000.0f64,
        -20_000.0..20_000.0f64,
        prop_oneof![Just(0.0), -300.0..300.0f64],
        -300.0..300.0f64,
        -1000.0..1000.0f64,
        prop_oneof![Just(0.0), -20.0..20.0f64],
    )
        .prop_map(|(x, y, vx, vy, dalt, dvs)| rel([x, y], [vx, vy], dalt, dvs))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The closed-form interval is what time stepping the predicate finds: every step well
    /// inside it violates well clear, every step well outside it does not.
    #[test]
    fn closed_form_interval_agrees_with_time_stepping(r in geometry(), thr in thresholds()) {
        let lookahead = 180.0;
        let li = loss_interval(&r, &thr, lookahead);
        // tolerance: 1e-6 s of relative motion either side of the boundaries
        let eps = 1e-6;
        let dt = 0.05;
        let mut t = 0.0;
        while t <= lookahead {
            let inside = wcv_violated(&relative_at(&r, t), &thr);
            match li {
                Some(li) => {
                    if t > li.tin_s + eps && t < li.tout_s - eps {
                        prop_assert!(inside, "t {t} in {li:?} but not violated");
                    }
                    if t < li.tin_s - eps || t > li.tout_s + eps {
                        prop_assert!(!inside, "t {t} outside {li:?} but violated");
                    }
                }
                None => prop_assert!(!inside, "t {t} violated but no interval"),
            }
            t += dt;
        }
        if let Some(li) = li {
            prop_assert!(0.0 <= li.tin_s && li.tin_s <= li.tout_s && li.tout_s <= lookahead);
        }
    }

    /// The hot path and the full assessment grade every pair alike.
    #[test]
    fn raw_level_agrees_with_assess(r in geometry(), held in 0u8..4) {
        let held = AlertLevel::try_from(held).unwrap();
        for p in [Do365Profile::do365a(), Do365Profile::do365b_noncoop()] {
            prop_assert_eq!(raw_level(&r, &p, held), assess(&r, &p, held).level);
        }
    }
}

#[test]
fn m_of_n_delays_onsets_and_holds_alerts() {
    let cfg = MofNConfig::DAIDALUS;
    let mut h = MofNHysteresis::new();
    let raw = [0, 0, 2, 2, 2, 3, 3, 3, 3, 3, 0, 0, 0, 0];
    let want = [0, 0, 0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 0, 0];
    for (i, (&r, &w)) in raw.iter().zip(&want).enumerate() {
        let got = h.update(AlertLevel::try_from(r).unwrap(), i as f64, &cfg);
        assert_eq!(got as u8, w, "t {i}");
    }
    // a new pair's first scan is reported as it is (nothing to confirm it against)
    let mut h = MofNHysteresis::new();
    assert_eq!(h.update(Warning, 0.0, &cfg), Warning);
    // off: the raw level, scan by scan
    let mut h = MofNHysteresis::new();
    for (i, &r) in raw.iter().enumerate() {
        let l = AlertLevel::try_from(r).unwrap();
        assert_eq!(h.update(l, i as f64, &MofNConfig::OFF), l);
    }
    assert_eq!(h.held(&MofNConfig::OFF), AlertLevel::None);
}

#[test]
fn persistence_holds_a_fresh_level_and_gaps_forget_the_history() {
    let cfg = MofNConfig::DAIDALUS;
    // raw 2 at t = 1 and 2 only: raised at t = 2 (2 of 4), still 2 of 4 at t = 3 and 4;
    // at t = 5 M of N alone says 0, but the level has been reported only 3 s: persistence
    // holds it until t = 6
    let mut h = MofNHysteresis::new();
    h.update(AlertLevel::None, 0.0, &cfg);
    assert_eq!(h.update(Corrective, 1.0, &cfg), AlertLevel::None);
    assert_eq!(h.update(Corrective, 2.0, &cfg), Corrective);
    assert_eq!(h.update(AlertLevel::None, 3.0, &cfg), Corrective);
    assert_eq!(h.update(AlertLevel::None, 4.0, &cfg), Corrective);
    assert_eq!(h.update(AlertLevel::None, 5.0, &cfg), Corrective);
    assert!(!h.is_quiet());
    assert_eq!(h.update(AlertLevel::None, 6.0, &cfg), AlertLevel::None);
    assert!(h.is_quiet(), "level 0 and no raw alert left in the last 4");
    // a raw alert still in the history is not quiet though the level is 0
    let mut h = MofNHysteresis::new();
    h.update(AlertLevel::None, 0.0, &cfg);
    assert_eq!(h.update(Preventive, 1.0, &cfg), AlertLevel::None);
    assert!(!h.is_quiet());
    // a gap longer than hysteresis_s forgets the history: the next scan is reported as is
    let mut h = MofNHysteresis::new();
    h.update(AlertLevel::None, 0.0, &cfg);
    h.update(AlertLevel::None, 1.0, &cfg);
    assert_eq!(h.update(Warning, 10.0, &cfg), Warning);
    // time going backwards resets
    assert_eq!(h.update(AlertLevel::None, 5.0, &cfg), AlertLevel::None);
    assert!(MofNConfig { m: 5, ..cfg }.validate().is_err());
    assert!(MofNConfig { n: 0, ..cfg }.validate().is_err());
    assert!(MofNConfig::DAIDALUS.validate().is_ok());
}
