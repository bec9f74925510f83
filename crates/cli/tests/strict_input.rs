#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! What a hostile party with a valid token tried to slip in (issue 11, "accepted but should
//! not be"), each sent over HTTP to a real `deconflict serve`: every one is refused with a 4xx
//! that names the field, and nothing of it is stored.

mod support;

use serde_json::{json, Value};
use support::single::{party, start};
use support::{call, now, post, put, report, rfc, Server};

fn volume(lo: f64, hi: f64, t0: &str, t1: &str) -> Value {
    json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": 35.0, "lng": 35.0}, {"lat": 35.0, "lng": 35.1}, {"lat": 35.1, "lng": 35.1}, {"lat": 35.1, "lng": 35.0}]},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": t0, "format": "RFC3339"}, "time_end": {"value": t1, "format": "RFC3339"}})
}

fn soon() -> (String, String) {
    (rfc(now() + 600.0), rfc(now() + 4_500.0))
}

/// Asserts a 422 naming `field`, and that the caller has no filing at all afterwards.
fn refused(s: &Server, token: &str, (status, body): (u16, Value), field: &str) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], field, "{body}");
    let (st, list) = call("GET", &format!("{}/v1/intents", s.base), Some(token), None);
    assert_eq!((st, list), (200, json!([])), "an intent was stored");
    let (st, list) = call("GET", &format!("{}/v1/constraints", s.base), Some(token), None);
    assert_eq!(st, 200);
    assert_eq!(list["own"], json!([]), "a constraint was stored: {list}");
}

#[test]
fn absurd_altitudes_and_times_of_a_volume_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = party(dir.path(), "BRAVO");
    let (t0, t1) = soon();
    let huge = volume(-1.7e308, 1.7e308, &t0, &t1);
    let a = put(&s, &t, "/v1/intents/p1", &json!({"extents": [huge]}));
    refused(&s, &t, a, "extents[0].volume.altitude_lower.value");
    let high = volume(100.0, 1.7e308, &t0, &t1);
    let a = put(&s, &t, "/v1/intents/p1", &json!({"extents": [high]}));
    refused(&s, &t, a, "extents[0].volume.altitude_upper.value");
    let old = volume(0.0, 100.0, "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z");
    let a = put(&s, &t, "/v1/intents/p1", &json!({"extents": [old]}));
    refused(&s, &t, a, "extents[0].time_end");
    let far = volume(0.0, 100.0, "9999-01-01T00:00:00Z", "9999-01-01T01:00:00Z");
    let a = put(&s, &t, "/v1/intents/p1", &json!({"extents": [far]}));
    assert_eq!(a.0, 422, "{}", a.1);
    assert!(
        a.1["field"].as_str().unwrap().starts_with("extents[0].time_"),
        "{}",
        a.1
    );
    let later = volume(
        0.0,
        100.0,
        &rfc(now() + 40.0 * 86_400.0),
        &rfc(now() + 40.0 * 86_400.0 + 60.0),
    );
    let a = put(&s, &t, "/v1/constraints/c1", &json!({"extents": [later]}));
    refused(&s, &t, a, "extents[0].time_start");
    // A zero-area outline: three vertices on one meridian.
    let flat = json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": 35.0, "lng": 35.0}, {"lat": 35.05, "lng": 35.0}, {"lat": 35.1, "lng": 35.0}]},
          "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": 100, "reference": "W84", "units": "M"}},
         "time_start": {"value": t0, "format": "RFC3339"}, "time_end": {"value": t1, "format": "RFC3339"}});
    let a = put(&s, &t, "/v1/intents/p1", &json!({"extents": [flat]}));
    refused(&s, &t, a, "extents[0].volume.outline_polygon.vertices");
    // The same request with sound values is stored: the refusals were about the values.
    let ok = put(
        &s,
        &t,
        "/v1/intents/p1",
        &json!({"extents": [volume(0.0, 100.0, &t0, &t1)]}),
    );
    assert_eq!(ok.0, 201, "{}", ok.1);
}

#[test]
fn ids_with_spaces_invisible_or_reordering_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = party(dir.path(), "BRAVO");
    let (t0, t1) = soon();
    let body = json!({"extents": [volume(0.0, 100.0, &t0, &t1)]});
    // Percent-encoded in the path: a space, a zero-width space, U+202E, a BOM, ESC.
    for id in [
        "%20",
        "a%20b",
        "a%E2%80%8B",
        "%E2%80%AEa",
        "%EF%BB%BFa",
        "a%1B%5B2J",
    ] {
        let a = put(&s, &t, &format!("/v1/intents/{id}"), &body);
        refused(&s, &t, a, "id");
    }
    for asset in [" ", "A 1", "A1\u{200B}", "\u{202E}1A", "\u{FEFF}A1"] {
        let (st, v) = post(&s, &t, &[report(asset, now(), 35.0, 0.0, 10.0)]);
        assert_eq!(st, 422, "{asset:?}: {v}");
        assert_eq!(v["field"], "tracks[0].asset", "{v}");
    }
    let (st, picture) = call("GET", &format!("{}/v1/tracks", s.base), Some(&t), None);
    assert_eq!(st, 200);
    assert_eq!(picture["own"], json!([]), "{picture}");
}

#[test]
fn control_characters_in_purpose_and_binds_of_nobody_or_oneself_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = party(dir.path(), "BRAVO");
    party(dir.path(), "ALPHA");
    let (t0, t1) = soon();
    let ext = json!([volume(0.0, 100.0, &t0, &t1)]);
    for purpose in ["a\u{0}b", "\u{1b}[2Jcleared", "rtl\u{202E}txt"] {
        let a = put(
            &s,
            &t,
            "/v1/intents/i1",
            &json!({"extents": ext, "purpose": purpose}),
        );
        refused(&s, &t, a, "purpose");
    }
    let a = put(
        &s,
        &t,
        "/v1/constraints/c1",
        &json!({"extents": ext, "type": "x\u{7}"}),
    );
    refused(&s, &t, a, "type");
    let a = put(
        &s,
        &t,
        "/v1/constraints/c1",
        &json!({"extents": ext, "binds": ["NOBODY"]}),
    );
    refused(&s, &t, a, "binds[0]");
    let a = put(
        &s,
        &t,
        "/v1/constraints/c1",
        &json!({"extents": ext, "binds": ["ALPHA", "BRAVO"]}),
    );
    refused(&s, &t, a, "binds[1]");
    let a = put(
        &s,
        &t,
        "/v1/constraints/c1",
        &json!({"extents": ext, "binds": ["ALPHA", "ALPHA"]}),
    );
    refused(&s, &t, a, "binds[1]");
    let ok = put(
        &s,
        &t,
        "/v1/constraints/c1",
        &json!({"extents": ext, "binds": ["ALPHA"], "purpose": "Range day — live fire"}),
    );
    assert_eq!(ok.0, 201, "{}", ok.1);
}

#[test]
fn a_stale_report_is_refused_and_limit_zero_is_a_400() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = party(dir.path(), "BRAVO");
    let (st, v) = post(&s, &t, &[report("A1", 0.0, 35.0, 0.0, 10.0)]);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "tracks[0].time", "{v}");
    assert!(v["error"].as_str().unwrap().contains("stale"), "{v}");
    let (st, v) = post(&s, &t, &[report("A1", now() - 3_600.0, 35.0, 0.0, 10.0)]);
    assert_eq!((st, v["field"].clone()), (422, json!("tracks[0].time")), "{v}");
    let (st, v) = post(&s, &t, &[report("A1", now() - 1.0, 35.0, 0.0, 10.0)]);
    assert_eq!(st, 200, "{v}");
    let (st, v) = call("GET", &format!("{}/v1/alerts?limit=0", s.base), Some(&t), None);
    assert_eq!((st, v["field"].clone()), (400, json!("limit")), "{v}");
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = party(dir.path(), "BRAVO");
    let get = |auth: &str| match ureq::get(&format!("{}/v1/tracks", s.base))
        .set("Authorization", auth)
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(c, _)) => c,
        Err(e) => panic!("{e}"),
    };
    for scheme in ["Bearer", "bearer", "BEARER", "bEARer"] {
        assert_eq!(get(&format!("{scheme} {t}")), 200, "{scheme}");
    }
    for bad in [
        format!("Basic {t}"),
        format!("Bearer{t}"),
        format!("Bearer {t}x"),
        "Bearer".into(),
    ] {
        assert_eq!(get(&bad), 401, "{bad}");
    }
}

#[test]
fn the_filing_limits_are_the_configurations() {
    let dir = tempfile::tempdir().unwrap();
    // Each 0.1° square near 35° N is about 101 km²: one may be filed; two are over 200 km² in
    // all, and four are more volumes than allowed.
    let s = support::single::start_with(
        dir.path(),
        "[filings]\nmax_volumes = 3\nmax_total_area_km2 = 200.0\n",
    );
    let alpha = party(dir.path(), "ALPHA");
    let (t0, t1) = soon();
    let v = volume(100.0, 200.0, &t0, &t1);
    let four = json!({"extents": [v.clone(), v.clone(), v.clone(), v.clone()]});
    let r = put(&s, &alpha, "/v1/intents/four", &four);
    assert!(r.1["error"].as_str().unwrap().contains("limit 3"), "{}", r.1);
    refused(&s, &alpha, r, "extents");
    let two = json!({"extents": [v.clone(), v.clone()]});
    let r = put(&s, &alpha, "/v1/intents/big", &two);
    assert!(
        r.1["error"].as_str().unwrap().contains("too large in all"),
        "{}",
        r.1
    );
    refused(&s, &alpha, r, "extents");
    let (st, body) = put(&s, &alpha, "/v1/intents/one", &json!({"extents": [v]}));
    assert_eq!(st, 201, "{body}");
}
