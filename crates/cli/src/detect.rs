//! `deconflict detect FILE`: one snapshot, every conflicting pair.

use crate::common::{num, StandardArgs};
use crate::input::read_reports;
use anyhow::Result;
use clap::Args;
use deconflict_core::{Detector, Scene, TrackReport};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct DetectArgs {
    /// Track reports: JSON Lines, a (gzipped) trajectory array, or a DAIDALUS .daa file
    /// (detected by content).
    pub file: PathBuf,
    /// Reports older than this (seconds before the newest report in the file) are ignored.
    #[arg(long, default_value_t = 10.0)]
    pub max_age_s: f64,
    #[command(flatten)]
    pub standards: StandardArgs,
    /// Don't print rejected records one by one.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(crate) fn run(args: &DetectArgs) -> Result<()> {
    let table = args.standards.table()?;
    if args.max_age_s.is_nan() || args.max_age_s < 0.0 {
        anyhow::bail!("--max-age-s must be a non-negative number");
    }
    let (reports, stats) = read_reports(&args.file, args.quiet)?;
    // Latest report per asset.
    let mut latest: HashMap<&str, &TrackReport> = HashMap::with_capacity(reports.len());
    for r in &reports {
        match latest.get(r.asset.as_str()) {
            Some(old) if old.time > r.time => {}
            _ => {
                latest.insert(r.asset.as_str(), r);
            }
        }
    }
    // An on-ground record newer than an asset's last airborne report takes it out of the picture.
    for (asset, t) in &stats.grounded {
        if latest.get(asset.as_str()).is_some_and(|r| r.time <= *t) {
            latest.remove(asset.as_str());
        }
    }
    let newest = latest.values().map(|r| r.time).fold(f64::NEG_INFINITY, f64::max);
    let mut live: Vec<&TrackReport> = latest
        .values()
        .copied()
        .filter(|r| newest - r.time <= args.max_age_s)
        .collect();
    // Scene order is name order, so a < b by index means a < b by name.
    live.sort_unstable_by(|a, b| a.asset.cmp(&b.asset));
    let mut scene = Scene::with_capacity(live.len());
    for r in &live {
        scene.push(&r.state().propagated(newest - r.time));
    }
    let mut det = Detector::new();
    let conflicts = det.scan(&scene, &table);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for c in conflicts {
        let p = &c.pair;
        let line = serde_json::json!({
            "a": live[c.a as usize].asset,
            "b": live[c.b as usize].asset,
            "tin_s": num(p.tin_s, 3),
            "tout_s": num(p.tout_s, 3),
            "tcpa_s": num(p.tcpa_s, 3),
            "dcpa_m": num(p.dcpa_m, 3),
            "los": p.los,
            "level": p.level as u8,
        });
        writeln!(w, "{line}")?;
    }
    w.flush()?;
    if !args.quiet {
        eprintln!(
            "{} records, {} accepted, {} rejected; {} assets, {} within {} s of the newest report; {} conflicts",
            stats.records,
            stats.accepted,
            stats.rejected_total(),
            latest.len(),
            live.len(),
            args.max_age_s,
            conflicts.len()
        );
    }
    Ok(())
}
