#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! An alert storm (issue 11): one legal request of hundreds of reports stacked in one place.
//! A party's own aircraft are not its conflicts (the default policy), and conflicts with
//! another party are told at most `max_alerts_per_scan` per party per scan, the rest counted
//! in one summary, while an unrelated pair elsewhere still gets its alerts.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::single::{eventually, party, start_with};
use support::{alerts, north, now, post, report};

/// `n` stationary reports in a square grid 6 m apart round (`lat`, 35.0).
fn stack(prefix: &str, n: usize, lat: f64, t: f64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let (x, y) = ((i % 17) as f64 * 6.0, (i / 17) as f64 * 6.0);
            let mut r = report(&format!("{prefix}{i}"), t, lat + north(y), 0.0, 0.0);
            r["lng"] = json!(35.0 + x / 91_000.0);
            r
        })
        .collect()
}

#[test]
fn a_storm_is_bounded_per_party_and_an_unrelated_pair_is_still_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "max_alerts_per_scan = 50\n");
    let charlie = party(dir.path(), "CHARLIE");
    let delta = party(dir.path(), "DELTA");
    let alpha = party(dir.path(), "ALPHA");
    let bravo = party(dir.path(), "BRAVO");
    let t = now();
    // 300 of CHARLIE's aircraft within about 100 m of each other: none of them is a conflict.
    let (st, v) = post(&s, &charlie, &stack("C", 300, 35.0, t));
    assert_eq!(st, 200, "{v}");
    // 40 of DELTA's in the same place: 12,000 cross pairs, one burst of new conflicts.
    let (st, v) = post(&s, &delta, &stack("D", 40, 35.0, t));
    assert_eq!(st, 200, "{v}");
    let summary = eventually("DELTA's alert summary", || {
        alerts(&s, &delta, 0)
            .into_iter()
            .find(|a| a["type"] == "alert_summary")
    });
    assert!(summary["suppressed"].as_u64().unwrap() > 0, "{summary}");
    // An unrelated pair 50 km north: two drones converging head on, 40 m apart.
    let far = 35.0 + north(50_000.0);
    let (st, v) = post(&s, &alpha, &[report("A1", now(), far, 0.0, 10.0)]);
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&s, &bravo, &[report("B1", now(), far + north(40.0), 180.0, 10.0)]);
    assert_eq!(st, 200, "{v}");
    for (who, token) in [("ALPHA", &alpha), ("BRAVO", &bravo)] {
        eventually(&format!("{who}'s alert"), || {
            alerts(&s, token, 0).into_iter().find(|a| a["event"] == "new")
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    // CHARLIE's own crowd made no alert; the cross pairs are told 50 per party per scan.
    let c = alerts(&s, &charlie, 0);
    let own_pairs = c.iter().filter(|a| a["event"] == "new").count();
    let d = alerts(&s, &delta, 0);
    let d_new = d.iter().filter(|a| a["event"] == "new").count();
    let summaries: Vec<&Value> = d.iter().filter(|a| a["type"] == "alert_summary").collect();
    let suppressed: u64 = summaries.iter().map(|a| a["suppressed"].as_u64().unwrap()).sum();
    assert!(
        d_new <= 50 * summaries.len().max(1) + 50,
        "{d_new} new alerts to DELTA"
    );
    // Every conflict was either told or counted: of the 12,000 pairs, those within the 50 m
    // test standard (about 4,000: DELTA's 40 sit in one corner of CHARLIE's square).
    assert!(
        d_new as u64 + suppressed >= 3_000,
        "{d_new} told + {suppressed} counted"
    );
    assert!(
        own_pairs <= 50 * 4,
        "CHARLIE got {own_pairs}: own pairs must not be alerted"
    );
    for a in &c {
        if a["event"] == "new" {
            // Each of CHARLIE's alerts is about one of DELTA's aircraft, not its own.
            assert!(a["own_asset"].as_str().unwrap().starts_with('C'), "{a}");
        }
    }
}
