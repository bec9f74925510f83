mod common;

use common::{export, party, reports};
use deconflict_store::{entry_hash, verify_audit, NewAlert, Store, VerifyError, AUDIT_FORMAT, DB_FILE};
use rusqlite::Connection;
use serde_json::{json, Value};
use std::path::Path;

/// A store with a few of every kind of entry; checkpoints every 4 entries.
fn populated(dir: &Path) -> Store {
    let store = Store::open_with(dir, 4).unwrap();
    let a = party(&store, "alpha"); // 1
    let b = party(&store, "bravo"); // 2
    store.issue_token("alpha", 2.0).unwrap(); // 3
    store.put_tracks(a.id, &reports("A", 5, 10.0), 10.0).unwrap(); // 4 (+checkpoint)
    store.put_tracks(b.id, &reports("B", 2, 10.5), 10.5).unwrap(); // 5
    store
        .append_alerts(
            &[
                NewAlert {
                    party: a.id,
                    body: json!({"z": 1, "a": [1.5, "x"], "m": {"k": null}}),
                },
                NewAlert {
                    party: b.id,
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

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join(DB_FILE)).unwrap()
}

#[test]
fn export_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
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
    assert_eq!(report.last_signed_seq, 8);

    // Checkpoints sit right after the entry they cover.
    let kinds: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            match (v.get("entry"), v.get("checkpoint")) {
                (Some(e), _) => format!("e{}", e["seq"]),
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
    assert_eq!(cp.seq, 9);
    assert_eq!(store.latest_checkpoint().unwrap(), Some(cp.clone()));
    assert_eq!(store.checkpoint(21.0).unwrap(), None);
    let report = verify_str(&export(&store)).unwrap();
    assert_eq!((report.checkpoints, report.last_signed_seq), (3, 9));
    assert_eq!(report.last_hash, cp.hash);

    // The entries a party fetches hash to what the chain says.
    for e in store.audit_for_party(1, 0, 100).unwrap() {
        let body = serde_json::to_string(&e.body).unwrap();
        let mut prev = [0u8; 32];
        hex::decode_to_slice(&e.prev, &mut prev).unwrap();
        let h = entry_hash(e.seq, e.time, e.party, &e.kind, &body, &prev).unwrap();
        assert_eq!(hex::encode(h), e.hash);
    }
}

#[test]
fn empty_log_and_checkpoint_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.checkpoint(1.0).unwrap(), None);
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    let r = verify_str(&export(&store)).unwrap();
    assert_eq!((r.entries, r.checkpoints), (0, 0));
    assert!(verify_str("").is_err());
}

#[test]
fn chain_survives_reopen_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    drop(populated(dir.path()));
    let store = Store::open_with(dir.path(), 4).unwrap();
    store
        .audit(Some(1), "note", json!({"after": "reopen"}), 30.0)
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let r = verify_str(&export(&store)).unwrap();
    assert_eq!(r.entries, 10);
    let versions: i64 = raw(dir.path())
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        versions,
        deconflict_store::SCHEMA_VERSION,
        "each migration recorded once"
    );
}

#[test]
fn tampered_body_in_db_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
    raw(dir.path())
        .execute(
            "UPDATE audit SET body = '{\"count\":6,\"digest\":\"00\"}' WHERE seq = 5",
            [],
        )
        .unwrap();
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(5), "{err}");
    assert_eq!(err.line, 7, "{err}"); // header, e1..e4, c4, e5
    assert!(err.message.contains("hash"), "{err}");

    // Even a body that is no longer JSON still exports and is named.
    raw(dir.path())
        .execute("UPDATE audit SET body = 'not json' WHERE seq = 2", [])
        .unwrap();
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(2), "{err}");
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
        let dir = tempfile::tempdir().unwrap();
        let store = populated(dir.path());
        raw(dir.path()).execute(sql, []).unwrap();
        let err = verify_str(&export(&store)).unwrap_err();
        assert_eq!(err.seq, Some(seq), "{sql}: {err}");
    }
}

#[test]
fn rewritten_chain_is_caught_by_the_signature() {
    // An attacker without the key rewrites entry 2 and recomputes every later hash.
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
    let conn = raw(dir.path());
    conn.execute(
        "UPDATE audit SET body = '{\"name\":\"mallory\"}' WHERE seq = 2",
        [],
    )
    .unwrap();
    let mut prev = [0u8; 32];
    let rows: Vec<(i64, f64, Option<i64>, String, String)> = conn
        .prepare("SELECT seq, time, party_id, kind, body FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (seq, time, party, kind, body) in rows {
        let h = entry_hash(seq as u64, time, party, &kind, &body, &prev).unwrap();
        conn.execute(
            "UPDATE audit SET prev = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![hex::encode(prev), hex::encode(h), seq],
        )
        .unwrap();
        conn.execute(
            "UPDATE checkpoints SET hash = ?1 WHERE seq = ?2",
            rusqlite::params![hex::encode(h), seq],
        )
        .unwrap();
        prev = h;
    }
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(4), "{err}");
    assert!(err.message.contains("signature"), "{err}");
}

#[test]
fn tampered_export_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
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
}

#[test]
fn forged_checkpoints_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
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

    // Signed by another key (a second service), valid signature but wrong key.
    let other_dir = tempfile::tempdir().unwrap();
    let other = populated(other_dir.path());
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
    raw(dir.path())
        .execute("UPDATE checkpoints SET signature = ?1 WHERE seq = 8", [flipped])
        .unwrap();
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(8), "{err}");
}

#[test]
fn deleted_entry_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
    raw(dir.path())
        .execute("DELETE FROM audit WHERE seq = 6", [])
        .unwrap();
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(7), "{err}");
    assert!(err.message.contains("expected seq 6"), "{err}");
    assert_eq!(err.line, 8, "{err}");

    // Deleting the newest entries is caught by a checkpoint covering them.
    let dir = tempfile::tempdir().unwrap();
    let store = populated(dir.path());
    raw(dir.path())
        .execute("DELETE FROM audit WHERE seq >= 8", [])
        .unwrap();
    let err = verify_str(&export(&store)).unwrap_err();
    assert_eq!(err.seq, Some(8), "{err}");
}

#[test]
fn cross_process_writes_extend_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let server = Store::open_with(dir.path(), 5).unwrap();
    let a = party(&server, "alpha");
    for i in 0..10 {
        let cli = Store::open(dir.path()).unwrap();
        cli.audit(None, "cli.op", json!({"i": i}), 100.0 + i as f64)
            .unwrap();
        server
            .put_tracks(a.id, &reports("A", 3, i as f64), 100.0 + i as f64)
            .unwrap();
        cli.issue_token("alpha", 100.0).unwrap();
    }
    let r = verify_str(&export(&server)).unwrap();
    assert_eq!(r.entries, 31);
}
