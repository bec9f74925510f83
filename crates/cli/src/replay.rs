//! `deconflict replay FILE`: run a recorded or scripted file through time and write the
//! conflict episodes it contains.

use crate::common::{num, thousands, StandardArgs};
use crate::input::{read_reports, Format};
use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_core::track::format_rfc3339;
use deconflict_core::{Detector, EpisodeTracker, PairConflict, Scene, TrackState};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Track reports: JSON Lines, a (gzipped) trajectory array, or a DAIDALUS .daa file
    /// (detected by content).
    pub file: PathBuf,
    /// Where to write the episodes (JSON Lines); `-` for standard output.
    #[arg(long, short, default_value = "-")]
    pub out: PathBuf,
    /// Detection period, seconds of scenario time.
    #[arg(long, default_value_t = 1.0)]
    pub step_s: f64,
    /// A track whose last report is older than this is dropped, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub stale_s: f64,
    /// How long a lower level or a cleared conflict must last before it counts, seconds
    /// (default: the table's `alerting.hysteresis_s`). With `--alerting do365a`: how long a
    /// raw level stays in the M-of-N history (default 5).
    #[arg(long)]
    pub hysteresis_s: Option<f64>,
    #[command(flatten)]
    pub do365: crate::replay_do365::Do365Args,
    #[command(flatten)]
    pub standards: StandardArgs,
    /// No progress bar and no per-record warnings.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Longest replay, in detection steps (116 days at 1 s).
const MAX_STEPS: u64 = 10_000_000;

/// What a replay found, for the summary and for tests.
#[derive(Debug, Default)]
pub(crate) struct ReplaySummary {
    pub episodes: usize,
    pub by_level: [usize; 4],
    pub losses: usize,
    pub aircraft: usize,
    pub steps: usize,
}

pub(crate) fn run(args: &ReplayArgs) -> Result<ReplaySummary> {
    let table = args.standards.table()?;
    if !(args.step_s > 0.0 && args.step_s.is_finite()) {
        bail!("--step-s must be a positive number of seconds");
    }
    if !(args.stale_s >= 0.0 && args.stale_s.is_finite()) {
        bail!("--stale-s must be a non-negative number of seconds");
    }
    let hysteresis = args.hysteresis_s.unwrap_or(table.hysteresis_s);
    if !(hysteresis >= 0.0 && hysteresis.is_finite()) {
        bail!("--hysteresis-s must be a non-negative number of seconds");
    }
    let t_read = Instant::now();
    let (mut reports, mut stats) = read_reports(&args.file, args.quiet)?;
    if args.do365.alerting != "cylinder" {
        return crate::replay_do365::run(&args.do365, &args.file, args.hysteresis_s, &reports, &stats)
            .map(|()| ReplaySummary::default());
    }
    if args.do365.levels_out.is_some() || args.do365.no_hysteresis {
        bail!("--levels-out and --no-hysteresis go with --alerting do365a or do365b");
    }
    reports.sort_by(|a, b| a.time.total_cmp(&b.time));
    // On-ground records end an airborne track at their time.
    let mut grounded = std::mem::take(&mut stats.grounded);
    grounded.sort_by(|a, b| a.1.total_cmp(&b.1));
    let read_s = t_read.elapsed().as_secs_f64();

    // Stable asset numbers in name order, so that id order is name order.
    let mut names: Vec<String> = reports.iter().map(|r| r.asset.clone()).collect();
    names.sort_unstable();
    names.dedup();
    let ids: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();

    let mut out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?,
        ))
    };

    let mut tracker = EpisodeTracker::new(hysteresis);
    let mut summary = ReplaySummary {
        aircraft: names.len(),
        ..Default::default()
    };
    let mut scan_s = 0.0;
    if let (Some(first), Some(last)) = (reports.first(), reports.last()) {
        let (t0, t1) = (first.time, last.time);
        let steps = ((t1 - t0) / args.step_s).floor() as u64 + 1;
        if steps > MAX_STEPS {
            bail!(
                "the reports span {} to {} ({:.0} s): {steps} steps of {} s is more than {MAX_STEPS}; \
                 check the times (a stray record, or milliseconds given as seconds?) or raise --step-s",
                format_rfc3339(t0),
                format_rfc3339(t1),
                t1 - t0,
                args.step_s
            );
        }
        let bar = if args.quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::new(steps);
            b.set_style(
                ProgressStyle::with_template("{spinner} replay [{bar:40}] {pos}/{len} steps {msg} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        };
        // last report per asset id: (time, state at that time)
        let mut last: Vec<Option<(f64, TrackState)>> = vec![None; names.len()];
        let mut next = 0usize;
        let mut next_ground = 0usize;
        let mut scene = Scene::new();
        let mut index: Vec<u32> = Vec::new();
        let mut det = Detector::new();
        let mut found: Vec<(u32, u32, PairConflict)> = Vec::new();
        for step in 0..steps {
            let t = t0 + step as f64 * args.step_s;
            // Reports and landings up to t, in time order.
            loop {
                let rt = reports.get(next).map_or(f64::INFINITY, |r| r.time);
                let gt = grounded.get(next_ground).map_or(f64::INFINITY, |g| g.1);
                if rt.min(gt) > t {
                    break;
                }
                if gt < rt {
                    if let Some(&id) = ids.get(grounded[next_ground].0.as_str()) {
                        last[id as usize] = None;
                    }
                    next_ground += 1;
                } else {
                    let r = &reports[next];
                    last[ids[r.asset.as_str()] as usize] = Some((r.time, r.state()));
                    next += 1;
                }
            }
            scene.clear();
            index.clear();
            for (id, slot) in last.iter_mut().enumerate() {
                if let Some((rt, st)) = slot {
                    if t - *rt > args.stale_s {
                        *slot = None; // stale: dropped
                        continue;
                    }
                    scene.push(&st.propagated(t - *rt));
                    index.push(id as u32);
                }
            }
            let ts = Instant::now();
            let conflicts = det.scan(&scene, &table);
            scan_s += ts.elapsed().as_secs_f64();
            found.clear();
            found.extend(
                conflicts
                    .iter()
                    .map(|c| (index[c.a as usize], index[c.b as usize], c.pair)),
            );
            tracker.update(t, &found, |i| names[i as usize].clone());
            summary.steps += 1;
            if step % 64 == 0 {
                bar.set_position(step);
                bar.set_message(format!("{} tracks, {} open", scene.len(), tracker.open()));
            }
        }
        bar.finish_and_clear();
    }
    tracker.finish();
    let mut episodes = std::mem::take(&mut tracker.finished);
    episodes.sort_by(|x, y| {
        x.start
            .total_cmp(&y.start)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    for ep in &episodes {
        summary.episodes += 1;
        summary.by_level[ep.max_level as usize] += 1;
        if ep.los {
            summary.losses += 1;
        }
        let line = serde_json::json!({
            "a": ep.a,
            "b": ep.b,
            "start": format_rfc3339(ep.start),
            "end": format_rfc3339(ep.end),
            "duration_s": num(ep.end - ep.start, 3),
            "first_alert": ep.first_alert.map(format_rfc3339),
            "first_level": ep.first_level,
            "first_tin_s": num(ep.first_tin_s, 3),
            "max_level": ep.max_level,
            "min_hsep_m": num(ep.min_hsep_m, 1),
            "min_vsep_m": num(ep.min_vsep_m, 1),
            "los": ep.los,
            "los_start": ep.los_start.map(format_rfc3339),
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;

    // Summary table.
    let fmt = match (stats.format, stats.gzip) {
        (Some(Format::Daa), _) => ".daa",
        (Some(Format::TrafficArray), true) => "trajectory array, gzip",
        (Some(Format::TrafficArray), false) => "trajectory array",
        (_, true) => "JSON Lines, gzip",
        _ => "JSON Lines",
    };
    let mut s = format!("replay summary: {} ({fmt})\n", args.file.display());
    // One row of the table: indentation level, label, count.
    let mut row = |level: usize, label: &str, value: String| {
        let pad = 2 * level;
        s.push_str(&format!("{:pad$}{:<w$}{:>12}\n", "", label, value, w = 30 - pad));
    };
    row(1, "records read", thousands(stats.records));
    row(1, "reports accepted", thousands(stats.accepted));
    for (label, n) in [
        ("on the ground (track ends)", stats.on_ground),
        ("repeated position (stale)", stats.repeated_position),
        ("velocity from positions", stats.velocity_derived),
        ("velocity unknown (kept)", stats.velocity_unknown),
    ] {
        if n > 0 {
            row(1, label, thousands(n));
        }
    }
    row(1, "rejected", thousands(stats.rejected_total()));
    for (reason, n) in &stats.rejected {
        row(2, reason, thousands(*n));
    }
    row(1, "aircraft", thousands(summary.aircraft));
    row(
        1,
        &format!("steps of {} s", args.step_s),
        thousands(summary.steps),
    );
    row(1, "conflict episodes", thousands(summary.episodes));
    for (lvl, name) in [(1, "preventive"), (2, "corrective"), (3, "warning")] {
        row(
            2,
            &format!("max level {lvl} {name}"),
            thousands(summary.by_level[lvl]),
        );
    }
    row(1, "losses of separation", thousands(summary.losses));
    row(1, "read time, ms", format!("{:.1}", read_s * 1e3));
    row(1, "detection time, ms", format!("{:.1}", scan_s * 1e3));
    if args.out.as_os_str() != "-" {
        s.push_str(&format!("  episodes written to {}\n", args.out.display()));
    }
    eprint!("{s}");
    Ok(summary)
}
