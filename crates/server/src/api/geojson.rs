//! GeoJSON for anyone's GIS: the caller's intents and constraints, the constraints that bind
//! it, and the overlap regions of its strategic conflicts.

use super::schemas::FeatureCollection;
use crate::http::{ApiError, Caller, ErrorBody};
use crate::state::AppState;
use crate::strategic::FilingKind;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_core::strategic::Volume4D;
use deconflict_core::track::format_rfc3339;
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::OpenApi;

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/intents.geojson", get(intents_geojson))
        .route("/v1/conflicts.geojson", get(conflicts_geojson))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(intents_geojson, conflicts_geojson),
    components(schemas(FeatureCollection))
)]
pub(crate) struct Doc;

fn feature(geometry: Value, props: Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": props})
}

fn volume_props(v: &Volume4D) -> Value {
    json!({"alt_lower_m": v.alt_lower_m, "alt_upper_m": v.alt_upper_m,
           "time_start": format_rfc3339(v.time_start), "time_end": format_rfc3339(v.time_end)})
}

/// Your intents and constraints, and the constraints that bind you, as GeoJSON.
#[utoipa::path(get, path = "/v1/intents.geojson",
    responses((status = 200, content_type = "application/geo+json", body = FeatureCollection, description = "GeoJSON FeatureCollection"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn intents_geojson(State(s): State<AppRef>, caller: Caller) -> impl IntoResponse {
    let st = s.strategic();
    let mut features = Vec::new();
    for kind in [FilingKind::Intent, FilingKind::Constraint] {
        for f in st.own(caller.0.id, kind) {
            for (i, v) in f.volumes.iter().enumerate() {
                let mut p = volume_props(v);
                p["kind"] = json!(kind.as_str());
                p["id"] = json!(f.id);
                p["volume"] = json!(i);
                p["state"] = json!(f.state);
                features.push(feature(v.footprint_geojson(), p));
            }
        }
    }
    for f in st.binding(caller.0.id, &caller.0.name) {
        for v in &f.volumes {
            let mut p = volume_props(v);
            p["kind"] = json!("constraint_binding_you");
            p["owner"] = json!(if f.disclose_name {
                f.party_name.clone()
            } else {
                "another party".into()
            });
            features.push(feature(v.footprint_geojson(), p));
        }
    }
    (
        [("content-type", "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
}

/// The overlap regions of your current strategic conflicts, as GeoJSON.
#[utoipa::path(get, path = "/v1/conflicts.geojson",
    responses((status = 200, content_type = "application/geo+json", body = FeatureCollection, description = "GeoJSON FeatureCollection"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn conflicts_geojson(State(s): State<AppRef>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    let state = s.clone();
    let coalitions = tokio::task::spawn_blocking(move || state.coalitions()).await??;
    let st = s.strategic();
    let features: Vec<Value> = st
        .conflicts_of(caller.0.id, &s.config.disclosure, &coalitions)
        .into_iter()
        .map(|(cid, f, o)| {
            let region = &o["region"];
            feature(
                region["footprint"].clone(),
                json!({"conflict_id": cid, "own_kind": f.kind.as_str(), "own_id": f.id, "other_party": o["other_party"],
                       "time_start": region["time_start"], "time_end": region["time_end"],
                       "alt_lower_m": region["alt_lower_m"], "alt_upper_m": region["alt_upper_m"]}),
            )
        })
        .collect();
    Ok((
        [("content-type", "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    ))
}
