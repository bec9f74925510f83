//! Liveness and metrics: `/healthz`, which needs no token and tells nothing about any party,
//! and `/metrics`, whose counters sum every party's activity and so are for the operator only
//! (behind `metrics_token`).

use crate::http::{ApiError, ErrorBody};
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
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
              (status = 401, body = ErrorBody, description = "no bearer token, or not the metrics token"),
              (status = 403, body = ErrorBody, description = "no metrics token is configured")),
    security(("bearer" = [])))]
async fn metrics(
    State(s): State<AppRef>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    metrics_allowed(&s, &headers)?;
    let m = &s.metrics;
    let tracks = s.engine().len();
    let ws = s.store.write_stats();
    let text = format!(
        "# TYPE deconflict_reports_accepted_total counter\ndeconflict_reports_accepted_total {}\n\
         # TYPE deconflict_reports_rejected_total counter\ndeconflict_reports_rejected_total {}\n\
         # TYPE deconflict_requests_rejected_total counter\ndeconflict_requests_rejected_total {}\n\
         # TYPE deconflict_alerts_sent_total counter\ndeconflict_alerts_sent_total {}\n\
         # TYPE deconflict_scans_total counter\ndeconflict_scans_total {}\n\
         # TYPE deconflict_scan_seconds_total counter\ndeconflict_scan_seconds_total {}\n\
         # TYPE deconflict_streams_cut_total counter\ndeconflict_streams_cut_total {}\n\
         # TYPE deconflict_alerts_suppressed_total counter\ndeconflict_alerts_suppressed_total {}\n\
         # TYPE deconflict_store_errors_total counter\ndeconflict_store_errors_total {}\n\
         # TYPE deconflict_requests_throttled_total counter\ndeconflict_requests_throttled_total {}\n\
         # TYPE deconflict_store_transactions_total counter\ndeconflict_store_transactions_total {}\n\
         # TYPE deconflict_store_retries_total counter\ndeconflict_store_retries_total {}\n\
         # TYPE deconflict_live_tracks gauge\ndeconflict_live_tracks {}\n\
         # TYPE deconflict_uptime_seconds gauge\ndeconflict_uptime_seconds {}\n",
        m.reports_accepted.load(Ordering::Relaxed),
        m.reports_rejected.load(Ordering::Relaxed),
        m.requests_rejected.load(Ordering::Relaxed),
        m.alerts_sent.load(Ordering::Relaxed),
        m.scans.load(Ordering::Relaxed),
        m.scan_us_total.load(Ordering::Relaxed) as f64 / 1e6,
        m.streams_cut.load(Ordering::Relaxed),
        m.alerts_suppressed.load(Ordering::Relaxed),
        m.store_errors.load(Ordering::Relaxed),
        m.requests_throttled.load(Ordering::Relaxed),
        ws.transactions,
        ws.retries,
        tracks,
        s.started.elapsed().as_secs_f64(),
    );
    let mut text = text;
    if let Some(c) = &s.cluster {
        let st = &c.stats;
        text.push_str(&format!(
            "# TYPE deconflict_nats_connected gauge\ndeconflict_nats_connected {}\n\
             # TYPE deconflict_cluster_peers gauge\ndeconflict_cluster_peers {}\n\
             # TYPE deconflict_cluster_queued gauge\ndeconflict_cluster_queued {}\n\
             # TYPE deconflict_cluster_published_total counter\ndeconflict_cluster_published_total {}\n\
             # TYPE deconflict_cluster_publish_failures_total counter\ndeconflict_cluster_publish_failures_total {}\n\
             # TYPE deconflict_cluster_dropped_total counter\ndeconflict_cluster_dropped_total {}\n\
             # TYPE deconflict_cluster_reports_received_total counter\ndeconflict_cluster_reports_received_total {}\n\
             # TYPE deconflict_cluster_reports_rejected_total counter\ndeconflict_cluster_reports_rejected_total {}\n\
             # TYPE deconflict_cluster_alerts_received_total counter\ndeconflict_cluster_alerts_received_total {}\n",
            u8::from(c.connected()),
            c.live_peers().len(),
            st.queued.load(Ordering::Relaxed),
            st.published.load(Ordering::Relaxed),
            st.publish_failures.load(Ordering::Relaxed),
            st.dropped.load(Ordering::Relaxed),
            st.received_reports.load(Ordering::Relaxed),
            st.rejected_reports.load(Ordering::Relaxed),
            st.received_alerts.load(Ordering::Relaxed),
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}
