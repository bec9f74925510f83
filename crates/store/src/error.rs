//! The one error type of the store, [`StoreError`], and how lower-level (SQLite) errors map
//! onto it. A leaf: it imports nothing else of the crate.
//!
//! Driver errors are turned into a message when they cross into a `StoreError` (the variants
//! carry `String`s, not the driver's error values): that keeps the type `Clone` (a failed
//! group-commit batch hands one error to every job of the batch), `PartialEq` (callers and
//! tests compare results) and free of driver types in the public API.

/// What went wrong in a store call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("storage: {0}")]
    Storage(String),
    /// An update named a version that is no longer the current one.
    #[error("stale version: the current version is {current}")]
    Stale { current: u64 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
            _ => StoreError::Storage(e.to_string()),
        }
    }
}
