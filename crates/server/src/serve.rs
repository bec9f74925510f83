//! Start-up and shutdown of one node: bind, start the cluster layer and the loops, serve the
//! routes, and on shutdown a last detection step and a signed checkpoint.

use crate::config::Config;
use crate::runtime::{
    detect_once, detection_loop, hotline_loop, party_checkpoint_loop, revocation_loop, shared_store_loop,
    volume_loop,
};
use crate::state::{build_state, unix_now};
use anyhow::{Context, Result};
use std::sync::Arc;

/// Runs the service until `shutdown` resolves; then stops accepting, lets requests finish,
/// runs a last detection step and writes a final signed checkpoint.
pub async fn run<F>(config: Config, shutdown: F) -> Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    // The certificate first: a bad one stops start-up before anything is opened.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => Some(crate::tls::server_config(c, k)?),
        _ => None,
    };
    let state = build_state(config)?;
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", state.config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, tls = tls.is_some(), data_dir = %state.config.data_dir.display(), "deconflict serving");
    // A line on stdout that scripts and tests can wait for.
    println!(
        "listening on {}://{addr}",
        if tls.is_some() { "https" } else { "http" }
    );
    if let Some(c) = &state.cluster {
        let weak = Arc::downgrade(&state);
        let inbox: std::sync::Weak<dyn crate::cluster::Inbox> = weak;
        c.start(inbox).await.context("starting the NATS connection")?;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let detector = tokio::spawn(detection_loop(state.clone(), stop_rx.clone()));
    let volumes = tokio::spawn(volume_loop(state.clone(), stop_rx.clone()));
    let revocations = tokio::spawn(revocation_loop(state.clone(), stop_rx.clone()));
    let party_checkpoints = tokio::spawn(party_checkpoint_loop(state.clone(), stop_rx.clone()));
    let hotline = tokio::spawn(hotline_loop(state.clone(), stop_rx.clone()));
    let shared = state
        .shared
        .then(|| tokio::spawn(shared_store_loop(state.clone(), stop_rx)));
    let app = crate::api::router(state.clone());
    // Streams never end by themselves: they are told to when the shutdown begins, or the
    // graceful shutdown would wait for their clients for ever.
    let stopping = state.stopping.clone();
    let shutdown = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    match tls {
        Some(tls) => {
            axum::serve(crate::tls::TlsListener::new(listener, tls)?, app)
                .with_graceful_shutdown(shutdown)
                .await?
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await?
        }
    }
    let _ = stop_tx.send(true);
    let _ = detector.await;
    let _ = volumes.await;
    let _ = revocations.await;
    let _ = party_checkpoints.await;
    let _ = hotline.await;
    if let Some(h) = shared {
        let _ = h.await;
    }
    detect_once(&state).await;
    let store = state.store.clone();
    let cp = tokio::task::spawn_blocking(move || store.checkpoint(unix_now())).await?;
    match cp {
        Ok(Some(c)) => tracing::info!(seq = c.seq, "final audit checkpoint signed"),
        Ok(None) => {}
        Err(e) => tracing::error!("final checkpoint failed: {e}"),
    }
    let store = state.store.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.party_checkpoint(unix_now())).await {
        tracing::error!("final party checkpoint failed: {e}");
    }
    tracing::info!("deconflict stopped");
    Ok(())
}
