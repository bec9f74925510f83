//! Synthetic operational intents for benchmarks and tests: sorties and orbits of 1–5 volumes.

use super::{Footprint, LatLng, Volume4D};
use crate::geodesy::{add, east_north, lat_lon, scale, unit_vector, EARTH_RADIUS_M};
use rand::Rng;

/// Where and when the intents are spread.
#[derive(Debug, Clone)]
pub struct SynthArea {
    /// Southern edge of the area where intents begin, degrees.
    pub lat_min: f64,
    /// Northern edge, degrees.
    pub lat_max: f64,
    /// Western edge, degrees.
    pub lng_min: f64,
    /// Eastern edge, degrees.
    pub lng_max: f64,
    /// Start of the window in which intents begin, Unix seconds.
    pub t0: f64,
    /// Length of that window, seconds. An intent's later volumes can leave the area and the
    /// window.
    pub window_s: f64,
}

impl SynthArea {
    /// The Eastern Mediterranean (about 720 × 1,100 km) over 7 days from 2015-09-18.
    pub fn eastern_mediterranean() -> Self {
        SynthArea {
            lat_min: 31.0,
            lat_max: 37.5,
            lng_min: 25.0,
            lng_max: 36.5,
            t0: 1_442_534_400.0,
            window_s: 7.0 * 86_400.0,
        }
    }
}

/// The point `dist_m` from `c` along the initial bearing `bearing_deg` (great circle).
pub fn destination(c: LatLng, bearing_deg: f64, dist_m: f64) -> LatLng {
    let n = unit_vector(c.lat, c.lng);
    let (e, no) = east_north(c.lat, c.lng);
    let (sb, cb) = bearing_deg.to_radians().sin_cos();
    let d = add(scale(e, sb), scale(no, cb));
    let a = dist_m / EARTH_RADIUS_M;
    let p = add(scale(n, a.cos()), scale(d, a.sin()));
    let (lat, lng) = lat_lon(p);
    LatLng { lat, lng }
}

fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (rng.gen_range(lo.ln()..hi.ln())).exp()
}

/// A star-shaped (so simple) polygon of `n` vertices around `center`: vertex `i` at a bearing
/// that increases with `i` and a distance in `[radius_m·(1 − concavity), radius_m]`.
pub fn star_polygon(
    rng: &mut impl Rng,
    center: LatLng,
    radius_m: f64,
    n: usize,
    concavity: f64,
) -> Vec<LatLng> {
    let step = 360.0 / n as f64;
    let rot = rng.gen_range(0.0..360.0);
    (0..n)
        .map(|i| {
            let b = rot + step * (i as f64 + rng.gen_range(0.1..0.9));
            let r = radius_m * (1.0 - concavity * rng.gen_range(0.0..1.0));
            destination(center, b, r)
        })
        .collect()
}

/// A random footprint: half circles (radius 0.5–20 km), half polygons (1–50 km across, 4–12
/// vertices, convex or not), sizes log-uniform.
pub fn footprint(rng: &mut impl Rng, center: LatLng) -> Footprint {
    if rng.gen_bool(0.5) {
        Footprint::Circle {
            center,
            radius_m: log_uniform(rng, 500.0, 20_000.0).round(),
        }
    } else {
        let r = log_uniform(rng, 500.0, 25_000.0);
        let n = rng.gen_range(4..=12);
        let concavity = if rng.gen_bool(0.5) { 0.0 } else { 0.6 };
        Footprint::Polygon(star_polygon(rng, center, r, n, concavity))
    }
}

/// A footprint's rough radius, metres.
fn size_m(f: &Footprint) -> f64 {
    match f {
        Footprint::Circle { radius_m, .. } => *radius_m,
        Footprint::Polygon(v) => {
            let c = v[0];
            v.iter()
                .map(|p| crate::geodesy::distance_m(c.lat, c.lng, p.lat, p.lng))
                .fold(0.0, f64::max)
                / 2.0
        }
    }
}

/// One intent: 1–5 volumes flown one after the other (each begins where and when the previous
/// one ends, roughly), 10 min–4 h each, in altitude bands 150–3,000 m thick between the
/// surface and 9,000 m.
pub fn intent(rng: &mut impl Rng, area: &SynthArea) -> Vec<Volume4D> {
    let n = rng.gen_range(1..=5);
    let mut center = LatLng {
        lat: rng.gen_range(area.lat_min..area.lat_max),
        lng: rng.gen_range(area.lng_min..area.lng_max),
    };
    let mut t = (area.t0 + rng.gen_range(0.0..area.window_s)).round();
    let mut out: Vec<Volume4D> = Vec::with_capacity(n);
    for i in 0..n {
        let fp = footprint(rng, center);
        if i > 0 {
            let prev = size_m(&out[i - 1].footprint);
            let d = (prev + size_m(&fp)) * rng.gen_range(0.5..1.5);
            center = destination(center, rng.gen_range(0.0..360.0), d);
        }
        let fp = match fp {
            Footprint::Circle { radius_m, .. } => Footprint::Circle { center, radius_m },
            Footprint::Polygon(_) => footprint_like(rng, &fp, center),
        };
        let dur = (log_uniform(rng, 600.0, 14_400.0) / 60.0).round() * 60.0;
        let lower = if rng.gen_bool(0.3) {
            0.0
        } else {
            (rng.gen_range(0.0..6_000.0f64) / 100.0).round() * 100.0
        };
        let thick = (log_uniform(rng, 150.0, 3_000.0) / 50.0).round() * 50.0;
        out.push(Volume4D {
            footprint: fp,
            alt_lower_m: lower,
            alt_upper_m: lower + thick,
            time_start: t,
            time_end: t + dur,
        });
        t += dur;
    }
    out
}

/// A polygon of the same size as `fp` around a new centre.
fn footprint_like(rng: &mut impl Rng, fp: &Footprint, center: LatLng) -> Footprint {
    let Footprint::Polygon(v) = fp else {
        return fp.clone();
    };
    let r = size_m(fp).max(500.0);
    let concavity = if rng.gen_bool(0.5) { 0.0 } else { 0.6 };
    Footprint::Polygon(star_polygon(rng, center, r, v.len(), concavity))
}

/// A seeded stream of intents (ChaCha8), for callers without a random number generator.
pub struct IntentGenerator {
    rng: rand_chacha::ChaCha8Rng,
    area: SynthArea,
}

impl IntentGenerator {
    /// A generator over `area`; the same seed gives the same intents.
    pub fn new(seed: u64, area: SynthArea) -> Self {
        use rand::SeedableRng;
        IntentGenerator {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            area,
        }
    }

    /// The next intent (see [`intent`]).
    pub fn intent(&mut self) -> Vec<Volume4D> {
        intent(&mut self.rng, &self.area)
    }
}
