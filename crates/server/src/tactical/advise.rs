//! Resolution advice put on the events a scan tells, after coalescing: for each conflict, both
//! sides' advice computed together, each side's event given its own half. The other side's
//! advice never leaves this module.
//!
//! Advice is kinematic ([`coordinated_kinematic`]: the options flown at 3°/s, 2 m/s², 0.25 g,
//! and the two sides' manoeuvres checked flown together) for the first
//! [`AdviceBudget::kinematic`] conflicts of a scan, and instantaneous
//! ([`deconflict_core::advice::coordinated`]) for the rest, up to [`AdviceBudget::conflicts`].
//! Kinematic advice is what an aircraft can fly (the instantaneous one, flown kinematically,
//! broke its promise on 425 of 1,000 random drone encounters: `core/advice/kinematic.rs`), but
//! it costs some 1.5 ms a conflict against 0.12 ms (`deconflict bench` prints both), so the
//! budgets bound a scan's cost. Both are shared fairly: each party with events gets an equal
//! quota of each, its most urgent events first, and a conflict advised for one side is free
//! for the other. However many conflicts one party's aircraft make, the others' still get
//! advice (kinematic first), and the scan's cost stays bounded. The advice's `method` tells
//! which it is. Clearances get none.

use super::events::{AlertEvent, EventKind};
use deconflict_core::advice::{coordinated, coordinated_kinematic, Advice};
use deconflict_core::{PartyId, SeparationTable};
use std::collections::HashMap;

/// How many conflicts a scan advises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdviceBudget {
    /// At most this many conflicts get advice (0: no limit).
    pub conflicts: usize,
    /// Of them, at most this many kinematic advice (0: none; the rest get instantaneous).
    pub kinematic: usize,
}

impl AdviceBudget {
    /// Every conflict advised, kinematically.
    pub const UNLIMITED: AdviceBudget = AdviceBudget {
        conflicts: 0,
        kinematic: usize::MAX,
    };
}

/// What one scan's advising did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Advised {
    /// Conflicts advised.
    pub conflicts: usize,
    /// Of them, advised kinematically.
    pub kinematic: usize,
    /// Events left without advice for lack of budget.
    pub skipped: usize,
}

/// Puts advice on `events` (see the module docs) within `budget`.
pub fn advise(events: &mut [AlertEvent], table: &SeparationTable, budget: AdviceBudget) -> Advised {
    let wants = |e: &AlertEvent| !matches!(e.kind, EventKind::Cleared(_));
    let mut order: Vec<usize> = (0..events.len()).filter(|&i| wants(&events[i])).collect();
    // most urgent first (the level, then new and raised first), stable in the scan's order
    order.sort_by_key(|&i| {
        let e = &events[i];
        let fresh = matches!(e.kind, EventKind::New | EventKind::Raised);
        (std::cmp::Reverse(e.level), !fresh)
    });
    let mut parties: Vec<PartyId> = order.iter().map(|&i| events[i].party).collect();
    parties.sort_unstable();
    parties.dedup();
    let share = |n: usize| (n / parties.len().max(1)).max(1);
    let quota = if budget.conflicts == 0 {
        usize::MAX
    } else {
        share(budget.conflicts)
    };
    let kinematic_quota = if budget.kinematic == 0 {
        0
    } else {
        share(budget.kinematic)
    };
    // per party: (conflicts advised, of them kinematically)
    let mut used: HashMap<PartyId, (usize, usize)> = HashMap::new();
    // conflict id → (the first side advised: its party and asset, its advice, the other's)
    let mut done: HashMap<String, ((PartyId, String), Advice, Advice)> = HashMap::new();
    let mut out = Advised::default();
    for i in order {
        let e = &events[i];
        if let Some((first, x, y)) = done.get(&e.conflict_id) {
            let mine = if (first.0, first.1.as_str()) == (e.party, e.own_asset.as_str()) {
                *x
            } else {
                *y
            };
            events[i].advice = Some(mine);
            continue;
        }
        let (n, k) = used.entry(e.party).or_default();
        if *n >= quota || (budget.conflicts > 0 && out.conflicts >= budget.conflicts) {
            out.skipped += 1;
            continue;
        }
        *n += 1;
        out.conflicts += 1;
        let std = table.get(e.own_state.class, e.intruder.exact.class);
        // A manned pair's advice is MVP in either mode: it takes no kinematic place.
        let kinematic = std.do365.is_some() && *k < kinematic_quota && out.kinematic < budget.kinematic;
        let (x, y) = if kinematic {
            *k += 1;
            out.kinematic += 1;
            coordinated_kinematic(&e.own_state, &e.intruder.exact, std)
        } else {
            coordinated(&e.own_state, &e.intruder.exact, std)
        };
        done.insert(e.conflict_id.clone(), ((e.party, e.own_asset.clone()), x, y));
        events[i].advice = Some(x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tactical::{ConflictIds, Engine, Staleness};
    use deconflict_core::advice::{Manoeuvre, Method};
    use deconflict_core::{AlertLevel, AssetClass, TrackReport};

    fn rep(asset: &str, lat: f64, lng: f64, trk: f64, class: AssetClass) -> TrackReport {
        let manned = matches!(class, AssetClass::FixedWing);
        TrackReport {
            asset: asset.into(),
            time: 100.0,
            lat,
            lng,
            alt_m: if manned { 6000.0 } else { 900.0 },
            gs_mps: if manned { 200.0 } else { 40.0 },
            track_deg: trk,
            vs_mps: 0.0,
            class,
        }
    }

    fn engine() -> Engine {
        Engine::new(
            SeparationTable::defaults(),
            Staleness::default(),
            ConflictIds::Salted(7),
        )
    }

    /// Whether track `t` is reached from `from` turning right by less than 180°.
    fn right_of(from: f64, t: f64) -> bool {
        let d = (t - from).rem_euclid(360.0);
        d > 0.0 && d < 180.0
    }

    #[test]
    fn each_side_gets_advice_for_its_own_aircraft_coordinated_with_the_other() {
        let instantaneous = AdviceBudget {
            conflicts: 64,
            kinematic: 0,
        };
        own_advice_each(instantaneous, Method::Bands, "bands");
        own_advice_each(AdviceBudget::UNLIMITED, Method::KinematicBands, "kinematic_bands");
    }

    fn own_advice_each(budget: AdviceBudget, method: Method, wire: &str) {
        let mut e = engine();
        // drones 3 km apart head-on, 10 m apart vertically
        e.ingest(
            PartyId(1),
            &[rep("UAV-1", 35.0, 36.0, 90.0, AssetClass::UasLarge)],
        );
        let mut other = rep(
            "UAV-9",
            35.0,
            36.0 + 3000.0 / 91_100.0,
            270.0,
            AssetClass::UasLarge,
        );
        other.alt_m += 10.0;
        e.ingest(PartyId(2), &[other]);
        let mut ev = e.tick(100.0);
        assert_eq!(ev.len(), 2);
        let table = e.table().clone();
        assert_eq!(
            advise(&mut ev, &table, budget),
            Advised {
                conflicts: 1,
                kinematic: usize::from(method == Method::KinematicBands),
                skipped: 0
            }
        );
        let mine = |p: PartyId| ev.iter().find(|x| x.party == p).unwrap();
        let (a, b) = (mine(PartyId(1)).advice.unwrap(), mine(PartyId(2)).advice.unwrap());
        assert_eq!((a.method, b.method), (method, method));
        // each side's track options are about its own track
        assert!(right_of(90.0, a.track_right_deg.unwrap()), "{a:?}");
        assert!(right_of(270.0, b.track_right_deg.unwrap()), "{b:?}");
        assert_ne!(a, b);
        // never the same vertical sense, and the lower (party 1's) never told to go up
        match (a.preferred.unwrap(), b.preferred.unwrap()) {
            (Manoeuvre::VsUp { .. }, _) | (_, Manoeuvre::VsDown { .. }) => panic!("{a:?} {b:?}"),
            _ => {}
        }
        // on the wire, in the side's own alert only
        let body = mine(PartyId(1)).to_body();
        assert_eq!(body["advice"]["method"], wire);
        assert!(body["advice"]["preferred"]["manoeuvre"].is_string(), "{body}");
        assert_eq!(
            body["advice"]["track_right_deg"],
            mine(PartyId(1)).to_body()["advice"]["track_right_deg"]
        );
        assert_ne!(body["advice"], mine(PartyId(2)).to_body()["advice"]);
    }

    #[test]
    fn manned_pairs_get_mvp_and_clearances_none() {
        let mut e = engine();
        e.ingest(PartyId(1), &[rep("F-1", 35.0, 36.0, 0.0, AssetClass::FixedWing)]);
        e.ingest(
            PartyId(2),
            &[rep(
                "F-2",
                35.0 + 30_000.0 / 111_195.0,
                36.0,
                180.0,
                AssetClass::FixedWing,
            )],
        );
        let mut ev = e.tick(100.0);
        assert_eq!(ev.len(), 2);
        let table = e.table().clone();
        advise(&mut ev, &table, AdviceBudget::UNLIMITED);
        for x in &ev {
            let a = x.advice.unwrap();
            assert_eq!(a.method, Method::Mvp);
            // head-on: both turn right
            assert!(a.track_right_deg.is_some(), "{a:?}");
        }
        for x in &mut ev {
            x.kind = EventKind::Cleared(crate::tactical::ClearReason::Separated);
            x.advice = None;
        }
        assert_eq!(
            advise(&mut ev, &table, AdviceBudget::UNLIMITED),
            Advised::default()
        );
        assert!(ev
            .iter()
            .all(|x| x.advice.is_none() && x.to_body().get("advice").is_none()));
    }

    #[test]
    fn manned_pairs_take_no_kinematic_place() {
        let mut e = engine();
        // a manned pair head-on 15 km apart (a warning: first in the order) ...
        e.ingest(PartyId(1), &[rep("F-1", 35.0, 36.0, 0.0, AssetClass::FixedWing)]);
        let f2 = rep(
            "F-2",
            35.0 + 15_000.0 / 111_195.0,
            36.0,
            180.0,
            AssetClass::FixedWing,
        );
        e.ingest(PartyId(2), &[f2]);
        // ... and a drone pair head-on 6 km apart, a degree north (corrective: second)
        e.ingest(
            PartyId(1),
            &[rep("UAV-1", 36.0, 36.0, 90.0, AssetClass::UasLarge)],
        );
        let u9 = rep(
            "UAV-9",
            36.0,
            36.0 + 6000.0 / 90_060.0,
            270.0,
            AssetClass::UasLarge,
        );
        e.ingest(PartyId(2), &[u9]);
        let mut ev = e.tick(100.0);
        let level = |asset: &str| ev.iter().find(|x| x.own_asset == asset).map(|x| x.level);
        assert_eq!(level("F-1"), Some(AlertLevel::Warning), "{ev:?}");
        assert_eq!(level("UAV-1"), Some(AlertLevel::Corrective), "{ev:?}");
        let table = e.table().clone();
        let budget = AdviceBudget {
            conflicts: 8,
            kinematic: 1,
        };
        let done = advise(&mut ev, &table, budget);
        assert_eq!((done.conflicts, done.kinematic), (2, 1), "{done:?}");
        for x in &ev {
            let want = if x.own_asset.starts_with('F') {
                Method::Mvp
            } else {
                Method::KinematicBands
            };
            assert_eq!(x.advice.map(|a| a.method), Some(want), "{}", x.own_asset);
        }
    }

    #[test]
    fn a_storm_of_one_party_leaves_the_others_their_advice() {
        let mut e = engine();
        // parties 1 and 3: 20 drones each, in one crowd; parties 2 and 4: one pair, elsewhere
        let crowd = |k: usize, east: bool| {
            let lat = 35.0 + 0.001 * k as f64;
            let (lng, trk) = if east {
                (36.0, 90.0)
            } else {
                (36.0 + 2000.0 / 91_100.0, 270.0)
            };
            rep(&format!("D{k}"), lat, lng, trk, AssetClass::UasLarge)
        };
        e.ingest(PartyId(1), &(0..20).map(|k| crowd(k, true)).collect::<Vec<_>>());
        e.ingest(PartyId(3), &(0..20).map(|k| crowd(k, false)).collect::<Vec<_>>());
        e.ingest(PartyId(2), &[rep("X", 36.0, 36.0, 90.0, AssetClass::UasLarge)]);
        e.ingest(
            PartyId(4),
            &[rep(
                "Y",
                36.0,
                36.0 + 3000.0 / 90_000.0,
                270.0,
                AssetClass::UasLarge,
            )],
        );
        let mut ev = e.tick(100.0);
        assert!(ev.len() > 40, "{}", ev.len());
        let table = e.table().clone();
        let budget = AdviceBudget {
            conflicts: 8,
            kinematic: 2,
        };
        let done = advise(&mut ev, &table, budget);
        assert!(done.conflicts <= 8 && done.skipped > 0, "{done:?}");
        for p in [2, 4] {
            let x = ev.iter().find(|x| x.party == PartyId(p)).unwrap();
            assert!(x.advice.is_some(), "party {p} went without advice");
        }
        // at most two conflicts (four events) advised kinematically, the rest instantaneously
        let by = |m: Method| {
            ev.iter()
                .filter(|x| x.advice.is_some_and(|a| a.method == m))
                .count()
        };
        assert_eq!(done.kinematic, 2, "{done:?}");
        assert!(by(Method::KinematicBands) <= 4, "{}", by(Method::KinematicBands));
        assert!(by(Method::Bands) > 0);
    }
}
