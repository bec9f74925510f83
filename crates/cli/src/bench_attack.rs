//! `deconflict bench attack`: does one party's load delay another's alerts? Two runs, each on a
//! fresh `deconflict serve` over loopback, measured the same way:
//! 1. **baseline**: an unrelated pair (ALPHA and BRAVO) is put in conflict every 250 ms at a
//!    fresh place; the time from ALPHA's report to ALPHA's warning on its stream is one sample.
//!    `/healthz` is asked every 50 ms. The server's RSS is read every 200 ms.
//! 2. **attack**: the same, while attacker parties (EVIL, EVIL2) at once post `--storm`
//!    stationary fixed-wing reports stacked within about 100 m (refreshed every 200 ms) and
//!    file intents of `--volumes` `--vertices`-vertex stars against each other's, rotated,
//!    and, with `--burst-reports N`, a third (EVIL3) keeps `--burst-posters` batches of N
//!    reports in flight at once (its own drones far apart, re-reported), as much as its rate
//!    limit takes (docs/security.md has what it does today).
//!
//! Both runs print one JSON line each, then one line comparing them (p99 ratios, RSS growth),
//! so that machine noise cancels: the goal (issue 11) is an attacked p99 alert latency of at
//! most 100 ms, `/healthz` p99 of at most 50 ms, and RSS under twice the baseline's.

use crate::bench_http::{percentile, rss_mb, start_server_default_rates, ServerProc};
use anyhow::Result;
use clap::Args;
use deconflict_store::{Role, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub(crate) struct AttackArgs {
    /// Length of each run (baseline, then attack), seconds.
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub seconds: f64,
    /// Reports per storm request (stacked within about 100 m).
    #[arg(long, default_value_t = 300)]
    pub storm: usize,
    /// Volumes per attacker filing (5 of 1,000 vertices is the most one filing may hold:
    /// `max_total_vertices`).
    #[arg(long, default_value_t = 5)]
    pub volumes: usize,
    /// Vertices per star-shaped volume.
    #[arg(long, default_value_t = 1000)]
    pub vertices: usize,
    /// Reports per batch of a third attacker's bursts (0, the default: none; at most 10,000,
    /// the service's `max_reports_per_request`).
    #[arg(long, default_value_t = 0)]
    pub burst_reports: usize,
    /// Batches the burst attacker keeps in flight at once.
    #[arg(long, default_value_t = 8)]
    pub burst_posters: usize,
}

fn unix_now() -> f64 {
    deconflict_server::unix_now()
}

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A star of `n` vertices round (`lat`, `lng`), radii alternating 20 and 12 km, turned by
/// `turn` (radians).
fn star(lat: f64, lng: f64, n: usize, turn: f64, t0: f64) -> Value {
    let vertices: Vec<Value> = (0..n)
        .map(|i| {
            let a = turn + i as f64 * std::f64::consts::TAU / n as f64;
            let r = if i % 2 == 0 { 20_000.0 } else { 12_000.0 };
            let dlat = r * a.cos() / 111_195.0;
            let dlng = r * a.sin() / (111_195.0 * lat.to_radians().cos());
            json!({"lat": lat + dlat, "lng": lng + dlng})
        })
        .collect();
    let t = |x: f64| deconflict_core::strategic::format_time(x.floor());
    json!({"volume": {"outline_polygon": {"vertices": vertices},
          "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
          "altitude_upper": {"value": 3000, "reference": "W84", "units": "M"}},
         "time_start": {"value": t(t0), "format": "RFC3339"}, "time_end": {"value": t(t0 + 3600.0), "format": "RFC3339"}})
}

fn drone(asset: &str, lat: f64, lng: f64, trk: f64) -> Value {
    json!({"asset": asset, "time": unix_now(), "lat": lat, "lng": lng, "alt_m": 100.0,
           "gs_mps": 10.0, "track_deg": trk, "vs_mps": 0.0, "class": "uas_small"})
}

async fn post(client: &reqwest::Client, base: &str, token: &str, reports: &[Value]) -> Result<()> {
    let r = client
        .post(format!("{base}/v1/tracks"))
        .bearer_auth(token)
        .json(reports)
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "POST /v1/tracks: {}", r.status());
    Ok(())
}

pub(crate) fn run(args: &AttackArgs) -> Result<()> {
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    anyhow::ensure!(
        args.vertices >= 4 && args.vertices <= 1000,
        "--vertices must be 4 to 1000"
    );
    anyhow::ensure!(
        args.volumes >= 1 && args.volumes <= 100,
        "--volumes must be 1 to 100"
    );
    anyhow::ensure!(args.burst_reports <= 10_000, "--burst-reports must be 0 to 10000");
    anyhow::ensure!(args.burst_posters <= 64, "--burst-posters must be 0 to 64");
    let base = one_run(args, false)?;
    println!("{base}");
    let attacked = one_run(args, true)?;
    println!("{attacked}");
    let ratio = |k: &str| r1(attacked[k].as_f64().unwrap_or(f64::NAN) / base[k].as_f64().unwrap_or(f64::NAN));
    println!(
        "{}",
        json!({"phase": "compare", "alert_p99_ratio": ratio("alert_p99_ms"), "healthz_p99_ratio": ratio("healthz_p99_ms"),
               "rss_growth": ratio("rss_max_mb"),
               "rss_added_mb": r1(attacked["rss_max_mb"].as_f64().unwrap_or(f64::NAN) - base["rss_max_mb"].as_f64().unwrap_or(f64::NAN)),
               "goal": {"alert_p99_ms": 100, "healthz_p99_ms": 50, "rss_growth_below": 2.0},
               "met": attacked["alert_p99_ms"].as_f64().is_some_and(|x| x <= 100.0)
                   && attacked["healthz_p99_ms"].as_f64().is_some_and(|x| x <= 50.0)
                   && ratio("rss_max_mb") < 2.0})
    );
    Ok(())
}

fn one_run(args: &AttackArgs, attack: bool) -> Result<Value> {
    let tmp = tempfile::tempdir()?;
    let store = Store::open(&tmp.path().join("data"))?;
    let mut tokens = HashMap::new();
    for name in ["ALPHA", "BRAVO", "EVIL", "EVIL2", "EVIL3"] {
        store.add_party(name, None, Role::Party, unix_now())?;
        tokens.insert(name, store.issue_token(name, unix_now())?);
    }
    drop(store);
    // The service's default rate limits, as an attacker meets them (the disclosure budget is
    // out of reach, so that the filings go on).
    let server: ServerProc = start_server_default_rates(tmp.path())?;
    let (base, pid) = (server.base.clone(), server.child.id());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let out = rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let alert_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
        // ALPHA's stream: each warning about a probe drone is a sample.
        let stream = {
            let (client, base, tok, pending, alert_ms) =
                (client.clone(), base.clone(), tokens["ALPHA"].clone(), pending.clone(), alert_ms.clone());
            tokio::spawn(async move {
                let mut resp = client.get(format!("{base}/v1/stream")).bearer_auth(&tok).send().await?;
                let mut buf = String::new();
                while let Some(chunk) = resp.chunk().await? {
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buf.find("\n\n") {
                        let ev: String = buf.drain(..end + 2).collect();
                        let Some(data) = ev.lines().find_map(|l| l.strip_prefix("data:")) else { continue };
                        let Ok(v) = serde_json::from_str::<Value>(data.trim()) else { continue };
                        if v["level"] == 3 {
                            if let Some(t) = v["own_asset"].as_str().and_then(|a| pending.lock().unwrap_or_else(|e| e.into_inner()).remove(a)) {
                                alert_ms.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_secs_f64() * 1e3);
                            }
                        }
                    }
                }
                Ok::<_, anyhow::Error>(())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss_start = rss_mb(pid);
        let rss_max = Arc::new(Mutex::new(rss_start.unwrap_or(0.0)));
        let healthz_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
        let mut tasks = Vec::new();
        {
            let (client, base, stop, healthz_ms, rss_max) = (client.clone(), base.clone(), stop.clone(), healthz_ms.clone(), rss_max.clone());
            tasks.push(tokio::spawn(async move {
                let mut k = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                        healthz_ms.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    k += 1;
                    if k.is_multiple_of(4) {
                        if let Some(r) = rss_mb(pid) {
                            let mut m = rss_max.lock().unwrap_or_else(|e| e.into_inner());
                            *m = m.max(r);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        let filed = Arc::new(AtomicU64::new(0));
        let (burst_stored, burst_refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let filing_max_ms = Arc::new(Mutex::new(0.0f64));
        if attack {
            // The storm: stacked stationary fixed-wing reports, refreshed every 200 ms.
            {
            let (client, base, stop, tok, n) = (client.clone(), base.clone(), stop.clone(), tokens["EVIL"].clone(), args.storm);
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = unix_now();
                    let reports: Vec<Value> = (0..n)
                        .map(|i| json!({"asset": format!("S{i}"), "time": t, "lat": 10.0 + (i / 17) as f64 * 6.0 / 111_195.0,
                                        "lng": 10.0 + (i % 17) as f64 * 6.0 / 109_500.0, "alt_m": 1000.0, "gs_mps": 0.0,
                                        "track_deg": 0.0, "vs_mps": 0.0, "class": "fixed_wing"}))
                        .collect();
                    post(&client, &base, &tok, &reports).await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Ok::<_, anyhow::Error>(())
            }));
            }
            // Bursts: batches of EVIL3's own drones, 200 m apart on a grid far from everyone,
            // re-reported by `posters` tasks at once, as fast as they are answered.
            for _ in 0..if args.burst_reports > 0 { args.burst_posters } else { 0 } {
                let (client, base, stop, tok, n) = (client.clone(), base.clone(), stop.clone(), tokens["EVIL3"].clone(), args.burst_reports);
                let (stored, refused) = (burst_stored.clone(), burst_refused.clone());
                tasks.push(tokio::spawn(async move {
                    // The body is rendered once a second and re-sent: the bench shares the
                    // server's two cores, and rendering 10,000 reports per request would
                    // measure the load generator.
                    let mut body: (f64, Vec<u8>) = (f64::NEG_INFINITY, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let t = unix_now();
                        if t - body.0 >= 1.0 {
                            let reports: Vec<Value> = (0..n)
                                .map(|i| json!({"asset": format!("B{i}"), "time": t, "lat": 50.0 + (i / 100) as f64 * 200.0 / 111_195.0,
                                                "lng": 10.0 + (i % 100) as f64 * 200.0 / 71_700.0, "alt_m": 100.0, "gs_mps": 0.0,
                                                "track_deg": 0.0, "vs_mps": 0.0, "class": "uas_small"}))
                                .collect();
                            body = (t, serde_json::to_vec(&reports)?);
                        }
                        let r = client.post(format!("{base}/v1/tracks")).bearer_auth(&tok)
                            .header("content-type", "application/json").body(body.1.clone()).send().await?;
                        if r.status().is_success() {
                            stored.fetch_add(n as u64, Ordering::Relaxed);
                        } else {
                            refused.fetch_add(n as u64, Ordering::Relaxed);
                            // over the rate limit (429): the bucket refills at 20,000 a second
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    Ok::<_, anyhow::Error>(())
                }));
            }
            // Heavy filings: stars against each other's, rotated, from two attacker parties.
            for (who, turn) in [("EVIL", 0.0), ("EVIL2", 0.01)] {
                let (client, base, stop, tok, filed, filing_max_ms) =
                    (client.clone(), base.clone(), stop.clone(), tokens[who].clone(), filed.clone(), filing_max_ms.clone());
                let (vols, verts) = (args.volumes, args.vertices);
                tasks.push(tokio::spawn(async move {
                    let t0 = unix_now() + 600.0;
                    let body = json!({"extents": (0..vols).map(|v| star(20.0 + v as f64 * 0.01, 20.0, verts, turn, t0)).collect::<Vec<_>>()});
                    let mut version: Option<u64> = None;
                    while !stop.load(Ordering::Relaxed) {
                        let mut b = body.clone();
                        if let Some(v) = version {
                            b["version"] = json!(v);
                        }
                        let t = Instant::now();
                        let r = client.put(format!("{base}/v1/intents/stars")).bearer_auth(&tok).json(&b).send().await?;
                        let status = r.status();
                        let answer: Value = r.json().await.unwrap_or(Value::Null);
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        {
                            let mut m = filing_max_ms.lock().unwrap_or_else(|e| e.into_inner());
                            *m = m.max(ms);
                        }
                        filed.fetch_add(1, Ordering::Relaxed);
                        version = answer["version"].as_u64().or(version);
                        if !status.is_success() {
                            // Over the disclosure budget (429) or a lost race (409): go on.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    Ok::<_, anyhow::Error>(())
                }));
            }
        }
        // The unrelated pair: head on, 30 m apart (separation already lost: a warning).
        let start = Instant::now();
        let mut k = 0u64;
        while start.elapsed().as_secs_f64() < args.seconds {
            let lat = -40.0 + (k as f64 * 0.05) % 20.0;
            let lng = -100.0 + (k as f64 * 0.37) % 60.0;
            let a = format!("PROBE-{k}");
            post(&client, &base, &tokens["BRAVO"], &[drone(&format!("{a}-b"), lat + 30.0 / 111_195.0, lng, 180.0)]).await?;
            pending.lock().unwrap_or_else(|e| e.into_inner()).insert(a.clone(), Instant::now());
            post(&client, &base, &tokens["ALPHA"], &[drone(&a, lat, lng, 0.0)]).await?;
            k += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
        stream.abort();
        let mut a = alert_ms.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut h = healthz_ms.lock().unwrap_or_else(|e| e.into_inner()).clone();
        a.sort_by(f64::total_cmp);
        h.sort_by(f64::total_cmp);
        let unanswered = pending.lock().unwrap_or_else(|e| e.into_inner()).len();
        let rss_max = *rss_max.lock().unwrap_or_else(|e| e.into_inner());
        let filing_max = *filing_max_ms.lock().unwrap_or_else(|e| e.into_inner());
        Ok::<_, anyhow::Error>(json!({
            "phase": if attack { "attack" } else { "baseline" },
            "probes": k, "alerts": a.len(), "unanswered": unanswered,
            "alert_p50_ms": r1(percentile(&a, 0.5)), "alert_p99_ms": r1(percentile(&a, 0.99)),
            "alert_max_ms": r1(a.last().copied().unwrap_or(f64::NAN)),
            "healthz_samples": h.len(), "healthz_p50_ms": r1(percentile(&h, 0.5)), "healthz_p99_ms": r1(percentile(&h, 0.99)),
            "rss_start_mb": rss_start.map(r1), "rss_max_mb": r1(rss_max),
            "storm_reports": if attack { args.storm } else { 0 },
            "burst_reports_stored": burst_stored.load(Ordering::Relaxed),
            "burst_reports_refused": burst_refused.load(Ordering::Relaxed),
            "filings": filed.load(Ordering::Relaxed), "filing_max_ms": r1(filing_max),
        }))
    })?;
    drop(server);
    Ok(out)
}
