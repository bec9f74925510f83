#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The database goes away under a node (its sessions are ended, as by a restart or a failover):
//! the writes in flight fail and are not acknowledged, nothing is half-stored, and the node's
//! connections are reopened on next use without a restart. PostgreSQL only.

mod common;

use common::{backends, export, party, reports};
use deconflict_store::verify_audit;

#[test]
fn a_node_reconnects_after_its_database_sessions_are_ended() {
    for b in backends().into_iter().filter(|b| b.is_pg()) {
        let node = format!("reconnect-{}", std::process::id());
        let store = b.open_node(&node, 0);
        let p = party(&store, "alpha");
        store.put_tracks(p.id, &reports("A", 10, 100.0), 100.0).unwrap();
        assert_eq!(store.tracks(p.id).unwrap().len(), 10);

        // End every session of this node (its writer and readers), as a restart would.
        let ended: i64 = b
            .pg()
            .query_one(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&format!("deconflict-{node}")],
            )
            .unwrap()
            .get(0);
        assert!(
            ended >= 2,
            "expected the writer's and a reader's sessions, ended {ended}"
        );

        // The first write and the first read may find their connection gone and fail; they
        // must not panic, and the next attempt reconnects.
        let mut failures = Vec::new();
        let mut stored = false;
        for attempt in 0..3 {
            match store.put_tracks(p.id, &reports("B", 5, 200.0 + attempt as f64), 200.0) {
                Ok(_) => {
                    stored = true;
                    break;
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        eprintln!("failures before reconnecting: {failures:?}");
        assert!(stored, "no write succeeded after reconnecting: {failures:?}");
        assert!(failures.len() <= 1, "more than one failure: {failures:?}");
        assert!(
            failures.iter().all(|f| f.contains("connection")),
            "a failure that does not say the connection was lost: {failures:?}"
        );
        let mut read = None;
        for _ in 0..3 {
            if let Ok(t) = store.tracks(p.id) {
                read = Some(t);
                break;
            }
        }
        let tracks = read.expect("no read succeeded after reconnecting");
        assert_eq!(tracks.len(), 15, "every acknowledged report is there");

        // Nothing half-stored: the chain verifies and holds the party, the first batch, the
        // acknowledged batch, and nothing of a failed one.
        let r = verify_audit(export(&store).as_bytes()).unwrap();
        assert_eq!(r.entries, 3);
    }
}
