#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
mod common;

use common::backends;
use deconflict_store::PartyId;
use deconflict_store::{Role, Store, StoreError};

#[test]
fn add_and_look_up_parties() {
    for b in backends() {
        let store = b.open();
        let a = store
            .add_party("blue-1", Some("coalition.blue"), Role::Party, 10.0)
            .unwrap();
        assert_eq!(a.name, "blue-1");
        assert_eq!(a.member_of.as_deref(), Some("coalition.blue"));
        assert_eq!(a.created, 10.0);
        let b = store.add_party("obs_2", None, Role::Observer, 11.0).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(store.party_by_name("blue-1").unwrap(), Some(a.clone()));
        assert_eq!(store.party(b.id).unwrap(), Some(b.clone()));
        assert_eq!(store.party(PartyId(9999)).unwrap(), None);
        assert_eq!(store.party_by_name("nobody").unwrap(), None);
        assert_eq!(store.list_parties().unwrap(), vec![a, b]);
    }
}

#[test]
fn duplicate_and_bad_names() {
    for b in backends() {
        let store = b.open();
        store.add_party("red", None, Role::Party, 1.0).unwrap();
        assert!(matches!(
            store.add_party("red", None, Role::Admin, 2.0),
            Err(StoreError::Conflict(_))
        ));
        let long = "x".repeat(65);
        for bad in ["", "a b", "é", "a/b", "semi;colon", long.as_str()] {
            assert!(
                matches!(
                    store.add_party(bad, None, Role::Party, 1.0),
                    Err(StoreError::Invalid(_))
                ),
                "{bad:?} accepted"
            );
        }
        assert!(store.add_party(&"x".repeat(64), None, Role::Party, 1.0).is_ok());
        assert!(matches!(
            store.add_party("nan", None, Role::Party, f64::NAN),
            Err(StoreError::Invalid(_))
        ));
        // Only the three successful adds were stored and audited.
        assert_eq!(store.list_parties().unwrap().len(), 2);
    }
}

#[test]
fn roles_parse() {
    for r in [Role::Party, Role::Observer, Role::Admin] {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
    }
    assert!("root".parse::<Role>().is_err());
}

#[test]
fn tokens_issue_authenticate_revoke() {
    for b in backends() {
        let store = b.open();
        let a = store.add_party("alpha", None, Role::Party, 1.0).unwrap();
        let b = store.add_party("bravo", None, Role::Admin, 1.0).unwrap();
        let ta = store.issue_token("alpha", 2.0).unwrap();
        let ta2 = store.issue_token("alpha", 2.5).unwrap();
        let tb = store.issue_token("bravo", 3.0).unwrap();
        assert!(ta.starts_with("dcf_") && ta.len() == 4 + 64);
        assert_ne!(ta, ta2);
        assert_eq!(store.authenticate(&ta).unwrap(), Some(a.clone()));
        assert_eq!(store.authenticate(&ta2).unwrap(), Some(a.clone()));
        assert_eq!(store.authenticate(&tb).unwrap(), Some(b.clone()));

        // Unknown, garbage, empty, and near-misses.
        let mut flipped = ta.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        let upper = format!("dcf_{}", ta[4..].to_uppercase());
        for bad in [
            "",
            "dcf_",
            "garbage",
            "dcf_zz",
            &ta[4..],
            &ta[..ta.len() - 1],
            &format!("{ta}0"),
            &flipped,
            &upper,
            &format!("dcf_{}", "0".repeat(64)),
            "dcf_\u{0}\u{0}",
        ] {
            assert_eq!(store.authenticate(bad).unwrap(), None, "{bad:?}");
        }

        assert!(matches!(
            store.issue_token("nobody", 4.0),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.revoke_tokens("nobody", 4.0),
            Err(StoreError::NotFound(_))
        ));

        assert_eq!(store.revoke_tokens("alpha", 5.0).unwrap(), 2);
        assert_eq!(store.authenticate(&ta).unwrap(), None);
        assert_eq!(store.authenticate(&ta2).unwrap(), None);
        assert_eq!(store.authenticate(&tb).unwrap(), Some(b));
        assert_eq!(store.revoke_tokens("alpha", 6.0).unwrap(), 0);
        // A new token after revocation works.
        let ta3 = store.issue_token("alpha", 7.0).unwrap();
        assert_eq!(store.authenticate(&ta3).unwrap(), Some(a));
    }
}

#[test]
fn token_shape_is_checked_before_the_database() {
    let good = format!("dcf_{}", "0a".repeat(32));
    assert!(deconflict_store::is_token_shaped(&good));
    for bad in [
        "",
        "dcf_",
        &good[4..],
        &good[..good.len() - 1],
        &format!("{good}0"),
        &format!("dcf_{}", "0A".repeat(32)),
        &format!("DCF_{}", "0a".repeat(32)),
        &format!("dcf_{}\u{e9}", "0a".repeat(31)),
    ] {
        assert!(!deconflict_store::is_token_shaped(bad), "{bad:?}");
    }
}

#[test]
fn token_from_another_process_authenticates() {
    for b in backends() {
        let server = b.open();
        let party = server.add_party("charlie", None, Role::Party, 1.0).unwrap();
        // Warm up the server's read connections before the "CLI" writes.
        assert_eq!(
            server.authenticate(&format!("dcf_{}", "a".repeat(64))).unwrap(),
            None
        );

        let token = {
            let cli = b.open();
            assert_eq!(cli.public_key_hex(), server.public_key_hex());
            cli.issue_token("charlie", 2.0).unwrap()
        };
        assert_eq!(server.authenticate(&token).unwrap(), Some(party));

        {
            let cli = b.open();
            assert_eq!(cli.revoke_tokens("charlie", 3.0).unwrap(), 1);
        }
        assert_eq!(server.authenticate(&token).unwrap(), None);
    }
}

#[test]
fn token_hash_only_is_stored() {
    for b in backends() {
        let store = b.open();
        store.add_party("delta", None, Role::Party, 1.0).unwrap();
        let token = store.issue_token("delta", 2.0).unwrap();
        drop(store);
        let hashes: Vec<String> = if b.is_pg() {
            b.pg()
                .query("SELECT hash FROM tokens", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        } else {
            let raw = rusqlite::Connection::open(b.path().join(deconflict_store::DB_FILE)).unwrap();
            let mut stmt = raw.prepare("SELECT hash FROM tokens").unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(hashes, vec![deconflict_store::sha256_hex(token.as_bytes())]);
        let secret = &token[4..];
        if b.is_pg() {
            let found: i64 = b
                .pg()
                .query_one(
                    "SELECT COUNT(*) FROM audit WHERE body LIKE '%' || $1 || '%'",
                    &[&secret],
                )
                .unwrap()
                .get(0);
            assert_eq!(found, 0);
        } else {
            let bytes = std::fs::read(b.path().join(deconflict_store::DB_FILE)).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
}

#[cfg(unix)]
#[test]
fn service_key_is_private_and_stable() {
    use std::os::unix::fs::PermissionsExt;
    for b in backends() {
        let k1 = b.open().public_key_hex();
        let path = b.path().join(deconflict_store::KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let k2 = b.open().public_key_hex();
        assert_eq!(k1, k2);
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            Store::connect(&b.options("main", 10)),
            Err(StoreError::Invalid(_))
        ));
    }
}

#[test]
fn bad_options_are_refused_naming_the_field() {
    let b = common::sqlite();
    for node in ["", "a b", "x/y", &"n".repeat(65)] {
        match Store::connect(&b.options(node, 10)) {
            Err(StoreError::Invalid(m)) => assert!(m.contains("node"), "{m}"),
            other => panic!("{node:?}: {other:?}"),
        }
    }
    let mut o = b.options("main", 10);
    o.url = Some("mysql://x".into());
    assert!(matches!(Store::connect(&o), Err(StoreError::Invalid(m)) if m.contains("url")));
    o.url = Some("sqlite:".into());
    assert_eq!(Store::connect(&o).unwrap().backend(), "sqlite");
    o.pg_schema = Some("x".into());
    assert!(matches!(Store::connect(&o), Err(StoreError::Invalid(m)) if m.contains("pg_schema")));
    o.url = Some("postgres://nobody:secret@127.0.0.1:1/none".into());
    o.pg_schema = Some("Bad-Name".into());
    assert!(matches!(Store::connect(&o), Err(StoreError::Invalid(m)) if m.contains("pg_schema")));
    // Nothing listens on port 1: a clear storage error, without the password.
    o.pg_schema = None;
    match Store::connect(&o) {
        Err(StoreError::Storage(m)) => {
            assert!(
                m.contains("cannot connect to PostgreSQL at 127.0.0.1:1/none"),
                "{m}"
            );
            assert!(!m.contains("secret"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}
