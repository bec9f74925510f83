//! SBS-1 lines: the bytes split into lines, each read by one merger at a rising time
//! (`SbsMerger::push_line`, what `deconflict feed sbs` does with each line it reads).
//!
//! Invariants: no panic; every report that comes out passes the service's own checks
//! (`TrackReport::validate`), so the bridge never posts a value the service would refuse;
//! the merger keeps state for at most `MAX_AIRCRAFT` aircraft.
#![no_main]

use deconflict_feeds::sbs::{SbsMerger, MAX_AIRCRAFT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut m = SbsMerger::new();
    for (i, line) in text.split('\n').enumerate() {
        let now = 1_700_000_000.0 + i as f64 * 0.5;
        if let Ok(Some(r)) = m.push_line(line, now) {
            assert!(r.validate().is_ok(), "{r:?}");
            assert_eq!(r.time, now);
        }
    }
    assert!(m.len() <= MAX_AIRCRAFT);
});
