#![allow(dead_code)]

use deconflict_core::{AssetClass, TrackReport};
use deconflict_store::{Party, Role, Store};

pub fn report(asset: &str, time: f64, lat: f64) -> TrackReport {
    TrackReport {
        asset: asset.to_string(),
        time,
        lat,
        lng: 35.9,
        alt_m: 1200.0,
        gs_mps: 45.0,
        track_deg: 270.0,
        vs_mps: 0.0,
        class: AssetClass::UasLarge,
    }
}

pub fn reports(prefix: &str, n: usize, time: f64) -> Vec<TrackReport> {
    (0..n)
        .map(|i| report(&format!("{prefix}-{i}"), time, 35.0 + i as f64 * 1e-4))
        .collect()
}

pub fn party(store: &Store, name: &str) -> Party {
    store.add_party(name, None, Role::Party, 1000.0).unwrap()
}

pub fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store.export_audit(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}
