//! Parties and their API tokens: adding and reading parties, issuing, revoking and checking
//! tokens (only a token's SHA-256 is stored), and the writer-side lookups other domains use
//! ([`ensure_party`]).

use crate::audit::{append_entry, sha256_hex};
use crate::db::{vals, Db};
use crate::engine::Engine;
use crate::error::StoreError;
use crate::rows::{to_json_text, FromRow, PARTY_COLS};
use crate::types::{is_token_shaped, Party, PartyId, Role, TOKEN_PREFIX};
use crate::validate::{check_member_of, check_party_name, check_time};
use rand::RngCore;

/// [`StoreBackend::add_party`](crate::StoreBackend::add_party).
pub(super) fn add_party<E: Engine>(
    engine: &E,
    name: &str,
    member_of: Option<&str>,
    role: Role,
    now: f64,
) -> Result<Party, StoreError> {
    check_party_name(name)?;
    check_time(now)?;
    check_member_of(member_of)?;
    let name = name.to_string();
    let member_of = member_of.map(str::to_string);
    let body = to_json_text(&serde_json::json!({
        "name": name, "member_of": member_of, "role": role.as_str()
    }))?;
    engine.write(move |db, ctx| {
        if db
            .query_opt("SELECT 1 FROM parties WHERE name = ?1", &vals![&name])?
            .is_some()
        {
            return Err(StoreError::Conflict(format!("party {name:?} already exists")));
        }
        let id = PartyId(next_id(db, "parties")?);
        db.exec(
            "INSERT INTO parties (id, name, member_of, role, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            &vals![id, &name, member_of.as_deref(), role.as_str(), now],
        )?;
        append_entry(db, ctx, now, Some(id), "party.add", &body)?;
        Ok(Party {
            id,
            name: name.clone(),
            member_of: member_of.clone(),
            role,
            created: now,
        })
    })
}

/// [`StoreBackend::party_by_name`](crate::StoreBackend::party_by_name).
pub(super) fn party_by_name<E: Engine>(engine: &E, name: &str) -> Result<Option<Party>, StoreError> {
    let name = name.to_string();
    engine.read(move |db| {
        db.query_opt(
            &format!("SELECT {PARTY_COLS} FROM parties WHERE name = ?1"),
            &vals![name],
        )?
        .map(|r| Party::from_row(&r))
        .transpose()
    })
}

/// [`StoreBackend::party`](crate::StoreBackend::party).
pub(super) fn party<E: Engine>(engine: &E, id: PartyId) -> Result<Option<Party>, StoreError> {
    engine.read(move |db| {
        db.query_opt(
            &format!("SELECT {PARTY_COLS} FROM parties WHERE id = ?1"),
            &vals![id],
        )?
        .map(|r| Party::from_row(&r))
        .transpose()
    })
}

/// [`StoreBackend::list_parties`](crate::StoreBackend::list_parties).
pub(super) fn list_parties<E: Engine>(engine: &E) -> Result<Vec<Party>, StoreError> {
    engine.read(|db| {
        db.query(&format!("SELECT {PARTY_COLS} FROM parties ORDER BY id"), &[])?
            .iter()
            .map(Party::from_row)
            .collect()
    })
}

/// [`StoreBackend::issue_token`](crate::StoreBackend::issue_token).
pub(super) fn issue_token<E: Engine>(engine: &E, party_name: &str, now: f64) -> Result<String, StoreError> {
    check_time(now)?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let hash = sha256_hex(token.as_bytes());
    let name = party_name.to_string();
    engine.write(move |db, ctx| {
        let party = party_id_by_name(db, &name)?;
        let id = next_id(db, "tokens")?;
        db.exec(
            "INSERT INTO tokens (id, party_id, hash, created, revoked) VALUES (?1, ?2, ?3, ?4, NULL)",
            &vals![id, party, &hash, now],
        )?;
        let body = to_json_text(&serde_json::json!({ "token_id": id }))?;
        append_entry(db, ctx, now, Some(party), "token.issue", &body)?;
        Ok(())
    })?;
    Ok(token)
}

/// [`StoreBackend::revoke_tokens`](crate::StoreBackend::revoke_tokens).
pub(super) fn revoke_tokens<E: Engine>(engine: &E, party_name: &str, now: f64) -> Result<usize, StoreError> {
    check_time(now)?;
    let name = party_name.to_string();
    engine.write(move |db, ctx| {
        let party = party_id_by_name(db, &name)?;
        let n = db.exec(
            "UPDATE tokens SET revoked = ?1 WHERE party_id = ?2 AND revoked IS NULL",
            &vals![now, party],
        )?;
        let body = to_json_text(&serde_json::json!({ "count": n }))?;
        append_entry(db, ctx, now, Some(party), "token.revoke", &body)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    })
}

/// [`StoreBackend::revocations`](crate::StoreBackend::revocations).
pub(super) fn revocations<E: Engine>(engine: &E) -> Result<u64, StoreError> {
    engine.read(|db| {
        let n = db
            .query_one("SELECT COUNT(*) AS n FROM tokens WHERE revoked IS NOT NULL", &[])?
            .i64("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    })
}

/// [`StoreBackend::authenticate`](crate::StoreBackend::authenticate).
pub(super) fn authenticate<E: Engine>(engine: &E, token: &str) -> Result<Option<Party>, StoreError> {
    if !is_token_shaped(token) {
        return Ok(None);
    }
    let hash = sha256_hex(token.as_bytes());
    engine.read(move |db| {
        db.query_opt(
            "SELECT p.id, p.name, p.member_of, p.role, p.created \
             FROM tokens t JOIN parties p ON p.id = t.party_id \
             WHERE t.hash = ?1 AND t.revoked IS NULL",
            &vals![hash],
        )?
        .map(|r| Party::from_row(&r))
        .transpose()
    })
}

/// Writer side: NotFound unless the party exists.
pub(super) fn ensure_party(db: &mut dyn Db, party: PartyId) -> Result<(), StoreError> {
    db.query_opt("SELECT 1 FROM parties WHERE id = ?1", &vals![party])?
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("party {party}")))
}

/// Writer side: the id of a party by name, or NotFound.
pub(super) fn party_id_by_name(db: &mut dyn Db, name: &str) -> Result<PartyId, StoreError> {
    db.query_opt("SELECT id FROM parties WHERE name = ?1", &vals![name])?
        .ok_or_else(|| StoreError::NotFound(format!("party {name:?}")))?
        .party("id")
}

/// Writer side: the next id of a table (`MAX(id) + 1`, inside the transaction; a concurrent
/// writer that takes the same id makes one of the two retry).
pub(super) fn next_id(db: &mut dyn Db, table: &str) -> Result<i64, StoreError> {
    let sql = match table {
        "parties" => "SELECT COALESCE(MAX(id), 0) + 1 AS id FROM parties",
        _ => "SELECT COALESCE(MAX(id), 0) + 1 AS id FROM tokens",
    };
    db.query_one(sql, &[])?.i64("id")
}
