#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! `GET /v1/me` against a real `deconflict serve`, with parties and tokens made by the CLI
//! (`party add`, `token issue`, `token revoke`): each token is answered with its own party,
//! an observer's token works, without a valid token the answer is a JSON 401, and the served
//! OpenAPI document declares the route.

mod support;

use serde_json::{json, Value};
use support::call;
use support::single::{cli, party, start};

/// The party ids as `deconflict party list` prints them (one JSON object a line), by name.
fn ids(dir: &std::path::Path) -> std::collections::HashMap<String, i64> {
    cli(dir, &["party", "list"])
        .lines()
        .map(|l| {
            let p: Value = serde_json::from_str(l).unwrap();
            (p["name"].as_str().unwrap().to_string(), p["id"].as_i64().unwrap())
        })
        .collect()
}

#[test]
fn each_token_is_answered_with_its_own_party() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let coal = party(dir.path(), "COAL");
    cli(dir.path(), &["party", "add", "ALPHA", "--member-of", "COAL"]);
    let alpha = cli(dir.path(), &["token", "issue", "ALPHA"]);
    cli(dir.path(), &["party", "add", "WATCH", "--role", "observer"]);
    let watch = cli(dir.path(), &["token", "issue", "WATCH"]);
    let id = ids(dir.path());
    let me = |token: Option<&str>| call("GET", &format!("{}/v1/me", s.base), token, None);

    let (st, body) = me(Some(&alpha));
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": id["ALPHA"], "name": "ALPHA", "role": "party", "member_of": "COAL"})
    );
    // Another party's token gets that party, and nothing of ALPHA.
    let (st, body) = me(Some(&coal));
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": id["COAL"], "name": "COAL", "role": "party", "member_of": null})
    );
    assert!(!body.to_string().contains("ALPHA"), "{body}");
    // An observer may ask who it is.
    let (st, body) = me(Some(&watch));
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": id["WATCH"], "name": "WATCH", "role": "observer", "member_of": null})
    );

    // No token, an unknown one, a revoked one: 401 in the one JSON error shape.
    cli(dir.path(), &["token", "revoke", "ALPHA"]);
    let unknown = format!("dcf_{}", "a".repeat(64));
    for token in [None, Some(unknown.as_str()), Some(alpha.as_str())] {
        let (st, body) = me(token);
        assert_eq!(st, 401, "{body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "not the JSON error shape: {body}"
        );
        assert_eq!(body["field"], Value::from("Authorization"), "{body}");
    }
    // The others' tokens still hold.
    assert_eq!(me(Some(&coal)).1["name"], "COAL");

    // The served OpenAPI document has the route, with what it answers.
    let (st, doc) = call("GET", &format!("{}/openapi.json", s.base), None, None);
    assert_eq!(st, 200);
    let responses = &doc["paths"]["/v1/me"]["get"]["responses"];
    for status in ["200", "401", "429", "500"] {
        assert!(
            responses[status].is_object(),
            "/v1/me: no {status} in {responses}"
        );
    }
}
