//! Path parameters: [`JsonPath`] is axum's `Path` whose refusal is the JSON error shape,
//! naming the parameter at fault (e.g. `{"error": "Invalid UTF-8 in `id`", "field": "id"}`).

use super::error::ApiError;
use axum::extract::path::{ErrorKind, Path};
use axum::extract::rejection::PathRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// The path parameters, deserialised; 400 naming the parameter when one cannot be.
#[derive(Debug)]
pub struct JsonPath<T>(pub T);

impl<T, S> FromRequestParts<S> for JsonPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(JsonPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let message = e.body_text();
                let key = match e.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. } => {
                        return Err(ApiError::internal(message))
                    }
                    _ => None,
                };
                Err(ApiError::new(StatusCode::BAD_REQUEST, message, key.as_deref()))
            }
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}
