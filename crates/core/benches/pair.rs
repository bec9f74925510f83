#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Criterion benchmark of the exact pair test and of a full scan against brute force.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use deconflict_core::synth::{generate, SynthParams};
use deconflict_core::{
    brute_force, detect_pair, AssetClass, Detector, Scene, SeparationStandard, SeparationTable, TrackState,
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

criterion_group!(benches, pair, scan);
criterion_main!(benches);
