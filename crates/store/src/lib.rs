//! Durable, party-scoped storage of deconflict on SQLite or PostgreSQL, with tamper-evident,
//! per-node audit chains.
//!
//! # One interface, two backends
//! Every operation is a method of [`StoreBackend`]; a [`Store`] is a cheap, cloneable handle on
//! one backend (`Deref<Target = dyn StoreBackend>`, so callers write `store.put_tracks(..)`).
//! [`Store::connect`] picks the backend from [`StoreOptions::url`]:
//!
//! - **SQLite** (no url, or `sqlite:`): one database file `data_dir/deconflict.db` (WAL,
//!   `synchronous=FULL`, busy timeout 5 s). Every write goes through one writer thread that
//!   groups concurrent writes into one `BEGIN IMMEDIATE` transaction and one fsync (see
//!   [`WriteStats`] and the `writer` module); another process (the CLI) may write to the same
//!   directory while the server runs. Reads use a small pool of separate connections.
//!   [`Store::open`] / [`Store::open_with`] open this backend with the chain name `main`.
//! - **PostgreSQL** (`postgres://` or `postgresql://`): several server processes ("nodes")
//!   share one database. Every PostgreSQL call runs on threads the store owns (one writer, a few
//!   readers, each with its own connection), never on the caller's thread. Writes are group
//!   committed too, in `SERIALIZABLE` transactions; a batch that hits a serialization failure,
//!   a deadlock or a unique violation caused by another node is rolled back and run again
//!   (see the `pg` module). The SQL is kept portable to PostgreSQL-wire distributed engines
//!   (CockroachDB): plain types, no sequences (ids are `MAX(id) + 1` inside the transaction),
//!   no advisory locks, no `LOCK TABLE`, no extensions.
//!
//! In both, a write has committed when its call returns, and the service's Ed25519 key is the
//! file `data_dir/service.key`. On PostgreSQL the first node to connect records its public key
//! in the database and every other node must have the same key file (checkpoints and opaque
//! ids must agree), or [`Store::connect`] fails.
//!
//! # Audit
//! Each node appends to its own hash chain (named by [`StoreOptions::node`]), so nodes never
//! contend on one chain head; [`StoreBackend::link_chains`] cross-links the chains, and
//! [`verify_audit`] checks all chains and their links together. Formats are in the `audit`
//! module docs (re-exported items: [`entry_hash`], [`checkpoint_message`], [`verify_audit`]).
//!
//! # Checked filing
//! [`StoreBackend::file_checked`] is the heart of multi-node strategic deconfliction: in ONE
//! write transaction it reads every live filing whose [`Window`] intersects the new one (any
//! party, any kind) plus the caller's own current row, asks a pure decider what to store, and
//! stores the filing, its alerts and its audit entries. Two conflicting filings sent at the
//! same instant to two nodes can never both miss each other: the transaction serialized second
//! sees the first among its candidates (SQLite serializes writers; PostgreSQL's `SERIALIZABLE`
//! aborts and the writer re-runs the loser, decider included).
//!
//! # Scoping and time
//! Every read that returns a party's rows takes that party's id and filters by it in SQL; only
//! [`StoreBackend::all_tracks`], [`StoreBackend::all_volumes`],
//! [`StoreBackend::volumes_updated_since`], [`StoreBackend::list_parties`],
//! [`StoreBackend::chain_heads`] and [`StoreBackend::export_audit`] are service-wide. Times are
//! passed in by the caller (`now`, Unix seconds), never read from a clock here.
//!
//! # Layout
//! Along the way a call takes, from the caller to the database and back:
//!
//! - `types` (the plain data and public limits) and `error` ([`StoreError`]): the leaves every
//!   other module uses.
//! - `backend`: the interface, [`StoreBackend`].
//! - `connect`: [`StoreOptions`], [`Store`] and [`Store::connect`], which picks the engine.
//! - `validate`: the checks on arguments, run on the caller's thread.
//! - `ops`: the one implementation of the interface over any engine, its SQL per domain in
//!   `ops/parties.rs`, `ops/tracks.rs`, `ops/volumes.rs`, `ops/alerts.rs` and `ops/audit.rs`.
//! - `engine` (the engine interface: write and read jobs, transaction levels, [`WriteStats`])
//!   and `job` (a queued write job, shared by both writers).
//! - `sqlite` and `writer` (SQLite: read pool, group-committing writer thread); `pg`
//!   (PostgreSQL: its threads, connections, setup and retrying writer).
//! - `db` (the small SQL interface both engines implement) and `rows` (decoding result rows by
//!   column name, and the value conversions).
//! - `audit`: the hash chains, checkpoints, links, export and offline verifier (`audit/`).
//! - `hotline`: the hotline's data (messages, mailbox items, the re-send policy) and its views.
//! - `schema` (tables and migrations) and `key` (the service key file).

mod audit;
mod backend;
mod connect;
mod db;
mod engine;
mod error;
mod hotline;
mod job;
mod key;
mod ops;
mod pg;
mod rows;
mod schema;
mod sqlite;
mod types;
mod validate;
mod writer;

pub use audit::{
    checkpoint_message, entry_hash, merkle_proof, merkle_root, party_checkpoint_message, party_entry_hash,
    sha256_hex, verify_audit, verify_inclusion, verify_party_audit, ChainReport, PartyAuditEntry,
    PartyCheckpoint, PartyCheckpointView, PartyHead, PartyLeaf, PartyLeafProof, PartySubChainReport,
    PartyVerifyReport, VerifyError, VerifyReport, AUDIT_FORMAT, CHECKPOINT_DOMAIN, LINK_KIND,
    PARTY_AUDIT_FORMAT, PARTY_ENTRY_DOMAIN, PARTY_HEADS_DOMAIN,
};
pub use audit::{receipt_message, verify_party_audit_with_receipts, Receipt, RECEIPT_DOMAIN};
pub use backend::StoreBackend;
pub use connect::{redact_url, Store, StoreOptions, DB_FILE, DEFAULT_CHECKPOINT_EVERY, DEFAULT_NODE};
pub use engine::WriteStats;
pub use error::StoreError;
pub use hotline::{
    valid_message_id, Acked, Direction, HotlinePolicy, MailItem, MessageKind, NewMessage, Recipient,
    RecipientStatus, Sent, StreamEntry, MAX_RECIPIENTS, MESSAGE_KINDS,
};
pub use key::KEY_FILE;
pub use pg::{MAX_ATTEMPTS, READERS as PG_READERS};
pub use schema::SCHEMA_VERSION;
pub use types::{
    is_token_shaped, valid_chain_name, AuditEntry, Candidate, ChainHead, CheckedWrite, Checkpoint, Decide,
    Filed, FilingKind, FilingState, NewAlert, Party, PartyId, Role, StoredAlert, StoredVolume, UpdatedSince,
    VolumeFiling, Window, MAX_CHAIN_LEN, MAX_KIND_LEN, MAX_PARTY_NAME_LEN, TOKEN_PREFIX,
};
pub use writer::MAX_BATCH;
