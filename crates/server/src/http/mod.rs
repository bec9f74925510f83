//! The HTTP edge's leaves, which the route modules use and which import nothing of them:
//! * [`error`]: the one error shape ([`ApiError`], [`ErrorBody`]);
//! * [`auth`]: the bearer-token extractor ([`Caller`]);
//! * [`body`]: JSON bodies with size limits ([`read_json`]).

pub mod auth;
pub mod body;
pub mod error;

pub use auth::Caller;
pub(crate) use body::{read_json, reject};
pub use error::{ApiError, ErrorBody};
