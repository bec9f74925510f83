#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The service end to end: the real `deconflict serve` binary on loopback, real SQLite files,
//! real HTTP and Server-Sent Events.

mod support;

use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;
use support::{alerts, bin, call, cli_ok, north, now, post, read_n_events, report, Server};

/// How long a single node's tests wait for something to happen.
const WAIT_S: u64 = 15;

fn start(dir: &Path) -> Server {
    let cfg = support::write_config(
        dir,
        "coast_s = 2.0\ndrop_s = 4.0\nscan_period_ms = 100\nscan_min_interval_ms = 10\nmax_body_bytes = 200000\n",
    );
    let mut serve = bin();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&cfg);
    Server::spawn(serve, "main", dir, Duration::from_secs(20))
}

fn cli(dir: &Path, args: &[&str]) -> String {
    cli_ok(args, &[OsStr::new("--data-dir"), dir.join("data").as_os_str()])
}

fn party(dir: &Path, name: &str) -> String {
    cli(dir, &["party", "add", name]);
    cli(dir, &["token", "issue", name])
}

/// Waits until `f` holds, polling.
fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    support::eventually(what, WAIT_S, f)
}

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
    let s = start(tmp.path());
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
    let bravo_id = audit["entries"][0]["party"].clone();
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["party"] == bravo_id));
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

fn rfc(t: f64) -> String {
    let secs = t as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil from days (proleptic Gregorian), enough for test times
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[allow(clippy::too_many_arguments)]
fn square(lat0: f64, lng0: f64, lat1: f64, lng1: f64, lo: f64, hi: f64, t0: f64, t1: f64) -> Value {
    json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": lat0, "lng": lng0}, {"lat": lat0, "lng": lng1}, {"lat": lat1, "lng": lng1}, {"lat": lat1, "lng": lng0}]},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t1), "format": "RFC3339"}})
}

fn circle(lat: f64, lng: f64, r: f64, lo: f64, hi: f64, t0: f64, t1: f64) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": r, "units": "M"}},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t1), "format": "RFC3339"}})
}

fn put(s: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(
        "PUT",
        &format!("{}{path}", s.base),
        Some(token),
        Some(&body.to_string()),
    )
}

/// All longitudes and latitudes of a GeoJSON polygon or multipolygon.
fn coords(g: &Value) -> Vec<(f64, f64)> {
    fn walk(v: &Value, out: &mut Vec<(f64, f64)>) {
        if let Some(a) = v.as_array() {
            if a.len() == 2 && a[0].is_number() && a[1].is_number() {
                out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()));
            } else {
                for x in a {
                    walk(x, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&g["coordinates"], &mut out);
    out
}

#[test]
fn sorties_and_an_exclusion_zone_give_exactly_the_expected_conflicts() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let t0 = (now() / 3600.0).floor() * 3600.0 + 3600.0;
    // The air base's exclusion zone: 10 km round Hmeimim, surface to 3 km, all day; binds all others.
    let (st, r) = put(
        &s,
        &rus,
        "/v1/constraints/hmeimim",
        json!({"extents": [circle(35.401, 35.948, 10_000.0, 0.0, 3000.0, t0, t0 + 86_400.0)],
        "type": "exclusion_zone", "binds": "all_others"}),
    );
    assert_eq!(st, 201, "{r}");
    // RUS sortie: 35.0-35.2 N, 36.0-36.2 E, 3-6 km, t0..t0+2h.
    let (st, r) = put(
        &s,
        &rus,
        "/v1/intents/sortie-a",
        json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 3000.0, 6000.0, t0, t0 + 7200.0)], "priority": 2}),
    );
    assert_eq!(st, 201, "{r}");
    assert!(r["conflicts"].as_array().unwrap().is_empty());
    // COAL sortie: 35.1-35.3 N, 36.1-36.3 E, 5-9 km, t0+1h..t0+3h: overlaps in a 0.1 x 0.1 degree
    // square, 5-6 km, t0+1h..t0+2h.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/sortie-1",
        json!({"extents": [square(35.1, 36.1, 35.3, 36.3, 5000.0, 9000.0, t0 + 3600.0, t0 + 10_800.0)], "priority": 1}),
    );
    assert_eq!(st, 201, "{r}");
    let c = r["conflicts"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{r}");
    assert_eq!(c[0]["other_party"], "RUS");
    assert_eq!(c[0]["other_priority"], 2);
    let region = &c[0]["overlaps"][0]["region"];
    assert_eq!(region["time_start"], rfc(t0 + 3600.0));
    assert_eq!(region["time_end"], rfc(t0 + 7200.0));
    assert_eq!(
        (region["alt_lower_m"].as_f64(), region["alt_upper_m"].as_f64()),
        (Some(5000.0), Some(6000.0))
    );
    let pts = coords(&region["footprint"]);
    assert!(pts.len() >= 4);
    for (lng, lat) in &pts {
        assert!(
            (36.1 - 1e-3..=36.2 + 1e-3).contains(lng) && (35.1 - 1e-3..=35.2 + 1e-3).contains(lat),
            "{lng},{lat}"
        );
    }
    let conflict_id = c[0]["conflict_id"].as_str().unwrap().to_string();
    // RUS is told through its stream: the overlap only, never COAL's whole volume or id.
    let ra = eventually("RUS strategic alert", || {
        alerts(&s, &rus, 0)
            .into_iter()
            .find(|a| a["event"] == "strategic_conflict")
    });
    assert_eq!(ra["conflict_id"], conflict_id.as_str());
    assert_eq!(ra["own_id"], "sortie-a");
    assert_eq!(ra["other_party"], "COAL");
    let text = ra.to_string();
    assert!(
        !text.contains("sortie-1") && !text.contains("36.3") && !text.contains("35.3"),
        "{text}"
    );
    // A drone orbit entering the exclusion zone is refused, with the overlap, and nothing stored.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/orbit-uav",
        json!({"extents": [circle(35.45, 35.948, 3000.0, 500.0, 1500.0, t0, t0 + 3600.0)]}),
    );
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["field"], "extents");
    let region = &r["conflicts"][0]["overlaps"][0]["region"];
    assert_eq!(
        (region["alt_lower_m"].as_f64(), region["alt_upper_m"].as_f64()),
        (Some(500.0), Some(1500.0))
    );
    let (_, mine) = call("GET", &format!("{}/v1/intents", s.base), Some(&coal), None);
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sortie-1"]);
    let (_, audit) = call("GET", &format!("{}/v1/audit", s.base), Some(&coal), None);
    assert_eq!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "intent.put")
            .count(),
        1
    );
    // Versions: a stale one loses with 409 and the current version.
    let upd = json!({"extents": [square(35.1, 36.1, 35.3, 36.3, 5000.0, 9000.0, t0 + 3600.0, t0 + 10_800.0)], "version": 1});
    assert_eq!(put(&s, &coal, "/v1/intents/sortie-1", upd.clone()).0, 200);
    let (st, r) = put(&s, &coal, "/v1/intents/sortie-1", upd);
    assert_eq!(st, 409, "{r}");
    assert_eq!(r["current_version"], 2);
    // reject_on_conflict: refused with the conflicts, nothing stored.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/sortie-2",
        json!({"extents": [square(35.05, 36.05, 35.1, 36.1, 4000.0, 4500.0, t0, t0 + 600.0)], "reject_on_conflict": true}),
    );
    assert_eq!(st, 409, "{r}");
    assert_eq!(r["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        call(
            "GET",
            &format!("{}/v1/intents/sortie-2", s.base),
            Some(&coal),
            None
        )
        .0,
        404
    );
    // GeoJSON: COAL sees its own intent and the zone that binds it; none of RUS's intents.
    let (st, g) = call(
        "GET",
        &format!("{}/v1/intents.geojson", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(st, 200);
    let kinds: Vec<&str> = g["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["intent", "constraint_binding_you"]);
    assert!(!g.to_string().contains("sortie-a"));
    let (_, g) = call(
        "GET",
        &format!("{}/v1/conflicts.geojson", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(g["features"].as_array().unwrap().len(), 1);
    assert_eq!(
        g["features"][0]["properties"]["conflict_id"],
        conflict_id.as_str()
    );
    // Bad volumes name the field.
    for (body, f) in [
        (
            json!({"extents": [square(91.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0, t0 + 60.0)]}),
            "extents[0].volume.outline_polygon.vertices[0].lat",
        ),
        (
            json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0 + 60.0, t0)]}),
            "extents[0].time_end",
        ),
        (
            json!({"extents": [{"volume": {"outline_polygon": {"vertices": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.1, "lng": 36.1}, {"lat": 35.0, "lng": 36.1}, {"lat": 35.1, "lng": 36.0}]},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 10, "reference": "W84", "units": "M"}},
            "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t0 + 60.0), "format": "RFC3339"}}]}),
            "extents[0].volume.outline_polygon",
        ),
        (json!({"extents": []}), "extents"),
        (
            json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0, t0 + 60.0)], "state": "flying"}),
            "state",
        ),
    ] {
        let (st, r) = put(&s, &coal, "/v1/intents/bad", body);
        assert_eq!(st, 422, "{r}");
        assert!(r["field"].as_str().unwrap().starts_with(f), "{f}: {r}");
    }
    assert_eq!(
        call("GET", &format!("{}/v1/intents/bad", s.base), Some(&coal), None).0,
        404
    );
    // DELETE ends it: gone from the index, no more conflict.
    let (st, _) = call(
        "DELETE",
        &format!("{}/v1/intents/sortie-1", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(st, 200);
    let (_, g) = call(
        "GET",
        &format!("{}/v1/conflicts.geojson", s.base),
        Some(&rus),
        None,
    );
    assert!(g["features"].as_array().unwrap().is_empty(), "{g}");
}

#[test]
fn simultaneous_conflicting_filings_always_see_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let a = party(tmp.path(), "A");
    let b = party(tmp.path(), "B");
    let t0 = (now() / 3600.0).floor() * 3600.0 + 3600.0;
    let pairs = 50;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2 * pairs));
    let mut handles = Vec::new();
    for i in 0..pairs {
        for (who, tok) in [("A", a.clone()), ("B", b.clone())] {
            let (base, barrier) = (s.base.clone(), barrier.clone());
            let lat = 10.0 + i as f64 * 0.5;
            let off = if who == "A" { 0.0 } else { 0.05 };
            let body = json!({"extents": [square(lat + off, 20.0 + off, lat + 0.1 + off, 20.1 + off, 1000.0, 2000.0, t0, t0 + 3600.0)]});
            handles.push(std::thread::spawn(move || {
                barrier.wait();
                let r = call(
                    "PUT",
                    &format!("{base}/v1/intents/f-{i}"),
                    Some(&tok),
                    Some(&body.to_string()),
                );
                (who, i, r)
            }));
        }
    }
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Each side is told: in the answer to its own filing, or on its alert stream.
    let told_by_alert = |tok: &str| -> std::collections::HashSet<String> {
        alerts(&s, tok, 0)
            .into_iter()
            .filter(|x| x["event"] == "strategic_conflict")
            .map(|x| x["own_id"].as_str().unwrap().to_string())
            .collect()
    };
    std::thread::sleep(Duration::from_millis(300));
    let (ta, tb) = (told_by_alert(&a), told_by_alert(&b));
    for (who, i, (st, r)) in &results {
        assert_eq!(*st, 201, "{who} {i}: {r}");
        let in_answer = !r["conflicts"].as_array().unwrap().is_empty();
        let by_alert = if *who == "A" {
            ta.contains(&format!("f-{i}"))
        } else {
            tb.contains(&format!("f-{i}"))
        };
        assert!(
            in_answer || by_alert,
            "{who}'s filing f-{i} was never told of its conflict"
        );
    }
    // nothing stored twice
    for tok in [&a, &b] {
        let (_, mine) = call("GET", &format!("{}/v1/intents", s.base), Some(tok), None);
        assert_eq!(mine.as_array().unwrap().len(), pairs);
    }
}

#[test]
fn tracks_meet_intents_and_constraints() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let t = now();
    let (st, r) = put(
        &s,
        &rus,
        "/v1/constraints/hmeimim",
        json!({"extents": [circle(35.401, 35.948, 10_000.0, 0.0, 3000.0, t - 60.0, t + 3600.0)], "type": "exclusion_zone"}),
    );
    assert_eq!(st, 201, "{r}");
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/patrol",
        json!({"extents": [square(34.0, 34.0, 34.2, 34.2, 0.0, 3000.0, t - 60.0, t + 3600.0)], "state": "activated"}),
    );
    assert_eq!(st, 201, "{r}");
    // COAL's drone is inside RUS's exclusion zone, and outside its own activated intent.
    let rep = json!({"asset": "COAL-UAV-3", "time": now(), "lat": 35.41, "lng": 35.95, "alt_m": 800.0, "gs_mps": 30.0, "track_deg": 90.0, "class": "uas_large"});
    assert_eq!(post(&s, &coal, &[rep]).0, 200);
    let (c, r) = eventually("intrusion alerts", || {
        let c = alerts(&s, &coal, 0);
        let r = alerts(&s, &rus, 0);
        (c.iter().any(|a| a["event"] == "constraint_intrusion")
            && r.iter().any(|a| a["event"] == "constraint_intrusion")
            && c.iter().any(|a| a["event"] == "nonconforming"))
        .then_some((c, r))
    });
    let ci = c.iter().find(|a| a["event"] == "constraint_intrusion").unwrap();
    assert_eq!(ci["own_asset"], "COAL-UAV-3");
    assert_eq!(ci["constraint_owner"], "RUS");
    let ri = r.iter().find(|a| a["event"] == "constraint_intrusion").unwrap();
    assert_eq!(ri["own_constraint"], "hmeimim");
    assert_eq!(ri["intruder"]["class"], "uas_large");
    assert!(!ri.to_string().contains("COAL-UAV-3"), "{ri}");
    let nc = c.iter().find(|a| a["event"] == "nonconforming").unwrap();
    assert_eq!(nc["own_asset"], "COAL-UAV-3");
}
