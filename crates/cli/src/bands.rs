//! `deconflict bands FILE.daa [--instantaneous]`: DAIDALUS-style bands and resolution
//! ([`deconflict_core::bands`]) for the ownship of every step of an encounter file, one JSON
//! line per step on standard output:
//! `{"time":…,"ownship":"…","level":…,"track_deg":[[lo,hi,"level"],…],"gs_kt":[…],
//! "vs_fpm":[…],"alt_ft":[…],"resolution":{…}}`.
//!
//! As in DAIDALUS's `DaidalusBatch` (whose outputs the bands are checked against), the first
//! aircraft of each time is the ownship and the others its traffic; `level` is the ownship's
//! alert level (the highest over its intruders, with DAIDALUS's M-of-N hysteresis).

use crate::input::{read_reports, Format};
use anyhow::{bail, Result};
use clap::Args;
use deconflict_core::bands::{compute, BandsConfig, Mode};
use deconflict_core::separation::AlertLevel;
use deconflict_core::wellclear::{Do365Profile, EncounterAlerting, MofNConfig};
use deconflict_core::TrackReport;
use std::io::Write;
use std::path::PathBuf;

/// The options of `bands`.
#[derive(Debug, Args)]
pub(crate) struct BandsArgs {
    /// A `.daa` encounter file (the ownship first at each time).
    pub file: PathBuf,
    /// Instantaneous manoeuvres (the trial velocity at once) instead of kinematic ones (turn
    /// 3°/s, 2 m/s², 0.25 g, 500 fpm to an altitude).
    #[arg(long)]
    pub instantaneous: bool,
}

/// Runs `bands`.
pub(crate) fn run(args: &BandsArgs) -> Result<()> {
    let (reports, stats) = read_reports(&args.file, false)?;
    if stats.format != Some(Format::Daa) {
        bail!(
            "bands needs a .daa file (the ownship first at each time); {} is not one",
            args.file.display()
        );
    }
    let cfg = BandsConfig::do365a();
    let mode = if args.instantaneous {
        Mode::Instantaneous
    } else {
        Mode::Kinematic
    };
    let mut alerting = EncounterAlerting::new(Do365Profile::do365a(), MofNConfig::DAIDALUS);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // consecutive reports of one time are a step whose first report is the ownship
    for step in reports.chunk_by(|a, b| a.time == b.time) {
        let (own, t) = (&step[0], step[0].time);
        let traffic: Vec<&TrackReport> = step[1..].iter().collect();
        let level = alerting
            .step(t, own, &traffic)
            .iter()
            .map(|r| r.level)
            .max()
            .unwrap_or(AlertLevel::None);
        let b = compute(own, &traffic, &cfg, mode);
        let line = serde_json::json!({
            "time": t,
            "ownship": own.asset,
            "level": level,
            "track_deg": b.track_deg,
            "gs_kt": b.gs_kt,
            "vs_fpm": b.vs_fpm,
            "alt_ft": b.alt_ft,
            "resolution": b.resolution,
        });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
