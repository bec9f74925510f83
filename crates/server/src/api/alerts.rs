//! A party's alerts: `GET /v1/alerts?after=SEQ`, oldest first, each about one of its own
//! assets (the live stream is in [`super::stream`]).

use crate::http::{ApiError, Caller, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use deconflict_store::StoredAlert;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new().route("/v1/alerts", get(get_alerts))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(get_alerts))]
pub(crate) struct Doc;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AfterQuery {
    /// Return items with a sequence number above this (default 0).
    pub after: Option<u64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<usize>,
}

pub(crate) fn alert_json(a: &StoredAlert) -> Value {
    let mut v = json!({ "seq": a.seq });
    if let Value::Object(m) = &a.body {
        for (k, x) in m {
            v[k] = x.clone();
        }
    }
    v
}

/// Your alerts after a sequence number, oldest first. Each alert is about one of your assets:
/// the conflict id, the event (`new`, `raised`, `lowered`, `cleared`, `degraded`), the level,
/// the intruder's class and state vector, and `tin_s`/`tcpa_s`/`dcpa_m`. Never the intruder's
/// id or callsign.
#[utoipa::path(get, path = "/v1/alerts", params(AfterQuery),
    responses((status = 200, description = "array of alerts"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_alerts(
    State(s): State<AppRef>,
    caller: Caller,
    Query(q): Query<AfterQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let store = s.store.clone();
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(1000).clamp(1, 10_000));
    let v = tokio::task::spawn_blocking(move || store.alerts_after(caller.0.id, after, limit))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(v.iter().map(alert_json).collect()))
}
