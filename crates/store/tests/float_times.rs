//! Entry times are hashed as f64 bits, so an export must give back exactly the same bits.
//! (serde_json needs its `float_roundtrip` feature for that; without it some times parse one
//! unit in the last place off and a correct log fails to verify.)

use deconflict_store::{verify_audit, Store};
use rand::{Rng, SeedableRng};

#[test]
fn random_fractional_times_survive_export_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), 100).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for i in 0..3000 {
        let now = 1.7e9 + rng.gen::<f64>() * 1e8;
        store
            .audit(
                None,
                "test",
                serde_json::json!({ "i": i, "x": rng.gen::<f64>() }),
                now,
            )
            .unwrap();
    }
    let mut out = Vec::new();
    store.export_audit(&mut out).unwrap();
    let report = verify_audit(std::io::Cursor::new(out)).unwrap();
    assert_eq!(report.entries, 3000);
    assert!(report.checkpoints >= 29);
}
