//! Operational intents and constraints: `PUT` files or updates one (checked for conflicts on
//! filing, stored durably, both sides told), `GET` reads the caller's own, `DELETE` ends one.
//! With a store shared by several nodes, the check and the write are one serializable
//! transaction of the store ([`file_shared`]).

use super::schemas::{ConstraintFiling, ConstraintList, Filing as FilingSchema, FilingAnswer, IntentFiling};
use crate::http::{parse_json, read_bytes, ApiError, Caller, ErrorBody, JsonPath};
use crate::runtime::{deliver, publish};
use crate::state::{unix_now, AppState};
use crate::strategic::{
    parse_request, window_of, Binds, Coalitions, Decision, Disclose, Disclosed, Filing, FilingKind,
    FilingRequest, Strategic,
};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use deconflict_core::strategic::check_volume_times;
use deconflict_store::{FilingState, Role};
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa::OpenApi;

type AppRef = Arc<AppState>;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppRef> {
    Router::new()
        .route("/v1/intents", get(list_intents))
        .route("/v1/constraints", get(list_constraints))
        .route(
            "/v1/intents/{id}",
            get(get_intent).put(put_intent).delete(delete_intent),
        )
        .route(
            "/v1/constraints/{id}",
            get(get_constraint).put(put_constraint).delete(delete_constraint),
        )
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        put_intent,
        put_constraint,
        get_intent,
        get_constraint,
        delete_intent,
        delete_constraint,
        list_intents,
        list_constraints
    ),
    components(schemas(
        IntentFiling,
        ConstraintFiling,
        FilingAnswer,
        FilingSchema,
        ConstraintList,
        super::schemas::Volume4D
    ))
)]
pub(crate) struct Doc;

/// A constraint's `binds` must name other parties that exist: binding oneself or nobody is a
/// mistake that would otherwise be stored silently.
async fn check_binds(s: &AppRef, filer: &str, names: Vec<String>) -> Result<(), ApiError> {
    if let Some(i) = names.iter().position(|n| n == filer) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "names the filer: a constraint binds other parties (it never binds its owner)",
            Some(&format!("binds[{i}]")),
        ));
    }
    let store = s.store.clone();
    let unknown =
        tokio::task::spawn_blocking(move || -> Result<Option<usize>, deconflict_store::StoreError> {
            for (i, n) in names.iter().enumerate() {
                if store.party_by_name(n)?.is_none() {
                    return Ok(Some(i));
                }
            }
            Ok(None)
        })
        .await??;
    match unknown {
        Some(i) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no such party",
            Some(&format!("binds[{i}]")),
        )),
        None => Ok(()),
    }
}

fn filing_json(f: &Filing) -> Value {
    let mut v = f.body.value();
    if let Value::Object(m) = &mut v {
        m.remove("version");
        m.remove("reject_on_conflict");
    }
    json!({"id": f.id, "version": f.version, "state": f.state, "priority": f.priority, "filing": v})
}

async fn file(
    s: AppRef,
    caller: Caller,
    kind: FilingKind,
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
    let bytes = read_bytes(&s, body).await?;
    // Parsed on the strategic worker too: a large filing's JSON tree is many times the size
    // of its text, and its peak is then paid on the worker's thread (that pays the geometry's
    // right after) instead of on the async workers that carry every other request.
    let (st, fid) = (s.clone(), id.clone());
    let req = s
        .strategic_worker
        .run(party.id, move || {
            let value = parse_json(&st, &bytes)?;
            parse_request(kind, &fid, &value, &st.limits)
                .map_err(|(f, m)| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m, Some(&f)))
        })
        .await??;
    let now = unix_now();
    // Ending a filing whose volumes have passed is still allowed.
    if req.state != FilingState::Ended {
        check_volume_times(&req.volumes, "extents", now, &s.limits)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.message, Some(&e.field)))?;
    }
    if let Some(Binds::Parties(names)) = &req.binds {
        check_binds(&s, &party.name, names.clone()).await?;
    }
    let st = s.clone();
    let coalitions = tokio::task::spawn_blocking(move || st.coalitions()).await??;
    let (decision, shared_receipt) = if s.shared {
        file_shared(&s, party.id, &party.name, req, now, coalitions).await?
    } else {
        // Decided on the strategic worker's thread: the geometry of a large filing must not
        // hold up the async workers that carry every other party's requests and streams, and
        // its memory peak is paid on one thread (strategic/worker.rs).
        let (st, pid, pname) = (s.clone(), party.id, party.name.clone());
        let decision = s
            .strategic_worker
            .run(pid, move || {
                let mut spend = |about: &[deconflict_store::PartyId]| st.spend_disclosure(pid, about, now);
                let mut d = Disclose {
                    policy: &st.config.disclosure,
                    coalitions: &coalitions,
                    budget: &mut spend,
                };
                st.strategic().file(pid, &pname, req, now, &mut d)
            })
            .await?;
        (decision, None)
    };
    match decision {
        Decision::Stale { current } => Err(ApiError::stale(current)),
        Decision::OverBudget { about } => {
            // The refusal is on the filer's record; it names nobody the filer does not know of.
            let body = json!({"about": s.party_name(about), "limit": s.config.disclosure.per_party_per_hour});
            let store = s.store.clone();
            let pid = party.id;
            tokio::task::spawn_blocking(move || store.audit(Some(pid), "disclosure.refused", body, now))
                .await??;
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "disclosure budget spent: at most {} disclosures an hour about any one party (disclosure.per_party_per_hour); nothing stored",
                    s.config.disclosure.per_party_per_hour
                ),
                Some("disclosure_budget"),
            ))
        }
        Decision::EntersConstraint { conflicts } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the intent enters a constraint that binds you; nothing stored",
            Some("extents"),
        )
        .with(json!({ "conflicts": conflicts }))),
        Decision::RejectedOnConflict {
            conflicts,
            alerts,
            disclosed,
        } => {
            // Nothing is stored, but what the answer discloses is recorded and told to the
            // other side first.
            record_disclosures(&s, disclosed, false, now).await?;
            publish(&s, alerts, now).await;
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "the filing conflicts with other parties' intents and reject_on_conflict is set; nothing stored",
                Some("extents"),
            )
            .with(json!({ "conflicts": conflicts })))
        }
        Decision::Accepted {
            filing,
            conflicts,
            alerts,
            disclosed,
            previous,
        } if !s.shared => {
            let store = s.store.clone();
            let (pid, k, fid, ver, st, body) = (
                party.id,
                kind,
                filing.id.clone(),
                filing.version,
                filing.state,
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
                        state: st,
                        body: body.as_str(),
                        window,
                    },
                    now,
                )
            })
            .await;
            // Not stored (or not known to be): the index forgets the filing again, and the
            // store's error is the answer (a stale version 409, the storage itself 500).
            let receipt = match res {
                Ok(Ok(filed)) => filed.receipt,
                Ok(Err(e)) => {
                    s.strategic().undo(&filing, previous);
                    return Err(e.into());
                }
                Err(e) => {
                    s.strategic().undo(&filing, previous);
                    return Err(e.into());
                }
            };
            record_disclosures(&s, disclosed, true, now).await?;
            publish(&s, alerts, now).await;
            Ok(answer(kind, &filing, conflicts, Some(&receipt)))
        }
        // A shared store has stored it already, with its alerts (file_shared).
        Decision::Accepted {
            filing,
            conflicts,
            disclosed,
            ..
        } => {
            record_disclosures(&s, disclosed, true, now).await?;
            Ok(answer(kind, &filing, conflicts, shared_receipt.as_ref()))
        }
    }
}

/// Each disclosure to a filer, as an audit entry on the filer's record, before the answer.
async fn record_disclosures(
    s: &AppRef,
    disclosed: Vec<Disclosed>,
    stored: bool,
    now: f64,
) -> Result<(), ApiError> {
    if disclosed.is_empty() {
        return Ok(());
    }
    let names: Vec<Option<String>> = disclosed.iter().map(|d| s.party_name(d.about)).collect();
    let store = s.store.clone();
    tokio::task::spawn_blocking(move || -> Result<(), deconflict_store::StoreError> {
        // The filer is a side of each conflict it was told of (the other side's alert records
        // that side): the hotline reaches "the other side of conflict C" from either.
        let sides: Vec<(String, deconflict_store::PartyId, bool)> = disclosed
            .iter()
            .map(|d| (d.conflict_id.clone(), d.to, d.named))
            .collect();
        store.note_conflict_sides(&sides)?;
        for (d, about) in disclosed.iter().zip(names) {
            let body = json!({"to": d.to, "about": about, "conflict_id": d.conflict_id,
                              "what": "strategic_overlap", "stored": stored, "digest": d.digest});
            store.audit(Some(d.to), "disclosure", body, now)?;
        }
        Ok(())
    })
    .await??;
    Ok(())
}

fn answer(
    kind: FilingKind,
    filing: &Filing,
    conflicts: Vec<Value>,
    receipt: Option<&deconflict_store::Receipt>,
) -> (StatusCode, Json<Value>) {
    let status = if filing.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(json!({
            "id": filing.id, "kind": kind.as_str(), "version": filing.version, "state": filing.state,
            "conflicts": conflicts, "receipt": receipt,
        })),
    )
}

/// Files against a store shared by several nodes: the check and the write happen in ONE
/// serializable transaction of the store (retried on conflict), which reads every filing
/// whose window meets this one's and decides with the same rules as one node does (a
/// throw-away [`Strategic`] over those candidates). Two conflicting filings
/// sent to two nodes at once cannot both miss each other: whichever is serialized second sees
/// the first. The node's in-memory picture takes the result afterwards.
async fn file_shared(
    s: &AppRef,
    party: deconflict_store::PartyId,
    party_name: &str,
    req: FilingRequest,
    now: f64,
    coalitions: Coalitions,
) -> Result<(Decision, Option<deconflict_store::Receipt>), ApiError> {
    let window = window_of(&req.volumes);
    let (kind, id) = (req.kind, req.id.clone());
    let out: Arc<std::sync::Mutex<Option<Decision>>> = Arc::default();
    let decide: Arc<deconflict_store::Decide> = {
        let out = out.clone();
        let ids = s.store.clone();
        let limits = s.limits.clone();
        let name = party_name.to_string();
        let st = s.clone();
        // The store may decide more than once (a serialization retry): the budget is asked
        // the first time only, and that answer holds for the retries.
        let spent: Arc<std::sync::Mutex<Option<Result<(), deconflict_store::PartyId>>>> = Arc::default();
        Arc::new(move |cands: &[deconflict_store::Candidate]| {
            let ids = ids.clone();
            let mut tmp = Strategic::new(Arc::new(move |l: &str| ids.opaque_id(l)));
            tmp.set_overlap_budget(st.limits.max_overlap_work);
            tmp.warm(
                cands
                    .iter()
                    .map(|c| (c.party, c.party_name.clone(), c.kind, c.volume.clone()))
                    .collect(),
                &limits,
            );
            // The store may run the decider again (a retried transaction): spend once.
            let mut spend = |about: &[deconflict_store::PartyId]| {
                let mut once = spent.lock().unwrap_or_else(|e| e.into_inner());
                *once.get_or_insert_with(|| st.spend_disclosure(party, about, now))
            };
            let mut d = Disclose {
                policy: &st.config.disclosure,
                coalitions: &coalitions,
                budget: &mut spend,
            };
            let d = tmp.file(party, &name, req.clone(), now, &mut d);
            let write = match &d {
                Decision::Accepted { filing, alerts, .. } => Some(deconflict_store::CheckedWrite {
                    state: filing.state,
                    body: filing.body.as_str().to_string(),
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
    let filed =
        tokio::task::spawn_blocking(move || store.file_checked(party, kind, &fid, &window, now, decide))
            .await?
            // Deliberately 503, not the store's own error: the shared store (PostgreSQL) is away or
            // gave up retrying, and the client may try again (on this node or another).
            .map_err(|e| {
                tracing::error!("storing a filing failed: {e}");
                s.metrics.store_errors.inc();
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
        .ok_or_else(|| ApiError::internal("the store filed without deciding"))?;
    if let (Some(filed), Decision::Accepted { filing, alerts, .. }) = (&filed, &decision) {
        s.strategic().apply(
            party,
            party_name.to_string(),
            kind,
            deconflict_store::StoredVolume {
                id: id.clone(),
                version: filed.version,
                state: filing.state,
                body: filing.body.value(),
                updated: now,
            },
            &s.limits,
        );
        let items: Vec<_> = alerts
            .iter()
            .map(|a| (a.party, a.body.clone()))
            .zip(filed.alert_seqs.iter().copied())
            .collect();
        deliver(s, items, now);
    }
    Ok((decision, filed.map(|f| f.receipt)))
}

/// `DELETE` ends a filing: a new version in state `ended`, taken out of the index.
async fn end(s: AppRef, caller: Caller, kind: FilingKind, id: String) -> Result<impl IntoResponse, ApiError> {
    let body = {
        let st = s.strategic();
        let f = st.get(caller.0.id, kind, &id).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("no such {}", kind.as_str()), None)
        })?;
        let mut b = f.body.value();
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
#[utoipa::path(put, path = "/v1/intents/{id}",
    params(("id" = String, Path, min_length = 1, max_length = 128, description = "your intent id: 1 to 128 bytes, no control characters")),
    request_body(content = IntentFiling),
    responses((status = 201, body = FilingAnswer, description = "filed; lists the strategic conflicts"),
              (status = 200, body = FilingAnswer, description = "updated"),
              (status = 400, body = ErrorBody, description = "malformed JSON (`field: body`), or a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "observers cannot file"),
              (status = 409, body = ErrorBody, description = "stale version, or conflicts with reject_on_conflict; nothing stored"),
              (status = 429, body = ErrorBody, description = "disclosure budget about another party spent (`field: disclosure_budget`); nothing stored"),
              (status = 413, body = ErrorBody, description = "body over max_body_bytes"),
              (status = 422, body = ErrorBody, description = "a bad id or filing, or an intent entering a constraint binding you; nothing stored"),
              (status = 500, body = ErrorBody), (status = 503, body = ErrorBody, description = "the shared store is unavailable; nothing stored")),
    security(("bearer" = [])))]
async fn put_intent(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    file(s, caller, FilingKind::Intent, id, body).await
}

/// File or update a constraint (binds all others, or named parties); see docs/api.md.
#[utoipa::path(put, path = "/v1/constraints/{id}",
    params(("id" = String, Path, min_length = 1, max_length = 128, description = "your constraint id: 1 to 128 bytes, no control characters")),
    request_body(content = ConstraintFiling),
    responses((status = 201, body = FilingAnswer, description = "filed"), (status = 200, body = FilingAnswer, description = "updated"),
              (status = 400, body = ErrorBody, description = "malformed JSON (`field: body`), or a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "observers cannot file"),
              (status = 409, body = ErrorBody, description = "stale version; nothing stored"),
              (status = 429, body = ErrorBody, description = "disclosure budget about another party spent (`field: disclosure_budget`); nothing stored"),
              (status = 413, body = ErrorBody, description = "body over max_body_bytes"),
              (status = 422, body = ErrorBody, description = "a bad id or filing; nothing stored"),
              (status = 500, body = ErrorBody), (status = 503, body = ErrorBody, description = "the shared store is unavailable; nothing stored")),
    security(("bearer" = [])))]
async fn put_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    file(s, caller, FilingKind::Constraint, id, body).await
}

/// End one of your intents.
#[utoipa::path(delete, path = "/v1/intents/{id}", params(("id" = String, Path, description = "your intent id")),
    responses((status = 200, body = FilingAnswer, description = "ended"),
              (status = 400, body = ErrorBody, description = "a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "changed meanwhile (stale version); nothing stored"),
              (status = 422, body = ErrorBody), (status = 500, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "the shared store is unavailable; nothing stored")),
    security(("bearer" = [])))]
async fn delete_intent(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    end(s, caller, FilingKind::Intent, id).await
}

/// End one of your constraints.
#[utoipa::path(delete, path = "/v1/constraints/{id}", params(("id" = String, Path, description = "your constraint id")),
    responses((status = 200, body = FilingAnswer, description = "ended"),
              (status = 400, body = ErrorBody, description = "a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "changed meanwhile (stale version); nothing stored"),
              (status = 422, body = ErrorBody), (status = 500, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "the shared store is unavailable; nothing stored")),
    security(("bearer" = [])))]
async fn delete_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    end(s, caller, FilingKind::Constraint, id).await
}

/// One of your intents.
#[utoipa::path(get, path = "/v1/intents/{id}", params(("id" = String, Path, description = "your intent id")),
    responses((status = 200, body = FilingSchema, description = "the filing"),
              (status = 400, body = ErrorBody, description = "a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_intent(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<Json<Value>, ApiError> {
    s.strategic()
        .get(caller.0.id, FilingKind::Intent, &id)
        .map(|f| Json(filing_json(f)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such intent", None))
}

/// One of your constraints.
#[utoipa::path(get, path = "/v1/constraints/{id}", params(("id" = String, Path, description = "your constraint id")),
    responses((status = 200, body = FilingSchema, description = "the filing"),
              (status = 400, body = ErrorBody, description = "a path that is not UTF-8 (`field: id`)"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_constraint(
    State(s): State<AppRef>,
    caller: Caller,
    JsonPath(id): JsonPath<String>,
) -> Result<Json<Value>, ApiError> {
    s.strategic()
        .get(caller.0.id, FilingKind::Constraint, &id)
        .map(|f| Json(filing_json(f)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such constraint", None))
}

/// Your live intents.
#[utoipa::path(get, path = "/v1/intents",
    responses((status = 200, body = Vec<FilingSchema>, description = "your intents"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_intents(State(s): State<AppRef>, caller: Caller) -> Json<Value> {
    let st = s.strategic();
    Json(Value::from(
        st.own(caller.0.id, FilingKind::Intent)
            .into_iter()
            .map(filing_json)
            .collect::<Vec<_>>(),
    ))
}

/// Your own constraints in full, and the constraints of other parties that bind you (their
/// volumes, type and owner as the owner discloses it): what you must keep out of.
#[utoipa::path(get, path = "/v1/constraints",
    responses((status = 200, body = ConstraintList, description = "own and binding_you"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_constraints(State(s): State<AppRef>, caller: Caller) -> Json<Value> {
    let st = s.strategic();
    let own: Vec<Value> = st
        .own(caller.0.id, FilingKind::Constraint)
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

pub(crate) fn binding_json(f: &Filing) -> Value {
    json!({
        "owner": if f.disclose_name { f.party_name.clone() } else { "another party".into() },
        "type": f.body.constraint_type(),
        "extents": f.volumes.iter().map(|v| v.to_astm_json()).collect::<Vec<_>>(),
    })
}
