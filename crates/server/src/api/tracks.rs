//! Track reports in (`POST /v1/tracks`: validated whole, stored durably, then handed to the
//! engine) and the caller's picture out: its own tracks in full, and the intruders its live
//! conflicts disclose.

use super::schemas as doc;
use crate::http::{parse_json, read_bytes, reject, ApiError, Caller, ErrorBody, JsonPath};
use crate::state::{unix_now, AppState};
use crate::tactical::{IntruderView, OwnTrack, StateVector};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_core::TrackReport;
use deconflict_store::{Party, Role};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/tracks", get(get_tracks).post(post_tracks))
        .route("/v1/tracks/{asset}", get(get_track))
        .route("/v1/conflicts/{id}", get(get_conflict))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(post_tracks, get_tracks, get_track, get_conflict),
    components(schemas(
        ReportResult,
        TracksAccepted,
        Picture,
        OwnTrack,
        IntruderView,
        StateVector,
        doc::TrackReport
    ))
)]
pub(crate) struct Doc;

/// Per-report outcome of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResult {
    pub index: usize,
    /// `accepted`, `rejected` (this report is bad) or `not_stored` (another report of the
    /// batch is bad; a batch is stored whole or not at all).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TracksAccepted {
    pub accepted: usize,
    pub results: Vec<ReportResult>,
    /// The signed receipt of the audit entry recording the batch (`{chain, party, seq, time,
    /// hash, signature}`, `seq` and `hash` in your sub-chain): keep it, and
    /// `deconflict audit verify VIEW --receipts FILE` proves the entry is in your view.
    #[schema(value_type = Object)]
    pub receipt: deconflict_store::Receipt,
}

/// Report positions of your own assets: a JSON array of track reports (see the README for the
/// fields). The batch is validated whole: if any report is bad, nothing is stored and the
/// answer (422) names each bad report's field; otherwise every report is stored durably before
/// the answer, and the detector sees it within `scan_min_interval_ms`.
#[utoipa::path(post, path = "/v1/tracks",
    request_body(content = Vec<doc::TrackReport>, description = "Track reports of your own assets"),
    responses((status = 200, body = TracksAccepted),
              (status = 400, body = ErrorBody, description = "malformed JSON (`field: body`)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "observers cannot report"),
              (status = 413, body = ErrorBody, description = "body over max_body_bytes, or more than max_reports_per_request reports"),
              (status = 422, body = ErrorBody, description = "a bad report: nothing stored; `field` names the first, `results` each"),
              (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn post_tracks(
    State(s): State<AppRef>,
    caller: Caller,
    body: Body,
) -> Result<Json<TracksAccepted>, ApiError> {
    let party = caller.0;
    if party.role == Role::Observer {
        return Err(reject(
            &s,
            ApiError::new(StatusCode::FORBIDDEN, "observers cannot report tracks", None),
        ));
    }
    // The party's place first (one of STORE_WRITES_PER_PARTY), held from reading the body
    // to the stored answer: a party's batches in flight, and the memory their bodies and
    // parse trees take, are bounded however many it sends at once; more wait here.
    let pid = party.id;
    let _place = s.store_writes.acquire(pid).await.map_err(ApiError::internal)?;
    let bytes = read_bytes(&s, body).await?;
    let now = unix_now();
    // Parsing and checking up to 10,000 reports is milliseconds of CPU: off the async
    // threads, which carry every party's alerts and streams.
    let (reports, results) = check_batch(&s, &party, &bytes, now)?;
    if let Err(e) = s.rate.reports(party.id, reports.len()) {
        s.metrics.requests_throttled.inc();
        return Err(e);
    }
    let cap = s.config.max_live_tracks_per_party;
    let would = s.engine().party_len_with(party.id, &reports);
    if would > cap {
        s.metrics.requests_throttled.inc();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "at most {cap} live tracks per party (max_live_tracks_per_party): this batch would make {would}; nothing stored"
            ),
            Some("tracks"),
        )
        .retry_after(s.config.drop_s.ceil() as u64));
    }
    let store = s.store.clone();
    let (receipt, reports) =
        tokio::task::spawn_blocking(move || store.put_tracks(pid, &reports, now).map(|q| (q, reports)))
            .await??;
    s.engine().ingest(pid, &reports);
    s.dirty.notify_one();
    s.metrics.reports_accepted.inc_by(reports.len() as u64);
    let accepted = reports.len();
    if let Some(c) = &s.cluster {
        c.send_reports(pid, Arc::new(reports));
    }
    Ok(Json(TracksAccepted {
        accepted,
        results,
        receipt,
    }))
}

/// A batch's body parsed and every report checked (all or nothing): the reports and each one's
/// result, or the error that refuses the whole batch.
fn check_batch(
    s: &AppState,
    party: &Party,
    bytes: &[u8],
    now: f64,
) -> Result<(Vec<TrackReport>, Vec<ReportResult>), ApiError> {
    let value = parse_json(s, bytes)?;
    let items = value.as_array().ok_or_else(|| {
        reject(
            s,
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "expected a JSON array of track reports",
                Some("body"),
            ),
        )
    })?;
    if items.len() > s.config.max_reports_per_request {
        return Err(reject(
            s,
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("at most {} reports per request", s.config.max_reports_per_request),
                Some("body"),
            ),
        ));
    }
    let mut reports = Vec::with_capacity(items.len());
    let mut results = Vec::with_capacity(items.len());
    let mut first_bad: Option<(String, String)> = None;
    for (i, item) in items.iter().enumerate() {
        let checked = TrackReport::from_json(item).and_then(|r| {
            if let Some(p) = item.get("party") {
                if p.as_str() != Some(party.name.as_str()) {
                    return Err(deconflict_core::ReportError::new(
                        "party",
                        "not yours: reports may only be for the caller's own assets",
                    ));
                }
            }
            if r.time > now + s.config.max_future_s {
                return Err(deconflict_core::ReportError::new(
                    "time",
                    format!(
                        "in the future: more than {} s ahead of the server clock",
                        s.config.max_future_s
                    ),
                ));
            }
            if r.time < now - s.config.max_past_s {
                return Err(deconflict_core::ReportError::new(
                    "time",
                    format!(
                        "stale: more than {} s behind the server clock",
                        s.config.max_past_s
                    ),
                ));
            }
            Ok(r)
        });
        match checked {
            Ok(r) => {
                reports.push(r);
                results.push(ReportResult {
                    index: i,
                    status: "accepted".into(),
                    field: None,
                    error: None,
                });
            }
            Err(e) => {
                let field = format!("tracks[{i}].{}", e.field);
                if first_bad.is_none() {
                    first_bad = Some((field.clone(), e.message.clone()));
                }
                results.push(ReportResult {
                    index: i,
                    status: "rejected".into(),
                    field: Some(field),
                    error: Some(e.message),
                });
            }
        }
    }
    if let Some((field, message)) = first_bad {
        let bad = results.iter().filter(|r| r.status == "rejected").count();
        s.metrics.reports_rejected.inc_by(items.len() as u64);
        for r in results.iter_mut().filter(|r| r.status == "accepted") {
            r.status = "not_stored".into();
        }
        let e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{bad} of {} reports are invalid; nothing was stored. First: {message}",
                items.len()
            ),
            Some(&field),
        )
        .with(json!({ "accepted": 0, "results": results }));
        return Err(reject(s, e));
    }
    Ok((reports, results))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Picture {
    /// Your own live tracks, in full.
    pub own: Vec<OwnTrack>,
    /// Other parties' aircraft disclosed to you by live conflicts: state vector only.
    pub intruders: Vec<IntruderView>,
}

/// Your own picture: your live tracks and the intruders your live conflicts disclose.
#[utoipa::path(get, path = "/v1/tracks",
    responses((status = 200, body = Picture), (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_tracks(State(s): State<AppRef>, caller: Caller) -> Json<Picture> {
    let e = s.engine();
    Json(Picture {
        own: e.own_tracks(caller.0.id),
        intruders: e.disclosed(caller.0.id, unix_now()),
    })
}

/// One of your own tracks by asset id (404 for any id that is not yours, known or not).
#[utoipa::path(get, path = "/v1/tracks/{asset}", params(("asset" = String, Path, description = "your asset id")),
    responses((status = 200, body = OwnTrack), (status = 400, body = ErrorBody, description = "the path is not UTF-8 (`field: asset`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_track(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(asset): JsonPath<String>,
) -> Result<Json<OwnTrack>, ApiError> {
    s.engine()
        .own_tracks(caller.0.id)
        .into_iter()
        .find(|t| t.asset == asset)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("track"))
}

/// The intruders disclosed to you by one live conflict (404 unless you are a side of it).
#[utoipa::path(get, path = "/v1/conflicts/{id}", params(("id" = String, Path, description = "conflict id from an alert")),
    responses((status = 200, body = Vec<IntruderView>), (status = 400, body = ErrorBody, description = "the path is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_conflict(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<Json<Vec<IntruderView>>, ApiError> {
    let v: Vec<IntruderView> = s
        .engine()
        .disclosed(caller.0.id, unix_now())
        .into_iter()
        .filter(|d| d.conflict_id == id)
        .collect();
    if v.is_empty() {
        Err(ApiError::not_found("conflict"))
    } else {
        Ok(Json(v))
    }
}
