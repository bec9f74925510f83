#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Strategic deconfliction end to end: intents and constraints filed over HTTP to the real
//! `deconflict serve`, conflicts found on filing, GeoJSON, and tracks meeting filings.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::single::{eventually, party, start};
use support::{alerts, call, now, post, Server};

/// Whole seconds, as these tests file them.
fn rfc(t: f64) -> String {
    support::rfc(t.floor())
}

#[allow(clippy::too_many_arguments)]
fn square(lat0: f64, lng0: f64, lat1: f64, lng1: f64, lo: f64, hi: f64, t0: f64, t1: f64) -> Value {
    json!({"volume": {"outline_polygon": {"vertices": [
            {"lat": lat0, "lng": lng0}, {"lat": lat0, "lng": lng1}, {"lat": lat1, "lng": lng1}, {"lat": lat1, "lng": lng0}]},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t1), "format": "RFC3339"}})
}

fn circle(lat: f64, lng: f64, r: f64, lo: f64, hi: f64, t0: f64, t1: f64) -> Value {
    json!({"volume": {"outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": r, "units": "M"}},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t1), "format": "RFC3339"}})
}

fn put(s: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(
        "PUT",
        &format!("{}{path}", s.base),
        Some(token),
        Some(&body.to_string()),
    )
}

/// All longitudes and latitudes of a GeoJSON polygon or multipolygon.
fn coords(g: &Value) -> Vec<(f64, f64)> {
    fn walk(v: &Value, out: &mut Vec<(f64, f64)>) {
        if let Some(a) = v.as_array() {
            if a.len() == 2 && a[0].is_number() && a[1].is_number() {
                out.push((a[0].as_f64().unwrap(), a[1].as_f64().unwrap()));
            } else {
                for x in a {
                    walk(x, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&g["coordinates"], &mut out);
    out
}

#[test]
fn sorties_and_an_exclusion_zone_give_exactly_the_expected_conflicts() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let t0 = (now() / 3600.0).floor() * 3600.0 + 3600.0;
    // The air base's exclusion zone: 10 km round Hmeimim, surface to 3 km, all day; binds all others.
    let (st, r) = put(
        &s,
        &rus,
        "/v1/constraints/hmeimim",
        json!({"extents": [circle(35.401, 35.948, 10_000.0, 0.0, 3000.0, t0, t0 + 86_400.0)],
        "type": "exclusion_zone", "binds": "all_others"}),
    );
    assert_eq!(st, 201, "{r}");
    // RUS sortie: 35.0-35.2 N, 36.0-36.2 E, 3-6 km, t0..t0+2h.
    let (st, r) = put(
        &s,
        &rus,
        "/v1/intents/sortie-a",
        json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 3000.0, 6000.0, t0, t0 + 7200.0)], "priority": 2}),
    );
    assert_eq!(st, 201, "{r}");
    assert!(r["conflicts"].as_array().unwrap().is_empty());
    // COAL sortie: 35.1-35.3 N, 36.1-36.3 E, 5-9 km, t0+1h..t0+3h: overlaps in a 0.1 x 0.1 degree
    // square, 5-6 km, t0+1h..t0+2h.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/sortie-1",
        json!({"extents": [square(35.1, 36.1, 35.3, 36.3, 5000.0, 9000.0, t0 + 3600.0, t0 + 10_800.0)], "priority": 1}),
    );
    assert_eq!(st, 201, "{r}");
    let c = r["conflicts"].as_array().unwrap();
    assert_eq!(c.len(), 1, "{r}");
    assert_eq!(c[0]["other_party"], "RUS");
    assert_eq!(c[0]["other_priority"], 2);
    // The overlap, coarsened (RUS and COAL are of no one coalition): whole 15-minute bins
    // (t0 is on the hour), whole 300 m bins, and H3 cells (about 1.2 km edges) covering the
    // 0.1 x 0.1 degree square.
    let region = &c[0]["overlaps"][0]["region"];
    assert_eq!(region["coarsened"], true, "{region}");
    assert_eq!(region["time_start"], rfc(t0 + 3600.0));
    assert_eq!(region["time_end"], rfc(t0 + 7200.0));
    assert_eq!(
        (region["alt_lower_m"].as_f64(), region["alt_upper_m"].as_f64()),
        (Some(4800.0), Some(6000.0))
    );
    assert!(!region["cells"].as_array().unwrap().is_empty(), "{region}");
    let pts = coords(&region["footprint"]);
    assert!(pts.len() >= 6);
    for (lng, lat) in &pts {
        assert!(
            (36.1 - 0.03..=36.2 + 0.03).contains(lng) && (35.1 - 0.03..=35.2 + 0.03).contains(lat),
            "{lng},{lat}"
        );
    }
    let conflict_id = c[0]["conflict_id"].as_str().unwrap().to_string();
    // RUS is told through its stream: the overlap only, never COAL's whole volume or id.
    let ra = eventually("RUS strategic alert", || {
        alerts(&s, &rus, 0)
            .into_iter()
            .find(|a| a["event"] == "strategic_conflict")
    });
    assert_eq!(ra["conflict_id"], conflict_id.as_str());
    assert_eq!(ra["own_id"], "sortie-a");
    assert_eq!(ra["other_party"], "COAL");
    let text = ra.to_string();
    assert!(!text.contains("sortie-1"), "{text}");
    // No point near COAL's far corner (35.3 N, 36.3 E): only the (coarsened) overlap.
    for (lng, lat) in coords(&ra["overlaps"][0]["region"]["footprint"]) {
        assert!(lng < 36.25 && lat < 35.25, "{lng},{lat} in {text}");
    }
    // A drone orbit entering the exclusion zone is refused, with the overlap, and nothing stored.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/orbit-uav",
        json!({"extents": [circle(35.45, 35.948, 3000.0, 500.0, 1500.0, t0, t0 + 3600.0)]}),
    );
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["field"], "extents");
    let region = &r["conflicts"][0]["overlaps"][0]["region"];
    assert_eq!(
        (region["alt_lower_m"].as_f64(), region["alt_upper_m"].as_f64()),
        (Some(500.0), Some(1500.0))
    );
    let (_, mine) = call("GET", &format!("{}/v1/intents", s.base), Some(&coal), None);
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sortie-1"]);
    let (_, audit) = call("GET", &format!("{}/v1/audit", s.base), Some(&coal), None);
    assert_eq!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "intent.put")
            .count(),
        1
    );
    // Versions: a stale one loses with 409 and the current version.
    let upd = json!({"extents": [square(35.1, 36.1, 35.3, 36.3, 5000.0, 9000.0, t0 + 3600.0, t0 + 10_800.0)], "version": 1});
    assert_eq!(put(&s, &coal, "/v1/intents/sortie-1", upd.clone()).0, 200);
    let (st, r) = put(&s, &coal, "/v1/intents/sortie-1", upd);
    assert_eq!(st, 409, "{r}");
    assert_eq!(r["current_version"], 2);
    // reject_on_conflict: refused with the conflicts, nothing stored.
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/sortie-2",
        json!({"extents": [square(35.05, 36.05, 35.1, 36.1, 4000.0, 4500.0, t0, t0 + 600.0)], "reject_on_conflict": true}),
    );
    assert_eq!(st, 409, "{r}");
    assert_eq!(r["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        call(
            "GET",
            &format!("{}/v1/intents/sortie-2", s.base),
            Some(&coal),
            None
        )
        .0,
        404
    );
    // GeoJSON: COAL sees its own intent and the zone that binds it; none of RUS's intents.
    let (st, g) = call(
        "GET",
        &format!("{}/v1/intents.geojson", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(st, 200);
    let kinds: Vec<&str> = g["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["intent", "constraint_binding_you"]);
    assert!(!g.to_string().contains("sortie-a"));
    let (_, g) = call(
        "GET",
        &format!("{}/v1/conflicts.geojson", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(g["features"].as_array().unwrap().len(), 1);
    assert_eq!(
        g["features"][0]["properties"]["conflict_id"],
        conflict_id.as_str()
    );
    // Bad volumes name the field.
    for (body, f) in [
        (
            json!({"extents": [square(91.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0, t0 + 60.0)]}),
            "extents[0].volume.outline_polygon.vertices[0].lat",
        ),
        (
            json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0 + 60.0, t0)]}),
            "extents[0].time_end",
        ),
        (
            json!({"extents": [{"volume": {"outline_polygon": {"vertices": [{"lat": 35.0, "lng": 36.0}, {"lat": 35.1, "lng": 36.1}, {"lat": 35.0, "lng": 36.1}, {"lat": 35.1, "lng": 36.0}]},
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"}, "altitude_upper": {"value": 10, "reference": "W84", "units": "M"}},
            "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t0 + 60.0), "format": "RFC3339"}}]}),
            "extents[0].volume.outline_polygon",
        ),
        (json!({"extents": []}), "extents"),
        (
            json!({"extents": [square(35.0, 36.0, 35.2, 36.2, 0.0, 1.0, t0, t0 + 60.0)], "state": "flying"}),
            "state",
        ),
    ] {
        let (st, r) = put(&s, &coal, "/v1/intents/bad", body);
        assert_eq!(st, 422, "{r}");
        assert!(r["field"].as_str().unwrap().starts_with(f), "{f}: {r}");
    }
    assert_eq!(
        call("GET", &format!("{}/v1/intents/bad", s.base), Some(&coal), None).0,
        404
    );
    // DELETE ends it: gone from the index, no more conflict.
    let (st, _) = call(
        "DELETE",
        &format!("{}/v1/intents/sortie-1", s.base),
        Some(&coal),
        None,
    );
    assert_eq!(st, 200);
    let (_, g) = call(
        "GET",
        &format!("{}/v1/conflicts.geojson", s.base),
        Some(&rus),
        None,
    );
    assert!(g["features"].as_array().unwrap().is_empty(), "{g}");
}

#[test]
fn simultaneous_conflicting_filings_always_see_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let a = party(tmp.path(), "A");
    let b = party(tmp.path(), "B");
    let t0 = (now() / 3600.0).floor() * 3600.0 + 3600.0;
    let pairs = 50;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2 * pairs));
    let mut handles = Vec::new();
    for i in 0..pairs {
        for (who, tok) in [("A", a.clone()), ("B", b.clone())] {
            let (base, barrier) = (s.base.clone(), barrier.clone());
            let lat = 10.0 + i as f64 * 0.5;
            let off = if who == "A" { 0.0 } else { 0.05 };
            let body = json!({"extents": [square(lat + off, 20.0 + off, lat + 0.1 + off, 20.1 + off, 1000.0, 2000.0, t0, t0 + 3600.0)]});
            handles.push(std::thread::spawn(move || {
                barrier.wait();
                let r = call(
                    "PUT",
                    &format!("{base}/v1/intents/f-{i}"),
                    Some(&tok),
                    Some(&body.to_string()),
                );
                (who, i, r)
            }));
        }
    }
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Each side is told: in the answer to its own filing, or on its alert stream.
    let told_by_alert = |tok: &str| -> std::collections::HashSet<String> {
        alerts(&s, tok, 0)
            .into_iter()
            .filter(|x| x["event"] == "strategic_conflict")
            .map(|x| x["own_id"].as_str().unwrap().to_string())
            .collect()
    };
    std::thread::sleep(Duration::from_millis(300));
    let (ta, tb) = (told_by_alert(&a), told_by_alert(&b));
    for (who, i, (st, r)) in &results {
        assert_eq!(*st, 201, "{who} {i}: {r}");
        let in_answer = !r["conflicts"].as_array().unwrap().is_empty();
        let by_alert = if *who == "A" {
            ta.contains(&format!("f-{i}"))
        } else {
            tb.contains(&format!("f-{i}"))
        };
        assert!(
            in_answer || by_alert,
            "{who}'s filing f-{i} was never told of its conflict"
        );
    }
    // nothing stored twice
    for tok in [&a, &b] {
        let (_, mine) = call("GET", &format!("{}/v1/intents", s.base), Some(tok), None);
        assert_eq!(mine.as_array().unwrap().len(), pairs);
    }
}

#[test]
fn tracks_meet_intents_and_constraints() {
    let tmp = tempfile::tempdir().unwrap();
    let s = start(tmp.path());
    let rus = party(tmp.path(), "RUS");
    let coal = party(tmp.path(), "COAL");
    let t = now();
    let (st, r) = put(
        &s,
        &rus,
        "/v1/constraints/hmeimim",
        json!({"extents": [circle(35.401, 35.948, 10_000.0, 0.0, 3000.0, t - 60.0, t + 3600.0)], "type": "exclusion_zone"}),
    );
    assert_eq!(st, 201, "{r}");
    let (st, r) = put(
        &s,
        &coal,
        "/v1/intents/patrol",
        json!({"extents": [square(34.0, 34.0, 34.2, 34.2, 0.0, 3000.0, t - 60.0, t + 3600.0)], "state": "activated"}),
    );
    assert_eq!(st, 201, "{r}");
    // COAL's drone is inside RUS's exclusion zone, and outside its own activated intent.
    let rep = json!({"asset": "COAL-UAV-3", "time": now(), "lat": 35.41, "lng": 35.95, "alt_m": 800.0, "gs_mps": 30.0, "track_deg": 90.0, "class": "uas_large"});
    assert_eq!(post(&s, &coal, &[rep]).0, 200);
    let (c, r) = eventually("intrusion alerts", || {
        let c = alerts(&s, &coal, 0);
        let r = alerts(&s, &rus, 0);
        (c.iter().any(|a| a["event"] == "constraint_intrusion")
            && r.iter().any(|a| a["event"] == "constraint_intrusion")
            && c.iter().any(|a| a["event"] == "nonconforming"))
        .then_some((c, r))
    });
    let ci = c.iter().find(|a| a["event"] == "constraint_intrusion").unwrap();
    assert_eq!(ci["own_asset"], "COAL-UAV-3");
    assert_eq!(ci["constraint_owner"], "RUS");
    let ri = r.iter().find(|a| a["event"] == "constraint_intrusion").unwrap();
    assert_eq!(ri["own_constraint"], "hmeimim");
    assert_eq!(ri["intruder"]["class"], "uas_large");
    assert!(!ri.to_string().contains("COAL-UAV-3"), "{ri}");
    let nc = c.iter().find(|a| a["event"] == "nonconforming").unwrap();
    assert_eq!(nc["own_asset"], "COAL-UAV-3");
}
