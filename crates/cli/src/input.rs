//! Reading track reports from files: opens the file, unzips it when it is gzip (detected by
//! its magic bytes), and hands the bytes to [`deconflict_core::input`], which parses our JSON
//! Lines and the trajectory arrays of the `traffic` package. Here only the warnings are
//! printed.

use anyhow::{Context, Result};
pub(crate) use deconflict_core::input::{Format, ReadStats};
use deconflict_core::TrackReport;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How many rejected records are printed one by one before only counting.
const MAX_PRINTED: usize = 20;

fn open(path: &Path) -> Result<(Box<dyn BufRead>, bool)> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    drop(f);
    let f = File::open(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok((
            Box::new(BufReader::with_capacity(
                1 << 16,
                flate2::read::MultiGzDecoder::new(f),
            )),
            true,
        ))
    } else {
        Ok((Box::new(BufReader::with_capacity(1 << 16, f)), false))
    }
}

/// Reads every report of a file, in file order. Bad records are reported on stderr with their
/// line (or record) number and the field at fault (the first [`MAX_PRINTED`], then only
/// counted), and skipped.
pub(crate) fn read_reports(path: &Path, quiet: bool) -> Result<(Vec<TrackReport>, ReadStats)> {
    let (reader, gzip) = open(path)?;
    let mut printed = 0usize;
    let mut warn = |location: &str, e: &deconflict_core::ReportError| {
        if !quiet {
            if printed < MAX_PRINTED {
                eprintln!("warning: {location}: {e}; skipped");
            } else if printed == MAX_PRINTED {
                eprintln!("warning: further rejected records are only counted (see the summary)");
            }
        }
        printed += 1;
    };
    let (out, mut stats) = deconflict_core::input::read_reports(reader, &mut warn).context("read error")?;
    stats.gzip = gzip;
    Ok((out, stats))
}
