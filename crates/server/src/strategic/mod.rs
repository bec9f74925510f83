//! Strategic deconfliction in the service: operational intents and constraints (ASTM F3548 4D
//! volumes), conflicts found on filing, and disclosure of the overlap only.
//! * [`request`]: a filing body validated field by field;
//! * [`picture`]: every live filing, the index, and the decision on a new filing;
//! * [`disclosure`]: what a conflict discloses of the other party's filing (coarsened unless
//!   of one coalition), and the budget of disclosures per pair of parties and hour;
//! * [`cover`]: the H3 cells that meet an overlap's footprint (what a coarsened one shows);
//! * [`conformance`]: live tracks checked against activated intents and binding constraints;
//! * [`worker`]: the one thread that decides filings, behind a bounded queue.

pub mod conformance;
pub mod cover;
pub mod disclosure;
pub mod picture;
pub mod request;
pub mod worker;

pub use deconflict_store::FilingKind;
pub use disclosure::{Budget, Coalitions, Disclosed, DisclosurePolicy};
pub use picture::{overlap_json, Decision, Disclose, Filing, Found, OpaqueId, Strategic};
pub use request::{parse_request, Binds, FieldErr, FilingRequest};
pub use worker::{Worker, WorkerError};

use deconflict_core::strategic::Volume4D;
use deconflict_store::Window;

/// The window the store's candidate query uses: the union of the volumes' bounds (all
/// longitudes when a volume crosses the antimeridian or a pole).
pub fn window_of(volumes: &[Volume4D]) -> Window {
    let mut w = Window {
        t_start: f64::INFINITY,
        t_end: f64::NEG_INFINITY,
        alt_lo: f64::INFINITY,
        alt_hi: f64::NEG_INFINITY,
        lat_lo: 90.0,
        lat_hi: -90.0,
        lng_lo: 180.0,
        lng_hi: -180.0,
    };
    let mut all_lng = volumes.is_empty();
    for v in volumes {
        let b = v.bbox();
        w.t_start = w.t_start.min(b.time_start);
        w.t_end = w.t_end.max(b.time_end);
        w.alt_lo = w.alt_lo.min(b.alt_lower_m);
        w.alt_hi = w.alt_hi.max(b.alt_upper_m);
        w.lat_lo = w.lat_lo.min(b.lat_min);
        w.lat_hi = w.lat_hi.max(b.lat_max);
        if b.lng_min < -180.0 || b.lng_max > 180.0 || b.lng_max - b.lng_min >= 360.0 {
            all_lng = true;
        }
        w.lng_lo = w.lng_lo.min(b.lng_min);
        w.lng_hi = w.lng_hi.max(b.lng_max);
    }
    if volumes.is_empty() {
        w = Window {
            t_start: 0.0,
            t_end: 0.0,
            alt_lo: 0.0,
            alt_hi: 0.0,
            lat_lo: -90.0,
            lat_hi: 90.0,
            lng_lo: -180.0,
            lng_hi: 180.0,
        };
    }
    if all_lng {
        w.lng_lo = -180.0;
        w.lng_hi = 180.0;
    }
    w
}
