//! Reading track reports from files: our JSON Lines, and (detected by content) the gzipped
//! trajectory arrays of the `traffic` package (OpenSky ADS-B: feet, knots, ft/min, nulls).

use anyhow::{Context, Result};
use deconflict_core::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use deconflict_core::{AssetClass, ReportError, TrackReport};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How many rejected records are printed one by one before only counting.
const MAX_PRINTED: usize = 20;

/// The format a file was found to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    JsonLines,
    TrafficArray,
}

/// What reading a file produced besides the reports.
#[derive(Debug, Default)]
pub(crate) struct ReadStats {
    pub format: Option<Format>,
    pub gzip: bool,
    pub records: usize,
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
    printed: usize,
}

impl ReadStats {
    pub(crate) fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    fn reject(&mut self, location: &str, e: &ReportError, quiet: bool) {
        *self.rejected.entry(e.reason()).or_default() += 1;
        if !quiet {
            if self.printed < MAX_PRINTED {
                eprintln!("warning: {location}: {e}; skipped");
            } else if self.printed == MAX_PRINTED {
                eprintln!("warning: further rejected records are only counted (see the summary)");
            }
        }
        self.printed += 1;
    }
}

fn open(path: &Path) -> Result<(Box<dyn BufRead>, bool)> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    drop(f);
    let f = File::open(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok((
            Box::new(BufReader::with_capacity(
                1 << 16,
                flate2::read::MultiGzDecoder::new(f),
            )),
            true,
        ))
    } else {
        Ok((Box::new(BufReader::with_capacity(1 << 16, f)), false))
    }
}

/// Reads every report of a file, in file order. Bad records are reported on stderr with their
/// line (or record) number and the field at fault, counted and skipped.
pub(crate) fn read_reports(path: &Path, quiet: bool) -> Result<(Vec<TrackReport>, ReadStats)> {
    let (mut reader, gzip) = open(path)?;
    let mut stats = ReadStats {
        gzip,
        ..ReadStats::default()
    };
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
            read_traffic(reader, &mut out, &mut stats, quiet)?;
        }
        Some(_) => {
            stats.format = Some(Format::JsonLines);
            read_jsonl(reader, &mut out, &mut stats, quiet)?;
        }
    }
    stats.accepted = out.len();
    Ok((out, stats))
}

fn read_jsonl(
    reader: Box<dyn BufRead>,
    out: &mut Vec<TrackReport>,
    stats: &mut ReadStats,
    quiet: bool,
) -> Result<()> {
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.context("read error")?;
        let lineno = i + 1;
        let text = match std::str::from_utf8(&line) {
            Ok(t) => t.trim(),
            Err(_) => {
                stats.records += 1;
                stats.reject(
                    &format!("line {lineno}"),
                    &ReportError::new("json", "malformed: not UTF-8"),
                    quiet,
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
            Err(e) => stats.reject(&format!("line {lineno}"), &e, quiet),
        }
    }
    Ok(())
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
        k.trk = Some(t.rem_euclid(360.0));
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
                use deconflict_core::geodesy::{dot, east_north, great_circle_m, sub, unit_vector};
                let (n0, n1) = (unit_vector(lat0, lng0), unit_vector(lat, lng));
                let (e, no) = east_north(lat0, lng0);
                let dv = sub(n1, n0);
                let trk = dot(dv, e).atan2(dot(dv, no)).to_degrees().rem_euclid(360.0);
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
    quiet: bool,
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
                    self.stats.reject(&loc, &e, self.quiet)
                }
            }
        }
        Ok(())
    }
}

fn read_traffic(
    reader: Box<dyn BufRead>,
    out: &mut Vec<TrackReport>,
    stats: &mut ReadStats,
    quiet: bool,
) -> Result<()> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let visitor = ArrayVisitor { out, stats, quiet };
    if let Err(e) = (&mut de).deserialize_seq(visitor) {
        let n = stats.records + 1;
        stats.reject(
            &format!("record {n}"),
            &ReportError::new(
                "json",
                format!("malformed: {e}; the rest of the file was not read"),
            ),
            quiet,
        );
    }
    Ok(())
}
