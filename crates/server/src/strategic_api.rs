//! Routes for operational intents and constraints.

use crate::api::{ApiError, Caller};
use crate::strategic::{Decision, Filing, Kind};
use crate::{unix_now, AppState};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_core::geodesy::{add, east_north, lat_lon, norm, scale, unit_vector, EARTH_RADIUS_M};
use deconflict_core::strategic::{Footprint, Volume4D};
use deconflict_core::track::format_rfc3339;
use deconflict_store::{Role, StoreError, Window};
use serde_json::{json, Value};
use std::sync::Arc;

type AppRef = Arc<AppState>;

pub fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/intents", get(list_intents))
        .route("/v1/constraints", get(list_constraints))
        .route("/v1/intents.geojson", get(intents_geojson))
        .route("/v1/conflicts.geojson", get(conflicts_geojson))
        .route(
            "/v1/intents/{id}",
            get(get_intent).put(put_intent).delete(delete_intent),
        )
        .route(
            "/v1/constraints/{id}",
            get(get_constraint).put(put_constraint).delete(delete_constraint),
        )
}

fn filing_json(f: &Filing) -> Value {
    let mut v = f.body.clone();
    if let Value::Object(m) = &mut v {
        m.remove("version");
        m.remove("reject_on_conflict");
    }
    json!({"id": f.id, "version": f.version, "state": f.state, "priority": f.priority, "filing": v})
}

async fn file(
    s: AppRef,
    caller: Caller,
    kind: Kind,
    id: String,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let party = caller.0;
    if party.role == Role::Observer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "observers cannot file",
            None,
        ));
    }
    let value = crate::api::read_json(&s, body).await?;
    let req = crate::strategic::parse_request(kind, &id, &value, &s.limits)
        .map_err(|(f, m)| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m, Some(&f)))?;
    let now = unix_now();
    let decision = if s.shared {
        file_shared(&s, party.id, &party.name, req, now).await?
    } else {
        s.strategic().file(party.id, &party.name, req, now)
    };
    match decision {
        Decision::Stale { current } => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                format!("stale version: the current version is {current}; nothing stored"),
                Some("version"),
            );
            e.extra = Some(json!({ "current_version": current }));
            Err(e)
        }
        Decision::EntersConstraint { conflicts } => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the intent enters a constraint that binds you; nothing stored",
                Some("extents"),
            );
            e.extra = Some(json!({ "conflicts": conflicts }));
            Err(e)
        }
        Decision::RejectedOnConflict { conflicts } => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "the filing conflicts with other parties' intents and reject_on_conflict is set; nothing stored",
                Some("extents"),
            );
            e.extra = Some(json!({ "conflicts": conflicts }));
            Err(e)
        }
        Decision::Accepted {
            filing,
            conflicts,
            alerts,
            previous,
        } if !s.shared => {
            let store = s.store.clone();
            let (pid, k, fid, ver, st, body) = (
                party.id,
                kind.as_str(),
                filing.id.clone(),
                filing.version,
                filing.state.clone(),
                filing.body.clone(),
            );
            let expected = (ver > 1).then_some(ver - 1);
            let window = window_of(&filing.volumes);
            let res = tokio::task::spawn_blocking(move || {
                store.put_volume(
                    pid,
                    &deconflict_store::VolumeFiling {
                        kind: k,
                        id: &fid,
                        expected_version: expected,
                        state: &st,
                        body: &body,
                        window,
                    },
                    now,
                )
            })
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("internal error: {e}"),
                    None,
                )
            })?;
            if let Err(e) = res {
                s.strategic().undo(&filing, previous);
                return Err(match e {
                    StoreError::Stale { current } => {
                        let mut e = ApiError::new(
                            StatusCode::CONFLICT,
                            format!("stale version: the current version is {current}; nothing stored"),
                            Some("version"),
                        );
                        e.extra = Some(json!({ "current_version": current }));
                        e
                    }
                    other => {
                        tracing::error!("storing a filing failed: {other}");
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None)
                    }
                });
            }
            crate::publish(&s, alerts, now).await;
            Ok(answer(kind, &filing, conflicts))
        }
        // A shared store has stored it already, with its alerts (file_shared).
        Decision::Accepted {
            filing, conflicts, ..
        } => Ok(answer(kind, &filing, conflicts)),
    }
}

fn answer(kind: Kind, filing: &Filing, conflicts: Vec<Value>) -> (StatusCode, Json<Value>) {
    let status = if filing.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(json!({
            "id": filing.id, "kind": kind.as_str(), "version": filing.version, "state": filing.state,
            "conflicts": conflicts,
        })),
    )
}

/// The window the store's candidate query uses: the union of the volumes' bounds (all
/// longitudes when a volume crosses the antimeridian or a pole).
pub fn window_of(volumes: &[Volume4D]) -> Window {
    let mut w = Window {
        t_start: f64::INFINITY,
        t_end: f64::NEG_INFINITY,
        alt_lo: f64::INFINITY,
        alt_hi: f64::NEG_INFINITY,
        lat_lo: 90.0,
        lat_hi: -90.0,
        lng_lo: 180.0,
        lng_hi: -180.0,
    };
    let mut all_lng = volumes.is_empty();
    for v in volumes {
        let b = v.bbox();
        w.t_start = w.t_start.min(b.time_start);
        w.t_end = w.t_end.max(b.time_end);
        w.alt_lo = w.alt_lo.min(b.alt_lower_m);
        w.alt_hi = w.alt_hi.max(b.alt_upper_m);
        w.lat_lo = w.lat_lo.min(b.lat_min);
        w.lat_hi = w.lat_hi.max(b.lat_max);
        if b.lng_min < -180.0 || b.lng_max > 180.0 || b.lng_max - b.lng_min >= 360.0 {
            all_lng = true;
        }
        w.lng_lo = w.lng_lo.min(b.lng_min);
        w.lng_hi = w.lng_hi.max(b.lng_max);
    }
    if volumes.is_empty() {
        w = Window {
            t_start: 0.0,
            t_end: 0.0,
            alt_lo: 0.0,
            alt_hi: 0.0,
            lat_lo: -90.0,
            lat_hi: 90.0,
            lng_lo: -180.0,
            lng_hi: 180.0,
        };
    }
    if all_lng {
        w.lng_lo = -180.0;
        w.lng_hi = 180.0;
    }
    w
}

/// Files against a store shared by several nodes: the check and the write happen in ONE
/// serializable transaction of the store (retried on conflict), which reads every filing
/// whose window meets this one's and decides with the same rules as one node does (a
/// throw-away [`crate::strategic::Strategic`] over those candidates). Two conflicting filings
/// sent to two nodes at once cannot both miss each other: whichever is serialized second sees
/// the first. The node's in-memory picture takes the result afterwards.
async fn file_shared(
    s: &AppRef,
    party: deconflict_store::PartyId,
    party_name: &str,
    req: crate::strategic::FilingRequest,
    now: f64,
) -> Result<Decision, ApiError> {
    let window = window_of(&req.volumes);
    let (kind, id) = (req.kind, req.id.clone());
    let out: Arc<std::sync::Mutex<Option<Decision>>> = Arc::default();
    let decide: Arc<deconflict_store::Decide> = {
        let out = out.clone();
        let ids = s.store.clone();
        let limits = s.limits.clone();
        let name = party_name.to_string();
        Arc::new(move |cands: &[deconflict_store::Candidate]| {
            let ids = ids.clone();
            let mut tmp = crate::strategic::Strategic::new(Arc::new(move |l: &str| ids.opaque_id(l)));
            tmp.warm(
                cands
                    .iter()
                    .map(|c| (c.party, c.party_name.clone(), c.kind.clone(), c.volume.clone()))
                    .collect(),
                &limits,
            );
            let d = tmp.file(party, &name, req.clone(), now);
            let write = match &d {
                Decision::Accepted { filing, alerts, .. } => Some(deconflict_store::CheckedWrite {
                    state: filing.state.clone(),
                    body: filing.body.clone(),
                    window,
                    alerts: alerts.clone(),
                }),
                _ => None,
            };
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
            write
        })
    };
    let store = s.store.clone();
    let fid = id.clone();
    let filed = tokio::task::spawn_blocking(move || {
        store.file_checked(party, kind.as_str(), &fid, &window, now, decide)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}"),
            None,
        )
    })?
    .map_err(|e| {
        tracing::error!("storing a filing failed: {e}");
        s.metrics
            .store_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store is unavailable; nothing stored",
            None,
        )
    })?;
    let decision = out
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None))?;
    if let (Some(filed), Decision::Accepted { filing, alerts, .. }) = (&filed, &decision) {
        s.strategic().apply(
            party,
            party_name.to_string(),
            kind.as_str(),
            deconflict_store::StoredVolume {
                id: id.clone(),
                version: filed.version,
                state: filing.state.clone(),
                body: filing.body.clone(),
                updated: now,
            },
            &s.limits,
        );
        let items: Vec<_> = alerts
            .iter()
            .map(|a| (a.party, a.body.clone()))
            .zip(filed.alert_seqs.iter().copied())
            .collect();
        crate::deliver(s, items, now);
    }
    Ok(decision)
}

/// `DELETE` ends a filing: a new version in state `ended`, taken out of the index.
async fn end(s: AppRef, caller: Caller, kind: Kind, id: String) -> Result<impl IntoResponse, ApiError> {
    let body = {
        let st = s.strategic();
        let f = st.get(caller.0.id, kind, &id).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("no such {}", kind.as_str()), None)
        })?;
        let mut b = f.body.clone();
        b["state"] = json!("ended");
        b["version"] = json!(f.version);
        if let Value::Object(m) = &mut b {
            m.remove("reject_on_conflict");
        }
        b
    };
    file(s, caller, kind, id, Body::from(body.to_string())).await
}

/// File or update an operational intent (ASTM F3548 Volume4D extents); see docs/api.md.
#[utoipa::path(put, path = "/v1/intents/{id}", params(("id" = String, Path, description = "your intent id")),
    request_body(content = Object, description = "extents, state, priority, version, reject_on_conflict, disclosure"),
    responses((status = 201, description = "filed; lists the strategic conflicts"), (status = 200, description = "updated"),
              (status = 409, body = crate::api::ErrorBody, description = "stale version, or conflicts with reject_on_conflict"),
              (status = 422, body = crate::api::ErrorBody, description = "bad volume, or enters a constraint binding you")),
    security(("bearer" = [])))]
pub async fn put_intent(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    file(s, caller, Kind::Intent, id, body).await
}

/// File or update a constraint (binds all others, or named parties); see docs/api.md.
#[utoipa::path(put, path = "/v1/constraints/{id}", params(("id" = String, Path, description = "your constraint id")),
    request_body(content = Object, description = "extents, binds, type, state, priority, version, disclosure"),
    responses((status = 201, description = "filed"), (status = 200, description = "updated"),
              (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    file(s, caller, Kind::Constraint, id, body).await
}

/// End one of your intents.
#[utoipa::path(delete, path = "/v1/intents/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "ended"), (status = 404, body = crate::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_intent(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    end(s, caller, Kind::Intent, id).await
}

/// End one of your constraints.
#[utoipa::path(delete, path = "/v1/constraints/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "ended"), (status = 404, body = crate::api::ErrorBody)), security(("bearer" = [])))]
pub async fn delete_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    end(s, caller, Kind::Constraint, id).await
}

/// One of your intents.
#[utoipa::path(get, path = "/v1/intents/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "the filing"), (status = 404, body = crate::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_intent(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.strategic()
        .get(caller.0.id, Kind::Intent, &id)
        .map(|f| Json(filing_json(f)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such intent", None))
}

/// One of your constraints.
#[utoipa::path(get, path = "/v1/constraints/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "the filing"), (status = 404, body = crate::api::ErrorBody)), security(("bearer" = [])))]
pub async fn get_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.strategic()
        .get(caller.0.id, Kind::Constraint, &id)
        .map(|f| Json(filing_json(f)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such constraint", None))
}

/// Your live intents.
#[utoipa::path(get, path = "/v1/intents", responses((status = 200, description = "your intents")), security(("bearer" = [])))]
pub async fn list_intents(State(s): State<AppRef>, caller: Caller) -> Json<Value> {
    let st = s.strategic();
    Json(Value::from(
        st.own(caller.0.id, Kind::Intent)
            .into_iter()
            .map(filing_json)
            .collect::<Vec<_>>(),
    ))
}

/// Your own constraints in full, and the constraints of other parties that bind you (their
/// volumes, type and owner as the owner discloses it): what you must keep out of.
#[utoipa::path(get, path = "/v1/constraints", responses((status = 200, description = "own and binding_you")), security(("bearer" = [])))]
pub async fn list_constraints(State(s): State<AppRef>, caller: Caller) -> Json<Value> {
    let st = s.strategic();
    let own: Vec<Value> = st
        .own(caller.0.id, Kind::Constraint)
        .into_iter()
        .map(filing_json)
        .collect();
    let binding: Vec<Value> = st
        .binding(caller.0.id, &caller.0.name)
        .into_iter()
        .map(binding_json)
        .collect();
    Json(json!({"own": own, "binding_you": binding}))
}

fn binding_json(f: &Filing) -> Value {
    json!({
        "owner": if f.disclose_name { f.party_name.clone() } else { "another party".into() },
        "type": f.body.get("type").cloned().unwrap_or(Value::Null),
        "extents": f.volumes.iter().map(|v| v.to_astm_json()).collect::<Vec<_>>(),
    })
}

/// A footprint as a GeoJSON polygon ([lng, lat]); circles as 64-gons.
pub fn footprint_geojson(v: &Volume4D) -> Value {
    let ring: Vec<Value> = match &v.footprint {
        Footprint::Polygon(p) => {
            let mut r: Vec<Value> = p.iter().map(|c| json!([c.lng, c.lat])).collect();
            if let Some(first) = r.first().cloned() {
                r.push(first);
            }
            r
        }
        Footprint::Circle { center, radius_m } => {
            let n = unit_vector(center.lat, center.lng);
            let (e, no) = east_north(center.lat, center.lng);
            let a = radius_m / EARTH_RADIUS_M;
            let mut r: Vec<Value> = (0..=64)
                .map(|i| {
                    let th = i as f64 / 64.0 * std::f64::consts::TAU;
                    let d = add(scale(e, th.sin()), scale(no, th.cos()));
                    let p = add(scale(n, a.cos()), scale(d, a.sin()));
                    let p = scale(p, 1.0 / norm(p));
                    let (lat, lng) = lat_lon(p);
                    json!([lng, lat])
                })
                .collect();
            r.pop();
            if let Some(first) = r.first().cloned() {
                r.push(first);
            }
            r
        }
    };
    json!({"type": "Polygon", "coordinates": [ring]})
}

fn feature(geometry: Value, props: Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": props})
}

fn volume_props(v: &Volume4D) -> Value {
    json!({"alt_lower_m": v.alt_lower_m, "alt_upper_m": v.alt_upper_m,
           "time_start": format_rfc3339(v.time_start), "time_end": format_rfc3339(v.time_end)})
}

/// Your intents and constraints, and the constraints that bind you, as GeoJSON.
#[utoipa::path(get, path = "/v1/intents.geojson", responses((status = 200, description = "GeoJSON FeatureCollection")), security(("bearer" = [])))]
pub async fn intents_geojson(State(s): State<AppRef>, caller: Caller) -> impl IntoResponse {
    let st = s.strategic();
    let mut features = Vec::new();
    for kind in [Kind::Intent, Kind::Constraint] {
        for f in st.own(caller.0.id, kind) {
            for (i, v) in f.volumes.iter().enumerate() {
                let mut p = volume_props(v);
                p["kind"] = json!(kind.as_str());
                p["id"] = json!(f.id);
                p["volume"] = json!(i);
                p["state"] = json!(f.state);
                features.push(feature(footprint_geojson(v), p));
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
            features.push(feature(footprint_geojson(v), p));
        }
    }
    (
        [("content-type", "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
}

/// The overlap regions of your current strategic conflicts, as GeoJSON.
#[utoipa::path(get, path = "/v1/conflicts.geojson", responses((status = 200, description = "GeoJSON FeatureCollection")), security(("bearer" = [])))]
pub async fn conflicts_geojson(State(s): State<AppRef>, caller: Caller) -> impl IntoResponse {
    let st = s.strategic();
    let features: Vec<Value> = st
        .conflicts_of(caller.0.id)
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
    (
        [("content-type", "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
}
