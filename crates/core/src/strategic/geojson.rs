//! GeoJSON output of overlap regions, cut at the antimeridian (RFC 7946 §3.1.9).

use super::sphere::{circumscribed, to_latlng};
use super::{Footprint, LatLng, Overlap, Volume4D};
use geo::{BooleanOps, Coord, LineString, Polygon};
use serde_json::{json, Value};

fn wrap180(d: f64) -> f64 {
    let mut x = (d + 180.0).rem_euclid(360.0) - 180.0;
    if x == -180.0 && d > 0.0 {
        x = 180.0;
    }
    x
}

/// A ring's positions with longitudes made continuous (each step the short way round). A ring
/// that goes round a pole comes back 360° off; it is closed along the pole.
fn unwrap(ring: &[LatLng]) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(ring.len() + 4);
    let mut lng = ring[0].lng;
    out.push([lng, ring[0].lat]);
    for w in ring.windows(2) {
        lng += wrap180(w[1].lng - w[0].lng);
        out.push([lng, w[1].lat]);
    }
    let end = lng + wrap180(ring[0].lng - ring[ring.len() - 1].lng);
    let turns = ((end - ring[0].lng) / 360.0).round();
    if turns != 0.0 {
        let mean_lat = ring.iter().map(|p| p.lat).sum::<f64>() / ring.len() as f64;
        let pole = if mean_lat >= 0.0 { 90.0 } else { -90.0 };
        out.push([end, ring[0].lat]);
        out.push([end, pole]);
        out.push([ring[0].lng, pole]);
    }
    out
}

fn geo_polygon(r: &[[f64; 2]]) -> Polygon<f64> {
    let mut cs: Vec<Coord<f64>> = r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    cs.push(cs[0]);
    Polygon::new(LineString(cs), vec![])
}

fn ring_json(cs: impl Iterator<Item = [f64; 2]>) -> Value {
    let mut pts: Vec<[f64; 2]> = cs.collect();
    // Counter-clockwise, closed.
    let n = pts.len();
    let area: f64 = (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a[0] * b[1] - a[1] * b[0]
        })
        .sum();
    if area < 0.0 {
        pts.reverse();
    }
    if let Some(first) = pts.first().copied() {
        pts.push(first);
    }
    Value::Array(pts.iter().map(|p| json!([p[0], p[1]])).collect())
}

pub(crate) fn multipolygon(parts: &[Vec<LatLng>]) -> Value {
    let mut polys: Vec<Value> = Vec::new();
    for ring in parts.iter().filter(|r| r.len() >= 3) {
        let u = unwrap(ring);
        let (lo, hi) = u
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
        if lo >= -180.0 && hi <= 180.0 {
            polys.push(json!([ring_json(u.into_iter())]));
            continue;
        }
        // Cut into the copies of the world it touches and shift each piece back.
        let shape = geo_polygon(&u);
        for k in -2i32..=2 {
            let shift = 360.0 * k as f64;
            let (a, b) = (-180.0 + shift, 180.0 + shift);
            if hi <= a || lo >= b {
                continue;
            }
            let window = geo_polygon(&[[a, -90.0], [b, -90.0], [b, 90.0], [a, 90.0]]);
            for p in shape.intersection(&window).0 {
                let mut cs: Vec<[f64; 2]> = p.exterior().0.iter().map(|c| [c.x - shift, c.y]).collect();
                cs.pop();
                if cs.len() >= 3 {
                    polys.push(json!([ring_json(cs.into_iter())]));
                }
            }
        }
    }
    json!({"type": "MultiPolygon", "coordinates": polys})
}

impl Volume4D {
    /// The footprint as a GeoJSON `MultiPolygon` (`[lng, lat]` positions, rings closed and
    /// counter-clockwise), cut at the antimeridian like an overlap's; a circle as its
    /// circumscribed [`CIRCLE_SIDES`](super::CIRCLE_SIDES)-gon.
    pub fn footprint_geojson(&self) -> serde_json::Value {
        let ring: Vec<LatLng> = match &self.footprint {
            Footprint::Polygon(p) => p.clone(),
            Footprint::Circle { center, radius_m } => circumscribed(
                crate::geodesy::unit_vector(center.lat, center.lng),
                radius_m / crate::geodesy::EARTH_RADIUS_M,
            )
            .into_iter()
            .map(to_latlng)
            .collect(),
        };
        multipolygon(&[ring])
    }
}

impl Overlap {
    /// The overlap's footprint as a GeoJSON `MultiPolygon` (`[lng, lat]` positions, rings
    /// closed and counter-clockwise). A part crossing the antimeridian is cut there into two
    /// polygons (RFC 7946 §3.1.9); a part around a pole is closed along the pole.
    pub fn to_geojson_geometry(&self) -> serde_json::Value {
        multipolygon(&self.footprint)
    }
}
