#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::{backends, export, party, reports, Backend};
use deconflict_store::PartyId;
use deconflict_store::{entry_hash, verify_audit, NewAlert, Store, StoreError, VerifyError, AUDIT_FORMAT};
use serde_json::{json, Value};

/// A store with a few of every kind of entry; checkpoints every 4 entries.
fn populated(b: &Backend) -> Store {
    let store = b.open_with(4);
    let a = party(&store, "alpha"); // 1
    let bravo = party(&store, "bravo"); // 2
    store.issue_token("alpha", 2.0).unwrap(); // 3
    store.put_tracks(a.id, &reports("A", 5, 10.0), 10.0).unwrap(); // 4 (+checkpoint)
    store.put_tracks(bravo.id, &reports("B", 2, 10.5), 10.5).unwrap(); // 5
    store
        .append_alerts(
            &[
                NewAlert {
                    party: a.id,
                    body: json!({"z": 1, "a": [1.5, "x"], "m": {"k": null}}),
                },
                NewAlert {
                    party: bravo.id,
                    body: json!("text \u{e9} \"quoted\""),
                },
            ],
            11.25,
        )
        .unwrap(); // 6, 7
    store
        .audit(None, "config.reload", json!({"by": "admin", "n": 1e-7}), 12.0)
        .unwrap(); // 8 (+cp)
    store.revoke_tokens("alpha", 13.0).unwrap(); // 9
    store
}

fn verify_str(text: &str) -> Result<deconflict_store::VerifyReport, VerifyError> {
    verify_audit(text.as_bytes())
}

#[test]
fn export_verifies() {
    for b in backends() {
        let store = populated(&b);
        let text = export(&store);
        let mut lines = text.lines();
        let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"format": AUDIT_FORMAT, "public_key": store.public_key_hex()})
        );
        let report = verify_str(&text).unwrap();
        assert_eq!(report.entries, 9);
        assert_eq!(report.checkpoints, 2);
        assert_eq!(report.links, 0);
        assert_eq!(report.chains.len(), 1);
        assert_eq!(report.chain("main").unwrap().last_signed_seq, 8);

        // Checkpoints sit right after the entry they cover.
        let kinds: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                match (v.get("entry"), v.get("checkpoint")) {
                    (Some(e), _) => {
                        assert_eq!(e["chain"], "main");
                        format!("e{}", e["seq"])
                    }
                    (_, Some(c)) => format!("c{}", c["seq"]),
                    _ => panic!("{l}"),
                }
            })
            .collect();
        assert_eq!(
            kinds,
            ["e1", "e2", "e3", "e4", "c4", "e5", "e6", "e7", "e8", "c8", "e9"]
        );

        // checkpoint() signs the newest entry once.
        let cp = store.checkpoint(20.0).unwrap().unwrap();
        assert_eq!((cp.chain.as_str(), cp.seq), ("main", 9));
        assert_eq!(store.latest_checkpoint("main").unwrap(), Some(cp.clone()));
        assert_eq!(store.latest_checkpoint("other").unwrap(), None);
        assert_eq!(store.checkpoint(21.0).unwrap(), None);
        let report = verify_str(&export(&store)).unwrap();
        let main = report.chain("main").unwrap();
        assert_eq!((main.checkpoints, main.last_signed_seq), (3, 9));
        assert_eq!(main.last_hash, cp.hash);
        let heads = store.chain_heads().unwrap();
        assert_eq!(heads.len(), 1);
        assert_eq!((heads[0].chain.as_str(), heads[0].seq), ("main", 9));
        assert_eq!(heads[0].hash, cp.hash);

        // The entries a party fetches hash to what the chain says.
        let mine = store.audit_for_party(PartyId(1), "main", 0, 100).unwrap();
        assert!(!mine.is_empty());
        for e in mine {
            let body = serde_json::to_string(&e.body).unwrap();
            let mut prev = [0u8; 32];
            hex::decode_to_slice(&e.prev, &mut prev).unwrap();
            let h = entry_hash(&e.chain, e.seq, e.time, e.party, &e.kind, &body, &prev).unwrap();
            assert_eq!(hex::encode(h), e.hash);
        }
        assert!(store
            .audit_for_party(PartyId(1), "other", 0, 100)
            .unwrap()
            .is_empty());
    }
}

#[test]
fn empty_log_and_checkpoint_of_nothing() {
    for b in backends() {
        let store = b.open();
        assert_eq!(store.checkpoint(1.0).unwrap(), None);
        assert_eq!(store.latest_checkpoint("main").unwrap(), None);
        assert_eq!(store.link_chains(1.0).unwrap(), None);
        assert!(store.chain_heads().unwrap().is_empty());
        let r = verify_str(&export(&store)).unwrap();
        assert_eq!((r.entries, r.checkpoints, r.chains.len()), (0, 0, 0));
        assert!(verify_str("").is_err());
        // audit.link is reserved for link_chains.
        assert!(matches!(
            store.audit(None, "audit.link", json!({"links": []}), 1.0),
            Err(StoreError::Invalid(_))
        ));
    }
}

#[test]
fn chain_survives_reopen_and_migrations_are_idempotent() {
    for b in backends() {
        drop(populated(&b));
        let store = b.open_with(4);
        store
            .audit(Some(PartyId(1)), "note", json!({"after": "reopen"}), 30.0)
            .unwrap();
        drop(store);
        let store = b.open();
        let r = verify_str(&export(&store)).unwrap();
        assert_eq!(r.entries, 10);
        assert_eq!(
            b.query_i64("SELECT COUNT(*) FROM schema_version"),
            deconflict_store::SCHEMA_VERSION,
            "each migration recorded once"
        );
    }
}

#[test]
fn sqlite_version_2_database_migrates_keeping_the_old_chain_aside() {
    // A database as schema version 2 left it: one chain, no chain column.
    let b = common::sqlite();
    {
        let conn = rusqlite::Connection::open(b.path().join(deconflict_store::DB_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1), (2);
             CREATE TABLE parties (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, member_of TEXT,
                 role TEXT NOT NULL, created REAL NOT NULL);
             CREATE TABLE tokens (id INTEGER PRIMARY KEY, party_id INTEGER NOT NULL, hash TEXT NOT NULL UNIQUE,
                 created REAL NOT NULL, revoked REAL);
             CREATE TABLE tracks (party_id INTEGER NOT NULL, asset TEXT NOT NULL, time REAL NOT NULL,
                 lat REAL NOT NULL, lng REAL NOT NULL, alt_m REAL NOT NULL, gs_mps REAL NOT NULL,
                 track_deg REAL NOT NULL, vs_mps REAL NOT NULL, class TEXT NOT NULL, PRIMARY KEY (party_id, asset));
             CREATE TABLE alerts (party_id INTEGER NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL,
                 body TEXT NOT NULL, PRIMARY KEY (party_id, seq));
             CREATE TABLE audit (seq INTEGER PRIMARY KEY, time REAL NOT NULL, party_id INTEGER, kind TEXT NOT NULL,
                 body TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);
             CREATE INDEX audit_party ON audit (party_id, seq);
             CREATE TABLE checkpoints (seq INTEGER PRIMARY KEY, time REAL NOT NULL, hash TEXT NOT NULL,
                 signature TEXT NOT NULL);
             CREATE TABLE volumes (party_id INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
                 version INTEGER NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL, updated REAL NOT NULL,
                 PRIMARY KEY (party_id, kind, id));
             INSERT INTO parties VALUES (1, 'old', NULL, 'party', 1.0);
             INSERT INTO audit VALUES (1, 1.0, 1, 'party.add', '{}', '00', '00');
             INSERT INTO volumes VALUES (1, 'intent', 'v', 1, 'accepted', '{}', 1.0);",
        )
        .unwrap();
    }
    let store = b.open();
    assert_eq!(store.party_by_name("old").unwrap().unwrap().id, PartyId(1));
    assert_eq!(store.all_volumes().unwrap().len(), 1);
    assert_eq!(party(&store, "new").id, PartyId(2));
    let r = verify_str(&export(&store)).unwrap();
    assert_eq!(r.entries, 1);
    assert_eq!(b.query_i64("SELECT COUNT(*) FROM audit_v1"), 1);
}

#[test]
fn tampered_body_in_db_is_named() {
    for b in backends() {
        let store = populated(&b);
        b.exec("UPDATE audit SET body = '{\"count\":6,\"digest\":\"00\"}' WHERE seq = 5");
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(5), "{err}");
        assert_eq!(err.chain.as_deref(), Some("main"), "{err}");
        assert_eq!(err.line, 7, "{err}"); // header, e1..e4, c4, e5
        assert!(err.message.contains("hash"), "{err}");

        // Even a body that is no longer JSON still exports and is named.
        b.exec("UPDATE audit SET body = 'not json' WHERE seq = 2");
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(2), "{err}");
    }
}

#[test]
fn other_tampered_fields_in_db_are_named() {
    for (sql, seq) in [
        ("UPDATE audit SET time = time + 1 WHERE seq = 3", 3),
        ("UPDATE audit SET party_id = 2 WHERE seq = 6", 6),
        ("UPDATE audit SET party_id = NULL WHERE seq = 1", 1),
        ("UPDATE audit SET kind = 'tracks' WHERE seq = 8", 8),
        ("UPDATE audit SET hash = prev WHERE seq = 7", 7),
    ] {
        for b in backends() {
            let store = populated(&b);
            b.exec(sql);
            let err = verify_str(&export(&store)).unwrap_err();
            assert_eq!(err.seq, Some(seq), "{sql}: {err}");
        }
    }
}

#[test]
fn rewritten_chain_is_caught_by_the_signature() {
    // An attacker without the key rewrites entry 2 and recomputes every later hash.
    for b in backends() {
        let store = populated(&b);
        b.exec("UPDATE audit SET body = '{\"name\":\"mallory\"}' WHERE seq = 2");
        b.rehash_chain("main");
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(4), "{err}");
        assert!(err.message.contains("signature"), "{err}");
    }
}

#[test]
fn tampered_export_line_is_named() {
    let b = common::sqlite();
    let store = populated(&b);
    let text = export(&store);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[7].contains("\"seq\":6"));

    let edit = |i: usize, new: String| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[i] = new;
        l.join("\n")
    };
    // Changed body value.
    let err = verify_str(&edit(7, lines[7].replace("\"seq\":1,", "\"seq\":2,"))).unwrap_err();
    assert_eq!((err.line, err.seq), (8, Some(6)), "{err}");
    // Reformatted body (whitespace) counts as altered, since the raw bytes are hashed.
    let err = verify_str(&edit(
        7,
        lines[7].replace("\"body\":{\"seq\":1,", "\"body\":{\"seq\": 1,"),
    ))
    .unwrap_err();
    assert_eq!((err.line, err.seq), (8, Some(6)), "{err}");
    // Changed time.
    let err = verify_str(&edit(7, lines[7].replace("11.25", "11.5"))).unwrap_err();
    assert_eq!((err.line, err.seq), (8, Some(6)), "{err}");
    // Changed chain name: the hash covers it.
    let err = verify_str(&edit(
        9,
        lines[9].replace("\"chain\":\"main\"", "\"chain\":\"mainx\""),
    ))
    .unwrap_err();
    assert_eq!(err.line, 10, "{err}");
    // Garbage line.
    let err = verify_str(&edit(3, "{\"entry\": garbage".into())).unwrap_err();
    assert_eq!(err.line, 4, "{err}");
    // Removed line (a gap).
    let mut l: Vec<&str> = lines.clone();
    l.remove(3); // entry 3
    let err = verify_str(&l.join("\n")).unwrap_err();
    assert_eq!((err.line, err.seq), (4, Some(4)), "{err}");
    assert!(err.message.contains("expected seq 3"), "{err}");
    // Swapped lines.
    let mut l: Vec<&str> = lines.clone();
    l.swap(2, 3);
    let err = verify_str(&l.join("\n")).unwrap_err();
    assert_eq!((err.line, err.seq), (3, Some(3)), "{err}");
    // Unknown extra field.
    let err = verify_str(&edit(2, lines[2].replace("{\"entry\":{", "{\"x\":1,\"entry\":{"))).unwrap_err();
    assert_eq!(err.line, 3, "{err}");
    // Bad header.
    let err = verify_str(&edit(0, "{\"format\":\"other/1\",\"public_key\":\"00\"}".into())).unwrap_err();
    assert_eq!((err.line, err.seq), (1, None), "{err}");
    // The old format is refused by name.
    let err = verify_str(&edit(
        0,
        lines[0].replace("deconflict-audit/2", "deconflict-audit/1"),
    ))
    .unwrap_err();
    assert!(err.message.contains("unknown format"), "{err}");
}

#[test]
fn forged_checkpoints_are_caught() {
    for b in backends() {
        let store = populated(&b);
        let text = export(&store);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let cp_line = 5; // index of c4
        let mut cp: Value = serde_json::from_str(&lines[cp_line]).unwrap();
        assert_eq!(cp["checkpoint"]["seq"], 4);

        // Flipped signature byte.
        let sig = cp["checkpoint"]["signature"].as_str().unwrap().to_string();
        let flipped = format!("{}{}", if &sig[..1] == "0" { "1" } else { "0" }, &sig[1..]);
        cp["checkpoint"]["signature"] = json!(flipped);
        let mut l = lines.clone();
        l[cp_line] = serde_json::to_string(&cp).unwrap();
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!((err.line, err.seq), (6, Some(4)), "{err}");
        assert!(err.message.contains("signature"), "{err}");

        // A checkpoint claiming another chain is not where it belongs.
        let mut moved: Value = serde_json::from_str(&lines[cp_line]).unwrap();
        moved["checkpoint"]["chain"] = json!("other");
        let mut l = lines.clone();
        l[cp_line] = serde_json::to_string(&moved).unwrap();
        assert_eq!(verify_str(&l.join("\n")).unwrap_err().line, 6);

        // Signed by another key (a second service), valid signature but wrong key.
        let other_b = common::sqlite();
        let other = populated(&other_b);
        let other_text = export(&other);
        let other_cp = other_text.lines().nth(cp_line).unwrap();
        let mut ocp: Value = serde_json::from_str(other_cp).unwrap();
        let real: Value = serde_json::from_str(&lines[cp_line]).unwrap();
        ocp["checkpoint"]["hash"] = real["checkpoint"]["hash"].clone();
        let mut l = lines.clone();
        l[cp_line] = serde_json::to_string(&ocp).unwrap();
        assert!(verify_str(&l.join("\n"))
            .unwrap_err()
            .message
            .contains("signature"));

        // Replacing the header key with the other service's key breaks the real checkpoints.
        let mut l = lines.clone();
        l[0] = other_text.lines().next().unwrap().to_string();
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!((err.line, err.seq), (6, Some(4)), "{err}");

        // A checkpoint moved away from the entry it covers.
        let mut l = lines.clone();
        let moved = l.remove(cp_line);
        l.insert(cp_line + 1, moved);
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!(err.seq, Some(4), "{err}");

        // A forged signature stored in the database.
        b.exec(&format!(
            "UPDATE checkpoints SET signature = '{flipped}' WHERE seq = 8"
        ));
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(8), "{err}");
    }
}

#[test]
fn deleted_entry_is_caught() {
    for b in backends() {
        let store = populated(&b);
        b.exec("DELETE FROM audit WHERE seq = 6");
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(7), "{err}");
        assert!(err.message.contains("expected seq 6"), "{err}");
        assert_eq!(err.line, 8, "{err}");
    }
    // Deleting the newest entries is caught by a checkpoint covering them.
    for b in backends() {
        let store = populated(&b);
        b.exec("DELETE FROM audit WHERE seq >= 8");
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(8), "{err}");
    }
}

#[test]
fn cross_process_writes_extend_one_chain() {
    for b in backends() {
        let server = b.open_with(5);
        let a = party(&server, "alpha");
        for i in 0..10 {
            let cli = b.open();
            cli.audit(None, "cli.op", json!({"i": i}), 100.0 + i as f64)
                .unwrap();
            server
                .put_tracks(a.id, &reports("A", 3, i as f64), 100.0 + i as f64)
                .unwrap();
            cli.issue_token("alpha", 100.0).unwrap();
        }
        let r = verify_str(&export(&server)).unwrap();
        assert_eq!(r.entries, 31);
        assert_eq!(r.chains.len(), 1);
    }
}

#[test]
fn two_handles_on_one_chain_never_fork_it() {
    for b in backends() {
        let s1 = b.open_node("shared", 7);
        let s2 = b.open_node("shared", 7);
        let p = party(&s1, "alpha").id;
        std::thread::scope(|s| {
            for (t, store) in [&s1, &s2, &s1, &s2].into_iter().enumerate() {
                s.spawn(move || {
                    for i in 0..25 {
                        store
                            .audit(Some(p), "ping", json!({"t": t, "i": i}), 1.0)
                            .unwrap();
                    }
                });
            }
        });
        let r = verify_str(&export(&s2)).unwrap();
        assert_eq!(r.entries, 101);
        assert_eq!(r.chains.len(), 1);
        assert_eq!(r.chain("shared").unwrap().entries, 101);
    }
}

/// Two nodes, each with entries, A linking B.
fn two_chains(b: &Backend) -> (Store, Store) {
    let na = b.open_node("node-a", 0);
    let nb = b.open_node("node-b", 0);
    let p = party(&na, "alpha").id; // a1
    nb.audit(Some(p), "b.op", json!({"i": 1}), 2.0).unwrap(); // b1
    nb.audit(Some(p), "b.op", json!({"i": 2}), 3.0).unwrap(); // b2
    na.audit(None, "a.op", json!({}), 4.0).unwrap(); // a2
    (na, nb)
}

#[test]
fn two_chains_link_and_verify_together() {
    for b in backends() {
        let (na, nb) = two_chains(&b);
        assert_eq!(na.node(), "node-a");
        let heads = na.chain_heads().unwrap();
        assert_eq!(
            heads
                .iter()
                .map(|h| (h.chain.as_str(), h.seq))
                .collect::<Vec<_>>(),
            vec![("node-a", 2), ("node-b", 2)]
        );
        // A links B's head; nothing moved since, so a second call does nothing.
        assert_eq!(na.link_chains(5.0).unwrap(), Some(3));
        assert_eq!(na.link_chains(5.5).unwrap(), None);
        let link = na.audit_for_party(PartyId(0), "node-a", 0, 10).unwrap();
        assert!(link.is_empty(), "links carry no party");
        // B links A (whose head is now its link), then A must link again (B moved).
        assert_eq!(nb.link_chains(6.0).unwrap(), Some(3));
        assert_eq!(na.link_chains(7.0).unwrap(), Some(4));
        assert_eq!(na.checkpoint(8.0).unwrap().unwrap().chain, "node-a");
        assert_eq!(nb.checkpoint(8.0).unwrap().unwrap().chain, "node-b");

        let text = export(&nb);
        assert_eq!(text, export(&na), "one database, one export");
        let r = verify_str(&text).unwrap();
        assert_eq!(r.entries, 4 + 3);
        assert_eq!(r.checkpoints, 2);
        assert_eq!(r.links, 3);
        assert_eq!(
            r.chains
                .iter()
                .map(|c| (c.chain.as_str(), c.entries))
                .collect::<Vec<_>>(),
            vec![("node-a", 4), ("node-b", 3)]
        );
        // The link body names the other chain's head with its hash.
        let first_link: Value = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| v["entry"]["kind"] == "audit.link")
            .unwrap();
        let heads_then = &first_link["entry"]["body"]["links"];
        assert_eq!(heads_then[0]["chain"], "node-b");
        assert_eq!(heads_then[0]["seq"], 2);

        // Chains out of order or repeated are refused.
        let lines: Vec<&str> = text.lines().collect();
        let b_start = lines
            .iter()
            .position(|l| l.contains("\"chain\":\"node-b\""))
            .unwrap();
        let mut reordered: Vec<&str> = vec![lines[0]];
        reordered.extend(&lines[b_start..]);
        reordered.extend(&lines[1..b_start]);
        let err = verify_str(&reordered.join("\n")).unwrap_err();
        assert!(err.message.contains("out of order"), "{err}");
    }
}

/// Rewrites one export line's entry with a new body and a recomputed hash (the chain's
/// remaining lines are left as they are).
fn reforge(line: &str, body: &Value) -> String {
    let mut v: Value = serde_json::from_str(line).unwrap();
    let e = &mut v["entry"];
    e["body"] = body.clone();
    let body_text = serde_json::to_string(body).unwrap();
    let mut prev = [0u8; 32];
    hex::decode_to_slice(e["prev"].as_str().unwrap(), &mut prev).unwrap();
    let h = entry_hash(
        e["chain"].as_str().unwrap(),
        e["seq"].as_u64().unwrap(),
        e["time"].as_f64().unwrap(),
        e["party"].as_i64().map(PartyId),
        e["kind"].as_str().unwrap(),
        &body_text,
        &prev,
    )
    .unwrap();
    e["hash"] = json!(hex::encode(h));
    serde_json::to_string(&v).unwrap()
}

#[test]
fn a_forged_or_altered_link_is_caught() {
    for b in backends() {
        let (na, _nb) = two_chains(&b);
        let seq = na.link_chains(5.0).unwrap().unwrap();
        let text = export(&na);
        verify_str(&text).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let i = lines.iter().position(|l| l.contains("audit.link")).unwrap();
        let v: Value = serde_json::from_str(&lines[i]).unwrap();
        let body = v["entry"]["body"].clone();

        // Altered hash in the link, the linking entry re-hashed (it is A's newest, unsigned).
        let mut forged = body.clone();
        forged["links"][0]["hash"] = json!("ab".repeat(32));
        let mut l = lines.clone();
        l[i] = reforge(&lines[i], &forged);
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!(
            (err.line, err.chain.as_deref(), err.seq),
            (i + 1, Some("node-a"), Some(seq)),
            "{err}"
        );
        assert!(err.message.contains("link to chain \"node-b\" entry 2"), "{err}");

        // A link to an entry that does not exist.
        let mut forged = body.clone();
        forged["links"][0]["seq"] = json!(99);
        let mut l = lines.clone();
        l[i] = reforge(&lines[i], &forged);
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!(
            (err.chain.as_deref(), err.seq),
            (Some("node-a"), Some(seq)),
            "{err}"
        );
        assert!(err.message.contains("no such entry"), "{err}");

        // A malformed link body.
        let mut l = lines.clone();
        l[i] = reforge(&lines[i], &json!({"links": [{"chain": "node-b"}]}));
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!(err.seq, Some(seq), "{err}");

        // Without re-hashing, altering the link is a plain hash mismatch of the linking entry.
        let mut l = lines.clone();
        l[i] = lines[i].replace("\"seq\":2,\"hash\"", "\"seq\":1,\"hash\"");
        assert_ne!(l[i], lines[i]);
        let err = verify_str(&l.join("\n")).unwrap_err();
        assert_eq!(
            (err.chain.as_deref(), err.seq),
            (Some("node-a"), Some(seq)),
            "{err}"
        );
    }
}

#[test]
fn an_entry_of_b_altered_after_a_linked_it_is_caught() {
    for b in backends() {
        let (na, nb) = two_chains(&b);
        let link_seq = na.link_chains(5.0).unwrap().unwrap();
        // B has no checkpoint: alone, B's chain re-hashed after the change would verify...
        b.exec("UPDATE audit SET body = '{\"i\":666}' WHERE chain = 'node-b' AND seq = 1");
        b.rehash_chain("node-b");
        // ...but A's link holds B's old head.
        let err = verify_str(&export(&nb)).unwrap_err();
        assert_eq!(
            (err.chain.as_deref(), err.seq),
            (Some("node-a"), Some(link_seq)),
            "{err}"
        );
        assert!(err.message.contains("hash does not match"), "{err}");
    }
}
