//! Limits on the request's header block, enforced by the service itself so that an oversized
//! block is refused in the one JSON error shape (431 naming `headers`). hyper has limits of its
//! own (100 headers, about 400 KiB), but answers them with an empty body before any route runs;
//! these are lower, so a client meets ours first.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Most header lines a request may carry.
pub const MAX_HEADERS: usize = 64;
/// Most bytes of header names and values together (plus 4 a line for `: ` and CRLF).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Middleware (`axum::middleware::from_fn`): 431 for a request whose header block is over
/// [`MAX_HEADERS`] lines or [`MAX_HEADER_BYTES`] bytes; otherwise the request goes on.
pub async fn header_limits(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "request header block too large: {} lines, {bytes} bytes (at most {MAX_HEADERS} \
                 lines and {MAX_HEADER_BYTES} bytes)",
                headers.len()
            ),
            Some("headers"),
        )
        .into_response();
    }
    next.run(req).await
}
