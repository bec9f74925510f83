//! Unit tests of strategic deconfliction: [`parse`] (the ASTM F3548 wire form and its errors)
//! and [`geometry`] (overlaps, containment, the index), with the helpers both use.

mod geometry;
mod parse;

use crate::geodesy::{unit_vector, EARTH_RADIUS_M};
use crate::strategic::index::rmax;
use crate::strategic::sphere::{spherical_area_m2, Frame};
use crate::strategic::synth::destination;
pub(super) use crate::strategic::*;
use serde_json::{json, Value};

pub(super) const T0: &str = "2015-09-18T06:00:00Z";
pub(super) const T1: &str = "2015-09-18T08:00:00Z";

pub(super) fn alt(v: f64) -> Value {
    json!({"value": v, "reference": "W84", "units": "M"})
}

pub(super) fn time(s: &str) -> Value {
    json!({"value": s, "format": "RFC3339"})
}

pub(super) fn polygon(pts: &[(f64, f64)]) -> Value {
    let vs: Vec<Value> = pts
        .iter()
        .map(|(lat, lng)| json!({"lat": lat, "lng": lng}))
        .collect();
    json!({"volume": {"outline_polygon": {"vertices": vs},
                      "altitude_lower": alt(0.0), "altitude_upper": alt(3000.0)},
           "time_start": time(T0), "time_end": time(T1)})
}

pub(super) fn circle(lat: f64, lng: f64, r: f64) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng},
                                         "radius": {"value": r, "units": "M"}},
                      "altitude_lower": alt(0.0), "altitude_upper": alt(3000.0)},
           "time_start": time(T0), "time_end": time(T1)})
}

pub(super) const SQUARE: [(f64, f64); 4] = [(35.0, 35.0), (35.0, 35.1), (35.1, 35.1), (35.1, 35.0)];

pub(super) fn parse(v: Value) -> Result<Vec<Volume4D>, FieldError> {
    parse_volumes(&v, "extents", &VolumeLimits::default())
}

/// The field named by the error for one faulty volume (wrapped as `extents[0]`).
pub(super) fn field_of(v: Value) -> String {
    let e = parse(json!([v])).expect_err("must be refused");
    assert!(!e.message.is_empty());
    e.field
}

pub(super) fn set(mut v: Value, path: &[&str], x: Value) -> Value {
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur.as_object_mut()
        .unwrap()
        .insert(path[path.len() - 1].to_string(), x);
    v
}

pub(super) fn remove(mut v: Value, path: &[&str]) -> Value {
    let mut cur = &mut v;
    for k in &path[..path.len() - 1] {
        cur = &mut cur[*k];
    }
    cur.as_object_mut().unwrap().remove(path[path.len() - 1]);
    v
}
