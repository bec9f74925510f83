//! The audit log as a party sees it: the entries about itself in one chain with their hashes,
//! the chain's newest signed checkpoint, and the service's public key.

use super::alerts::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::query::{FromQuery, QueryParams, MAX_SEQ};
use crate::http::{ApiError, Caller, ErrorBody, JsonQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/audit", get(get_audit))
        .route("/v1/audit/key", get(get_audit_key))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(get_audit, get_audit_key), components(schemas(AuditPage, AuditKey)))]
pub(crate) struct Doc;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The chain these entries are from (one per node; see `/v1/audit/key` for all of them).
    pub chain: String,
    /// Entries about you (your writes, your alerts, your tokens), with their hashes.
    pub entries: Vec<Value>,
    /// The newest signed checkpoint of that chain.
    pub checkpoint: Option<Value>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Which node's chain (default: the chain of the node answering): 1 to 64 of
    /// `A-Z a-z 0-9 _ -` (node names are 1 to 32 of those).
    #[param(
        required = false,
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.-]{1,64}$"
    )]
    pub chain: Option<String>,
    /// Return entries with a sequence number above this (default 0).
    #[param(
        required = false,
        nullable = false,
        minimum = 0,
        maximum = 9223372036854775807_u64
    )]
    pub after: Option<u64>,
    /// At most this many (default 1000; 1 to 10000, anything else is a 400).
    #[param(required = false, nullable = false, minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
}

/// Whether `chain` can name a chain: 1 to 64 of `A-Z a-z 0-9 _ -`.
impl FromQuery for AuditQuery {
    fn from_query(q: &QueryParams) -> Result<Self, ApiError> {
        let chain = q.string("chain")?;
        if chain
            .as_deref()
            .is_some_and(|c| !deconflict_store::valid_chain_name(c))
        {
            return Err(ApiError::bad_request(
                "chain must be 1 to 64 of A-Z a-z 0-9 _ . -",
                "chain",
            ));
        }
        Ok(AuditQuery {
            chain,
            after: q.integer("after", 0, MAX_SEQ)?,
            limit: q.integer("limit", 1, MAX_LIMIT)?.map(|n| n as usize),
        })
    }
}

/// The audit entries about you in one chain, with each entry's previous and own hash, and the
/// chain's newest signed checkpoint (verify it with `/v1/audit/key`).
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery),
    responses((status = 200, body = AuditPage),
              (status = 400, body = ErrorBody, description = "a malformed `chain`, `after` or `limit` (named in `field`)"),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit(
    State(s): State<AppRef>,
    caller: Caller,
    JsonQuery(q): JsonQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let chain = q.chain.unwrap_or_else(|| s.config.node.clone());
    let store = s.store.clone();
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(DEFAULT_LIMIT));
    let c = chain.clone();
    let (entries, cp) = tokio::task::spawn_blocking(move || {
        Ok::<_, deconflict_store::StoreError>((
            store.audit_for_party(caller.0.id, &c, after, limit)?,
            store.latest_checkpoint(&c)?,
        ))
    })
    .await??;
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
#[utoipa::path(get, path = "/v1/audit/key",
    responses((status = 200, body = AuditKey), (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit_key(State(s): State<AppRef>, _caller: Caller) -> Result<Json<AuditKey>, ApiError> {
    let store = s.store.clone();
    let heads = tokio::task::spawn_blocking(move || store.chain_heads()).await??;
    Ok(Json(AuditKey {
        algorithm: "ed25519".into(),
        public_key: s.store.public_key_hex(),
        chains: heads
            .iter()
            .map(|h| json!({"chain": h.chain, "seq": h.seq, "hash": h.hash}))
            .collect(),
    }))
}
