//! A Beast byte stream: framing (`BeastFramer`), then each Mode S message decoded by rs1090 and
//! merged per ICAO address (`BeastMerger::push_frame`), what `deconflict feed beast` does with
//! the bytes of a receiver's port 30005. The input is cut into chunks at its own 0xff bytes, so
//! the fuzzer also explores frames split across reads. Every line of the input is also read as
//! AVR text.
//!
//! Invariants: no panic (in our code or in rs1090's decoding); every report that comes out
//! passes the service's own checks (`TrackReport::validate`); every message is 7 or 14 bytes;
//! the merger keeps state for at most `MAX_AIRCRAFT` aircraft.
#![no_main]

use deconflict_feeds::beast::{parse_avr, BeastFrame, BeastFramer, BeastMerger, MAX_AIRCRAFT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framer = BeastFramer::new();
    let mut m = BeastMerger::new();
    let mut i = 0u32;
    for chunk in data.split(|&b| b == 0xff) {
        let mut frames = Vec::new();
        framer.push(chunk, |f| frames.push(f));
        for f in frames {
            if let Ok(BeastFrame::ModeS(msg)) = f {
                assert!(msg.len() == 7 || msg.len() == 14);
                i += 1;
                let now = 1_700_000_000.0 + f64::from(i) * 0.1;
                if let Ok(Some(r)) = m.push_frame(&msg, now) {
                    assert!(r.validate().is_ok(), "{r:?}");
                    assert_eq!(r.time, now);
                }
            }
        }
    }
    for line in String::from_utf8_lossy(data).split('\n') {
        if let Ok(Some(msg)) = parse_avr(line) {
            assert!(msg.len() == 7 || msg.len() == 14);
            let _ = m.push_frame(&msg, 1_700_000_000.0);
        }
    }
    assert!(m.len() <= MAX_AIRCRAFT);
});
