//! `deconflict bench http`: the service over real HTTP on loopback, measured.
//!
//! Starts `deconflict serve` as a child process on a fresh SQLite data directory, registers the
//! parties, and measures from this process:
//! 1. **ingest**: track reports per second, in batches, with detection running;
//! 2. **latency**: report-to-alert time while `--tracks` live tracks of `--parties` parties
//!    report at 1 Hz. Each second, probe pairs are placed in conflict; the time from sending the
//!    second report of a pair to receiving its alert on the party's stream is one sample;
//! 3. **soak** (with `--soak-s`): the 1 Hz load for that long, printing the server's RSS.

use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_core::synth::{generate, SynthParams};
use deconflict_store::{Role, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub(crate) struct HttpArgs {
    /// Live tracks in the latency and soak phases.
    #[arg(long, default_value_t = 10_000)]
    pub tracks: usize,
    /// Parties the tracks are spread over.
    #[arg(long, default_value_t = 4)]
    pub parties: usize,
    /// Reports per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent requests in the ingest phase.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Length of the ingest phase, seconds.
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub ingest_s: f64,
    /// Length of the latency phase, seconds.
    #[arg(long, default_value_t = 20.0, value_parser = crate::common::seconds)]
    pub latency_s: f64,
    /// Probe pairs placed in conflict per second in the latency phase.
    #[arg(long, default_value_t = 10)]
    pub probes: usize,
    /// Length of the filings phase (PUT /v1/intents), seconds (0: none).
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub filings_s: f64,
    /// Concurrent requests in the filings phase.
    #[arg(long, default_value_t = 8)]
    pub filing_workers: usize,
    /// Length of the soak phase, seconds (0: none).
    #[arg(long, default_value_t = 0.0, value_parser = crate::common::seconds)]
    pub soak_s: f64,
}

fn unix_now() -> f64 {
    deconflict_server::unix_now()
}

pub(crate) struct ServerProc {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic generator for the load (splitmix64), so the bench needs no RNG crate.
fn rand_state(seed: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn next(s: &mut u64) -> f64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Resident memory of a process, MiB (Linux).
pub(crate) fn rss_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn mb(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0))
}

pub(crate) fn start_server(dir: &std::path::Path) -> Result<ServerProc> {
    start_server_with(dir, &dir.join("data"), &[])
}

/// The benches' configuration: throughput, so the disclosure budget and (unless
/// `default_rates`) the rate limits are out of reach.
fn bench_toml(default_rates: bool) -> String {
    let mut t = format!(
        "max_body_bytes = 16777216\nmax_live_tracks_per_party = 10000000\nmetrics_token = {BENCH_METRICS_TOKEN:?}\n[disclosure]\nper_party_per_hour = 100000000\n"
    );
    if !default_rates {
        t.push_str("[rate]\nrequests_per_s = 10000000\nrequest_burst = 10000000\nreports_per_s = 10000000\nreport_burst = 10000000\n");
    }
    t
}

/// `deconflict serve` as [`start_server`], but every party under the service's default rate
/// limits (`[rate]`), as an attacker faces them.
pub(crate) fn start_server_default_rates(dir: &std::path::Path) -> Result<ServerProc> {
    spawn_server(dir, &dir.join("data"), &[], &bench_toml(true))
}

/// The `metrics_token` of the servers the benches start.
pub(crate) const BENCH_METRICS_TOKEN: &str = "bench-metrics-token-0001";

/// `deconflict serve` on a free port with the data directory `data` and extra flags.
pub(crate) fn start_server_with(
    dir: &std::path::Path,
    data: &std::path::Path,
    extra: &[String],
) -> Result<ServerProc> {
    // The benches measure throughput: the disclosure budget (a policy against probing) is
    // set out of reach, so that their thousands of filings between a few parties go through.
    spawn_server(dir, data, extra, &bench_toml(false))
}

fn spawn_server(
    dir: &std::path::Path,
    data: &std::path::Path,
    extra: &[String],
    toml: &str,
) -> Result<ServerProc> {
    let cfg = dir.join("bench.toml");
    std::fs::write(&cfg, toml)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting deconflict serve")?;
    let mut out = std::io::BufReader::new(child.stdout.take().context("server stdout")?);
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line)? == 0 {
            bail!("the server exited before listening");
        }
        if let Some(b) = line.trim().strip_prefix("listening on ") {
            let base = b.to_string();
            std::thread::spawn(move || {
                let mut sink = String::new();
                while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    sink.clear();
                }
            });
            return Ok(ServerProc { child, base });
        }
    }
}

/// The fleet: tracks spread over parties. Each report's JSON is rendered once, split at its
/// time value, so a request body costs a copy, not a serialization (the load generator shares
/// the machine with the servers it measures).
pub(crate) struct Fleet {
    /// Per party, per track: the report's JSON before and after the time value.
    parties: Vec<Vec<(String, String)>>,
}

impl Fleet {
    pub(crate) fn new(tracks: usize, parties: usize) -> Fleet {
        let states = generate(&SynthParams::bench(tracks, 7));
        let mut p = vec![Vec::new(); parties];
        for (i, s) in states.iter().enumerate() {
            let (lat, lng) = s.lat_lng();
            let rest = json!({"lat": lat, "lng": lng, "alt_m": s.alt_m, "gs_mps": s.ground_speed(),
                              "track_deg": s.track_deg(), "vs_mps": s.vs_mps, "class": "fixed_wing"})
            .to_string();
            p[i % parties].push((
                format!("{{\"asset\":\"T{i:06}\",\"time\":"),
                format!(",{}", &rest[1..]),
            ));
        }
        Fleet { parties: p }
    }

    /// How many requests of `batch` reports one party's tracks make.
    pub(crate) fn chunks(&self, party: usize, batch: usize) -> usize {
        self.parties[party].len().div_ceil(batch.max(1)).max(1)
    }

    /// Request body `chunk` of one party's tracks at time `t` (positions held; the point is
    /// load).
    pub(crate) fn body(&self, party: usize, batch: usize, chunk: usize, t: f64) -> String {
        let batch = batch.max(1);
        let tracks = &self.parties[party];
        let from = (chunk * batch).min(tracks.len());
        let to = (from + batch).min(tracks.len());
        let time = t.to_string();
        let mut out = String::with_capacity((to - from) * 200 + 2);
        out.push('[');
        for (i, (head, tail)) in tracks[from..to].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(head);
            out.push_str(&time);
            out.push_str(tail);
        }
        out.push(']');
        out
    }

    /// All of one party's request bodies at time `t`.
    fn bodies(&self, party: usize, batch: usize, t: f64) -> Vec<String> {
        (0..self.chunks(party, batch))
            .map(|c| self.body(party, batch, c, t))
            .collect()
    }
}

async fn post(client: &reqwest::Client, base: &str, token: &str, body: String) -> Result<usize> {
    let r = client
        .post(format!("{base}/v1/tracks"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        bail!("POST /v1/tracks: {status}: {v}");
    }
    Ok(v["accepted"].as_u64().unwrap_or(0) as usize)
}

/// A party's newest alert sequence number, paging through `/v1/alerts`.
async fn last_seq(client: &reqwest::Client, base: &str, token: &str) -> Result<u64> {
    let mut last = 0u64;
    loop {
        let v: Value = client
            .get(format!("{base}/v1/alerts?after={last}&limit=10000"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        match v
            .as_array()
            .and_then(|a| a.last())
            .and_then(|a| a["seq"].as_u64())
        {
            Some(s) => last = s,
            None => return Ok(last),
        }
    }
}

/// Reports per second over `secs`: `workers` concurrent requests of `batch` reports, worker
/// `w` sending party `w % parties`'s chunks in turn. Each (party, chunk) always goes to the
/// same node, `bases[(party + parties * chunk) % len]`: an asset's reports come in through one
/// node, as they would from one feed, and the nodes get about equal shares. Returns (reports
/// accepted, seconds).
pub(crate) async fn ingest_phase(
    client: &reqwest::Client,
    bases: &[String],
    fleet: &Arc<Fleet>,
    tokens: &[String],
    batch: usize,
    workers: usize,
    ingest_s: f64,
) -> Result<(u64, f64)> {
    let accepted = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, bases, fleet, tokens, accepted, stop) = (
            client.clone(),
            bases.to_vec(),
            fleet.clone(),
            tokens.to_vec(),
            accepted.clone(),
            stop.clone(),
        );
        let party = w % tokens.len();
        let chunks = fleet.chunks(party, batch);
        tasks.push(tokio::spawn(async move {
            let mut chunk = w / tokens.len();
            while !stop.load(Ordering::Relaxed) {
                chunk = (chunk + 1) % chunks;
                let base = &bases[(party + tokens.len() * chunk) % bases.len()];
                let body = fleet.body(party, batch, chunk, unix_now());
                accepted.fetch_add(
                    post(&client, base, &tokens[party], body).await? as u64,
                    Ordering::Relaxed,
                );
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(ingest_s)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let n = accepted.load(Ordering::Relaxed);
    Ok((n, secs))
}

/// Filings per second over `secs` (`PUT /v1/intents`), worker `w` filing on
/// `bases[w % len]`. Returns (filed, of which with conflicts, seconds).
pub(crate) async fn filings_phase(
    client: &reqwest::Client,
    bases: &[String],
    tokens: &[String],
    workers: usize,
    filings_s: f64,
) -> Result<(u64, u64, f64)> {
    let filed = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let start_t = (unix_now() / 3600.0).ceil() * 3600.0;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, base, tokens, filed, conflicts, stop) = (
            client.clone(),
            bases[w % bases.len()].clone(),
            tokens.to_vec(),
            filed.clone(),
            conflicts.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_state(w as u64 + 1);
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let party = (w + k as usize) % tokens.len();
                let lat = 30.0 + next(&mut rng) * 18.0;
                let lng = 20.0 + next(&mut rng) * 24.0;
                let t = start_t + (next(&mut rng) * 7.0 * 86_400.0).floor();
                let lo = (next(&mut rng) * 8000.0).floor();
                let body = json!({"extents": [{"volume": {
                    "outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": 1000.0 + next(&mut rng) * 4000.0, "units": "M"}},
                    "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": lo + 500.0, "reference": "W84", "units": "M"}},
                    "time_start": {"value": deconflict_core::track::format_rfc3339(t), "format": "RFC3339"},
                    "time_end": {"value": deconflict_core::track::format_rfc3339(t + 3600.0), "format": "RFC3339"}}]});
                let r = client
                    .put(format!("{base}/v1/intents/w{w}-{k}"))
                    .bearer_auth(&tokens[party])
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                let status = r.status();
                let v: Value = r.json().await?;
                if status.as_u16() != 201 {
                    bail!("PUT /v1/intents: {status}: {v}");
                }
                if v["conflicts"].as_array().is_some_and(|c| !c.is_empty()) {
                    conflicts.fetch_add(1, Ordering::Relaxed);
                }
                filed.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(filings_s)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    let secs = t0.elapsed().as_secs_f64();
    let n = filed.load(Ordering::Relaxed);
    Ok((n, conflicts.load(Ordering::Relaxed), secs))
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn run(args: &HttpArgs) -> Result<()> {
    anyhow::ensure!(args.parties >= 2, "--parties must be at least 2");
    anyhow::ensure!(
        args.batch >= 1 && args.workers >= 1,
        "--batch and --workers must be positive"
    );
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let tmp = tempfile::tempdir()?;
    // Parties and tokens, as an operator would make them.
    let store = Store::open(&tmp.path().join("data"))?;
    let mut tokens = Vec::new();
    for p in 0..args.parties {
        let name = format!("P{p}");
        store.add_party(&name, None, Role::Party, unix_now())?;
        tokens.push(store.issue_token(&name, unix_now())?);
    }
    drop(store);
    let server = start_server(tmp.path())?;
    eprintln!(
        "bench http: server {} on {cores} cores; {} tracks, {} parties, batches of {}",
        server.base, args.tracks, args.parties, args.batch
    );
    let fleet = Arc::new(Fleet::new(args.tracks, args.parties));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let base = server.base.clone();
    let pid = server.child.id();
    rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;

        // 1. Ingest throughput.
        let (n, secs) = ingest_phase(&client, std::slice::from_ref(&base), &fleet, &tokens, args.batch, args.workers, args.ingest_s).await?;
        println!(
            "{}",
            json!({"phase": "ingest", "reports": n, "seconds": (secs * 100.0).round() / 100.0,
                   "reports_per_s": (n as f64 / secs).round(), "batch": args.batch, "workers": args.workers,
                   "cores": cores})
        );

        // 1b. Strategic filings: small intents spread over a week and a 2,000 km box (most do
        // not conflict), each stored durably before its answer.
        if args.filings_s > 0.0 {
            let (n, with_conflicts, secs) =
                filings_phase(&client, std::slice::from_ref(&base), &tokens, args.filing_workers, args.filings_s).await?;
            println!(
                "{}",
                json!({"phase": "filings", "store": "sqlite", "filings": n, "with_conflicts": with_conflicts,
                       "seconds": (secs * 100.0).round() / 100.0, "filings_per_s": (n as f64 / secs).round(),
                       "workers": args.filing_workers, "cores": cores})
            );
        }

        // 2. Latency at 1 Hz with live streams.
        let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
        let samples: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
        let mut streams = Vec::new();
        for tok in &tokens {
            let (client, base, tok, pending, samples) = (client.clone(), base.clone(), tok.clone(), pending.clone(), samples.clone());
            let from = last_seq(&client, &base, &tok).await?;
            streams.push(tokio::spawn(async move {
                let mut resp = client.get(format!("{base}/v1/stream?after={from}")).bearer_auth(&tok).send().await?;
                let mut buf = String::new();
                while let Some(chunk) = resp.chunk().await? {
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buf.find("\n\n") {
                        let ev: String = buf.drain(..end + 2).collect();
                        if let Some(data) = ev.lines().find_map(|l| l.strip_prefix("data:")) {
                            if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                                if v["event"] == "new" {
                                    if let Some(a) = v["own_asset"].as_str() {
                                        if let Some(t) = pending.lock().unwrap_or_else(|e| e.into_inner()).remove(a) {
                                            samples.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_secs_f64() * 1e3);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        // Streams resume from each party's newest alert: give them a moment to connect.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let steady = |secs: f64, probes: usize| {
            let (client, base, fleet, tokens, pending) = (client.clone(), base.clone(), fleet.clone(), tokens.clone(), pending.clone());
            let batch = args.batch;
            async move {
                let start = Instant::now();
                let mut second = 0u64;
                while start.elapsed().as_secs_f64() < secs {
                    let tick = Instant::now();
                    let t = unix_now();
                    let mut reqs = Vec::new();
                    for (p, tok) in tokens.iter().enumerate() {
                        for body in fleet.bodies(p, batch, t) {
                            let (client, base, tok) = (client.clone(), base.clone(), tok.clone());
                            reqs.push(tokio::spawn(async move { post(&client, &base, &tok, body).await }));
                        }
                    }
                    for r in reqs {
                        r.await??;
                    }
                    // Probe pairs at a fresh place each: party 1's drone first, then party 0's
                    // (which creates the conflict); time from the second report to party 0's alert.
                    for k in 0..probes {
                        let lat = -60.0 + (second as f64 * probes as f64 + k as f64) * 0.05 % 30.0;
                        let lng = -150.0 + (second as f64 * 0.37 + k as f64 * 0.11) % 100.0;
                        let a = format!("PROBE-{second}-{k}");
                        let rep = |asset: &str| {
                            Value::from(vec![json!({"asset": asset, "time": unix_now(), "lat": lat, "lng": lng, "alt_m": 100.0,
                                "gs_mps": 10.0, "track_deg": 0.0, "vs_mps": 0.0, "class": "uas_small"})])
                            .to_string()
                        };
                        post(&client, &base, &tokens[1], rep(&format!("{a}-b"))).await?;
                        pending.lock().unwrap_or_else(|e| e.into_inner()).insert(a.clone(), Instant::now());
                        post(&client, &base, &tokens[0], rep(&a)).await?;
                    }
                    second += 1;
                    let spent = tick.elapsed();
                    if spent < Duration::from_secs(1) {
                        tokio::time::sleep(Duration::from_secs(1) - spent).await;
                    }
                }
                Ok::<_, anyhow::Error>(second)
            }
        };
        let seconds = steady(args.latency_s, args.probes).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut s = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let lost = pending.lock().unwrap_or_else(|e| e.into_inner()).len();
        s.sort_by(f64::total_cmp);
        println!(
            "{}",
            json!({"phase": "latency", "live_tracks": args.tracks, "parties": args.parties, "seconds": seconds,
                   "samples": s.len(), "unanswered": lost,
                   "p50_ms": (percentile(&s, 0.5) * 10.0).round() / 10.0,
                   "p99_ms": (percentile(&s, 0.99) * 10.0).round() / 10.0,
                   "max_ms": (s.last().copied().unwrap_or(f64::NAN) * 10.0).round() / 10.0, "cores": cores})
        );

        // 3. Soak: the same 1 Hz load; memory must stay flat.
        if args.soak_s > 0.0 {
            let start = rss_mb(pid);
            eprintln!("soak: {} s at {} tracks, server RSS {:?} MiB", args.soak_s, args.tracks, start);
            // RSS once a minute, to tell a plateau (buffers filling to their bounds) from a leak.
            let by_minute: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
            let samples = by_minute.clone();
            let sampler = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    let r = rss_mb(pid);
                    eprintln!("soak: server RSS {r:?} MiB");
                    samples.lock().unwrap_or_else(|e| e.into_inner()).push(mb(r));
                }
            });
            steady(args.soak_s, 0).await?;
            sampler.abort();
            let end = rss_mb(pid);
            println!(
                "{}",
                json!({"phase": "soak", "seconds": args.soak_s, "live_tracks": args.tracks,
                       "server_rss_start_mb": mb(start), "server_rss_end_mb": mb(end),
                       "server_rss_by_minute_mb": by_minute.lock().unwrap_or_else(|e| e.into_inner()).clone()})
            );
        }
        for s in streams {
            s.abort();
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
