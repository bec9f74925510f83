//! Reading track reports from a file's contents: our JSON Lines, (detected by the first
//! non-blank byte, `[`) the trajectory arrays of the `traffic` package (OpenSky ADS-B: feet,
//! knots, ft/min, nulls), and (detected by a column-name line, see [`crate::daa`]) DAIDALUS
//! `.daa` encounter files. The bytes come from any [`BufRead`]; opening the file and unzipping
//! it is the caller's business (the command-line tool's), so this module touches no disk.
//!
//! Bad records are counted by reason in [`ReadStats::rejected`], handed to the caller's
//! `on_reject` with their line (or record) number, and skipped; reading never panics on any
//! input.

use crate::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use crate::{AssetClass, ReportError, TrackReport};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, BufRead};

/// The format the contents were found to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One track report per line ([`TrackReport::parse_line`]).
    JsonLines,
    /// One JSON array of `traffic` trajectory records.
    TrafficArray,
    /// A DAIDALUS `.daa` encounter file ([`crate::daa`]), the ownship first at each time.
    Daa,
}

/// What reading produced besides the reports.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// The format found (`JsonLines` for empty contents).
    pub format: Option<Format>,
    /// Whether the file was gzip-compressed: set by the caller that unzipped it (this module
    /// only sees plain bytes).
    pub gzip: bool,
    /// Records read (blank lines are not records).
    pub records: usize,
    /// Reports accepted.
    pub accepted: usize,
    /// Records saying the aircraft was on the ground (traffic files): each ends its airborne
    /// track, listed in [`ReadStats::grounded`].
    pub on_ground: usize,
    /// (asset, time) of every on-ground record, in file order.
    pub grounded: Vec<(String, f64)>,
    /// Records whose velocity was missing and was derived from the previous position.
    pub velocity_derived: usize,
    /// Records whose velocity was missing and could not be derived: kept as position-only
    /// (speed 0), so a loss of separation is still seen even if it cannot be predicted.
    pub velocity_unknown: usize,
    /// Records that repeat the aircraft's previous position exactly while it is moving: a
    /// forward-filled (stale) position, not a new observation. Skipped, so the track ages and
    /// is dropped when stale instead of being refreshed with an old position.
    pub repeated_position: usize,
    /// Rejected records by reason ("field: fault").
    pub rejected: BTreeMap<String, usize>,
}

impl ReadStats {
    /// Rejected records, all reasons together.
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    fn reject(&mut self, location: &str, e: &ReportError, on_reject: &mut dyn FnMut(&str, &ReportError)) {
        *self.rejected.entry(e.reason()).or_default() += 1;
        on_reject(location, e);
    }
}

/// Reads every report of `reader`, in order. A bad record is counted, handed to `on_reject`
/// with its location (`line 7`, `record 12`) and skipped; a traffic array that stops being
/// JSON is one rejected record and ends the reading. Only a read error of `reader` itself is
/// an error.
pub fn read_reports(
    mut reader: impl BufRead,
    on_reject: &mut dyn FnMut(&str, &ReportError),
) -> io::Result<(Vec<TrackReport>, ReadStats)> {
    let mut stats = ReadStats::default();
    // Detect the format by the first non-blank byte.
    let first = loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break None;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(p) => break Some(buf[p]),
            None => {
                let l = buf.len();
                reader.consume(l);
            }
        }
    };
    let mut out = Vec::new();
    match first {
        None => {
            stats.format = Some(Format::JsonLines);
        }
        Some(b'[') => {
            stats.format = Some(Format::TrafficArray);
            read_traffic(reader, &mut out, &mut stats, on_reject);
        }
        Some(b'{') => {
            stats.format = Some(Format::JsonLines);
            read_jsonl(reader, &mut out, &mut stats, on_reject)?;
        }
        Some(_) => {
            // Not JSON at the start: a .daa file if its first line that is not a comment
            // names the columns, JSON Lines (each line rejected) otherwise.
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes)?;
            let text = String::from_utf8_lossy(&bytes);
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'));
            if first.is_some_and(crate::daa::DaaHeader::looks_like) {
                stats.format = Some(Format::Daa);
                read_daa(&text, &mut out, &mut stats, on_reject);
            } else {
                stats.format = Some(Format::JsonLines);
                read_jsonl(&bytes[..], &mut out, &mut stats, on_reject)?;
            }
        }
    }
    stats.accepted = out.len();
    Ok((out, stats))
}

fn read_jsonl(
    reader: impl BufRead,
    out: &mut Vec<TrackReport>,
    stats: &mut ReadStats,
    on_reject: &mut dyn FnMut(&str, &ReportError),
) -> io::Result<()> {
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        let lineno = i + 1;
        let text = match std::str::from_utf8(&line) {
            Ok(t) => t.trim(),
            Err(_) => {
                stats.records += 1;
                stats.reject(
                    &format!("line {lineno}"),
                    &ReportError::new("json", "malformed: not UTF-8"),
                    on_reject,
                );
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        stats.records += 1;
        match TrackReport::parse_line(text) {
            Ok(r) => out.push(r),
            Err(e) => stats.reject(&format!("line {lineno}"), &e, on_reject),
        }
    }
    Ok(())
}

/// A `.daa` file: a header error is one rejected record and ends the reading; a bad state line
/// is rejected and skipped. Records are the state lines (and a bad header).
fn read_daa(
    text: &str,
    out: &mut Vec<TrackReport>,
    stats: &mut ReadStats,
    on_reject: &mut dyn FnMut(&str, &ReportError),
) {
    use crate::daa::DaaHeader;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .peekable();
    let Some((n, names)) = lines.next() else {
        return;
    };
    let units = match lines.peek() {
        Some(&(un, u)) if un == n + 1 && u.trim_start().starts_with('[') => {
            lines.next();
            Some(u)
        }
        _ => None,
    };
    let header = match DaaHeader::parse(names, n, units) {
        Ok(h) => h,
        Err(e) => {
            stats.records += 1;
            stats.reject(
                &format!("line {}", e.line),
                &ReportError::new("daa header", format!("malformed: {}", e.message)),
                on_reject,
            );
            return;
        }
    };
    for (i, line) in lines {
        stats.records += 1;
        match header.row(line, i) {
            Ok(row) => out.push(row.report),
            Err(e) => stats.reject(
                &format!("line {i}"),
                &ReportError::new("daa", format!("bad state: {}", e.message)),
                on_reject,
            ),
        }
    }
}

/// Last known velocity of an aircraft, used to coast through null velocity fields.
#[derive(Default, Clone, Copy)]
struct Known {
    gs: Option<f64>,
    trk: Option<f64>,
    vs: Option<f64>,
    /// last position: (time s, lat, lng)
    pos: Option<(f64, f64, f64)>,
}

/// How the velocity of a traffic record was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Velocity {
    Reported,
    Derived,
    Unknown,
}

/// Longest gap over which a velocity is derived from two positions, seconds.
const MAX_DERIVE_GAP_S: f64 = 10.0;

/// Degrees wrapped into [0, 360), the range of [`TrackReport::track_deg`] as
/// [`TrackReport::parse_line`] gives it (360 read as 0). `rem_euclid` alone rounds a tiny
/// negative angle (`-1e-14`) up to 360 itself.
fn wrap_deg(deg: f64) -> f64 {
    let d = deg.rem_euclid(360.0);
    if d >= 360.0 {
        0.0
    } else {
        d
    }
}

fn traffic_record(
    v: &Value,
    known: &mut HashMap<String, Known>,
) -> Result<Option<(Option<TrackReport>, Velocity)>, ReportError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ReportError::new("record", "wrong type: expected an object"))?;
    let num = |field: &str| -> Result<Option<f64>, ReportError> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64().filter(|x| x.is_finite())),
            Some(_) => Err(ReportError::new(field, "wrong type: expected a number")),
        }
    };
    let icao = match obj.get("icao24") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(ReportError::new("icao24", "missing: required string")),
    };
    let ts = num("timestamp")?.ok_or_else(|| ReportError::new("timestamp", "missing: required number"))?;
    // The velocity is remembered before the position is checked so that a record with a
    // velocity but no position still helps later records coast.
    let k = known.entry(icao.clone()).or_default();
    if let Some(gs) = num("groundspeed")? {
        k.gs = Some(gs * KT_TO_MPS);
    }
    if let Some(t) = num("track")? {
        k.trk = Some(wrap_deg(t));
    }
    if let Some(vr) = num("vertical_rate")? {
        k.vs = Some(vr * FPM_TO_MPS);
    }
    if matches!(obj.get("onground"), Some(Value::Bool(true))) {
        k.pos = None;
        return Ok(None);
    }
    let lat = num("latitude")?.ok_or_else(|| ReportError::new("latitude", "missing: null position"))?;
    let lng = num("longitude")?.ok_or_else(|| ReportError::new("longitude", "missing: null position"))?;
    let alt = num("altitude")?.ok_or_else(|| ReportError::new("altitude", "missing: null altitude"))?;
    let time = ts / 1000.0;
    if let Some((_, lat0, lng0)) = k.pos {
        if lat0 == lat && lng0 == lng && k.gs.unwrap_or(0.0) > 1.0 {
            return Ok(Some((None, Velocity::Reported)));
        }
    }
    let (gs, trk, how) = match (k.gs, k.trk) {
        (Some(gs), Some(trk)) => (gs, trk, Velocity::Reported),
        _ => match k.pos {
            Some((t0, lat0, lng0)) if time > t0 && time - t0 <= MAX_DERIVE_GAP_S => {
                use crate::geodesy::{dot, east_north, great_circle_m, sub, unit_vector};
                let (n0, n1) = (unit_vector(lat0, lng0), unit_vector(lat, lng));
                let (e, no) = east_north(lat0, lng0);
                let dv = sub(n1, n0);
                let trk = wrap_deg(dot(dv, e).atan2(dot(dv, no)).to_degrees());
                (great_circle_m(n0, n1) / (time - t0), trk, Velocity::Derived)
            }
            _ => (0.0, 0.0, Velocity::Unknown),
        },
    };
    k.pos = Some((time, lat, lng));
    let r = TrackReport {
        asset: icao,
        time,
        lat,
        lng,
        alt_m: alt * FT_TO_M,
        gs_mps: gs,
        track_deg: trk,
        vs_mps: k.vs.unwrap_or(0.0),
        class: AssetClass::FixedWing,
    };
    r.validate().map_err(|mut e| {
        e.field = match e.field.as_str() {
            "lat" => "latitude",
            "lng" => "longitude",
            "alt_m" => "altitude",
            "gs_mps" => "groundspeed",
            "track_deg" => "track",
            "vs_mps" => "vertical_rate",
            "time" => "timestamp",
            "asset" => "icao24",
            other => other,
        }
        .to_string();
        e
    })?;
    Ok(Some((Some(r), how)))
}

struct ArrayVisitor<'a> {
    out: &'a mut Vec<TrackReport>,
    stats: &'a mut ReadStats,
    on_reject: &'a mut dyn FnMut(&str, &ReportError),
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of trajectory records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut known = HashMap::new();
        while let Some(v) = seq.next_element::<Value>()? {
            self.stats.records += 1;
            match traffic_record(&v, &mut known) {
                Ok(Some((None, _))) => self.stats.repeated_position += 1,
                Ok(Some((Some(r), how))) => {
                    match how {
                        Velocity::Reported => {}
                        Velocity::Derived => self.stats.velocity_derived += 1,
                        Velocity::Unknown => self.stats.velocity_unknown += 1,
                    }
                    self.out.push(r)
                }
                Ok(None) => {
                    self.stats.on_ground += 1;
                    if let (Some(id), Some(ts)) = (v["icao24"].as_str(), v["timestamp"].as_f64()) {
                        self.stats.grounded.push((id.to_string(), ts / 1000.0));
                    }
                }
                Err(e) => {
                    let loc = format!("record {}", self.stats.records);
                    self.stats.reject(&loc, &e, self.on_reject)
                }
            }
        }
        Ok(())
    }
}

fn read_traffic(
    reader: impl BufRead,
    out: &mut Vec<TrackReport>,
    stats: &mut ReadStats,
    on_reject: &mut dyn FnMut(&str, &ReportError),
) {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let visitor = ArrayVisitor {
        out,
        stats,
        on_reject: &mut *on_reject,
    };
    if let Err(e) = (&mut de).deserialize_seq(visitor) {
        let n = stats.records + 1;
        stats.reject(
            &format!("record {n}"),
            &ReportError::new(
                "json",
                format!("malformed: {e}; the rest of the file was not read"),
            ),
            on_reject,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<TrackReport>, ReadStats, Vec<String>) {
        let mut seen = Vec::new();
        let (r, s) = read_reports(text.as_bytes(), &mut |at, e| {
            seen.push(format!("{at}: {}", e.field))
        })
        .expect("a slice reads");
        (r, s, seen)
    }

    #[test]
    fn json_lines_skip_blank_lines_and_name_bad_ones() {
        let good = r#"{"asset":"X","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0}"#;
        let (r, s, seen) = read(&format!("\n{good}\n\n{{\"asset\":1}}\r\n{good}\n"));
        assert_eq!((r.len(), s.records, s.accepted, s.rejected_total()), (2, 3, 2, 1));
        assert_eq!(s.format, Some(Format::JsonLines));
        assert_eq!(seen, ["line 4: asset"]);
        let (r, s, _) = read("  \n\t ");
        assert_eq!((r.len(), s.records, s.format), (0, 0, Some(Format::JsonLines)));
    }

    #[test]
    fn traffic_arrays_coast_ground_and_stop_at_broken_json() {
        let rec = |ts: u64, lat: f64, gs: &str| {
            format!(
                r#"{{"timestamp":{ts},"icao24":"abc123","latitude":{lat},"longitude":2.0,"altitude":1000.0,"groundspeed":{gs},"track":90.0,"vertical_rate":null}}"#
            )
        };
        let ground = r#"{"timestamp":3000,"icao24":"abc123","onground":true}"#;
        let text = format!(
            "  [{},{},{},{ground},{}]",
            rec(1000, 48.0, "null"),
            rec(2000, 48.001, "100.0"),
            rec(2500, 48.001, "100.0"),
            rec(4000, 48.002, "null")
        );
        let (r, s, seen) = read(&text);
        assert_eq!(s.format, Some(Format::TrafficArray));
        assert_eq!(
            (s.records, r.len(), s.repeated_position, s.on_ground),
            (5, 3, 1, 1)
        );
        assert_eq!((s.velocity_unknown, s.velocity_derived), (1, 0));
        assert_eq!(s.grounded, [("abc123".to_string(), 3.0)]);
        assert!(seen.is_empty());
        // The last record coasts on the velocity remembered before the ground record.
        assert!((r[2].gs_mps - 100.0 * KT_TO_MPS).abs() < 1e-9);
        let (r, s, seen) = read(&format!("[{},{{\"timestamp\":", rec(1000, 48.0, "1.0")));
        assert_eq!((r.len(), s.records, s.rejected_total()), (1, 1, 1));
        assert_eq!(seen, ["record 2: json"]);
    }

    #[test]
    fn daa_files_are_detected_by_their_column_names() {
        let text = "## E1\nNAME, lat, lon, alt, trk, gs, vs, time\n\
            [none], [deg], [deg], [ft], [deg], [knot], [fpm], [s]\n\
            Ownship, 35.2, 35.95, 15000.0, 0.0, 250.0, 0.0, 0.0\n\
            Intruder, 35.5, 35.95, 15000.0, 180.0, 250.0, 0.0, 0.0\n\
            Intruder, 95.5, 35.95, 15000.0, 180.0, 250.0, 0.0, 1.0\n";
        let (r, s, seen) = read(text);
        assert_eq!(s.format, Some(Format::Daa));
        assert_eq!((r.len(), s.records, s.rejected_total()), (2, 3, 1));
        assert_eq!(seen, ["line 6: daa"]);
        assert_eq!(r[1].asset, "Intruder");
        let (r, s, seen) = read("NAME lat lon alt time\nA 1 2 3 4\n");
        assert_eq!((r.len(), s.records, s.format), (0, 1, Some(Format::Daa)));
        assert_eq!(seen, ["line 1: daa header"]);
        // not JSON and not a .daa header: JSON Lines, each line rejected
        let (_, s, _) = read("hello\nworld\n");
        assert_eq!((s.format, s.rejected_total()), (Some(Format::JsonLines), 2));
    }

    #[test]
    fn a_track_just_below_north_is_read_as_0_not_360() {
        // The scenario_file fuzz target's round trip failed on this input (kept as
        // fuzz/corpus/scenario_file/traffic-track-minus-1e-14.json): -1e-14 rem_euclid 360 is
        // 360.0, a track no JSON Lines record reads back (360 is read as 0).
        let text = r#"[{"timestamp":1633608773000,"icao24":"0101de","latitude":48.48,"longitude":3.82,"altitude":13650.0,"groundspeed":325.0,"track":-1e-14,"vertical_rate":-896.0}]"#;
        let (r, _, seen) = read(text);
        assert!(seen.is_empty());
        assert_eq!(r[0].track_deg, 0.0);
        assert_eq!(wrap_deg(-1e-14), 0.0);
        assert_eq!(wrap_deg(-90.0), 270.0);
        assert_eq!(wrap_deg(720.5), 0.5);
        let line = serde_json::to_string(&r[0]).unwrap();
        assert_eq!(TrackReport::parse_line(&line).unwrap(), r[0]);
    }
}
