#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Criterion benchmark of the exact pair test and of a full scan against brute force.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use deconflict_core::cpa::{detect_raw, relative};
use deconflict_core::geodesy::great_circle_m;
use deconflict_core::synth::{generate, SynthParams};
use deconflict_core::wellclear::{raw_level, Do365Profile};
use deconflict_core::{
    brute_force, detect_pair, AlertLevel, AssetClass, Detector, Scene, SeparationStandard, SeparationTable,
    TrackState,
};

fn pair(c: &mut Criterion) {
    let std = SeparationStandard::new(9260.0, 304.8, 300.0);
    let a = TrackState::new(35.0, 35.0, 3000.0, 200.0, 45.0, 0.0, AssetClass::FixedWing);
    let hit = TrackState::new(35.2, 35.3, 3100.0, 180.0, 200.0, 0.0, AssetClass::FixedWing);
    let miss = TrackState::new(35.2, 35.3, 6000.0, 180.0, 200.0, 0.0, AssetClass::FixedWing);
    c.bench_function("pair_test_conflict", |b| {
        b.iter(|| detect_pair(black_box(&a), black_box(&hit), &std))
    });
    c.bench_function("pair_test_vertical_miss", |b| {
        b.iter(|| detect_pair(black_box(&a), black_box(&miss), &std))
    });
    // DO-365A alerting on the same pairs (relative geometry, closed-form loss intervals of the
    // three levels, raw level), beside the cylinder: the ratio of the two is the cost of the
    // well-clear volume
    let profile = Do365Profile::do365a();
    let do365 = |x: &TrackState, y: &TrackState| {
        relative(x.n, x.v, x.alt_m, x.vs_mps, y.n, y.v, y.alt_m, y.vs_mps)
            .map_or(AlertLevel::None, |r| raw_level(&r, &profile, AlertLevel::None))
    };
    c.bench_function("pair_do365a_conflict", |b| {
        b.iter(|| do365(black_box(&a), black_box(&hit)))
    });
    c.bench_function("pair_do365a_vertical_miss", |b| {
        b.iter(|| do365(black_box(&a), black_box(&miss)))
    });
}

/// Neighbour pairs (within 40 km) of 2,000 synthetic tracks: what a broad phase hands the
/// exact test.
fn neighbour_pairs(s: &Scene) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for a in 0..s.len() {
        for b in a + 1..s.len() {
            if great_circle_m(s.n[a], s.n[b]) < 40_000.0 {
                pairs.push((a, b));
            }
        }
    }
    pairs
}

/// The cylinder test and DO-365A alerting over the same mixed pairs, side by side; then the
/// ratio of the two, printed (measured apart from criterion, over 50 rounds).
fn mixed_pairs(c: &mut Criterion) {
    let s = Scene::from_states(&generate(&SynthParams::bench(2000, 1)));
    let pairs = neighbour_pairs(&s);
    let cylinder = SeparationStandard::new(1219.2, 137.16, 180.0);
    let profile = Do365Profile::do365a();
    let cyl = |s: &Scene, pairs: &[(usize, usize)]| {
        pairs
            .iter()
            .filter(|&&(a, b)| {
                detect_raw(
                    s.n[a], s.v[a], s.alt[a], s.vs[a], s.n[b], s.v[b], s.alt[b], s.vs[b], &cylinder,
                )
                .is_some()
            })
            .count()
    };
    let do365 = |s: &Scene, pairs: &[(usize, usize)]| {
        pairs
            .iter()
            .filter(|&&(a, b)| {
                relative(
                    s.n[a], s.v[a], s.alt[a], s.vs[a], s.n[b], s.v[b], s.alt[b], s.vs[b],
                )
                .is_some_and(|r| raw_level(&r, &profile, AlertLevel::None) > AlertLevel::None)
            })
            .count()
    };
    c.bench_function("pairs_neighbours_cylinder", |b| {
        b.iter(|| cyl(black_box(&s), black_box(&pairs)))
    });
    c.bench_function("pairs_neighbours_do365a", |b| {
        b.iter(|| do365(black_box(&s), black_box(&pairs)))
    });
    let time = |f: &dyn Fn() -> usize| {
        let t = std::time::Instant::now();
        let mut n = 0;
        for _ in 0..50 {
            n = black_box(f());
        }
        (t.elapsed().as_secs_f64() * 1e9 / (50 * pairs.len()) as f64, n)
    };
    let (c_ns, c_n) = time(&|| cyl(&s, &pairs));
    let (d_ns, d_n) = time(&|| do365(&s, &pairs));
    println!(
        "{} neighbour pairs: cylinder (4000 ft / 450 ft / 180 s) {c_ns:.1} ns/pair, {c_n} conflicts; \
         DO-365A alerting {d_ns:.1} ns/pair, {d_n} alerts; DO-365A / cylinder = {:.2}",
        pairs.len(),
        d_ns / c_ns
    );
}

fn scan(c: &mut Criterion) {
    let table = SeparationTable::uniform(SeparationStandard::new(9260.0, 304.8, 300.0)).unwrap();
    let scene = Scene::from_states(&generate(&SynthParams::bench(2000, 1)));
    let mut det = Detector::new();
    c.bench_function("scan_indexed_2000", |b| {
        b.iter(|| det.scan(black_box(&scene), &table).len())
    });
    c.bench_function("scan_brute_2000", |b| {
        b.iter(|| brute_force(black_box(&scene), &table).len())
    });
}

/// Full indexed scans of 100,000 synthetic tracks: the cylinder (5 NM / 1000 ft / 300 s, the
/// README's figure) and DO-365A alerting for every pair (issue 12's bar: within 100 ms).
fn scan_100k(c: &mut Criterion) {
    let scene = Scene::from_states(&generate(&SynthParams::bench(100_000, 1)));
    let cylinder = SeparationTable::uniform(SeparationStandard::new(9260.0, 304.8, 300.0)).unwrap();
    let do365a = SeparationTable::uniform(SeparationStandard::do365(Do365Profile::do365a())).unwrap();
    let mut g = c.benchmark_group("scan_100k");
    g.sample_size(10);
    for (name, table) in [("cylinder_5nm_300s", &cylinder), ("do365a", &do365a)] {
        let mut det = Detector::new();
        g.bench_function(name, |b| b.iter(|| det.scan(black_box(&scene), table).len()));
    }
    g.finish();
}

criterion_group!(benches, pair, mixed_pairs, scan, scan_100k);
criterion_main!(benches);
