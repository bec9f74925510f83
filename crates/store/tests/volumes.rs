//! Intents and constraints: versions, scoping, audit.

use deconflict_store::{verify_audit, Role, Store, StoreError, VolumeFiling};
use serde_json::json;

fn put(store: &Store, party: i64, f: (&str, &str, Option<u64>, &str), now: f64) -> Result<u64, StoreError> {
    let body = json!({"extents": [], "state": f.3});
    let filing = VolumeFiling {
        kind: f.0,
        id: f.1,
        expected_version: f.2,
        state: f.3,
        body: &body,
    };
    store.put_volume(party, &filing, now)
}

#[test]
fn versions_are_checked_and_filings_are_scoped_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.add_party("A", None, Role::Party, 1.0).unwrap();
    let b = store.add_party("B", None, Role::Party, 1.0).unwrap();
    assert_eq!(
        put(&store, a.id, ("intent", "sortie-1", None, "accepted"), 2.0),
        Ok(1)
    );
    // a new filing of an existing id, or a stale version, is refused with the current version
    assert_eq!(
        put(&store, a.id, ("intent", "sortie-1", None, "accepted"), 3.0),
        Err(StoreError::Stale { current: 1 })
    );
    assert_eq!(
        put(&store, a.id, ("intent", "sortie-1", Some(1), "activated"), 3.0),
        Ok(2)
    );
    assert_eq!(
        put(&store, a.id, ("intent", "sortie-1", Some(1), "ended"), 4.0),
        Err(StoreError::Stale { current: 2 })
    );
    // B's ids are its own: the same id is a different filing
    assert_eq!(
        put(&store, b.id, ("intent", "sortie-1", None, "accepted"), 5.0),
        Ok(1)
    );
    assert_eq!(
        put(&store, a.id, ("constraint", "base", None, "accepted"), 5.0),
        Ok(1)
    );
    let mine = store.volumes(a.id, "intent").unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].version, mine[0].state.as_str()), (2, "activated"));
    assert_eq!(store.volumes(b.id, "constraint").unwrap().len(), 0);
    assert_eq!(store.all_volumes().unwrap().len(), 3);
    assert!(matches!(
        put(&store, a.id, ("plan", "x", None, "accepted"), 6.0),
        Err(StoreError::Invalid(_))
    ));
    // every filing is in the chain
    let kinds: Vec<String> = store
        .audit_for_party(a.id, 0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| k.as_str() == "intent.put").count(), 2);
    assert!(kinds.contains(&"constraint.put".to_string()));
    let mut out = Vec::new();
    store.export_audit(&mut out).unwrap();
    verify_audit(std::io::Cursor::new(out)).unwrap();
    // and survives a reopen
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.volumes(a.id, "intent").unwrap()[0].version, 2);
}
