#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! `deconflict demo` end to end: it starts the service on SQLite, registers the five parties,
//! files their constraints and intents, plays the scenario live with its hotline traffic, and
//! leaves a record that verifies offline and holds all of it.

mod support;

use support::{bin, cli_ok};

#[test]
fn the_demo_plays_the_scenario_with_its_filings_and_hotline_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/latakia-2015.jsonl");
    let out = bin()
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "10",
            "--play-s",
            "40",
            "--exit",
            "--scenario",
            scenario,
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("the service is up at http://127.0.0.1:"),
        "{stdout}"
    );
    for name in ["RUS", "COAL", "UK", "UNHAS", "OBSERVER"] {
        assert!(
            data.join("tokens").join(format!("{name}.token")).exists(),
            "{name}'s token file"
        );
    }
    let summary = stdout.lines().find(|l| l.starts_with("demo: played")).unwrap();
    assert!(summary.contains("3 hotline messages sent"), "{summary}");

    // The record: verifies offline, and holds the filings, the tracks, alerts to both sides,
    // and the hotline (sent, received, acknowledged).
    let log = dir.path().join("audit.jsonl");
    cli_ok(
        &["audit", "export", "--out"],
        &[log.as_os_str(), "--data-dir".as_ref(), data.as_os_str()],
    );
    let verified = cli_ok(&["audit", "verify"], &[log.as_os_str()]);
    assert!(!verified.is_empty());
    let text = std::fs::read_to_string(&log).unwrap();
    let count = |kind: &str| text.matches(&format!("\"kind\":\"{kind}\"")).count();
    assert_eq!(count("constraint.put"), 2, "the air base zone and the corridor");
    assert_eq!(count("intent.put"), 2);
    assert!(count("tracks") >= 10, "tracks posted live");
    assert!(count("alert") >= 2, "alerts to both sides");
    assert_eq!(count("message.send"), 3, "the notice, the request, the emergency");
    assert_eq!(count("message.receive"), 4, "the emergency to two parties");
    assert_eq!(count("message.ack"), 1, "the coalition acknowledges the notice");
    let parties = cli_ok(&["party", "list"], &["--data-dir".as_ref(), data.as_os_str()]);
    assert!(parties.contains("UK") && parties.contains("COAL"), "{parties}");
}
