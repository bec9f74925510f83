//! The node-to-node wire format: the bytes as a reports message from another node
//! (`decode_reports`: `DCR1` binary, or JSON from earlier builds), then the filter a node
//! applies before ingesting (`TrackReport::validate`).
//!
//! Invariants: a decoded binary message re-encodes to the very same bytes; a decoded JSON
//! message encodes to binary and decodes back equal.
#![no_main]

use deconflict_core::TrackReport;
use deconflict_server::fuzzing::{decode_reports, encode_reports};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((party, reports)) = decode_reports(data) else {
        return;
    };
    let refs: Vec<&TrackReport> = reports.iter().collect();
    let encoded = encode_reports(party, &refs);
    if data.starts_with(b"DCR1") {
        assert_eq!(encoded, data, "binary re-encoding");
    } else if reports.iter().all(|r| r.asset.len() <= usize::from(u16::MAX)) {
        // JSON numbers are finite, so equality is meaningful (no NaN).
        let back = decode_reports(&encoded).expect("an encoded message decodes");
        assert_eq!(back, (party, reports.clone()), "JSON -> binary -> decoded");
    }
    let _valid = reports.iter().filter(|r| r.validate().is_ok()).count();
});
