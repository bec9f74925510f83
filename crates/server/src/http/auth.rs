//! Bearer-token authentication: the [`Caller`] extractor turns `Authorization: Bearer …` into
//! the caller's party (401 otherwise).

use super::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use deconflict_store::Party;
use std::sync::Arc;

type AppRef = Arc<AppState>;

/// Longest token accepted, bytes (ours are 68: `dcf_` and 64 hex digits).
pub const MAX_TOKEN_LEN: usize = 200;

/// The token of an `Authorization` value: the scheme `Bearer` in any case (RFC 9110 §11.1),
/// one or more spaces, then a token of printable ASCII without spaces (RFC 6750's
/// `b64token` characters), at most [`MAX_TOKEN_LEN`] bytes. `None` for anything else.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ').trim_end_matches(' ');
    let b64token =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN && token.bytes().all(b64token)).then_some(token)
}

/// The authenticated caller: its party, and the token it presented (so that what lives on
/// after the request, a stream, can check that the token still holds).
#[derive(Clone)]
pub struct Caller(pub Party, pub(crate) BearerToken);

/// A presented bearer token; never printed.
#[derive(Clone)]
pub(crate) struct BearerToken(pub(crate) String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(…)")
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Caller").field(&self.0).finish_non_exhaustive()
    }
}

impl FromRequestParts<AppRef> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppRef) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing, malformed, unknown or revoked bearer token",
                Some("Authorization"),
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(unauthorized)?;
        let text = value.to_str().map_err(|_| unauthorized())?;
        let token = bearer_token(text).ok_or_else(unauthorized)?.to_string();
        let store = state.store.clone();
        let presented = token.clone();
        let party = tokio::task::spawn_blocking(move || store.authenticate(&token))
            .await??
            .ok_or_else(unauthorized)?;
        // Each party's own bucket: one party's flood is refused without slowing the others.
        if let Err(e) = state.rate.request(party.id) {
            state.metrics.requests_throttled.inc();
            return Err(e);
        }
        Ok(Caller(party, BearerToken(presented)))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_strict() {
        for ok in [
            "Bearer dcf_ab",
            "bearer dcf_ab",
            "BEARER dcf_ab",
            "bEaReR   dcf_ab  ",
        ] {
            assert_eq!(bearer_token(ok), Some("dcf_ab"), "{ok:?}");
        }
        let long = format!("Bearer {}", "a".repeat(201));
        for bad in [
            "Bearer",
            "Bearer ",
            "Basic dcf_ab",
            "Bearerdcf_ab",
            "Bearer a b",
            "Bearer a\tb",
            "Bearer \u{7f}",
            &long,
        ] {
            assert_eq!(bearer_token(bad), None, "{bad:?}");
        }
    }
}
