//! The one error shape of the API: every 4xx and 5xx answer is JSON `{"error": …, "field": …}`.
//! [`ApiError`] is that answer; the store's errors turn into it with `?` ([`From<StoreError>`]),
//! and [`json_errors`] rewrites whatever else (axum's and hyper's own refusals) into it.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use deconflict_store::StoreError;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// The error shape of every 4xx and 5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The field at fault, when there is one (e.g. `tracks[3].lat`, `after`, `Authorization`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub field: Option<String>,
    /// More members of the answer's object (e.g. `current_version`, `conflicts`); boxed to
    /// keep `Result<_, ApiError>` small.
    pub extra: Option<Box<Value>>,
    /// `Retry-After` (seconds), for a 429 or 503.
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, field: Option<&str>) -> Self {
        ApiError {
            status,
            error: error.into(),
            field: field.map(str::to_string),
            extra: None,
            retry_after_s: None,
        }
    }
    /// The same error with a `Retry-After` header.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_s = Some(secs);
        self
    }
    /// The same error with more members in the answer (`extra` must be an object).
    pub fn with(mut self, extra: Value) -> Self {
        self.extra = Some(Box::new(extra));
        self
    }
    /// A 400 naming `field`.
    pub fn bad_request(error: impl Into<String>, field: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error, Some(field))
    }
    /// A 500 that says nothing of the cause to the caller; the cause is logged.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None)
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("no such {what}"), None)
    }
    /// The 409 of a stale `version`, with the current one.
    pub fn stale(current: u64) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("stale version: the current version is {current}; nothing stored"),
            Some("version"),
        )
        .with(json!({ "current_version": current }))
    }
}

/// The store's errors at the edge: not found → 404, stale or conflicting → 409, invalid input
/// → 422, anything else (the storage itself) → 500, logged.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("not found: {what}"), None)
            }
            StoreError::Stale { current } => ApiError::stale(current),
            StoreError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("conflict: {what}"), None)
            }
            StoreError::Invalid(what) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("invalid: {what}"), None)
            }
            e @ StoreError::Storage(_) => ApiError::internal(e),
        }
    }
}

/// A blocking task that panicked or was cancelled: 500, logged.
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

/// The strategic worker did not answer (a panic): 500, logged.
impl From<crate::strategic::WorkerError> for ApiError {
    fn from(e: crate::strategic::WorkerError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        if let Some(extra) = self.extra {
            if let Value::Object(m) = *extra {
                for (k, v) in m {
                    body[k] = v;
                }
            }
        }
        let mut r = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_s {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// The most of a non-JSON error body [`json_errors`] keeps as the message.
const MAX_TEXT: usize = 1024;

fn is_json(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let t = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            t == "application/json" || t.ends_with("+json")
        })
}

/// Middleware (`axum::middleware::map_response`): any 4xx or 5xx answer that is not JSON (an
/// extractor's plain-text rejection, the empty body of a 405, …) becomes the JSON error shape,
/// with its text (if any) as `error`. The status and the other headers (`Allow`,
/// `WWW-Authenticate`) are kept.
pub async fn json_errors(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&r) {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let text = match to_bytes(body, MAX_TEXT * 4).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let error = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_ascii_lowercase()
    } else {
        text.chars().take(MAX_TEXT).collect()
    };
    let body = json!({ "error": error }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_statuses() {
        let status = |e: StoreError| ApiError::from(e).status;
        assert_eq!(
            status(StoreError::NotFound("party x".into())),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(StoreError::Conflict("exists".into())),
            StatusCode::CONFLICT
        );
        assert_eq!(
            status(StoreError::Invalid("name".into())),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            status(StoreError::Storage("disk".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let stale = ApiError::from(StoreError::Stale { current: 4 });
        assert_eq!(
            (stale.status, stale.field.as_deref()),
            (StatusCode::CONFLICT, Some("version"))
        );
        assert_eq!(stale.extra.as_deref(), Some(&json!({ "current_version": 4 })));
        // The storage's own words stay in the log.
        assert_eq!(
            ApiError::from(StoreError::Storage("disk /x".into())).error,
            "internal error"
        );
    }

    #[tokio::test]
    async fn non_json_errors_become_json_keeping_headers() {
        let r = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET,HEAD")
            .body(Body::empty())
            .unwrap();
        let r = json_errors(r).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let b = to_bytes(r.into_body(), 1 << 16).await.unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v, json!({ "error": "method not allowed" }));
        let text = (StatusCode::BAD_REQUEST, "Failed to parse").into_response();
        let b = to_bytes(json_errors(text).await.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&b).unwrap(),
            json!({ "error": "Failed to parse" })
        );
        // JSON errors and successes pass untouched.
        let ok = json_errors((StatusCode::OK, "fine").into_response()).await;
        assert_eq!(to_bytes(ok.into_body(), 1 << 16).await.unwrap(), "fine");
    }
}
