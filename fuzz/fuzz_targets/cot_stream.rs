//! A Cursor-on-Target stream: the bytes cut into chunks (the first byte chooses the chunk
//! size), pushed through one `Framer` as a TCP connection's reads would be, and each frame
//! parsed (`parse_event`); the whole input also parsed as one datagram.
//!
//! Invariants: no panic; the framer never holds `MAX_FRAME` bytes or more; every report that
//! comes out passes the service's own checks (`TrackReport::validate`).
#![no_main]

use deconflict_feeds::cot::{parse_event, CotConfig};
use deconflict_feeds::frame::{Framer, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

const NOW: f64 = 1_796_148_000.0;

fuzz_target!(|data: &[u8]| {
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let cfg = CotConfig::default();
    let mut f = Framer::new();
    for chunk in rest.chunks(usize::from(size).max(1)) {
        f.push(chunk, |frame| {
            if let Ok(frame) = frame {
                if let Ok(r) = parse_event(frame, NOW, &cfg) {
                    assert!(r.validate().is_ok(), "{r:?}");
                }
            }
        });
        assert!(f.pending() < MAX_FRAME);
    }
    if let Ok(r) = parse_event(rest, NOW, &cfg) {
        assert!(r.validate().is_ok(), "{r:?}");
    }
});
