#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! `GET /v1/me` in-process (`Router::oneshot`, no socket): each token gets its own party and
//! nothing of any other, an observer's token works, a missing, unknown or revoked token is a
//! JSON 401, and the OpenAPI document declares what the route answers.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
mod support;

use deconflict_store::Role;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Service {
    app: Router,
    state: std::sync::Arc<deconflict_server::AppState>,
    _dir: tempfile::TempDir,
}

/// A service with three parties: ALPHA (of the coalition COAL), BRAVO and the observer WATCH.
fn service() -> Service {
    let parties = [
        ("COAL", None, Role::Party),
        ("ALPHA", Some("COAL"), Role::Party),
        ("BRAVO", None, Role::Party),
        ("WATCH", None, Role::Observer),
    ];
    let (state, dir) = support::state(|_| {}, &parties);
    Service {
        app: deconflict_server::api::router(state.clone()),
        state,
        _dir: dir,
    }
}

impl Service {
    fn token(&self, party: &str) -> String {
        support::token(&self.state, party)
    }
    fn id(&self, party: &str) -> i64 {
        let p = self.state.store.party_by_name(party).unwrap().unwrap();
        p.id.get()
    }
    /// (status, content type, body) of `GET /v1/me` with this `Authorization` value.
    async fn me(&self, auth: Option<&str>) -> (StatusCode, String, Value) {
        let mut req = Request::builder().uri("/v1/me");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let res = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, ct, serde_json::from_slice(&bytes).unwrap())
    }
}

#[tokio::test]
async fn each_token_gets_its_own_party_and_nothing_of_another() {
    let s = service();
    let (alpha, bravo) = (s.token("ALPHA"), s.token("BRAVO"));
    let (st, ct, body) = s.me(Some(&format!("Bearer {alpha}"))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(
        body,
        json!({"id": s.id("ALPHA"), "name": "ALPHA", "role": "party", "member_of": "COAL"})
    );
    let (st, _, body) = s.me(Some(&format!("Bearer {bravo}"))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"id": s.id("BRAVO"), "name": "BRAVO", "role": "party", "member_of": null})
    );
    // Nothing of the other parties (nor of COAL, ALPHA's coalition, beyond its name).
    let text = body.to_string();
    for other in ["ALPHA", "COAL", "WATCH"] {
        assert!(!text.contains(other), "{other} in {text}");
    }
    // The same token again, another time: still its own party (nothing is cached across).
    let (_, _, again) = s.me(Some(&format!("Bearer {alpha}"))).await;
    assert_eq!(again["name"], "ALPHA");
}

#[tokio::test]
async fn an_observer_token_works() {
    let s = service();
    let watch = s.token("WATCH");
    let (st, _, body) = s.me(Some(&format!("Bearer {watch}"))).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"id": s.id("WATCH"), "name": "WATCH", "role": "observer", "member_of": null})
    );
}

#[tokio::test]
async fn no_valid_token_is_a_json_401() {
    let s = service();
    let alpha = s.token("ALPHA");
    let unknown = format!("Bearer dcf_{}", "0".repeat(64));
    let malformed = "Basic QUxQSEE6eA==".to_string();
    for auth in [
        None,
        Some(unknown.as_str()),
        Some(malformed.as_str()),
        Some("Bearer "),
    ] {
        let (st, ct, body) = s.me(auth).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth:?}: {body}");
        assert!(ct.starts_with("application/json"), "{auth:?}: {ct}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
        assert_eq!(body["field"], "Authorization", "{body}");
    }
    // A revoked token too.
    let now = deconflict_server::unix_now();
    s.state.store.revoke_tokens("ALPHA", now).unwrap();
    let (st, _, body) = s.me(Some(&format!("Bearer {alpha}"))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["field"], "Authorization", "{body}");
}

#[test]
fn the_document_declares_the_route_its_statuses_and_its_schema() {
    let doc = serde_json::to_value(deconflict_server::api::openapi()).unwrap();
    let op = &doc["paths"]["/v1/me"]["get"];
    assert!(op.is_object(), "/v1/me is not in the document");
    assert_eq!(op["security"], json!([{"bearer": []}]));
    let responses = op["responses"].as_object().unwrap();
    let mut statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["200", "401", "429", "500"]);
    for s in ["401", "429", "500"] {
        let r = &responses[s]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(r, "#/components/schemas/ErrorBody", "{s}");
    }
    let ok = &responses["200"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(ok, "#/components/schemas/Me");
    let me = &doc["components"]["schemas"]["Me"];
    let mut required: Vec<&str> = me["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["id", "member_of", "name", "role"], "{me}");
    let roles = &doc["components"]["schemas"]["MyRole"]["enum"];
    assert_eq!(roles, &json!(["party", "observer", "admin"]));
}
