//! DAIDALUS encounter files (`.daa`): one aircraft state per row, the ownship first at each time.
//!
//! ```text
//! ## a comment
//! NAME, lat, lon, alt, trk, gs, vs, time
//! [none], [deg], [deg], [ft], [deg], [knot], [fpm], [s]
//! Ownship, 35.233632770, 35.950000000, 15000.000, 0.000000, 250.000000, 0.000000, 0.0
//! ```
//! * Lines starting with `#` and blank lines are skipped. Fields are separated by commas and/or
//!   white space.
//! * The first other line names the columns (any order, any case): `NAME`, `lat`, `lon`,
//!   `alt`, `time`, and the velocity either as `trk`, `gs`, `vs` (track, ground speed,
//!   vertical speed) or as `vx`, `vy`, `vz` (east, north, up). Other columns are ignored.
//!   Euclidean positions (`sx`, `sy`, `sz`) are refused.
//! * The next line may give the units, one `[unit]` per column: angles `deg`, `rad`; lengths
//!   `ft`, `m`, `km`, `nmi` (`NM`); speeds `knot` (`kn`, `kts`), `m/s`, `fpm` (`ft/min`), `ft/s`,
//!   `km/h`, `mph`; times `s`, `ms`, `min`, `h`; `none`, `unitless` or `-` for the name. Without a
//!   units line DAIDALUS's defaults apply: deg, ft, deg, knot, fpm, s.
//!
//! [`DaaHeader::parse`] reads the header, [`DaaHeader::row`] one state; [`parse`] reads a whole
//! text and stops at the first error. Every error names its line; nothing panics on any input.
//! The aircraft of a `.daa` file are read as [`AssetClass::UasLarge`] (a DAA encounter: every
//! pair with a large UAS gets the DO-365 well-clear standard of the separation table).

use crate::class::AssetClass;
use crate::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS, NM_TO_M};
use crate::track::{ReportError, TrackReport};
use std::fmt;

/// A `.daa` error: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaaError {
    /// Line number in the file, 1-based.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DaaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DaaError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Angle,
    Length,
    Speed,
    Time,
}

/// The kind and the factor to degrees, metres, m/s or seconds of a unit name.
fn unit(name: &str) -> Option<(Kind, f64)> {
    let n = name.trim().to_ascii_lowercase();
    Some(match n.as_str() {
        "none" | "unitless" | "-" | "" => (Kind::None, 1.0),
        "deg" | "degree" | "degrees" => (Kind::Angle, 1.0),
        "rad" | "radian" | "radians" => (Kind::Angle, 180.0 / std::f64::consts::PI),
        "ft" | "foot" | "feet" => (Kind::Length, FT_TO_M),
        "m" | "meter" | "metre" | "meters" | "metres" => (Kind::Length, 1.0),
        "km" => (Kind::Length, 1000.0),
        "nmi" | "nm" => (Kind::Length, NM_TO_M),
        "knot" | "knots" | "kn" | "kt" | "kts" => (Kind::Speed, KT_TO_MPS),
        "m/s" | "mps" => (Kind::Speed, 1.0),
        "fpm" | "ft/min" => (Kind::Speed, FPM_TO_MPS),
        "ft/s" | "fps" => (Kind::Speed, FT_TO_M),
        "km/h" | "kph" => (Kind::Speed, 1000.0 / 3600.0),
        "mph" => (Kind::Speed, 1609.344 / 3600.0),
        "m/min" => (Kind::Speed, 1.0 / 60.0),
        "s" | "sec" => (Kind::Time, 1.0),
        "ms" => (Kind::Time, 1e-3),
        "min" => (Kind::Time, 60.0),
        "h" | "hr" => (Kind::Time, 3600.0),
        _ => return None,
    })
}

/// How the velocity is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VelocityColumns {
    /// Track (degrees from north), ground speed, vertical speed.
    TrackSpeed,
    /// East, north and up components.
    Components,
}

/// Column indices and unit factors of a `.daa` file.
#[derive(Debug, Clone, PartialEq)]
pub struct DaaHeader {
    /// How the velocity is given.
    pub velocity: VelocityColumns,
    /// (column index, factor to SI / degrees) for name, lat, lon, alt, v1, v2, v3, time
    cols: [(usize, f64); 8],
    /// the column names, lower case
    names: Vec<String>,
}

/// One aircraft state of a `.daa` file, in SI units and degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct DaaRow {
    /// Aircraft name.
    pub name: String,
    /// Time, seconds (as in the file, converted from its unit).
    pub time_s: f64,
    /// The state as a track report (class [`AssetClass::UasLarge`]).
    pub report: TrackReport,
}

fn split(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
}

/// Whether a line is skipped (blank or a comment).
fn skipped(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

impl DaaHeader {
    /// Whether `line` looks like the column-name line of a `.daa` file (it names `name` and
    /// `time` columns, and `lat`, `lon`, `alt` or `sx`, `sy`, `sz`): how a file is recognised
    /// by content.
    pub fn looks_like(line: &str) -> bool {
        let names: Vec<String> = split(line).map(|f| f.to_ascii_lowercase()).collect();
        let has = |alts: &[&str]| names.iter().any(|n| alts.contains(&n.as_str()));
        has(&["name", "id"])
            && has(&["time", "tm", "t"])
            && ((has(&["lat"]) && has(&["lon", "long", "lng"]) && has(&["alt"]))
                || (has(&["sx"]) && has(&["sy"]) && has(&["sz"])))
    }

    /// Reads the column names (`names`, at line `line`) and the units line if given (`units`,
    /// the next line, when it starts with `[`).
    pub fn parse(names: &str, line: usize, units: Option<&str>) -> Result<DaaHeader, DaaError> {
        let err = |line, message: String| DaaError { line, message };
        let cols: Vec<String> = split(names).map(|f| f.to_ascii_lowercase()).collect();
        let find = |alts: &[&str]| cols.iter().position(|c| alts.contains(&c.as_str()));
        if find(&["sx", "sy", "sz"]).is_some() && find(&["lat"]).is_none() {
            return Err(err(
                line,
                "Euclidean positions (sx, sy, sz) are not supported: give lat, lon, alt".into(),
            ));
        }
        let need = |what: &str, alts: &[&str]| {
            find(alts).ok_or_else(|| err(line, format!("no {what} column (expected one of {alts:?})")))
        };
        let name = need("name", &["name", "id"])?;
        let lat = need("latitude", &["lat"])?;
        let lon = need("longitude", &["lon", "long", "lng"])?;
        let alt = need("altitude", &["alt"])?;
        let time = need("time", &["time", "tm", "t"])?;
        let (velocity, v) = match (find(&["trk"]), find(&["gs"]), find(&["vs"])) {
            (Some(a), Some(b), Some(c)) => (VelocityColumns::TrackSpeed, [a, b, c]),
            _ => match (find(&["vx"]), find(&["vy"]), find(&["vz"])) {
                (Some(a), Some(b), Some(c)) => (VelocityColumns::Components, [a, b, c]),
                _ => {
                    return Err(err(
                        line,
                        "no velocity columns: expected trk, gs, vs or vx, vy, vz".into(),
                    ))
                }
            },
        };
        let idx = [name, lat, lon, alt, v[0], v[1], v[2], time];
        let kinds = match velocity {
            VelocityColumns::TrackSpeed => [
                Kind::None,
                Kind::Angle,
                Kind::Angle,
                Kind::Length,
                Kind::Angle,
                Kind::Speed,
                Kind::Speed,
                Kind::Time,
            ],
            VelocityColumns::Components => [
                Kind::None,
                Kind::Angle,
                Kind::Angle,
                Kind::Length,
                Kind::Speed,
                Kind::Speed,
                Kind::Speed,
                Kind::Time,
            ],
        };
        let defaults = match velocity {
            VelocityColumns::TrackSpeed => ["none", "deg", "deg", "ft", "deg", "knot", "fpm", "s"],
            VelocityColumns::Components => ["none", "deg", "deg", "ft", "knot", "knot", "fpm", "s"],
        };
        let units: Vec<String> = match units {
            Some(u) => {
                let us: Vec<String> = split(u)
                    .map(|f| f.trim_start_matches('[').trim_end_matches(']').to_string())
                    .collect();
                if us.len() != cols.len() {
                    return Err(err(
                        line + 1,
                        format!("{} units for {} columns", us.len(), cols.len()),
                    ));
                }
                us
            }
            None => Vec::new(),
        };
        let mut out = [(0usize, 1.0f64); 8];
        for k in 0..8 {
            let u = units.get(idx[k]).map_or(defaults[k], |s| s.as_str());
            let (kind, factor) = unit(u).ok_or_else(|| {
                err(
                    line + 1,
                    format!("unknown unit [{u}] for column {}", cols[idx[k]]),
                )
            })?;
            if kind != kinds[k] && !(kinds[k] == Kind::None) {
                return Err(err(
                    line + 1,
                    format!("unit [{u}] does not fit column {}", cols[idx[k]]),
                ));
            }
            out[k] = (idx[k], factor);
        }
        Ok(DaaHeader {
            velocity,
            cols: out,
            names: cols,
        })
    }

    /// Reads one state line (`line` is its number, for errors).
    pub fn row(&self, text: &str, line: usize) -> Result<DaaRow, DaaError> {
        let err = |message: String| DaaError { line, message };
        let fields: Vec<&str> = split(text).collect();
        if fields.len() < self.names.len() {
            return Err(err(format!(
                "{} fields, expected {}",
                fields.len(),
                self.names.len()
            )));
        }
        let name = fields[self.cols[0].0].to_string();
        let mut x = [0.0f64; 8];
        for (xk, &(i, factor)) in x.iter_mut().zip(&self.cols).skip(1) {
            let v: f64 = fields[i]
                .parse()
                .map_err(|_| err(format!("{}: not a number: {:?}", self.names[i], fields[i])))?;
            if !v.is_finite() {
                return Err(err(format!("{}: not finite: {:?}", self.names[i], fields[i])));
            }
            *xk = v * factor;
        }
        let (gs, trk, vs) = match self.velocity {
            VelocityColumns::TrackSpeed => (x[5], x[4], x[6]),
            VelocityColumns::Components => {
                let trk = x[4].atan2(x[5]).to_degrees();
                (x[4].hypot(x[5]), trk, x[6])
            }
        };
        let trk = trk.rem_euclid(360.0);
        let report = TrackReport {
            asset: name.clone(),
            time: x[7],
            lat: x[1],
            lng: x[2],
            alt_m: x[3],
            gs_mps: gs,
            track_deg: if trk >= 360.0 { 0.0 } else { trk },
            vs_mps: vs,
            class: AssetClass::UasLarge,
        };
        report.validate().map_err(|e: ReportError| err(e.to_string()))?;
        Ok(DaaRow {
            name,
            time_s: x[7],
            report,
        })
    }
}

/// Reads a whole `.daa` text; the first error ends the reading.
pub fn parse(text: &str) -> Result<Vec<DaaRow>, DaaError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (n, names) = lines.by_ref().find(|(_, l)| !skipped(l)).ok_or(DaaError {
        line: 1,
        message: "no column names".into(),
    })?;
    if !DaaHeader::looks_like(names) {
        return Err(DaaError {
            line: n,
            message: "not a .daa column-name line (NAME, lat, lon, alt, …, time)".into(),
        });
    }
    let mut rest: Vec<(usize, &str)> = lines.filter(|(_, l)| !skipped(l)).collect();
    let units = match rest.first() {
        Some((un, u)) if u.trim_start().starts_with('[') => {
            if *un != n + 1 {
                return Err(DaaError {
                    line: *un,
                    message: "the units line must follow the column names".into(),
                });
            }
            let u = *u;
            rest.remove(0);
            Some(u)
        }
        _ => None,
    };
    let header = DaaHeader::parse(names, n, units)?;
    rest.iter().map(|&(i, l)| header.row(l, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const E1: &str = "## head-on, level\nNAME, lat, lon, alt, trk, gs, vs, time\n\
        [none], [deg], [deg], [ft], [deg], [knot], [fpm], [s]\n\
        Ownship, 35.233632770, 35.950000000, 15000.000, 0.000000, 250.000000, 0.000000, 0.0\n\
        Intruder, 35.566367230, 35.952040996, 15000.000, 180.000000, 250.000000, 0.000000, 0.0\n";

    #[test]
    fn reads_daidalus_files() {
        let rows = parse(E1).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "Ownship");
        let r = &rows[1].report;
        assert!((r.alt_m - 15000.0 * FT_TO_M).abs() < 1e-9);
        assert!((r.gs_mps - 250.0 * KT_TO_MPS).abs() < 1e-9);
        assert_eq!(r.track_deg, 180.0);
        assert_eq!(r.class, AssetClass::UasLarge);
    }

    #[test]
    fn reads_components_other_units_and_no_units_line() {
        let t = "name lat lon alt vx vy vz time\n[none] [deg] [deg] [m] [m/s] [m/s] [m/s] [s]\n\
                 A 1 2 300 10 0 -1 5\n";
        let r = &parse(t).unwrap()[0].report;
        assert_eq!(
            (r.alt_m, r.gs_mps, r.track_deg, r.vs_mps),
            (300.0, 10.0, 90.0, -1.0)
        );
        let t = "NAME, lat, lon, alt, trk, gs, vs, time\nA, 1, 2, 1000, 90, 100, 500, 1\n";
        let r = &parse(t).unwrap()[0].report;
        assert!((r.alt_m - 304.8).abs() < 1e-9 && (r.vs_mps - 500.0 * FPM_TO_MPS).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("", 1, "no column names"),
            ("NAME lat lon alt time\n", 1, "no velocity columns"),
            ("NAME sx sy sz trk gs vs time\n", 1, "Euclidean"),
            (
                "NAME lat lon alt trk gs vs time\n[none] [deg]\n",
                2,
                "2 units for 8 columns",
            ),
            (
                "NAME lat lon alt trk gs vs time\n[none] [deg] [deg] [ft] [deg] [kg] [fpm] [s]\n",
                2,
                "unknown unit",
            ),
            (
                "NAME lat lon alt trk gs vs time\n[none] [deg] [deg] [s] [deg] [knot] [fpm] [s]\n",
                2,
                "does not fit",
            ),
            (
                "NAME lat lon alt trk gs vs time\n#c\nA 1 2 3 4 5\n",
                3,
                "6 fields, expected 8",
            ),
            (
                "NAME lat lon alt trk gs vs time\nA 1 2 3 4 x 6 7\n",
                2,
                "gs: not a number",
            ),
            ("NAME lat lon alt trk gs vs time\nA 91 2 3 4 5 6 7\n", 2, "lat"),
            (
                "NAME lat lon alt trk gs vs time\nA 1 2 3 4 5 6 NaN\n",
                2,
                "not finite",
            ),
            ("NAME lat lon alt trk gs vs time\nA 1 2 3 4 5 6 -7\n", 2, "time"),
        ];
        for (text, line, msg) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(msg), "{text:?}: {e}");
        }
    }

    #[test]
    fn looks_like_needs_the_position_and_time_columns() {
        assert!(DaaHeader::looks_like("NAME, lat, lon, alt, trk, gs, vs, time"));
        assert!(!DaaHeader::looks_like("{\"asset\":\"x\"}"));
        assert!(DaaHeader::looks_like("NAME, sx, sy, sz, time"));
        assert!(!DaaHeader::looks_like("NAME, lat, lon, time"));
    }
}
