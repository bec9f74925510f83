//! Times `put_tracks` with 1,000 reports, and concurrent throughput through group commit.
//! Usage: cargo run --release -p deconflict-store --example put_tracks_timing [DATA_DIR]
//! (DATA_DIR defaults to a fresh temporary directory; pass one on a real disk to include the
//! real cost of fsync).

use deconflict_core::{AssetClass, TrackReport};
use deconflict_store::{Role, Store};
use std::time::Instant;

fn batch(prefix: &str, n: usize, time: f64) -> Vec<TrackReport> {
    (0..n)
        .map(|i| TrackReport {
            asset: format!("{prefix}-{i}"),
            time,
            lat: 35.0 + i as f64 * 1e-4,
            lng: 35.9,
            alt_m: 1200.0,
            gs_mps: 45.0,
            track_deg: 270.0,
            vs_mps: 0.0,
            class: AssetClass::FixedWing,
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let dir = std::env::args().nth(1).map(std::path::PathBuf::from);
    let dir = dir.as_deref().unwrap_or(tmp.path());
    let store = Store::open(dir)?;
    let name = format!("timing-{}", std::process::id());
    let p = store.add_party(&name, None, Role::Party, 0.0)?.id;

    let mut ms = Vec::new();
    for round in 0..20 {
        let reports = batch("UAV", 1000, round as f64);
        let t = Instant::now();
        store.put_tracks(p, &reports, round as f64)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "put_tracks(1000 reports): min {:.2} ms, median {:.2} ms, max {:.2} ms",
        ms[0],
        ms[ms.len() / 2],
        ms[ms.len() - 1]
    );

    // 16 concurrent callers, 100 reports per call (an HTTP-like load).
    let threads = 16;
    let calls = 200;
    let t = Instant::now();
    std::thread::scope(|s| {
        for th in 0..threads {
            let store = store.clone();
            s.spawn(move || {
                for c in 0..calls {
                    let reports = batch(&format!("T{th}"), 100, 100.0 + c as f64);
                    if let Err(e) = store.put_tracks(p, &reports, 100.0 + c as f64) {
                        eprintln!("{e}");
                    }
                }
            });
        }
    });
    let secs = t.elapsed().as_secs_f64();
    let n = threads * calls * 100;
    let stats = store.write_stats();
    println!(
        "concurrent: {n} reports in {secs:.2} s = {:.0} reports/s; {} jobs in {} transactions",
        n as f64 / secs,
        stats.jobs,
        stats.transactions
    );
    Ok(())
}
