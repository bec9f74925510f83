//! Request bodies: read at most `max_body_bytes` (413 above), parsed as JSON (400 if
//! malformed); refusals counted in the metrics.

use super::error::ApiError;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// Counts a refused request in the metrics and passes the error on.
pub(crate) fn reject(s: &AppState, e: ApiError) -> ApiError {
    s.metrics.requests_rejected.fetch_add(1, Ordering::Relaxed);
    e
}

/// Reads a request body of at most `max_body_bytes` (413 above) and parses it as JSON (400 if
/// malformed), counting refusals in the metrics.
pub(crate) async fn read_json(s: &AppState, body: Body) -> Result<Value, ApiError> {
    let bytes = to_bytes(body, s.config.max_body_bytes).await.map_err(|_| {
        reject(
            s,
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {} bytes", s.config.max_body_bytes),
                Some("body"),
            ),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        reject(
            s,
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("malformed JSON: {e}"),
                Some("body"),
            ),
        )
    })
}
