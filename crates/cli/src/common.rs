//! Options and helpers shared by the commands.

use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_core::{SeparationStandard, SeparationTable};
use std::path::PathBuf;

/// A number of seconds on the command line (`value_parser = seconds`): finite, from 0 to a
/// day, so that no duration made of it can overflow or panic.
pub(crate) fn seconds(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if x.is_finite() && (0.0..=86_400.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("`{s}`: must be from 0 to 86400 seconds"))
    }
}

/// The service's settings from `--config FILE` (TOML, docs/operations.md), or the defaults;
/// an error names the file.
pub(crate) fn service_config(path: Option<&std::path::Path>) -> Result<deconflict_server::Config> {
    let Some(p) = path else {
        return Ok(deconflict_server::Config::default());
    };
    let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    deconflict_server::Config::from_toml(&text).with_context(|| format!("in {}", p.display()))
}

/// Which separation standards to use.
#[derive(Debug, Clone, Args)]
pub(crate) struct StandardArgs {
    /// Separation table (TOML, see `deconflict standards`); default: the built-in table.
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// One uniform standard for every pair instead of the table: horizontal radius, metres.
    #[arg(long, requires_all = ["half_height_m", "lookahead_s"])]
    pub radius_m: Option<f64>,
    /// ... vertical half-height, metres.
    #[arg(long, requires_all = ["radius_m", "lookahead_s"])]
    pub half_height_m: Option<f64>,
    /// ... lookahead, seconds.
    #[arg(long, requires_all = ["radius_m", "half_height_m"])]
    pub lookahead_s: Option<f64>,
}

impl StandardArgs {
    pub(crate) fn table(&self) -> Result<SeparationTable> {
        if let (Some(r), Some(h), Some(l)) = (self.radius_m, self.half_height_m, self.lookahead_s) {
            if self.table.is_some() {
                bail!("--table and --radius-m/--half-height-m/--lookahead-s exclude each other");
            }
            return Ok(SeparationTable::uniform(SeparationStandard::new(r, h, l))?);
        }
        match &self.table {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                Ok(SeparationTable::from_toml(&text).with_context(|| format!("in {}", p.display()))?)
            }
            None => Ok(SeparationTable::defaults()),
        }
    }
}

/// Rounds to a fixed number of decimals for output.
pub(crate) fn round(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (x * k).round() / k
}

/// A finite number as JSON, or null.
pub(crate) fn num(x: f64, decimals: i32) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(round(x, decimals))
    } else {
        serde_json::Value::Null
    }
}

/// Thousands separators for the summary tables.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
