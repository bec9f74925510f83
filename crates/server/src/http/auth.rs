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
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(unauthorized)?;
        let text = value.to_str().map_err(|_| unauthorized())?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(unauthorized)?
            .trim()
            .to_string();
        if token.is_empty() || token.len() > 200 {
            return Err(unauthorized());
        }
        let store = state.store.clone();
        let party = tokio::task::spawn_blocking(move || store.authenticate(&token)).await??;
        party.map(Caller).ok_or_else(unauthorized)
    }
}
