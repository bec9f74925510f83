#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::{backends, party, report, reports};
use deconflict_store::PartyId;
use deconflict_store::{NewAlert, StoreError};
use serde_json::json;

#[test]
fn a_party_reads_only_its_own_rows() {
    for b in backends() {
        let store = b.open();
        let a = party(&store, "alpha");
        let b = party(&store, "bravo");

        // Same asset id in both parties: ids are scoped per party.
        store
            .put_tracks(a.id, &[report("UAV-1", 100.0, 35.0)], 100.0)
            .unwrap();
        store.put_tracks(a.id, &reports("A", 3, 100.0), 100.0).unwrap();
        store
            .put_tracks(b.id, &[report("UAV-1", 100.0, 36.0)], 100.0)
            .unwrap();
        store
            .append_alerts(
                &[NewAlert {
                    party: a.id,
                    body: json!({"secret": "alpha"}),
                }],
                101.0,
            )
            .unwrap();

        let ta = store.tracks(a.id).unwrap();
        let tb = store.tracks(b.id).unwrap();
        assert_eq!(ta.len(), 4);
        assert_eq!(tb, vec![report("UAV-1", 100.0, 36.0)]);
        assert!(ta.iter().any(|r| r.asset == "UAV-1" && r.lat == 35.0));

        assert!(store.alerts_after(b.id, 0, 100).unwrap().is_empty());
        assert_eq!(store.last_alert_seq(b.id).unwrap(), 0);
        assert_eq!(store.alerts_after(a.id, 0, 100).unwrap().len(), 1);

        let audit_b = store.audit_for_party(b.id, "main", 0, 1000).unwrap();
        assert!(!audit_b.is_empty());
        assert!(audit_b.iter().all(|e| e.party == Some(b.id)));
        let audit_a = store.audit_for_party(a.id, "main", 0, 1000).unwrap();
        assert!(audit_a.iter().all(|e| e.party == Some(a.id)));
        assert!(audit_a.iter().any(|e| e.kind == "alert"));
        assert!(!audit_b.iter().any(|e| e.kind == "alert"));

        // Guessed ids see nothing.
        for guess in [0, -1, a.id.get() + b.id.get() + 10, i64::MAX, i64::MIN].map(PartyId) {
            assert!(store.tracks(guess).unwrap().is_empty());
            assert!(store.alerts_after(guess, 0, 10).unwrap().is_empty());
            assert!(store.audit_for_party(guess, "main", 0, 10).unwrap().is_empty());
            assert_eq!(store.last_alert_seq(guess).unwrap(), 0);
        }
        // all_tracks is the service-wide view.
        assert_eq!(store.all_tracks().unwrap().len(), 5);
    }
}

#[test]
fn writes_for_unknown_parties_are_refused() {
    for b in backends() {
        let store = b.open();
        let a = party(&store, "alpha");
        assert!(matches!(
            store.put_tracks(PartyId(a.id.get() + 1), &reports("X", 2, 1.0), 1.0),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.append_alerts(
                &[
                    NewAlert {
                        party: a.id,
                        body: json!(1)
                    },
                    NewAlert {
                        party: PartyId(777),
                        body: json!(2)
                    }
                ],
                1.0
            ),
            Err(StoreError::NotFound(_))
        ));
        // The failed batch left nothing behind.
        assert_eq!(store.last_alert_seq(a.id).unwrap(), 0);
        assert!(store.all_tracks().unwrap().is_empty());
        assert!(matches!(
            store.audit(Some(PartyId(555)), "x", json!({}), 1.0),
            Err(StoreError::NotFound(_))
        ));
    }
}

#[test]
fn latest_report_wins_and_bad_reports_are_refused() {
    for b in backends() {
        let store = b.open();
        let a = party(&store, "alpha");
        store.put_tracks(a.id, &[report("U", 200.0, 35.0)], 1.0).unwrap();
        store.put_tracks(a.id, &[report("U", 150.0, 34.0)], 2.0).unwrap(); // older: ignored
        assert_eq!(store.tracks(a.id).unwrap()[0].lat, 35.0);
        store.put_tracks(a.id, &[report("U", 200.0, 36.0)], 3.0).unwrap(); // same time: replaces
        assert_eq!(store.tracks(a.id).unwrap()[0].lat, 36.0);
        store.put_tracks(a.id, &[report("U", 250.0, 37.0)], 4.0).unwrap();
        assert_eq!(store.tracks(a.id).unwrap()[0].time, 250.0);

        let mut bad = report("U", f64::NAN, 1.0);
        assert!(matches!(
            store.put_tracks(a.id, &[bad.clone()], 5.0),
            Err(StoreError::Invalid(_))
        ));
        bad.time = 1.0;
        bad.lat = f64::INFINITY;
        assert!(matches!(
            store.put_tracks(a.id, &[bad], 5.0),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.put_tracks(a.id, &[report("", 1.0, 1.0)], 5.0),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.put_tracks(a.id, &[report(&"a".repeat(65), 1.0, 1.0)], 5.0),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(store.tracks(a.id).unwrap()[0].time, 250.0);
    }
}
