#![allow(dead_code)]

//! Test helpers. Every store test runs against each backend [`backends`] yields: SQLite in a
//! temporary directory always, and PostgreSQL when `DECONFLICT_TEST_PG` holds a connection
//! URL (e.g. `postgres://root@127.0.0.1:5432/test`), each on a fresh random schema that is
//! dropped at the end.

use deconflict_core::{AssetClass, TrackReport};
use deconflict_store::{Party, Role, Store, StoreOptions, DB_FILE};
use rand::RngCore;
use std::io::Write;
use std::path::Path;
use std::sync::Once;

pub(crate) const PG_ENV: &str = "DECONFLICT_TEST_PG";

pub(crate) fn report(asset: &str, time: f64, lat: f64) -> TrackReport {
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

pub(crate) fn reports(prefix: &str, n: usize, time: f64) -> Vec<TrackReport> {
    (0..n)
        .map(|i| report(&format!("{prefix}-{i}"), time, 35.0 + i as f64 * 1e-4))
        .collect()
}

pub(crate) fn party(store: &Store, name: &str) -> Party {
    store.add_party(name, None, Role::Party, 1000.0).unwrap()
}

pub(crate) fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store.export_audit(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// One backend for one test: a data directory (the service key, and the SQLite database) and,
/// for PostgreSQL, a schema of its own.
pub(crate) struct Backend {
    pub name: &'static str,
    pub dir: tempfile::TempDir,
    pub url: Option<String>,
    pub schema: Option<String>,
}

fn pg_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
        _ => {
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(|| {
                // Straight to stderr, past the test harness's capture: one line per test binary.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: PostgreSQL backend skipped ({PG_ENV} is not set); SQLite only"
                );
            });
            None
        }
    }
}

pub(crate) fn sqlite() -> Backend {
    Backend {
        name: "sqlite",
        dir: tempfile::tempdir().unwrap(),
        url: None,
        schema: None,
    }
}

/// PostgreSQL on a fresh schema, if `DECONFLICT_TEST_PG` is set.
pub(crate) fn postgres() -> Option<Backend> {
    let url = pg_url()?;
    Some(Backend {
        name: "postgres",
        dir: tempfile::tempdir().unwrap(),
        url: Some(url),
        schema: Some(format!("t_{:016x}", rand::rngs::OsRng.next_u64())),
    })
}

/// Every backend to run a test against.
pub(crate) fn backends() -> Vec<Backend> {
    let mut v = vec![sqlite()];
    v.extend(postgres());
    v
}

impl Backend {
    pub(crate) fn is_pg(&self) -> bool {
        self.url.is_some()
    }

    pub(crate) fn options(&self, node: &str, checkpoint_every: u64) -> StoreOptions {
        StoreOptions {
            url: self.url.clone(),
            data_dir: self.dir.path().to_path_buf(),
            checkpoint_every,
            node: node.to_string(),
            pg_schema: self.schema.clone(),
        }
    }

    pub(crate) fn open_node(&self, node: &str, checkpoint_every: u64) -> Store {
        eprintln!("backend: {} node {node}", self.name);
        Store::connect(&self.options(node, checkpoint_every)).unwrap()
    }

    /// Node `main`, as `Store::open_with`.
    pub(crate) fn open_with(&self, checkpoint_every: u64) -> Store {
        self.open_node("main", checkpoint_every)
    }

    pub(crate) fn open(&self) -> Store {
        self.open_with(deconflict_store::DEFAULT_CHECKPOINT_EVERY)
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A plain PostgreSQL client on this backend's schema.
    pub(crate) fn pg(&self) -> postgres::Client {
        let url = self.url.as_deref().expect("a PostgreSQL backend");
        let mut config: postgres::Config = url.parse().unwrap();
        if let Some(s) = &self.schema {
            config.options(&format!("-c search_path={s}"));
        }
        config.connect(postgres::NoTls).unwrap()
    }

    /// Runs SQL (no parameters) directly on the database, behind the store's back.
    pub(crate) fn exec(&self, sql: &str) -> u64 {
        if self.is_pg() {
            self.pg().execute(sql, &[]).unwrap()
        } else {
            let conn = rusqlite::Connection::open(self.dir.path().join(DB_FILE)).unwrap();
            conn.execute(sql, []).unwrap() as u64
        }
    }

    /// Takes the database back to before schema version 6 (the hotline).
    pub(crate) fn undo_hotline(&self) {
        for sql in [
            "DROP TABLE conflict_sides",
            "DROP TABLE mail_seqs",
            "DROP TABLE mailbox",
            "DROP TABLE messages",
        ] {
            self.exec(sql);
        }
    }

    /// Takes the database back to before schema version 5 (the party sub-chains, and the
    /// hotline after them), as a database of an older build would be; the caller removes the
    /// version rows.
    pub(crate) fn undo_party_chains(&self) {
        self.undo_hotline();
        for sql in [
            "DROP INDEX audit_party_sub_chain",
            "ALTER TABLE audit DROP COLUMN pseq",
            "ALTER TABLE audit DROP COLUMN phash",
            "DROP TABLE party_heads",
            "DROP TABLE party_checkpoints",
        ] {
            self.exec(sql);
        }
    }

    /// One integer from SQL run directly on the database.
    pub(crate) fn query_i64(&self, sql: &str) -> i64 {
        if self.is_pg() {
            self.pg().query_one(sql, &[]).unwrap().get(0)
        } else {
            let conn = rusqlite::Connection::open(self.dir.path().join(DB_FILE)).unwrap();
            conn.query_row(sql, [], |r| r.get(0)).unwrap()
        }
    }

    /// `(seq, time, party, kind, body)` of every entry of a chain, by seq.
    pub(crate) fn audit_rows(&self, chain: &str) -> Vec<(i64, f64, Option<i64>, String, String)> {
        let sql =
            format!("SELECT seq, time, party_id, kind, body FROM audit WHERE chain = '{chain}' ORDER BY seq");
        if self.is_pg() {
            self.pg()
                .query(&sql, &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect()
        } else {
            let conn = rusqlite::Connection::open(self.dir.path().join(DB_FILE)).unwrap();
            let mut stmt = conn.prepare(&sql).unwrap();
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        }
    }

    /// Rewrites a chain's hashes (and checkpoint hashes) from its stored fields, as an
    /// attacker without the service key would after altering an entry.
    pub(crate) fn rehash_chain(&self, chain: &str) {
        let mut prev = [0u8; 32];
        for (seq, time, party, kind, body) in self.audit_rows(chain) {
            let h = deconflict_store::entry_hash(
                chain,
                seq as u64,
                time,
                party.map(deconflict_store::PartyId),
                &kind,
                &body,
                &prev,
            )
            .unwrap();
            self.exec(&format!(
                "UPDATE audit SET prev = '{}', hash = '{}' WHERE chain = '{chain}' AND seq = {seq}",
                hex::encode(prev),
                hex::encode(h)
            ));
            self.exec(&format!(
                "UPDATE checkpoints SET hash = '{}' WHERE chain = '{chain}' AND seq = {seq}",
                hex::encode(h)
            ));
            prev = h;
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let (Some(_), Some(schema)) = (&self.url, &self.schema) {
            let schema = schema.clone();
            // Best effort: a failed test must not hide its own panic behind this one.
            let url = self.url.clone().unwrap_or_default();
            if let Ok(config) = url.parse::<postgres::Config>() {
                if let Ok(mut c) = config.connect(postgres::NoTls) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
                }
            }
        }
    }
}
