#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Intents and constraints: versions, scoping, audit, windows and checked filing.

mod common;

use common::backends;
use deconflict_store::PartyId;
use deconflict_store::{
    verify_audit, Candidate, CheckedWrite, Decide, FilingKind, FilingState, NewAlert, Role, Store,
    StoreError, VolumeFiling, Window,
};
use serde_json::json;
use std::sync::{Arc, Mutex};

fn window(t0: f64, t1: f64, lng_lo: f64, lng_hi: f64) -> Window {
    Window {
        t_start: t0,
        t_end: t1,
        alt_lo: 0.0,
        alt_hi: 1000.0,
        lat_lo: 10.0,
        lat_hi: 11.0,
        lng_lo,
        lng_hi,
    }
}

const W: Window = Window {
    t_start: 0.0,
    t_end: 100.0,
    alt_lo: 0.0,
    alt_hi: 1000.0,
    lat_lo: 10.0,
    lat_hi: 11.0,
    lng_lo: 20.0,
    lng_hi: 21.0,
};

fn put(
    store: &Store,
    party: PartyId,
    f: (&str, &str, Option<u64>, &str),
    now: f64,
) -> Result<u64, StoreError> {
    put_w(store, party, f, W, now)
}

fn put_w(
    store: &Store,
    party: PartyId,
    f: (&str, &str, Option<u64>, &str),
    window: Window,
    now: f64,
) -> Result<u64, StoreError> {
    let body = json!({"extents": [], "state": f.3}).to_string();
    let filing = VolumeFiling {
        kind: f.0.parse()?,
        id: f.1,
        expected_version: f.2,
        state: f.3.parse()?,
        body: &body,
        window,
    };
    store.put_volume(party, &filing, now).map(|f| f.version)
}

#[test]
fn versions_are_checked_and_filings_are_scoped_and_audited() {
    for b in backends() {
        let store = b.open();
        let pa = store.add_party("A", None, Role::Party, 1.0).unwrap();
        let pb = store.add_party("B", None, Role::Party, 1.0).unwrap();
        assert_eq!(
            put(&store, pa.id, ("intent", "sortie-1", None, "accepted"), 2.0),
            Ok(1)
        );
        // a new filing of an existing id, or a stale version, is refused with the current version
        assert_eq!(
            put(&store, pa.id, ("intent", "sortie-1", None, "accepted"), 3.0),
            Err(StoreError::Stale { current: 1 })
        );
        assert_eq!(
            put(&store, pa.id, ("intent", "sortie-1", Some(1), "activated"), 3.0),
            Ok(2)
        );
        assert_eq!(
            put(&store, pa.id, ("intent", "sortie-1", Some(1), "ended"), 4.0),
            Err(StoreError::Stale { current: 2 })
        );
        // B's ids are its own: the same id is a different filing
        assert_eq!(
            put(&store, pb.id, ("intent", "sortie-1", None, "accepted"), 5.0),
            Ok(1)
        );
        assert_eq!(
            put(&store, pa.id, ("constraint", "base", None, "accepted"), 5.0),
            Ok(1)
        );
        let mine = store.volumes(pa.id, FilingKind::Intent).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].version, mine[0].state.as_str()), (2, "activated"));
        assert_eq!(store.volumes(pb.id, FilingKind::Constraint).unwrap().len(), 0);
        assert_eq!(store.all_volumes().unwrap().len(), 3);
        assert!(matches!(
            put(&store, pa.id, ("plan", "x", None, "accepted"), 6.0),
            Err(StoreError::Invalid(_))
        ));
        // every filing is in the chain
        let kinds: Vec<String> = store
            .audit_for_party(pa.id, "main", 0, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.iter().filter(|k| k.as_str() == "intent.put").count(), 2);
        assert!(kinds.contains(&"constraint.put".to_string()));
        let mut out = Vec::new();
        store.export_audit(&mut out).unwrap();
        verify_audit(std::io::Cursor::new(out)).unwrap();
        // and survives a reopen
        drop(store);
        let store = b.open();
        assert_eq!(store.volumes(pa.id, FilingKind::Intent).unwrap()[0].version, 2);
        // updated_since sees what changed at or after a time, with party names
        let none = |_: PartyId, _: FilingKind, _: &str, _: u64| false;
        let since = store.volumes_updated_since(5.0, &none).unwrap();
        let got: Vec<(PartyId, &str, &str, &str, u64)> = since
            .filings
            .iter()
            .map(|(p, n, k, v)| (*p, n.as_str(), k.as_str(), v.id.as_str(), v.version))
            .collect();
        assert_eq!(
            got,
            vec![
                (pa.id, "A", "constraint", "base", 1),
                (pb.id, "B", "intent", "sortie-1", 1)
            ]
        );
        assert_eq!(since.newest, Some(5.0));
        assert_eq!(store.volumes_updated_since(0.0, &none).unwrap().filings.len(), 3);
        // What the caller already holds (that version or newer) is skipped.
        let fresh = store
            .volumes_updated_since(0.0, &|p, kind, id, v| {
                p == pb.id && kind == FilingKind::Intent && id == "sortie-1" && v <= 1
            })
            .unwrap();
        let ids: Vec<(PartyId, &str)> = fresh
            .filings
            .iter()
            .map(|(p, _, _, v)| (*p, v.id.as_str()))
            .collect();
        assert_eq!(ids, vec![(pa.id, "sortie-1"), (pa.id, "base")]);
        // Holding everything, nothing is read, yet the cursor still moves to the newest row.
        let all_held = store.volumes_updated_since(0.0, &|_, _, _, _| true).unwrap();
        assert!(all_held.filings.is_empty());
        assert_eq!(all_held.newest, Some(5.0));
        let later = store.volumes_updated_since(5.5, &none).unwrap();
        assert!(later.filings.is_empty());
        assert_eq!(later.newest, None);
    }
}

#[test]
fn bad_windows_are_refused_naming_the_field() {
    for b in backends() {
        let store = b.open();
        let p = store.add_party("A", None, Role::Party, 1.0).unwrap();
        let cases: Vec<(Window, &str)> = vec![
            (Window { t_end: f64::NAN, ..W }, "window.t_end"),
            (Window { t_end: -1.0, ..W }, "window.t_end"),
            (Window { alt_hi: -1.0, ..W }, "window.alt_hi"),
            (Window { lat_lo: -91.0, ..W }, "window.lat_lo"),
            (Window { lat_hi: 9.0, ..W }, "window.lat_hi"),
            (Window { lng_hi: 181.0, ..W }, "window.lng_hi"),
            (
                Window {
                    lng_lo: f64::INFINITY,
                    ..W
                },
                "window.lng_lo",
            ),
        ];
        for (w, field) in cases {
            match put_w(&store, p.id, ("intent", "x", None, "accepted"), w, 2.0) {
                Err(StoreError::Invalid(m)) => assert!(m.contains(field), "{m}"),
                other => panic!("{w:?}: {other:?}"),
            }
            let accept: Arc<Decide> = Arc::new(|_: &[Candidate]| None);
            match store.file_checked(p.id, FilingKind::Intent, "x", &w, 2.0, accept) {
                Err(StoreError::Invalid(m)) => assert!(m.contains(field), "{m}"),
                other => panic!("{w:?}: {other:?}"),
            }
        }
        // A decider's window is checked too.
        let bad: Arc<Decide> = Arc::new(|_: &[Candidate]| {
            Some(CheckedWrite {
                state: FilingState::Accepted,
                body: "{}".into(),
                window: Window { alt_hi: -5.0, ..W },
                alerts: vec![],
            })
        });
        match store.file_checked(p.id, FilingKind::Intent, "x", &W, 2.0, bad) {
            Err(StoreError::Invalid(m)) => assert!(m.contains("decision.window.alt_hi"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(store.all_volumes().unwrap().is_empty());
    }
}

fn ids(c: &[Candidate]) -> Vec<String> {
    c.iter()
        .map(|c| format!("{}:{}:{}", c.party_name, c.kind, c.volume.id))
        .collect()
}

/// A decider that records the candidates it saw and accepts with `window` and `alerts`.
fn recorder(
    seen: Arc<Mutex<Vec<Vec<String>>>>,
    state: &'static str,
    window: Window,
    alerts: Vec<NewAlert>,
) -> Arc<Decide> {
    Arc::new(move |c: &[Candidate]| {
        seen.lock().unwrap().push(ids(c));
        Some(CheckedWrite {
            state: state.parse().expect("a filing state"),
            body: json!({"state": state, "n": c.len()}).to_string(),
            window,
            alerts: alerts.clone(),
        })
    })
}

#[test]
fn checked_filing_sees_intersecting_live_filings_and_its_own_row() {
    for b in backends() {
        let store = b.open();
        let pa = store.add_party("A", None, Role::Party, 1.0).unwrap();
        let pb = store.add_party("B", None, Role::Party, 1.0).unwrap();
        // B's filings around the new window [0, 100) x lng [179, -179] (crossing the antimeridian).
        let f = |id, state, w| put_w(&store, pb.id, ("intent", id, None, state), w, 2.0).unwrap();
        f("east", "accepted", window(50.0, 150.0, 179.5, 180.0)); // overlaps
        f("west", "activated", window(0.0, 10.0, -180.0, -179.5)); // overlaps
        f("wrap", "accepted", window(0.0, 10.0, 170.0, -170.0)); // crosses too: overlaps
        f("far", "accepted", window(0.0, 100.0, 0.0, 10.0)); // other longitude
        f("later", "accepted", window(100.0, 200.0, 179.5, 180.0)); // starts at t_end: no
        f("before", "accepted", window(-50.0, 0.0, 179.5, 180.0)); // ends at t_start: no
        f(
            "high",
            "accepted",
            Window {
                alt_lo: 1001.0,
                alt_hi: 2000.0,
                ..window(0.0, 100.0, 179.5, 180.0)
            },
        );
        f(
            "north",
            "accepted",
            Window {
                lat_lo: 11.5,
                lat_hi: 12.0,
                ..window(0.0, 100.0, 179.5, 180.0)
            },
        );
        f("over", "ended", window(0.0, 100.0, 179.5, 180.0)); // ended: no
        put_w(
            &store,
            pa.id,
            ("constraint", "c1", None, "accepted"),
            window(0.0, 100.0, 179.9, 180.0),
            2.0,
        )
        .unwrap();

        let nw = window(0.0, 100.0, 179.0, -179.0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let alerts = vec![NewAlert {
            party: pb.id,
            body: json!({"conflict": "east"}),
        }];
        let filed = store
            .file_checked(
                pa.id,
                FilingKind::Intent,
                "mine",
                &nw,
                3.0,
                recorder(seen.clone(), "accepted", nw, alerts),
            )
            .unwrap()
            .unwrap();
        assert_eq!(filed.version, 1);
        assert_eq!(filed.alert_seqs, vec![1]);
        assert_eq!(
            seen.lock().unwrap().last().unwrap(),
            &vec![
                "A:constraint:c1",
                "B:intent:east",
                "B:intent:west",
                "B:intent:wrap"
            ]
        );
        let mine = store.volumes(pa.id, FilingKind::Intent).unwrap();
        assert_eq!(
            (mine[0].id.as_str(), mine[0].version, mine[0].state.as_str()),
            ("mine", 1, "accepted")
        );
        assert_eq!(mine[0].body, json!({"state": "accepted", "n": 4}));
        assert_eq!(
            store.alerts_after(pb.id, 0, 10).unwrap()[0].body,
            json!({"conflict": "east"})
        );
        let entries = store.audit_for_party(pa.id, "main", 0, 100).unwrap();
        let put = entries.iter().find(|e| e.seq == filed.audit_seq).unwrap();
        assert_eq!(put.kind, "intent.put");
        assert_eq!(put.body["version"], 1);
        let alert_entries = store.audit_for_party(pb.id, "main", 0, 100).unwrap();
        assert!(alert_entries
            .iter()
            .any(|e| e.kind == "alert" && e.seq < filed.audit_seq));

        // Re-filing: the own row comes first whatever its window (here moved far away), and the
        // version goes up.
        let away = window(1000.0, 1100.0, 0.0, 1.0);
        store
            .file_checked(
                pa.id,
                FilingKind::Intent,
                "mine",
                &nw,
                4.0,
                recorder(seen.clone(), "activated", away, vec![]),
            )
            .unwrap()
            .unwrap();
        let seen_now = seen.lock().unwrap().last().unwrap().clone();
        assert_eq!(
            seen_now,
            vec![
                "A:constraint:c1",
                "A:intent:mine",
                "B:intent:east",
                "B:intent:west",
                "B:intent:wrap"
            ]
        );
        let filed = store
            .file_checked(
                pa.id,
                FilingKind::Intent,
                "mine",
                &nw,
                5.0,
                recorder(seen.clone(), "ended", away, vec![]),
            )
            .unwrap()
            .unwrap();
        assert_eq!(filed.version, 3);
        assert!(seen
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .contains(&"A:intent:mine".to_string()));
        // An ended own row is still handed over.
        let filed = store
            .file_checked(
                pa.id,
                FilingKind::Intent,
                "mine",
                &nw,
                6.0,
                recorder(seen.clone(), "accepted", nw, vec![]),
            )
            .unwrap()
            .unwrap();
        assert_eq!(filed.version, 4);
        assert!(seen
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .contains(&"A:intent:mine".to_string()));

        // A decider that refuses stores nothing.
        let before = store.write_stats();
        let refuse: Arc<Decide> = Arc::new(|_: &[Candidate]| None);
        assert_eq!(
            store
                .file_checked(pa.id, FilingKind::Intent, "nope", &nw, 7.0, refuse)
                .unwrap(),
            None
        );
        assert!(store
            .volumes(pa.id, FilingKind::Intent)
            .unwrap()
            .iter()
            .all(|v| v.id != "nope"));
        assert!(store.write_stats().jobs > before.jobs);
        // Unknown parties and kinds.
        let refuse: Arc<Decide> = Arc::new(|_: &[Candidate]| None);
        assert!(matches!(
            store.file_checked(PartyId(999), FilingKind::Intent, "x", &nw, 7.0, refuse.clone()),
            Err(StoreError::NotFound(_))
        ));
        // (a kind is a FilingKind: "plan" is refused where the text is read)
        assert!(matches!(
            "plan".parse::<FilingKind>(),
            Err(StoreError::Invalid(_))
        ));
        // An alert for an unknown party fails the whole filing.
        let bad = recorder(
            seen.clone(),
            "accepted",
            nw,
            vec![NewAlert {
                party: PartyId(999),
                body: json!(1),
            }],
        );
        assert!(matches!(
            store.file_checked(pa.id, FilingKind::Intent, "x", &nw, 7.0, bad),
            Err(StoreError::NotFound(_))
        ));
        assert!(store
            .volumes(pa.id, FilingKind::Intent)
            .unwrap()
            .iter()
            .all(|v| v.id != "x"));
        verify_audit(common::export(&store).as_bytes()).unwrap();
    }
}

#[test]
fn window_intersection_rules() {
    let a = window(0.0, 10.0, 170.0, -170.0);
    assert!(a.intersects(&window(5.0, 6.0, -175.0, -174.0)));
    assert!(a.intersects(&window(5.0, 6.0, 175.0, 176.0)));
    assert!(!a.intersects(&window(5.0, 6.0, 0.0, 1.0)));
    assert!(!a.intersects(&window(10.0, 11.0, 175.0, 176.0)));
    assert!(window(0.0, 1.0, -10.0, 10.0).intersects(&window(0.0, 1.0, 10.0, 20.0)));
    assert!(window(0.0, 1.0, 179.0, -179.0).intersects(&window(0.0, 1.0, 100.0, -100.0)));
}
