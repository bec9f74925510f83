//! Bearer-token authentication: the [`Caller`] extractor turns `Authorization: Bearer …` into
//! the caller's party (401 otherwise).

use super::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use deconflict_store::Party;
use std::sync::Arc;

type AppRef = Arc<AppState>;

/// Longest bearer token read (bytes, after trimming); a longer one is refused unread.
pub const MAX_TOKEN_LEN: usize = 200;

/// The token of an `Authorization` header value: `Bearer <token>` (or `bearer <token>`), the
/// token trimmed of surrounding whitespace, 1 to [`MAX_TOKEN_LEN`] bytes (of what a header
/// value may hold as text: visible ASCII, spaces and tabs). None for anything else (the
/// caller answers 401). Whether the token is known is the store's business
/// ([`deconflict_store::StoreBackend::authenticate`]).
pub fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN).then_some(token)
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Party);

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
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(bearer_token)
            .ok_or_else(unauthorized)?
            .to_string();
        let store = state.store.clone();
        let party = tokio::task::spawn_blocking(move || store.authenticate(&token)).await??;
        party.map(Caller).ok_or_else(unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_reads_the_scheme_and_trims() {
        let read = |v: &'static str| bearer_token(&HeaderValue::from_static(v)).map(str::to_string);
        assert_eq!(read("Bearer dcf_abc").as_deref(), Some("dcf_abc"));
        assert_eq!(read("bearer \t dcf_abc  ").as_deref(), Some("dcf_abc"));
        for bad in [
            "Bearer ",
            "Bearer    ",
            "BEARER dcf_abc",
            "Basic dXNlcjpwYXNz",
            "dcf_abc",
            "",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(bearer_token(&HeaderValue::from_str(&long).unwrap()), None);
        let max = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
        assert_eq!(
            bearer_token(&HeaderValue::from_str(&max).unwrap()).map(str::len),
            Some(200)
        );
        // Not text (a byte above 0x7f): refused, not a panic.
        assert_eq!(
            bearer_token(&HeaderValue::from_bytes(b"Bearer \xff").unwrap()),
            None
        );
    }
}
