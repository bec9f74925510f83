//! `deconflict bench strategic`: conflict checks of new filings against a large strategic
//! index, timed, and checked against brute force on a subset.

use anyhow::{ensure, Result};
use deconflict_core::strategic::synth::{IntentGenerator, SynthArea};
use deconflict_core::strategic::{brute_force_conflicts, StrategicIndex, Volume4D};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub(crate) struct StrategicArgs {
    /// Stored intents (1–5 volumes each).
    #[arg(long, default_value_t = 1_000_000)]
    pub intents: usize,
    /// Conflict checks of new filings to time.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Random seed of the synthetic intents.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many of the queries are also answered by brute force (and compared).
    #[arg(long, default_value_t = 200)]
    pub brute_queries: usize,
}

/// Peak resident set size of this process, MB (Linux; `None` elsewhere).
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub(crate) fn run(args: &StrategicArgs) -> Result<()> {
    ensure!(args.intents > 0, "--intents must be at least 1");
    eprintln!(
        "bench strategic: {} intents of 1–5 volumes (circles 0.5–20 km, polygons 1–50 km across, \
         10 min–4 h each) over the Eastern Mediterranean and 7 days; single-threaded",
        args.intents
    );
    let area = SynthArea::eastern_mediterranean();
    let mut gen = IntentGenerator::new(args.seed, area.clone());
    let all: Vec<(u64, Vec<Volume4D>)> = (0..args.intents as u64).map(|k| (k, gen.intent())).collect();
    let volumes: usize = all.iter().map(|(_, v)| v.len()).sum();

    let bar = ProgressBar::with_draw_target(Some(args.intents as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("indexing {bar:40} {pos}/{len} intents, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let t = Instant::now();
    let mut index = StrategicIndex::new();
    for (i, (key, v)) in all.iter().enumerate() {
        index.insert(*key, v.clone());
        if i % 4096 == 4095 {
            bar.inc(4096);
        }
    }
    bar.finish_and_clear();
    let build_s = t.elapsed().as_secs_f64();

    // New filings from another stream of the same generator.
    let mut qgen = IntentGenerator::new(args.seed ^ 0x005E_ED0F_F111_4605, area);
    let queries: Vec<Vec<Volume4D>> = (0..args.queries).map(|_| qgen.intent()).collect();
    let mut times = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    let mut conflict_keys = 0usize;
    for q in &queries {
        let t = Instant::now();
        let r = index.conflicts(q);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        conflict_keys += r.len();
        answers.push(r);
    }
    times.sort_by(f64::total_cmp);

    let brute_n = args.brute_queries.min(queries.len());
    let mut brute_times = Vec::with_capacity(brute_n);
    let mut equal = true;
    for (q, indexed) in queries.iter().zip(&answers).take(brute_n) {
        let t = Instant::now();
        let b = brute_force_conflicts(&all, q);
        brute_times.push(t.elapsed().as_secs_f64() * 1e3);
        equal &= &b == indexed;
    }
    brute_times.sort_by(f64::total_cmp);

    let stats = index.stats();
    println!(
        "{}",
        serde_json::json!({
            "intents": args.intents,
            "volumes": volumes,
            "build_s": (build_s * 1000.0).round() / 1000.0,
            "query_p50_ms": (percentile(&times, 0.5) * 1000.0).round() / 1000.0,
            "query_p99_ms": (percentile(&times, 0.99) * 1000.0).round() / 1000.0,
            "query_max_ms": (percentile(&times, 1.0) * 1000.0).round() / 1000.0,
            "mean_conflicting_intents": conflict_keys as f64 / queries.len().max(1) as f64,
            "brute_p50_ms": (percentile(&brute_times, 0.5) * 1000.0).round() / 1000.0,
            "brute_queries": brute_n,
            "results_equal": equal,
            "index_cells": stats.cells,
            "index_entries": stats.entries,
            "rss_mb": peak_rss_mb().map(|m| m.round()),
        })
    );
    ensure!(equal, "the index and brute force disagree");
    Ok(())
}
