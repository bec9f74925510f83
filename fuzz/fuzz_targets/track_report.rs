//! Track reports: the bytes as one JSON Lines record (`TrackReport::parse_line`, what the
//! command-line tool reads line by line) and as a `POST /v1/tracks` body (parsed as JSON, then
//! `TrackReport::from_json` on each element of the array, as the service does).
//!
//! Invariants: an accepted report passes `validate`, re-serialises (serde) and re-parses equal,
//! and its JSON Lines form (`to_json_line`, RFC 3339 to the millisecond) re-parses equal up to
//! that millisecond.
#![no_main]

use deconflict_core::TrackReport;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check(r: &TrackReport) {
    assert!(r.validate().is_ok(), "accepted but not valid: {r:?}");
    let v = serde_json::to_value(r).expect("a report serialises");
    let back = TrackReport::from_json(&v).expect("a serialised report re-parses");
    assert_eq!(&back, r, "serde round trip");
    let line = r.to_json_line();
    let back = TrackReport::parse_line(&line).expect("to_json_line re-parses");
    // Cut to the millisecond, plus the rounding of an f64 of Unix seconds (< 4e-6 s up to
    // the year 3000).
    let dt = (back.time - r.time).abs();
    assert!(dt < 1e-3 + 1e-5, "time {} -> {line} -> {}", r.time, back.time);
    let same_time = TrackReport { time: r.time, ..back };
    assert_eq!(&same_time, r, "JSON Lines round trip: {line}");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        if let Ok(r) = TrackReport::parse_line(line) {
            check(&r);
        }
    }
    // The service's body: a JSON array of reports, each validated on its own.
    if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(data) {
        for item in &items {
            if let Ok(r) = TrackReport::from_json(item) {
                check(&r);
            }
        }
    }
});
