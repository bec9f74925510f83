//! Track reports: one surveillance observation of one asset.
//!
//! The wire form is one JSON object per line (JSON Lines):
//! `{"asset":"RUS-UAV-07","time":"2015-09-18T06:00:00Z","lat":35.41,"lng":35.95,"alt_m":1200,
//!   "gs_mps":45,"track_deg":270,"vs_mps":0,"class":"uas_large"}`
//! `time` is RFC 3339 or a number of Unix seconds; `vs_mps` defaults to 0 and `class` to
//! `fixed_wing`. Unknown fields are ignored. Every field is validated and an error names the
//! field at fault.

use crate::class::AssetClass;
use crate::geodesy::{unit_vector, velocity_vector, Vec3};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

// Validation limits for a report.

/// Longest asset id, bytes.
pub const MAX_ASSET_ID_LEN: usize = 64;
/// Fastest ground speed accepted, m/s.
pub const MAX_GROUND_SPEED_MPS: f64 = 1_000.0;
/// Fastest climb or descent accepted, m/s (`vs_mps` within ±this).
pub const MAX_VERTICAL_SPEED_MPS: f64 = 300.0;
/// Lowest altitude accepted, metres.
pub const MIN_ALTITUDE_M: f64 = -1_000.0;
/// Highest altitude accepted, metres.
pub const MAX_ALTITUDE_M: f64 = 30_000.0;
/// Latest time accepted, Unix seconds: 3000-01-01T00:00:00Z. Later times are taken as a unit
/// mistake (milliseconds).
pub const MAX_UNIX_TIME_S: f64 = 32_503_680_000.0;

/// A validated track report.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TrackReport {
    /// Asset id: 1 to [`MAX_ASSET_ID_LEN`] bytes, no control characters.
    pub asset: String,
    /// Time of the observation, Unix seconds (UTC).
    pub time: f64,
    /// Latitude, degrees (WGS84), in [-90, 90].
    pub lat: f64,
    /// Longitude, degrees (WGS84), in [-180, 180].
    pub lng: f64,
    /// Altitude, metres.
    pub alt_m: f64,
    /// Ground speed, m/s.
    pub gs_mps: f64,
    /// True track over the ground, degrees clockwise from north (parsing reads 360 as 0).
    pub track_deg: f64,
    /// Vertical speed, m/s, positive climbing (0 when the record has none).
    pub vs_mps: f64,
    /// Asset class (`fixed_wing` when the record has none).
    pub class: AssetClass,
}

/// Why a report was refused: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    /// Name of the field at fault (`json` when the line is not a JSON object).
    pub field: String,
    /// What is wrong: a short kind, a colon, then details (e.g. `out of range: must be within
    /// [-90, 90], got 91`).
    pub message: String,
}

impl ReportError {
    /// The error for `field` with this message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ReportError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A short category for counting (field plus the kind of fault).
    pub fn reason(&self) -> String {
        let kind = self.message.split(':').next().unwrap_or("").trim();
        format!("{}: {}", self.field, kind)
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {:?}: {}", self.field, self.message)
    }
}

impl std::error::Error for ReportError {}

fn number(obj: &Map<String, Value>, field: &str, required: bool) -> Result<Option<f64>, ReportError> {
    match obj.get(field) {
        None | Some(Value::Null) if !required => Ok(None),
        None => Err(ReportError::new(field, "missing: required number")),
        Some(Value::Null) => Err(ReportError::new(
            field,
            "missing: null where a number is required",
        )),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(ReportError::new(field, "not finite: number out of range")),
        },
        Some(other) => Err(ReportError::new(
            field,
            format!("wrong type: expected a number, got {}", type_name(other)),
        )),
    }
}

/// How a JSON value's type is named in error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn in_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<f64, ReportError> {
    if v < lo || v > hi {
        Err(ReportError::new(
            field,
            format!("out of range: must be within [{lo}, {hi}], got {v}"),
        ))
    } else {
        Ok(v)
    }
}

/// Parses an RFC 3339 timestamp to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9)
}

/// Formats Unix seconds as RFC 3339 (UTC, millisecond precision when needed).
pub fn format_rfc3339(t: f64) -> String {
    let secs = t.floor();
    let nanos = ((t - secs) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
    match chrono::DateTime::from_timestamp(secs as i64, nanos) {
        Some(dt) if nanos == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => format!("{t}"),
    }
}

/// Validates a time field (RFC 3339 string or Unix seconds).
pub fn parse_time(field: &str, v: Option<&Value>) -> Result<f64, ReportError> {
    match v {
        None | Some(Value::Null) => Err(ReportError::new(
            field,
            "missing: required RFC 3339 time or Unix seconds",
        )),
        Some(Value::String(s)) => parse_rfc3339(s).ok_or_else(|| {
            ReportError::new(
                field,
                format!("bad time: {s:?} is not RFC 3339 (e.g. 2015-09-18T06:00:00Z)"),
            )
        }),
        Some(Value::Number(n)) => {
            let t = n
                .as_f64()
                .filter(|t| t.is_finite())
                .ok_or_else(|| ReportError::new(field, "not finite: number out of range"))?;
            in_range(field, t, 0.0, MAX_UNIX_TIME_S)
        }
        Some(other) => Err(ReportError::new(
            field,
            format!(
                "wrong type: expected an RFC 3339 string or Unix seconds, got {}",
                type_name(other)
            ),
        )),
    }
    .and_then(|t| in_range(field, t, 0.0, MAX_UNIX_TIME_S))
}

/// Validates an asset id: 1 to [`MAX_ASSET_ID_LEN`] bytes of [`crate::text::ID_CHARS`].
pub fn validate_asset_id(field: &str, s: &str) -> Result<(), ReportError> {
    crate::text::check_id(s, MAX_ASSET_ID_LEN).map_err(|m| ReportError::new(field, m))
}

impl TrackReport {
    /// Parses and validates one JSON Lines record.
    pub fn parse_line(line: &str) -> Result<TrackReport, ReportError> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| ReportError::new("json", format!("malformed: {e}")))?;
        Self::from_json(&value)
    }

    /// Validates a parsed JSON object.
    pub fn from_json(value: &Value) -> Result<TrackReport, ReportError> {
        let obj = value.as_object().ok_or_else(|| {
            ReportError::new(
                "json",
                format!("wrong type: expected an object, got {}", type_name(value)),
            )
        })?;
        let asset = match obj.get("asset") {
            Some(Value::String(s)) => {
                validate_asset_id("asset", s)?;
                s.clone()
            }
            None | Some(Value::Null) => return Err(ReportError::new("asset", "missing: required string")),
            Some(other) => {
                return Err(ReportError::new(
                    "asset",
                    format!("wrong type: expected a string, got {}", type_name(other)),
                ))
            }
        };
        let time = parse_time("time", obj.get("time"))?;
        let lat = in_range("lat", number(obj, "lat", true)?.unwrap_or_default(), -90.0, 90.0)?;
        let lng = in_range(
            "lng",
            number(obj, "lng", true)?.unwrap_or_default(),
            -180.0,
            180.0,
        )?;
        let alt_m = in_range(
            "alt_m",
            number(obj, "alt_m", true)?.unwrap_or_default(),
            MIN_ALTITUDE_M,
            MAX_ALTITUDE_M,
        )?;
        let gs_mps = in_range(
            "gs_mps",
            number(obj, "gs_mps", true)?.unwrap_or_default(),
            0.0,
            MAX_GROUND_SPEED_MPS,
        )?;
        let track_deg = in_range(
            "track_deg",
            number(obj, "track_deg", true)?.unwrap_or_default(),
            0.0,
            360.0,
        )?;
        let vs_mps = in_range(
            "vs_mps",
            number(obj, "vs_mps", false)?.unwrap_or(0.0),
            -MAX_VERTICAL_SPEED_MPS,
            MAX_VERTICAL_SPEED_MPS,
        )?;
        let class = match obj.get("class") {
            None | Some(Value::Null) => AssetClass::default(),
            Some(Value::String(s)) => s.parse().map_err(|e: crate::class::UnknownClass| {
                ReportError::new("class", format!("unknown: {e}"))
            })?,
            Some(other) => {
                return Err(ReportError::new(
                    "class",
                    format!("wrong type: expected a string, got {}", type_name(other)),
                ))
            }
        };
        Ok(TrackReport {
            asset,
            time,
            lat,
            lng,
            alt_m,
            gs_mps,
            track_deg: if track_deg == 360.0 { 0.0 } else { track_deg },
            vs_mps,
            class,
        })
    }

    /// Checks every field of an already-built report (the ranges [`Self::from_json`] enforces).
    pub fn validate(&self) -> Result<(), ReportError> {
        validate_asset_id("asset", &self.asset)?;
        let finite = |field: &str, v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(ReportError::new(field, "not finite: number out of range"))
            }
        };
        in_range("time", finite("time", self.time)?, 0.0, MAX_UNIX_TIME_S)?;
        in_range("lat", finite("lat", self.lat)?, -90.0, 90.0)?;
        in_range("lng", finite("lng", self.lng)?, -180.0, 180.0)?;
        in_range(
            "alt_m",
            finite("alt_m", self.alt_m)?,
            MIN_ALTITUDE_M,
            MAX_ALTITUDE_M,
        )?;
        in_range(
            "gs_mps",
            finite("gs_mps", self.gs_mps)?,
            0.0,
            MAX_GROUND_SPEED_MPS,
        )?;
        in_range("track_deg", finite("track_deg", self.track_deg)?, 0.0, 360.0)?;
        in_range(
            "vs_mps",
            finite("vs_mps", self.vs_mps)?,
            -MAX_VERTICAL_SPEED_MPS,
            MAX_VERTICAL_SPEED_MPS,
        )?;
        Ok(())
    }

    /// Kinematic state of this report at its own time.
    pub fn state(&self) -> TrackState {
        TrackState::new(
            self.lat,
            self.lng,
            self.alt_m,
            self.gs_mps,
            self.track_deg,
            self.vs_mps,
            self.class,
        )
    }

    /// Serialises to the JSON Lines form (time as RFC 3339).
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "asset": self.asset,
            "time": format_rfc3339(self.time),
            "lat": self.lat,
            "lng": self.lng,
            "alt_m": self.alt_m,
            "gs_mps": self.gs_mps,
            "track_deg": self.track_deg,
            "vs_mps": self.vs_mps,
            "class": self.class,
        })
        .to_string()
    }
}

/// The kinematic state of one track, in the form the detector works in: the horizontal position
/// as a unit vector, the ground velocity as a tangent vector, altitude and vertical speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackState {
    /// Horizontal position: unit vector from the Earth's centre (ECEF).
    pub n: Vec3,
    /// Ground velocity: ECEF vector tangent to the sphere at `n`, m/s.
    pub v: Vec3,
    /// Altitude, metres.
    pub alt_m: f64,
    /// Vertical speed, m/s, positive climbing.
    pub vs_mps: f64,
    /// Asset class, which selects the separation standard of each pair.
    pub class: AssetClass,
}

impl TrackState {
    /// The state at latitude and longitude `lat`/`lng` (degrees) and altitude `alt_m`
    /// (metres), flying at ground speed `gs_mps` (m/s) on true track `track_deg` (degrees
    /// clockwise from north) with vertical speed `vs_mps` (m/s).
    pub fn new(
        lat: f64,
        lng: f64,
        alt_m: f64,
        gs_mps: f64,
        track_deg: f64,
        vs_mps: f64,
        class: AssetClass,
    ) -> Self {
        TrackState {
            n: unit_vector(lat, lng),
            v: velocity_vector(lat, lng, gs_mps, track_deg),
            alt_m,
            vs_mps,
            class,
        }
    }

    /// This state `dt_s` seconds later, flying straight (great circle) at constant speeds.
    pub fn propagated(&self, dt_s: f64) -> TrackState {
        let (n, v) = crate::geodesy::propagate(self.n, self.v, dt_s);
        TrackState {
            n,
            v,
            alt_m: self.alt_m + self.vs_mps * dt_s,
            vs_mps: self.vs_mps,
            class: self.class,
        }
    }

    /// Latitude and longitude, degrees (longitude in (-180, 180]).
    pub fn lat_lng(&self) -> (f64, f64) {
        crate::geodesy::lat_lon(self.n)
    }

    /// Ground speed, m/s.
    pub fn ground_speed(&self) -> f64 {
        crate::geodesy::norm(self.v)
    }

    /// True track, degrees clockwise from north in [0, 360).
    pub fn track_deg(&self) -> f64 {
        crate::geodesy::track_deg(self.n, self.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let r = TrackReport::parse_line(r#"{"asset":"RUS-UAV-07","time":"2015-09-18T06:00:00Z","lat":35.41,"lng":35.95,"alt_m":1200,"gs_mps":45,"track_deg":270,"vs_mps":0,"class":"uas_large"}"#).unwrap();
        assert_eq!(r.asset, "RUS-UAV-07");
        assert_eq!(r.time, 1442556000.0);
        assert_eq!(r.class, AssetClass::UasLarge);
        let r2 = TrackReport::parse_line(
            r#"{"asset":"X","time":1442556000.5,"lat":0,"lng":0,"alt_m":0,"gs_mps":0,"track_deg":0}"#,
        )
        .unwrap();
        assert_eq!(r2.time, 1442556000.5);
        assert_eq!(r2.class, AssetClass::FixedWing);
        assert_eq!(r2.vs_mps, 0.0);
        let back = TrackReport::parse_line(&r.to_json_line()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"asset":"X","time":0,"lat":91,"lng":0,"alt_m":0,"gs_mps":0,"track_deg":0}"#,
                "lat",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":-181,"alt_m":0,"gs_mps":0,"track_deg":0}"#,
                "lng",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1001,"track_deg":0}"#,
                "gs_mps",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":"north"}"#,
                "track_deg",
            ),
            (
                r#"{"asset":"X","time":"yesterday","lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0}"#,
                "time",
            ),
            (
                r#"{"asset":"","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0}"#,
                "asset",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":0,"gs_mps":1,"track_deg":0}"#,
                "alt_m",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0,"class":"jet"}"#,
                "class",
            ),
            (
                r#"{"asset":"X","time":0,"lat":null,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0}"#,
                "lat",
            ),
            (
                r#"{"asset":"X","time":0,"lat":1e999,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0}"#,
                "json",
            ),
            (
                r#"{"asset":"X","time":0,"lat":0,"lng":0,"alt_m":0,"gs_mps":1,"track_deg":0,"vs_mps":-500}"#,
                "vs_mps",
            ),
            (r#"[1,2]"#, "json"),
            (r#"{"asset":"X""#, "json"),
        ];
        for (line, field) in cases {
            let e = TrackReport::parse_line(line).unwrap_err();
            assert_eq!(e.field, field, "{line}: {e}");
        }
    }

    #[test]
    fn rfc3339_roundtrip() {
        assert_eq!(format_rfc3339(1442556000.0), "2015-09-18T06:00:00Z");
        assert_eq!(format_rfc3339(1442556000.25), "2015-09-18T06:00:00.250Z");
        assert_eq!(parse_rfc3339("2015-09-18T08:00:00+02:00"), Some(1442556000.0));
    }
}
