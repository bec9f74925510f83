#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! A probing party against the disclosure policy (docs/security.md), over HTTP to a real
//! `deconflict serve`: a huge `reject_on_conflict` probe learns only the coarsened overlap, the
//! party probed is told, the disclosure is on the record, and a sweep is stopped by the budget.
//! Parties of one coalition still see each other's overlaps exactly.

mod support;

use serde_json::{json, Value};
use support::single::{cli, eventually, party, start_with};
use support::{alerts, call, now, put, rfc};

fn polygon(vertices: &[(f64, f64)], lo: f64, hi: f64, t0: f64, t1: f64) -> Value {
    let v: Vec<Value> = vertices
        .iter()
        .map(|(lat, lng)| json!({"lat": lat, "lng": lng}))
        .collect();
    json!({"volume": {"outline_polygon": {"vertices": v},
          "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": hi, "reference": "W84", "units": "M"}},
         "time_start": {"value": rfc(t0), "format": "RFC3339"}, "time_end": {"value": rfc(t1), "format": "RFC3339"}})
}

/// Alpha's secret sortie: a pentagon near Latakia, 1,234-2,345 m, 75 minutes from t0.
const PENTAGON: [(f64, f64); 5] = [
    (35.4012, 35.9034),
    (35.4231, 35.9517),
    (35.4519, 35.9633),
    (35.4627, 35.9212),
    (35.4338, 35.8841),
];

fn probe_volume(t0: f64) -> Value {
    // About 250 km x 270 km, -900 to 29,000 m, 6.9 days.
    polygon(
        &[(34.3, 34.5), (34.3, 37.3), (36.6, 37.3), (36.6, 34.5)],
        -900.0,
        29_000.0,
        t0 - 60.0,
        t0 - 60.0 + 6.9 * 86_400.0,
    )
}

fn numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.extend(n.as_f64()),
        Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
        Value::Object(m) => m.values().for_each(|x| numbers(x, out)),
        _ => {}
    }
}

/// Asserts that `v` holds none of the pentagon's vertices, altitudes or times, nor its purpose.
fn reveals_nothing_exact(v: &Value, t0: f64) {
    let text = v.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    for t in [t0 + 600.0, t0 + 600.0 + 4500.0] {
        assert!(!text.contains(&rfc(t)), "exact time {} in {text}", rfc(t));
    }
    let mut ns = Vec::new();
    numbers(v, &mut ns);
    for x in [1234.0, 2345.0] {
        assert!(!ns.contains(&x), "altitude {x} in {text}");
    }
    for (lat, lng) in PENTAGON {
        assert!(
            !(ns.iter().any(|n| (n - lat).abs() < 1e-6) && ns.iter().any(|n| (n - lng).abs() < 1e-6)),
            "vertex {lat},{lng} in {text}"
        );
    }
}

#[test]
fn a_probe_learns_only_the_coarsened_overlap_and_is_told_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "[disclosure]\nper_party_per_hour = 4\n");
    let alpha = party(dir.path(), "ALPHA");
    let bravo = party(dir.path(), "BRAVO");
    let t0 = now().floor();
    let sortie = json!({"extents": [polygon(&PENTAGON, 1234.0, 2345.0, t0 + 600.0, t0 + 600.0 + 4500.0)],
                        "purpose": "SECRET"});
    let (st, v) = put(&s, &alpha, "/v1/intents/sortie", &sortie);
    assert_eq!(st, 201, "{v}");
    let (_, before) = call("GET", &format!("{}/v1/audit", s.base), Some(&bravo), None);
    let before = before["entries"].as_array().unwrap().len();

    // The probe: refused (nothing stored), with the overlap coarsened.
    let probe = json!({"extents": [probe_volume(t0)], "reject_on_conflict": true});
    let (st, v) = put(&s, &bravo, "/v1/intents/probe", &probe);
    assert_eq!(st, 409, "{v}");
    let region = &v["conflicts"][0]["overlaps"][0]["region"];
    assert_eq!(region["coarsened"], true, "{v}");
    assert!(!region["cells"].as_array().unwrap().is_empty(), "{v}");
    reveals_nothing_exact(&v, t0);
    assert_eq!(
        call("GET", &format!("{}/v1/intents/probe", s.base), Some(&bravo), None).0,
        404
    );

    // Alpha is told: what was disclosed, by whom, and that the filing was not kept.
    let told = eventually("alpha's disclosure alert", || {
        alerts(&s, &alpha, 0)
            .into_iter()
            .find(|a| a["event"] == "strategic_conflict")
    });
    assert_eq!(told["stored"], false, "{told}");
    assert_eq!(told["other_party"], "BRAVO");
    assert_eq!(told["own_id"], "sortie");
    assert_eq!(
        told["overlaps"][0]["region"], *region,
        "both sides see the same disclosure"
    );
    assert_eq!(told["conflict_id"], v["conflicts"][0]["conflict_id"]);

    // On the record: a disclosure entry on bravo's audit view, with the digest of what it got.
    let (_, after) = call("GET", &format!("{}/v1/audit", s.base), Some(&bravo), None);
    let entries = after["entries"].as_array().unwrap();
    assert!(entries.len() > before, "{after}");
    let d = entries
        .iter()
        .find(|e| e["kind"] == "disclosure")
        .expect("a disclosure entry");
    assert_eq!(d["body"]["about"], "ALPHA", "{d}");
    assert_eq!(d["body"]["stored"], false, "{d}");
    assert_eq!(d["body"]["conflict_id"], v["conflicts"][0]["conflict_id"]);
    let digest = deconflict_store::sha256_hex(v["conflicts"][0]["overlaps"].to_string().as_bytes());
    assert_eq!(d["body"]["digest"], digest.as_str());

    // A sweep of small probes: each is told to alpha, and past the budget (4 an hour in this
    // test) the next is refused with 429 and discloses nothing.
    let mut refused = None;
    for i in 0..6 {
        let lat = PENTAGON[0].0 + 0.005 * f64::from(i);
        let small = polygon(
            &[
                (lat, 35.89),
                (lat, 35.96),
                (lat + 0.02, 35.96),
                (lat + 0.02, 35.89),
            ],
            1000.0,
            3000.0,
            t0,
            t0 + 7200.0,
        );
        let (st, v) = put(
            &s,
            &bravo,
            &format!("/v1/intents/p{i}"),
            &json!({"extents": [small], "reject_on_conflict": true}),
        );
        if st == 429 {
            assert_eq!(v["field"], "disclosure_budget", "{v}");
            assert!(v.get("conflicts").is_none(), "{v}");
            refused = Some(i);
            break;
        }
        assert_eq!(st, 409, "{v}");
        reveals_nothing_exact(&v, t0);
    }
    // The big probe spent one; three small ones fit.
    assert_eq!(refused, Some(3));
    let told: Vec<Value> = alerts(&s, &alpha, 0)
        .into_iter()
        .filter(|a| a["event"] == "strategic_conflict")
        .collect();
    assert_eq!(told.len(), 4, "alpha sees every probe that disclosed something");
    let (_, after) = call("GET", &format!("{}/v1/audit", s.base), Some(&bravo), None);
    let kinds: Vec<&str> = after["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "disclosure").count(),
        4,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "disclosure.refused").count(),
        1,
        "{kinds:?}"
    );
    // Alpha's own filings are not limited by bravo's budget.
    let (st, v) = put(
        &s,
        &alpha,
        "/v1/intents/sortie-2",
        &json!({"extents": [probe_volume(t0)]}),
    );
    assert_eq!(st, 201, "{v}");
}

#[test]
fn members_of_one_coalition_see_each_others_overlap_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(dir.path(), "");
    let lead = party(dir.path(), "LEAD");
    cli(dir.path(), &["party", "add", "MEMBER", "--member-of", "LEAD"]);
    let member = cli(dir.path(), &["token", "issue", "MEMBER"]);
    let other = party(dir.path(), "STATE");
    let t0 = now().floor();
    let sortie = json!({"extents": [polygon(&PENTAGON, 1234.0, 2345.0, t0 + 600.0, t0 + 5100.0)]});
    assert_eq!(put(&s, &lead, "/v1/intents/sortie", &sortie).0, 201);
    let (st, v) = put(
        &s,
        &member,
        "/v1/intents/cover",
        &json!({"extents": [probe_volume(t0)]}),
    );
    assert_eq!(st, 201, "{v}");
    let region = &v["conflicts"][0]["overlaps"][0]["region"];
    assert_eq!(region["coarsened"], false, "{v}");
    assert_eq!(region["alt_lower_m"], 1234.0);
    assert_eq!(region["time_start"], rfc(t0 + 600.0));
    // The same volume from outside the coalition: coarsened, against both coalition filings.
    let (st, v) = put(
        &s,
        &other,
        "/v1/intents/look",
        &json!({"extents": [probe_volume(t0)]}),
    );
    assert_eq!(st, 201, "{v}");
    let conflicts = v["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 2, "{v}");
    for c in conflicts {
        assert_eq!(c["overlaps"][0]["region"]["coarsened"], true, "{c}");
    }
    reveals_nothing_exact(&v, t0);
}
