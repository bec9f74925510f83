//! Volume4D filings: the bytes as a request body (parsed as JSON as the service does). An
//! array goes to `parse_volumes` (the ASTM F3548 `Volume4D` list); an object to
//! `parse_request` as an intent and as a constraint (`PUT /v1/intents/{id}`,
//! `/v1/constraints/{id}`).
//!
//! Invariant: what is accepted writes back (`Volume4D::to_astm_json`) to a form that re-parses
//! to equal volumes (the documented round trip), and a filing with its extents written back
//! re-parses to the same request. The overlaps of accepted volumes (each with itself and with
//! the next) are coarsened as a disclosure would be: no panic, at most `max_cells` H3 cells
//! (but at resolution 0), and a footprint (the cells' outline, or their hexagons) of at least
//! one and at most one polygon per cell, every coordinate within longitude and latitude range.
#![no_main]

use deconflict_core::strategic::{overlap, parse_volumes, Volume4D, VolumeLimits};
use deconflict_server::fuzzing::{parse_request, DisclosurePolicy, FilingKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn written(volumes: &[Volume4D]) -> Value {
    Value::Array(volumes.iter().map(Volume4D::to_astm_json).collect())
}

fn reparse(volumes: &[Volume4D], limits: &VolumeLimits) {
    let w = written(volumes);
    let back = parse_volumes(&w, "extents", limits).unwrap_or_else(|e| panic!("{e:?} re-parsing {w}"));
    assert_eq!(back, volumes, "round trip through {w}");
}

fn coarsen(volumes: &[Volume4D]) {
    let policy = DisclosurePolicy::default();
    for (i, a) in volumes.iter().enumerate().take(4) {
        for b in [Some(a), volumes.get(i + 1)].into_iter().flatten() {
            let Some(o) = overlap(a, b) else { continue };
            let d = policy.disclose(&o, false);
            let cells = d["cells"].as_array().map_or(0, Vec::len);
            assert!(
                cells <= policy.max_cells || d["h3_resolution"] == 0,
                "{cells} cells: {d}"
            );
            let polygons = d["footprint"]["coordinates"].as_array().map_or(0, Vec::len);
            assert!(polygons <= cells && (polygons > 0) == (cells > 0), "{d}");
            let points = d["footprint"]["coordinates"].as_array().into_iter().flatten();
            for ring in points.flat_map(|p| p.as_array().into_iter().flatten()) {
                for pt in ring.as_array().into_iter().flatten() {
                    let (lng, lat) = (
                        pt[0].as_f64().unwrap_or(f64::NAN),
                        pt[1].as_f64().unwrap_or(f64::NAN),
                    );
                    assert!(lng.abs() <= 180.0 && lat.abs() <= 90.0, "{pt} in {d}");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let limits = VolumeLimits::default();
    match &v {
        Value::Array(_) => {
            if let Ok(volumes) = parse_volumes(&v, "extents", &limits) {
                reparse(&volumes, &limits);
                coarsen(&volumes);
            }
        }
        Value::Object(_) => {
            for kind in [FilingKind::Intent, FilingKind::Constraint] {
                let Ok(req) = parse_request(kind, "fuzz-1", &v, &limits) else {
                    continue;
                };
                reparse(&req.volumes, &limits);
                let mut body = v.clone();
                body["extents"] = written(&req.volumes);
                let again = parse_request(kind, "fuzz-1", &body, &limits)
                    .unwrap_or_else(|e| panic!("{e:?} re-parsing {body}"));
                assert_eq!(again.volumes, req.volumes);
                assert_eq!(
                    (
                        again.state,
                        again.priority,
                        again.version,
                        again.reject_on_conflict
                    ),
                    (req.state, req.priority, req.version, req.reject_on_conflict)
                );
                assert_eq!((again.disclose_name, again.binds), (req.disclose_name, req.binds));
            }
        }
        _ => {}
    }
});
