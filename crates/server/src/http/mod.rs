//! The HTTP edge's leaves, which the route modules use and which import nothing of them:
//! * [`error`]: the one error shape ([`ApiError`], [`ErrorBody`]) and the middleware that
//!   makes every other error answer take it ([`json_errors`]);
//! * [`auth`]: the bearer-token extractor ([`Caller`]);
//! * [`query`] and [`path`]: the query-string and path extractors ([`JsonQuery`],
//!   [`JsonPath`]), whose refusals name the parameter at fault;
//! * [`body`]: JSON bodies with size limits ([`read_json`], or [`read_bytes`] then
//!   [`parse_json`]);
//! * [`limits`]: the header-block limits ([`header_limits`], 431 as JSON);
//! * [`rate`]: the per-party rate limits ([`RateLimits`], 429 with `Retry-After`).

pub mod auth;
pub mod body;
pub mod error;
pub mod limits;
pub mod path;
pub mod query;
pub mod rate;

pub use auth::Caller;
pub(crate) use body::{parse_json, read_bytes, read_json, reject};
pub use error::{json_errors, ApiError, ErrorBody};
pub use limits::header_limits;
pub use path::JsonPath;
pub use query::JsonQuery;
pub use rate::{RateConfig, RateLimits};
