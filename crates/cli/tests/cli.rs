#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! End-to-end tests of the `deconflict` binary: real files in, real output parsed.

use flate2::read::GzDecoder;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deconflict"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn report(asset: &str, time: f64, lat: f64, lng: f64, alt: f64, gs: f64, trk: f64, class: &str) -> String {
    format!(
        r#"{{"asset":"{asset}","time":{time},"lat":{lat},"lng":{lng},"alt_m":{alt},"gs_mps":{gs},"track_deg":{trk},"vs_mps":0,"class":"{class}"}}"#
    )
}

#[test]
fn detect_prints_sorted_pairs_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("snap.jsonl");
    // 1 degree of latitude is 111.2 km. ZULU and ALPHA converge head-on at the same altitude,
    // 20 km apart: CPA in 50 s. MIKE is far away. OLD is stale. Line 4 and 6 are bad.
    let t = 1_442_556_000.0;
    let text = [
        report("ZULU", t, 35.0, 35.0, 3000.0, 200.0, 0.0, "fixed_wing"),
        report(
            "ALPHA",
            t,
            35.0 + 20_000.0 / 111_195.0,
            35.0,
            3000.0,
            200.0,
            180.0,
            "fixed_wing",
        ),
        report("MIKE", t, 10.0, 10.0, 3000.0, 200.0, 0.0, "fixed_wing"),
        r#"{"asset":"BAD","time":0,"lat":95,"lng":0,"alt_m":0,"gs_mps":0,"track_deg":0}"#.to_string(),
        report("OLD", t - 60.0, 35.0, 35.0, 3000.0, 200.0, 0.0, "fixed_wing"),
        "{not json".to_string(),
        // an older report of ALPHA must not replace the newer one
        report("ALPHA", t - 5.0, 0.0, 0.0, 3000.0, 200.0, 180.0, "fixed_wing"),
    ]
    .join("\n");
    std::fs::write(&f, text).unwrap();
    let out = bin().arg("detect").arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 4: field \"lat\""), "{stderr}");
    assert!(stderr.contains("line 6: field \"json\""), "{stderr}");
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 1, "{got:?}");
    let c = &got[0];
    assert_eq!(c["a"], "ALPHA");
    assert_eq!(c["b"], "ZULU");
    assert!((c["tcpa_s"].as_f64().unwrap() - 50.0).abs() < 0.01, "{c}");
    assert!(
        (c["tin_s"].as_f64().unwrap() - (20_000.0 - 9260.0) / 400.0).abs() < 0.05,
        "{c}"
    );
    assert_eq!(c["los"], false);
    assert_eq!(c["level"], 2);

    // With a uniform 1 km standard the pair still conflicts, and OLD within a big max age too.
    let out = bin()
        .args([
            "detect",
            "--radius-m",
            "1000",
            "--half-height-m",
            "100",
            "--lookahead-s",
            "60",
            "--max-age-s",
            "120",
        ])
        .arg(&f)
        .output()
        .unwrap();
    let got = lines(&out.stdout);
    let pairs: Vec<(String, String)> = got
        .iter()
        .map(|c| (c["a"].as_str().unwrap().into(), c["b"].as_str().unwrap().into()))
        .collect();
    // OLD flew 60 s north at 200 m/s to 12 km north of ZULU's start: ALPHA, OLD and ZULU meet.
    assert!(pairs.contains(&("ALPHA".into(), "ZULU".into())), "{pairs:?}");
    assert!(pairs.iter().all(|(a, b)| a < b));
    let mut sorted = pairs.clone();
    sorted.sort();
    assert_eq!(pairs, sorted);
}

#[test]
fn bad_options_fail_with_a_message() {
    let out = bin()
        .args(["detect", "/nonexistent/file.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let out = bin().args(["detect", "x", "--radius-m", "5"]).output().unwrap();
    assert!(!out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.toml");
    std::fs::write(
        &t,
        "[[pair]]\nclasses=[\"manned\",\"manned\"]\nradius_m=1\nhalf_height_m=1\nlookahead_s=1\n",
    )
    .unwrap();
    let out = bin()
        .args(["detect", "--table"])
        .arg(&t)
        .arg(repo().join("scenarios/latakia-2015.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [[pair]] rule covers"));
}

/// Seconds that no duration can hold (infinite, 1e300, negative, not a number) are refused by
/// name when the command line is read; they used to panic a bridge at its first sleep.
#[test]
fn seconds_options_out_of_range_are_refused_by_name() {
    for (args, flag) in [
        (
            &["feed", "cot", "--listen", "127.0.0.1:0", "--idle-s", "inf"][..],
            "--idle-s",
        ),
        (
            &["feed", "cot", "--event-timeout-s", "1e300"][..],
            "--event-timeout-s",
        ),
        (&["feed", "cot-out", "--refresh-s", "1e300"][..], "--refresh-s"),
        (&["feed", "cot-out", "--status-s=-1"][..], "--status-s"),
        (&["feed", "sbs", "127.0.0.1:1", "--idle-s", "NaN"][..], "--idle-s"),
        (
            &["feed", "beast", "127.0.0.1:1", "--status-s", "soon"][..],
            "--status-s",
        ),
        (&["bench", "attack", "--seconds", "inf"][..], "--seconds"),
    ] {
        let out = bin().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

fn replay(file: &Path, extra: &[&str]) -> (Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("episodes.jsonl");
    let out = bin()
        .arg("replay")
        .arg(file)
        .arg("--out")
        .arg(&out_path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    (lines(&std::fs::read(&out_path).unwrap()), stderr)
}

fn los_pairs(episodes: &[Value]) -> BTreeSet<(String, String)> {
    episodes
        .iter()
        .filter(|e| e["los"] == true)
        .map(|e| {
            (
                e["a"].as_str().unwrap().to_string(),
                e["b"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn replay_of_the_latakia_scenario_finds_every_planned_encounter() {
    let (eps, stderr) = replay(&repo().join("scenarios/latakia-2015.jsonl"), &[]);
    assert!(stderr.contains("replay summary"), "{stderr}");
    assert!(stderr.contains("losses of separation"), "{stderr}");
    let los = los_pairs(&eps);
    let expected = [
        ("COAL-F16-01", "RUS-SU30-04"),  // fixed_wing vs fixed_wing
        ("COAL-MQ9-01", "RUS-SU34-05"),  // uas_large vs fixed_wing
        ("COAL-MQ9-02", "RUS-MI8-01"),   // uas_large vs rotorcraft
        ("COAL-HH60-01", "RUS-MI24-02"), // rotorcraft vs rotorcraft
        ("COAL-QUAD-01", "RUS-SU25-03"), // uas_small vs fixed_wing
        ("COAL-QUAD-03", "RUS-UAV-08"),  // uas_small vs uas_large
        ("COAL-QUAD-02", "RUS-KA52-05"), // uas_small vs rotorcraft
        ("COAL-QUAD-02", "RUS-QUAD-02"), // uas_small vs uas_small
        ("RUS-SU24-01", "RUS-SU24-02"),  // the formation
    ];
    let want: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(los, want);
    // The planned near misses (1.5x the radius or half-height) never alert...
    for (a, b) in [("COAL-MQ9-03", "RUS-UAV-07"), ("COAL-F15-01", "RUS-MI24-03")] {
        assert!(!eps.iter().any(|e| e["a"] == a && e["b"] == b), "{a}/{b} alerted");
    }
    // ...except that the F-16 passing 675 ft (1.5 x 450 ft) over a UAV is inside DO-365A's
    // 700 ft preventive volume: a preventive alert, never corrective, no loss of well clear.
    let f16: Vec<_> = eps
        .iter()
        .filter(|e| e["a"] == "COAL-F16-02" && e["b"] == "RUS-UAV-09")
        .collect();
    assert_eq!(f16.len(), 1, "{f16:?}");
    assert_eq!(
        (f16[0]["max_level"].as_u64(), f16[0]["los"].as_bool()),
        (Some(1), Some(false))
    );
    // Each episode is well-formed: levels 1..3, first alert at the start, end after start.
    for e in &eps {
        let max = e["max_level"].as_u64().unwrap();
        assert!((1..=3).contains(&max), "{e}");
        assert!(e["first_level"].as_u64().unwrap() <= max);
        assert!(e["duration_s"].as_f64().unwrap() >= 0.0);
        assert!(e["a"].as_str().unwrap() < e["b"].as_str().unwrap());
    }
}

/// Per-second brute force over the raw records: pairs closer than `radius_m` horizontally and
/// `half_ft` vertically at the same second, neither on the ground. With `genuine_only`, records
/// whose position has stayed frozen for 10 s or more while moving (the recordings forward-fill
/// the last position after an aircraft is lost) are left out.
fn raw_encounters(
    path: &Path,
    radius_m: f64,
    half_ft: f64,
    genuine_only: bool,
) -> BTreeSet<(String, String)> {
    let v: Value = serde_json::from_reader(GzDecoder::new(std::fs::File::open(path).unwrap())).unwrap();
    let mut by_second: std::collections::BTreeMap<i64, Vec<(String, f64, f64, f64)>> = Default::default();
    let mut frozen_since: std::collections::HashMap<String, (f64, f64, f64)> = Default::default();
    for r in v.as_array().unwrap() {
        if let (Some(lat), Some(lon), Some(ts), Some(id)) = (
            r["latitude"].as_f64(),
            r["longitude"].as_f64(),
            r["timestamp"].as_f64(),
            r["icao24"].as_str(),
        ) {
            let e = frozen_since.entry(id.to_string()).or_insert((lat, lon, ts));
            if e.0 != lat || e.1 != lon {
                *e = (lat, lon, ts);
            }
            if genuine_only && ts - e.2 >= 10_000.0 {
                continue;
            }
        }
        if r["onground"] == true {
            continue;
        }
        let (Some(lat), Some(lon), Some(alt), Some(ts), Some(id)) = (
            r["latitude"].as_f64(),
            r["longitude"].as_f64(),
            r["altitude"].as_f64(),
            r["timestamp"].as_f64(),
            r["icao24"].as_str(),
        ) else {
            continue;
        };
        by_second
            .entry((ts / 1000.0).floor() as i64)
            .or_default()
            .push((id.to_string(), lat, lon, alt));
    }
    let mut out = BTreeSet::new();
    for recs in by_second.values() {
        for i in 0..recs.len() {
            for j in i + 1..recs.len() {
                let (a, b) = (&recs[i], &recs[j]);
                if a.0 == b.0 {
                    continue;
                }
                let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
                let (dp, dl) = (p2 - p1, (b.2 - a.2).to_radians());
                let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
                let d = 2.0 * 6_371_008.8 * h.sqrt().asin();
                if d < radius_m && (a.3 - b.3).abs() < half_ft {
                    let (x, y) = if a.0 < b.0 { (&a.0, &b.0) } else { (&b.0, &a.0) };
                    out.insert((x.clone(), y.clone()));
                }
            }
        }
    }
    out
}

/// Whether two aircraft had records at most 10 s apart that put them within the limits, once
/// the distance each could fly between the two records (from its reported speeds) is allowed.
fn near_real(v: &Value, pair: &(String, String), radius_m: f64, half_ft: f64) -> bool {
    let pick = |id: &str| -> Vec<[f64; 6]> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["icao24"] == id && r["onground"] != true)
            .filter_map(|r| {
                Some([
                    r["timestamp"].as_f64()? / 1000.0,
                    r["latitude"].as_f64()?,
                    r["longitude"].as_f64()?,
                    r["altitude"].as_f64()?,
                    r["groundspeed"].as_f64().unwrap_or(0.0) * 1852.0 / 3600.0,
                    r["vertical_rate"].as_f64().unwrap_or(0.0).abs() / 60.0,
                ])
            })
            .collect()
    };
    let (a, b) = (pick(&pair.0), pick(&pair.1));
    a.iter().any(|x| {
        b.iter().any(|y| {
            let dt = (x[0] - y[0]).abs();
            if dt > 10.0 {
                return false;
            }
            let (p1, p2) = (x[1].to_radians(), y[1].to_radians());
            let h = ((p2 - p1) / 2.0).sin().powi(2)
                + p1.cos() * p2.cos() * ((y[2] - x[2]).to_radians() / 2.0).sin().powi(2);
            let d = 2.0 * 6_371_008.8 * h.sqrt().asin();
            d < radius_m + (x[4] + y[4]) * dt && (x[3] - y[3]).abs() < half_ft + (x[5] + y[5]) * dt
        })
    })
}

fn check_real_encounters(path: &Path) {
    let (eps, stderr) = replay(
        path,
        &[
            "--radius-m",
            "5556",
            "--half-height-m",
            "304.8",
            "--lookahead-s",
            "300",
            "-q",
        ],
    );
    assert!(stderr.contains("trajectory array, gzip"), "{stderr}");
    let ours = los_pairs(&eps);
    let strict = raw_encounters(path, 5556.0, 1000.0, true);
    assert!(!strict.is_empty());
    // Every encounter in the raw data is a loss of separation for us ...
    let missed: Vec<_> = strict.difference(&ours).collect();
    assert!(missed.is_empty(), "missed real encounters {missed:?}");
    // ... and every loss we report is near-real: within 5 % of the limits in the raw data
    // (between two reports we extrapolate; the raw check only sees report instants).
    let raw: Value = serde_json::from_reader(GzDecoder::new(std::fs::File::open(path).unwrap())).unwrap();
    let extra: Vec<_> = ours
        .difference(&strict)
        .filter(|p| !near_real(&raw, p, 5556.0 * 1.05, 1050.0))
        .collect();
    assert!(extra.is_empty(), "losses not in the raw data {extra:?}");
}

#[test]
fn replay_of_real_adsb_finds_its_real_encounters() {
    check_real_encounters(&repo().join("tests/data/quickstart-excerpt.json.gz"));
}

#[test]
fn replay_survives_null_positions() {
    let (eps, stderr) = replay(
        &repo().join("tests/data/inflight-refuelling-excerpt.json.gz"),
        &["-q"],
    );
    assert!(stderr.contains("latitude: missing"), "{stderr}");
    assert!(eps.is_empty(), "a single aircraft has no conflicts");
}

#[test]
fn replay_reports_bad_lines_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.jsonl");
    let mut text = Vec::new();
    for s in 0..30 {
        let t = 1_442_556_000.0 + s as f64;
        let d = 20_000.0 - 400.0 * s as f64;
        text.push(report(
            "A",
            t,
            35.0,
            35.0 + (100.0 * s as f64) / 91_000.0,
            3000.0,
            0.0,
            0.0,
            "fixed_wing",
        ));
        text.push(report(
            "B",
            t,
            35.0 + d / 111_195.0,
            35.0,
            3000.0,
            0.0,
            0.0,
            "fixed_wing",
        ));
        if s == 10 {
            text.push(
                r#"{"asset":"C","time":"soon","lat":0,"lng":0,"alt_m":0,"gs_mps":0,"track_deg":0}"#.into(),
            );
        }
    }
    std::fs::write(&f, text.join("\n")).unwrap();
    let (eps, stderr) = replay(&f, &[]);
    assert!(stderr.contains("line 23: field \"time\""), "{stderr}");
    assert!(stderr.contains("time: bad time"), "{stderr}");
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0]["los"], true);
}

#[test]
fn replay_refuses_an_absurd_time_span() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.jsonl");
    let text = [
        report("A", 0.0, 35.0, 35.0, 3000.0, 100.0, 0.0, "fixed_wing"),
        report("A", 1_442_556_000.0, 35.0, 35.0, 3000.0, 100.0, 0.0, "fixed_wing"),
    ];
    std::fs::write(&f, text.join("\n")).unwrap();
    let out = bin().arg("replay").arg(&f).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1970-01-01T00:00:00Z to 2015-09-18T06:00:00Z"),
        "{stderr}"
    );
}

/// CI-only (needs ../shared/data): the whole recordings.
#[test]
#[ignore = "reads ../shared/data; run by .ci/run"]
fn full_recordings_replay() {
    let data = repo().join("../shared/data/traffic");
    check_real_encounters(&data.join("quickstart.json.gz"));
    check_real_encounters(&data.join("switzerland.json.gz"));
    let (_, stderr) = replay(&data.join("inflight_refuelling.json.gz"), &["-q"]);
    assert!(stderr.contains("latitude: missing"), "{stderr}");
    let (_, stderr) = replay(&data.join("elal747.json.gz"), &["-q"]);
    assert!(stderr.contains("replay summary"), "{stderr}");
}

fn daidalus(name: &str) -> PathBuf {
    repo().join("crates/core/tests/data/daidalus").join(name)
}

#[test]
fn replay_of_a_daa_file_writes_daidalus_levels() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, theirs) in [
        (None, "E8_three.hyst.csv"),
        (Some("--no-hysteresis"), "E8_three.nohyst.csv"),
    ] {
        let out_path = dir.path().join("levels.csv");
        let out = bin()
            .arg("replay")
            .arg(daidalus("E8_three.daa"))
            .args(["--alerting", "do365a", "--levels-out"])
            .arg(&out_path)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("do365a alerting"), "{stderr}");
        let ours = std::fs::read_to_string(&out_path).unwrap();
        let mut lines = ours.lines();
        assert_eq!(lines.next(), Some("time,a,b,level"));
        // DAIDALUS's own CSV: time, ownship, traffic, alerter, level, ...
        let want: Vec<String> = std::fs::read_to_string(daidalus(theirs))
            .unwrap()
            .lines()
            .skip(2)
            .map(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                format!("{},{},{},{}", f[0], f[1], f[2], f[4])
            })
            .collect();
        let got: Vec<&str> = lines.collect();
        assert_eq!(got, want, "{extra:?}");
    }
}

#[test]
fn daa_files_detect_and_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // E1 at t = 100 s: head on, 5.3 NM apart, closing at 500 kt: a warning under any standard
    let text = std::fs::read_to_string(daidalus("E1_headon.daa")).unwrap();
    let snap: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains(',') || l.starts_with("NAME") || l.starts_with('[') || l.ends_with(" 100.0"))
        .collect();
    let f = dir.path().join("snap.daa");
    std::fs::write(&f, snap.join("\n")).unwrap();
    let out = bin().arg("detect").arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pairs = lines(&out.stdout);
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(
        (pairs[0]["a"].as_str(), pairs[0]["b"].as_str()),
        (Some("Intruder"), Some("Ownship"))
    );
    // a bad state line is named with its line number and skipped
    let bad = dir.path().join("bad.daa");
    std::fs::write(
        &bad,
        format!(
            "{}\nOwnship, 35.2, 35.9, 15000, north, 250, 0, 101.0\n",
            snap.join("\n")
        ),
    )
    .unwrap();
    let out = bin().arg("detect").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("line {}", snap.len() + 1)) && stderr.contains("trk: not a number"),
        "{stderr}"
    );
    // do365a needs a .daa file and --levels-out; --levels-out needs do365a
    let out = bin()
        .arg("replay")
        .arg(repo().join("scenarios/latakia-2015.jsonl"))
        .args(["--alerting", "do365a", "--levels-out", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a .daa file"));
    let out = bin()
        .arg("replay")
        .arg(&f)
        .args(["--alerting", "do365a"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--levels-out"));
    let out = bin()
        .arg("replay")
        .arg(&f)
        .args(["--levels-out", "x.csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("go with --alerting"));
    let out = bin()
        .arg("replay")
        .arg(&f)
        .args(["--alerting", "tcas", "--levels-out", "-"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--alerting must be"));
}
