#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Per-party rate limits over HTTP to a real `deconflict serve`: a party past its request or
//! report rate gets 429 naming the limit, with `Retry-After`, and nothing stored; another
//! party, at the same moment, is served as usual.

mod support;

use serde_json::Value;
use support::single::{party, start_with};
use support::{call, now, post, report};

#[test]
fn a_flooding_party_gets_429_and_another_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(
        dir.path(),
        "max_reports_per_request = 50\n[rate]\nrequests_per_s = 2\nrequest_burst = 10\nreports_per_s = 10\nreport_burst = 60\n",
    );
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");

    // Reports: 50 fit the burst of 60; the next 50 do not, and are not stored.
    let t = now();
    let batch = |asset: &str, lat0: f64| -> Vec<Value> {
        (0..50)
            .map(|i| report(&format!("{asset}{i}"), t, lat0 + f64::from(i) * 0.01, 0.0, 10.0))
            .collect()
    };
    let (st, v) = post(&s, &alpha, &batch("a", 30.0));
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&s, &alpha, &batch("x", 31.0));
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["field"], "tracks", "{v}");
    assert!(v["error"].as_str().unwrap().contains("rate.reports_per_s"), "{v}");
    let (_, pic) = call("GET", &format!("{}/v1/tracks", s.base), Some(&alpha), None);
    assert_eq!(
        pic["own"].as_array().unwrap().len(),
        50,
        "the refused batch was stored"
    );
    // Bravo posts its own full batch meanwhile.
    let (st, v) = post(&s, &bravo, &batch("b", 40.0));
    assert_eq!(st, 200, "{v}");

    // Requests: alpha spends its burst of 10, then 429 with Retry-After.
    let mut refused = None;
    for _ in 0..20 {
        let r = ureq::get(&format!("{}/v1/alerts", s.base))
            .set("Authorization", &format!("Bearer {alpha}"))
            .call();
        if let Err(ureq::Error::Status(429, resp)) = r {
            refused = Some(resp);
            break;
        }
    }
    let resp = refused.expect("alpha was never refused");
    let retry: u64 = resp.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry >= 1);
    let body: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    assert_eq!(body["field"], "rate_limit", "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("rate.requests_per_s"),
        "{body}"
    );
    // Bravo is not slowed by alpha's flood.
    let (st, v) = call("GET", &format!("{}/v1/alerts", s.base), Some(&bravo), None);
    assert_eq!(st, 200, "{v}");
}

#[test]
fn a_party_past_its_live_track_cap_is_refused_and_its_known_tracks_still_update() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "max_live_tracks_per_party = 60\n");
    let alpha = party(dir.path(), "alpha");
    let bravo = party(dir.path(), "bravo");
    let batch = |asset: &str, lat0: f64| -> Vec<Value> {
        let t = now();
        (0..50)
            .map(|i| report(&format!("{asset}{i}"), t, lat0 + f64::from(i) * 0.01, 0.0, 10.0))
            .collect()
    };
    assert_eq!(post(&s, &alpha, &batch("a", 30.0)).0, 200);
    // 50 more new assets would make 100 > 60: refused whole.
    let (st, v) = post(&s, &alpha, &batch("x", 31.0));
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["field"], "tracks");
    assert!(
        v["error"].as_str().unwrap().contains("max_live_tracks_per_party"),
        "{v}"
    );
    let (_, pic) = call("GET", &format!("{}/v1/tracks", s.base), Some(&alpha), None);
    assert_eq!(pic["own"].as_array().unwrap().len(), 50);
    // Its 50 known aircraft still report; another party has its own cap.
    assert_eq!(post(&s, &alpha, &batch("a", 30.5)).0, 200);
    assert_eq!(post(&s, &bravo, &batch("b", 40.0)).0, 200);
}
