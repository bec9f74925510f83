#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Writes to the store are bounded per party, in-process (`Router::oneshot`): a party whose
//! store places are all taken (as by a burst of its own requests in the writer's queue) waits
//! for one, and another party's reports go through at once.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
mod support;

use deconflict_server::{state::STORE_WRITES_PER_PARTY, AppState};
use deconflict_store::{PartyId, Role};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

fn service() -> (Router, Arc<AppState>, tempfile::TempDir) {
    let parties = [("ALPHA", None, Role::Party), ("BRAVO", None, Role::Party)];
    let (state, dir) = support::state(|_| {}, &parties);
    (deconflict_server::api::router(state.clone()), state, dir)
}

fn post_tracks(token: &str, asset: &str) -> Request<Body> {
    let body = json!([{"asset": asset, "time": deconflict_server::unix_now() - 1.0, "lat": 35.0,
        "lng": 35.0, "alt_m": 100.0, "gs_mps": 20.0, "track_deg": 90.0, "vs_mps": 0.0,
        "class": "uas_small"}]);
    Request::builder()
        .method(Method::POST)
        .uri("/v1/tracks")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_party_with_its_store_places_taken_waits_and_another_does_not() {
    let (app, state, _dir) = service();
    let (ta, tb) = (support::token(&state, "ALPHA"), support::token(&state, "BRAVO"));
    let alpha: PartyId = state.store.party_by_name("ALPHA").unwrap().unwrap().id;
    // ALPHA's writes fill its places (as a burst of its own requests would)
    let mut held = Vec::new();
    for _ in 0..STORE_WRITES_PER_PARTY {
        held.push(state.store_writes.acquire(alpha).await.unwrap());
    }
    // ALPHA's next report waits for a place ...
    let waiting = tokio::spawn(app.clone().oneshot(post_tracks(&ta, "A-1")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "ALPHA's write did not wait for a place");
    // ... BRAVO's goes through at once
    let b = tokio::time::timeout(
        Duration::from_secs(5),
        app.clone().oneshot(post_tracks(&tb, "B-1")),
    )
    .await
    .expect("BRAVO waited for ALPHA's places")
    .unwrap();
    assert_eq!(b.status(), StatusCode::OK);
    assert!(!waiting.is_finished());
    // a place given back, ALPHA's report is stored
    drop(held);
    let a = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("ALPHA's write never got its place")
        .unwrap()
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(state.store.tracks(alpha).unwrap().len(), 1);
}
