//! Synthetic traffic for benchmarks and tests: uniform density on a spherical cap.

use crate::class::AssetClass;
use crate::geodesy::{add, cross, norm, scale, unit_vector, Vec3, EARTH_RADIUS_M};
use crate::track::TrackState;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Parameters of a synthetic scene.
#[derive(Debug, Clone, Copy)]
pub struct SynthParams {
    /// Number of tracks to generate.
    pub tracks: usize,
    /// Square kilometres per aircraft (the benchmark uses 400).
    pub km2_per_track: f64,
    /// Latitude of the cap's centre, degrees.
    pub center_lat: f64,
    /// Longitude of the cap's centre, degrees.
    pub center_lng: f64,
    /// Lowest ground speed, m/s (speeds are uniform in `[min_gs, max_gs]`).
    pub min_gs: f64,
    /// Highest ground speed, m/s.
    pub max_gs: f64,
    /// Highest altitude, metres (altitudes are uniform in `[0, max_alt_m]`).
    pub max_alt_m: f64,
    /// Fraction of tracks climbing or descending (at 2–15 m/s); the rest are level.
    pub vertical_fraction: f64,
    /// Seed of the ChaCha8 generator: the same parameters give the same states.
    pub seed: u64,
}

impl SynthParams {
    /// The benchmark's traffic: one aircraft per 400 km², 60–250 m/s, 0–12 km.
    pub fn bench(tracks: usize, seed: u64) -> Self {
        SynthParams {
            tracks,
            km2_per_track: 400.0,
            center_lat: 35.0,
            center_lng: 35.0,
            min_gs: 60.0,
            max_gs: 250.0,
            max_alt_m: 12_000.0,
            vertical_fraction: 0.3,
            seed,
        }
    }
}

/// Uniformly random states on a spherical cap of area `tracks × km2_per_track` round the centre:
/// all fixed-wing, on tracks uniform in [0°, 360°).
pub fn generate(p: &SynthParams) -> Vec<TrackState> {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let area_m2 = p.tracks as f64 * p.km2_per_track * 1e6;
    // cap area = 2πR²(1 − cos α)
    let one_minus_cos = (area_m2 / (2.0 * std::f64::consts::PI * EARTH_RADIUS_M * EARTH_RADIUS_M)).min(2.0);
    let c = unit_vector(p.center_lat, p.center_lng);
    // an orthonormal basis round the centre
    let helper: Vec3 = if c[2].abs() < 0.9 {
        [0.0, 0.0, 1.0]
    } else {
        [1.0, 0.0, 0.0]
    };
    let e1 = {
        let x = cross(helper, c);
        scale(x, 1.0 / norm(x))
    };
    let e2 = cross(c, e1);
    (0..p.tracks)
        .map(|_| {
            let z = 1.0 - rng.gen::<f64>() * one_minus_cos;
            let r = (1.0 - z * z).max(0.0).sqrt();
            let phi = rng.gen::<f64>() * std::f64::consts::TAU;
            let n = add(
                scale(c, z),
                add(scale(e1, r * phi.cos()), scale(e2, r * phi.sin())),
            );
            let (lat, lng) = crate::geodesy::lat_lon(n);
            let gs = rng.gen_range(p.min_gs..=p.max_gs);
            let trk = rng.gen_range(0.0..360.0);
            let alt = rng.gen_range(0.0..=p.max_alt_m);
            let vs = if rng.gen::<f64>() < p.vertical_fraction {
                let m = rng.gen_range(2.0..15.0);
                if rng.gen::<bool>() {
                    m
                } else {
                    -m
                }
            } else {
                0.0
            };
            TrackState::new(lat, lng, alt, gs, trk, vs, AssetClass::FixedWing)
        })
        .collect()
}
