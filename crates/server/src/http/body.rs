//! Request bodies: read at most `max_body_bytes` (413 above, once the rest of the body has been
//! drained within bounds), parsed as JSON (400 if malformed); refusals counted in the metrics.

use super::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// After a body has gone over the limit, at most this much more of it is read and thrown
/// away, for at most [`DRAIN_FOR`], before the 413 is sent: a client still sending its body
/// then reads the answer instead of meeting a reset connection (a broken pipe).
pub const DRAIN_MAX_BYTES: usize = 64 << 20;
/// See [`DRAIN_MAX_BYTES`].
pub const DRAIN_FOR: Duration = Duration::from_secs(5);

/// Counts a refused request in the metrics and passes the error on.
pub(crate) fn reject(s: &AppState, e: ApiError) -> ApiError {
    s.metrics.requests_rejected.inc();
    e
}

/// Reads a request body of at most `max_body_bytes` (413 above) and parses it as JSON (400 if
/// malformed), counting refusals in the metrics.
pub(crate) async fn read_json(s: &AppState, body: Body) -> Result<Value, ApiError> {
    let bytes = read_bytes(s, body).await?;
    parse_json(s, &bytes)
}

/// Reads a request body of at most `max_body_bytes` (413 above), counting a refusal in the
/// metrics; [`parse_json`] parses it.
pub(crate) async fn read_bytes(s: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    let max = s.config.max_body_bytes;
    let too_large = || {
        reject(
            s,
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {max} bytes"),
                Some("body"),
            ),
        )
    };
    let mut stream = body.into_data_stream();
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(too_large());
        };
        if bytes.len() + chunk.len() > max {
            let mut seen = bytes.len() + chunk.len();
            let drain = async {
                while seen < DRAIN_MAX_BYTES {
                    match stream.next().await {
                        Some(Ok(c)) => seen += c.len(),
                        _ => break,
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_FOR, drain).await;
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Parses a request body as JSON (400 if malformed, counted in the metrics).
pub(crate) fn parse_json(s: &AppState, bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
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
