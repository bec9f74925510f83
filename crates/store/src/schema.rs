//! Schema and migrations. Each migration runs once, recorded in `schema_version`; opening is
//! idempotent and safe while another process opens the same database (`BEGIN IMMEDIATE`).

use crate::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// (version, SQL). Append new migrations; never edit an applied one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "
CREATE TABLE parties (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    member_of TEXT,
    role      TEXT NOT NULL CHECK (role IN ('party', 'observer', 'admin')),
    created   REAL NOT NULL
);
CREATE TABLE tokens (
    id       INTEGER PRIMARY KEY,
    party_id INTEGER NOT NULL REFERENCES parties (id),
    hash     TEXT NOT NULL UNIQUE,
    created  REAL NOT NULL,
    revoked  REAL
);
CREATE INDEX tokens_party ON tokens (party_id);
CREATE TABLE tracks (
    party_id  INTEGER NOT NULL REFERENCES parties (id),
    asset     TEXT NOT NULL,
    time      REAL NOT NULL,
    lat       REAL NOT NULL,
    lng       REAL NOT NULL,
    alt_m     REAL NOT NULL,
    gs_mps    REAL NOT NULL,
    track_deg REAL NOT NULL,
    vs_mps    REAL NOT NULL,
    class     TEXT NOT NULL,
    PRIMARY KEY (party_id, asset)
) WITHOUT ROWID;
CREATE TABLE alerts (
    party_id INTEGER NOT NULL REFERENCES parties (id),
    seq      INTEGER NOT NULL,
    time     REAL NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (party_id, seq)
) WITHOUT ROWID;
CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY,
    time     REAL NOT NULL,
    party_id INTEGER,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL
);
CREATE INDEX audit_party ON audit (party_id, seq);
CREATE TABLE checkpoints (
    seq       INTEGER PRIMARY KEY,
    time      REAL NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL
);
",
    ),
    (
        2,
        "
CREATE TABLE volumes (
    party_id  INTEGER NOT NULL REFERENCES parties (id),
    kind      TEXT NOT NULL CHECK (kind IN ('intent', 'constraint')),
    id        TEXT NOT NULL,
    version   INTEGER NOT NULL,
    state     TEXT NOT NULL,
    body      TEXT NOT NULL,
    updated   REAL NOT NULL,
    PRIMARY KEY (party_id, kind, id)
) WITHOUT ROWID;
",
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| {
        r.get(0)
    })?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Invalid(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for &(version, sql) in MIGRATIONS {
        if version > current {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [version])?;
        }
    }
    tx.commit()?;
    Ok(())
}
