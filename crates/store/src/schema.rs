//! Schema and migrations. Each migration runs once, recorded in `schema_version`; opening is
//! idempotent and safe while another process opens the same database (`BEGIN IMMEDIATE` on
//! SQLite; on PostgreSQL a `SERIALIZABLE` transaction, retried when nodes migrate at once).
//!
//! [`PG_MIGRATIONS`] are the same migrations in portable PostgreSQL types (`BIGINT`, `DOUBLE
//! PRECISION`, `TEXT`; no sequences: ids are allocated as `MAX(id) + 1` inside the writing
//! transaction), plus the `service_key` table.

use crate::error::StoreError;
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
    (
        3,
        // Per-node audit chains: the version 1 chain (one chain, a different hash format) is kept
        // as audit_v1 / checkpoints_v1 and no longer exported. Filing windows on volumes.
        "
DROP INDEX audit_party;
ALTER TABLE audit RENAME TO audit_v1;
ALTER TABLE checkpoints RENAME TO checkpoints_v1;
CREATE TABLE audit (
    chain    TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    time     REAL NOT NULL,
    party_id INTEGER,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
) WITHOUT ROWID;
CREATE INDEX audit_party ON audit (party_id, chain, seq);
CREATE TABLE checkpoints (
    chain     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    time      REAL NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
) WITHOUT ROWID;
CREATE TABLE audit_heads (
    chain    TEXT NOT NULL PRIMARY KEY,
    seq      INTEGER NOT NULL,
    hash     TEXT NOT NULL,
    link_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
ALTER TABLE volumes ADD COLUMN t_start REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN t_end REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN alt_lo REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN alt_hi REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lat_lo REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lat_hi REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lng_lo REAL NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lng_hi REAL NOT NULL DEFAULT 0;
CREATE INDEX volumes_t_end ON volumes (t_end, t_start);
CREATE INDEX volumes_t_start ON volumes (t_start, t_end);
CREATE INDEX volumes_updated ON volumes (updated);
",
    ),
    (
        4,
        "
CREATE TABLE alert_seqs (
    party_id INTEGER PRIMARY KEY REFERENCES parties (id),
    last     INTEGER NOT NULL
);
INSERT INTO alert_seqs (party_id, last) SELECT party_id, MAX(seq) FROM alerts GROUP BY party_id;
",
    ),
    (
        5,
        "
ALTER TABLE audit ADD COLUMN pseq INTEGER;
ALTER TABLE audit ADD COLUMN phash TEXT;
CREATE INDEX audit_party_sub_chain ON audit (party_id, chain, pseq);
CREATE TABLE party_heads (
    chain    TEXT NOT NULL,
    party_id INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (chain, party_id)
);
CREATE TABLE party_checkpoints (
    chain     TEXT NOT NULL,
    n         INTEGER NOT NULL,
    time      REAL NOT NULL,
    root      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    signature TEXT NOT NULL,
    leaves    TEXT NOT NULL,
    PRIMARY KEY (chain, n)
);
CREATE INDEX party_checkpoints_time ON party_checkpoints (time);
",
    ),
    (
        6,
        "
CREATE TABLE messages (
    id      TEXT PRIMARY KEY,
    sender  INTEGER NOT NULL REFERENCES parties (id),
    kind    TEXT NOT NULL CHECK (kind IN ('notice', 'request', 'reply', 'emergency', 'text')),
    time    REAL NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE mailbox (
    party_id     INTEGER NOT NULL REFERENCES parties (id),
    seq          INTEGER NOT NULL,
    message_id   TEXT NOT NULL REFERENCES messages (id),
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer         TEXT NOT NULL,
    label        TEXT,
    via          TEXT,
    delivered_at REAL,
    acked_at     REAL,
    escalated_at REAL,
    last_sent    REAL,
    sends        INTEGER NOT NULL,
    stream_seq   INTEGER,
    PRIMARY KEY (party_id, seq),
    UNIQUE (message_id, party_id)
);
CREATE INDEX mailbox_unacked ON mailbox (last_sent) WHERE direction = 'in' AND acked_at IS NULL;
CREATE TABLE mail_seqs (
    party_id INTEGER PRIMARY KEY REFERENCES parties (id),
    last     INTEGER NOT NULL
);
CREATE TABLE conflict_sides (
    conflict TEXT NOT NULL,
    party_id INTEGER NOT NULL REFERENCES parties (id),
    named    INTEGER NOT NULL,
    PRIMARY KEY (conflict, party_id)
);
",
    ),
];

/// The same migrations for PostgreSQL (and PostgreSQL-wire engines).
pub(crate) const PG_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "
CREATE TABLE parties (
    id        BIGINT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    member_of TEXT,
    role      TEXT NOT NULL CHECK (role IN ('party', 'observer', 'admin')),
    created   DOUBLE PRECISION NOT NULL
);
CREATE TABLE tokens (
    id       BIGINT PRIMARY KEY,
    party_id BIGINT NOT NULL REFERENCES parties (id),
    hash     TEXT NOT NULL UNIQUE,
    created  DOUBLE PRECISION NOT NULL,
    revoked  DOUBLE PRECISION
);
CREATE INDEX tokens_party ON tokens (party_id);
CREATE TABLE tracks (
    party_id  BIGINT NOT NULL REFERENCES parties (id),
    asset     TEXT NOT NULL,
    time      DOUBLE PRECISION NOT NULL,
    lat       DOUBLE PRECISION NOT NULL,
    lng       DOUBLE PRECISION NOT NULL,
    alt_m     DOUBLE PRECISION NOT NULL,
    gs_mps    DOUBLE PRECISION NOT NULL,
    track_deg DOUBLE PRECISION NOT NULL,
    vs_mps    DOUBLE PRECISION NOT NULL,
    class     TEXT NOT NULL,
    PRIMARY KEY (party_id, asset)
);
CREATE TABLE alerts (
    party_id BIGINT NOT NULL REFERENCES parties (id),
    seq      BIGINT NOT NULL,
    time     DOUBLE PRECISION NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (party_id, seq)
);
CREATE TABLE audit (
    seq      BIGINT PRIMARY KEY,
    time     DOUBLE PRECISION NOT NULL,
    party_id BIGINT,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL
);
CREATE INDEX audit_party ON audit (party_id, seq);
CREATE TABLE checkpoints (
    seq       BIGINT PRIMARY KEY,
    time      DOUBLE PRECISION NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL
);
",
    ),
    (
        2,
        "
CREATE TABLE volumes (
    party_id  BIGINT NOT NULL REFERENCES parties (id),
    kind      TEXT NOT NULL CHECK (kind IN ('intent', 'constraint')),
    id        TEXT NOT NULL,
    version   BIGINT NOT NULL,
    state     TEXT NOT NULL,
    body      TEXT NOT NULL,
    updated   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (party_id, kind, id)
);
",
    ),
    (
        3,
        // No PostgreSQL database ever held a version 1 chain, so the old tables are dropped.
        "
DROP TABLE checkpoints;
DROP TABLE audit;
CREATE TABLE audit (
    chain    TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    time     DOUBLE PRECISION NOT NULL,
    party_id BIGINT,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    prev     TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_party ON audit (party_id, chain, seq);
CREATE TABLE checkpoints (
    chain     TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    time      DOUBLE PRECISION NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE TABLE audit_heads (
    chain    TEXT NOT NULL PRIMARY KEY,
    seq      BIGINT NOT NULL,
    hash     TEXT NOT NULL,
    link_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE service_key (
    id         BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    public_key TEXT NOT NULL
);
ALTER TABLE volumes ADD COLUMN t_start DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN t_end DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN alt_lo DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN alt_hi DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lat_lo DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lat_hi DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lng_lo DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE volumes ADD COLUMN lng_hi DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE INDEX volumes_t_end ON volumes (t_end, t_start);
CREATE INDEX volumes_t_start ON volumes (t_start, t_end);
CREATE INDEX volumes_updated ON volumes (updated);
",
    ),
    (
        4,
        "
CREATE TABLE alert_seqs (
    party_id BIGINT NOT NULL PRIMARY KEY REFERENCES parties (id),
    last     BIGINT NOT NULL
);
INSERT INTO alert_seqs (party_id, last) SELECT party_id, MAX(seq) FROM alerts GROUP BY party_id;
",
    ),
    (
        5,
        "
ALTER TABLE audit ADD COLUMN pseq BIGINT;
ALTER TABLE audit ADD COLUMN phash TEXT;
CREATE INDEX audit_party_sub_chain ON audit (party_id, chain, pseq);
CREATE TABLE party_heads (
    chain    TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (chain, party_id)
);
CREATE TABLE party_checkpoints (
    chain     TEXT NOT NULL,
    n         BIGINT NOT NULL,
    time      DOUBLE PRECISION NOT NULL,
    root      TEXT NOT NULL,
    size      BIGINT NOT NULL,
    signature TEXT NOT NULL,
    leaves    TEXT NOT NULL,
    PRIMARY KEY (chain, n)
);
CREATE INDEX party_checkpoints_time ON party_checkpoints (time);
",
    ),
    (
        6,
        "
CREATE TABLE messages (
    id      TEXT PRIMARY KEY,
    sender  BIGINT NOT NULL REFERENCES parties (id),
    kind    TEXT NOT NULL CHECK (kind IN ('notice', 'request', 'reply', 'emergency', 'text')),
    time    DOUBLE PRECISION NOT NULL,
    content TEXT NOT NULL
);
CREATE TABLE mailbox (
    party_id     BIGINT NOT NULL REFERENCES parties (id),
    seq          BIGINT NOT NULL,
    message_id   TEXT NOT NULL REFERENCES messages (id),
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer         TEXT NOT NULL,
    label        TEXT,
    via          TEXT,
    delivered_at DOUBLE PRECISION,
    acked_at     DOUBLE PRECISION,
    escalated_at DOUBLE PRECISION,
    last_sent    DOUBLE PRECISION,
    sends        BIGINT NOT NULL,
    stream_seq   BIGINT,
    PRIMARY KEY (party_id, seq),
    UNIQUE (message_id, party_id)
);
CREATE INDEX mailbox_unacked ON mailbox (last_sent) WHERE direction = 'in' AND acked_at IS NULL;
CREATE TABLE mail_seqs (
    party_id BIGINT PRIMARY KEY REFERENCES parties (id),
    last     BIGINT NOT NULL
);
CREATE TABLE conflict_sides (
    conflict TEXT NOT NULL,
    party_id BIGINT NOT NULL REFERENCES parties (id),
    named    BIGINT NOT NULL,
    PRIMARY KEY (conflict, party_id)
);
",
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 6;

/// The migration from which audit entries have party sub-chains (`audit::party`): upgrading
/// past it gives the entries already stored their place (in Rust, inside the migration's
/// transaction).
pub(crate) const PARTY_CHAINS_VERSION: i64 = 5;

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
    if current < PARTY_CHAINS_VERSION {
        crate::audit::backfill_party_chains(&mut crate::db::SqliteDb(&tx))?;
    }
    tx.commit()?;
    Ok(())
}
