#![allow(clippy::unwrap_used)]
//! The parsers on arbitrary input: never a panic, and every report that comes out is one the
//! service would accept.

use deconflict_feeds::cot::{parse_event, CotConfig};
use deconflict_feeds::frame::{Framer, MAX_FRAME};
use deconflict_feeds::sbs::SbsMerger;
use proptest::prelude::*;

const NOW: f64 = 1_796_148_000.0;

fn sbs_line() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just(String::new()),
        "-?[0-9]{1,6}(\\.[0-9]{1,5})?",
        "[0-9A-F]{6}",
        "(NaN|inf|-inf|1e999|1e9)",
        "[ -~]{0,8}",
    ];
    (0u8..10, proptest::collection::vec(field, 0..24)).prop_map(|(k, f)| {
        let mut v = vec![
            "MSG".to_string(),
            k.to_string(),
            "1".into(),
            "1".into(),
            "ABCDEF".into(),
        ];
        v.extend(f);
        v.join(",")
    })
}

proptest! {
    #[test]
    fn sbs_lines_never_panic_and_reports_are_valid(
        lines in proptest::collection::vec(sbs_line(), 1..40),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut m = SbsMerger::new();
        for (i, l) in lines.iter().enumerate() {
            if let Ok(Some(r)) = m.push_line(l, NOW + i as f64) {
                prop_assert!(r.validate().is_ok(), "{r:?}");
            }
        }
        let _ = m.push_line(&String::from_utf8_lossy(&bytes), NOW);
    }

    #[test]
    fn cot_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut f = Framer::new();
        f.push(&bytes, |r| {
            if let Ok(frame) = r {
                if let Ok(r) = parse_event(frame, NOW, &CotConfig::default()) {
                    assert!(r.validate().is_ok());
                }
            }
        });
        prop_assert!(f.pending() < MAX_FRAME);
        let _ = parse_event(&bytes, NOW, &CotConfig::default());
    }

    #[test]
    fn mutated_cot_events_never_panic_and_reports_are_valid(
        cut in 0usize..400,
        at in 0usize..400,
        byte in any::<u8>(),
    ) {
        let good = r#"<?xml version="1.0"?><event version="2.0" uid="UAV-7" type="a-f-A-M-H-Q" time="2026-12-01T18:00:00Z" start="2026-12-01T18:00:00Z" stale="2026-12-01T18:00:30Z"><point lat="35.4" lon="35.9" hae="120" ce="9999999" le="9999999"/><detail><track course="270" speed="45"/></detail></event>"#;
        let mut b = good.as_bytes().to_vec();
        let i = at % b.len();
        b[i] = byte;
        b.truncate(b.len() - cut.min(b.len()));
        if let Ok(r) = parse_event(&b, NOW, &CotConfig::default()) {
            prop_assert!(r.validate().is_ok(), "{r:?}");
        }
    }
}
