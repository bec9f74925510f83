//! Geodesy on a spherical Earth.
//!
//! Positions are WGS84 latitude/longitude in degrees with an altitude in metres. For conflict
//! detection the Earth is treated as a sphere of mean radius [`EARTH_RADIUS_M`]: over the few
//! tens of kilometres where separation matters the difference from the ellipsoid is far below
//! the precision of any surveillance source, and the sphere has no special cases at the poles or
//! the antimeridian.
//!
//! Each horizontal position is kept as a unit vector `n` (Earth-centred, Earth-fixed), and each
//! horizontal velocity as a 3D vector tangent to the sphere at `n`. Relative geometry between two
//! aircraft is then taken in the plane tangent to the sphere at their midpoint (see
//! [`crate::cpa`]), which is exact for the pair and needs no map projection.

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Metres per foot (international foot).
pub const FT_TO_M: f64 = 0.3048;
/// Metres per second per knot (one nautical mile per hour).
pub const KT_TO_MPS: f64 = 1852.0 / 3600.0;
/// Metres per second per foot per minute (the unit of vertical rates in aviation).
pub const FPM_TO_MPS: f64 = 0.3048 / 60.0;
/// Metres per nautical mile.
pub const NM_TO_M: f64 = 1852.0;

/// A vector in Earth-centred, Earth-fixed axes (x towards 0°N 0°E, y towards 0°N 90°E, z
/// towards the North Pole): a unit position vector, or metres, or metres per second.
pub type Vec3 = [f64; 3];

/// Dot product.
#[inline(always)]
pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Difference `a − b`.
#[inline(always)]
pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Sum `a + b`.
#[inline(always)]
pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// The vector `a` times the scalar `k`.
#[inline(always)]
pub fn scale(a: Vec3, k: f64) -> Vec3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

/// Cross product `a × b`.
#[inline(always)]
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Euclidean length.
#[inline(always)]
pub fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// Unit vector (ECEF direction) of a latitude/longitude in degrees.
#[inline]
pub fn unit_vector(lat_deg: f64, lon_deg: f64) -> Vec3 {
    let (slat, clat) = lat_deg.to_radians().sin_cos();
    let (slon, clon) = lon_deg.to_radians().sin_cos();
    [clat * clon, clat * slon, slat]
}

/// Latitude and longitude (degrees) of a unit vector. Longitude is in (-180, 180].
pub fn lat_lon(n: Vec3) -> (f64, f64) {
    let lat = n[2].clamp(-1.0, 1.0).asin().to_degrees();
    let lon = if n[0] == 0.0 && n[1] == 0.0 {
        0.0
    } else {
        n[1].atan2(n[0]).to_degrees()
    };
    (lat, if lon == -180.0 { 180.0 } else { lon })
}

/// East and north unit vectors of the tangent plane at `lat`/`lon`. At the poles, where east
/// is undefined, the limit along the meridian of `lon` is used so the result stays finite.
#[inline]
pub fn east_north(lat_deg: f64, lon_deg: f64) -> (Vec3, Vec3) {
    let (slat, clat) = lat_deg.to_radians().sin_cos();
    let (slon, clon) = lon_deg.to_radians().sin_cos();
    let east = [-slon, clon, 0.0];
    let north = [-slat * clon, -slat * slon, clat];
    (east, north)
}

/// Ground velocity as a vector tangent to the sphere at `lat`/`lon` (metres per second), from
/// ground speed and true track (degrees clockwise from north).
#[inline]
pub fn velocity_vector(lat_deg: f64, lon_deg: f64, gs_mps: f64, track_deg: f64) -> Vec3 {
    let (east, north) = east_north(lat_deg, lon_deg);
    let (s, c) = track_deg.to_radians().sin_cos();
    add(scale(east, gs_mps * s), scale(north, gs_mps * c))
}

/// Great-circle distance between two unit vectors, metres (numerically stable at all ranges).
#[inline]
pub fn great_circle_m(a: Vec3, b: Vec3) -> f64 {
    let c = norm(cross(a, b));
    let d = dot(a, b);
    c.atan2(d) * EARTH_RADIUS_M
}

/// Great-circle distance between two lat/lon points, metres.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    great_circle_m(unit_vector(lat1, lon1), unit_vector(lat2, lon2))
}

/// Moves a position `dt_s` seconds along the great circle of its current velocity.
/// Returns the new unit vector and the velocity vector rotated into the new tangent plane
/// (same ground speed). Altitude is the caller's business (`alt + vs * dt`).
#[inline]
pub fn propagate(n: Vec3, v: Vec3, dt_s: f64) -> (Vec3, Vec3) {
    let gs = norm(v);
    if gs == 0.0 || dt_s == 0.0 {
        return (n, v);
    }
    let u = scale(v, 1.0 / gs);
    let angle = gs * dt_s / EARTH_RADIUS_M;
    let (s, c) = angle.sin_cos();
    let n2 = add(scale(n, c), scale(u, s));
    let u2 = sub(scale(u, c), scale(n, s));
    // renormalise to keep the unit vector exact over many steps
    let k = 1.0 / norm(n2);
    (scale(n2, k), scale(u2, gs))
}

/// True track (degrees in [0, 360)) of a tangent velocity vector at `n`.
pub fn track_deg(n: Vec3, v: Vec3) -> f64 {
    let (lat, lon) = lat_lon(n);
    let (east, north) = east_north(lat, lon);
    let t = dot(v, east).atan2(dot(v, north)).to_degrees();
    if t < 0.0 {
        t + 360.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude() {
        let d = distance_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.08).abs() < 0.1, "{d}");
    }

    #[test]
    fn distance_across_antimeridian_is_short() {
        let d = distance_m(10.0, 179.99, 10.0, -179.99);
        assert!(d < 2_200.0 && d > 2_100.0, "{d}");
    }

    #[test]
    fn propagate_along_meridian() {
        let n = unit_vector(0.0, 10.0);
        let v = velocity_vector(0.0, 10.0, 100.0, 0.0);
        let (n2, v2) = propagate(n, v, 1000.0);
        let (lat, lon) = lat_lon(n2);
        assert!((lat - 100_000.0 / EARTH_RADIUS_M * 180.0 / std::f64::consts::PI).abs() < 1e-9);
        assert!((lon - 10.0).abs() < 1e-9);
        assert!((norm(v2) - 100.0).abs() < 1e-9);
        assert!(track_deg(n2, v2) < 1e-6 || track_deg(n2, v2) > 360.0 - 1e-6);
    }

    #[test]
    fn propagate_over_the_pole_stays_finite() {
        let n = unit_vector(89.9999, 0.0);
        let v = velocity_vector(89.9999, 0.0, 250.0, 0.0);
        let (n2, v2) = propagate(n, v, 300.0);
        assert!(n2.iter().chain(v2.iter()).all(|x| x.is_finite()));
        assert!((norm(n2) - 1.0).abs() < 1e-12);
        assert!(dot(n2, v2).abs() < 1e-9);
    }

    #[test]
    fn velocity_is_tangent() {
        for (lat, lon) in [(0.0, 0.0), (45.0, 120.0), (-89.0, -179.0), (90.0, 0.0)] {
            let n = unit_vector(lat, lon);
            let v = velocity_vector(lat, lon, 200.0, 33.0);
            assert!(dot(n, v).abs() < 1e-9);
            assert!((norm(v) - 200.0).abs() < 1e-9);
        }
    }
}
