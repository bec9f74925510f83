//! `deconflict bench cluster`: one node against three, on PostgreSQL and NATS JetStream.
//!
//! In one run, on this machine, with the same load generator:
//! 1. one node on SQLite (the embedded default): ingest reports/s and filings/s;
//! 2. one node on PostgreSQL with NATS: the same two figures;
//! 3. three nodes on one PostgreSQL with NATS, the load spread over the three: the same two.
//!
//! It prints one JSON line per measurement and a summary with the ratio of three nodes to one
//! (on the same store, so the ratio shows whether a shared piece is a bottleneck; the machine's
//! cores are shared by every node, the database, NATS and the load generator).

use crate::bench_http::{filings_phase, ingest_phase, start_server_with, Fleet, ServerProc};
use anyhow::{Context, Result};
use clap::Args;
use deconflict_store::{Role, Store, StoreOptions};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    /// PostgreSQL URL (a fresh schema per phase is made and dropped).
    #[arg(long, default_value = "postgres://root@127.0.0.1:5432/test")]
    pub pg: String,
    /// NATS server with JetStream.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// Tracks in the ingest load.
    #[arg(long, default_value_t = 10_000)]
    pub tracks: usize,
    /// Parties the tracks are spread over.
    #[arg(long, default_value_t = 4)]
    pub parties: usize,
    /// Reports per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent requests in the ingest phase (enough to keep three nodes busy).
    #[arg(long, default_value_t = 12)]
    pub workers: usize,
    /// Length of each ingest phase, seconds.
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub ingest_s: f64,
    /// Length of each filings phase, seconds.
    #[arg(long, default_value_t = 8.0, value_parser = crate::common::seconds)]
    pub filings_s: f64,
    /// Concurrent requests in the filings phase.
    #[arg(long, default_value_t = 8)]
    pub filing_workers: usize,
    /// Nodes in the cluster phase.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
}

struct Phase {
    store: &'static str,
    nodes: usize,
    reports_per_s: f64,
    filings_per_s: f64,
}

fn make_parties(opts: &StoreOptions, parties: usize) -> Result<Vec<String>> {
    let store = Store::connect(opts)?;
    let mut tokens = Vec::new();
    for p in 0..parties {
        let name = format!("P{p}");
        store.add_party(&name, None, Role::Party, deconflict_server::unix_now())?;
        tokens.push(store.issue_token(&name, deconflict_server::unix_now())?);
    }
    Ok(tokens)
}

fn drop_schema(pg: &str, schema: &str) {
    let _ = std::process::Command::new("psql")
        .arg(pg)
        .args(["-q", "-c", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")])
        .output();
}

#[allow(clippy::too_many_arguments)]
fn measure(
    args: &ClusterArgs,
    fleet: &Arc<Fleet>,
    dir: &Path,
    store: &'static str,
    nodes: usize,
    schema: Option<&str>,
) -> Result<Phase> {
    let key_dir = dir.join("data-0");
    let opts = StoreOptions {
        url: schema.map(|_| args.pg.clone()),
        data_dir: key_dir.clone(),
        checkpoint_every: deconflict_store::DEFAULT_CHECKPOINT_EVERY,
        node: "main".into(),
        pg_schema: schema.map(str::to_string),
    };
    let tokens = make_parties(&opts, args.parties)?;
    let mut servers: Vec<ServerProc> = Vec::new();
    for i in 0..nodes {
        let data = dir.join(format!("data-{i}"));
        std::fs::create_dir_all(&data)?;
        if i > 0 {
            std::fs::copy(
                key_dir.join(deconflict_store::KEY_FILE),
                data.join(deconflict_store::KEY_FILE),
            )?;
        }
        let mut extra: Vec<String> = Vec::new();
        if let Some(s) = schema {
            extra.extend([
                "--store".into(),
                args.pg.clone(),
                "--pg-schema".into(),
                s.into(),
                "--nats".into(),
                args.nats.clone(),
                "--node".into(),
                format!("{s}-n{i}"),
            ]);
        }
        servers.push(start_server_with(dir, &data, &extra)?);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (ingest, filings) = rt.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        // Let the nodes hear each other before measuring.
        tokio::time::sleep(std::time::Duration::from_millis(if nodes > 1 {
            2500
        } else {
            500
        }))
        .await;
        let (n, secs) = ingest_phase(
            &client,
            &bases,
            fleet,
            &tokens,
            args.batch,
            args.workers,
            args.ingest_s,
        )
        .await?;
        let rps = n as f64 / secs;
        // What each node's store did meanwhile (serialization retries show contention).
        for b in &bases {
            if let Ok(r) = client
                .get(format!("{b}/metrics"))
                .bearer_auth(crate::bench_http::BENCH_METRICS_TOKEN)
                .send()
                .await
            {
                let text = r.text().await.unwrap_or_default();
                let pick = |name: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name} ")))
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .unwrap_or(0.0)
                };
                eprintln!(
                    "  node {b}: {} store transactions, {} retries, {} reports taken from other nodes",
                    pick("deconflict_store_transactions_total"),
                    pick("deconflict_store_retries_total"),
                    pick("deconflict_cluster_reports_received_total")
                );
            }
        }
        println!(
            "{}",
            json!({"phase": "ingest", "store": store, "nodes": nodes, "reports": n,
                   "seconds": (secs * 100.0).round() / 100.0, "reports_per_s": rps.round(),
                   "batch": args.batch, "workers": args.workers, "cores": cores})
        );
        let (f, with_conflicts, fsecs) =
            filings_phase(&client, &bases, &tokens, args.filing_workers, args.filings_s).await?;
        let fps = f as f64 / fsecs;
        println!(
            "{}",
            json!({"phase": "filings", "store": store, "nodes": nodes, "filings": f,
                   "with_conflicts": with_conflicts, "seconds": (fsecs * 100.0).round() / 100.0,
                   "filings_per_s": fps.round(), "workers": args.filing_workers, "cores": cores})
        );
        Ok::<_, anyhow::Error>((rps, fps))
    })?;
    drop(servers);
    Ok(Phase {
        store,
        nodes,
        reports_per_s: ingest,
        filings_per_s: filings,
    })
}

pub(crate) fn run(args: &ClusterArgs) -> Result<()> {
    anyhow::ensure!(args.parties >= 2, "--parties must be at least 2");
    anyhow::ensure!(args.nodes >= 2, "--nodes must be at least 2");
    anyhow::ensure!(
        args.workers >= 1 && args.batch >= 1,
        "--workers and --batch must be positive"
    );
    let fleet = Arc::new(Fleet::new(args.tracks, args.parties));
    let tag = format!("bench_{}", std::process::id());
    eprintln!(
        "bench cluster: {} tracks, {} parties, batches of {}, {} workers; PostgreSQL {}, NATS {}",
        args.tracks,
        args.parties,
        args.batch,
        args.workers,
        deconflict_store::redact_url(&args.pg),
        args.nats
    );
    let mut phases = Vec::new();
    {
        let tmp = tempfile::tempdir()?;
        phases.push(measure(args, &fleet, tmp.path(), "sqlite", 1, None).context("one node on SQLite")?);
    }
    for (nodes, suffix) in [(1usize, "one"), (args.nodes, "many")] {
        let tmp = tempfile::tempdir()?;
        let schema = format!("{tag}_{suffix}");
        let r = measure(args, &fleet, tmp.path(), "postgres", nodes, Some(&schema));
        drop_schema(&args.pg, &schema);
        phases.push(r.with_context(|| format!("{nodes} node(s) on PostgreSQL"))?);
    }
    let one = &phases[1];
    let many = &phases[2];
    let ratio = many.reports_per_s / one.reports_per_s;
    println!(
        "{}",
        json!({"summary": "cluster",
               "ingest_reports_per_s": phases.iter().map(|p| json!({"store": p.store, "nodes": p.nodes, "reports_per_s": p.reports_per_s.round()})).collect::<Vec<_>>(),
               "filings_per_s": phases.iter().map(|p| json!({"store": p.store, "nodes": p.nodes, "filings_per_s": p.filings_per_s.round()})).collect::<Vec<_>>(),
               "ingest_ratio_many_to_one": (ratio * 100.0).round() / 100.0,
               "bar": 0.8, "meets_bar": ratio >= 0.8})
    );
    eprintln!(
        "ingest: {:.0}/s on {} nodes vs {:.0}/s on one node (PostgreSQL + NATS): {:.2}x (bar 0.8x); SQLite one node {:.0}/s",
        many.reports_per_s,
        many.nodes,
        one.reports_per_s,
        ratio,
        phases[0].reports_per_s
    );
    eprintln!(
        "filings: {:.0}/s on PostgreSQL (one node), {:.0}/s ({} nodes), {:.0}/s on SQLite",
        one.filings_per_s, many.filings_per_s, many.nodes, phases[0].filings_per_s
    );
    Ok(())
}
