#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Several nodes (store handles with different node names) on one database, as several server
//! processes share one PostgreSQL database. These run on SQLite too (two handles on one file,
//! as the server and the CLI would be).

mod common;

use common::{backends, export, party};
use deconflict_store::{
    verify_audit, Candidate, CheckedWrite, Decide, FilingKind, FilingState, NewAlert, Role, Store,
    StoreError, StoreOptions, Window,
};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

fn window(pair: usize) -> Window {
    let t = pair as f64 * 1000.0;
    Window {
        t_start: t,
        t_end: t + 500.0,
        alt_lo: 0.0,
        alt_hi: 500.0,
        lat_lo: 10.0,
        lat_hi: 10.1,
        lng_lo: 179.95,
        lng_hi: -179.95,
    }
}

/// Accepts, noting whether any call saw `other` among the candidates.
fn decider(other: String, saw: Arc<AtomicBool>, w: Window) -> Arc<Decide> {
    Arc::new(move |c: &[Candidate]| {
        if c.iter().any(|c| c.volume.id == other) {
            saw.store(true, Ordering::SeqCst);
        }
        Some(CheckedWrite {
            state: FilingState::Accepted,
            body: json!({"seen": c.len()}).to_string(),
            window: w,
            alerts: vec![],
        })
    })
}

#[test]
fn conflicting_filings_on_two_nodes_never_miss_each_other() {
    for b in backends() {
        let n1 = b.open_node("node-1", 0);
        let n2 = b.open_node("node-2", 0);
        let pa = party(&n1, "alpha").id;
        let pb = party(&n2, "bravo").id;
        const PAIRS: usize = 50;
        let barrier = Arc::new(Barrier::new(2));
        let saw: Vec<(Arc<AtomicBool>, Arc<AtomicBool>)> = (0..PAIRS)
            .map(|_| (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false))))
            .collect();
        std::thread::scope(|s| {
            for side in 0..2 {
                let (store, party) = if side == 0 { (&n1, pa) } else { (&n2, pb) };
                let barrier = Arc::clone(&barrier);
                let saw = &saw;
                s.spawn(move || {
                    for (i, flags) in saw.iter().enumerate() {
                        let (mine, other) = (format!("f{side}-{i}"), format!("f{}-{i}", 1 - side));
                        let flag = if side == 0 { &flags.0 } else { &flags.1 };
                        let w = window(i);
                        barrier.wait();
                        let filed = store
                            .file_checked(
                                party,
                                FilingKind::Intent,
                                &mine,
                                &w,
                                1.0,
                                decider(other, flag.clone(), w),
                            )
                            .unwrap()
                            .unwrap();
                        assert_eq!(filed.version, 1);
                    }
                });
            }
        });
        for (i, (a, c)) in saw.iter().enumerate() {
            assert!(
                a.load(Ordering::SeqCst) || c.load(Ordering::SeqCst),
                "{}: pair {i}: both filings missed each other",
                b.name
            );
        }
        let all = n1.all_volumes().unwrap();
        assert_eq!(all.len(), 2 * PAIRS);
        assert!(all.iter().all(|(_, _, v)| v.version == 1));
        let ids: HashSet<&str> = all.iter().map(|(_, _, v)| v.id.as_str()).collect();
        assert_eq!(ids.len(), 2 * PAIRS);
        let r = verify_audit(export(&n2).as_bytes()).unwrap();
        assert_eq!(r.entries, 2 + 2 * PAIRS as u64);
        eprintln!(
            "{}: retries {:?} {:?}",
            b.name,
            n1.write_stats(),
            n2.write_stats()
        );
    }
}

#[test]
fn alerts_from_two_nodes_get_gap_free_seqs() {
    for b in backends() {
        let n1 = b.open_node("node-1", 0);
        let n2 = b.open_node("node-2", 0);
        let p = party(&n1, "alpha").id;
        const EACH: usize = 40;
        let barrier = Arc::new(Barrier::new(4));
        let mut seqs: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = [&n1, &n2, &n1, &n2]
                .into_iter()
                .enumerate()
                .map(|(t, store)| {
                    let barrier = Arc::clone(&barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let mut got = Vec::new();
                        for i in 0..EACH {
                            let alerts: Vec<NewAlert> = (0..(1 + i % 3))
                                .map(|k| NewAlert {
                                    party: p,
                                    body: json!({"t": t, "i": i, "k": k}),
                                })
                                .collect();
                            let seqs = store.append_alerts(&alerts, 1.0).unwrap();
                            // One call's seqs are consecutive.
                            for w in seqs.windows(2) {
                                assert_eq!(w[1], w[0] + 1);
                            }
                            got.extend(seqs);
                        }
                        got
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        seqs.sort_unstable();
        let n = seqs.len() as u64;
        assert_eq!(
            seqs,
            (1..=n).collect::<Vec<_>>(),
            "{}: gaps or duplicates",
            b.name
        );
        assert_eq!(n1.last_alert_seq(p).unwrap(), n);
        let stored: Vec<u64> = n2
            .alerts_after(p, 0, usize::MAX)
            .unwrap()
            .iter()
            .map(|a| a.seq)
            .collect();
        assert_eq!(stored, (1..=n).collect::<Vec<_>>());
        let r = verify_audit(export(&n1).as_bytes()).unwrap();
        assert_eq!(r.entries, 1 + n);
        assert_eq!(r.chains.len(), 2);
    }
}

#[test]
fn both_chains_export_and_verify_after_linking() {
    for b in backends() {
        let n1 = b.open_node("node-1", 3);
        let n2 = b.open_node("node-2", 3);
        let p = party(&n1, "alpha").id;
        std::thread::scope(|s| {
            for (t, store) in [&n1, &n2].into_iter().enumerate() {
                s.spawn(move || {
                    for i in 0..20 {
                        store
                            .audit(Some(p), "op", json!({"t": t, "i": i}), i as f64)
                            .unwrap();
                        if i % 5 == 4 {
                            store.link_chains(i as f64).unwrap();
                        }
                    }
                });
            }
        });
        n1.link_chains(30.0).unwrap();
        n2.link_chains(30.0).unwrap();
        let text = export(&n1);
        let r = verify_audit(text.as_bytes()).unwrap();
        assert_eq!(r.chains.len(), 2);
        assert!(r.links >= 2, "{r:?}");
        assert!(r.chains.iter().all(|c| c.checkpoints > 0));
        // The party sees its entries of each chain.
        assert_eq!(n2.audit_for_party(p, "node-2", 0, 100).unwrap().len(), 20);
        assert_eq!(n2.audit_for_party(p, "node-1", 0, 100).unwrap().len(), 21);
    }
}

#[test]
fn a_node_with_another_service_key_is_refused() {
    let Some(b) = common::postgres() else { return };
    let n1 = b.open_node("node-1", 0);
    n1.add_party("alpha", None, Role::Party, 1.0).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        data_dir: other_dir.path().to_path_buf(),
        ..b.options("node-2", 0)
    };
    match Store::connect(&opts) {
        Err(StoreError::Invalid(m)) => {
            let d = other_dir.path().display().to_string();
            assert_eq!(
                m,
                format!(
                    "service.key in {d} does not match the key this database was created with; \
                     copy service.key from a node of this cluster into {d}"
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // With the cluster's key copied in, it joins.
    std::fs::copy(
        b.path().join(deconflict_store::KEY_FILE),
        other_dir.path().join(deconflict_store::KEY_FILE),
    )
    .unwrap();
    let n2 = Store::connect(&opts).unwrap();
    assert_eq!(n2.public_key_hex(), n1.public_key_hex());
    assert_eq!(n2.opaque_id("x"), n1.opaque_id("x"));
    assert_eq!(n2.list_parties().unwrap().len(), 1);
}

#[test]
fn nodes_migrating_at_once_agree() {
    let Some(b) = common::postgres() else { return };
    // Create the key first so all nodes share it.
    drop(b.open_node("n0", 0));
    let b = &b;
    let stores: Vec<Store> = std::thread::scope(|s| {
        let hs: Vec<_> = (1..=4)
            .map(|i| s.spawn(move || b.open_node(&format!("n{i}"), 0)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, st) in stores.iter().enumerate() {
        st.audit(None, "hello", json!({"i": i}), 1.0).unwrap();
    }
    assert_eq!(
        b.query_i64("SELECT COUNT(*) FROM schema_version"),
        deconflict_store::SCHEMA_VERSION
    );
    assert_eq!(
        verify_audit(export(&stores[0]).as_bytes()).unwrap().chains.len(),
        4
    );
}

/// A filing whose alert needs a counter row another transaction holds does not wait on it (a
/// lock wait in a serializable transaction only ends in a serialization failure): it fails fast
/// and is retried, and lands once the row is free. PostgreSQL only (SQLite has one writer).
#[test]
fn a_filing_blocked_on_a_held_counter_row_is_retried_and_lands() {
    for b in backends().into_iter().filter(|b| b.is_pg()) {
        let n1 = b.open_node("node-1", 0);
        let pa = party(&n1, "alpha").id;
        let pb = party(&n1, "bravo").id;
        // Counter rows exist once a party has had an alert.
        n1.append_alerts(
            &[NewAlert {
                party: pb,
                body: json!({"n": 0}),
            }],
            1.0,
        )
        .unwrap();
        let mut holder = b.pg();
        let mut tx = holder.transaction().unwrap();
        tx.execute(
            &format!("UPDATE alert_seqs SET last = last WHERE party_id = {pb}"),
            &[],
        )
        .unwrap();
        let before = n1.write_stats().retries;
        let w = window(0);
        let filed = std::thread::scope(|s| {
            let h = s.spawn(|| {
                let decide: Arc<Decide> = Arc::new(move |_c: &[Candidate]| {
                    Some(CheckedWrite {
                        state: FilingState::Accepted,
                        body: "{}".into(),
                        window: w,
                        alerts: vec![NewAlert {
                            party: pb,
                            body: json!({"n": 1}),
                        }],
                    })
                });
                n1.file_checked(pa, FilingKind::Intent, "blocked", &w, 2.0, decide)
            });
            // Held for several lock timeouts, then released.
            std::thread::sleep(std::time::Duration::from_millis(600));
            tx.commit().unwrap();
            h.join().unwrap()
        });
        let filed = filed.unwrap().unwrap();
        assert_eq!(filed.alert_seqs, vec![2]);
        // Waiting would have been one retry (the serialization failure after the commit);
        // failing fast is one every lock timeout while the row is held.
        let retries = n1.write_stats().retries - before;
        assert!(
            retries >= 3,
            "{retries} retries: the blocked transaction waited instead of failing fast"
        );
    }
}
