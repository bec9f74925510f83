#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! A party's view of the audit over HTTP to a real `deconflict serve`: it verifies offline with
//! `deconflict audit verify`, and nothing in it (entries, heads, checkpoint) moves when another
//! party is busy, so no party can count or time another's activity. `/metrics`, whose counters
//! sum everyone's activity, is the operator's.

mod support;

use serde_json::Value;
use support::single::{eventually, party, start_with};
use support::{bin, call, now, post, report, Server};

fn get(s: &Server, token: &str, path: &str) -> Value {
    let (st, v) = call("GET", &format!("{}{path}", s.base), Some(token), None);
    assert_eq!(st, 200, "{path}: {v}");
    v
}

/// The (seq, kind) of every entry of the page, and the seqs the checkpoint signs.
fn shape(page: &Value) -> (Vec<(u64, String)>, Vec<u64>, usize) {
    let entries = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let cp = &page["checkpoint"];
    let signed = cp["leaves"]
        .as_array()
        .map(|l| l.iter().map(|x| x["seq"].as_u64().unwrap()).collect())
        .unwrap_or_default();
    let proof_len = cp["leaves"][0]["proof"].as_array().map_or(0, Vec::len);
    (entries, signed, proof_len)
}

#[test]
fn a_partys_audit_view_verifies_offline_and_counts_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "party_checkpoint_s = 0.2\n");
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let t = now();
    let (st, v) = post(&s, &bravo, &[report("b1", t, 35.0, 0.0, 10.0)]);
    assert_eq!(st, 200, "{v}");

    // Bravo's view once a party checkpoint signs its head.
    let quiet = eventually("a party checkpoint over bravo's tracks entry", || {
        let page = get(&s, &bravo, "/v1/audit");
        let (entries, signed, _) = shape(&page);
        (entries.last().map(|e| e.0) == signed.first().copied() && !entries.is_empty()).then_some(page)
    });
    let (entries, _, proof_len) = shape(&quiet);
    let seqs: Vec<u64> = entries.iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free sub-chain: {quiet}"
    );
    assert!(entries.iter().any(|e| e.1 == "tracks"), "{quiet}");
    // Nothing but bravo's own: no party field, no global seq.
    for e in quiet["entries"].as_array().unwrap() {
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["body", "chain", "hash", "kind", "prev", "seq", "time"],
            "{e}"
        );
    }
    let key = get(&s, &bravo, "/v1/audit/key");
    assert_eq!(key["chains"].as_array().unwrap().len(), 1, "{key}");
    assert_eq!(key["chains"][0]["seq"].as_u64(), seqs.last().copied());

    // Alpha is busy: twenty track posts.
    for i in 0..20 {
        let (st, v) = post(
            &s,
            &alpha,
            &[report("a1", now(), 36.0 + f64::from(i) * 1e-3, 0.0, 10.0)],
        );
        assert_eq!(st, 200, "{v}");
    }
    // Wait for a checkpoint signed after alpha's posts (its time is past them).
    let after = now();
    let busy = eventually("a later party checkpoint", || {
        let page = get(&s, &bravo, "/v1/audit");
        (page["checkpoint"]["time"].as_f64().unwrap_or(0.0) > after).then_some(page)
    });
    assert_eq!(
        shape(&busy),
        shape(&quiet),
        "bravo's view moved with alpha's activity"
    );
    let key2 = get(&s, &bravo, "/v1/audit/key");
    assert_eq!(key2["chains"], key["chains"]);
    assert_eq!(shape(&busy).2, proof_len);

    // The whole view, verified offline by the CLI; a cut entry is named.
    let (st, text) = call("GET", &format!("{}/v1/audit/export", s.base), Some(&bravo), None);
    assert_eq!(st, 200);
    let text = text.as_str().unwrap().to_string();
    let file = dir.path().join("bravo-view.jsonl");
    std::fs::write(&file, &text).unwrap();
    let out = bin().args(["audit", "verify"]).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("signed by a party checkpoint"), "{stdout}");
    let lines: Vec<&str> = text.lines().collect();
    let cut: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lines.len() - 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&file, cut).unwrap();
    let out = bin().args(["audit", "verify"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an entry of this view"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // /metrics (deconflict_live_tracks and the rest sum every party) is not for parties.
    let (st, v) = call("GET", &format!("{}/metrics", s.base), Some(&bravo), None);
    assert_eq!(st, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("metrics_token"), "{v}");
    let (st, _) = call("GET", &format!("{}/metrics", s.base), None, None);
    assert_eq!(st, 401, "no token at all is a 401, as on every route");
}

#[test]
fn metrics_answer_only_to_the_operators_token() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "metrics_token = \"operator-metrics-0123\"\n");
    let bravo = party(dir.path(), "bravo");
    let (st, v) = call("GET", &format!("{}/metrics", s.base), Some(&bravo), None);
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["field"], "authorization", "{v}");
    let (st, _) = call("GET", &format!("{}/metrics", s.base), None, None);
    assert_eq!(st, 401);
    let (st, v) = call(
        "GET",
        &format!("{}/metrics", s.base),
        Some("operator-metrics-0123"),
        None,
    );
    assert_eq!(st, 200);
    assert!(v.as_str().unwrap().contains("deconflict_live_tracks"), "{v}");

    // What an operator charts: the hotline's backlog and its age, messages by kind, scan
    // time and stream lag histograms; OpenMetrics text from prometheus-client.
    let alpha = party(dir.path(), "alpha");
    let body = serde_json::json!({"to": {"parties": ["bravo"]}, "kind": "request", "text": "call us"});
    let (st, sent) = call(
        "POST",
        &format!("{}/v1/messages", s.base),
        Some(&alpha),
        Some(&body.to_string()),
    );
    assert_eq!(st, 201, "{sent}");
    let text = eventually("a scan counted", || {
        let (_, v) = call(
            "GET",
            &format!("{}/metrics", s.base),
            Some("operator-metrics-0123"),
            None,
        );
        let t = v.as_str().unwrap().to_string();
        // A counter is there from the start (at 0): wait for a scan to be counted.
        let scanned = t
            .lines()
            .find_map(|l| l.strip_prefix("deconflict_scan_seconds_count "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .is_some_and(|n| n >= 1.0);
        scanned.then_some(t)
    });
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in {text}"))
    };
    assert_eq!(value("deconflict_hotline_unacked"), 1.0);
    assert!(value("deconflict_hotline_oldest_unacked_seconds") >= 0.0);
    assert_eq!(
        value("deconflict_hotline_messages_sent_total{kind=\"request\"}"),
        1.0
    );
    assert!(value("deconflict_scan_seconds_count") >= 1.0);
    for family in [
        "# TYPE deconflict_scan_seconds histogram",
        "# TYPE deconflict_stream_lag_entries histogram",
        "# EOF",
    ] {
        assert!(text.contains(family), "{family} missing in {text}");
    }
}

#[test]
fn a_receipt_proves_a_cut_tail_that_the_checkpoints_cannot() {
    let dir = tempfile::tempdir().unwrap();
    // No party checkpoint within the test: every entry is in the unsigned tail.
    let s = start_with(dir.path(), "party_checkpoint_s = 3600\n");
    let bravo = party(dir.path(), "bravo");
    let mut receipts = String::new();
    for i in 0..3 {
        let (st, v) = post(
            &s,
            &bravo,
            &[report("b1", now(), 35.0 + f64::from(i) * 1e-3, 0.0, 10.0)],
        );
        assert_eq!(st, 200, "{v}");
        let r = &v["receipt"];
        assert_eq!(r["chain"], "main");
        assert!(r["signature"].as_str().unwrap().len() == 128, "{v}");
        assert!(
            v.get("audit_seq").is_none(),
            "a global seq would count the others: {v}"
        );
        receipts.push_str(&format!("{r}\n"));
    }
    let (st, text) = call("GET", &format!("{}/v1/audit/export", s.base), Some(&bravo), None);
    assert_eq!(st, 200);
    let text = text.as_str().unwrap().to_string();
    let (view, rfile) = (dir.path().join("view.jsonl"), dir.path().join("receipts.jsonl"));
    std::fs::write(&rfile, &receipts).unwrap();
    let verify = |with_receipts: bool| {
        let mut cmd = bin();
        cmd.args(["audit", "verify"]).arg(&view);
        if with_receipts {
            cmd.arg("--receipts").arg(&rfile);
        }
        cmd.output().unwrap()
    };
    std::fs::write(&view, &text).unwrap();
    let out = verify(true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 receipts"));
    // The last acknowledged batch cut from the tail: the chain alone still verifies...
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&view, lines[..lines.len() - 1].join("\n")).unwrap();
    assert!(verify(false).status.success());
    // ... but its receipt proves the cut.
    let out = verify(true);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lacks this acknowledged entry"), "{err}");
}
