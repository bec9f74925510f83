#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Entry times are hashed as f64 bits, so an export must give back exactly the same bits.
//! (serde_json needs its `float_roundtrip` feature for that; without it some times parse one
//! unit in the last place off and a correct log fails to verify.) PostgreSQL's DOUBLE
//! PRECISION must give back the same bits too.

mod common;

use common::backends;
use deconflict_store::verify_audit;
use rand::{Rng, SeedableRng};

#[test]
fn random_fractional_times_survive_export_and_verify() {
    for b in backends() {
        let store = b.open_with(100);
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        // Writers in parallel so that PostgreSQL's group commit keeps the test fast.
        let entries: Vec<(f64, f64)> = (0..3000)
            .map(|_| (1.7e9 + rng.gen::<f64>() * 1e8, rng.gen::<f64>()))
            .collect();
        std::thread::scope(|s| {
            for (t, chunk) in entries.chunks(375).enumerate() {
                let store = store.clone();
                s.spawn(move || {
                    for (i, (now, x)) in chunk.iter().enumerate() {
                        store
                            .audit(None, "test", serde_json::json!({ "t": t, "i": i, "x": x }), *now)
                            .unwrap();
                    }
                });
            }
        });
        let mut out = Vec::new();
        store.export_audit(&mut out).unwrap();
        let report = verify_audit(std::io::Cursor::new(out)).unwrap();
        assert_eq!(report.entries, 3000);
        assert!(report.checkpoints >= 29);
    }
}
