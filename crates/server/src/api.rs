//! HTTP routes. Every route but `/healthz`, `/metrics` and `/openapi.json` needs a bearer token;
//! every read is scoped to the caller's party (the store takes the party on every query, and the
//! engine's views filter by it).

use crate::engine::{IntruderView, OwnTrack};
use crate::{unix_now, AppState};
use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deconflict_core::TrackReport;
use deconflict_store::{Party, Role, StoredAlert};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, OpenApi, ToSchema};

type AppRef = Arc<AppState>;

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
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None)
    }
    fn not_found(what: &str) -> Self {
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

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Party);

impl FromRequestParts<AppRef> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppRef) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing, malformed, unknown or revoked bearer token",
                Some("Authorization"),
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(unauthorized)?;
        let text = value.to_str().map_err(|_| unauthorized())?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(unauthorized)?
            .trim()
            .to_string();
        if token.is_empty() || token.len() > 200 {
            return Err(unauthorized());
        }
        let store = state.store.clone();
        let party = tokio::task::spawn_blocking(move || store.authenticate(&token))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        party.map(Caller).ok_or_else(unauthorized)
    }
}

pub fn router(state: AppRef) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/tracks", post(post_tracks).get(get_tracks))
        .route("/v1/tracks/{asset}", get(get_track))
        .route("/v1/alerts", get(get_alerts))
        .route("/v1/conflicts/{id}", get(get_conflict))
        .route("/v1/stream", get(stream))
        .route("/v1/audit", get(get_audit))
        .route("/v1/audit/key", get(get_audit_key))
        .merge(crate::strategic_api::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route", None) })
        .with_state(state)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when this node is one of several and has lost NATS (it goes on
    /// taking reports and detecting on what it holds).
    pub status: String,
    /// This node's name.
    pub node: String,
    /// `sqlite` or `postgres`.
    pub store: String,
    /// `off` (one node), `connected` or `disconnected`.
    pub nats: String,
    /// The other nodes heard within the last 3 s.
    pub peers: Vec<String>,
    /// Messages waiting for NATS.
    pub queued: u64,
}

/// Liveness and degradation; needs no token and tells nothing about any party.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn healthz(State(s): State<AppRef>) -> Json<Health> {
    let (nats, peers, queued) = match &s.cluster {
        None => ("off", Vec::new(), 0),
        Some(c) if c.connected() => (
            "connected",
            c.live_peers(),
            c.stats.queued.load(Ordering::Relaxed),
        ),
        Some(c) => ("disconnected", Vec::new(), c.stats.queued.load(Ordering::Relaxed)),
    };
    Json(Health {
        status: if nats == "disconnected" { "degraded" } else { "ok" }.into(),
        node: s.config.node.clone(),
        store: if s.shared { "postgres" } else { "sqlite" }.into(),
        nats: nats.into(),
        peers,
        queued,
    })
}

/// Prometheus metrics (counters of the whole service; no party data).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format")))]
async fn metrics(State(s): State<AppRef>) -> impl IntoResponse {
    let m = &s.metrics;
    let tracks = s.engine().len();
    let ws = s.store.write_stats();
    let text = format!(
        "# TYPE deconflict_reports_accepted_total counter\ndeconflict_reports_accepted_total {}\n\
         # TYPE deconflict_reports_rejected_total counter\ndeconflict_reports_rejected_total {}\n\
         # TYPE deconflict_requests_rejected_total counter\ndeconflict_requests_rejected_total {}\n\
         # TYPE deconflict_alerts_sent_total counter\ndeconflict_alerts_sent_total {}\n\
         # TYPE deconflict_scans_total counter\ndeconflict_scans_total {}\n\
         # TYPE deconflict_scan_seconds_total counter\ndeconflict_scan_seconds_total {}\n\
         # TYPE deconflict_streams_cut_total counter\ndeconflict_streams_cut_total {}\n\
         # TYPE deconflict_store_errors_total counter\ndeconflict_store_errors_total {}\n\
         # TYPE deconflict_store_transactions_total counter\ndeconflict_store_transactions_total {}\n\
         # TYPE deconflict_store_retries_total counter\ndeconflict_store_retries_total {}\n\
         # TYPE deconflict_live_tracks gauge\ndeconflict_live_tracks {}\n\
         # TYPE deconflict_uptime_seconds gauge\ndeconflict_uptime_seconds {}\n",
        m.reports_accepted.load(Ordering::Relaxed),
        m.reports_rejected.load(Ordering::Relaxed),
        m.requests_rejected.load(Ordering::Relaxed),
        m.alerts_sent.load(Ordering::Relaxed),
        m.scans.load(Ordering::Relaxed),
        m.scan_us_total.load(Ordering::Relaxed) as f64 / 1e6,
        m.streams_cut.load(Ordering::Relaxed),
        m.store_errors.load(Ordering::Relaxed),
        ws.transactions,
        ws.retries,
        tracks,
        s.started.elapsed().as_secs_f64(),
    );
    let mut text = text;
    if let Some(c) = &s.cluster {
        let st = &c.stats;
        text.push_str(&format!(
            "# TYPE deconflict_nats_connected gauge\ndeconflict_nats_connected {}\n\
             # TYPE deconflict_cluster_peers gauge\ndeconflict_cluster_peers {}\n\
             # TYPE deconflict_cluster_queued gauge\ndeconflict_cluster_queued {}\n\
             # TYPE deconflict_cluster_published_total counter\ndeconflict_cluster_published_total {}\n\
             # TYPE deconflict_cluster_publish_failures_total counter\ndeconflict_cluster_publish_failures_total {}\n\
             # TYPE deconflict_cluster_dropped_total counter\ndeconflict_cluster_dropped_total {}\n\
             # TYPE deconflict_cluster_reports_received_total counter\ndeconflict_cluster_reports_received_total {}\n\
             # TYPE deconflict_cluster_reports_rejected_total counter\ndeconflict_cluster_reports_rejected_total {}\n\
             # TYPE deconflict_cluster_alerts_received_total counter\ndeconflict_cluster_alerts_received_total {}\n",
            u8::from(c.connected()),
            c.live_peers().len(),
            st.queued.load(Ordering::Relaxed),
            st.published.load(Ordering::Relaxed),
            st.publish_failures.load(Ordering::Relaxed),
            st.dropped.load(Ordering::Relaxed),
            st.received_reports.load(Ordering::Relaxed),
            st.rejected_reports.load(Ordering::Relaxed),
            st.received_alerts.load(Ordering::Relaxed),
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The OpenAPI document of this API.
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

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
    /// Audit entry recording the batch.
    pub audit_seq: u64,
}

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

/// Report positions of your own assets: a JSON array of track reports (see the README for the
/// fields). The batch is validated whole: if any report is bad, nothing is stored and the
/// answer (422) names each bad report's field; otherwise every report is stored durably before
/// the answer, and the detector sees it within `scan_min_interval_ms`.
#[utoipa::path(post, path = "/v1/tracks", request_body(content = Vec<Object>, description = "Track reports"),
    responses((status = 200, body = TracksAccepted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
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
    let value = read_json(&s, body).await?;
    let items = value.as_array().ok_or_else(|| {
        reject(
            &s,
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "expected a JSON array of track reports",
                Some("body"),
            ),
        )
    })?;
    if items.len() > s.config.max_reports_per_request {
        return Err(reject(
            &s,
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("at most {} reports per request", s.config.max_reports_per_request),
                Some("body"),
            ),
        ));
    }
    let now = unix_now();
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
        s.metrics
            .reports_rejected
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        for r in results.iter_mut().filter(|r| r.status == "accepted") {
            r.status = "not_stored".into();
        }
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{bad} of {} reports are invalid; nothing was stored. First: {message}",
                items.len()
            ),
            Some(&field),
        );
        e.extra = Some(json!({ "accepted": 0, "results": results }));
        return Err(reject(&s, e));
    }
    let store = s.store.clone();
    let pid = party.id;
    let (seq, reports) =
        tokio::task::spawn_blocking(move || store.put_tracks(pid, &reports, now).map(|q| (q, reports)))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
    s.engine().ingest(pid, &reports);
    s.dirty.notify_one();
    s.metrics
        .reports_accepted
        .fetch_add(reports.len() as u64, Ordering::Relaxed);
    let accepted = reports.len();
    if let Some(c) = &s.cluster {
        c.send_reports(pid, Arc::new(reports));
    }
    Ok(Json(TracksAccepted {
        accepted,
        results,
        audit_seq: seq,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Picture {
    /// Your own live tracks, in full.
    pub own: Vec<OwnTrack>,
    /// Other parties' aircraft disclosed to you by live conflicts: state vector only.
    pub intruders: Vec<IntruderView>,
}

/// Your own picture: your live tracks and the intruders your live conflicts disclose.
#[utoipa::path(get, path = "/v1/tracks", responses((status = 200, body = Picture), (status = 401, body = ErrorBody)),
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
    responses((status = 200, body = OwnTrack), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_track(
    State(s): State<AppRef>,
    caller: Caller,
    Path(asset): Path<String>,
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
    responses((status = 200, body = Vec<IntruderView>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_conflict(
    State(s): State<AppRef>,
    caller: Caller,
    Path(id): Path<String>,
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct AfterQuery {
    /// Return items with a sequence number above this (default 0).
    pub after: Option<u64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<usize>,
}

fn alert_json(a: &StoredAlert) -> Value {
    let mut v = json!({ "seq": a.seq });
    if let Value::Object(m) = &a.body {
        for (k, x) in m {
            v[k] = x.clone();
        }
    }
    v
}

/// Your alerts after a sequence number, oldest first. Each alert is about one of your assets:
/// the conflict id, the event (`new`, `raised`, `lowered`, `cleared`, `degraded`), the level,
/// the intruder's class and state vector, and `tin_s`/`tcpa_s`/`dcpa_m`. Never the intruder's
/// id or callsign.
#[utoipa::path(get, path = "/v1/alerts", params(AfterQuery),
    responses((status = 200, description = "array of alerts"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_alerts(
    State(s): State<AppRef>,
    caller: Caller,
    Query(q): Query<AfterQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let store = s.store.clone();
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(1000).clamp(1, 10_000));
    let v = tokio::task::spawn_blocking(move || store.alerts_after(caller.0.id, after, limit))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(v.iter().map(alert_json).collect()))
}

/// Live alerts (Server-Sent Events). Each event has `id:` = the alert's sequence number; a
/// client that reconnects with `Last-Event-ID` (or `?after=`) first gets every alert it missed.
/// A client too slow to keep up is sent an `error` event naming the last sequence number it
/// got, and is disconnected rather than slowing the service.
#[utoipa::path(get, path = "/v1/stream", params(AfterQuery),
    responses((status = 200, description = "text/event-stream of alerts"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn stream(
    State(s): State<AppRef>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<AfterQuery>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "Last-Event-ID must be a sequence number",
                        Some("Last-Event-ID"),
                    )
                })?,
        ),
        None => None,
    };
    let after = last_id.or(q.after).unwrap_or(0);
    let party = caller.0.id;
    // Subscribe before reading the backlog so nothing falls in between (duplicates are skipped).
    let mut rx = s.stream(party).subscribe();
    let state = s.clone();
    let events = async_stream::stream! {
        let mut last = after;
        loop {
            let store = state.store.clone();
            let page = tokio::task::spawn_blocking(move || store.alerts_after(party, last, 1000)).await;
            let page = match page {
                Ok(Ok(p)) => p,
                _ => {
                    yield Ok(Event::default().event("error").data(r#"{"error":"storage unavailable"}"#));
                    return;
                }
            };
            let n = page.len();
            for a in page {
                last = a.seq;
                yield Ok(Event::default().id(a.seq.to_string()).event("alert").data(alert_json(&a).to_string()));
            }
            if n < 1000 {
                break;
            }
        }
        // Live: the channel carries this node's alerts and those other nodes publish. A gap
        // (an alert stored by another node, or sent out of order) is filled from the store;
        // with a shared store the stream also looks there every second, so nothing stored by
        // any node is missed while NATS is away.
        let mut poll = tokio::time::interval(std::time::Duration::from_secs(1));
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let got = tokio::select! {
                r = rx.recv() => Some(r),
                _ = poll.tick(), if state.shared => None,
            };
            let fill = match got {
                None => true,
                Some(Ok(a)) if a.seq == last + 1 => {
                    last = a.seq;
                    yield Ok(Event::default().id(a.seq.to_string()).event("alert").data(alert_json(&a).to_string()));
                    false
                }
                Some(Ok(a)) => a.seq > last,
                Some(Err(RecvError::Lagged(_))) => {
                    state.metrics.streams_cut.fetch_add(1, Ordering::Relaxed);
                    let msg = json!({"error": "slow consumer: disconnected; reconnect with Last-Event-ID to resume", "last_seq": last});
                    yield Ok(Event::default().event("error").data(msg.to_string()));
                    return;
                }
                Some(Err(RecvError::Closed)) => return,
            };
            if fill {
                let store = state.store.clone();
                let from = last;
                let page = tokio::task::spawn_blocking(move || store.alerts_after(party, from, 1000)).await;
                match page {
                    Ok(Ok(p)) => {
                        for a in p {
                            if a.seq > last {
                                last = a.seq;
                                yield Ok(Event::default().id(a.seq.to_string()).event("alert").data(alert_json(&a).to_string()));
                            }
                        }
                    }
                    _ => {
                        yield Ok(Event::default().event("error").data(r#"{"error":"storage unavailable"}"#));
                        return;
                    }
                }
            }
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The chain these entries are from (one per node; see `/v1/audit/key` for all of them).
    pub chain: String,
    /// Entries about you (your writes, your alerts, your tokens), with their hashes.
    pub entries: Vec<Value>,
    /// The newest signed checkpoint of that chain.
    pub checkpoint: Option<Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Which node's chain (default: the chain of the node answering).
    pub chain: Option<String>,
    /// Return entries with a sequence number above this (default 0).
    pub after: Option<u64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<usize>,
}

/// The audit entries about you in one chain, with each entry's previous and own hash, and the
/// chain's newest signed checkpoint (verify it with `/v1/audit/key`).
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit(
    State(s): State<AppRef>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let chain = q.chain.unwrap_or_else(|| s.config.node.clone());
    if chain.is_empty() || chain.len() > 64 || chain.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "chain must be 1 to 64 bytes",
            Some("chain"),
        ));
    }
    let store = s.store.clone();
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(1000).clamp(1, 10_000));
    let c = chain.clone();
    let (entries, cp) = tokio::task::spawn_blocking(move || {
        Ok::<_, deconflict_store::StoreError>((
            store.audit_for_party(caller.0.id, &c, after, limit)?,
            store.latest_checkpoint(&c)?,
        ))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Json(AuditPage {
        chain,
        entries: entries
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
            .collect(),
        checkpoint: cp.map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditKey {
    pub algorithm: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Every node's chain with its newest entry (`chain`, `seq`, `hash`).
    pub chains: Vec<Value>,
}

/// The service's Ed25519 public key, which signs the audit checkpoints, and the heads of the
/// chains (one per node).
#[utoipa::path(get, path = "/v1/audit/key", responses((status = 200, body = AuditKey), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit_key(State(s): State<AppRef>, _caller: Caller) -> Result<Json<AuditKey>, ApiError> {
    let store = s.store.clone();
    let heads = tokio::task::spawn_blocking(move || store.chain_heads())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(AuditKey {
        algorithm: "ed25519".into(),
        public_key: s.store.public_key_hex(),
        chains: heads
            .iter()
            .map(|h| json!({"chain": h.chain, "seq": h.seq, "hash": h.hash}))
            .collect(),
    }))
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

/// The OpenAPI document, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "deconflict", description = "Deconfliction for a shared, contested airspace. See docs/api.md."),
    paths(healthz, metrics, post_tracks, get_tracks, get_track, get_conflict, get_alerts, stream, get_audit, get_audit_key,
          crate::strategic_api::put_intent, crate::strategic_api::put_constraint, crate::strategic_api::get_intent,
          crate::strategic_api::get_constraint, crate::strategic_api::delete_intent, crate::strategic_api::delete_constraint,
          crate::strategic_api::list_intents, crate::strategic_api::list_constraints,
          crate::strategic_api::intents_geojson, crate::strategic_api::conflicts_geojson),
    components(schemas(ErrorBody, Health, ReportResult, TracksAccepted, Picture, OwnTrack, IntruderView, crate::engine::StateVector, AuditPage, AuditKey)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
