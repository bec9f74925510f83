#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The hotline over HTTP to a real `deconflict serve`: a message to "the other side" of a
//! tactical conflict reaches it without naming the sender, nothing of it reaches anyone else,
//! acknowledgement and escalation are recorded with times and told to the sender on its
//! stream, a reconnecting client gets every open message again, a coalition's lead passes a
//! message on, and both parties' audit views verify offline.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::single::{cli, eventually, party, start_with};
use support::{alerts, bin, call, north, now, post, read_events, report, Server};

fn send(s: &Server, token: &str, body: &Value) -> (u16, Value) {
    call(
        "POST",
        &format!("{}/v1/messages", s.base),
        Some(token),
        Some(&body.to_string()),
    )
}

fn mailbox(s: &Server, token: &str) -> Vec<Value> {
    let (st, v) = call("GET", &format!("{}/v1/messages", s.base), Some(token), None);
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn ack(s: &Server, token: &str, id: &str) -> (u16, Value) {
    call(
        "POST",
        &format!("{}/v1/messages/{id}/ack", s.base),
        Some(token),
        None,
    )
}

fn item<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {items:?}"))
}

/// A conflict between alpha's and bravo's drones, 300 m apart head-on; its id as each sees it.
fn conflict(s: &Server, alpha: &str, bravo: &str) -> String {
    let t = now();
    assert_eq!(post(s, alpha, &[report("A-1", t, 35.0, 0.0, 10.0)]).0, 200);
    assert_eq!(
        post(s, bravo, &[report("B-1", t, 35.0 + north(300.0), 180.0, 10.0)]).0,
        200
    );
    let id_of = |token: &str| {
        eventually("an alert with a conflict id", || {
            alerts(s, token, 0)
                .iter()
                .find_map(|a| a["conflict_id"].as_str().map(str::to_string))
        })
    };
    let (a, b) = (id_of(alpha), id_of(bravo));
    assert_eq!(a, b, "both sides are told the same conflict id");
    a
}

#[test]
fn the_other_side_of_a_conflict_is_reached_unnamed_and_its_acknowledgement_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(
        dir.path(),
        "[hotline]\nsweep_s = 0.2\nresend_s = 3600\nescalate_s = 3600\n",
    );
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let charlie = party(dir.path(), "charlie");
    let c = conflict(&s, &alpha, &bravo);
    let alpha_last = alerts(&s, &alpha, 0).last().unwrap()["seq"].as_u64().unwrap();

    let (st, sent) = send(
        &s,
        &alpha,
        &json!({"to": {"conflict": c}, "kind": "request", "text": "Request you climb 100 m"}),
    );
    assert_eq!(st, 201, "{sent}");
    let id = sent["id"].as_str().unwrap().to_string();
    assert!(sent["receipt"]["signature"].is_string());

    // Bravo has it on its stream and in its mailbox, from "the other side of c" only.
    let ev = read_events(&s.base, &bravo, None, Duration::from_secs(10), |ev| {
        ev.iter().any(|(_, d)| d["type"] == "message")
    });
    let on_stream = ev
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["type"] == "message")
        .unwrap();
    assert_eq!(on_stream["id"], id.as_str());
    assert_eq!(on_stream["from"], json!({"conflict": c}));
    assert_eq!(on_stream["text"], "Request you climb 100 m");
    let inbox = mailbox(&s, &bravo);
    let got = item(&inbox, &id);
    assert_eq!(
        (got["direction"].as_str(), &got["from"]),
        (Some("in"), &json!({"conflict": c}))
    );
    assert!(got["delivered_at"].is_string(), "read from the stream: delivered");
    assert!(got["acked_at"].is_null());
    for text in [
        serde_json::to_string(&inbox).unwrap(),
        serde_json::to_string(&alerts(&s, &bravo, 0)).unwrap(),
    ] {
        assert!(!text.contains("alpha"), "bravo learns alpha's name: {text}");
    }

    // Nothing of it reaches charlie, who cannot address the conflict either.
    assert!(mailbox(&s, &charlie).is_empty());
    assert!(alerts(&s, &charlie, 0).is_empty());
    let (st, v) = send(
        &s,
        &charlie,
        &json!({"to": {"conflict": c}, "kind": "text", "text": "hello?"}),
    );
    assert_eq!((st, v["field"].as_str()), (422, Some("to.conflict")), "{v}");
    assert_eq!(ack(&s, &charlie, &id).0, 404);
    // The sender cannot acknowledge its own message; a guessed id is the same 404.
    assert_eq!(ack(&s, &alpha, &id).0, 404);
    assert_eq!(ack(&s, &bravo, &format!("m-{}", "0".repeat(32))).0, 404);

    // Bravo acknowledges: alpha sees the times, and is told on its stream.
    let (st, a) = ack(&s, &bravo, &id);
    assert_eq!((st, a["first"].as_bool()), (200, Some(true)), "{a}");
    let (st, again) = ack(&s, &bravo, &id);
    assert_eq!(
        (st, again["first"].as_bool(), &again["acked_at"]),
        (200, Some(false), &a["acked_at"])
    );
    let told = read_events(&s.base, &alpha, Some(alpha_last), Duration::from_secs(10), |ev| {
        ev.iter().any(|(_, d)| d["type"] == "message.ack")
    });
    let told = told
        .iter()
        .map(|(_, d)| d)
        .find(|d| d["type"] == "message.ack")
        .unwrap();
    assert_eq!((&told["id"], &told["to"]), (&json!(id), &json!({"conflict": c})));
    let out = mailbox(&s, &alpha);
    let mine = item(&out, &id);
    assert_eq!(mine["direction"], "out");
    assert_eq!(mine["to"], json!({"conflict": c}));
    let r = mine["recipients"].as_array().unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["to"], json!({"conflict": c}));
    assert!(
        r[0]["delivered_at"].is_string() && r[0]["acked_at"] == a["acked_at"],
        "{r:?}"
    );
    assert!(
        !serde_json::to_string(&out).unwrap().contains("bravo"),
        "alpha learns bravo's name"
    );

    // A reply without `to` goes back the way it came, still unnamed.
    let (st, reply) = send(
        &s,
        &bravo,
        &json!({"kind": "reply", "text": "Climbing", "reply_to": id}),
    );
    assert_eq!(st, 201, "{reply}");
    let back = eventually("the reply in alpha's mailbox", || {
        mailbox(&s, &alpha).into_iter().find(|i| i["id"] == reply["id"])
    });
    assert_eq!(
        (&back["from"], &back["reply_to"]),
        (&json!({"conflict": c}), &json!(id))
    );

    // Both records verify offline and hold every step.
    for (name, token, kinds) in [
        (
            "alpha",
            &alpha,
            &[
                "message.send",
                "message.delivered",
                "message.acked",
                "message.receive",
            ][..],
        ),
        (
            "bravo",
            &bravo,
            &[
                "message.receive",
                "message.deliver",
                "message.ack",
                "message.send",
            ][..],
        ),
    ] {
        let resp = ureq::get(&format!("{}/v1/audit/export", s.base))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        let view = resp.into_string().unwrap();
        for k in kinds {
            assert!(
                view.contains(&format!("\"kind\":\"{k}\"")),
                "{name}'s record lacks {k}"
            );
        }
        let file = dir.path().join(format!("{name}.ndjson"));
        std::fs::write(&file, view).unwrap();
        let out = bin().args(["audit", "verify"]).arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_unacknowledged_message_is_resent_escalated_and_given_again_on_reconnecting() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(
        dir.path(),
        "[hotline]\nsweep_s = 0.1\nresend_s = 60\nescalate_s = 120\nemergency_resend_s = 0.5\nemergency_escalate_s = 1.5\nmax_sends = 4\n",
    );
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let (st, sent) = send(
        &s,
        &alpha,
        &json!({"to": {"parties": ["bravo"]}, "kind": "emergency", "text": "Mayday: engine out, descending through your area"}),
    );
    assert_eq!(st, 201, "{sent}");
    let id = sent["id"].as_str().unwrap().to_string();

    // Re-sent on bravo's stream, then escalated there and to alpha.
    let ev = read_events(&s.base, &bravo, None, Duration::from_secs(15), |ev| {
        ev.iter().any(|(_, d)| d["escalated"] == true)
    });
    let copies: Vec<&Value> = ev
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d["id"] == id.as_str())
        .collect();
    assert!(copies.len() >= 2, "{copies:?}");
    assert!(
        copies.iter().any(|d| d["resend"].as_u64() >= Some(1)),
        "{copies:?}"
    );
    assert_eq!(copies[0]["from"], json!({"party": "alpha"}));
    let copy = eventually("bravo's copy escalated", || {
        let b = mailbox(&s, &bravo);
        let i = item(&b, &id).clone();
        i["escalated_at"].is_string().then_some(i)
    });
    assert!(
        copy["sends"].as_u64().unwrap() <= 4,
        "max_sends bounds the re-sends: {copy}"
    );
    let told = read_events(&s.base, &alpha, None, Duration::from_secs(10), |ev| {
        ev.iter().any(|(_, d)| d["type"] == "message.escalated")
    });
    assert!(told
        .iter()
        .any(|(_, d)| d["type"] == "message.escalated" && d["id"] == id.as_str()));
    let out = mailbox(&s, &alpha);
    assert!(item(&out, &id)["recipients"][0]["escalated_at"].is_string());

    // Reconnecting after its newest entry, bravo still gets the open message (no id: it is
    // not a new entry of the stream).
    let last = ev.last().unwrap().0.max(
        support::alerts(&s, &bravo, 0).last().unwrap()["seq"]
            .as_u64()
            .unwrap(),
    );
    let rx = {
        let resp = ureq::get(&format!("{}/v1/stream?after={last}", s.base))
            .set("Authorization", &format!("Bearer {bravo}"))
            .call()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(resp.into_reader()).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let pending = eventually("the open message again on reconnecting", || {
        rx.recv_timeout(Duration::from_millis(200))
            .ok()
            .and_then(|l| l.strip_prefix("data:").map(|d| d.trim().to_string()))
            .and_then(|d| serde_json::from_str::<Value>(&d).ok())
            .filter(|d| d["id"] == id.as_str() && d["pending"] == true)
    });
    assert_eq!(pending["kind"], "emergency");
    // Acknowledged, it is no longer re-sent.
    assert_eq!(ack(&s, &bravo, &id).0, 200);
    let n = item(&mailbox(&s, &bravo), &id)["sends"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(item(&mailbox(&s, &bravo), &id)["sends"].as_u64().unwrap(), n);
}

#[test]
fn a_coalition_lead_passes_a_message_on_and_bad_messages_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "");
    let alpha = party(dir.path(), "alpha");
    let lead = party(dir.path(), "LEAD");
    cli(dir.path(), &["party", "add", "MEMBER", "--member-of", "LEAD"]);
    let member = cli(dir.path(), &["token", "issue", "MEMBER"]);
    cli(dir.path(), &["party", "add", "watcher", "--role", "observer"]);
    let watcher = cli(dir.path(), &["token", "issue", "watcher"]);

    let (st, sent) = send(
        &s,
        &alpha,
        &json!({"to": {"coalition": "LEAD"}, "kind": "notice", "text": "Sortie at 0600Z"}),
    );
    assert_eq!(st, 201, "{sent}");
    let id = sent["id"].as_str().unwrap();
    let l = mailbox(&s, &lead);
    assert_eq!(item(&l, id)["from"], json!({"party": "alpha"}));
    assert!(item(&l, id).get("via").is_none());
    let m = mailbox(&s, &member);
    assert_eq!(item(&m, id)["via"], "LEAD");
    // Alpha is shown the coalition's copy, not its members.
    let out = mailbox(&s, &alpha);
    assert_eq!(
        item(&out, id)["recipients"],
        json!([{"to": {"coalition": "LEAD"}, "delivered_at": item(&l, id)["delivered_at"], "acked_at": null, "escalated_at": null}])
    );
    assert!(!serde_json::to_string(&out).unwrap().contains("MEMBER"));
    assert!(mailbox(&s, &watcher).is_empty());

    for (body, status, field) in [
        (
            json!({"to": {"parties": ["alpha"]}, "kind": "text", "text": "me"}),
            422,
            "to.parties[0]",
        ),
        (
            json!({"to": {"parties": ["nobody"]}, "kind": "text", "text": "x"}),
            422,
            "to.parties[0]",
        ),
        (
            json!({"to": {"coalition": "alpha"}, "kind": "text", "text": "x"}),
            422,
            "to.coalition",
        ),
        (
            json!({"to": {"parties": ["LEAD"]}, "kind": "rumour", "text": "x"}),
            422,
            "kind",
        ),
        (
            json!({"to": {"parties": ["LEAD"]}, "kind": "text", "text": "a\u{0}b"}),
            422,
            "text",
        ),
        (
            json!({"kind": "reply", "text": "x", "reply_to": format!("m-{}", "1".repeat(32))}),
            422,
            "reply_to",
        ),
        (
            json!({"to": {"parties": ["LEAD"]}, "kind": "notice", "text": "x", "extents": [{"volume": {}}]}),
            422,
            "extents",
        ),
    ] {
        let (st, v) = send(&s, &alpha, &body);
        assert_eq!(st, status, "{body}: {v}");
        assert!(
            v["field"].as_str().unwrap_or("").starts_with(field),
            "{body}: {v}"
        );
    }
    let (st, v) = send(
        &s,
        &watcher,
        &json!({"to": {"parties": ["alpha"]}, "kind": "text", "text": "x"}),
    );
    assert_eq!(st, 403, "{v}");
    assert_eq!(
        mailbox(&s, &alpha).len(),
        1,
        "nothing stored by a refused message"
    );
    assert_eq!(mailbox(&s, &lead).len(), 1);
}

#[test]
fn msg_sends_lists_and_acknowledges_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "");
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let (fa, fb) = (dir.path().join("alpha.token"), dir.path().join("bravo.token"));
    std::fs::write(&fa, &alpha).unwrap();
    std::fs::write(&fb, format!("{bravo}\n")).unwrap();
    let run = |token: &std::path::Path, args: &[&str]| {
        bin()
            .arg("msg")
            .args(args)
            .args(["--server", &s.base, "--token-file"])
            .arg(token)
            .output()
            .unwrap()
    };
    let out = run(
        &fa,
        &[
            "send",
            "--to-party",
            "bravo",
            "--kind",
            "request",
            "--text",
            "Deconflict at FL120?",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(id.starts_with("m-") && id.len() == 34, "{id}");
    let out = run(&fb, &["list"]);
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(
        listed.contains(&id) && listed.contains("from alpha [OPEN]") && listed.contains("FL120"),
        "{listed}"
    );
    let out = run(&fb, &["ack", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("acknowledged at "));
    let out = run(&fa, &["list", "--json"]);
    let first: Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert!(first["recipients"][0]["acked_at"].is_string(), "{first}");
    // A refusal names the status and the field, and fails.
    let out = run(&fa, &["send", "--to-party", "nobody", "--text", "x"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("422") && err.contains("to.parties[0]"), "{err}");
}

fn circle_intent(disclosure: &str, t: f64) -> Value {
    let alt = |v: f64| json!({"value": v, "reference": "W84", "units": "M"});
    let at = |x: f64| json!({"value": support::rfc((t + x).floor()), "format": "RFC3339"});
    json!({"disclosure": disclosure, "extents": [{"volume": {"outline_circle": {"center": {"lat": 35.5, "lng": 35.8},
        "radius": {"value": 3000.0, "units": "M"}}, "altitude_lower": alt(100.0), "altitude_upper": alt(900.0)},
        "time_start": at(600.0), "time_end": at(4200.0)}]})
}

/// A strategic conflict's two sides reach each other: the filer (told by its answer) and the
/// other side (told on its stream). Each sees the sender by name only where the conflict
/// named it: alpha filed anonymously, so bravo never learns alpha's name.
#[test]
fn the_sides_of_a_strategic_conflict_reach_each_other_named_only_as_the_conflict_named_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "");
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let t = now();
    let (st, v) = support::put(&s, &alpha, "/v1/intents/op-a", &circle_intent("anonymous", t));
    assert_eq!(st, 201, "{v}");
    let (st, v) = support::put(&s, &bravo, "/v1/intents/op-b", &circle_intent("name", t));
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["conflicts"][0]["other_party"], "another party");
    let c = v["conflicts"][0]["conflict_id"].as_str().unwrap().to_string();

    // The filer (bravo) writes to the other side: alpha was told bravo's name, so sees it.
    let (st, m) = send(
        &s,
        &bravo,
        &json!({"to": {"conflict": c}, "kind": "request", "text": "Can you shift 30 min?"}),
    );
    assert_eq!(st, 201, "{m}");
    let got = eventually("bravo's request in alpha's mailbox", || {
        mailbox(&s, &alpha).into_iter().find(|i| i["id"] == m["id"])
    });
    assert_eq!(got["from"], json!({"party": "bravo"}));
    // Alpha answers through the conflict: bravo was told no name, so sees none.
    let (st, r) = send(
        &s,
        &alpha,
        &json!({"to": {"conflict": c}, "kind": "reply", "text": "Yes"}),
    );
    assert_eq!(st, 201, "{r}");
    let back = eventually("alpha's reply in bravo's mailbox", || {
        mailbox(&s, &bravo).into_iter().find(|i| i["id"] == r["id"])
    });
    assert_eq!(back["from"], json!({"conflict": c}));
    assert!(!serde_json::to_string(&mailbox(&s, &bravo))
        .unwrap()
        .contains("alpha"));
}

/// A flood of messages is refused past the sender's hotline rate, copies counted (a coalition
/// message is one copy per member), while another sender is served at the same moment.
#[test]
fn a_hotline_flood_is_refused_past_the_senders_rate_and_spares_others() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(
        dir.path(),
        "[rate]\nmessage_copies_per_min = 1\nmessage_copy_burst = 3\n",
    );
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let charlie = party(dir.path(), "charlie");
    party(dir.path(), "LEAD");
    for m in ["M1", "M2", "M3", "M4"] {
        cli(dir.path(), &["party", "add", m, "--member-of", "LEAD"]);
    }
    let to_bravo = json!({"to": {"parties": ["bravo"]}, "kind": "text", "text": "ping"});
    for _ in 0..3 {
        assert_eq!(send(&s, &alpha, &to_bravo).0, 201);
    }
    let (st, v) = send(&s, &alpha, &to_bravo);
    assert_eq!((st, v["field"].as_str()), (429, Some("hotline_rate")), "{v}");
    assert_eq!(
        mailbox(&s, &bravo).len(),
        3,
        "nothing of the refused message stored"
    );
    // Another sender is not slowed; five copies (the lead and four members) never fit a burst of three.
    assert_eq!(send(&s, &charlie, &to_bravo).0, 201);
    let (st, v) = send(
        &s,
        &charlie,
        &json!({"to": {"coalition": "LEAD"}, "kind": "text", "text": "all"}),
    );
    assert_eq!((st, v["field"].as_str()), (429, Some("hotline_rate")), "{v}");
}
