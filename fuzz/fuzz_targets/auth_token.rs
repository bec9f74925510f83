//! Tokens: the bytes as the value of an `Authorization` header (`bearer_token`, what the
//! service's `Caller` extractor reads), then the store's shape check of the token
//! (`is_token_shaped`, before any database look-up).
//!
//! Invariants: a token read is 1 to 200 bytes of visible ASCII, and reads back the same from
//! `BEARER <token>` (the scheme in any case); a token that passes the shape check is `dcf_` and 64
//! lowercase hex digits.
#![no_main]

use deconflict_server::fuzzing::{bearer_token, MAX_TOKEN_LEN};
use deconflict_store::{is_token_shaped, TOKEN_PREFIX};
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    // What the Caller extractor does: the value as text, then the scheme and token.
    let Ok(text) = value.to_str() else {
        return;
    };
    let Some(token) = bearer_token(text) else {
        return;
    };
    assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN, "{token:?}");
    assert!(token.bytes().all(|b| b.is_ascii_graphic()), "{token:?}");
    let again = HeaderValue::from_str(&format!("BEARER {token}")).expect("a token is header text");
    assert_eq!(again.to_str().ok().and_then(bearer_token), Some(token));
    if is_token_shaped(token) {
        let secret = &token[TOKEN_PREFIX.len()..];
        assert!(token.starts_with(TOKEN_PREFIX) && secret.len() == 64);
        assert!(secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
});
