//! # deconflict-server
//!
//! The HTTP service. See `docs/api.md` for the endpoints and `docs/security.md` for who may see
//! what. The modules, in the order data flows through them:
//! * [`config`]: the service's configuration;
//! * [`http`]: the edge's leaves: the error shape, bearer-token auth, JSON bodies;
//! * [`places`]: at most so many of one party's jobs in flight (the strategic worker, store
//!   writes);
//! * [`api`]: one module per resource (tracks, alerts and the stream, audit, filings, GeoJSON,
//!   health), each with its routes and its part of the OpenAPI document;
//! * [`tactical`]: the sans-IO engine (every party's tracks, alerts to both sides);
//! * [`strategic`]: intents and constraints, conflicts on filing, tracks against filings;
//! * [`hotline`]: messages between parties: whom they reach, re-sending and escalation;
//! * [`runtime`]: the loops that drive the engine and the store;
//! * [`metrics`]: what the service counts, encoded for Prometheus (`prometheus-client`);
//! * [`cluster`]: several nodes as one service (NATS JetStream between them);
//! * [`state`]: what the handlers and loops share, built at start-up;
//! * [`serve`]: start-up and graceful shutdown ([`run`]).

pub mod api;
pub mod cluster;
pub mod config;
pub mod hotline;
pub mod http;
pub mod metrics;
pub mod places;
pub mod runtime;
pub mod serve;
pub mod state;
pub mod strategic;
pub mod tactical;
pub mod tls;

pub use config::Config;
pub use serve::run;
pub use state::{build_state, unix_now, AppState};

/// The parsers the fuzz targets in `fuzz/` drive (see `docs/operations.md`, "Fuzzing"), in one
/// place: the node-to-node wire format (private to [`cluster`] otherwise), the bearer token of
/// an `Authorization` header, and a filing body. Not an API: it may change at any time.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::cluster::wire::{decode_reports, encode_reports};
    pub use crate::hotline::parse_message;
    pub use crate::http::auth::{bearer_token, MAX_TOKEN_LEN};
    pub use crate::strategic::{parse_request, DisclosurePolicy, FilingKind};
}
