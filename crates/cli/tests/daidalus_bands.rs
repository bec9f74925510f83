#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Bands against NASA DAIDALUS v2.0.4's (`DaidalusBatch --conf DO_365A_no_SUM.conf`, with and
//! without `--instantaneous`) on the ten reference encounters. CI-only: the reference files
//! (`*.bands*.txt.gz`, 320 KB) stay in `../shared/data/daidalus/`; the encounters are core's
//! test copies.
//!
//! Per step (the first aircraft is the ownship, as in DaidalusBatch) and per dimension, the
//! level is compared at sampled values: every 1° of track, 1 kt of ground speed, 10 fpm of
//! vertical speed and 10 ft of altitude. Printed per encounter and dimension: the sample
//! agreement, and the steps whose every disagreeing sample lies within the boundary
//! tolerance (1°, 5 kt, 100 fpm, 100 ft) of one of DAIDALUS's boundaries. Two tables per
//! mode: the bands as shown over time (each step's bands through [`BandsHysteresis`], as
//! DaidalusBatch, whose hysteresis is on, prints them), and each instant's raw bands. The
//! bar asserted: the sample agreement ≥ 95 % over all encounters, per dimension, in both
//! tables; the steps within tolerance are printed, not asserted (`docs/do365.md` says where
//! they fall short). `BANDS_VERBOSE=1` lists the steps outside the tolerance,
//! `BANDS_DUMP=E1_headon:60` prints one step's bands, raw and shown. One test, not
//! CI-only, runs `deconflict bands` on a repository copy and checks it prints the library's
//! bands for every step.

use deconflict_core::bands::{
    compute, level_at, Band, BandLevel, Bands, BandsConfig, BandsHysteresis, HysteresisConfig, Mode,
};
use deconflict_core::TrackReport;
use std::io::Read;
use std::path::{Path, PathBuf};

const ENCOUNTERS: [&str; 10] = [
    "E1_headon",
    "E2_crossing",
    "E3_overtake",
    "E4_climbing",
    "E5_nearmiss",
    "E6_vertical_edge",
    "E7_turn_in",
    "E8_three",
    "E9_diverging",
    "E10_parallel",
];

const DIMS: [&str; 4] = ["track", "gs", "vs", "alt"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One step of a DaidalusBatch output: time and the four dimensions' bands.
struct RefStep {
    time: f64,
    bands: [Vec<Band>; 4],
}

fn parse_band(line: &str) -> Option<Band> {
    // "  [0.0 [deg], 13.0 [deg]] NEAR"
    let t = line.trim().strip_prefix('[')?;
    let (range, region) = t.rsplit_once("] ")?;
    let (lo, hi) = range.split_once(',')?;
    let num = |s: &str| s.split_whitespace().next()?.parse::<f64>().ok();
    Some(Band {
        lo: num(lo)?,
        hi: num(hi)?,
        level: BandLevel::parse(region.trim())?,
    })
}

fn reference(path: &Path) -> Vec<RefStep> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut out: Vec<RefStep> = Vec::new();
    let mut dim: Option<usize> = None;
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("Time: ") {
            let time = t.split_whitespace().next().unwrap().parse().unwrap();
            out.push(RefStep {
                time,
                bands: Default::default(),
            });
            dim = None;
            continue;
        }
        dim = match line {
            "Horizontal Direction Bands:" => Some(0),
            "Horizontal Speed Bands:" => Some(1),
            "Vertical Speed Bands:" => Some(2),
            "Altitude Bands:" => Some(3),
            _ if line.starts_with("  [") => dim,
            _ => None,
        };
        if let (Some(d), Some(b)) = (dim, parse_band(line)) {
            out.last_mut().unwrap().bands[d].push(b);
        }
    }
    out
}

/// The encounter's steps: (time, ownship, intruders).
fn steps(encounter: &str) -> Vec<(f64, Vec<TrackReport>)> {
    let path = root().join(format!("crates/core/tests/data/daidalus/{encounter}.daa"));
    let rows = deconflict_core::daa::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out: Vec<(f64, Vec<TrackReport>)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some((t, v)) if *t == r.time_s => v.push(r.report),
            _ => out.push((r.time_s, vec![r.report])),
        }
    }
    out
}

fn samples(d: usize) -> (Vec<f64>, f64) {
    let (lo, hi, step, tol): (f64, f64, f64, f64) = [
        (0.0, 359.0, 1.0, 1.0),
        (10.0, 700.0, 1.0, 5.0),
        (-6000.0, 6000.0, 10.0, 100.0),
        (100.0, 50000.0, 10.0, 100.0),
    ][d];
    let n = ((hi - lo) / step).round() as usize;
    ((0..=n).map(|i| lo + i as f64 * step).collect(), tol)
}

/// Per dimension: (samples agreeing, samples, steps agreeing within tolerance, steps).
type Tally = [[usize; 4]; 4];

/// One step's tally of `mine` against `r` (see [`Tally`]); prints the failing dimensions
/// under `BANDS_VERBOSE`.
fn tally_step(tally: &mut Tally, mine: &Bands, r: &RefStep, what: &str) {
    let mine = [&mine.track_deg, &mine.gs_kt, &mine.vs_fpm, &mine.alt_ft];
    for d in 0..4 {
        let (xs, tol) = samples(d);
        let mut ok = 0;
        let mut step_ok = true;
        let mut worst = Vec::new();
        for &x in &xs {
            let a = level_at(mine[d], x);
            let b = level_at(&r.bands[d], x);
            if a == b {
                ok += 1;
            } else {
                let near = r.bands[d]
                    .iter()
                    .any(|b| (b.lo - x).abs() <= tol + 1e-6 || (b.hi - x).abs() <= tol + 1e-6);
                if !near {
                    step_ok = false;
                    if worst.len() < 3 {
                        worst.push((x, a, b));
                    }
                }
            }
        }
        if !step_ok && std::env::var("BANDS_VERBOSE").is_ok() {
            eprintln!(
                "  {what} t={} {}: {ok}/{} e.g. {worst:?}",
                r.time,
                DIMS[d],
                xs.len()
            );
        }
        tally[d][0] += ok;
        tally[d][1] += xs.len();
        tally[d][2] += usize::from(step_ok);
        tally[d][3] += 1;
    }
}

/// The encounter's tallies: the bands as shown over time ([`BandsHysteresis`], as
/// DaidalusBatch shows them), and each instant's raw bands.
fn compare(encounter: &str, mode: Mode, file: &str, cfg: &BandsConfig) -> (Tally, Tally) {
    let refs = reference(&root().join(format!("../shared/data/daidalus/{encounter}.{file}.txt.gz")));
    let steps = steps(encounter);
    assert_eq!(refs.len(), steps.len(), "{encounter}: steps");
    let (mut shown, mut raw): (Tally, Tally) = ([[0; 4]; 4], [[0; 4]; 4]);
    let mut filter = BandsHysteresis::new(HysteresisConfig::do365a());
    for (r, (t, ac)) in refs.iter().zip(&steps) {
        assert!((r.time - t).abs() < 1e-6, "{encounter}: time {} vs {t}", r.time);
        let traffic: Vec<&TrackReport> = ac[1..].iter().collect();
        let ours = compute(&ac[0], &traffic, cfg, mode);
        let mut filtered = ours.clone();
        filter.apply(*t, &ac[0], &mut filtered);
        if std::env::var("BANDS_DUMP").is_ok_and(|v| v == format!("{encounter}:{t}")) {
            eprintln!("{file} raw {ours:?}\nshown {filtered:?}");
        }
        tally_step(&mut shown, &filtered, r, &format!("{encounter} {file}"));
        tally_step(&mut raw, &ours, r, &format!("{encounter} {file} raw"));
    }
    (shown, raw)
}

fn pct(a: usize, b: usize) -> f64 {
    100.0 * a as f64 / b.max(1) as f64
}

fn print_table(title: &str, rows: &[(&str, Tally)]) -> Tally {
    let mut total: Tally = [[0; 4]; 4];
    println!("{title}: sample agreement % / steps within tolerance %");
    println!(
        "{:<18}{:>16}{:>16}{:>16}{:>16}",
        "encounter", "track", "gs", "vs", "alt"
    );
    for (e, t) in rows {
        let mut line = format!("{e:<18}");
        for d in 0..4 {
            line.push_str(&format!(
                "{:>9.2}/{:>6.1}",
                pct(t[d][0], t[d][1]),
                pct(t[d][2], t[d][3])
            ));
            for k in 0..4 {
                total[d][k] += t[d][k];
            }
        }
        println!("{line}");
    }
    let mut line = format!("{:<18}", "all");
    for t in &total {
        line.push_str(&format!("{:>9.2}/{:>6.1}", pct(t[0], t[1]), pct(t[2], t[3])));
    }
    println!("{line}");
    total
}

/// Runs the comparison; `bar[d]` is the sample agreement asserted for dimension `d`, both
/// for the bands as shown over time and for the raw ones.
fn run(mode: Mode, file: &str, bar: [f64; 4]) {
    let cfg = BandsConfig::do365a();
    let rows: Vec<(&str, (Tally, Tally))> = ENCOUNTERS
        .iter()
        .map(|e| (*e, compare(e, mode, file, &cfg)))
        .collect();
    let shown: Vec<(&str, Tally)> = rows.iter().map(|(e, t)| (*e, t.0)).collect();
    let raw: Vec<(&str, Tally)> = rows.iter().map(|(e, t)| (*e, t.1)).collect();
    let totals = [
        (
            "shown",
            print_table(&format!("bands vs DAIDALUS ({file}), with hysteresis"), &shown),
        ),
        (
            "raw",
            print_table(&format!("bands vs DAIDALUS ({file}), raw"), &raw),
        ),
    ];
    for (what, total) in totals {
        for (d, t) in total.iter().enumerate() {
            assert!(
                pct(t[0], t[1]) >= bar[d],
                "{file} {what} {}: sample agreement {:.2} %",
                DIMS[d],
                pct(t[0], t[1])
            );
        }
    }
}

#[test]
#[ignore = "reads ../shared/data; run by .ci/run"]
fn instantaneous_bands_agree_with_daidalus() {
    run(Mode::Instantaneous, "bands-instantaneous", [95.0; 4]);
}

#[test]
#[ignore = "reads ../shared/data; run by .ci/run"]
fn kinematic_bands_agree_with_daidalus() {
    run(Mode::Kinematic, "bands", [95.0; 4]);
}

/// `deconflict bands FILE.daa --instantaneous` on an encounter kept in this repository: one
/// JSON line per step, with the ownship and time of the step, and the bands and resolution
/// the library computes for that step.
#[test]
fn the_bands_command_prints_each_steps_bands() {
    let path = root().join("crates/core/tests/data/daidalus/E8_three.daa");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deconflict"))
        .arg("bands")
        .arg(&path)
        .arg("--instantaneous")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps = steps("E8_three");
    assert_eq!(lines.len(), steps.len());
    let cfg = BandsConfig::do365a();
    for (line, (t, reports)) in lines.iter().zip(&steps) {
        assert_eq!(line["time"].as_f64(), Some(*t));
        assert_eq!(line["ownship"], reports[0].asset.as_str());
        let traffic: Vec<&TrackReport> = reports[1..].iter().collect();
        let b = compute(&reports[0], &traffic, &cfg, Mode::Instantaneous);
        assert_eq!(line["track_deg"], serde_json::to_value(&b.track_deg).unwrap());
        assert_eq!(line["vs_fpm"], serde_json::to_value(&b.vs_fpm).unwrap());
        assert_eq!(line["resolution"], serde_json::to_value(b.resolution).unwrap());
        assert!(line["level"].is_number() && line["gs_kt"].is_array() && line["alt_ft"].is_array());
    }
    // the ownship and three intruders at every step, and some step in conflict with a resolution
    assert!(steps.iter().all(|(_, r)| r.len() == 4));
    assert!(lines
        .iter()
        .any(|l| l["resolution"]["preferred_track"].is_string()));
}
