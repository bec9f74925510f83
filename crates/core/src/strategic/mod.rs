//! Strategic deconfliction: 4D volumes (ASTM F3548 `Volume4D`), their exact overlap, and an
//! index that finds every stored volume overlapping a new filing.
//!
//! * [`parse_volumes`] validates the wire form and names the field at fault;
//!   [`Volume4D::to_astm_json`] writes it back.
//! * [`overlap`] is the exact 4D test; [`brute_force_conflicts`] applies it to every pair.
//! * [`StrategicIndex`] finds the same conflicts through H3 cells and time buckets.
//! * [`synth`] generates synthetic operational intents for benchmarks and tests.
//!
//! # Geometry
//!
//! The Earth is the sphere of [`crate::geodesy::EARTH_RADIUS_M`], as in the rest of the core.
//! **A polygon's edges are great-circle arcs** between consecutive vertices (as in S2, which the
//! InterUSS DSS uses), and the polygon is the smaller of the two regions its outline bounds. So
//! a polygon crossing the antimeridian, or drawn around a pole, needs no special case: vertices
//! become unit vectors and nothing depends on longitude.
//!
//! Two footprints are compared in the *gnomonic* plane centred on the pair. The gnomonic
//! projection maps great circles to straight lines, so a spherical polygon becomes a plane
//! polygon with the same vertices and straight edges: point-in-polygon, edge crossings and the
//! boolean intersection there are exact statements about the sphere (up to floating point).
//! Areas are distorted in that plane, but an area is only compared with zero or with the area
//! of the other footprint of the same pair.
//!
//! Circles are decided exactly on the sphere, never through a polygon:
//! * circle–circle: great-circle distance between the centres `< r1 + r2`;
//! * circle–polygon: the centre is inside the polygon, or the great-circle distance from the
//!   centre to the nearest edge arc is `< r`.
//!
//! Only the *reported* overlap region approximates a circle, by the circumscribed 64-gon on the
//! sphere (every edge a great-circle arc tangent to the circle; the vertices lie 0.12 % of the
//! radius outside it). The reported region therefore contains the true one and is at most
//! 0.12 % of the radius larger.
//!
//! Polygon–polygon overlap is decided by the area of the boolean intersection (Sutherland–
//! Hodgman when both are convex, `geo`'s `BooleanOps` otherwise): the footprints overlap when
//! that area exceeds [`AREA_EPS_REL`] times the smaller footprint's. This tolerance is the one
//! place where the test is not exact: outlines that only touch (a shared edge or vertex) are
//! not an overlap, and neither is a sliver thinner than about a millionth of the footprints'
//! size.
//!
//! Intervals are open: time windows or altitude bands that only touch do not overlap.

// Checks are written `!(x < limit)` on purpose: NaN fails them.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod geojson;
mod index;
mod parse;
mod sphere;
pub mod synth;
mod types;

#[cfg(test)]
mod tests;

pub use index::{brute_force_conflicts, IndexStats, KeyConflicts, StrategicIndex};
pub use parse::{check_volume_times, format_time, parse_volumes};
pub use sphere::{
    footprint_area_m2, outline_vertices, overlap, overlap_within_first, overlap_work, AREA_EPS_REL,
    CIRCLE_SIDES,
};
pub use types::{Bounds4D, FieldError, Footprint, LatLng, Overlap, Volume4D, VolumeLimits};
