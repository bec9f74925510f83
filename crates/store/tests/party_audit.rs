#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! A party's view of the audit: its own sub-chains and a signed checkpoint over every head,
//! verifiable offline, with nothing in it from which another party's activity can be counted.
mod common;

use common::{backends, party, reports, Backend};
use deconflict_store::PartyId;
use deconflict_store::{verify_party_audit, NewAlert, PartyVerifyReport, Store, VerifyError};
use serde_json::{json, Value};

fn view(store: &Store, party: PartyId) -> String {
    let mut out = Vec::new();
    store.export_party_audit(party, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn verify(text: &str) -> Result<PartyVerifyReport, VerifyError> {
    verify_party_audit(text.as_bytes())
}

/// Alpha's and bravo's activity; bravo does `bravo_extra` more writes in between.
fn activity(b: &Backend, bravo_extra: usize) -> (Store, PartyId, PartyId) {
    let store = b.open_with(4);
    let a = party(&store, "alpha");
    let bravo = party(&store, "bravo");
    store.issue_token("alpha", 2.0).unwrap();
    for i in 0..bravo_extra {
        store
            .put_tracks(bravo.id, &reports("B", 2, 5.0 + i as f64), 5.0 + i as f64)
            .unwrap();
    }
    store.put_tracks(a.id, &reports("A", 3, 10.0), 10.0).unwrap();
    store
        .append_alerts(
            &[
                NewAlert {
                    party: a.id,
                    body: json!({"z": 1, "a": [1.5, "x"]}),
                },
                NewAlert {
                    party: bravo.id,
                    body: json!("b"),
                },
            ],
            11.0,
        )
        .unwrap();
    store.party_checkpoint(12.0).unwrap();
    (store, a.id, bravo.id)
}

/// Every number in a view line but times, hashes and nonces: what a party could count.
fn countable(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(e) = v.get_mut("entry") {
                for k in ["time", "prev", "hash"] {
                    e[k] = Value::Null;
                }
            }
            if let Some(c) = v.get_mut("checkpoint") {
                for k in ["time", "root", "signature"] {
                    c[k] = Value::Null;
                }
                for l in c["leaves"].as_array_mut().unwrap() {
                    for k in ["hash", "nonce"] {
                        l[k] = Value::Null;
                    }
                    l["proof"] = json!(l["proof"].as_array().unwrap().len());
                }
            }
            if let Some(h) = v.get_mut("public_key") {
                *h = Value::Null;
            }
            v
        })
        .collect()
}

#[test]
fn a_party_verifies_its_own_view_offline() {
    for b in backends() {
        let (store, a, _) = activity(&b, 0);
        let text = view(&store, a);
        let r = verify(&text).unwrap();
        assert_eq!(r.party, a);
        // party.add, token.issue, tracks, alert
        assert_eq!(r.entries, 4, "{text}");
        assert!(r.signed);
        assert_eq!(r.chains.len(), 1);
        assert_eq!(r.chains[0].signed_seq, 4);
        // The page API agrees with the export.
        let page = store.party_audit(a, "main", 1, 10).unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3, 4]);
        let line2: Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        assert_eq!(line2["entry"]["hash"], page[0].hash);
        assert_eq!(store.party_heads(a).unwrap()[0].seq, 4);
    }
}

#[test]
fn nothing_in_a_view_counts_another_partys_activity() {
    for b in backends() {
        let (quiet, a1, _) = activity(&b, 0);
        let quiet_view = view(&quiet, a1);
        drop(quiet);
        let b2 = if b.is_pg() {
            common::postgres().unwrap()
        } else {
            common::sqlite()
        };
        let (busy, a2, _) = activity(&b2, 25);
        let busy_view = view(&busy, a2);
        assert_eq!(a1, a2);
        // Bravo did 25 more writes: alpha's view is the same but for times and hashes.
        assert_eq!(countable(&quiet_view), countable(&busy_view));
        assert!(!busy_view.contains("\"party\":2"), "{busy_view}");
        // And the sibling hashes change at every checkpoint whatever anyone did.
        let c1 = busy.party_checkpoint_view(a2).unwrap().unwrap();
        busy.party_checkpoint(13.0).unwrap();
        let c2 = busy.party_checkpoint_view(a2).unwrap().unwrap();
        assert_eq!(c1.leaves[0].leaf.hash, c2.leaves[0].leaf.hash);
        assert_ne!(c1.leaves[0].proof, c2.leaves[0].proof);
    }
}

fn tampered(text: &str, line: usize, f: impl Fn(&mut Value)) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                let mut v: Value = serde_json::from_str(l).unwrap();
                f(&mut v);
                v.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_tampered_view_is_named() {
    let b = common::sqlite();
    let (store, a, _) = activity(&b, 3);
    let text = view(&store, a);
    let n = text.lines().count();
    // An altered body.
    let e = verify(&tampered(&text, 3, |v| v["entry"]["kind"] = json!("x"))).unwrap_err();
    assert!(e.message.contains("altered"), "{e}");
    // A dropped entry.
    let cut: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert!(verify(&cut).unwrap_err().message.contains("expected seq"));
    // The last entry cut, with its checkpoint leaf still signing it.
    let cut_tail: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != n - 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let e = verify(&cut_tail).unwrap_err();
    assert!(e.message.contains("not an entry of this view"), "{e}");
    // A forged root, or a leaf moved.
    let e = verify(&tampered(&text, n, |v| {
        v["checkpoint"]["root"] = json!("00".repeat(32))
    }))
    .unwrap_err();
    assert!(e.message.contains("signature"), "{e}");
    let e = verify(&tampered(&text, n, |v| {
        v["checkpoint"]["leaves"][0]["index"] = json!(1)
    }))
    .unwrap_err();
    assert!(e.message.contains("not in the signed tree"), "{e}");
    // Someone else's view header on alpha's entries.
    let e = verify(&tampered(&text, 1, |v| v["party"] = json!(2))).unwrap_err();
    assert!(
        e.message.contains("altered") || e.message.contains("another party"),
        "{e}"
    );
}

#[test]
fn entries_from_before_party_chains_get_their_place_on_upgrade() {
    for b in backends() {
        let (_, a, _) = activity(&b, 2);
        // Back to schema 4: no sub-chains.
        b.undo_party_chains();
        b.exec("DELETE FROM schema_version WHERE version >= 5");
        let store = b.open_with(4);
        store.put_tracks(a, &reports("A", 1, 20.0), 20.0).unwrap();
        store.party_checkpoint(21.0).unwrap();
        let r = verify(&view(&store, a)).unwrap();
        assert_eq!(r.entries, 5);
        assert_eq!(r.chains[0].signed_seq, 5);
    }
}
