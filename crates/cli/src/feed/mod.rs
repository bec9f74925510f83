//! `deconflict feed`: bridges from the feeds parties already run into the service, each a
//! client with a party's token. This module owns wiring a source to the poster; [`args`] is
//! the command line; [`sbs`], [`beast`] (both TCP clients through [`client`]) and [`cot`] read
//! their sources (the parsing is the sans-IO `deconflict-feeds` crate); [`sink`] takes their
//! reports, [`post`] batches and posts them, [`status`] counts; [`tls`] is the CoT listeners'
//! TLS. [`cot_out`] is the bridge the other way (a party's alert stream out to TAK clients),
//! with a loop of its own.

mod args;
mod beast;
mod client;
mod cot;
mod cot_out;
mod post;
mod sbs;
mod sink;
mod status;
mod tls;

pub(crate) use args::FeedCmd;

use anyhow::{Context, Result};
use args::ServiceArgs;
use sink::Sink;
use status::Stats;
use std::time::Duration;
use tokio::sync::mpsc;

fn token(args: &ServiceArgs) -> Result<String> {
    read_token(args.token_file.as_deref())
}

/// The party's token: from `file`, else from the DECONFLICT_TOKEN variable.
fn read_token(file: Option<&std::path::Path>) -> Result<String> {
    let t = match file {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => std::env::var("DECONFLICT_TOKEN")
            .context("no token: give --token-file FILE or set DECONFLICT_TOKEN")?,
    };
    let t = t.trim().to_string();
    anyhow::ensure!(!t.is_empty(), "the token is empty");
    Ok(t)
}

pub(crate) fn run(cmd: &FeedCmd) -> Result<()> {
    let service = match cmd {
        // Stream in, TCP out: a bridge of another shape, with its own loop.
        FeedCmd::CotOut(a) => return cot_out::run(a, read_token(a.token_file.as_deref())?),
        FeedCmd::Sbs(a) => &a.service,
        FeedCmd::Beast(a) => &a.service,
        FeedCmd::Cot(a) => &a.service,
    };
    let cfg = post::PostConfig {
        server: service.server.clone(),
        token: token(service)?,
        batch: service.batch.max(1),
        batch_wait: Duration::from_millis(service.batch_ms),
        attempts: service.attempts.max(1),
        max_age_s: 240.0,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stats = Stats::new();
        let (tx, rx) = mpsc::channel(service.backlog.max(1));
        let sink = Sink {
            tx,
            stats: stats.clone(),
        };
        let mut poster = tokio::spawn(post::run(rx, cfg, stats.clone()));
        let status = tokio::spawn(
            stats
                .clone()
                .report(Duration::from_secs_f64(service.status_s.max(0.1))),
        );
        let source = async move {
            match cmd {
                FeedCmd::Sbs(a) => sbs::run(a, sink).await,
                FeedCmd::Beast(a) => beast::run(a, sink).await,
                FeedCmd::Cot(a) => cot::run(a, sink).await,
                FeedCmd::CotOut(_) => Ok(()), // returned above
            }
        };
        let result = tokio::select! {
            r = source => r,
            // The poster ends early only on what retrying cannot fix (a refused token).
            p = &mut poster => {
                status.abort();
                return match p {
                    Ok(Ok(())) => Err(anyhow::anyhow!("the poster stopped")),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(e.into()),
                };
            }
            _ = tokio::signal::ctrl_c() => Ok(()),
        };
        // The sink is dropped with the source: the poster posts what is queued and ends.
        let posted = tokio::time::timeout(Duration::from_secs(30), poster).await;
        status.abort();
        stats.log(&format!("stopped: {}", stats.summary()));
        result?;
        match posted {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(e.into()),
            Err(_) => anyhow::bail!("the service did not take the last reports within 30 s"),
        }
    })
}
