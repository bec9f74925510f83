#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The HTTP edge in-process (`Router::oneshot`, no socket): every error answer is JSON
//! `{"error": …, "field": …}` with the right status, and the OpenAPI document declares what
//! the routes answer.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
mod support;

use deconflict_server::AppState;
use deconflict_store::Role;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct Service {
    app: Router,
    state: Arc<AppState>,
    token: String,
    _dir: tempfile::TempDir,
}

fn service(max_body_bytes: Option<usize>) -> Service {
    let tweak = |c: &mut deconflict_server::Config| {
        if let Some(n) = max_body_bytes {
            c.max_body_bytes = n;
        }
    };
    let (state, dir) = support::state(tweak, &[("ALPHA", None, Role::Party)]);
    let token = support::token(&state, "ALPHA");
    Service {
        app: deconflict_server::api::router(state.clone()),
        state,
        token,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Service {
    async fn call(&self, method: Method, uri: &str, auth: Option<&str>, body: Option<String>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Answer {
            status,
            content_type,
            headers,
            body,
        }
    }
    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
    async fn get(&self, uri: &str) -> Answer {
        self.call(Method::GET, uri, Some(&self.bearer()), None).await
    }
    async fn send(&self, method: Method, uri: &str, body: impl Into<String>) -> Answer {
        self.call(method, uri, Some(&self.bearer()), Some(body.into()))
            .await
    }
}

/// The answer is `status` with the JSON error shape, naming `field` (None: no field at all).
#[track_caller]
fn assert_error(a: &Answer, status: StatusCode, field: Option<&str>) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert!(
        a.content_type.starts_with("application/json"),
        "content-type {:?}",
        a.content_type
    );
    let error = a.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error member: {:?}", a.body));
    assert!(!error.is_empty());
    assert_eq!(a.body.get("field").and_then(Value::as_str), field, "{:?}", a.body);
}

#[tokio::test]
async fn query_parameters_are_refused_as_json_naming_the_parameter() {
    let s = service(None);
    assert_error(
        &s.get("/v1/alerts?after=-1").await,
        StatusCode::BAD_REQUEST,
        Some("after"),
    );
    assert_error(
        &s.get("/v1/alerts?limit=abc").await,
        StatusCode::BAD_REQUEST,
        Some("limit"),
    );
    assert_error(
        &s.get("/v1/alerts?limit=0").await,
        StatusCode::BAD_REQUEST,
        Some("limit"),
    );
    assert_error(
        &s.get("/v1/alerts?limit=10001").await,
        StatusCode::BAD_REQUEST,
        Some("limit"),
    );
    // The largest sequence number the document declares is taken; one above is not.
    assert_eq!(
        s.get("/v1/alerts?after=9223372036854775807&limit=10000")
            .await
            .status,
        StatusCode::OK
    );
    assert_error(
        &s.get("/v1/alerts?after=9223372036854775808").await,
        StatusCode::BAD_REQUEST,
        Some("after"),
    );
    assert_error(
        &s.get("/v1/stream?after=x").await,
        StatusCode::BAD_REQUEST,
        Some("after"),
    );
    assert_error(
        &s.get("/v1/audit?after=1.5").await,
        StatusCode::BAD_REQUEST,
        Some("after"),
    );
    assert_error(
        &s.get("/v1/audit?chain=").await,
        StatusCode::BAD_REQUEST,
        Some("chain"),
    );
    assert_error(
        &s.get(&format!("/v1/audit?chain={}", "a".repeat(65))).await,
        StatusCode::BAD_REQUEST,
        Some("chain"),
    );
    assert_error(
        &s.get("/v1/audit?chain=%C3%A9").await,
        StatusCode::BAD_REQUEST,
        Some("chain"),
    );
    let ok = s.get("/v1/audit?chain=main&after=0&limit=1").await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["chain"], "main");
    let ok = s.get("/v1/alerts?after=0").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, json!([]));
}

#[tokio::test]
async fn routes_methods_and_paths_answer_json() {
    let s = service(None);
    assert_error(&s.get("/v1/nowhere").await, StatusCode::NOT_FOUND, None);
    let a = s.send(Method::PATCH, "/v1/tracks", "[]").await;
    assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, None);
    let allow = a
        .headers
        .get(header::ALLOW)
        .expect("405 keeps Allow")
        .to_str()
        .unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_error(
        &s.call(Method::DELETE, "/v1/alerts", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        None,
    );
    assert_error(
        &s.get("/v1/tracks/%FF").await,
        StatusCode::BAD_REQUEST,
        Some("asset"),
    );
    assert_error(
        &s.get("/v1/intents/%FF%FE").await,
        StatusCode::BAD_REQUEST,
        Some("id"),
    );
    assert_error(&s.get("/v1/intents/nope").await, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn oversized_header_blocks_are_431_as_json() {
    use deconflict_server::http::limits::{MAX_HEADERS, MAX_HEADER_BYTES};
    let s = service(None);
    let send = |req: Request<Body>| {
        let app = s.app.clone();
        async move { app.oneshot(req).await.unwrap() }
    };
    let check = |res: axum::response::Response| async move {
        assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let ct = res.headers()[header::CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{ct}");
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["field"], "headers", "{v}");
        assert!(v["error"].as_str().unwrap().contains("header"), "{v}");
    };
    // One header value larger than the whole allowance.
    let big = "x".repeat(MAX_HEADER_BYTES + 1);
    let req = Request::get("/healthz")
        .header("x-padding", big.as_str())
        .body(Body::empty())
        .unwrap();
    check(send(req).await).await;
    // Too many headers, each small.
    let mut req = Request::get("/healthz");
    for i in 0..=MAX_HEADERS {
        req = req.header(format!("x-h{i}"), "1");
    }
    check(send(req.body(Body::empty()).unwrap()).await).await;
    // Just inside both limits: served.
    let mut req = Request::get("/healthz");
    for i in 0..MAX_HEADERS {
        req = req.header(format!("x-h{i}"), "1");
    }
    let ok = send(req.body(Body::empty()).unwrap()).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_tokens_are_401_naming_authorization() {
    let s = service(None);
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer "),
        Some("Basic abc"),
        Some("BEARER x"),
        Some("Bearer nope"),
    ] {
        let a = s.call(Method::GET, "/v1/tracks", auth, None).await;
        assert_error(&a, StatusCode::UNAUTHORIZED, Some("Authorization"));
        assert_eq!(
            a.headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer",
            "{auth:?}"
        );
    }
    assert_eq!(s.get("/v1/tracks").await.status, StatusCode::OK);
}

#[tokio::test]
async fn observers_may_not_write() {
    let s = service(None);
    let now = deconflict_server::unix_now();
    s.state
        .store
        .add_party("WATCH", None, Role::Observer, now)
        .unwrap();
    let t = format!("Bearer {}", s.state.store.issue_token("WATCH", now).unwrap());
    let a = s
        .call(Method::POST, "/v1/tracks", Some(&t), Some("[]".into()))
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, None);
    let a = s
        .call(Method::PUT, "/v1/intents/i1", Some(&t), Some("{}".into()))
        .await;
    assert_error(&a, StatusCode::FORBIDDEN, None);
}

fn report(lat: f64) -> Value {
    json!({"asset": "UAV-1", "time": deconflict_server::unix_now() - 1.0, "lat": lat, "lng": 35.0,
           "alt_m": 100.0, "gs_mps": 20.0, "track_deg": 90.0, "vs_mps": 0.0, "class": "uas_small"})
}

#[tokio::test]
async fn bodies_are_refused_as_json() {
    let s = service(Some(1024));
    let big = format!("[{}]", vec![report(35.0).to_string(); 20].join(","));
    assert!(big.len() > 1024);
    assert_error(
        &s.send(Method::POST, "/v1/tracks", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        Some("body"),
    );
    assert_error(
        &s.send(Method::POST, "/v1/tracks", "[{").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );
    assert_error(
        &s.send(Method::POST, "/v1/tracks", "").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );
    assert_error(
        &s.send(Method::PUT, "/v1/intents/i1", "{").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );
    assert_error(
        &s.send(Method::PUT, "/v1/constraints/c1", "").await,
        StatusCode::BAD_REQUEST,
        Some("body"),
    );

    let bad = json!([report(35.0), report(91.0)]).to_string();
    let a = s.send(Method::POST, "/v1/tracks", bad).await;
    assert_error(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("tracks[1].lat"));
    assert_eq!(a.body["accepted"], 0);
    assert_eq!(a.body["results"][1]["status"], "rejected");
    assert_error(
        &s.send(Method::PUT, "/v1/intents/i1", "{}").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("extents"),
    );

    let good = json!([report(35.0)]).to_string();
    let a = s.send(Method::POST, "/v1/tracks", good).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["accepted"], 1);
}

#[tokio::test]
async fn a_stale_version_is_409_with_the_current_one() {
    let s = service(None);
    let t0 = deconflict_core::track::format_rfc3339(deconflict_server::unix_now() + 600.0);
    let t1 = deconflict_core::track::format_rfc3339(deconflict_server::unix_now() + 1200.0);
    let alt = |v: f64| json!({"value": v, "reference": "W84", "units": "M"});
    let body = json!({"extents": [{"volume": {"outline_circle": {"center": {"lat": 35.0, "lng": 35.0},
        "radius": {"value": 500.0, "units": "M"}}, "altitude_lower": alt(0.0), "altitude_upper": alt(100.0)},
        "time_start": {"value": t0, "format": "RFC3339"}, "time_end": {"value": t1, "format": "RFC3339"}}]});
    let a = s.send(Method::PUT, "/v1/intents/i1", body.to_string()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let mut stale = body.clone();
    stale["version"] = json!(7);
    let a = s.send(Method::PUT, "/v1/intents/i1", stale.to_string()).await;
    assert_error(&a, StatusCode::CONFLICT, Some("version"));
    assert_eq!(a.body["current_version"], 1);
    let a = s.get("/v1/intents/i1").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["version"], 1);
}

#[test]
fn the_document_declares_401_on_every_secured_route_and_every_body() {
    let doc = serde_json::to_value(deconflict_server::api::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut secured = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if op.get("security").is_some() {
                secured += 1;
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
                let e = &responses["401"]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(e, "#/components/schemas/ErrorBody", "{method} {path}");
            }
            // An acknowledgement is the one write that carries no body.
            if (method == "post" || method == "put") && path != "/v1/messages/{id}/ack" {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(schema.is_object(), "{method} {path}: no request body schema");
                let text = schema.to_string();
                assert!(
                    text.contains("$ref"),
                    "{method} {path}: a bare body schema {text}"
                );
                assert!(
                    responses.contains_key("400") && responses.contains_key("413"),
                    "{method} {path}"
                );
                assert!(responses.contains_key("422"), "{method} {path}");
            }
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let placeholder = format!("{{{name}}}");
                if path.contains(&placeholder) {
                    assert_eq!(
                        (&p["in"], &p["required"]),
                        (&json!("path"), &json!(true)),
                        "{method} {path} {name}"
                    );
                } else {
                    assert_ne!(p["in"], "path", "{method} {path}: {name} is not in the path");
                    assert_ne!(p["required"], true, "{method} {path}: {name} is optional");
                    assert!(
                        !p["schema"]["type"].to_string().contains("null"),
                        "{method} {path}: {name} nullable"
                    );
                }
            }
            if params.iter().any(|p| p["in"] == "query" || p["in"] == "path") {
                assert!(
                    responses.contains_key("400"),
                    "{method} {path}: parameters but no 400"
                );
            }
        }
    }
    assert!(secured >= 15, "{secured}");
    let stream = &paths["/v1/stream"]["get"]["parameters"];
    assert!(
        !stream.to_string().contains("\"limit\""),
        "/v1/stream declares a limit it ignores"
    );
    let after = &paths["/v1/alerts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "after")
        .unwrap()["schema"];
    assert_eq!(after["type"], "integer");
    assert_eq!(after["format"], "int64");
    assert_eq!(after["minimum"], 0);
    assert_eq!(after["maximum"], json!(i64::MAX));
    let schemas = &doc["components"]["schemas"];
    let report = &schemas["TrackReport"];
    for f in ["asset", "time", "lat", "lng", "alt_m", "gs_mps", "track_deg"] {
        assert!(report["required"].as_array().unwrap().contains(&json!(f)), "{f}");
    }
    assert_eq!(report["properties"]["lat"]["maximum"], 90);
    assert_eq!(schemas["IntentFiling"]["required"], json!(["extents"]));
    assert!(schemas["ConstraintFiling"]["properties"].get("binds").is_some());
    assert!(schemas["Volume4D"].is_object());
}
