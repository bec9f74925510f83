//! The ASTM F3548 `Volume4D` wire form: validation and writing.

use super::sphere::{angle, footprint_area_m2, normalize, spherical_area_m2, Frame, P2};
use super::{FieldError, Footprint, LatLng, Volume4D, VolumeLimits};
use crate::geodesy::{add, unit_vector, Vec3, EARTH_RADIUS_M, FT_TO_M};
use crate::track::{parse_rfc3339, MAX_ALTITUDE_M, MAX_UNIX_TIME_S, MIN_ALTITUDE_M};
use geo::{Area, ConvexHull, Coord, LineString, Polygon, Validation};
use serde_json::{json, Map, Value};

/// Vertices closer than this (radians, ≈ 0.6 mm) are one vertex.
const SAME_POINT_RAD: f64 = 1e-10;
/// A polygon with less area than this (m²) has zero area.
const MIN_AREA_M2: f64 = 1.0;

use crate::track::type_name;

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

fn object<'a>(v: Option<&'a Value>, field: &str) -> Result<&'a Map<String, Value>, FieldError> {
    match v {
        None | Some(Value::Null) => Err(err(field, "missing: required object")),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(err(
            field,
            format!("wrong type: expected an object, got {}", type_name(other)),
        )),
    }
}

fn number(v: Option<&Value>, field: &str) -> Result<f64, FieldError> {
    match v {
        None | Some(Value::Null) => Err(err(field, "missing: required number")),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(err(field, "not finite: number out of range")),
        },
        Some(other) => Err(err(
            field,
            format!("wrong type: expected a number, got {}", type_name(other)),
        )),
    }
}

fn string<'a>(v: Option<&'a Value>, field: &str) -> Result<&'a str, FieldError> {
    match v {
        None | Some(Value::Null) => Err(err(field, "missing: required string")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(err(
            field,
            format!("wrong type: expected a string, got {}", type_name(other)),
        )),
    }
}

fn lat_lng(v: Option<&Value>, field: &str) -> Result<LatLng, FieldError> {
    let o = object(v, field)?;
    let lat_f = format!("{field}.lat");
    let lng_f = format!("{field}.lng");
    let lat = number(o.get("lat"), &lat_f)?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err(err(
            &lat_f,
            format!("out of range: latitude must be within [-90, 90], got {lat}"),
        ));
    }
    let lng = number(o.get("lng"), &lng_f)?;
    if !(-180.0..=180.0).contains(&lng) {
        return Err(err(
            &lng_f,
            format!("out of range: longitude must be within [-180, 180], got {lng}"),
        ));
    }
    Ok(LatLng { lat, lng })
}

/// An ASTM `Altitude`, in metres.
fn altitude(v: Option<&Value>, field: &str) -> Result<f64, FieldError> {
    let o = object(v, field)?;
    let value = number(o.get("value"), &format!("{field}.value"))?;
    let reference = string(o.get("reference"), &format!("{field}.reference"))?;
    if reference != "W84" {
        return Err(err(
            &format!("{field}.reference"),
            format!("unknown reference {reference:?}: only \"W84\" is supported"),
        ));
    }
    let units = string(o.get("units"), &format!("{field}.units"))?;
    match units {
        "M" => Ok(value),
        "FT" => Ok(value * FT_TO_M),
        _ => Err(err(
            &format!("{field}.units"),
            format!("unknown units {units:?}: expected \"M\" or \"FT\""),
        )),
    }
}

/// An ASTM `Time`: `{"value": RFC 3339, "format": "RFC3339"}` (`format` may be left out).
fn time(v: Option<&Value>, field: &str) -> Result<f64, FieldError> {
    let o = object(v, field)?;
    if let Some(f) = o.get("format") {
        let f = string(Some(f), &format!("{field}.format"))?;
        if f != "RFC3339" {
            return Err(err(
                &format!("{field}.format"),
                format!("unknown format {f:?}: expected \"RFC3339\""),
            ));
        }
    }
    let vf = format!("{field}.value");
    let s = string(o.get("value"), &vf)?;
    let t = parse_rfc3339(s).ok_or_else(|| {
        err(
            &vf,
            format!("bad time: {s:?} is not RFC 3339 (e.g. 2015-09-18T06:00:00Z)"),
        )
    })?;
    // The window of track reports. It also keeps every time writable: an offset can carry a
    // year-0000 or year-9999 time out of the years RFC 3339 has, which `format_time` would
    // write as text no parser reads back.
    if !(0.0..=MAX_UNIX_TIME_S).contains(&t) {
        return Err(err(
            &vf,
            format!("out of range: {s:?} is not between 1970-01-01T00:00:00Z and 3000-01-01T00:00:00Z"),
        ));
    }
    Ok(t)
}

fn polygon(o: &Map<String, Value>, field: &str, limits: &VolumeLimits) -> Result<Footprint, FieldError> {
    let vf = format!("{field}.vertices");
    let list = match o.get("vertices") {
        None | Some(Value::Null) => return Err(err(&vf, "missing: required list of vertices")),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(err(
                &vf,
                format!("wrong type: expected an array, got {}", type_name(other)),
            ))
        }
    };
    if list.len() > limits.max_vertices + 1 {
        return Err(err(
            &vf,
            format!(
                "too many vertices: {} (limit {})",
                list.len(),
                limits.max_vertices
            ),
        ));
    }
    let mut pts: Vec<LatLng> = Vec::with_capacity(list.len());
    let mut units: Vec<Vec3> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let p = lat_lng(Some(v), &format!("{vf}[{i}]"))?;
        let u = unit_vector(p.lat, p.lng);
        // Repeated consecutive vertices (and a closing copy of the first) are one vertex.
        if units.last().is_some_and(|l| angle(*l, u) < SAME_POINT_RAD) {
            continue;
        }
        pts.push(p);
        units.push(u);
    }
    while units.len() > 1 && angle(units[0], units[units.len() - 1]) < SAME_POINT_RAD {
        units.pop();
        pts.pop();
    }
    if units.len() > limits.max_vertices {
        return Err(err(
            &vf,
            format!(
                "too many vertices: {} (limit {})",
                units.len(),
                limits.max_vertices
            ),
        ));
    }
    if units.len() < 3 {
        return Err(err(
            &vf,
            format!(
                "too few vertices: {} distinct, at least 3 are required",
                units.len()
            ),
        ));
    }
    let sum = units.iter().fold([0.0; 3], |s, p| add(s, *p));
    let c = normalize(sum).unwrap_or(units[0]);
    let radius_m = units.iter().map(|p| angle(c, *p)).fold(0.0, f64::max) * EARTH_RADIUS_M;
    if !(radius_m <= limits.max_radius_m) {
        return Err(err(
            field,
            format!(
                "too large: a vertex is {:.0} m from the outline's centre (limit {} m)",
                radius_m, limits.max_radius_m
            ),
        ));
    }
    // Edges are great-circle arcs, which the gnomonic plane at the centre shows as straight
    // lines: the outline is simple on the sphere exactly when it is simple there.
    let f = Frame::new(c);
    let ring: Vec<P2> = units.iter().map(|p| f.fwd(*p)).collect();
    let mut cs: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    cs.push(cs[0]);
    let outline = Polygon::new(LineString(cs), vec![]);
    // All vertices on (nearly) one line: report the zero area, not the edges folding back.
    let hull = outline.convex_hull().unsigned_area();
    if !(hull >= MIN_AREA_M2) {
        return Err(err(
            &vf,
            format!("zero area: the vertices lie on one line (at least {MIN_AREA_M2} m² is required)"),
        ));
    }
    if outline.check_validation().is_err() {
        return Err(err(
            &vf,
            "self-intersecting outline: edges cross or touch each other",
        ));
    }
    let area = spherical_area_m2(c, &units);
    if !(area >= MIN_AREA_M2) {
        return Err(err(
            &vf,
            format!("zero area: the outline encloses {area:.3} m² (at least {MIN_AREA_M2} m² is required)"),
        ));
    }
    if area > limits.max_area_km2 * 1e6 {
        return Err(err(
            field,
            format!(
                "too large: area {:.1} km² (limit {} km²)",
                area / 1e6,
                limits.max_area_km2
            ),
        ));
    }
    Ok(Footprint::Polygon(pts))
}

fn circle(o: &Map<String, Value>, field: &str, limits: &VolumeLimits) -> Result<Footprint, FieldError> {
    let center = lat_lng(o.get("center"), &format!("{field}.center"))?;
    let rf = format!("{field}.radius");
    let r = object(o.get("radius"), &rf)?;
    let value = number(r.get("value"), &format!("{rf}.value"))?;
    let units = string(r.get("units"), &format!("{rf}.units"))?;
    if units != "M" {
        return Err(err(
            &format!("{rf}.units"),
            format!("unknown units {units:?}: expected \"M\""),
        ));
    }
    if !(value > 0.0) {
        return Err(err(
            &format!("{rf}.value"),
            format!("not positive: the radius must be above 0 m, got {value}"),
        ));
    }
    if value > limits.max_radius_m {
        return Err(err(
            &format!("{rf}.value"),
            format!("too large: radius {value} m (limit {} m)", limits.max_radius_m),
        ));
    }
    // Area of the spherical cap.
    let a = value / EARTH_RADIUS_M;
    let area = 2.0 * std::f64::consts::PI * EARTH_RADIUS_M * EARTH_RADIUS_M * (1.0 - a.cos());
    if area > limits.max_area_km2 * 1e6 {
        return Err(err(
            &format!("{rf}.value"),
            format!(
                "too large: area {:.1} km² (limit {} km²)",
                area / 1e6,
                limits.max_area_km2
            ),
        ));
    }
    Ok(Footprint::Circle {
        center,
        radius_m: value,
    })
}

fn volume4d(v: &Value, field: &str, limits: &VolumeLimits) -> Result<Volume4D, FieldError> {
    let o = object(Some(v), field)?;
    let vf = format!("{field}.volume");
    let vol = object(o.get("volume"), &vf)?;
    let present = |k: &str| vol.get(k).is_some_and(|x| !x.is_null());
    let footprint = match (present("outline_polygon"), present("outline_circle")) {
        (true, true) => {
            return Err(err(
                &vf,
                "both outline_polygon and outline_circle: give exactly one",
            ))
        }
        (false, false) => {
            return Err(err(
                &vf,
                "missing: one of outline_polygon or outline_circle is required",
            ))
        }
        (true, false) => {
            let pf = format!("{vf}.outline_polygon");
            polygon(object(vol.get("outline_polygon"), &pf)?, &pf, limits)?
        }
        (false, true) => {
            let cf = format!("{vf}.outline_circle");
            circle(object(vol.get("outline_circle"), &cf)?, &cf, limits)?
        }
    };
    let lower_f = format!("{vf}.altitude_lower");
    let alt_lower_m = altitude(vol.get("altitude_lower"), &lower_f)?;
    let upper_f = format!("{vf}.altitude_upper");
    let alt_upper_m = altitude(vol.get("altitude_upper"), &upper_f)?;
    for (f, a) in [(&lower_f, alt_lower_m), (&upper_f, alt_upper_m)] {
        if !(MIN_ALTITUDE_M..=MAX_ALTITUDE_M).contains(&a) {
            return Err(err(
                &format!("{f}.value"),
                format!("out of range: an altitude must be within [{MIN_ALTITUDE_M}, {MAX_ALTITUDE_M}] m, got {a} m"),
            ));
        }
    }
    if alt_lower_m >= alt_upper_m {
        return Err(err(
            &lower_f,
            format!("must be below altitude_upper: {alt_lower_m} m is not below {alt_upper_m} m"),
        ));
    }
    let time_start = time(o.get("time_start"), &format!("{field}.time_start"))?;
    let end_f = format!("{field}.time_end");
    let time_end = time(o.get("time_end"), &end_f)?;
    if time_end <= time_start {
        return Err(err(&end_f, "must be after time_start"));
    }
    if time_end - time_start > limits.max_duration_s {
        return Err(err(
            &end_f,
            format!(
                "too long: the volume lasts {} s (limit {} s)",
                time_end - time_start,
                limits.max_duration_s
            ),
        ));
    }
    Ok(Volume4D {
        footprint,
        alt_lower_m,
        alt_upper_m,
        time_start,
        time_end,
    })
}

/// Parses and validates a list of ASTM F3548 `Volume4D` objects.
///
/// The shape (the part of ASTM F3548 `Volume4D` that is read): `{"volume": {"outline_polygon": {"vertices": [{"lat", "lng"}, ..]}
/// | "outline_circle": {"center": {"lat", "lng"}, "radius": {"value", "units": "M"}},
/// "altitude_lower": {"value", "reference": "W84", "units": "M" | "FT"}, "altitude_upper": ..},
/// "time_start": {"value": RFC 3339, "format": "RFC3339"}, "time_end": ..}`. Unknown fields are
/// ignored; `format` may be left out.
///
/// The first fault found is returned, naming its field under `field_prefix`, e.g.
/// `extents[2].volume.outline_polygon.vertices[3].lat`. Refused: a value that is not a
/// non-empty list or holds more than `max_volumes`; missing fields and wrong types;
/// |lat| > 90, |lng| > 180; both or neither of polygon and circle; fewer than 3 distinct
/// vertices (repeated consecutive vertices and a closing copy of the first count once) or more
/// than `max_vertices`; a self-intersecting or self-touching outline; less than 1 m² of area;
/// more area than `max_area_km2`; a radius ≤ 0 or above `max_radius_m`, or a polygon vertex
/// farther than that from the outline's centre; units other than `M`/`FT` (a radius: `M`);
/// a reference other than `W84`; a time before 1970 or after 3000 (UTC, as for track
/// reports); `altitude_lower ≥ altitude_upper`; `time_end ≤ time_start`; a volume longer than
/// `max_duration_s`.
///
/// Polygon edges are great-circle arcs and the polygon is the smaller region, so an outline
/// across the antimeridian (179.5 → -179.5) is the narrow polygon there. Vertices are kept as
/// given (less repeats), so [`Volume4D::to_astm_json`] writes them back unchanged.
pub fn parse_volumes(
    v: &Value,
    field_prefix: &str,
    limits: &VolumeLimits,
) -> Result<Vec<Volume4D>, FieldError> {
    let list = match v {
        Value::Array(a) => a,
        Value::Null => return Err(err(field_prefix, "missing: a list of Volume4D is required")),
        other => {
            return Err(err(
                field_prefix,
                format!(
                    "wrong type: expected a list of Volume4D, got {}",
                    type_name(other)
                ),
            ))
        }
    };
    if list.is_empty() {
        return Err(err(field_prefix, "empty: at least one Volume4D is required"));
    }
    if list.len() > limits.max_volumes {
        return Err(err(
            field_prefix,
            format!("too many volumes: {} (limit {})", list.len(), limits.max_volumes),
        ));
    }
    // Counted before anything is parsed, so an oversized filing costs no geometry.
    let total: usize = list
        .iter()
        .filter_map(|x| {
            x.pointer("/volume/outline_polygon/vertices")?
                .as_array()
                .map(Vec::len)
        })
        .sum();
    if total > limits.max_total_vertices {
        return Err(err(
            field_prefix,
            format!(
                "too many vertices in all: {total} (limit {} for all volumes together)",
                limits.max_total_vertices
            ),
        ));
    }
    let volumes = list
        .iter()
        .enumerate()
        .map(|(i, x)| volume4d(x, &format!("{field_prefix}[{i}]"), limits))
        .collect::<Result<Vec<_>, _>>()?;
    let area_m2: f64 = volumes.iter().map(|v| footprint_area_m2(&v.footprint)).sum();
    if area_m2 > limits.max_total_area_km2 * 1e6 {
        return Err(err(
            field_prefix,
            format!(
                "too large in all: {:.1} km² (limit {} km² for all volumes together)",
                area_m2 / 1e6,
                limits.max_total_area_km2
            ),
        ));
    }
    Ok(volumes)
}

/// Checks parsed volumes against the clock: none may have ended more than
/// `limits.max_ended_s` before `now` or start more than `limits.max_lead_s` after it. Kept out
/// of [`parse_volumes`] so that filings stored earlier still load after they have ended.
pub fn check_volume_times(
    volumes: &[Volume4D],
    field_prefix: &str,
    now: f64,
    limits: &VolumeLimits,
) -> Result<(), FieldError> {
    for (i, v) in volumes.iter().enumerate() {
        if v.time_end < now - limits.max_ended_s {
            return Err(err(
                &format!("{field_prefix}[{i}].time_end"),
                format!(
                    "ended: {} is more than {} s before the server clock ({})",
                    format_time(v.time_end),
                    limits.max_ended_s,
                    format_time(now)
                ),
            ));
        }
        if v.time_start > now + limits.max_lead_s {
            return Err(err(
                &format!("{field_prefix}[{i}].time_start"),
                format!(
                    "too far ahead: {} is more than {} s after the server clock ({})",
                    format_time(v.time_start),
                    limits.max_lead_s,
                    format_time(now)
                ),
            ));
        }
    }
    Ok(())
}

/// Unix seconds as RFC 3339 in UTC, with as many fractional digits as needed (up to 9), so
/// that [`crate::track::parse_rfc3339`] reads back the same instant to the nanosecond.
pub fn format_time(t: f64) -> String {
    let secs = t.floor();
    let mut nanos = ((t - secs) * 1e9).round() as i64;
    let mut secs = secs as i64;
    if nanos >= 1_000_000_000 {
        secs += 1;
        nanos -= 1_000_000_000;
    }
    match chrono::DateTime::from_timestamp(secs, nanos as u32) {
        Some(dt) if nanos == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) if nanos % 1_000_000 == 0 => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string(),
        None => format!("{t}"),
    }
}

pub(crate) fn to_astm_json(v: &Volume4D) -> Value {
    let mut volume = Map::new();
    match &v.footprint {
        Footprint::Polygon(pts) => {
            let vertices: Vec<Value> = pts.iter().map(|p| json!({"lat": p.lat, "lng": p.lng})).collect();
            volume.insert("outline_polygon".into(), json!({ "vertices": vertices }));
        }
        Footprint::Circle { center, radius_m } => {
            volume.insert(
                "outline_circle".into(),
                json!({"center": {"lat": center.lat, "lng": center.lng},
                       "radius": {"value": radius_m, "units": "M"}}),
            );
        }
    }
    volume.insert(
        "altitude_lower".into(),
        json!({"value": v.alt_lower_m, "reference": "W84", "units": "M"}),
    );
    volume.insert(
        "altitude_upper".into(),
        json!({"value": v.alt_upper_m, "reference": "W84", "units": "M"}),
    );
    json!({
        "volume": Value::Object(volume),
        "time_start": {"value": format_time(v.time_start), "format": "RFC3339"},
        "time_end": {"value": format_time(v.time_end), "format": "RFC3339"},
    })
}

impl Volume4D {
    /// The ASTM F3548 wire form (metres, `W84`, RFC 3339 to the nanosecond).
    /// [`parse_volumes`] reads it back to an equal volume.
    pub fn to_astm_json(&self) -> serde_json::Value {
        to_astm_json(self)
    }
}
