//! Liveness and metrics: `/healthz`, which needs no token and tells nothing about any party,
//! and `/metrics`, whose counters sum every party's activity and so are for the operator only
//! (behind `metrics_token`).

use crate::http::{ApiError, ErrorBody};
use crate::metrics::{ClusterSnapshot, Snapshot};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(healthz, metrics), components(schemas(Health)))]
pub(crate) struct Doc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when this node is one of several and has lost NATS (it goes on
    /// taking reports and detecting on what it holds).
    pub status: String,
    /// This node's name.
    pub node: String,
    /// `sqlite` or `postgres`.
    pub store: String,
    /// `off` (one node), `connected` or `disconnected`.
    pub nats: String,
    /// The other nodes heard within the last 3 s.
    pub peers: Vec<String>,
    /// Messages waiting for NATS.
    pub queued: u64,
}

/// Liveness and degradation; needs no token and tells nothing about any party.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz(State(s): State<AppRef>) -> Json<Health> {
    let (nats, peers, queued) = match &s.cluster {
        None => ("off", Vec::new(), 0),
        Some(c) if c.connected() => (
            "connected",
            c.live_peers(),
            c.stats.queued.load(Ordering::Relaxed),
        ),
        Some(c) => ("disconnected", Vec::new(), c.stats.queued.load(Ordering::Relaxed)),
    };
    Json(Health {
        status: if nats == "disconnected" { "degraded" } else { "ok" }.into(),
        node: s.config.node.clone(),
        store: if s.shared { "postgres" } else { "sqlite" }.into(),
        nats: nats.into(),
        peers,
        queued,
    })
}

/// Whether the request carries the operator's metrics token (compared in constant time).
fn metrics_allowed(s: &AppState, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let unauthorized = || {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "metrics need the operator's metrics token",
            Some("authorization"),
        )
    };
    // No token at all: 401, whatever the configuration.
    let got = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::http::auth::bearer_token)
        .ok_or_else(unauthorized)?;
    let Some(want) = s.config.metrics_token.as_deref() else {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "metrics are the operator's: set metrics_token in the config",
            None,
        ));
    };
    let (a, b) = (
        deconflict_store::sha256_hex(got.as_bytes()),
        deconflict_store::sha256_hex(want.as_bytes()),
    );
    if a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) != 0 {
        return Err(unauthorized());
    }
    Ok(())
}

/// Prometheus metrics (counters of the whole service, every party together): only with the
/// operator's `metrics_token` as the bearer token (401 without a token or with another one);
/// 403 to any token when none is configured.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "OpenMetrics text (Prometheus): alerts by level, scan time and stream lag histograms, hotline backlog and its age, and the rest", content_type = "application/openmetrics-text", body = String),
              (status = 401, body = ErrorBody, description = "no bearer token, or not the metrics token"),
              (status = 403, body = ErrorBody, description = "no metrics token is configured")),
    security(("bearer" = [])))]
async fn metrics(
    State(s): State<AppRef>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    metrics_allowed(&s, &headers)?;
    let store = s.store.clone();
    let (unacked, oldest) = tokio::task::spawn_blocking(move || store.hotline_backlog()).await??;
    let ws = s.store.write_stats();
    let now = crate::state::unix_now();
    let snap = Snapshot {
        live_tracks: s.engine().len() as u64,
        uptime_s: s.started.elapsed().as_secs_f64(),
        store_transactions: ws.transactions,
        store_retries: ws.retries,
        unacked_messages: unacked,
        oldest_unacked_s: oldest.map_or(0.0, |t| (now - t).max(0.0)),
        cluster: s.cluster.as_ref().map(|c| {
            let st = &c.stats;
            ClusterSnapshot {
                connected: c.connected(),
                peers: c.live_peers().len() as u64,
                queued: st.queued.load(Ordering::Relaxed),
                published: st.published.load(Ordering::Relaxed),
                publish_failures: st.publish_failures.load(Ordering::Relaxed),
                dropped: st.dropped.load(Ordering::Relaxed),
                reports_received: st.received_reports.load(Ordering::Relaxed),
                reports_rejected: st.rejected_reports.load(Ordering::Relaxed),
                alerts_received: st.received_alerts.load(Ordering::Relaxed),
            }
        }),
    };
    let text = s.metrics.encode(snap).map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}
