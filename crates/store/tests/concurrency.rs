#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::{backends, export, party, reports};
use deconflict_store::PartyId;
use deconflict_store::{verify_audit, NewAlert, Store, StoreError};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

#[test]
fn eight_writers_at_once() {
    for b in backends() {
        let store = b.open_with(50);
        let parties: Vec<_> = (0..4).map(|i| party(&store, &format!("p{i}"))).collect();
        let before = store.write_stats();
        const THREADS: usize = 8;
        const ROUNDS: usize = 40;
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                let ids: Vec<PartyId> = parties.iter().map(|p| p.id).collect();
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut audit_seqs = Vec::new();
                    let mut alert_seqs = Vec::new();
                    for r in 0..ROUNDS {
                        let now = 1000.0 + r as f64;
                        let p = ids[(t + r) % ids.len()];
                        let seq = store
                            .put_tracks(p, &reports(&format!("t{t}"), 20, now), now)
                            .unwrap();
                        audit_seqs.push(seq.entry_seq);
                        let q = ids[(t * 7 + r) % ids.len()];
                        let seqs = store
                            .append_alerts(
                                &[
                                    NewAlert {
                                        party: q,
                                        body: json!({"t": t, "r": r}),
                                    },
                                    NewAlert {
                                        party: p,
                                        body: json!({"t": t, "r": r, "k": 2}),
                                    },
                                ],
                                now,
                            )
                            .unwrap();
                        alert_seqs.push((q, seqs[0]));
                        alert_seqs.push((p, seqs[1]));
                        // A failing job in the middle of a group must not hurt the others.
                        assert!(matches!(
                            store.put_tracks(PartyId(-5), &reports("x", 1, now), now),
                            Err(StoreError::NotFound(_))
                        ));
                    }
                    (audit_seqs, alert_seqs)
                })
            })
            .collect();
        let mut audit_seqs = HashSet::new();
        let mut alert_seqs = HashSet::new();
        for h in handles {
            let (a, b) = h.join().unwrap();
            for s in a {
                assert!(audit_seqs.insert(s), "duplicate audit seq {s}");
            }
            for s in b {
                assert!(alert_seqs.insert(s), "duplicate alert seq {s:?}");
            }
        }
        assert_eq!(audit_seqs.len(), THREADS * ROUNDS);
        assert_eq!(alert_seqs.len(), THREADS * ROUNDS * 2);
        // Per party: exactly 1..=n.
        let mut total = 0;
        for p in &parties {
            let last = store.last_alert_seq(p.id).unwrap();
            let got: Vec<u64> = store
                .alerts_after(p.id, 0, usize::MAX)
                .unwrap()
                .iter()
                .map(|a| a.seq)
                .collect();
            assert_eq!(got, (1..=last).collect::<Vec<_>>());
            assert!(got.iter().all(|s| alert_seqs.contains(&(p.id, *s))));
            total += got.len();
        }
        assert_eq!(total, THREADS * ROUNDS * 2);

        let r = verify_audit(export(&store).as_bytes()).unwrap();
        assert_eq!(r.entries, 4 + (THREADS * ROUNDS * 3) as u64);
        assert_eq!(r.checkpoints, r.entries / 50);

        let stats = store.write_stats();
        let jobs = stats.jobs - before.jobs;
        let txs = stats.transactions - before.transactions;
        eprintln!(
            "{}: {jobs} jobs in {txs} transactions ({} retries)",
            b.name, stats.retries
        );
        assert_eq!(jobs, (THREADS * ROUNDS * 3) as u64);
        assert!(txs < jobs, "no grouping: {txs} transactions for {jobs} jobs");
    }
}

#[test]
fn group_commit_groups() {
    for b in backends() {
        // Many callers blocked on the writer at once must share transactions.
        let store = b.open();
        let p = party(&store, "alpha").id;
        let before = store.write_stats();
        const THREADS: usize = 32;
        const EACH: usize = 20;
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..EACH {
                        store
                            .audit(Some(p), "ping", json!({"t": t, "i": i}), 1.0)
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let stats = store.write_stats();
        let jobs = stats.jobs - before.jobs;
        let txs = stats.transactions - before.transactions;
        eprintln!(
            "{}: {jobs} jobs in {txs} transactions ({} retries)",
            b.name, stats.retries
        );
        assert_eq!(jobs, (THREADS * EACH) as u64);
        assert!(
            txs * 2 <= jobs,
            "too little grouping: {txs} transactions for {jobs} jobs"
        );
        assert_eq!(
            verify_audit(export(&store).as_bytes()).unwrap().entries,
            1 + (THREADS * EACH) as u64
        );
    }
}

#[test]
fn store_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Store>();
}
