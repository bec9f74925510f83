#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::{backends, party};
use deconflict_store::NewAlert;
use deconflict_store::PartyId;
use serde_json::json;

fn alert(party: PartyId, n: u64) -> NewAlert {
    NewAlert {
        party,
        body: json!({"conflict": n, "level": 2, "z": "last", "a": "first"}),
    }
}

#[test]
fn seqs_per_party_without_gaps_across_reopen() {
    for b in backends() {
        let (a, bravo) = {
            let store = b.open();
            let a = party(&store, "alpha");
            let bravo = party(&store, "bravo");
            let seqs = store
                .append_alerts(
                    &[alert(a.id, 1), alert(bravo.id, 2), alert(a.id, 3), alert(a.id, 4)],
                    10.0,
                )
                .unwrap();
            assert_eq!(seqs, vec![1, 1, 2, 3]);
            assert_eq!(store.append_alerts(&[alert(bravo.id, 5)], 11.0).unwrap(), vec![2]);
            assert_eq!(store.append_alerts(&[], 11.0).unwrap(), Vec::<u64>::new());
            (a, bravo)
        };
        let store = b.open();
        assert_eq!(store.last_alert_seq(a.id).unwrap(), 3);
        assert_eq!(store.last_alert_seq(bravo.id).unwrap(), 2);
        assert_eq!(store.append_alerts(&[alert(a.id, 6)], 12.0).unwrap(), vec![4]);
        assert_eq!(store.append_alerts(&[alert(bravo.id, 7)], 12.0).unwrap(), vec![3]);

        let all = store.alerts_after(a.id, 0, 100).unwrap();
        assert_eq!(all.iter().map(|x| x.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(all[0].body, alert(a.id, 1).body);
        // Key order of the body survives storage.
        assert_eq!(
            serde_json::to_string(&all[0].body).unwrap(),
            r#"{"conflict":1,"level":2,"z":"last","a":"first"}"#
        );
        assert_eq!(all[3].time, 12.0);
        let page = store.alerts_after(a.id, 1, 2).unwrap();
        assert_eq!(page.iter().map(|x| x.seq).collect::<Vec<_>>(), vec![2, 3]);
        assert!(store.alerts_after(a.id, 4, 10).unwrap().is_empty());
        assert!(store.alerts_after(a.id, u64::MAX, 10).unwrap().is_empty());
        assert!(store.alerts_after(a.id, 0, 0).unwrap().is_empty());

        // One audit entry per alert, with the body's digest.
        let entries: Vec<_> = store
            .audit_for_party(a.id, "main", 0, 1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "alert")
            .collect();
        assert_eq!(entries.len(), 4);
        assert!(entries.iter().all(|e| e.chain == "main"));
        let text = serde_json::to_string(&alert(a.id, 1).body).unwrap();
        assert_eq!(
            entries[0].body,
            json!({"seq": 1, "digest": deconflict_store::sha256_hex(text.as_bytes())})
        );
    }
}

#[test]
fn tracks_survive_reopen() {
    for b in backends() {
        let a = {
            let store = b.open();
            let a = party(&store, "alpha");
            store
                .put_tracks(a.id, &common::reports("T", 10, 50.0), 50.0)
                .unwrap();
            a
        };
        let store = b.open();
        assert_eq!(store.tracks(a.id).unwrap().len(), 10);
        assert_eq!(store.party_by_name("alpha").unwrap(), Some(a.clone()));
        let entries = store.audit_for_party(a.id, "main", 0, 10).unwrap();
        let tracks = entries.iter().find(|e| e.kind == "tracks").unwrap();
        let json = serde_json::to_vec(&common::reports("T", 10, 50.0)).unwrap();
        assert_eq!(
            tracks.body,
            json!({"count": 10, "digest": deconflict_store::sha256_hex(&json)})
        );
    }
}

#[test]
fn a_database_from_before_the_seq_counters_continues_its_numbering() {
    for b in backends() {
        let a = {
            let store = b.open();
            let a = party(&store, "alpha");
            let seqs = store
                .append_alerts(&[alert(a.id, 1), alert(a.id, 2), alert(a.id, 3)], 10.0)
                .unwrap();
            assert_eq!(seqs, vec![1, 2, 3]);
            a
        };
        // Back to schema 3: no counter rows; migration 4 must derive them from the alerts.
        b.exec("DROP TABLE alert_seqs");
        // (and before the party sub-chains of version 5, which the upgrade rebuilds)
        b.undo_party_chains();
        b.exec("DELETE FROM schema_version WHERE version >= 4");
        let store = b.open();
        assert_eq!(
            b.query_i64(&format!("SELECT last FROM alert_seqs WHERE party_id = {}", a.id)),
            3
        );
        assert_eq!(store.append_alerts(&[alert(a.id, 4)], 11.0).unwrap(), vec![4]);
        // A party with no alerts yet gets its counter row on its first alert.
        let bravo = party(&store, "bravo");
        assert_eq!(store.append_alerts(&[alert(bravo.id, 5)], 11.0).unwrap(), vec![1]);
    }
}
