//! A party's alerts: `GET /v1/alerts?after=SEQ`, oldest first, each about one of its own
//! assets (the live stream is in [`super::stream`]).

use super::schemas::{Advice, Alert};
use crate::http::query::{FromQuery, QueryParams, MAX_SEQ};
use crate::http::{ApiError, Caller, ErrorBody, JsonQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_store::StoredAlert;
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
#[openapi(paths(get_alerts), components(schemas(Advice)))]
pub(crate) struct Doc;

/// The largest page (`limit`).
pub const MAX_LIMIT: u64 = 10_000;
/// The page without `limit`.
pub const DEFAULT_LIMIT: usize = 1000;

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterQuery {
    /// Return items with a sequence number above this (default 0).
    #[param(
        required = false,
        nullable = false,
        minimum = 0,
        maximum = 9223372036854775807_u64
    )]
    pub after: Option<u64>,
    /// At most this many (default 1000; 1 to 10000, anything else is a 400).
    #[param(required = false, nullable = false, minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
}

impl FromQuery for AfterQuery {
    fn from_query(q: &QueryParams) -> Result<Self, ApiError> {
        Ok(AfterQuery {
            after: q.integer("after", 0, MAX_SEQ)?,
            limit: q.integer("limit", 1, MAX_LIMIT)?.map(|n| n as usize),
        })
    }
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
/// the intruder's class and state vector, `tin_s`/`tcpa_s`/`dcpa_m`, and `advice` for your own
/// aircraft (coordinated with the other side's, which you are never shown). Never the
/// intruder's id or callsign.
#[utoipa::path(get, path = "/v1/alerts", params(AfterQuery),
    responses((status = 200, body = Vec<Alert>, description = "your alerts, oldest first"),
              (status = 400, body = ErrorBody, description = "a malformed `after` or `limit` (named in `field`)"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_alerts(
    State(s): State<AppRef>,
    caller: Caller,
    JsonQuery(q): JsonQuery<AfterQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let store = s.store.clone();
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(DEFAULT_LIMIT));
    let v = tokio::task::spawn_blocking(move || store.alerts_after(caller.0.id, after, limit)).await??;
    Ok(Json(v.iter().map(alert_json).collect()))
}
