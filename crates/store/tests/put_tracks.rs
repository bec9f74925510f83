#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::{backends, party, report, reports};
use std::time::Instant;

/// Not a timed assertion: prints how long a 1,000-report batch takes (see also
/// `cargo run --release -p deconflict-store --example put_tracks_timing`).
#[test]
fn thousand_reports_in_one_call() {
    for b in backends() {
        let store = b.open();
        let p = party(&store, "alpha").id;
        let mut times = Vec::new();
        for round in 0..5 {
            let batch = reports("UAV", 1000, 100.0 + round as f64);
            let t = Instant::now();
            store.put_tracks(p, &batch, 100.0 + round as f64).unwrap();
            times.push(t.elapsed());
        }
        eprintln!("{}: put_tracks(1000): {times:?}", b.name);
        let tracks = store.tracks(p).unwrap();
        assert_eq!(tracks.len(), 1000);
        assert!(tracks.iter().all(|r| r.time == 104.0));
        assert_eq!(store.all_tracks().unwrap().len(), 1000);
    }
}

#[test]
fn repeated_assets_in_one_call_behave_as_if_applied_in_order() {
    for b in backends() {
        let store = b.open();
        let p = party(&store, "alpha").id;
        let batch = vec![
            report("A", 10.0, 1.0),
            report("A", 12.0, 2.0),
            report("A", 11.0, 3.0), // older than the previous: ignored
            report("B", 5.0, 4.0),
            report("B", 5.0, 5.0), // same time: replaces
        ];
        store.put_tracks(p, &batch, 1.0).unwrap();
        let t = store.tracks(p).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].asset.as_str(), t[0].lat), ("A", 2.0));
        assert_eq!((t[1].asset.as_str(), t[1].lat), ("B", 5.0));
    }
}
