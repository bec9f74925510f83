//! The web map (issue 13, item 2): `GET /` and `GET /assets/{name}`, the page and its assets
//! built into the binary (`web/`, its libraries vendored in `web/vendor/` by
//! `scripts/vendor_web.sh`; nothing fetched from outside, no Node at run time).
//!
//! These routes need no token and carry none: the page asks for a party token, keeps it in
//! the browser's `sessionStorage` and sends it as a bearer token to the `/v1` API. They are not
//! part of the OpenAPI document (they are not the API). Every answer carries a strict
//! Content-Security-Policy (no inline script, nothing from another origin).

use crate::http::ApiError;
use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

type AppRef = Arc<AppState>;

/// The policy on every page answer: only this origin, no inline script or style.
pub const CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

const JS: &str = "text/javascript; charset=utf-8";

/// The assets, by the name under `/assets/`: (content type, bytes). A fixed list; any other
/// name is 404.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", JS, include_bytes!("../../../../web/app.js")),
    ("map.js", JS, include_bytes!("../../../../web/map.js")),
    ("stream.js", JS, include_bytes!("../../../../web/stream.js")),
    ("hotline.js", JS, include_bytes!("../../../../web/hotline.js")),
    ("replay.js", JS, include_bytes!("../../../../web/replay.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../web/style.css"),
    ),
    (
        "d3-array.min.js",
        JS,
        include_bytes!("../../../../web/vendor/d3-array.min.js"),
    ),
    (
        "d3-geo.min.js",
        JS,
        include_bytes!("../../../../web/vendor/d3-geo.min.js"),
    ),
    (
        "topojson-client.min.js",
        JS,
        include_bytes!("../../../../web/vendor/topojson-client.min.js"),
    ),
    (
        "countries-50m.json",
        "application/json",
        include_bytes!("../../../../web/vendor/countries-50m.json"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../../../web/index.html");

pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
}

fn page(content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

async fn index() -> Response {
    // The page is small and names its assets without a version: revalidate it every time.
    page("text/html; charset=utf-8", "no-cache", INDEX)
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        // Built into this binary: a restart with a new build may change them, so an hour.
        Some((_, ct, body)) => page(ct, "public, max-age=3600", body),
        None => ApiError::new(StatusCode::NOT_FOUND, "no such asset", Some("name")).into_response(),
    }
}
