//! Unit tests of the broad phase.
use super::*;
use crate::track::TrackState;

#[test]
fn margin_is_monotone_and_convex_enough() {
    // e(a) + e(b) >= g(a + b) for the pair bound, sampled
    let (r, l) = (9260.0, 300.0);
    for a in [0.0, 50.0, 250.0, 600.0, 1000.0] {
        for b in [0.0, 50.0, 250.0, 600.0, 1000.0] {
            let pair = 2.0 * horizontal_margin(r, l, (a + b) / 2.0);
            assert!(horizontal_margin(r, l, a) + horizontal_margin(r, l, b) >= pair - 1e-6);
        }
    }
    assert!(horizontal_margin(9260.0, 300.0, 250.0) < 9260.0 * 0.52);
}

#[test]
fn empty_and_single() {
    let t = SeparationTable::defaults();
    let mut d = Detector::new();
    assert!(d.scan(&Scene::new(), &t).is_empty());
    let s = Scene::from_states(&[TrackState::new(
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        AssetClass::FixedWing,
    )]);
    assert!(d.scan(&s, &t).is_empty());
}

#[test]
fn non_finite_states_fall_back_without_panic() {
    let t = SeparationTable::defaults();
    let mut a = TrackState::new(0.0, 0.0, 1000.0, 100.0, 0.0, 0.0, AssetClass::FixedWing);
    let b = TrackState::new(0.01, 0.0, 1000.0, 100.0, 180.0, 0.0, AssetClass::FixedWing);
    a.vs_mps = f64::NAN;
    let s = Scene::from_states(&[a, b, b]);
    let got: Vec<_> = Detector::new().scan(&s, &t).iter().map(|c| (c.a, c.b)).collect();
    let want: Vec<_> = brute_force(&s, &t).iter().map(|c| (c.a, c.b)).collect();
    assert_eq!(got, want);
}
