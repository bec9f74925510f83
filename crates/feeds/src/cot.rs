//! Cursor-on-Target in: one `<event>` (TAK's XML position format) to one track report, and
//! the asset class from the event's type. [`crate::frame::Framer`] splits a TAK stream into
//! events; this module owns what one event means.
//!
//! ```xml
//! <event version="2.0" uid="UAV-7" type="a-f-A-M-F-Q" how="m-g"
//!        time="2026-12-01T18:00:00Z" start="2026-12-01T18:00:00Z" stale="2026-12-01T18:00:10Z">
//!   <point lat="35.41" lon="35.95" hae="1200" ce="10" le="5"/>
//!   <detail><track course="270" speed="45"/><contact callsign="HAWK 7"/></detail>
//! </event>
//! ```
//!
//! - `uid` is the asset id (refused as `bad_id` outside the service's id alphabet); `time` is
//!   the report's time; an event whose `stale` is already past when it arrives is `stale`.
//! - `speed` is m/s and `course` degrees true (CoT's units, the service's too). An event
//!   with no `<track>` is `no_velocity`: a missing velocity is not reported as zero.
//! - `hae` (height above the WGS84 ellipsoid, metres) is the report's `alt_m`. The service
//!   requires an altitude, so `hae="9999999"` (CoT's "unknown") is `no_altitude`. `ce` and
//!   `le` (errors) are read but unused: the service has no accuracy field, and 9999999 there
//!   is accepted.
//! - Only atoms in the air are tracks (`a-<affiliation>-A...`); every other type (pings
//!   `t-x-c-t`, ground units `a-f-G...`, chat `b-t-f`) is `ignored`. Only the party's own
//!   affiliations ([`CotConfig::own`], friend `f` and assumed friend `a` by default) are
//!   reported: a hostile track in a party's TAK picture is not that party's asset (`not_own`).
//!
//! The class from the type, first match wins (function dimension after `a-?-A-`):
//!
//! | CoT type | meaning (MIL-STD-2525) | class |
//! |---|---|---|
//! | `a-?-A-M-F-Q…` | military fixed wing, UAV | `uas_large` |
//! | `a-?-A-M-H-Q…`, `a-?-A-C-H-Q…`, `a-?-A-C-F-Q…` | rotary UAV, civil drone | `uas_small` |
//! | `a-?-A-M-H…`, `a-?-A-C-H…` | rotorcraft | `rotorcraft` |
//! | `a-?-A-M-F…`, `a-?-A-C-F…`, `a-?-A-M`, `a-?-A-C`, `a-?-A` | fixed wing (military, civil, unknown) | `fixed_wing` |
//! | `a-?-A-W…` (weapons), `a-?-A-C-L…` (lighter than air), anything else | | `ignored` |

use crate::{checked, Reject};
use deconflict_core::track::parse_rfc3339;
use deconflict_core::{AssetClass, TrackReport};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// CoT's "unknown" for `hae`, `ce` and `le`.
pub const UNKNOWN: f64 = 9_999_999.0;

/// What the parser needs to know of the party.
#[derive(Debug, Clone)]
pub struct CotConfig {
    /// The affiliations (second letter of the type) that are the party's own assets.
    pub own: Vec<char>,
}

impl Default for CotConfig {
    fn default() -> Self {
        CotConfig { own: vec!['f', 'a'] }
    }
}

/// The class of an air atom's type after `a-<affiliation>-A`, or `None` when the type is
/// not one the service tracks (see the table in the module docs).
pub fn class_of(cot_type: &str) -> Option<AssetClass> {
    let parts: Vec<&str> = cot_type.split('-').collect();
    if parts.len() < 3 || parts[0] != "a" || parts[2] != "A" || parts[1].len() != 1 {
        return None;
    }
    let rest = &parts[3..];
    let get = |i: usize| rest.get(i).copied();
    match (get(0), get(1), get(2)) {
        (Some("M"), Some("F"), Some("Q")) => Some(AssetClass::UasLarge),
        (Some("M" | "C"), Some("H"), Some("Q")) | (Some("C"), Some("F"), Some("Q")) => {
            Some(AssetClass::UasSmall)
        }
        (Some("M" | "C"), Some("H"), _) => Some(AssetClass::Rotorcraft),
        (Some("M" | "C"), Some("F"), _) | (Some("M" | "C"), None, _) | (None, _, _) => {
            Some(AssetClass::FixedWing)
        }
        _ => None,
    }
}

/// The attributes of `<event>` the parser reads.
#[derive(Default)]
struct Head {
    uid: Option<String>,
    kind: Option<String>,
    time: Option<String>,
    stale: Option<String>,
}

/// `<point>`, `<track>`: numbers by name.
#[derive(Default)]
struct Numbers {
    lat: Option<f64>,
    lon: Option<f64>,
    hae: Option<f64>,
    course: Option<f64>,
    speed: Option<f64>,
}

fn attr_text(e: &BytesStart<'_>, mut each: impl FnMut(&[u8], String)) -> Result<(), Reject> {
    for a in e.attributes() {
        let a = a.map_err(|_| Reject::Malformed)?;
        let v = a.unescape_value().map_err(|_| Reject::Malformed)?;
        each(a.key.as_ref(), v.into_owned());
    }
    Ok(())
}

fn num(v: &str) -> Result<f64, Reject> {
    let x: f64 = v.trim().parse().map_err(|_| Reject::BadNumber)?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Reject::ImpossibleValue)
    }
}

/// Reads the elements of one event, in document order; the whole event or an error.
fn read(xml: &str) -> Result<(Head, Numbers, bool), Reject> {
    let mut reader = Reader::from_str(xml);
    let (mut head, mut n) = (None::<Head>, Numbers::default());
    let mut have_point = false;
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut closed = false;
    let mut bad_number: Option<Reject> = None;
    loop {
        let ev = reader.read_event().map_err(|_| Reject::Malformed)?;
        let (e, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(_) => {
                stack.pop();
                if stack.is_empty() && head.is_some() {
                    closed = true;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let Some(e) = e else { continue };
        if closed {
            // Something after the event's end: a second event in one frame.
            return Err(Reject::Malformed);
        }
        let name = e.local_name().as_ref().to_vec();
        let parent = stack.last().map(|p| p.as_slice());
        match (parent, name.as_slice()) {
            (None, b"event") => {
                let mut h = Head::default();
                attr_text(e, |k, v| match k {
                    b"uid" => h.uid = Some(v),
                    b"type" => h.kind = Some(v),
                    b"time" => h.time = Some(v),
                    b"stale" => h.stale = Some(v),
                    _ => {}
                })?;
                head = Some(h);
            }
            (None, _) => return Err(Reject::Malformed),
            (Some(b"event"), b"point") => {
                have_point = true;
                attr_text(e, |k, v| {
                    let slot = match k {
                        b"lat" => &mut n.lat,
                        b"lon" => &mut n.lon,
                        b"hae" => &mut n.hae,
                        _ => return,
                    };
                    match num(&v) {
                        Ok(x) => *slot = Some(x),
                        Err(r) => bad_number = bad_number.or(Some(r)),
                    }
                })?;
            }
            (Some(b"detail"), b"track") => attr_text(e, |k, v| {
                let slot = match k {
                    b"course" => &mut n.course,
                    b"speed" => &mut n.speed,
                    _ => return,
                };
                match num(&v) {
                    Ok(x) => *slot = Some(x),
                    Err(r) => bad_number = bad_number.or(Some(r)),
                }
            })?,
            _ => {}
        }
        if !empty {
            stack.push(name);
            if stack.len() > 32 {
                return Err(Reject::Malformed);
            }
        }
    }
    let head = head.ok_or(Reject::Malformed)?;
    if !closed || !stack.is_empty() {
        return Err(Reject::Truncated);
    }
    if let Some(r) = bad_number {
        return Err(r);
    }
    Ok((head, n, have_point))
}

/// Parses one event received at `now` (Unix seconds) into a report, or the reason it is
/// none. `frame` is the bytes of one event (an XML declaration before it is fine).
pub fn parse_event(frame: &[u8], now: f64, cfg: &CotConfig) -> Result<TrackReport, Reject> {
    let xml = std::str::from_utf8(frame).map_err(|_| Reject::Malformed)?;
    let (head, n, have_point) = read(xml)?;
    let kind = head.kind.as_deref().ok_or(Reject::Malformed)?;
    let class = class_of(kind).ok_or(Reject::Ignored)?;
    let affiliation = kind.chars().nth(2).unwrap_or('?');
    if !cfg.own.contains(&affiliation) {
        return Err(Reject::NotOwn);
    }
    let uid = head.uid.ok_or(Reject::Malformed)?;
    if deconflict_core::track::validate_asset_id("uid", &uid).is_err() {
        return Err(Reject::BadId);
    }
    let time = head
        .time
        .as_deref()
        .and_then(parse_rfc3339)
        .ok_or(Reject::Malformed)?;
    if let Some(stale) = head.stale.as_deref() {
        let stale = parse_rfc3339(stale).ok_or(Reject::Malformed)?;
        if stale < now {
            return Err(Reject::Stale);
        }
    }
    if !have_point {
        return Err(Reject::NoPosition);
    }
    let (Some(lat), Some(lon)) = (n.lat, n.lon) else {
        return Err(Reject::NoPosition);
    };
    let alt = match n.hae {
        Some(h) if h == UNKNOWN => return Err(Reject::NoAltitude),
        Some(h) => h,
        None => return Err(Reject::NoAltitude),
    };
    let (Some(course), Some(speed)) = (n.course, n.speed) else {
        return Err(Reject::NoVelocity);
    };
    checked(TrackReport {
        asset: uid,
        time,
        lat,
        lng: lon,
        alt_m: alt,
        gs_mps: speed,
        track_deg: if course == 360.0 { 0.0 } else { course },
        vs_mps: 0.0,
        class,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-12-01T18:00:00Z";
    const NOW: f64 = 1_796_148_000.0; // 2026-12-01T18:00:00Z

    fn event(kind: &str, point: &str, detail: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><event version="2.0" uid="UAV-7" type="{kind}" how="m-g" time="{T}" start="{T}" stale="2026-12-01T18:00:30Z"><point {point}/><detail>{detail}</detail></event>"#
        )
    }

    fn good(kind: &str) -> String {
        event(
            kind,
            r#"lat="35.41" lon="35.95" hae="1200" ce="9999999" le="9999999""#,
            r#"<track course="270" speed="45"/><contact callsign="HAWK 7"/>"#,
        )
    }

    fn parse(s: &str) -> Result<TrackReport, Reject> {
        parse_event(s.as_bytes(), NOW, &CotConfig::default())
    }

    #[test]
    fn the_time_constant_is_the_date_in_the_events() {
        assert_eq!(parse_rfc3339(T), Some(NOW));
    }

    #[test]
    fn a_whole_event_is_a_whole_report() {
        let r = parse(&good("a-f-A-M-F-Q")).unwrap();
        assert_eq!(r.asset, "UAV-7");
        assert_eq!(r.time, NOW);
        assert_eq!((r.lat, r.lng, r.alt_m), (35.41, 35.95, 1200.0));
        assert_eq!((r.gs_mps, r.track_deg, r.vs_mps), (45.0, 270.0, 0.0));
        assert_eq!(r.class, AssetClass::UasLarge);
    }

    #[test]
    fn the_class_table() {
        for (t, c) in [
            ("a-f-A-M-F-Q", Some(AssetClass::UasLarge)),
            ("a-h-A-M-F-Q-r", Some(AssetClass::UasLarge)),
            ("a-f-A-M-H-Q", Some(AssetClass::UasSmall)),
            ("a-f-A-C-F-Q", Some(AssetClass::UasSmall)),
            ("a-f-A-M-H", Some(AssetClass::Rotorcraft)),
            ("a-n-A-C-H", Some(AssetClass::Rotorcraft)),
            ("a-f-A-M-F", Some(AssetClass::FixedWing)),
            ("a-f-A-M-F-A", Some(AssetClass::FixedWing)),
            ("a-f-A-C-F", Some(AssetClass::FixedWing)),
            ("a-u-A", Some(AssetClass::FixedWing)),
            ("a-f-A-W-M", None),
            ("a-f-A-C-L", None),
            ("a-f-G-U-C", None),
            ("t-x-c-t", None),
            ("b-t-f", None),
            ("", None),
        ] {
            assert_eq!(class_of(t), c, "{t}");
        }
    }

    #[test]
    fn affiliations_other_than_the_partys_are_not_its_assets() {
        assert_eq!(parse(&good("a-h-A-M-F-Q")), Err(Reject::NotOwn));
        assert_eq!(parse(&good("a-a-A-M-F-Q")).unwrap().class, AssetClass::UasLarge);
        let all = CotConfig { own: vec!['h'] };
        assert!(parse_event(good("a-h-A-M-F-Q").as_bytes(), NOW, &all).is_ok());
    }

    #[test]
    fn unrelated_types_are_ignored() {
        for t in ["t-x-c-t", "a-f-G-U-C-I", "b-t-f", "a-f-A-W"] {
            assert_eq!(parse(&good(t)), Err(Reject::Ignored), "{t}");
        }
    }

    #[test]
    fn unknown_hae_is_no_altitude_and_unknown_errors_are_fine() {
        let e = event(
            "a-f-A-M-H-Q",
            r#"lat="35.41" lon="35.95" hae="9999999.0" ce="9999999" le="9999999""#,
            r#"<track course="0" speed="5"/>"#,
        );
        assert_eq!(parse(&e), Err(Reject::NoAltitude));
        let e = event(
            "a-f-A-M-H-Q",
            r#"lat="35.41" lon="35.95""#,
            r#"<track course="0" speed="5"/>"#,
        );
        assert_eq!(parse(&e), Err(Reject::NoAltitude));
    }

    #[test]
    fn missing_parts_are_named() {
        let no_track = event("a-f-A-M-H-Q", r#"lat="35.4" lon="35.9" hae="100""#, "");
        assert_eq!(parse(&no_track), Err(Reject::NoVelocity));
        let no_lat = event(
            "a-f-A-M-H-Q",
            r#"lon="35.9" hae="100""#,
            r#"<track course="0" speed="5"/>"#,
        );
        assert_eq!(parse(&no_lat), Err(Reject::NoPosition));
        let no_point = good("a-f-A-M-H-Q").replace("<point ", "<pt ");
        assert_eq!(parse(&no_point), Err(Reject::NoPosition));
    }

    #[test]
    fn impossible_values_are_refused() {
        for (point, track, why) in [
            (
                r#"lat="91" lon="35" hae="100""#,
                r#"course="0" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="35" lon="-181" hae="100""#,
                r#"course="0" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="35" lon="35" hae="100""#,
                r#"course="0" speed="1e9""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="35" lon="35" hae="100""#,
                r#"course="361" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="NaN" lon="35" hae="100""#,
                r#"course="0" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="35" lon="35" hae="inf""#,
                r#"course="0" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="35" lon="35" hae="1e6""#,
                r#"course="0" speed="5""#,
                Reject::ImpossibleValue,
            ),
            (
                r#"lat="thirty" lon="35" hae="100""#,
                r#"course="0" speed="5""#,
                Reject::BadNumber,
            ),
        ] {
            let e = event("a-f-A-M-H-Q", point, &format!("<track {track}/>"));
            assert_eq!(parse(&e), Err(why), "{e}");
        }
    }

    #[test]
    fn bad_ids_times_and_staleness() {
        let e = good("a-f-A-M-H-Q").replace("UAV-7", "UAV 7/x");
        assert_eq!(parse(&e), Err(Reject::BadId));
        let e = good("a-f-A-M-H-Q").replace(r#"time="2026"#, r#"time="yesterday"#);
        assert_eq!(parse(&e), Err(Reject::Malformed));
        let e = good("a-f-A-M-H-Q");
        assert_eq!(
            parse_event(e.as_bytes(), NOW + 31.0, &CotConfig::default()),
            Err(Reject::Stale)
        );
    }

    #[test]
    fn malformed_and_truncated_xml_is_never_a_report() {
        let whole = good("a-f-A-M-H-Q");
        for cut in 0..whole.len() {
            let part = &whole[..cut];
            assert!(parse(part).is_err(), "a prefix of {cut} bytes parsed");
        }
        for bad in [
            "<event uid='x' type='a-f-A'><point lat='1' lon='2' hae='3'/></evnt>",
            "<event uid='x' type='a-f-A' time='2026-12-01T18:00:00Z'><point lat='1' lon='2' hae='3'><detail></event>",
            "<notevent/>",
            "garbage \u{1} bytes",
            "<event uid=x>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_event(&[0xff, 0xfe, b'<'], NOW, &CotConfig::default()),
            Err(Reject::Malformed)
        );
        let two = format!("{whole}{whole}");
        assert_eq!(parse(&two), Err(Reject::Malformed));
    }
}
