#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The web map's routes in-process: `/` and every built-in asset are served with their
//! content type, the strict Content-Security-Policy and the other security headers, without a
//! token and without ever echoing one; `/assets/` serves only its fixed list (a path that
//! climbs out, or an unknown name, is a JSON 404); and none of it is in the OpenAPI document.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use deconflict_server::api::web::{ASSETS, CSP};
mod support;

use deconflict_store::Role;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn service() -> (Router, String, tempfile::TempDir) {
    let (state, dir) = support::state(|_| {}, &[("ALPHA", None, Role::Party)]);
    let token = support::token(&state, "ALPHA");
    (deconflict_server::api::router(state), token, dir)
}

async fn get(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

fn header_of<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

fn assert_secured(uri: &str, h: &HeaderMap) {
    let csp = header_of(h, "content-security-policy");
    assert_eq!(csp, CSP, "{uri}");
    for directive in [
        "default-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
    ] {
        assert!(
            csp.split(';').any(|d| d.trim() == directive),
            "{uri}: {directive} in {csp}"
        );
    }
    assert!(!csp.contains("unsafe"), "{uri}: {csp}");
    assert_eq!(header_of(h, "x-content-type-options"), "nosniff", "{uri}");
    assert_eq!(header_of(h, "referrer-policy"), "no-referrer", "{uri}");
    assert_eq!(header_of(h, "x-frame-options"), "DENY", "{uri}");
    assert!(!header_of(h, "cache-control").is_empty(), "{uri}");
    assert!(h.get(header::SET_COOKIE).is_none(), "{uri}: sets no cookie");
}

#[tokio::test]
async fn the_page_and_every_asset_are_served_with_their_type_and_the_policy() {
    let (app, token, _dir) = service();
    let (status, h, body) = get(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&h, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header_of(&h, "cache-control"), "no-cache");
    assert_secured("/", &h);
    let html = String::from_utf8(body).unwrap();
    // No inline script: every <script> names its source, on this origin.
    for tag in html.split("<script").skip(1) {
        let tag = &tag[..tag.find('>').unwrap()];
        assert!(tag.contains("src=\"/assets/"), "inline or foreign script: {tag}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from outside"
    );
    assert!(!html.contains("style="), "no inline style (style-src 'self')");
    for (name, content_type, bytes) in ASSETS {
        let uri = format!("/assets/{name}");
        let (status, h, body) = get(&app, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(header_of(&h, "content-type"), *content_type, "{uri}");
        assert_secured(&uri, &h);
        assert_eq!(&body[..], *bytes, "{uri}");
        assert!(!bytes.is_empty(), "{uri}");
        let text = String::from_utf8_lossy(bytes);
        if name.ends_with(".js") && !name.contains(".min.") {
            // The page's own code fetches only relative paths of this origin.
            assert!(!text.contains("http://") && !text.contains("https://"), "{uri}");
            for import in text.lines().filter(|l| l.starts_with("import ")) {
                let file = import.rsplit("'./").next().unwrap().trim_end_matches("';");
                assert!(ASSETS.iter().any(|(n, _, _)| *n == file), "{uri} imports {file}");
            }
        }
    }
    // Every asset the page names is built in.
    for part in html.split("\"/assets/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            ASSETS.iter().any(|(n, _, _)| *n == name),
            "/assets/{name} is named by the page"
        );
    }
    // With a token the answers are the same bytes: nothing under / reads or echoes one.
    for uri in ["/", "/assets/app.js"] {
        let (_, _, without) = get(&app, uri, None).await;
        let (status, h, with) = get(&app, uri, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(with, without, "{uri}");
        assert!(!String::from_utf8_lossy(&with).contains(&token), "{uri}");
        assert!(
            !h.iter().any(|(_, v)| v.to_str().unwrap_or("").contains(&token)),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn only_the_fixed_list_is_served() {
    let (app, _token, _dir) = service();
    for uri in [
        "/assets/../x",
        "/assets/..%2fCargo.toml",
        "/assets/%2e%2e",
        "/assets/nope.js",
        "/assets/",
        "/assets/app.js/x",
        "/assets/APP.JS",
        "/index.html",
        "/web/app.js",
    ] {
        let (status, h, body) = get(&app, uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(header_of(&h, "content-type"), "application/json", "{uri}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"].is_string(), "{uri}: {v}");
    }
}

#[test]
fn the_page_is_not_in_the_openapi_document() {
    let doc = deconflict_server::api::openapi();
    for p in doc.paths.paths.keys() {
        assert!(
            p.starts_with("/v1/") || ["/healthz", "/metrics", "/openapi.json"].contains(&p.as_str()),
            "{p}"
        );
        assert!(!p.starts_with("/assets"), "{p}");
    }
}
