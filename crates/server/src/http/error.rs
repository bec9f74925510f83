//! The one error shape of the API: every 4xx and 5xx answer is JSON `{"error": …, "field": …}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// The error shape of every 4xx and 5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The field at fault, when there is one (e.g. `tracks[3].lat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub field: Option<String>,
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, field: Option<&str>) -> Self {
        ApiError {
            status,
            error: error.into(),
            field: field.map(str::to_string),
            extra: None,
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None)
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("no such {what}"), None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        if let Some(Value::Object(extra)) = self.extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static header"));
        }
        r
    }
}
