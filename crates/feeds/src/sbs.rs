//! SBS-1 (BaseStation) text, as dump1090 and readsb serve it on port 30003: one line per
//! message, comma-separated, `MSG,<type>,...` with 22 fields. This module owns reading one
//! line and merging what each transmission type carries into one state per ICAO address:
//!
//! | type | carries (fields used) |
//! |---|---|
//! | `MSG,1` | callsign |
//! | `MSG,2` | surface position: counted `on_ground`, never reported |
//! | `MSG,3` | airborne position: lat, lon (and altitude when the line has it) |
//! | `MSG,4` | ground speed (kt), track (deg), vertical rate (ft/min) |
//! | `MSG,5`, `MSG,7` | altitude (ft) |
//! | `MSG,6`, `MSG,8` | squawk, all-call: nothing the service takes (`ignored`) |
//!
//! A report is emitted on a position (`MSG,3`) only, and only when altitude and velocity were
//! heard within [`MAX_AGE_S`] of it: stale state is never reported as fresh (`no_altitude`,
//! `no_velocity`). The time of a report is the time the caller received the line, not the
//! line's own date fields, which dump1090 writes in local time with no zone.
//!
//! The asset id is the 24-bit ICAO address in upper-case hex (dump1090 prefixes `~` for
//! non-ICAO TIS-B addresses; kept, it is an id character). The class is `fixed_wing`: SBS-1
//! carries no emitter category.

use crate::{Heard, Reject, FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use deconflict_core::{AssetClass, TrackReport};
use std::collections::HashMap;

/// Altitude and velocity older than this when a position arrives are not used, seconds.
pub const MAX_AGE_S: f64 = 10.0;
/// State of an aircraft not heard for this long is forgotten by [`SbsMerger::prune`], seconds.
pub const FORGET_S: f64 = 60.0;
/// Most aircraft the merger keeps state for at once (a busy receiver sees a few hundred).
pub const MAX_AIRCRAFT: usize = 20_000;
/// Longest line read, bytes (a real one is under 200).
pub const MAX_LINE: usize = 1024;

/// What a line said, once parsed and checked (before merging).
#[derive(Debug, Clone, PartialEq)]
pub enum SbsMessage {
    /// `MSG,1`: callsign.
    Callsign { icao: String, callsign: String },
    /// `MSG,3`: airborne position, with the altitude the line carries, feet.
    Position {
        icao: String,
        lat: f64,
        lon: f64,
        alt_ft: Option<f64>,
    },
    /// `MSG,4`: ground speed kt, track deg, vertical rate ft/min.
    Velocity {
        icao: String,
        gs_kt: f64,
        track_deg: f64,
        vr_fpm: Option<f64>,
    },
    /// `MSG,5` or `MSG,7`: altitude, feet.
    Altitude { icao: String, alt_ft: f64 },
}

fn field<'a>(f: &[&'a str], i: usize) -> &'a str {
    f.get(i).map(|s| s.trim()).unwrap_or("")
}

/// An optional number: `None` when the field is empty; a field that is not a number is
/// `bad_number`; NaN or infinity is `impossible_value`.
fn number(s: &str) -> Result<Option<f64>, Reject> {
    if s.is_empty() {
        return Ok(None);
    }
    let v: f64 = s.parse().map_err(|_| Reject::BadNumber)?;
    if !v.is_finite() {
        return Err(Reject::ImpossibleValue);
    }
    Ok(Some(v))
}

fn within(v: f64, lo: f64, hi: f64) -> Result<f64, Reject> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Reject::ImpossibleValue)
    }
}

fn altitude(s: &str) -> Result<Option<f64>, Reject> {
    number(s)?
        .map(|ft| {
            within(
                ft * FT_TO_M,
                deconflict_core::track::MIN_ALTITUDE_M,
                deconflict_core::track::MAX_ALTITUDE_M,
            )
            .map(|_| ft)
        })
        .transpose()
}

/// The hex ident: 6 hex digits (optionally after `~`), returned in upper case.
fn icao(s: &str) -> Result<String, Reject> {
    let hex = s.strip_prefix('~').unwrap_or(s);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reject::Malformed);
    }
    Ok(s.to_ascii_uppercase())
}

/// Whether the "is on ground" flag (field 22) is set: `-1` (dump1090) or `1`.
fn on_ground(s: &str) -> bool {
    matches!(s, "-1" | "1")
}

/// Parses and checks one line. `Ok(None)` for an empty line; a line of another kind
/// (`SEL`, `ID`, `AIR`, `STA`, `CLK`, `MSG,6`, `MSG,8`) is `ignored`.
pub fn parse_line(line: &str) -> Result<Option<SbsMessage>, Reject> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(Reject::Malformed);
    }
    let f: Vec<&str> = line.split(',').collect();
    match field(&f, 0) {
        "MSG" => {}
        "SEL" | "ID" | "AIR" | "STA" | "CLK" => return Err(Reject::Ignored),
        _ => return Err(Reject::Malformed),
    }
    // MSG lines have 22 fields; some writers drop the empty trailing flags, never more.
    if f.len() < 11 || f.len() > 22 {
        return Err(Reject::Malformed);
    }
    let kind = field(&f, 1);
    let id = icao(field(&f, 4))?;
    match kind {
        "1" => {
            let callsign = field(&f, 10).to_string();
            if callsign.is_empty() || callsign.len() > 8 || !callsign.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Reject::Malformed);
            }
            Ok(Some(SbsMessage::Callsign { icao: id, callsign }))
        }
        "2" => Err(Reject::OnGround),
        "3" => {
            let alt_ft = altitude(field(&f, 11))?;
            let lat = number(field(&f, 14))?;
            let lon = number(field(&f, 15))?;
            let (Some(lat), Some(lon)) = (lat, lon) else {
                return Err(Reject::NoPosition);
            };
            let lat = within(lat, -90.0, 90.0)?;
            let lon = within(lon, -180.0, 180.0)?;
            if on_ground(field(&f, 21)) {
                return Err(Reject::OnGround);
            }
            Ok(Some(SbsMessage::Position {
                icao: id,
                lat,
                lon,
                alt_ft,
            }))
        }
        "4" => {
            let gs = number(field(&f, 12))?;
            let trk = number(field(&f, 13))?;
            let vr = number(field(&f, 16))?;
            let (Some(gs), Some(trk)) = (gs, trk) else {
                return Err(Reject::NoVelocity);
            };
            within(gs * KT_TO_MPS, 0.0, deconflict_core::track::MAX_GROUND_SPEED_MPS)?;
            within(trk, 0.0, 360.0)?;
            if let Some(v) = vr {
                let m = deconflict_core::track::MAX_VERTICAL_SPEED_MPS;
                within(v * FPM_TO_MPS, -m, m)?;
            }
            Ok(Some(SbsMessage::Velocity {
                icao: id,
                gs_kt: gs,
                track_deg: trk,
                vr_fpm: vr,
            }))
        }
        "5" | "7" => match altitude(field(&f, 11))? {
            Some(alt_ft) => Ok(Some(SbsMessage::Altitude { icao: id, alt_ft })),
            None => Err(Reject::NoAltitude),
        },
        "6" | "8" => Err(Reject::Ignored),
        _ => Err(Reject::Malformed),
    }
}

/// What is known of one aircraft, each part with the time it was heard.
#[derive(Debug, Clone, Default)]
struct Aircraft {
    callsign: Option<String>,
    heard: Heard,
    last_heard: f64,
}

/// Merges SBS-1 lines per ICAO address into track reports.
#[derive(Debug, Default)]
pub struct SbsMerger {
    aircraft: HashMap<String, Aircraft>,
}

impl SbsMerger {
    /// An empty merger.
    pub fn new() -> SbsMerger {
        SbsMerger::default()
    }

    /// Aircraft with state (heard within [`FORGET_S`] as of the last [`Self::prune`]).
    pub fn len(&self) -> usize {
        self.aircraft.len()
    }

    /// Whether no aircraft has state.
    pub fn is_empty(&self) -> bool {
        self.aircraft.is_empty()
    }

    /// The callsign last heard for `icao`, if any (never sent to the service: a report has no
    /// field for it; the bridges may show it).
    pub fn callsign(&self, icao: &str) -> Option<&str> {
        self.aircraft.get(icao)?.callsign.as_deref()
    }

    /// Forgets aircraft not heard for [`FORGET_S`] before `now`.
    pub fn prune(&mut self, now: f64) {
        self.aircraft.retain(|_, a| now - a.last_heard <= FORGET_S);
    }

    /// Reads one line received at `now` (Unix seconds). `Ok(Some(report))` when the line is a
    /// position and the merged state makes a whole report; `Ok(None)` when the line only
    /// updated the state (or was empty); `Err` names why the line gave nothing. A rejected
    /// line changes no state.
    pub fn push_line(&mut self, line: &str, now: f64) -> Result<Option<TrackReport>, Reject> {
        let Some(msg) = parse_line(line)? else {
            return Ok(None);
        };
        let id = match &msg {
            SbsMessage::Callsign { icao, .. }
            | SbsMessage::Position { icao, .. }
            | SbsMessage::Velocity { icao, .. }
            | SbsMessage::Altitude { icao, .. } => icao,
        };
        if !self.aircraft.contains_key(id) && self.aircraft.len() >= MAX_AIRCRAFT {
            self.prune(now);
            if self.aircraft.len() >= MAX_AIRCRAFT {
                return Err(Reject::TooManyAircraft);
            }
        }
        let a = self.aircraft.entry(id.clone()).or_default();
        a.last_heard = now;
        match msg {
            SbsMessage::Callsign { callsign, .. } => {
                a.callsign = Some(callsign);
                Ok(None)
            }
            SbsMessage::Altitude { alt_ft, .. } => {
                a.heard.alt = Some((alt_ft, now));
                Ok(None)
            }
            SbsMessage::Velocity {
                gs_kt,
                track_deg,
                vr_fpm,
                ..
            } => {
                a.heard.vel = Some((gs_kt, track_deg, vr_fpm, now));
                Ok(None)
            }
            SbsMessage::Position {
                icao,
                lat,
                lon,
                alt_ft,
            } => {
                if let Some(ft) = alt_ft {
                    a.heard.alt = Some((ft, now));
                }
                a.heard
                    .report(icao, (lat, lon), now, MAX_AGE_S, AssetClass::FixedWing)
                    .map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000.0;

    fn msg(kind: u8, icao: &str, fields: &[(usize, &str)]) -> String {
        let mut f = vec![""; 22];
        f[0] = "MSG";
        let k = kind.to_string();
        f[1] = &k;
        f[2] = "1";
        f[3] = "1";
        f[4] = icao;
        f[5] = "1";
        f[6] = "2023/10/24";
        f[7] = "09:56:02.123";
        f[8] = "2023/10/24";
        f[9] = "09:56:02.123";
        for (i, v) in fields {
            f[*i] = v;
        }
        f.join(",")
    }

    fn pos(icao: &str, lat: &str, lon: &str, alt: &str) -> String {
        msg(
            3,
            icao,
            &[
                (11, alt),
                (14, lat),
                (15, lon),
                (18, "0"),
                (19, "0"),
                (20, "0"),
                (21, "0"),
            ],
        )
    }

    fn vel(icao: &str, gs: &str, trk: &str, vr: &str) -> String {
        msg(4, icao, &[(12, gs), (13, trk), (16, vr)])
    }

    #[test]
    fn a_dump1090_session_makes_whole_reports() {
        let mut m = SbsMerger::new();
        // real dump1090-mutability lines, as it writes them
        let call = "MSG,1,1,1,486257,1,2023/10/24,09:56:02.123,2023/10/24,09:56:02.123,KLM1234 ,,,,,,,,,,,0";
        assert_eq!(m.push_line(call, NOW), Ok(None));
        assert_eq!(m.callsign("486257"), Some("KLM1234"));
        let v = "MSG,4,1,1,486257,1,2023/10/24,09:56:02.200,2023/10/24,09:56:02.200,,,451,85,,,-64,,,,,0";
        assert_eq!(m.push_line(v, NOW), Ok(None));
        let p = "MSG,3,1,1,486257,1,2023/10/24,09:56:02.300,2023/10/24,09:56:02.300,,36000,,,51.99061,4.37614,,,0,0,0,0\r\n";
        let r = m.push_line(p, NOW + 0.1).unwrap().unwrap();
        assert_eq!(r.asset, "486257");
        assert_eq!(r.time, NOW + 0.1);
        assert_eq!((r.lat, r.lng), (51.99061, 4.37614));
        assert!((r.alt_m - 10_972.8).abs() < 1e-6, "{}", r.alt_m);
        assert!((r.gs_mps - 232.01).abs() < 0.01, "{}", r.gs_mps);
        assert_eq!(r.track_deg, 85.0);
        assert!((r.vs_mps + 0.32512).abs() < 1e-9, "{}", r.vs_mps);
        assert_eq!(r.class, AssetClass::FixedWing);
        // a position without altitude takes the last altitude, if fresh
        let r = m
            .push_line(&pos("486257", "52.0", "4.4", ""), NOW + 5.0)
            .unwrap()
            .unwrap();
        assert!((r.alt_m - 10_972.8).abs() < 1e-6);
        let alt = msg(5, "486257", &[(11, "35000")]);
        assert_eq!(m.push_line(&alt, NOW + 6.0), Ok(None));
        let r = m
            .push_line(&pos("486257", "52.0", "4.4", ""), NOW + 6.5)
            .unwrap()
            .unwrap();
        assert!((r.alt_m - 10_668.0).abs() < 1e-6);
    }

    #[test]
    fn stale_velocity_or_altitude_is_never_reported() {
        let mut m = SbsMerger::new();
        assert_eq!(
            m.push_line(&pos("ABCDEF", "35", "35", "1000"), NOW),
            Err(Reject::NoVelocity)
        );
        m.push_line(&vel("ABCDEF", "100", "90", "0"), NOW).unwrap();
        assert!(m
            .push_line(&pos("ABCDEF", "35", "35", "1000"), NOW + MAX_AGE_S)
            .unwrap()
            .is_some());
        assert_eq!(
            m.push_line(&pos("ABCDEF", "35", "35", "1000"), NOW + MAX_AGE_S + 0.1),
            Err(Reject::NoVelocity)
        );
        // altitude heard long ago is stale too
        let mut m = SbsMerger::new();
        m.push_line(&msg(7, "ABCDEF", &[(11, "1000")]), NOW).unwrap();
        m.push_line(&vel("ABCDEF", "100", "90", ""), NOW + 20.0).unwrap();
        assert_eq!(
            m.push_line(&pos("ABCDEF", "35", "35", ""), NOW + 20.0),
            Err(Reject::NoAltitude)
        );
        // another aircraft's state is not mixed in
        assert_eq!(
            m.push_line(&pos("ABCDE0", "35", "35", "1000"), NOW + 20.0),
            Err(Reject::NoVelocity)
        );
    }

    #[test]
    fn bad_lines_are_counted_by_reason_and_change_nothing() {
        let mut m = SbsMerger::new();
        m.push_line(&vel("ABCDEF", "100", "90", "0"), NOW).unwrap();
        for (line, why) in [
            (pos("ABCDEF", "91", "35", "1000"), Reject::ImpossibleValue),
            (pos("ABCDEF", "35", "NaN", "1000"), Reject::ImpossibleValue),
            (pos("ABCDEF", "35", "35", "1e9"), Reject::ImpossibleValue),
            (pos("ABCDEF", "3x5", "35", "1000"), Reject::BadNumber),
            (pos("ABCDEF", "", "", "1000"), Reject::NoPosition),
            (pos("ABCDEG", "35", "35", "1000"), Reject::Malformed),
            (pos("ABCDE", "35", "35", "1000"), Reject::Malformed),
            (vel("ABCDEF", "1e9", "90", "0"), Reject::ImpossibleValue),
            (vel("ABCDEF", "100", "400", "0"), Reject::ImpossibleValue),
            (vel("ABCDEF", "100", "90", "99999"), Reject::ImpossibleValue),
            (vel("ABCDEF", "", "90", "0"), Reject::NoVelocity),
            (msg(2, "ABCDEF", &[(14, "35"), (15, "35")]), Reject::OnGround),
            (msg(6, "ABCDEF", &[(17, "7000")]), Reject::Ignored),
            (msg(9, "ABCDEF", &[]), Reject::Malformed),
            (
                "SEL,,496,2286,4CA4E5,27215,2010/02/19,18:06:07.710,2010/02/19,18:06:07.710,RYR1427".into(),
                Reject::Ignored,
            ),
            ("MSG,3,1,1".into(), Reject::Malformed),
            ("\u{0}\u{ff}garbage".into(), Reject::Malformed),
            (
                format!("{},x", pos("ABCDEF", "35", "35", "1000")),
                Reject::Malformed,
            ),
            ("x".repeat(5000), Reject::Malformed),
        ] {
            assert_eq!(m.push_line(&line, NOW), Err(why), "{line}");
        }
        let mut ground = pos("ABCDEF", "35", "35", "1000");
        ground.replace_range(ground.len() - 1.., "-1");
        assert_eq!(m.push_line(&ground, NOW), Err(Reject::OnGround));
        // the velocity before the bad lines is still the one used
        let r = m
            .push_line(&pos("ABCDEF", "35", "35", "1000"), NOW)
            .unwrap()
            .unwrap();
        assert_eq!(r.track_deg, 90.0);
        assert_eq!(m.push_line("", NOW), Ok(None));
    }

    #[test]
    fn state_is_bounded_and_forgotten() {
        let mut m = SbsMerger::new();
        for i in 0..MAX_AIRCRAFT {
            m.push_line(&vel(&format!("{i:06X}"), "100", "90", ""), NOW)
                .unwrap();
        }
        assert_eq!(
            m.push_line(&vel("FFFFFF", "100", "90", ""), NOW),
            Err(Reject::TooManyAircraft)
        );
        assert_eq!(
            m.push_line(&vel("FFFFFF", "100", "90", ""), NOW + FORGET_S + 1.0),
            Ok(None)
        );
        assert_eq!(m.len(), 1);
    }
}
