//! `deconflict replay FILE.daa --alerting do365a`: DO-365 alerting as DAIDALUS does it, over an
//! encounter file whose first aircraft at each time is the ownship
//! ([`deconflict_core::wellclear::EncounterAlerting`]). Writes `time,a,b,level` for every
//! (ownship, intruder) pair at every time of the file to `--levels-out`, and a summary.

use crate::common::thousands;
use crate::input::{Format, ReadStats};
use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_core::wellclear::{Do365Profile, EncounterAlerting, MofNConfig};
use deconflict_core::TrackReport;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The options of `replay` for DO-365 alerting (flattened into `ReplayArgs`).
#[derive(Debug, Args)]
pub(crate) struct Do365Args {
    /// Alerting logic: `cylinder` (the separation table; writes episodes), or `do365a` /
    /// `do365b` (DO-365 well clear with DAIDALUS's thresholds, ownship-centric: needs a .daa
    /// file, writes `--levels-out`).
    #[arg(long, value_name = "LOGIC", default_value = "cylinder")]
    pub alerting: String,
    /// With `--alerting do365a`/`do365b`: report the raw level of every step (no M-of-N, no
    /// persistence, no early alerting times).
    #[arg(long)]
    pub no_hysteresis: bool,
    /// With `--alerting do365a`/`do365b`: the M-of-N of the hysteresis.
    #[arg(long, value_name = "M/N", default_value = "2/4")]
    pub m_of_n: String,
    /// With `--alerting do365a`/`do365b`: a reported level is not lowered before it has been
    /// reported this long, seconds (default 4).
    #[arg(long)]
    pub persistence_s: Option<f64>,
    /// With `--alerting do365a`/`do365b`: write `time,a,b,level` (CSV; time in seconds as in
    /// the file, a the ownship, b the intruder) for every pair at every time; `-` for standard
    /// output.
    #[arg(long, value_name = "FILE")]
    pub levels_out: Option<PathBuf>,
}

/// The DO-365 hysteresis the options ask for.
fn hysteresis(args: &Do365Args, hysteresis_s: Option<f64>) -> Result<MofNConfig> {
    if args.no_hysteresis {
        return Ok(MofNConfig::OFF);
    }
    let mut cfg = MofNConfig::DAIDALUS;
    let (m, n) = args
        .m_of_n
        .split_once('/')
        .and_then(|(m, n)| Some((m.trim().parse().ok()?, n.trim().parse().ok()?)))
        .with_context(|| format!("--m-of-n must be M/N, e.g. 2/4, got {:?}", args.m_of_n))?;
    cfg.m = m;
    cfg.n = n;
    if let Some(h) = hysteresis_s {
        cfg.hysteresis_s = h;
    }
    if let Some(p) = args.persistence_s {
        cfg.persistence_s = p;
    }
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("DO-365 hysteresis: {e}"))?;
    Ok(cfg)
}

/// Runs the encounter of `file`: `reports` in file order; `hysteresis_s` is `replay`'s
/// `--hysteresis-s`.
pub(crate) fn run(
    args: &Do365Args,
    file: &Path,
    hysteresis_s: Option<f64>,
    reports: &[TrackReport],
    stats: &ReadStats,
) -> Result<()> {
    let profile = Do365Profile::by_name(&args.alerting).with_context(|| {
        format!(
            "--alerting must be cylinder, do365a or do365b, got {:?}",
            args.alerting
        )
    })?;
    let cfg = hysteresis(args, hysteresis_s)?;
    if stats.format != Some(Format::Daa) {
        bail!(
            "--alerting {} runs DAIDALUS-style ownship-centric alerting and needs a .daa file \
             (the ownship first at each time); {} is not one",
            args.alerting,
            file.display()
        );
    }
    let Some(path) = &args.levels_out else {
        bail!(
            "--alerting {} writes alert levels: give --levels-out FILE.csv",
            args.alerting
        );
    };
    let mut alerting = EncounterAlerting::new(profile, cfg);
    let rows = alerting.run(reports);
    let mut w: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ))
    };
    writeln!(w, "time,a,b,level")?;
    let mut by_level = [0usize; 4];
    let mut steps = std::collections::BTreeSet::new();
    for r in &rows {
        // `{:?}` writes 0.0 as "0.0", as DAIDALUS's own files do
        writeln!(w, "{:?},{},{},{}", r.time, r.ownship, r.intruder, r.level as u8)?;
        by_level[r.level as usize] += 1;
        steps.insert(r.time.to_bits());
    }
    w.flush()?;
    let mut s = format!(
        "replay summary: {} (.daa, {} alerting, {})\n",
        file.display(),
        profile.name,
        if args.no_hysteresis {
            "no hysteresis".to_string()
        } else {
            format!(
                "hysteresis {}/{}, {} s, persistence {} s",
                cfg.m, cfg.n, cfg.hysteresis_s, cfg.persistence_s
            )
        }
    );
    let mut row = |label: &str, value: String| s.push_str(&format!("  {label:<28}{value:>12}\n"));
    row("records read", thousands(stats.records));
    row("rejected", thousands(stats.rejected_total()));
    row("steps", thousands(steps.len()));
    row("pair rows", thousands(rows.len()));
    for (l, name) in ["none", "preventive", "corrective", "warning"].iter().enumerate() {
        row(&format!("  level {l} {name}"), thousands(by_level[l]));
    }
    if path.as_os_str() != "-" {
        s.push_str(&format!("  levels written to {}\n", path.display()));
    }
    eprint!("{s}");
    Ok(())
}
