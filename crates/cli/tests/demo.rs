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
    // The service's own settings through --config: emergencies escalate within the 4 s played.
    let cfg = dir.path().join("demo.toml");
    std::fs::write(
        &cfg,
        "[hotline]\nemergency_resend_s = 0.3\nemergency_escalate_s = 0.6\nsweep_s = 0.1\n",
    )
    .unwrap();
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
        .arg("--config")
        .arg(&cfg)
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
    // Nobody acknowledges the emergency: past the configured 0.6 s it escalates, for each of
    // its two recipients.
    assert_eq!(
        count("message.escalated"),
        2,
        "the emergency to RUS and COAL escalated"
    );
    let parties = cli_ok(&["party", "list"], &["--data-dir".as_ref(), data.as_os_str()]);
    assert!(parties.contains("UK") && parties.contains("COAL"), "{parties}");
}

#[test]
fn a_demo_config_that_names_another_store_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("demo.toml");
    std::fs::write(&cfg, "store = \"postgres://root@127.0.0.1:5432/test\"\n").unwrap();
    let out = bin()
        .args(["demo", "--listen", "127.0.0.1:0", "--exit", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("remove `store` and `nats`"), "{err}");
    assert!(
        !dir.path().join("demo").join("tokens").exists(),
        "nothing registered"
    );
    // A file that is not the service's TOML is named in the error.
    std::fs::write(&cfg, "[hotline]\nemergency_escalate_s = \"soon\"\n").unwrap();
    let out = bin()
        .args(["demo", "--listen", "127.0.0.1:0", "--exit", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("demo.toml"), "{err}");
}
