#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Property tests: the strategic index returns exactly what brute force returns, for conflicts
//! and for containment, on polygons (convex, concave, tiny, huge), circles (some tangent within
//! a metre), near the poles and across the antimeridian, with touching time windows and
//! altitude bands, and after replacements and removals.

use deconflict_core::strategic::synth::{destination, star_polygon};
use deconflict_core::strategic::{
    brute_force_conflicts, Footprint, KeyConflicts, LatLng, StrategicIndex, Volume4D,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy)]
enum Where {
    Latakia,
    Antimeridian,
    NorthPole,
    SouthPole,
    Anywhere,
}

#[derive(Debug, Clone, Copy)]
enum Scale {
    Tiny,
    Medium,
    Huge,
    Mixed,
}

fn where_strategy() -> impl Strategy<Value = Where> {
    prop_oneof![
        Just(Where::Latakia),
        Just(Where::Antimeridian),
        Just(Where::NorthPole),
        Just(Where::SouthPole),
        Just(Where::Anywhere),
    ]
}

fn scale_strategy() -> impl Strategy<Value = Scale> {
    prop_oneof![
        Just(Scale::Tiny),
        Just(Scale::Medium),
        Just(Scale::Huge),
        Just(Scale::Mixed),
    ]
}

struct Gen {
    rng: ChaCha8Rng,
    center: LatLng,
    scale: Scale,
    /// Circles placed so far, for near-tangent placements.
    circles: Vec<(LatLng, f64)>,
}

impl Gen {
    fn new(w: Where, scale: Scale, seed: u64) -> Gen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let center = match w {
            Where::Latakia => LatLng::new(35.41, 35.95),
            Where::Antimeridian => LatLng::new(rng.gen_range(-60.0..60.0), 180.0),
            Where::NorthPole => LatLng::new(rng.gen_range(85.5..90.0), rng.gen_range(-180.0..180.0)),
            Where::SouthPole => LatLng::new(rng.gen_range(-90.0..-85.5), rng.gen_range(-180.0..180.0)),
            Where::Anywhere => LatLng::new(
                rng.gen_range(-1.0f64..1.0).asin().to_degrees(),
                rng.gen_range(-180.0..180.0),
            ),
        };
        Gen {
            rng,
            center,
            scale,
            circles: Vec::new(),
        }
    }

    /// A footprint radius, metres.
    fn size(&mut self) -> f64 {
        let s = match self.scale {
            Scale::Mixed => [Scale::Tiny, Scale::Medium, Scale::Huge][self.rng.gen_range(0..3)],
            s => s,
        };
        let base = match s {
            Scale::Tiny => 10.0,
            Scale::Medium => 5_000.0,
            _ => 150_000.0,
        };
        base * self.rng.gen_range(0.3..1.0)
    }

    /// How far from the scene's centre volumes are placed.
    fn spread(&self) -> f64 {
        match self.scale {
            Scale::Tiny => 25.0,
            Scale::Medium => 12_000.0,
            Scale::Huge => 350_000.0,
            Scale::Mixed => 30_000.0,
        }
    }

    fn point(&mut self) -> LatLng {
        let d = self.spread() * self.rng.gen_range(0.0f64..1.0).sqrt();
        destination(self.center, self.rng.gen_range(0.0..360.0), d)
    }

    fn footprint(&mut self) -> Footprint {
        let r = self.size();
        match self.rng.gen_range(0..5) {
            0 if !self.circles.is_empty() => {
                // Tangent within a metre (or a millimetre) of an earlier circle.
                let (c, r0) = self.circles[self.rng.gen_range(0..self.circles.len())];
                let eps = [-1.0, 1.0, -0.001, 0.001][self.rng.gen_range(0..4)];
                let center = destination(c, self.rng.gen_range(0.0..360.0), r0 + r + eps);
                self.circles.push((center, r));
                Footprint::Circle { center, radius_m: r }
            }
            0 | 1 => {
                let center = self.point();
                self.circles.push((center, r));
                Footprint::Circle { center, radius_m: r }
            }
            2 => {
                let n = self.rng.gen_range(3..=8);
                let c = self.point();
                Footprint::Polygon(star_polygon(&mut self.rng, c, r, n, 0.0))
            }
            _ => {
                let n = self.rng.gen_range(5..=14);
                let c = self.point();
                Footprint::Polygon(star_polygon(&mut self.rng, c, r, n, 0.7))
            }
        }
    }

    fn volume(&mut self) -> Volume4D {
        let footprint = self.footprint();
        let lower = [0.0, 100.0, 300.0, 1000.0][self.rng.gen_range(0..4)];
        let thick = [100.0, 200.0, 700.0, 5000.0][self.rng.gen_range(0..4)];
        // Starts on half hours so windows touch and meet bucket edges; some last days
        // (daily buckets) or months (the all-time bucket).
        let start = 1_442_534_400.0 + 1800.0 * self.rng.gen_range(0..12) as f64;
        let dur = [1800.0, 3600.0, 5400.0, 3.0 * 86_400.0, 100.0 * 86_400.0][self.rng.gen_range(0..5)];
        Volume4D {
            footprint,
            alt_lower_m: lower,
            alt_upper_m: lower + thick,
            time_start: start,
            time_end: start + dur,
        }
    }

    fn volumes(&mut self) -> Vec<Volume4D> {
        let n = self.rng.gen_range(1..=4);
        (0..n).map(|_| self.volume()).collect()
    }
}

fn pairs(r: &[KeyConflicts]) -> Vec<(u64, usize, usize)> {
    r.iter()
        .flat_map(|(k, v)| v.iter().map(move |(q, s, _)| (*k, *q, *s)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn indexed_conflicts_equal_brute_force(w in where_strategy(), scale in scale_strategy(), seed in any::<u64>()) {
        let mut g = Gen::new(w, scale, seed);
        let mut ix = StrategicIndex::new();
        let mut all: Vec<(u64, Vec<Volume4D>)> = Vec::new();
        let n = g.rng.gen_range(1..40);
        for key in 0..n {
            let v = g.volumes();
            ix.insert(key, v.clone());
            all.push((key, v));
        }
        // Replace and remove some.
        for _ in 0..n / 4 {
            let i = g.rng.gen_range(0..all.len());
            if g.rng.gen_bool(0.5) {
                let v = g.volumes();
                ix.insert(all[i].0, v.clone());
                all[i].1 = v;
            } else {
                prop_assert!(ix.remove(all[i].0));
                all.remove(i);
            }
        }
        prop_assert_eq!(ix.len(), all.len());
        let mut found = 0;
        for _ in 0..6 {
            let q = g.volumes();
            let got = ix.conflicts(&q);
            let want = brute_force_conflicts(&all, &q);
            prop_assert_eq!(pairs(&got), pairs(&want), "{:?} {:?}", w, scale);
            prop_assert_eq!(&got, &want);
            found += want.len();
        }
        // Stored volumes against themselves: every one overlaps itself.
        for (key, v) in all.iter().take(5) {
            let got = ix.conflicts(v);
            prop_assert_eq!(&got, &brute_force_conflicts(&all, v));
            prop_assert!(got.iter().any(|(k, _)| k == key));
        }
        let _ = found;
    }

    #[test]
    fn indexed_containing_equals_brute_force(w in where_strategy(), scale in scale_strategy(), seed in any::<u64>()) {
        let mut g = Gen::new(w, scale, seed);
        let mut ix = StrategicIndex::new();
        let mut all: Vec<(u64, Vec<Volume4D>)> = Vec::new();
        for key in 0..g.rng.gen_range(1..40) {
            let v = g.volumes();
            ix.insert(key * 3 + 1, v.clone());
            all.push((key * 3 + 1, v));
        }
        let mut hits = 0;
        for i in 0..60 {
            // Points near the scene, and some at volume centres so that hits are common.
            let p = if i % 2 == 0 {
                g.point()
            } else {
                let (_, vs) = &all[g.rng.gen_range(0..all.len())];
                match &vs[0].footprint {
                    Footprint::Circle { center, .. } => *center,
                    Footprint::Polygon(v) => v[0],
                }
            };
            let alt = g.rng.gen_range(0.0..2000.0);
            let t = 1_442_534_400.0 + 900.0 * g.rng.gen_range(0..30) as f64;
            let got = ix.containing(p.lat, p.lng, alt, t);
            let want: Vec<u64> = all
                .iter()
                .filter(|(_, vs)| vs.iter().any(|v| v.contains(p.lat, p.lng, alt, t)))
                .map(|(k, _)| *k)
                .collect();
            hits += want.len();
            prop_assert_eq!(got, want);
        }
        let _ = hits;
    }
}

/// The generators do produce conflicts and near misses (guards against a vacuous property).
#[test]
fn scenes_have_conflicts() {
    let mut total = 0;
    let mut misses = 0;
    for seed in 0..40 {
        for (w, s) in [
            (Where::Latakia, Scale::Medium),
            (Where::NorthPole, Scale::Huge),
            (Where::Antimeridian, Scale::Mixed),
            (Where::SouthPole, Scale::Tiny),
        ] {
            let mut g = Gen::new(w, s, seed);
            let all: Vec<(u64, Vec<Volume4D>)> = (0..20).map(|k| (k, g.volumes())).collect();
            let q = g.volumes();
            let n = brute_force_conflicts(&all, &q).len();
            total += n;
            if n < 20 {
                misses += 1;
            }
        }
    }
    assert!(total > 200, "{total}");
    assert!(misses > 20, "{misses}");
}
