//! Scenario files: the bytes as the contents of a file given to `deconflict replay` or
//! `detect` (`deconflict_core::input::read_reports`: JSON Lines, or a `traffic` trajectory
//! array when the first non-blank byte is `[`, or a DAIDALUS `.daa` file when its first
//! line that is not a comment names the columns).
//!
//! Invariants: reading slices never fails; the counts add up (every record is accepted,
//! rejected, on the ground or a repeated position; a traffic array that stops being JSON adds
//! one rejection); every accepted report passes `validate`; and the accepted reports written
//! back as JSON Lines read back equal.
#![no_main]

use deconflict_core::input::{read_reports, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rejected_seen = 0usize;
    let (reports, stats) =
        read_reports(data, &mut |_, _| rejected_seen += 1).expect("reading a slice cannot fail");
    assert_eq!(stats.accepted, reports.len());
    assert_eq!(stats.rejected_total(), rejected_seen);
    let sorted = stats.accepted + stats.on_ground + stats.repeated_position + stats.rejected_total();
    match stats.format {
        Some(Format::JsonLines) | Some(Format::Daa) => assert_eq!(sorted, stats.records, "{stats:?}"),
        Some(Format::TrafficArray) => {
            assert!(
                sorted == stats.records || sorted == stats.records + 1,
                "{stats:?}"
            )
        }
        None => panic!("no format"),
    }
    let mut lines = String::new();
    for r in &reports {
        assert!(r.validate().is_ok(), "accepted but not valid: {r:?}");
        lines.push_str(&serde_json::to_string(r).expect("a report serialises"));
        lines.push('\n');
    }
    let (back, again) = read_reports(lines.as_bytes(), &mut |at, e| panic!("{at}: {e} in {lines}"))
        .expect("reading a slice cannot fail");
    assert_eq!(back, reports);
    assert_eq!(again.records, reports.len());
});
