mod common;

use common::{party, reports};
use deconflict_store::Store;
use std::time::Instant;

/// Not a timed assertion: prints how long a 1,000-report batch takes (see also
/// `cargo run --release -p deconflict-store --example put_tracks_timing`).
#[test]
fn thousand_reports_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let p = party(&store, "alpha").id;
    let mut times = Vec::new();
    for round in 0..5 {
        let batch = reports("UAV", 1000, 100.0 + round as f64);
        let t = Instant::now();
        store.put_tracks(p, &batch, 100.0 + round as f64).unwrap();
        times.push(t.elapsed());
    }
    eprintln!("put_tracks(1000): {times:?}");
    let tracks = store.tracks(p).unwrap();
    assert_eq!(tracks.len(), 1000);
    assert!(tracks.iter().all(|r| r.time == 104.0));
    assert_eq!(store.all_tracks().unwrap().len(), 1000);
}
