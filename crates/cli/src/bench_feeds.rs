//! `deconflict bench feeds`: SBS-1 lines/s and CoT events/s through the real bridges
//! (`deconflict feed sbs --once`, `deconflict feed cot`, each its own process) into a live
//! `deconflict serve`, from the first byte the source sends to the last report the service
//! acknowledged, with the service's own count of accepted reports beside them.
//!
//! The sources are in this process: a TCP server that writes pre-rendered SBS-1 lines (a
//! `MSG,4` velocity and a `MSG,3` position per report, `--aircraft` aircraft in turn) as fast
//! as the bridge reads them, and a TCP client that writes pre-rendered CoT events back to back.
//! Before them, the Beast decoder alone on a recorded flight's frames (frames/s).

use crate::bench_http::{start_server_with, BENCH_METRICS_TOKEN};
use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_core::track::format_rfc3339;
use deconflict_store::{Role, Store};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub(crate) struct FeedsArgs {
    /// SBS-1 lines to send (half positions, half velocities).
    #[arg(long, default_value_t = 400_000)]
    pub sbs_lines: usize,
    /// CoT events to send.
    #[arg(long, default_value_t = 200_000)]
    pub cot_events: usize,
    /// Distinct aircraft the lines and events are about.
    #[arg(long, default_value_t = 2_000)]
    pub aircraft: usize,
    /// Recorded Beast frames (`unix_time,hex` lines, gzip) to time the Beast decoder on, in
    /// this process (skipped when the file is missing).
    #[arg(long, default_value = "tests/data/beast-slice.csv.gz")]
    pub beast_frames: std::path::PathBuf,
}

/// The Beast decoder (`rs1090` and the merger) on recorded frames, in this process: the file
/// read `rounds` times over with the times moved on, so the CPR state sees a flight going on.
fn beast_decode(path: &std::path::Path) -> Result<()> {
    use deconflict_feeds::beast::BeastMerger;
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        eprintln!("bench feeds: {} missing; beast decode skipped", path.display());
        return Ok(());
    };
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(f).read_to_string(&mut text)?;
    let mut frames: Vec<(f64, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        let Some((t, hex)) = line.split_once(',') else {
            continue;
        };
        let (Ok(t), Some(bytes)) = (t.parse::<f64>(), hex.get(18..)) else {
            continue;
        };
        let msg: Option<Vec<u8>> = (0..bytes.len())
            .step_by(2)
            .map(|i| bytes.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        if let Some(m) = msg {
            frames.push((t, m));
        }
    }
    anyhow::ensure!(!frames.is_empty(), "{}: no frames in it", path.display());
    let span = frames.last().map(|f| f.0).unwrap_or(0.0) - frames[0].0 + 1.0;
    let rounds = 20;
    let mut m = BeastMerger::new();
    let (mut reports, mut refused) = (0u64, 0u64);
    let t0 = Instant::now();
    for r in 0..rounds {
        for (t, msg) in &frames {
            match m.push_frame(msg, t + f64::from(r) * span) {
                Ok(Some(_)) => reports += 1,
                Ok(None) => {}
                Err(_) => refused += 1,
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let n = frames.len() * rounds as usize;
    println!(
        "{}",
        json!({"feed": "beast_decode", "frames": n, "reports": reports, "refused": refused,
               "seconds": (secs * 1e4).round() / 1e4, "frames_per_s": (n as f64 / secs).round(),
               "note": "rs1090 decoding and the merger only, in this process; most refused frames are not DF17 and are skipped before decoding"})
    );
    Ok(())
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The service's `deconflict_reports_accepted_total`.
fn accepted(base: &str) -> Result<f64> {
    let text = ureq_get(&format!("{base}/metrics"))?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("deconflict_reports_accepted_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0))
}

fn ureq_get(url: &str) -> Result<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        Ok(reqwest::Client::new()
            .get(url)
            .bearer_auth(BENCH_METRICS_TOKEN)
            .send()
            .await?
            .text()
            .await?)
    })
}

/// A bridge process; its stderr lines on a channel.
struct Bridge {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bridge(args: &[&str], base: &str, token_file: &std::path::Path) -> Result<(Bridge, Option<String>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("feed")
        .args(args)
        .args([
            "--server",
            base,
            "--status-s",
            "0.05",
            "--batch",
            "2000",
            "--backlog",
            "1000000",
        ])
        .arg("--token-file")
        .arg(token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting deconflict feed")?;
    let err = BufReader::new(child.stderr.take().context("stderr")?);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for l in err.lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let mut listening = None;
    if args[0] == "cot" {
        let mut out = BufReader::new(child.stdout.take().context("stdout")?);
        let mut l = String::new();
        out.read_line(&mut l)?;
        listening = l
            .trim()
            .strip_prefix("listening on ")
            .and_then(|s| s.split(' ').next())
            .map(str::to_string);
    }
    Ok((Bridge { child, lines }, listening))
}

/// The "N posted" of a status line.
fn posted(line: &str) -> Option<u64> {
    let i = line.find(" posted")?;
    line[..i].rsplit(' ').next()?.parse().ok()
}

/// Waits until the bridge says it posted `n`; returns when it first did.
fn until_posted(b: &Bridge, n: u64, limit: Duration) -> Result<Instant> {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(l) = b.lines.recv_timeout(Duration::from_millis(100)) {
            if posted(&l).is_some_and(|p| p >= n) {
                return Ok(Instant::now());
            }
            last = l;
        }
    }
    bail!("the bridge did not post {n} reports within {limit:?}; last: {last}")
}

pub(crate) fn run(args: &FeedsArgs) -> Result<()> {
    beast_decode(&args.beast_frames)?;
    let aircraft = args.aircraft.clamp(1, 100_000);
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let store = Store::open(&data)?;
    store.add_party("FEEDS", None, Role::Party, unix_now())?;
    let token = store.issue_token("FEEDS", unix_now())?;
    drop(store);
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, &token)?;
    let server = start_server_with(tmp.path(), &data, &[])?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    eprintln!(
        "bench feeds: server {} on {cores} cores, {aircraft} aircraft",
        server.base
    );

    // SBS-1: a source that writes every line, then closes; the bridge runs with --once.
    let reports = args.sbs_lines / 2;
    let mut text = String::with_capacity(reports * 190);
    for i in 0..reports {
        let a = i % aircraft;
        let step = (i / aircraft) as f64;
        let icao = format!("{:06X}", 0x100000 + a);
        let lat = 30.0 + (a / 300) as f64 * 0.02 + step * 1e-4;
        let lon = 30.0 + (a % 300) as f64 * 0.02;
        text += &format!(
            "MSG,4,1,1,{icao},1,2026/12/01,18:00:00.000,2026/12/01,18:00:00.000,,,420,0,,,0,,,,,0\r\n"
        );
        text += &format!("MSG,3,1,1,{icao},1,2026/12/01,18:00:00.000,2026/12/01,18:00:00.000,,30000,,,{lat:.5},{lon:.5},,,0,0,0,0\r\n");
    }
    let src = TcpListener::bind("127.0.0.1:0")?;
    let addr = src.local_addr()?.to_string();
    let before = accepted(&server.base)?;
    let (b, _) = bridge(&["sbs", &addr, "--once"], &server.base, &token_file)?;
    let (mut conn, _) = src.accept()?;
    let t0 = Instant::now();
    conn.write_all(text.as_bytes())?;
    drop(conn);
    let done = until_posted(&b, reports as u64, Duration::from_secs(300))?;
    let secs = (done - t0).as_secs_f64();
    let service = accepted(&server.base)? - before;
    drop(b);
    println!(
        "{}",
        json!({"feed": "sbs", "lines": reports * 2, "reports": reports, "seconds": (secs * 1000.0).round() / 1000.0,
               "lines_per_s": ((reports * 2) as f64 / secs).round(), "reports_per_s": (reports as f64 / secs).round(),
               "service_accepted": service, "bar_lines_per_s": 50_000})
    );

    // CoT: one TCP connection, events back to back.
    let n = args.cot_events;
    let (t, stale) = (format_rfc3339(unix_now()), format_rfc3339(unix_now() + 600.0));
    let mut xml = String::with_capacity(n * 400);
    for i in 0..n {
        let a = i % aircraft;
        let lat = 30.0 + (a / 300) as f64 * 0.02 + (i / aircraft) as f64 * 1e-4;
        let lon = 35.0 + (a % 300) as f64 * 0.02;
        xml += &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><event version="2.0" uid="UAV-{a}" type="a-f-A-M-F-Q" how="m-g" time="{t}" start="{t}" stale="{stale}"><point lat="{lat:.6}" lon="{lon:.6}" hae="1200" ce="10" le="5"/><detail><track course="90" speed="40"/><contact callsign="UAV {a}"/></detail></event>"#
        );
    }
    let before = accepted(&server.base)?;
    let (b, listening) = bridge(&["cot", "--listen", "127.0.0.1:0"], &server.base, &token_file)?;
    let mut c = TcpStream::connect(listening.context("no listening line from feed cot")?)?;
    let t0 = Instant::now();
    c.write_all(xml.as_bytes())?;
    let done = until_posted(&b, n as u64, Duration::from_secs(300))?;
    let secs = (done - t0).as_secs_f64();
    let service = accepted(&server.base)? - before;
    println!(
        "{}",
        json!({"feed": "cot", "events": n, "seconds": (secs * 1000.0).round() / 1000.0,
               "events_per_s": (n as f64 / secs).round(), "service_accepted": service,
               "bar_events_per_s": 20_000})
    );
    Ok(())
}
