//! `deconflict demo`: the Latakia 2015 scenario live. One command starts the service on SQLite
//! (a temporary data directory unless `--data-dir`), registers the parties and issues their
//! tokens, files their constraints and intents, and plays the scenario's tracks into the
//! service as the parties' own clients would (over HTTP, each with its token), with the hotline
//! traffic the scenario scripts (`demo_script`).

use crate::demo_script::{Script, PARTIES};
use anyhow::{bail, Context, Result};
use clap::Args;
use deconflict_store::{Role, Store, StoreOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Address for the service (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Keep the database, the key and the tokens here (default: a temporary directory,
    /// removed on exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Play the scenario this many times faster than real time (0.1 to 60).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// The scenario (JSON Lines of track reports; the party is the asset name before its first `-`).
    #[arg(long, default_value = "scenarios/latakia-2015.jsonl")]
    scenario: PathBuf,
    /// Play only the first this many seconds of scenario time.
    #[arg(long)]
    play_s: Option<f64>,
    /// Exit once the scenario has played (default: keep serving until Ctrl-C).
    #[arg(long)]
    exit: bool,
    /// The service's settings: the TOML of `serve --config` (docs/operations.md), for
    /// example shorter hotline escalation times. `--listen` and the data directory override
    /// its `listen` and `data_dir`; the demo runs on SQLite, so it may not set `store` or
    /// `nats`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Registers the demo's parties (those that exist already are kept) and issues each a fresh
/// token, written to `DIR/tokens/NAME.token`; returns (name, token) in [`PARTIES`] order.
fn register(dir: &Path) -> Result<Vec<(String, String)>> {
    let store = Store::connect(&StoreOptions {
        url: None,
        data_dir: dir.to_path_buf(),
        checkpoint_every: deconflict_store::DEFAULT_CHECKPOINT_EVERY,
        node: deconflict_store::DEFAULT_NODE.to_string(),
        pg_schema: None,
    })
    .with_context(|| format!("opening the store in {}", dir.display()))?;
    let now = deconflict_server::unix_now();
    let tokens_dir = dir.join("tokens");
    std::fs::create_dir_all(&tokens_dir)?;
    let mut out = Vec::new();
    for p in PARTIES {
        if store.party_by_name(p.name)?.is_none() {
            let role = if p.observer { Role::Observer } else { Role::Party };
            store.add_party(p.name, p.member_of, role, now)?;
        }
        let token = store.issue_token(p.name, now)?;
        std::fs::write(tokens_dir.join(format!("{}.token", p.name)), format!("{token}\n"))?;
        out.push((p.name.to_string(), token));
    }
    Ok(out)
}

/// A free loopback port when `--listen` asks for port 0 (the service is told the number).
fn concrete(addr: SocketAddr) -> Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let l = std::net::TcpListener::bind(addr).context("finding a free port")?;
    Ok(l.local_addr()?)
}

fn banner(base: &str, dir: &Path, temporary: bool, speed: f64, scenario: &Path) {
    println!(
        "deconflict demo: the service is up at {base} (SQLite in {})",
        dir.display()
    );
    if temporary {
        println!("  (a temporary directory, removed on exit; keep it with --data-dir DIR)");
    }
    println!("  the parties, and the token file each signs in with:");
    for p in PARTIES {
        println!(
            "    {:<8} {:<58} {}",
            p.name,
            p.who,
            dir.join("tokens").join(format!("{}.token", p.name)).display()
        );
    }
    println!("  the map: open {base}/ and sign in with the party's token (paste the file's contents;");
    println!("  it stays in that browser tab only). Each party's map:");
    for p in PARTIES {
        println!(
            "    {:<8} {base}/   token: {}",
            p.name,
            dir.join("tokens").join(format!("{}.token", p.name)).display()
        );
    }
    println!("  or from a terminal, as COAL:");
    println!(
        "    curl -N -H \"Authorization: Bearer $(cat {}/tokens/COAL.token)\" {base}/v1/stream",
        dir.display()
    );
    println!(
        "    deconflict msg list --server {base} --token-file {}/tokens/COAL.token",
        dir.display()
    );
    println!("  playing {} at {speed}x; Ctrl-C stops", scenario.display());
}

pub(crate) fn run(args: &DemoArgs) -> Result<()> {
    if !(0.1..=60.0).contains(&args.speed) || !args.speed.is_finite() {
        bail!("--speed must be between 0.1 and 60");
    }
    if args.play_s.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        bail!("--play-s must be a positive number of seconds");
    }
    let mut config = crate::common::service_config(args.config.as_deref())?;
    if config.store.is_some() || config.nats.is_some() {
        bail!("the demo runs on its own SQLite store: remove `store` and `nats` from the --config file");
    }
    let script = Script::load(&args.scenario, args.play_s)?;
    let temp = match &args.data_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = match (&args.data_dir, &temp) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => unreachable!("a temporary directory exists when no --data-dir is given"),
    };
    std::fs::create_dir_all(&dir)?;
    let listen = concrete(args.listen)?;
    config.listen = listen;
    config.data_dir = dir.clone();
    config.validate()?;
    let tokens = register(&dir)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let base = format!("http://{listen}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    rt.block_on(async {
        let server = tokio::spawn(deconflict_server::run(config, async move {
            let _ = stop_rx.await;
        }));
        script.wait_up(&base).await?;
        banner(&base, &dir, temp.is_some(), args.speed, &args.scenario);
        let played = script.play(&base, &tokens, args.speed).await;
        match &played {
            Ok(summary) => println!("{summary}"),
            Err(e) => eprintln!("error: the scenario stopped: {e:#}"),
        }
        if !args.exit && played.is_ok() {
            println!("the scenario is over; the service stays up at {base} until Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = stop_tx.send(());
        server.await.context("the service's task")??;
        played.map(|_| ())
    })
}
