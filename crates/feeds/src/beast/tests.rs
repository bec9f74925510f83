//! Tests of the Beast framer, the AVR reader and the merger, on frames of the recorded flight
//! in `tests/data/beast-slice.csv.gz` (KLM1302, ICAO 486257, taking off from Toulouse). The
//! expected position is pyModeS's decoding of the same even/odd pair (an independent decoder).

use super::*;
use crate::FT_TO_M;
use proptest::prelude::*;

/// Odd airborne position of 486257 at 550 ft (TC 11), received at 1698142244.745782.
const POS_ODD: &str = "1a330003b919b1f5a78d4862575807e49976518250099c";
/// Airborne velocity, ground speed subtype: 59 kt, track 322.55, vertical rate 0.
const VEL: &str = "1a330003b92617a3ad8d48625799242506100405d0f0b8";
/// Even airborne position of the same aircraft, 0.47 s after the odd one.
const POS_EVEN: &str = "1a330003b96fd20db78d4862575807e11594537076cd57";
/// Identification: KLM1302, emitter category A3 (medium 2).
const IDENT: &str = "1a330003730619eab58c486257232cc371cf0ca0b6b98a";
/// Surface position (TC 7) of the same aircraft, still on the runway.
const SURFACE: &str = "1a33000370d7a2ecba8c486257389dd0550f4eca83151b";
/// pyModeS's position for the even/odd pair above (even newer).
const PYMODES: (f64, f64) = (43.626434326171875, 1.364348655523256);

const T0: f64 = 1_698_142_244.745_782;

fn bytes(hex_frame: &str) -> Vec<u8> {
    hex(&hex_frame.replace(' ', "")).expect("test frames are hex")
}

/// The Mode S message of a Beast frame given in hex (type byte, 6 + 1 metadata bytes off).
fn message(hex_frame: &str) -> Vec<u8> {
    bytes(hex_frame)[2 + 7..].to_vec()
}

/// A frame as it goes on the wire: every 0x1a after the first byte doubled.
fn escaped(frame: &[u8]) -> Vec<u8> {
    let mut out = vec![frame[0]];
    for &b in &frame[1..] {
        out.push(b);
        if b == ESC {
            out.push(ESC);
        }
    }
    out
}

fn frames_of(stream: &[u8]) -> Vec<Result<BeastFrame, Reject>> {
    let mut f = BeastFramer::new();
    let mut out = Vec::new();
    f.push(stream, |r| out.push(r));
    out
}

#[test]
fn a_pair_and_a_velocity_make_the_position_pymodes_decodes() {
    let mut m = BeastMerger::new();
    assert_eq!(m.push_frame(&message(IDENT), T0 - 1.0), Ok(None));
    assert_eq!(m.callsign("486257"), Some("KLM1302"));
    // The first frame of a pair gives no position yet; the altitude is kept.
    assert_eq!(m.push_frame(&message(POS_ODD), T0), Err(Reject::NoPosition));
    assert_eq!(m.push_frame(&message(VEL), T0 + 0.07), Ok(None));
    let r = m
        .push_frame(&message(POS_EVEN), T0 + 0.47)
        .expect("a whole state")
        .expect("a report");
    assert_eq!(r.asset, "486257");
    assert!((r.lat - PYMODES.0).abs() < 1e-9, "{} vs {}", r.lat, PYMODES.0);
    assert!((r.lng - PYMODES.1).abs() < 1e-9, "{} vs {}", r.lng, PYMODES.1);
    assert!((r.alt_m - 550.0 * FT_TO_M).abs() < 1e-9);
    // pyModeS rounds the ground speed to a whole knot; rs1090 keeps the components' hypotenuse.
    assert!(
        (r.gs_mps / KT_TO_MPS - 59.0).abs() <= 0.5,
        "{} kt",
        r.gs_mps / KT_TO_MPS
    );
    assert!((r.track_deg - 322.549).abs() < 0.01);
    assert_eq!(r.vs_mps, 0.0);
    assert_eq!(r.class, AssetClass::FixedWing);
    assert_eq!(r.time, T0 + 0.47);
}

#[test]
fn a_position_without_a_fresh_velocity_is_not_reported() {
    let mut m = BeastMerger::new();
    assert_eq!(m.push_frame(&message(VEL), T0 - 20.0), Ok(None));
    m.push_frame(&message(POS_ODD), T0).ok();
    assert_eq!(
        m.push_frame(&message(POS_EVEN), T0 + 0.47),
        Err(Reject::NoVelocity)
    );
}

#[test]
fn surface_positions_corrupted_frames_and_other_formats_are_refused_by_reason() {
    let mut m = BeastMerger::new();
    assert_eq!(m.push_frame(&message(SURFACE), T0), Err(Reject::OnGround));
    let mut bad = message(POS_EVEN);
    bad[6] ^= 0x10;
    assert_eq!(m.push_frame(&bad, T0), Err(Reject::BadCrc));
    // DF11 all-call reply (short): not an extended squitter.
    assert_eq!(m.push_frame(&bytes("5d486257a1b2c3"), T0), Err(Reject::Ignored));
    assert_eq!(m.push_frame(&[0x8d, 0x48], T0), Err(Reject::Malformed));
    assert_eq!(m.push_frame(&message(POS_EVEN)[..7], T0), Err(Reject::Malformed));
    assert!(m.is_empty(), "refused frames make no aircraft");
}

#[test]
fn the_framer_undoes_escaping_and_splits_frames_back_to_back() {
    let mut stream = Vec::new();
    for f in [POS_ODD, VEL, POS_EVEN] {
        stream.extend(escaped(&bytes(f)));
    }
    // Mode A/C (type '1': 2 bytes) between them.
    stream.extend([ESC, b'1', 0, 0, 0, 0, 0, 1, 9, 0x12, 0x34]);
    let got = frames_of(&stream);
    assert_eq!(
        got,
        vec![
            Ok(BeastFrame::ModeS(message(POS_ODD))),
            Ok(BeastFrame::ModeS(message(VEL))),
            Ok(BeastFrame::ModeS(message(POS_EVEN))),
            Ok(BeastFrame::Other),
        ]
    );
    // A timestamp holding 0x1a comes through unescaped.
    let mut f = bytes(POS_EVEN);
    f[3] = ESC;
    assert_eq!(
        frames_of(&escaped(&f)),
        vec![Ok(BeastFrame::ModeS(message(POS_EVEN)))]
    );
}

#[test]
fn the_framer_reports_garbage_once_per_run_and_cut_frames_as_truncated() {
    let full = escaped(&bytes(POS_EVEN));
    let mut stream = b"hello, not beast".to_vec();
    stream.extend(&full[..10]);
    stream.extend(&full);
    assert_eq!(
        frames_of(&stream),
        vec![
            Err(Reject::Malformed),
            Err(Reject::Truncated),
            Ok(BeastFrame::ModeS(message(POS_EVEN))),
        ]
    );
    // An unknown type byte after 0x1a.
    assert_eq!(frames_of(&[ESC, b'9', 1, 2, 3]), vec![Err(Reject::Malformed)]);
}

#[test]
fn the_framer_takes_a_stream_in_any_chunks() {
    let mut stream = Vec::new();
    for f in [POS_ODD, VEL, POS_EVEN, IDENT] {
        stream.extend(escaped(&bytes(f)));
    }
    let whole = frames_of(&stream);
    for chunk in [1, 2, 3, 7, 22] {
        let mut f = BeastFramer::new();
        let mut out = Vec::new();
        for c in stream.chunks(chunk) {
            f.push(c, |r| out.push(r));
        }
        assert_eq!(out, whole, "chunks of {chunk}");
    }
}

#[test]
fn avr_lines_with_and_without_a_timestamp() {
    let hex_msg: String = message(POS_EVEN).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        parse_avr(&format!("*{hex_msg};\r\n")),
        Ok(Some(message(POS_EVEN)))
    );
    assert_eq!(
        parse_avr(&format!("@0003b96fd20d{};", hex_msg.to_uppercase())),
        Ok(Some(message(POS_EVEN)))
    );
    assert_eq!(parse_avr("  "), Ok(None));
    assert_eq!(parse_avr("*1234;"), Err(Reject::Ignored));
    for bad in [
        "*8d4862;",
        "8d4862575807e11594537076cd57",
        "*zz;",
        "@12;",
        "*8d486;",
    ] {
        assert_eq!(parse_avr(bad), Err(Reject::Malformed), "{bad}");
    }
    assert_eq!(
        parse_avr(&format!("*{};", "0".repeat(400))),
        Err(Reject::Malformed)
    );
}

#[test]
fn prune_forgets_the_cpr_state_too() {
    let mut m = BeastMerger::new();
    m.push_frame(&message(POS_ODD), T0).ok();
    assert_eq!(m.len(), 1);
    m.prune(T0 + FORGET_S + 1.0);
    assert!(m.is_empty());
    assert!(m.cpr.is_empty());
    // With the odd frame forgotten, an even frame alone gives no position.
    m.push_frame(&message(VEL), T0 + 61.5).ok();
    assert_eq!(
        m.push_frame(&message(POS_EVEN), T0 + 62.0),
        Err(Reject::NoPosition)
    );
}

proptest! {
    /// No byte stream makes the framer panic, hold more than one frame, or emit a message of
    /// another length than 7 or 14; and every message it emits the merger takes without panic.
    #[test]
    fn no_stream_breaks_the_framer_or_the_merger(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
        escapes in proptest::collection::vec(0usize..64, 0..8),
    ) {
        let mut f = BeastFramer::new();
        let mut m = BeastMerger::new();
        for (i, mut c) in chunks.into_iter().enumerate() {
            if let Some(&at) = escapes.get(i) {
                if at < c.len() {
                    c[at] = ESC;
                }
            }
            let mut out = Vec::new();
            f.push(&c, |r| out.push(r));
            prop_assert!(f.buf.len() <= META + 14);
            for r in out {
                if let Ok(BeastFrame::ModeS(msg)) = r {
                    prop_assert!(msg.len() == 7 || msg.len() == 14);
                    let _ = m.push_frame(&msg, T0);
                }
            }
        }
    }
}
