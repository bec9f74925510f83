//! `deconflict bench`: the detector's speed on synthetic traffic, against brute force.

use anyhow::{bail, Result};
use clap::Args;
use deconflict_core::synth::{generate, SynthParams};
use deconflict_core::{brute_force, Detector, Scene, SeparationStandard, SeparationTable};
use std::time::Instant;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    /// `http`, `strategic`, `cluster`, `attack` or `feeds` instead of the detector alone.
    #[command(subcommand)]
    pub kind: Option<BenchKind>,
    /// Scene sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub tracks: Vec<usize>,
    /// Full scans per size (the median is reported); at least 5.
    #[arg(long, default_value_t = 7)]
    pub scans: usize,
    /// Largest size also run by brute force.
    #[arg(long, default_value_t = 20_000)]
    pub brute_max: usize,
    /// Random seed of the synthetic traffic.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum BenchKind {
    /// Ingest throughput and report-to-alert latency of `deconflict serve` over loopback HTTP.
    Http(crate::bench_http::HttpArgs),
    /// Conflict checks of new filings against an index of many intents, against brute force.
    Strategic(crate::bench_strategic::StrategicArgs),
    /// Ingest and filings of one node against several on PostgreSQL with NATS JetStream.
    Cluster(crate::bench_cluster::ClusterArgs),
    /// An unrelated pair's alert latency and /healthz with and without an attacker's alert
    /// storm and heavy filings.
    Attack(crate::bench_attack::AttackArgs),
    /// SBS-1 lines/s and CoT events/s through the feed bridges into a live service.
    Feeds(crate::bench_feeds::FeedsArgs),
}

pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    match &args.kind {
        Some(BenchKind::Http(h)) => return crate::bench_http::run(h),
        Some(BenchKind::Strategic(a)) => return crate::bench_strategic::run(a),
        Some(BenchKind::Cluster(a)) => return crate::bench_cluster::run(a),
        Some(BenchKind::Attack(a)) => return crate::bench_attack::run(a),
        Some(BenchKind::Feeds(a)) => return crate::bench_feeds::run(a),
        None => {}
    }
    if args.scans < 5 {
        bail!("--scans must be at least 5");
    }
    // 5 NM / 1000 ft / 300 s for every pair.
    let std = SeparationStandard::new(9260.0, 304.8, 300.0);
    let table = SeparationTable::uniform(std)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!(
        "bench: synthetic traffic, 1 aircraft per 400 km², 60–250 m/s, 0–12 km; 5 NM / 1000 ft / 300 s; \
         single-threaded scan; machine has {cores} cores"
    );
    pair_costs(args.seed);
    crate::bench_advice::advice_costs(10_000, args.seed)?;
    let mut medians = Vec::new();
    for &n in &args.tracks {
        let states = generate(&SynthParams::bench(n, args.seed));
        let scene = Scene::from_states(&states);
        let mut det = Detector::new();
        det.scan(&scene, &table); // warm the buffers
        let mut times = Vec::with_capacity(args.scans);
        let mut conflicts = 0;
        for _ in 0..args.scans {
            let t = Instant::now();
            conflicts = det.scan(&scene, &table).len();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let stats = det.stats();
        let (brute_ms, equal) = if n <= args.brute_max {
            let t = Instant::now();
            let brute = brute_force(&scene, &table);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let indexed = det.scan(&scene, &table);
            (Some(ms), Some(brute.as_slice() == indexed))
        } else {
            (None, None)
        };
        medians.push((n, median));
        println!(
            "{}",
            serde_json::json!({
                "tracks": n,
                "lookahead_s": 300,
                "scan_ms": (median * 1000.0).round() / 1000.0,
                "scan_min_ms": (times[0] * 1000.0).round() / 1000.0,
                "brute_ms": brute_ms.map(|x| (x * 1000.0).round() / 1000.0),
                "pairs_equal": equal,
                "conflicts": conflicts,
                "grid_entries": stats.entries,
                "exact_tests": stats.exact_tests,
                "box_tests": stats.box_tests,
                "cores": cores,
            })
        );
        if equal == Some(false) {
            bail!("indexed detector and brute force disagree at {n} tracks");
        }
    }
    if let (Some(&(n10, m10)), Some(&(n100, m100))) = (
        medians.iter().find(|(n, _)| *n == 10_000),
        medians.iter().find(|(n, _)| *n == 100_000),
    ) {
        eprintln!(
            "scaling: {n100} tracks cost {:.1}x {n10} tracks (linear would be 10x)",
            m100 / m10
        );
    }
    Ok(())
}

/// The exact pair test of the cylinder standard against DO-365A alerting (relative geometry,
/// closed-form loss intervals, raw level) on the same pairs: the neighbours within 40 km of
/// each other in 2,000 synthetic tracks, what a broad phase hands the exact test. Prints one
/// JSON line with both costs and their ratio.
fn pair_costs(seed: u64) {
    use deconflict_core::cpa::{detect_raw, relative};
    use deconflict_core::geodesy::great_circle_m;
    use deconflict_core::wellclear::{raw_level, Do365Profile};
    use deconflict_core::AlertLevel;
    use std::hint::black_box;
    let s = Scene::from_states(&generate(&SynthParams::bench(2000, seed)));
    let mut pairs = Vec::new();
    for a in 0..s.len() {
        for b in a + 1..s.len() {
            if great_circle_m(s.n[a], s.n[b]) < 40_000.0 {
                pairs.push((a, b));
            }
        }
    }
    let cylinder = SeparationStandard::new(1219.2, 137.16, 180.0);
    let profile = Do365Profile::do365a();
    const ROUNDS: usize = 50;
    let (mut hits_c, mut hits_d) = (0usize, 0usize);
    let t = Instant::now();
    for _ in 0..ROUNDS {
        for &(a, b) in &pairs {
            let c = detect_raw(
                s.n[a], s.v[a], s.alt[a], s.vs[a], s.n[b], s.v[b], s.alt[b], s.vs[b], &cylinder,
            );
            hits_c += usize::from(black_box(c).is_some());
        }
    }
    let cyl_ns = t.elapsed().as_secs_f64() * 1e9 / (ROUNDS * pairs.len().max(1)) as f64;
    let t = Instant::now();
    for _ in 0..ROUNDS {
        for &(a, b) in &pairs {
            let l = relative(
                s.n[a], s.v[a], s.alt[a], s.vs[a], s.n[b], s.v[b], s.alt[b], s.vs[b],
            )
            .map_or(AlertLevel::None, |r| raw_level(&r, &profile, AlertLevel::None));
            hits_d += usize::from(black_box(l) > AlertLevel::None);
        }
    }
    let do_ns = t.elapsed().as_secs_f64() * 1e9 / (ROUNDS * pairs.len().max(1)) as f64;
    println!(
        "{}",
        serde_json::json!({
            "pair_test": "cylinder 4000 ft / 450 ft / 180 s vs DO-365A alerting",
            "pairs": pairs.len(),
            "cylinder_ns_per_pair": (cyl_ns * 10.0).round() / 10.0,
            "do365a_ns_per_pair": (do_ns * 10.0).round() / 10.0,
            "do365a_over_cylinder": (do_ns / cyl_ns * 100.0).round() / 100.0,
            "cylinder_conflicts": hits_c / ROUNDS,
            "do365a_alerts": hits_d / ROUNDS,
        })
    );
}
