//! The data of strategic deconfliction: points, footprints, 4D volumes, their bounds and
//! overlaps, the filing limits and the field errors. Plain data: the modules beside this one
//! give it its behaviour (parse, sphere, geojson, index).

use serde::{Deserialize, Serialize};
use std::fmt;

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

/// Limits on what a filing may contain (`[filings]` in the service's configuration).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeLimits {
    /// Vertices of one polygon.
    pub max_vertices: usize,
    /// Volumes in one list.
    pub max_volumes: usize,
    /// Polygon vertices in one list, all volumes together: what bounds the work of one filing's
    /// overlap computation.
    pub max_total_vertices: usize,
    /// Area of one footprint (polygon or circle), km².
    pub max_area_km2: f64,
    /// Area of all the footprints of one list together, km².
    pub max_total_area_km2: f64,
    /// `time_end - time_start` of one volume, seconds.
    pub max_duration_s: f64,
    /// Radius of a circle; also the largest distance from a polygon's centre (the normalised
    /// mean of its vertices) to any of its vertices.
    pub max_radius_m: f64,
    /// How far ahead of now a volume may start, seconds (checked by [`check_volume_times`](super::check_volume_times)).
    pub max_lead_s: f64,
    /// How long before now a volume may have ended, seconds: the grace for clocks that
    /// disagree (checked by [`check_volume_times`](super::check_volume_times)).
    pub max_ended_s: f64,
    /// The work one filing's exact overlaps may take, in pairs of outline vertices
    /// ([`overlap_work`](super::overlap_work)); past it, overlaps are conservative
    /// ([`StrategicIndex::conflicts_within`](super::StrategicIndex::conflicts_within)).
    pub max_overlap_work: u64,
}

impl VolumeLimits {
    /// Every limit positive and finite (a configuration's check).
    pub fn validate(&self) -> Result<(), String> {
        let counts = [
            ("max_vertices", self.max_vertices),
            ("max_volumes", self.max_volumes),
            ("max_total_vertices", self.max_total_vertices),
        ];
        for (name, v) in counts {
            if v == 0 {
                return Err(format!("filings.{name} must be at least 1"));
            }
        }
        let reals = [
            ("max_area_km2", self.max_area_km2),
            ("max_total_area_km2", self.max_total_area_km2),
            ("max_duration_s", self.max_duration_s),
            ("max_radius_m", self.max_radius_m),
            ("max_lead_s", self.max_lead_s),
            ("max_ended_s", self.max_ended_s),
        ];
        for (name, v) in reals {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("filings.{name} must be a positive number"));
            }
        }
        if self.max_radius_m > 2_000_000.0 {
            return Err(
                "filings.max_radius_m must be at most 2000000 (a cap well under a hemisphere)".into(),
            );
        }
        if self.max_overlap_work == 0 {
            return Err("filings.max_overlap_work must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for VolumeLimits {
    fn default() -> Self {
        VolumeLimits {
            max_vertices: 1000,
            max_volumes: 100,
            max_total_vertices: 5_000,
            max_area_km2: 250_000.0,
            max_total_area_km2: 1_000_000.0,
            max_duration_s: 7.0 * 86_400.0,
            max_radius_m: 500_000.0,
            max_lead_s: 30.0 * 86_400.0,
            max_ended_s: 300.0,
            // About 20 to 80 ms of one core (4 to 16 ns a pair, measured on spiky stars).
            max_overlap_work: 5_000_000,
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
    /// in [-180, 180]). A circle enters as its circumscribed [`CIRCLE_SIDES`](super::CIRCLE_SIDES)-gon, so this
    /// region contains the true overlap. It can be empty in one degenerate case: a circle that
    /// reaches into a polygon by less than about a millionth of their size.
    pub footprint: Vec<Vec<LatLng>>,
    /// The footprint is not the intersection but the first volume's own outline, which
    /// contains it: the exact computation was past the work budget
    /// ([`StrategicIndex::conflicts_within`](super::StrategicIndex::conflicts_within)).
    pub approximate: bool,
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
