//! Intents and constraints: versions, scoping, audit.

use deconflict_store::{verify_audit, Role, Store, StoreError};
use serde_json::json;

#[test]
fn versions_are_checked_and_filings_are_scoped_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = store.add_party("A", None, Role::Party, 1.0).unwrap();
    let b = store.add_party("B", None, Role::Party, 1.0).unwrap();
    let body = json!({"extents": [], "state": "accepted"});
    assert_eq!(
        store
            .put_volume(a.id, "intent", "sortie-1", None, "accepted", &body, 2.0)
            .unwrap(),
        1
    );
    // a new filing of an existing id, or a stale version, is refused with the current version
    assert_eq!(
        store.put_volume(a.id, "intent", "sortie-1", None, "accepted", &body, 3.0),
        Err(StoreError::Stale { current: 1 })
    );
    assert_eq!(
        store
            .put_volume(a.id, "intent", "sortie-1", Some(1), "activated", &body, 3.0)
            .unwrap(),
        2
    );
    assert_eq!(
        store.put_volume(a.id, "intent", "sortie-1", Some(1), "ended", &body, 4.0),
        Err(StoreError::Stale { current: 2 })
    );
    // B's ids are its own: the same id is a different filing
    assert_eq!(
        store
            .put_volume(b.id, "intent", "sortie-1", None, "accepted", &body, 5.0)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_volume(a.id, "constraint", "base", None, "accepted", &body, 5.0)
            .unwrap(),
        1
    );
    let mine = store.volumes(a.id, "intent").unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].version, mine[0].state.as_str()), (2, "activated"));
    assert_eq!(store.volumes(b.id, "constraint").unwrap().len(), 0);
    assert_eq!(store.all_volumes().unwrap().len(), 3);
    assert!(matches!(
        store.put_volume(a.id, "plan", "x", None, "accepted", &body, 6.0),
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
