//! The live stream of a party's alerts (Server-Sent Events), resumable by sequence number: the
//! backlog from the store first, then live alerts, with gaps filled from the store.

use super::alerts::alert_json;
use crate::http::auth::BearerToken;
use crate::http::query::{FromQuery, QueryParams, MAX_SEQ};
use crate::http::{ApiError, Caller, ErrorBody, JsonQuery};
use crate::state::{unix_now, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use deconflict_store::{PartyId, StoredAlert};
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, OpenApi};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new().route("/v1/stream", get(stream))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(stream))]
pub(crate) struct Doc;

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Start after this sequence number (default 0; `Last-Event-ID` wins when both are given).
    #[param(
        required = false,
        nullable = false,
        minimum = 0,
        maximum = 9223372036854775807_u64
    )]
    pub after: Option<u64>,
}

impl FromQuery for StreamQuery {
    fn from_query(q: &QueryParams) -> Result<Self, ApiError> {
        Ok(StreamQuery {
            after: q.integer("after", 0, MAX_SEQ)?,
        })
    }
}

/// Whether `token` still authenticates `party` (a store error counts as no: the stream ends
/// rather than go on unchecked).
async fn still_valid(state: &AppRef, token: &BearerToken, party: PartyId) -> bool {
    let store = state.store.clone();
    let t = token.0.clone();
    matches!(
        tokio::task::spawn_blocking(move || store.authenticate(&t)).await,
        Ok(Ok(Some(p))) if p.id == party
    )
}

/// A stored entry of the party's stream as an event: `event: message` for the hotline's
/// (`type` `message`, `message.ack`, `message.escalated`), `event: alert` for the rest.
fn event_of(a: &StoredAlert) -> Event {
    let name = match a.body.get("type").and_then(|t| t.as_str()) {
        Some(t) if t == "message" || t.starts_with("message.") => "message",
        _ => "alert",
    };
    Event::default()
        .id(a.seq.to_string())
        .event(name)
        .data(alert_json(a).to_string())
}

/// The id of a received message an entry carries (its copy is then delivered).
fn received(a: &StoredAlert) -> Option<String> {
    (a.body.get("type").and_then(|t| t.as_str()) == Some("message"))
        .then(|| a.body.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .flatten()
}

/// Records the copies a stream has just handed over as delivered (in the background: the
/// stream does not wait for the write).
fn mark_delivered(state: &AppRef, party: PartyId, ids: Vec<String>) {
    if ids.is_empty() {
        return;
    }
    let store = state.store.clone();
    let now = unix_now();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = store.mark_delivered(party, &ids, now) {
            tracing::warn!("recording hotline delivery failed: {e}");
        }
    });
}

fn revoked_event() -> Event {
    Event::default()
        .event("error")
        .data(r#"{"error":"token revoked: the stream is closed"}"#)
}

/// Live alerts (Server-Sent Events). Each event has `id:` = the alert's sequence number; a
/// client that reconnects with `Last-Event-ID` (or `?after=`) first gets every alert it missed.
/// A client too slow to keep up is sent an `error` event naming the last sequence number it
/// got, and is disconnected rather than slowing the service. When the token is revoked (by
/// any process on the store, on any node), the stream gets an `error` event and ends within
/// a second; so does every stream when the service begins to stop (with `last_seq`).
#[utoipa::path(get, path = "/v1/stream", params(StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, nullable = false, minimum = 0, maximum = 9223372036854775807_u64,
         description = "resume after this sequence number")),
    responses(// No schema for the stream: schemathesis would hold the whole event list to it.
              (status = 200, description = "text/event-stream: events `alert` (data: an alert, id: its seq), `message` (the hotline: a message, an acknowledgement or an escalation; id: its seq, none for an open message sent again on reconnecting) and `error`"),
              (status = 400, body = ErrorBody, description = "a malformed `after` or `Last-Event-ID` (named in `field`)"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn stream(
    State(s): State<AppRef>,
    caller: Caller,
    headers: HeaderMap,
    JsonQuery(q): JsonQuery<StreamQuery>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|t| t.parse::<u64>().ok())
                .filter(|n| *n <= MAX_SEQ)
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
    let token = caller.1;
    // Subscribe before reading the backlog so nothing falls in between (duplicates are skipped).
    let mut rx = s.stream(party).subscribe();
    // Likewise for revocations: one revoked after the token was checked is seen below.
    let mut revoked = s.revocations.subscribe();
    let mut stopping = s.stopping.subscribe();
    let state = s.clone();
    let events = async_stream::stream! {
        if !still_valid(&state, &token, party).await {
            yield Ok(revoked_event());
            return;
        }
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
            let mut ids = Vec::new();
            for a in page {
                last = a.seq;
                ids.extend(received(&a));
                yield Ok(event_of(&a));
            }
            mark_delivered(&state, party, ids);
            if n < 1000 {
                break;
            }
        }
        // Every message not yet acknowledged whose newest send came before the resume point
        // (so not in the backlog above) comes again, without an id: a client that reconnects
        // has every open message in hand.
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.unacked_messages(party, 1000)).await {
            Ok(Ok(items)) => {
                let mut ids = Vec::new();
                for item in items.into_iter().filter(|i| i.stream_seq.is_some_and(|s| s <= after)) {
                    let mut body = item.stream_body(item.sends.max(1), item.escalated_at.is_some());
                    body["pending"] = json!(true);
                    ids.push(item.id);
                    yield Ok(Event::default().event("message").data(body.to_string()));
                }
                mark_delivered(&state, party, ids);
            }
            _ => {
                yield Ok(Event::default().event("error").data(r#"{"error":"storage unavailable"}"#));
                return;
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
                _ = stopping.changed() => {
                    let msg = json!({"error": "the service is shutting down; reconnect with Last-Event-ID to resume", "last_seq": last});
                    yield Ok(Event::default().event("error").data(msg.to_string()));
                    return;
                }
                changed = revoked.changed() => {
                    if changed.is_err() || !still_valid(&state, &token, party).await {
                        yield Ok(revoked_event());
                        return;
                    }
                    continue;
                }
            };
            let fill = match got {
                None => true,
                Some(Ok(a)) if a.seq == last + 1 => {
                    last = a.seq;
                    state.metrics.stream_lag.observe(rx.len() as f64);
                    mark_delivered(&state, party, received(&a).into_iter().collect());
                    yield Ok(event_of(&a));
                    false
                }
                Some(Ok(a)) => a.seq > last,
                Some(Err(RecvError::Lagged(_))) => {
                    state.metrics.streams_cut.inc();
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
                        let mut ids = Vec::new();
                        for a in p {
                            if a.seq > last {
                                last = a.seq;
                                ids.extend(received(&a));
                                yield Ok(event_of(&a));
                            }
                        }
                        mark_delivered(&state, party, ids);
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
