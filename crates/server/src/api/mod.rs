//! The HTTP API, one module per resource, each with its own `routes()` and its part of the
//! OpenAPI document:
//! * [`health`]: `/healthz`, `/metrics` (no token);
//! * [`tracks`]: reports in, the caller's picture out, disclosed conflicts;
//! * [`alerts`] and [`stream`]: the caller's alerts, paged and live (SSE);
//! * [`audit`]: the audit entries about the caller, checkpoints, the public key;
//! * [`me`]: who the caller is (its own party: id, name, role, coalition);
//! * [`filings`]: operational intents and constraints; [`geojson`]: the same as GeoJSON;
//! * [`messages`]: the hotline (send, the mailbox, acknowledge);
//! * [`web`]: the web map at `/` and its built-in assets (no token, not in the OpenAPI document).
//!
//! Every route but `/`, `/assets/…`, `/healthz`, `/metrics` and `/openapi.json` needs a bearer token; every read
//! is scoped to the caller's party (the store takes the party on every query, and the engine's
//! views filter by it).

pub mod alerts;
pub mod audit;
pub mod filings;
pub mod geojson;
pub mod health;
pub mod me;
pub mod messages;
pub mod schemas;
pub mod stream;
pub mod tracks;
pub mod web;

use crate::http::{header_limits, json_errors, ApiError, ErrorBody};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;

/// Every route of the service, on `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .merge(health::routes())
        .merge(tracks::routes())
        .merge(alerts::routes())
        .merge(stream::routes())
        .merge(audit::routes())
        .merge(me::routes())
        .merge(filings::routes())
        .merge(geojson::routes())
        .merge(messages::routes())
        .merge(web::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route", None) })
        // Every other error answer (a 405's empty body, an extractor's text) in the one shape.
        .layer(axum::middleware::map_response(json_errors))
        // Oversized header blocks are refused first, in the same shape (hyper's own limits
        // answer with an empty body).
        .layer(axum::middleware::from_fn(header_limits))
        .with_state(state)
}

/// The OpenAPI document of this API.
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

/// The whole OpenAPI document: the parts of every resource module merged.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [
        health::Doc::openapi(),
        tracks::Doc::openapi(),
        alerts::Doc::openapi(),
        stream::Doc::openapi(),
        audit::Doc::openapi(),
        me::Doc::openapi(),
        filings::Doc::openapi(),
        geojson::Doc::openapi(),
        messages::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    declare_rate_limit(&mut doc);
    doc
}

/// Every route that takes a token (it declares 401) may also answer 429: the party's
/// `[rate]` limit (`http::rate`), declared here once rather than on each route.
fn declare_rate_limit(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete]
            .into_iter()
            .flatten()
        {
            let Some(RefOr::T(unauthorized)) = op.responses.responses.get("401").cloned() else {
                continue;
            };
            let mut limited = unauthorized;
            limited.description =
                "past your rate limit (`[rate]`; `field`: `rate_limit`, or `tracks` for reports); `Retry-After` says when to try again".into();
            op.responses
                .responses
                .entry("429".into())
                .or_insert(RefOr::T(limited));
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document's head: title, the shared error schema and the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(title = "deconflict", description = "Deconfliction for a shared, contested airspace. See docs/api.md."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;
