//! The hotline over HTTP: `POST /v1/messages` sends (validated, resolved, stored with every
//! copy and put on the recipients' streams before the answer), `GET /v1/messages` is the
//! caller's mailbox (reading it delivers what it holds), `POST /v1/messages/{id}/ack`
//! acknowledges a message received. Whom a message reaches is `crate::hotline`'s.

use super::alerts::AfterQuery;
use super::schemas::{MessageAcked, MessageItem, MessageRequest, MessageSent};
use crate::hotline::{parse_message, resolve};
use crate::http::{read_json, ApiError, Caller, ErrorBody, JsonPath, JsonQuery};
use crate::runtime::deliver_entries;
use crate::state::{unix_now, AppState};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use deconflict_core::strategic::check_volume_times;
use deconflict_core::track::format_rfc3339;
use deconflict_store::{Direction, Role};
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::OpenApi;

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/messages", get(list).post(send))
        .route("/v1/messages/{id}/ack", post(ack))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(send, list, ack),
    components(schemas(MessageRequest, MessageSent, MessageItem, MessageAcked))
)]
pub(crate) struct Doc;

/// Send a message on the hotline: to named parties (`{"parties": [...]}`), to a coalition
/// through its lead, which passes it on to every member (`{"coalition": lead}`), or to the
/// other side of one of your conflicts (`{"conflict": id}`) — who is not named to you, and to
/// whom you are named only if the conflict told them your name. Each recipient gets it on its
/// stream (`event: message`) at once, again until it acknowledges (every `hotline.resend_s`,
/// sooner for emergencies), and escalated after `hotline.escalate_s`. Extents, checked as a
/// filing's, are shown to the addressees only. Nothing is stored unless all is valid.
#[utoipa::path(post, path = "/v1/messages",
    request_body(content = MessageRequest),
    responses((status = 201, body = MessageSent, description = "sent: stored with every copy, on the recipients' streams"),
              (status = 400, body = ErrorBody, description = "malformed JSON (`field: body`)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "observers cannot send"),
              (status = 413, body = ErrorBody, description = "body over max_body_bytes"),
              (status = 422, body = ErrorBody, description = "a bad field, a party that does not exist or is yourself, no such coalition, a conflict you are not a side of, a reply_to not in your mailbox; nothing stored"),
              (status = 429, body = ErrorBody, description = "past your hotline rate (`field: hotline_rate`, `Retry-After`) or your request rate; nothing sent"),
              (status = 500, body = ErrorBody), (status = 503, body = ErrorBody, description = "the shared store is unavailable; nothing stored")),
    security(("bearer" = [])))]
async fn send(
    State(s): State<AppRef>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let party = caller.0;
    if party.role == Role::Observer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "observers cannot send on the hotline",
            None,
        ));
    }
    let value = read_json(&s, body).await?;
    let req = parse_message(&value, &s.limits)
        .map_err(|(f, m)| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m, Some(&f)))?;
    let now = unix_now();
    if !req.volumes.is_empty() {
        check_volume_times(&req.volumes, "extents", now, &s.limits)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.message, Some(&e.field)))?;
    }
    let store = s.store.clone();
    let kind = req.kind.as_str().to_string();
    let msg = tokio::task::spawn_blocking(move || resolve(&store, &party, req)).await??;
    // Each copy counts against the sender's hotline bucket: a flood of messages must not
    // crowd another party's stream.
    if let Err(e) = s.rate.messages(msg.sender, msg.recipients.len()) {
        s.metrics.requests_throttled.inc();
        return Err(e);
    }
    let store = s.store.clone();
    let _place = s
        .store_writes
        .acquire(msg.sender)
        .await
        .map_err(ApiError::internal)?;
    let sent = tokio::task::spawn_blocking(move || store.send_message(&msg, now)).await??;
    deliver_entries(&s, sent.stream);
    s.metrics
        .messages_sent
        .get_or_create(&crate::metrics::KindLabel { kind })
        .inc();
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": sent.item.id, "seq": sent.item.seq, "sent_at": format_rfc3339(now), "receipt": sent.receipt}),
        ),
    ))
}

/// Your mailbox after a sequence number, oldest first: what you sent (`direction: out`, with
/// `to` as you wrote it and, per copy you are shown, `delivered_at` / `acked_at` /
/// `escalated_at`) and what you received (`direction: in`, `from` as you may see the sender,
/// `via` a coalition lead, and your copy's times). Reading it delivers the messages it holds.
#[utoipa::path(get, path = "/v1/messages", params(AfterQuery),
    responses((status = 200, body = Vec<MessageItem>, description = "your mailbox, oldest first"),
              (status = 400, body = ErrorBody, description = "a malformed `after` or `limit` (named in `field`)"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list(
    State(s): State<AppRef>,
    caller: Caller,
    JsonQuery(q): JsonQuery<AfterQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let store = s.store.clone();
    let party = caller.0.id;
    let (after, limit) = (
        q.after.unwrap_or(0),
        q.limit.unwrap_or(super::alerts::DEFAULT_LIMIT),
    );
    let now = unix_now();
    let items = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut items = store.messages_after(party, after, limit)?;
        let undelivered: Vec<String> = items
            .iter()
            .filter(|i| i.direction == Direction::In && i.delivered_at.is_none())
            .map(|i| i.id.clone())
            .collect();
        let marked = store.mark_delivered(party, &undelivered, now)?;
        if marked.len() < undelivered.len() {
            // Delivered meanwhile by a stream: read the times it recorded.
            items = store.messages_after(party, after, limit)?;
        }
        for i in items.iter_mut().filter(|i| marked.contains(&i.id)) {
            i.delivered_at = Some(now);
        }
        Ok(items)
    })
    .await??;
    Ok(Json(items.iter().map(|i| i.to_json()).collect()))
}

/// Acknowledge a message you received. The sender is told on its stream (`event: message`,
/// `type: message.ack`) the first time; it is then no longer re-sent or escalated. Your copy
/// only: any other id (another party's, a guessed one, one you sent) is a 404.
#[utoipa::path(post, path = "/v1/messages/{id}/ack",
    params(("id" = String, Path, min_length = 1, max_length = 64, description = "the message's id")),
    responses((status = 200, body = MessageAcked, description = "acknowledged (`first`: this time)"),
              (status = 400, body = ErrorBody, description = "a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no message of yours to acknowledge has this id"),
              (status = 500, body = ErrorBody), (status = 503, body = ErrorBody, description = "the shared store is unavailable")),
    security(("bearer" = [])))]
async fn ack(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<Json<Value>, ApiError> {
    let store = s.store.clone();
    let party = caller.0.id;
    let now = unix_now();
    let key = id.clone();
    let _place = s.store_writes.acquire(party).await.map_err(ApiError::internal)?;
    let acked = tokio::task::spawn_blocking(move || store.ack_message(party, &key, now))
        .await?
        .map_err(|e| match e {
            deconflict_store::StoreError::NotFound(_) => ApiError::not_found("message"),
            e => e.into(),
        })?;
    let answer = json!({"id": id, "acked_at": format_rfc3339(acked.acked_at), "first": acked.first, "receipt": acked.receipt});
    deliver_entries(&s, acked.stream);
    Ok(Json(answer))
}
