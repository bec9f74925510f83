//! Tests of the engine and of the wire form of its events.

use super::*;
use deconflict_core::{AlertLevel, AssetClass, SeparationStandard, SeparationTable, TrackReport};
use deconflict_store::PartyId;
use std::collections::HashSet;

fn rep(asset: &str, t: f64, lat: f64, trk: f64) -> TrackReport {
    TrackReport {
        asset: asset.into(),
        time: t,
        lat,
        lng: 35.0,
        alt_m: 100.0,
        gs_mps: 20.0,
        track_deg: trk,
        vs_mps: 0.0,
        class: AssetClass::UasSmall,
    }
}

fn engine_with(ids: ConflictIds) -> Engine {
    let mut table = SeparationTable::uniform(SeparationStandard::new(50.0, 15.0, 60.0)).unwrap();
    table.hysteresis_s = 2.0;
    Engine::new(
        table,
        Staleness {
            coast_s: 3.0,
            drop_s: 6.0,
        },
        ids,
    )
}

fn engine() -> Engine {
    engine_with(ConflictIds::Salted(0x5eed))
}

#[test]
fn both_parties_are_alerted_and_cleared() {
    let mut e = engine();
    // 1 km apart, closing at 40 m/s: tin ~ 23.75 s (warning)
    e.ingest(PartyId(1), &[rep("UAV-1", 100.0, 35.0, 0.0)]);
    e.ingest(
        PartyId(2),
        &[rep("UAV-1", 100.0, 35.0 + 1000.0 / 111_195.0, 180.0)],
    );
    let a = e.tick(100.0);
    assert_eq!(a.len(), 2);
    let parties: HashSet<_> = a.iter().map(|x| x.party).collect();
    assert_eq!(parties, [PartyId(1), PartyId(2)].into_iter().collect());
    for x in &a {
        assert_eq!(x.kind, EventKind::New);
        assert_eq!(x.own_asset, "UAV-1");
        let body = x.to_body();
        assert_eq!(body["event"], "new");
        assert!(body["intruder"].get("asset").is_none());
        assert_eq!(x.conflict_id, a[0].conflict_id);
    }
    // diverge: cleared only after the hysteresis
    e.ingest(PartyId(1), &[rep("UAV-1", 101.0, 35.0, 180.0)]);
    e.ingest(PartyId(2), &[rep("UAV-1", 101.0, 35.0 + 1000.0 / 111_195.0, 0.0)]);
    assert!(e.tick(101.0).is_empty());
    let c = e.tick(103.5);
    assert_eq!(c.len(), 2);
    assert!(c
        .iter()
        .all(|x| x.kind == EventKind::Cleared(ClearReason::Separated) && x.to_body()["event"] == "cleared"));
}

#[test]
fn stale_tracks_degrade_then_clear_as_lost() {
    let mut e = engine();
    e.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    e.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    assert_eq!(e.tick(100.0).len(), 2);
    // B keeps reporting, A goes quiet
    e.ingest(PartyId(2), &[rep("B", 103.5, 35.0 + 500.0 / 111_195.0, 180.0)]);
    let d = e.tick(103.5);
    assert!(
        d.iter()
            .any(|x| x.kind == EventKind::Degraded && x.party == PartyId(2) && x.intruder.stale),
        "{d:?}"
    );
    assert!(d
        .iter()
        .any(|x| x.kind == EventKind::Degraded && x.party == PartyId(1) && !x.intruder.stale));
    e.ingest(PartyId(2), &[rep("B", 107.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    let l = e.tick(107.0);
    assert!(
        l.iter().any(|x| {
            let body = x.to_body();
            body["event"] == "cleared" && body["reason"] == "track_lost" && x.party == PartyId(2)
        }),
        "{l:?}"
    );
    assert_eq!(e.len(), 1);
    assert!(e.own_tracks(PartyId(1)).is_empty());
}

#[test]
fn disclosure_is_scoped() {
    let mut e = engine();
    e.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    e.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    e.ingest(PartyId(3), &[rep("C", 100.0, 10.0, 0.0)]);
    e.tick(100.0);
    assert_eq!(e.disclosed(PartyId(1), 100.0).len(), 1);
    assert_eq!(e.disclosed(PartyId(2), 100.0).len(), 1);
    assert!(e.disclosed(PartyId(3), 100.0).is_empty());
    assert_eq!(e.own_tracks(PartyId(1)).len(), 1);
    let id = e.disclosed(PartyId(1), 100.0)[0].conflict_id.clone();
    assert!(
        e.conflict_involves(&id, PartyId(1))
            && e.conflict_involves(&id, PartyId(2))
            && !e.conflict_involves(&id, PartyId(3))
    );
}

fn keyed() -> ConflictIds {
    ConflictIds::Keyed(std::sync::Arc::new(|label: &str| {
        label
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
    }))
}

#[test]
fn one_node_speaks_for_a_pair_and_every_node_names_it_the_same() {
    // Node X took track A's report (lower key), node Y took B's; both hold both tracks.
    let (x_node, y_node): (Origin, Origin) = (1, 2);
    let mut on_x = engine_with(keyed());
    let mut on_y = engine_with(keyed());
    // The rule of the cluster layer, seen from each node: the lower track's node speaks.
    on_x.set_speaks(std::sync::Arc::new(|lo, _hi| lo == LOCAL));
    on_y.set_speaks(std::sync::Arc::new(|lo, _hi| lo == LOCAL));
    on_x.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    on_x.ingest_from(
        PartyId(2),
        &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)],
        y_node,
    );
    on_y.ingest_from(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)], x_node);
    on_y.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    let from_x = on_x.tick(100.0);
    let from_y = on_y.tick(100.0);
    assert_eq!(from_x.len(), 2, "X speaks: both parties told");
    assert!(from_y.is_empty(), "Y keeps quiet: {from_y:?}");
    // Y still holds the conflict (its picture and disclosures match X's), under the same id.
    let id_x = on_x.disclosed(PartyId(1), 100.0)[0].conflict_id.clone();
    let id_y = on_y.disclosed(PartyId(1), 100.0)[0].conflict_id.clone();
    assert_eq!(id_x, id_y);
    assert_eq!(from_x[0].conflict_id, id_x);
    // If B's report now comes in through X, X still speaks; Y does not start.
    on_y.ingest_from(
        PartyId(2),
        &[rep("B", 101.0, 35.0 + 500.0 / 111_195.0, 180.0)],
        x_node,
    );
    on_y.ingest_from(
        PartyId(1),
        &[rep("A", 101.0, 35.0 + 10.0 / 111_195.0, 0.0)],
        x_node,
    );
    assert!(on_y.tick(101.0).iter().all(|a| a.kind != EventKind::New));
}

#[test]
fn without_a_key_ids_are_still_per_pair_and_opaque() {
    let mut e = engine();
    e.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    e.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    let a = e.tick(100.0);
    let id = a[0].conflict_id.clone();
    assert!(id.starts_with("c-") && id.len() == 18, "{id}");
    assert!(!id.contains('A') && !id.contains("B"));
    // another salt, other ids
    let mut other = engine_with(ConflictIds::Salted(0x5eed + 1));
    other.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    other.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
    assert_ne!(other.tick(100.0)[0].conflict_id, id);
}

/// Pairs that go through every kind of event: A–B new, lowered, raised, cleared (separated);
/// C–D degraded then cleared (track lost); E–F flying together (`tout` never: `null`).
/// Returns the events of each tick.
fn scripted(e: &mut Engine) -> Vec<Vec<AlertEvent>> {
    let north = |m: f64| m / 111_195.0;
    let r = |asset: &str, t: f64, lat: f64, gs: f64, trk: f64| TrackReport {
        gs_mps: gs,
        ..rep(asset, t, lat, trk)
    };
    let mut out = Vec::new();
    // t = 100: A–B head-on 1 km apart (warning), C–D 500 m apart far away, E–F together.
    e.ingest(
        PartyId(1),
        &[r("A", 100.0, 35.0, 20.0, 0.0), r("D", 100.0, 10.0, 20.0, 0.0)],
    );
    e.ingest(PartyId(2), &[r("B", 100.0, 35.0 + north(1000.0), 20.0, 180.0)]);
    e.ingest(PartyId(3), &[r("C", 100.0, 10.0 + north(500.0), 20.0, 180.0)]);
    e.ingest(PartyId(4), &[r("E", 100.0, 20.0, 20.0, 90.0)]);
    e.ingest(PartyId(5), &[r("F", 100.0, 20.0 + north(30.0), 20.0, 90.0)]);
    out.push(e.tick(100.0));
    // B stops: closing at 20 m/s, corrective: lowered after the hysteresis
    for t in [101.0, 103.0] {
        let d = 20.0 * (t - 100.0);
        e.ingest(
            PartyId(1),
            &[
                r("A", t, 35.0 + north(d), 20.0, 0.0),
                r("D", t, 10.0 + north(d), 20.0, 0.0),
            ],
        );
        e.ingest(PartyId(2), &[r("B", t, 35.0 + north(980.0), 0.0, 180.0)]);
        e.ingest(PartyId(4), &[r("E", t, 20.0, 20.0, 90.0)]);
        e.ingest(PartyId(5), &[r("F", t, 20.0 + north(30.0), 20.0, 90.0)]);
        out.push(e.tick(t));
    }
    // C has gone quiet: coasting, degraded
    e.ingest(PartyId(1), &[r("D", 103.5, 10.0 + north(70.0), 20.0, 0.0)]);
    out.push(e.tick(103.5));
    // B closes fast again: raised
    e.ingest(
        PartyId(1),
        &[
            r("A", 104.0, 35.0 + north(80.0), 20.0, 0.0),
            r("D", 104.0, 10.0 + north(80.0), 20.0, 0.0),
        ],
    );
    e.ingest(PartyId(2), &[r("B", 104.0, 35.0 + north(980.0), 40.0, 180.0)]);
    out.push(e.tick(104.0));
    // A and B turn away: cleared (separated) after the hysteresis; C is dropped (lost)
    for t in [105.0, 107.0] {
        e.ingest(
            PartyId(1),
            &[
                r("A", t, 35.0, 20.0, 180.0),
                r("D", t, 10.0 + north(100.0), 20.0, 0.0),
            ],
        );
        e.ingest(PartyId(2), &[r("B", t, 35.0 + north(1500.0), 20.0, 0.0)]);
        e.ingest(PartyId(4), &[r("E", t, 20.0, 20.0, 90.0)]);
        e.ingest(PartyId(5), &[r("F", t, 20.0 + north(30.0), 20.0, 90.0)]);
        out.push(e.tick(t));
    }
    out
}

#[test]
fn the_engine_is_deterministic() {
    let run = || scripted(&mut engine_with(ConflictIds::Salted(42)));
    let (one, two) = (run(), run());
    // Debug, not PartialEq: exact even for a NaN
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    let kinds: HashSet<EventKind> = one.iter().flatten().map(|a| a.kind).collect();
    assert_eq!(kinds.len(), 6, "every kind of event: {kinds:?}");
    assert!(one.iter().all(|tick| tick.len() % 2 == 0));
}

/// The bodies, as stored: keys, key order and rounding. `wire.golden` was written by the
/// engine before it returned typed events (when it built these bodies itself), so this checks
/// the wire form did not change (its conflict ids were replaced, one for one, when ids became
/// per encounter: nothing else in it changed); one line per event, `party body`, sorted within each tick,
/// ticks separated by an empty line.
#[test]
fn the_wire_form_is_unchanged() {
    let got: Vec<String> = scripted(&mut engine_with(keyed()))
        .into_iter()
        .map(|tick| {
            let mut lines: Vec<String> = tick
                .iter()
                .map(|a| format!("{} {}", a.party, serde_json::to_string(&a.to_body()).unwrap()))
                .collect();
            lines.sort();
            lines.join("\n")
        })
        .collect();
    let want = include_str!("wire.golden");
    assert_eq!(got.join("\n\n") + "\n", want);
}

#[test]
fn every_encounter_of_two_tracks_has_a_fresh_id_the_same_after_a_restart() {
    let key = || {
        ConflictIds::Keyed(std::sync::Arc::new(|label: &str| {
            label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |x, b| {
                (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        }))
    };
    let sep = 1000.0 / 111_195.0;
    // Encounter 1 at t = 100: head-on, 1 km apart.
    let mut e = engine_with(key());
    e.ingest(PartyId(1), &[rep("A", 100.0, 35.0, 0.0)]);
    e.ingest(PartyId(2), &[rep("B", 100.0, 35.0 + sep, 180.0)]);
    let first = e.tick(100.0)[0].conflict_id.clone();
    // The same encounter seen first 3 s later, by an engine started afresh (a restart, or
    // another node): the same id, since the time of closest approach has not moved.
    let mut restarted = engine_with(key());
    restarted.ingest(PartyId(1), &[rep("A", 103.0, 35.0 + 60.0 / 111_195.0, 0.0)]);
    restarted.ingest(
        PartyId(2),
        &[rep("B", 103.0, 35.0 + sep - 60.0 / 111_195.0, 180.0)],
    );
    assert_eq!(restarted.tick(103.0)[0].conflict_id, first);
    // Encounter 2 of the same two tracks, ten minutes later: another id.
    let mut later = engine_with(key());
    later.ingest(PartyId(1), &[rep("A", 700.0, 35.0, 0.0)]);
    later.ingest(PartyId(2), &[rep("B", 700.0, 35.0 + sep, 180.0)]);
    let second = later.tick(700.0)[0].conflict_id.clone();
    assert_ne!(
        second, first,
        "one id for two encounters lets a party recognise the aircraft"
    );
}

/// A drone of `class` at `lat` on the 35° E meridian, northbound (`trk` 0) or southbound.
fn drone(asset: &str, t: f64, lat: f64, trk: f64, gs: f64, class: AssetClass) -> TrackReport {
    TrackReport {
        gs_mps: gs,
        class,
        ..rep(asset, t, lat, trk)
    }
}

#[test]
fn a_do365_pair_is_told_once_its_m_of_n_confirms_it_and_disclosed_to_no_one_before() {
    let mut e = Engine::new(
        SeparationTable::defaults(),
        Staleness::default(),
        ConflictIds::Salted(3),
    );
    let std = *e.table().get(AssetClass::UasLarge, AssetClass::UasLarge);
    // head-on at 40 m/s each, 12 km apart at t = 100, reported every second
    let at = |t: f64| {
        let a = drone(
            "A",
            t,
            35.0 + 40.0 * (t - 100.0) / 111_195.0,
            0.0,
            40.0,
            AssetClass::UasLarge,
        );
        let b = drone(
            "B",
            t,
            35.0 + (12_000.0 - 40.0 * (t - 100.0)) / 111_195.0,
            180.0,
            40.0,
            AssetClass::UasLarge,
        );
        (a, b)
    };
    // the first second whose raw level is an alert (corrective: entered within 55 s)
    let onset = (100..200)
        .map(f64::from)
        .find(|&t| {
            let (a, b) = at(t);
            deconflict_core::wellclear::pair::detect_pair(&a.state(), &b.state(), &std).is_some()
        })
        .unwrap();
    assert!(onset > 140.0, "{onset}");
    for t in (100..=onset as i32 + 1).map(f64::from) {
        let (a, b) = at(t);
        e.ingest(PartyId(1), &[a]);
        e.ingest(PartyId(2), &[b]);
        let ev = e.tick(t);
        if t <= onset {
            // at the onset the pair is pending: nothing told, nothing disclosed
            assert!(ev.is_empty(), "t {t}: {ev:?}");
            assert!(e.disclosed(PartyId(1), t).is_empty() && e.disclosed(PartyId(2), t).is_empty());
        } else {
            // confirmed one sample later (2 of 4), told to both sides at once
            assert_eq!(ev.len(), 2, "t {t}: {ev:?}");
            assert!(ev
                .iter()
                .all(|x| x.kind == EventKind::New && x.level == AlertLevel::Corrective));
            assert_eq!(e.disclosed(PartyId(1), t).len(), 1);
        }
    }
}

#[test]
fn a_pair_whose_track_changes_class_follows_its_new_standard() {
    let mut e = Engine::new(
        SeparationTable::defaults(),
        Staleness::default(),
        ConflictIds::Salted(3),
    );
    // two small drones 2 km apart head-on at 20 m/s: the 50 m cylinder, corrective (48.75 s)
    let a = |t: f64| drone("A", t, 35.0, 0.0, 20.0, AssetClass::UasSmall);
    let b = |t: f64, class| drone("B", t, 35.0 + 2000.0 / 111_195.0, 180.0, 20.0, class);
    e.ingest(PartyId(1), &[a(100.0)]);
    e.ingest(PartyId(2), &[b(100.0, AssetClass::UasSmall)]);
    let ev = e.tick(100.0);
    assert!(
        ev.iter().all(|x| x.level == AlertLevel::Corrective) && ev.len() == 2,
        "{ev:?}"
    );
    // B is re-reported as a large drone: now DO-365A, whose tau_mod volume they are inside
    // (a warning); the pair's level follows the M-of-N from here
    let mut raised = None;
    for t in (101..110).map(f64::from) {
        e.ingest(PartyId(1), &[a(t)]);
        e.ingest(PartyId(2), &[b(t, AssetClass::UasLarge)]);
        if let Some(x) = e.tick(t).into_iter().find(|x| x.kind == EventKind::Raised) {
            raised = Some((t, x.level));
            break;
        }
    }
    assert_eq!(raised, Some((102.0, AlertLevel::Warning)));
}
