#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The service end to end: the real `deconflict serve` binary on loopback, real SQLite files,
//! real HTTP and Server-Sent Events.

mod support;

use serde_json::json;
use std::time::Duration;
use support::single::{cli, eventually, party, start, start_with};
use support::{alerts, bin, call, north, now, post, read_n_events, report, Server};

/// The two drones of the scenario: RUS-UAV-1 flying north from 35.0, COAL-UAV-9 flying south
/// towards it from `gap` metres north.
fn converge(s: &Server, rus: &str, coal: &str, gap: f64) {
    let t = now();
    assert_eq!(post(s, rus, &[report("RUS-UAV-1", t, 35.0, 0.0, 20.0)]).0, 200);
    assert_eq!(
        post(
            s,
            coal,
            &[report("COAL-UAV-9", t, 35.0 + north(gap), 180.0, 20.0)]
        )
        .0,
        200
    );
}

#[test]
fn two_parties_are_both_alerted_and_see_only_what_they_may() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start_with(tmp.path(), "metrics_token = \"operator-metrics-0123\"\n");
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let (rus_id, coal_id) = ("RUS-UAV-1", "COAL-UAV-9");

    // 1.8 km apart closing at 40 m/s: entry in ~44 s, corrective (<= 55 s).
    converge(&s, &rus, &coal, 1800.0);
    let a1 = eventually("corrective alerts", || {
        let (r, c) = (alerts(&s, &rus, 0), alerts(&s, &coal, 0));
        (!r.is_empty() && !c.is_empty()).then_some((r, c))
    });
    for (mine, theirs, list) in [(rus_id, coal_id, &a1.0), (coal_id, rus_id, &a1.1)] {
        let a = &list[0];
        assert_eq!(a["event"], "new", "{a}");
        assert_eq!(a["level"], 2, "{a}");
        assert_eq!(a["own_asset"], mine);
        assert_eq!(a["intruder"]["class"], "uas_small");
        assert!(a["intruder"]["lat"].is_number() && a["intruder"]["gs_mps"].is_number());
        assert!(
            a["tin_s"].as_f64().unwrap() > 25.0 && a["tin_s"].as_f64().unwrap() <= 55.0,
            "{a}"
        );
        // never the other side's id or name: the intruder is an allow-listed state vector
        let text = a.to_string();
        assert!(!text.contains(theirs), "{text}");
        let mut keys: Vec<&str> = a["intruder"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "alt_m",
                "class",
                "gs_mps",
                "lat",
                "lng",
                "stale",
                "time",
                "track_deg",
                "vs_mps"
            ]
        );
    }
    assert_eq!(a1.0[0]["conflict_id"], a1.1[0]["conflict_id"]);
    let conflict = a1.0[0]["conflict_id"].as_str().unwrap().to_string();

    // Each side is advised for its own drone (MVP: the tests' table separates every pair by a
    // 50 m cylinder, not DO-365), and the two
    // preferred manoeuvres are coordinated: never both climbing or both descending, never
    // both turning towards the other (head-on: left would cross).
    let preferred: Vec<&serde_json::Value> = [&a1.0[0], &a1.1[0]]
        .iter()
        .map(|a| {
            assert_eq!(a["advice"]["method"], "mvp", "{a}");
            let p = &a["advice"]["preferred"];
            assert!(
                p["manoeuvre"].is_string(),
                "a corrective alert needs a manoeuvre: {a}"
            );
            p
        })
        .collect();
    let kinds: Vec<&str> = preferred
        .iter()
        .map(|p| p["manoeuvre"].as_str().unwrap())
        .collect();
    assert_ne!(kinds, ["vs_up", "vs_up"]);
    assert_ne!(kinds, ["vs_down", "vs_down"]);
    assert!(
        !kinds.contains(&"turn_left"),
        "head-on, both turn right: {kinds:?}"
    );
    // The advice step is on the operator's metrics.
    let (st, m) = call(
        "GET",
        &format!("{}/metrics", s.base),
        Some("operator-metrics-0123"),
        None,
    );
    assert_eq!(st, 200);
    let m = m.as_str().unwrap().to_string();
    let advised = m
        .lines()
        .find_map(|l| l.strip_prefix("deconflict_advice_conflicts_total "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert!(advised.is_some_and(|n| n >= 1.0), "{m}");
    assert!(m.contains("# TYPE deconflict_advice_seconds histogram"), "{m}");
    assert!(m.contains("deconflict_advice_skipped_total 0"), "{m}");

    // Own picture: own track in full, the intruder as a state vector only.
    let (st, pic) = call("GET", &format!("{}/v1/tracks", s.base), Some(&rus), None);
    assert_eq!(st, 200);
    assert_eq!(pic["own"].as_array().unwrap().len(), 1);
    assert_eq!(pic["own"][0]["asset"], rus_id);
    assert_eq!(pic["intruders"].as_array().unwrap().len(), 1);
    assert!(!pic.to_string().contains(coal_id));

    // 800 m apart: entry in ~19 s, a warning.
    converge(&s, &rus, &coal, 800.0);
    eventually("warning", || {
        let r = alerts(&s, &rus, 0);
        let c = alerts(&s, &coal, 0);
        (r.iter().any(|a| a["event"] == "raised" && a["level"] == 3)
            && c.iter().any(|a| a["event"] == "raised" && a["level"] == 3))
        .then_some(())
    });

    // They pass and separate: cleared for both, after the hysteresis.
    let t = now();
    post(&s, &rus, &[report(rus_id, t, 35.0 + north(400.0), 0.0, 20.0)]);
    post(&s, &coal, &[report(coal_id, t, 35.0, 180.0, 20.0)]);
    let done = eventually("cleared", || {
        let r = alerts(&s, &rus, 0);
        let c = alerts(&s, &coal, 0);
        (r.last().is_some_and(|a| a["event"] == "cleared")
            && c.last().is_some_and(|a| a["event"] == "cleared"))
        .then_some((r, c))
    });
    for list in [&done.0, &done.1] {
        let seqs: Vec<u64> = list.iter().map(|a| a["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "per-party sequence numbers"
        );
        let events: Vec<&str> = list.iter().map(|a| a["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["new", "raised", "cleared"]);
        assert!(list.iter().all(|a| a["conflict_id"] == conflict.as_str()));
    }
    // After clearing, nothing is disclosed any more.
    let (_, pic) = call("GET", &format!("{}/v1/tracks", s.base), Some(&rus), None);
    assert!(pic["intruders"].as_array().unwrap().is_empty());
}

#[test]
fn another_party_finds_nothing_of_yours() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let a = party(tmp.path(), "ALPHA");
    let c = party(tmp.path(), "CHARLIE");
    let b = party(tmp.path(), "BRAVO");
    // ALPHA and CHARLIE are in a conflict; BRAVO flies elsewhere.
    let t = now();
    post(&s, &a, &[report("A-SECRET-1", t, 35.0, 0.0, 20.0)]);
    post(&s, &c, &[report("C-1", t, 35.0 + north(900.0), 180.0, 20.0)]);
    post(
        &s,
        &b,
        &[
            json!({"asset": "B-1", "time": t, "lat": 10.0, "lng": 10.0, "alt_m": 100.0, "gs_mps": 5.0, "track_deg": 0.0}),
        ],
    );
    let a_alerts = eventually("alpha alert", || {
        let v = alerts(&s, &a, 0);
        (!v.is_empty()).then_some(v)
    });
    let conflict = a_alerts[0]["conflict_id"].as_str().unwrap().to_string();

    // Every read route, with ALPHA's ids and with guessed ids: the same answer.
    let base = &s.base;
    for (known, guessed) in [
        (
            format!("{base}/v1/tracks/A-SECRET-1"),
            format!("{base}/v1/tracks/NO-SUCH-ASSET"),
        ),
        (
            format!("{base}/v1/conflicts/{conflict}"),
            format!("{base}/v1/conflicts/c-0000000000000000"),
        ),
    ] {
        let k = call("GET", &known, Some(&b), None);
        let g = call("GET", &guessed, Some(&b), None);
        assert_eq!(k.0, 404, "{known}: {:?}", k.1);
        assert_eq!(
            k.1.to_string().replace("track", "").replace("conflict", ""),
            g.1.to_string().replace("track", "").replace("conflict", "")
        );
        assert_eq!(k.0, g.0);
    }
    // BRAVO's lists hold nothing of ALPHA's.
    let (_, pic) = call("GET", &format!("{base}/v1/tracks"), Some(&b), None);
    assert_eq!(pic["own"].as_array().unwrap().len(), 1);
    assert!(pic["intruders"].as_array().unwrap().is_empty());
    assert!(alerts(&s, &b, 0).is_empty());
    let (_, audit) = call("GET", &format!("{base}/v1/audit"), Some(&b), None);
    assert!(!audit["entries"].to_string().contains("A-SECRET"));
    // BRAVO's own sub-chain only: numbered 1, 2, 3, ... with no party field or global seq.
    let entries = audit["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64 + 1), "{audit}");
        assert!(e.get("party").is_none(), "{e}");
    }
    let everything = format!("{pic}{audit}");
    assert!(!everything.contains("A-SECRET") && !everything.contains(&conflict));
    // Writing as ALPHA is refused and stores nothing.
    let (st, e) = post(
        &s,
        &b,
        &[
            json!({"asset": "A-SECRET-1", "party": "ALPHA", "time": t, "lat": 1.0, "lng": 1.0, "alt_m": 1.0, "gs_mps": 1.0, "track_deg": 1.0}),
        ],
    );
    assert_eq!(st, 422);
    assert_eq!(e["field"], "tracks[0].party");
    let (_, pic) = call("GET", &format!("{base}/v1/tracks"), Some(&b), None);
    assert_eq!(pic["own"].as_array().unwrap().len(), 1);
    // The stream carries nothing of ALPHA's either.
    let evs = read_n_events(&s.base, &b, None, 1, Duration::from_millis(700));
    assert!(evs.is_empty());

    // Tokens: missing, forged, malformed and revoked get 401 and nothing else.
    let forged = "dcf_".to_string() + &"0".repeat(64);
    for tok in [None, Some(forged.as_str()), Some("garbage"), Some("")] {
        let (st, body) = call("GET", &format!("{base}/v1/alerts"), tok, None);
        assert_eq!(st, 401, "{tok:?}");
        assert_eq!(body["field"], "Authorization");
    }
    cli(tmp.path(), &["token", "revoke", "ALPHA"]);
    let (st, _) = call("GET", &format!("{base}/v1/alerts"), Some(&a), None);
    assert_eq!(st, 401, "revoked token still works");
    let (st, _) = post(&s, &a, &[report("A-SECRET-1", now(), 35.0, 0.0, 20.0)]);
    assert_eq!(st, 401);
    // /healthz needs no token and says nothing about any party.
    let (st, h) = call("GET", &format!("{base}/healthz"), None, None);
    assert_eq!(
        (st, h),
        (
            200,
            json!({"status": "ok", "node": "main", "store": "sqlite", "nats": "off", "peers": [], "queued": 0})
        )
    );
}

#[test]
fn bad_input_is_refused_with_the_field_named_and_nothing_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let tok = party(tmp.path(), "RUS");
    let t = now();
    let good = report("UAV-1", t, 35.0, 0.0, 20.0);
    let cases: Vec<(String, u16, &str)> = vec![
        ("{not json".into(), 400, "body"),
        (r#"[{"asset":"X","time":0,"lat":1e999,"lng":0,"alt_m":0,"gs_mps":0,"track_deg":0}]"#.into(), 400, "body"),
        (json!({"not": "an array"}).to_string(), 422, "body"),
        (json!([good.clone(), {"asset": "UAV-2", "time": t, "lat": 91.0, "lng": 0, "alt_m": 0, "gs_mps": 0, "track_deg": 0}]).to_string(), 422, "tracks[1].lat"),
        (json!([{"asset": "UAV-2", "time": t, "lat": 1.0, "lng": 0, "alt_m": 0, "gs_mps": 1500.0, "track_deg": 0}]).to_string(), 422, "tracks[0].gs_mps"),
        (json!([{"asset": "UAV-2", "time": t, "lat": "north", "lng": 0, "alt_m": 0, "gs_mps": 1, "track_deg": 0}]).to_string(), 422, "tracks[0].lat"),
        (json!([{"asset": "UAV-2", "time": t, "lat": 1.0, "lng": 0, "alt_m": 0, "gs_mps": 1, "track_deg": 0, "class": "jet"}]).to_string(), 422, "tracks[0].class"),
        (json!([{"asset": "UAV-2", "time": t + 3600.0, "lat": 1.0, "lng": 0, "alt_m": 0, "gs_mps": 1, "track_deg": 0}]).to_string(), 422, "tracks[0].time"),
        (format!("[{}]", vec![good.to_string(); 2000].join(",")), 413, "body"),
        // Twenty times the limit: the client is still sending when the server has decided;
        // it must read the 413, not a reset connection.
        (format!("[{}]", vec![good.to_string(); 30_000].join(",")), 413, "body"),
    ];
    for (body, status, field) in cases {
        let (st, e) = call("POST", &format!("{}/v1/tracks", s.base), Some(&tok), Some(&body));
        assert_eq!(st, status, "{}: {e}", &body[..body.len().min(80)]);
        assert_eq!(e["field"], field, "{e}");
        assert!(e["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // nothing of the rejected batches was stored (UAV-1 came only in rejected batches)
    let (_, pic) = call("GET", &format!("{}/v1/tracks", s.base), Some(&tok), None);
    assert!(pic["own"].as_array().unwrap().is_empty(), "{pic}");
    let (st, e) = call("GET", &format!("{}/v1/nowhere", s.base), Some(&tok), None);
    assert_eq!(st, 404);
    assert!(e["error"].is_string());
    // The service is still fine.
    assert_eq!(post(&s, &tok, &[good]).0, 200);
    // The OpenAPI document is served and lists the routes.
    let (st, doc) = call("GET", &format!("{}/openapi.json", s.base), None, None);
    assert_eq!(st, 200);
    for p in [
        "/v1/tracks",
        "/v1/alerts",
        "/v1/stream",
        "/v1/audit",
        "/v1/audit/key",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from openapi.json");
    }
}

#[test]
fn a_stream_client_that_reconnects_gets_exactly_what_it_missed() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    // first conflict
    converge(&s, &rus, &coal, 1800.0);
    let first = read_n_events(&s.base, &rus, None, 1, Duration::from_secs(10));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, 1);
    assert_eq!(first[0].1["event"], "new");
    // while disconnected: escalation and more
    converge(&s, &rus, &coal, 800.0);
    eventually("raised", || {
        alerts(&s, &rus, 0)
            .iter()
            .any(|a| a["event"] == "raised")
            .then_some(())
    });
    let missed = alerts(&s, &rus, 1);
    assert!(!missed.is_empty());
    let resumed = read_n_events(&s.base, &rus, Some(1), missed.len(), Duration::from_secs(5));
    let got: Vec<u64> = resumed.iter().map(|e| e.0).collect();
    let want: Vec<u64> = missed.iter().map(|a| a["seq"].as_u64().unwrap()).collect();
    assert_eq!(got, want, "resumed stream must deliver exactly the missed alerts");
    for ((_, d), a) in resumed.iter().zip(&missed) {
        assert_eq!(d, a);
    }
    // and live alerts keep coming on a connected stream
    let rus2 = rus.clone();
    let base = s.base.clone();
    let last = want.last().copied().unwrap_or(1);
    let live =
        std::thread::spawn(move || read_n_events(&base, &rus2, Some(last), 1, Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    let t = now();
    post(
        &s,
        &rus,
        &[report("RUS-UAV-1", t, 35.0 + north(400.0), 0.0, 20.0)],
    );
    post(&s, &coal, &[report("COAL-UAV-9", t, 35.0, 180.0, 20.0)]);
    let v = live.join().unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].1["event"], "cleared");
}

#[test]
fn acknowledged_alerts_and_audit_survive_kill_9_and_tampering_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    converge(&s, &rus, &coal, 1800.0);
    converge(&s, &rus, &coal, 800.0);
    let before = eventually("two alerts", || {
        let v = alerts(&s, &rus, 0);
        (v.len() >= 2).then_some(v)
    });
    let audit_before = call("GET", &format!("{}/v1/audit", s.base), Some(&rus), None).1["entries"].clone();
    assert!(audit_before.as_array().unwrap().len() >= 3, "{audit_before}");
    // SIGKILL: no shutdown handler, no final checkpoint.
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let s2 = start(&s.dir);
    let after = alerts(&s2, &rus, 0);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "acknowledged alerts must survive"
    );
    let audit_after = call("GET", &format!("{}/v1/audit", s2.base), Some(&rus), None).1["entries"].clone();
    let n = audit_before.as_array().unwrap().len();
    assert_eq!(
        &audit_after.as_array().unwrap()[..n],
        &audit_before.as_array().unwrap()[..],
        "audit entries must survive"
    );
    // Sequence numbers continue: separation clears the conflict with the next number.
    let t = now();
    post(
        &s2,
        &rus,
        &[report("RUS-UAV-1", t, 35.0 + north(400.0), 0.0, 20.0)],
    );
    post(&s2, &coal, &[report("COAL-UAV-9", t, 35.0, 180.0, 20.0)]);
    let more = eventually("a new alert after restart", || {
        let v = alerts(&s2, &rus, before.len() as u64);
        (!v.is_empty()).then_some(v)
    });
    assert_eq!(more[0]["seq"].as_u64().unwrap(), before.len() as u64 + 1);
    drop(s2);

    // The audit log verifies, and a tampered entry is named.
    let export = tmp.path().join("audit.jsonl");
    cli(
        tmp.path(),
        &["audit", "export", "--out", export.to_str().unwrap()],
    );
    let ok = bin().args(["audit", "verify"]).arg(&export).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let text = std::fs::read_to_string(&export).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let victim = lines
        .iter()
        .position(|l| l.contains("\"entry\"") && l.contains("\"seq\":4,"))
        .expect("entry 4");
    lines[victim] = lines[victim].replacen("\"kind\":\"", "\"kind\":\"x", 1);
    let bad = tmp.path().join("tampered.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = bin().args(["audit", "verify"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("entry 4"), "{msg}");

    // Tampering with a stored entry in the database itself is named too.
    let db = rusqlite::Connection::open(tmp.path().join("data/deconflict.db")).unwrap();
    let n = db
        .execute("UPDATE audit SET body = '{\"count\":999}' WHERE seq = 6", [])
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let export2 = tmp.path().join("audit2.jsonl");
    cli(
        tmp.path(),
        &["audit", "export", "--out", export2.to_str().unwrap()],
    );
    let out = bin().args(["audit", "verify"]).arg(&export2).output().unwrap();
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("entry 6"), "{msg}");
}

// ---- strategic deconfliction ---------------------------------------------------------------
