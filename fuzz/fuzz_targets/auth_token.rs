//! Tokens: the bytes as the value of an `Authorization` header (`bearer_token`, what the
//! service's `Caller` extractor reads), then the store's shape check of the token
//! (`is_token_shaped`, before any database look-up).
//!
//! Invariants: a token read is 1 to 200 bytes with no surrounding whitespace, and reads back
//! the same from `Bearer <token>`; a token that passes the shape check is `dcf_` and 64
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
    let Some(token) = bearer_token(&value) else {
        return;
    };
    assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN, "{token:?}");
    assert_eq!(token, token.trim(), "surrounding whitespace kept");
    let again = HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is header text");
    assert_eq!(bearer_token(&again), Some(token));
    if is_token_shaped(token) {
        let secret = &token[TOKEN_PREFIX.len()..];
        assert!(token.starts_with(TOKEN_PREFIX) && secret.len() == 64);
        assert!(secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
});
