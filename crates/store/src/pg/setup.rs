//! Connecting a node to the database: migrating the schema (every node may do so at once; a
//! `SERIALIZABLE` transaction, retried) and checking that this node's service key is the one
//! the database was created with (the first node to connect records its own).

use super::conn::{backoff, PgConn};
use crate::db::{Db, Val};
use crate::error::StoreError;
use crate::schema::{PARTY_CHAINS_VERSION, PG_MIGRATIONS, SCHEMA_VERSION};
use std::time::Duration;

const MIGRATION_ATTEMPTS: u32 = 10;

/// Connects, migrates and checks the service key (on the writer thread, before its first job).
pub(super) fn setup(conn: &mut PgConn, public_key_hex: &str, key_dir: &str) -> Result<(), StoreError> {
    conn.client()?;
    let mut last = None;
    for attempt in 0..MIGRATION_ATTEMPTS {
        match migrate(conn) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e @ StoreError::Invalid(_)) => return Err(e),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                last = Some(e);
                std::thread::sleep(backoff(
                    attempt,
                    Duration::from_millis(20),
                    Duration::from_millis(500),
                ));
            }
        }
    }
    if let Some(e) = last {
        return Err(StoreError::Storage(format!(
            "migrating {}: {e}",
            conn.target.desc
        )));
    }
    conn.reset();
    let db: &mut dyn Db = conn;
    db.exec(
        "INSERT INTO service_key (id, public_key) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
        &[Val::Text(public_key_hex.to_string())],
    )?;
    let stored = db
        .query_one("SELECT public_key FROM service_key WHERE id = 1", &[])?
        .text("public_key")?;
    if stored != public_key_hex {
        return Err(StoreError::Invalid(format!(
            "service.key in {key_dir} does not match the key this database was created with; \
             copy service.key from a node of this cluster into {key_dir}"
        )));
    }
    Ok(())
}

/// Applies the migrations this database lacks, in one `SERIALIZABLE` transaction.
fn migrate(conn: &mut PgConn) -> Result<(), StoreError> {
    if let Some(schema) = conn.target.schema.clone() {
        conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
    }
    conn.batch("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let current = {
        let db: &mut dyn Db = conn;
        db.query_one(
            "SELECT COALESCE(MAX(version), 0) AS version FROM schema_version",
            &[],
        )?
        .i64("version")?
    };
    if current > SCHEMA_VERSION {
        let _ = conn.batch("ROLLBACK");
        return Err(StoreError::Invalid(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for &(version, sql) in PG_MIGRATIONS {
        if version > current {
            conn.batch(sql)?;
            conn.batch(&format!(
                "INSERT INTO schema_version (version) VALUES ({version})"
            ))?;
        }
    }
    if current < PARTY_CHAINS_VERSION {
        crate::audit::backfill_party_chains(conn)?;
    }
    conn.batch("COMMIT")
}
