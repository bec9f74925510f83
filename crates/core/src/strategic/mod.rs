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

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use index::{brute_force_conflicts, IndexStats, KeyConflicts, StrategicIndex};
pub use parse::{format_time, parse_volumes};
pub use sphere::{overlap, AREA_EPS_REL, CIRCLE_SIDES};

/// A point on the Earth, degrees (WGS84 latitude and longitude).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLng {
    /// Latitude, degrees, in [-90, 90].
    pub lat: f64,
    /// Longitude, degrees, in [-180, 180].
    pub lng: f64,
}

impl LatLng {
    /// The point at latitude `lat` and longitude `lng`, degrees.
    pub fn new(lat: f64, lng: f64) -> Self {
        LatLng { lat, lng }
    }
}

/// The horizontal extent of a volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Footprint {
    /// The outline's vertices, not closed (the last vertex is not a copy of the first). Edges
    /// are great-circle arcs.
    Polygon(Vec<LatLng>),
    /// The points whose great-circle distance from `center` is below `radius_m`.
    Circle {
        /// Centre of the circle.
        center: LatLng,
        /// Radius, metres of great-circle distance.
        radius_m: f64,
    },
}

/// A 4D volume: a footprint, an altitude band (metres, WGS84) and a time window (Unix seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume4D {
    /// Horizontal extent.
    pub footprint: Footprint,
    /// Bottom of the altitude band, metres (WGS84 reference, ASTM `W84`).
    pub alt_lower_m: f64,
    /// Top of the altitude band, metres (WGS84), above `alt_lower_m`.
    pub alt_upper_m: f64,
    /// Start of the time window, Unix seconds.
    pub time_start: f64,
    /// End of the time window, Unix seconds, after `time_start`.
    pub time_end: f64,
}

/// Limits on what a filing may contain.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeLimits {
    /// Vertices of one polygon.
    pub max_vertices: usize,
    /// Volumes in one list.
    pub max_volumes: usize,
    /// Area of one footprint (polygon or circle), km².
    pub max_area_km2: f64,
    /// `time_end - time_start` of one volume, seconds.
    pub max_duration_s: f64,
    /// Radius of a circle; also the largest distance from a polygon's centre (the normalised
    /// mean of its vertices) to any of its vertices.
    pub max_radius_m: f64,
}

impl Default for VolumeLimits {
    fn default() -> Self {
        VolumeLimits {
            max_vertices: 1000,
            max_volumes: 100,
            max_area_km2: 250_000.0,
            max_duration_s: 7.0 * 86_400.0,
            max_radius_m: 500_000.0,
        }
    }
}

/// Why a list of volumes was refused: the field at fault (a JSON path such as
/// `extents[2].volume.outline_polygon.vertices[3].lat`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field at fault.
    pub field: String,
    /// What is wrong: a short kind, a colon, then details (e.g. `too many vertices: 1200
    /// (limit 1000)`).
    pub message: String,
}

impl FieldError {
    /// The error for `field` with this message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The 4D overlap of two volumes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// Start of the common time window (the later start), Unix seconds.
    pub time_start: f64,
    /// End of the common time window (the earlier end), Unix seconds.
    pub time_end: f64,
    /// Bottom of the common altitude band (the higher bottom), metres.
    pub alt_lower_m: f64,
    /// Top of the common altitude band (the lower top), metres.
    pub alt_upper_m: f64,
    /// The intersection of the footprints: one exterior ring per part (not closed, longitudes
    /// in [-180, 180]). A circle enters as its circumscribed [`CIRCLE_SIDES`]-gon, so this
    /// region contains the true overlap. It can be empty in one degenerate case: a circle that
    /// reaches into a polygon by less than about a millionth of their size.
    pub footprint: Vec<Vec<LatLng>>,
}

/// A volume's bounds: a spherical cap around its footprint (`center`, `radius_m`), the
/// latitude/longitude box of that cap (`lng_min`/`lng_max` may leave [-180, 180] for a box
/// across the antimeridian; a cap over a pole spans all longitudes), and the altitude band and
/// time window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds4D {
    /// Centre of the cap: a circle's centre, or the normalised mean of a polygon's vertices.
    pub center: LatLng,
    /// Radius of the cap, metres of great-circle distance: a circle's radius, or the distance
    /// from the centre to a polygon's farthest vertex.
    pub radius_m: f64,
    /// Southern edge of the box, degrees (at least -90).
    pub lat_min: f64,
    /// Northern edge of the box, degrees (at most 90).
    pub lat_max: f64,
    /// Western edge of the box, degrees (may be below -180 across the antimeridian).
    pub lng_min: f64,
    /// Eastern edge of the box, degrees (may be above 180 across the antimeridian).
    pub lng_max: f64,
    /// The volume's `alt_lower_m`, metres.
    pub alt_lower_m: f64,
    /// The volume's `alt_upper_m`, metres.
    pub alt_upper_m: f64,
    /// The volume's `time_start`, Unix seconds.
    pub time_start: f64,
    /// The volume's `time_end`, Unix seconds.
    pub time_end: f64,
}

impl Volume4D {
    /// The ASTM F3548 wire form (metres, `W84`, RFC 3339 to the nanosecond).
    /// [`parse_volumes`] reads it back to an equal volume.
    pub fn to_astm_json(&self) -> serde_json::Value {
        parse::to_astm_json(self)
    }

    /// Whether the point is inside the volume: `time_start ≤ t ≤ time_end`,
    /// `alt_lower_m ≤ alt_m ≤ alt_upper_m`, and strictly inside the footprint (a circle: the
    /// great-circle distance from the centre is below the radius).
    pub fn contains(&self, lat: f64, lng: f64, alt_m: f64, t: f64) -> bool {
        self.time_start <= t
            && t <= self.time_end
            && self.alt_lower_m <= alt_m
            && alt_m <= self.alt_upper_m
            && sphere::Shape::new(&self.footprint).contains(crate::geodesy::unit_vector(lat, lng))
    }

    /// The volume's bounds (see [`Bounds4D`]).
    pub fn bbox(&self) -> Bounds4D {
        sphere::bounds(self)
    }

    /// The footprint as a GeoJSON `MultiPolygon` (`[lng, lat]` positions, rings closed and
    /// counter-clockwise), cut at the antimeridian like an overlap's; a circle as its
    /// circumscribed [`CIRCLE_SIDES`]-gon.
    pub fn footprint_geojson(&self) -> serde_json::Value {
        let ring: Vec<LatLng> = match &self.footprint {
            Footprint::Polygon(p) => p.clone(),
            Footprint::Circle { center, radius_m } => sphere::circumscribed(
                crate::geodesy::unit_vector(center.lat, center.lng),
                radius_m / crate::geodesy::EARTH_RADIUS_M,
            )
            .into_iter()
            .map(sphere::to_latlng)
            .collect(),
        };
        geojson::multipolygon(&[ring])
    }
}

impl Overlap {
    /// The overlap's footprint as a GeoJSON `MultiPolygon` (`[lng, lat]` positions, rings
    /// closed and counter-clockwise). A part crossing the antimeridian is cut there into two
    /// polygons (RFC 7946 §3.1.9); a part around a pole is closed along the pole.
    pub fn to_geojson_geometry(&self) -> serde_json::Value {
        geojson::multipolygon(&self.footprint)
    }
}
