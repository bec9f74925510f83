//! The audit log as a party sees it: its own sub-chain of one node's chain (its entries only,
//! numbered in the sub-chain), the newest signed party checkpoint with its own leaves and
//! their inclusion proofs, its sub-chain heads and the service's public key, and the whole view
//! as JSON Lines for the offline verifier (`deconflict audit verify`). Nothing in it counts or
//! times any other party's activity (docs/security.md).

use super::alerts::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::query::{FromQuery, QueryParams, MAX_SEQ};
use crate::http::{ApiError, Caller, ErrorBody, JsonQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_store::{PartyAuditEntry, PartyCheckpointView, PartyHead};
use serde::Serialize;
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/audit", get(get_audit))
        .route("/v1/audit/key", get(get_audit_key))
        .route("/v1/audit/export", get(get_audit_export))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(get_audit, get_audit_key, get_audit_export),
    components(schemas(AuditPage, AuditKey))
)]
pub(crate) struct Doc;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The node whose chain this sub-chain is part of (see `/v1/audit/key` for your others).
    pub chain: String,
    /// Your entries in that chain (your writes, your alerts, your tokens, what was disclosed
    /// to you and about you), numbered 1, 2, 3, ... in your sub-chain, each with the previous
    /// and its own sub-chain hash: `{chain, seq, time, kind, body, prev, hash}`.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<PartyAuditEntry>,
    /// The newest signed party checkpoint with your leaves and their inclusion proofs (null
    /// until one has been signed since your first entry).
    #[schema(value_type = Option<Object>)]
    pub checkpoint: Option<PartyCheckpointView>,
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
    /// Return entries with a sub-chain sequence number above this (default 0).
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

/// Your entries in one node's chain (your sub-chain of it), with each entry's previous and own
/// sub-chain hash, and the newest signed party checkpoint with your leaves (verify them with
/// `/v1/audit/key`'s key, or offline: `/v1/audit/export`).
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
    let party = caller.0.id;
    let (entries, checkpoint) = tokio::task::spawn_blocking(move || {
        Ok::<_, deconflict_store::StoreError>((
            store.party_audit(party, &c, after, limit)?,
            store.party_checkpoint_view(party)?,
        ))
    })
    .await??;
    Ok(Json(AuditPage {
        chain,
        entries,
        checkpoint,
    }))
}

/// Your whole audit view as JSON Lines (format `deconflict-party-audit/1`, docs/security.md):
/// every sub-chain of yours, then the newest party checkpoint with your leaves. Check it
/// offline with `deconflict audit verify FILE`.
#[utoipa::path(get, path = "/v1/audit/export",
    responses((status = 200, description = "JSON Lines", content_type = "application/x-ndjson", body = String),
              (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit_export(State(s): State<AppRef>, caller: Caller) -> Result<impl IntoResponse, ApiError> {
    let store = s.store.clone();
    let party = caller.0.id;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        store.export_party_audit(party, &mut out).map(|()| out)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], bytes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditKey {
    pub algorithm: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// The heads of your sub-chains (`chain`, `seq`, `hash`), one per node that wrote about
    /// you; nothing of anyone else's.
    #[schema(value_type = Vec<Object>)]
    pub chains: Vec<PartyHead>,
}

/// The service's Ed25519 public key, which signs the audit checkpoints, and the heads of your
/// sub-chains.
#[utoipa::path(get, path = "/v1/audit/key",
    responses((status = 200, body = AuditKey), (status = 401, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_audit_key(State(s): State<AppRef>, caller: Caller) -> Result<Json<AuditKey>, ApiError> {
    let store = s.store.clone();
    let party = caller.0.id;
    let heads = tokio::task::spawn_blocking(move || store.party_heads(party)).await??;
    Ok(Json(AuditKey {
        algorithm: "ed25519".into(),
        public_key: s.store.public_key_hex(),
        chains: heads,
    }))
}
