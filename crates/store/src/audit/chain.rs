//! Writing the chains, inside the writer's transaction: appending an entry to this node's
//! chain (and signing a checkpoint every `checkpoint_every` entries), signing on request,
//! reading every chain's head, and cross-linking the chains with `audit.link` entries.

use super::format::{checkpoint_message, decode32, entry_hash, Link, LinkBody, LINK_KIND};
use super::receipt::Receipt;
use crate::db::{vals, Db};
use crate::engine::Ctx;
use crate::error::StoreError;
use crate::rows::{seq_from_sql, seq_to_sql, FromRow};
use crate::types::{ChainHead, Checkpoint, PartyId};
use ed25519_dalek::Signer;

fn stored_hash(chain: &str, seq: i64, hash: &str) -> Result<[u8; 32], StoreError> {
    decode32(hash).ok_or_else(|| {
        StoreError::Storage(format!(
            "audit chain {chain:?} entry {seq}: stored hash is not 32-byte hex"
        ))
    })
}

/// The chain's newest seq and hash, read inside the caller's transaction ((0, zeros) if none).
fn chain_head(db: &mut dyn Db, chain: &str) -> Result<(u64, [u8; 32]), StoreError> {
    let head = match db.query_opt(
        "SELECT seq, hash FROM audit_heads WHERE chain = ?1",
        &vals![chain],
    )? {
        Some(r) => Some(r),
        // No head row yet (or lost): fall back to the chain itself.
        None => db.query_opt(
            "SELECT seq, hash FROM audit WHERE chain = ?1 ORDER BY seq DESC LIMIT 1",
            &vals![chain],
        )?,
    };
    match head {
        None => Ok((0, [0u8; 32])),
        Some(r) => {
            let seq = r.i64("seq")?;
            let hash = stored_hash(chain, seq, &r.text("hash")?)?;
            Ok((seq_from_sql(seq)?, hash))
        }
    }
}

/// Appends one entry to this node's chain (writer thread, inside the write transaction); signs
/// a checkpoint when the new seq is a multiple of `checkpoint_every`. Returns the entry's seq.
pub(crate) fn append_entry(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
) -> Result<u64, StoreError> {
    append(db, ctx, time, party, kind, body, false).map(|(seq, _)| seq)
}

/// [`append_entry`] for an acknowledged write of `party`: also returns the write's signed
/// [`Receipt`] (see `receipt`).
pub(crate) fn append_with_receipt(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
    party: PartyId,
    kind: &str,
    body: &str,
) -> Result<Receipt, StoreError> {
    append(db, ctx, time, Some(party), kind, body, true)?
        .1
        .ok_or_else(|| StoreError::Storage("internal: no receipt for a party's entry".into()))
}

fn append(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
    party: Option<PartyId>,
    kind: &str,
    body: &str,
    with_receipt: bool,
) -> Result<(u64, Option<Receipt>), StoreError> {
    let chain = ctx.chain.as_str();
    let (last, prev) = chain_head(db, chain)?;
    let seq = last
        .checked_add(1)
        .ok_or_else(|| StoreError::Storage("audit seq overflow".into()))?;
    let hash = entry_hash(chain, seq, time, party, kind, body, &prev)?;
    let hash_hex = hex::encode(hash);
    let (pseq, phash, receipt) = match party {
        Some(p) => {
            let (pseq, phash) = super::party::extend(db, chain, p, time, kind, body)?;
            let receipt = with_receipt.then(|| super::receipt::sign(ctx, p, pseq, time, &phash, seq));
            (Some(seq_to_sql(pseq)), Some(hex::encode(phash)), receipt)
        }
        None => (None, None, None),
    };
    db.exec(
        "INSERT INTO audit (chain, seq, time, party_id, kind, body, prev, hash, pseq, phash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &vals![
            chain,
            seq_to_sql(seq),
            time,
            party,
            kind,
            body,
            hex::encode(prev),
            hash_hex.as_str(),
            pseq,
            phash
        ],
    )?;
    db.exec(
        "INSERT INTO audit_heads (chain, seq, hash, link_seq) VALUES (?1, ?2, ?3, 0) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        &vals![chain, seq_to_sql(seq), hash_hex],
    )?;
    if ctx.checkpoint_every > 0 && seq % ctx.checkpoint_every == 0 {
        insert_checkpoint(db, ctx, seq, time, &hash)?;
    }
    Ok((seq, receipt))
}

fn insert_checkpoint(
    db: &mut dyn Db,
    ctx: &Ctx,
    seq: u64,
    time: f64,
    hash: &[u8; 32],
) -> Result<Checkpoint, StoreError> {
    let signature = ctx.signing.sign(&checkpoint_message(&ctx.chain, seq, hash));
    let cp = Checkpoint {
        chain: ctx.chain.clone(),
        seq,
        time,
        hash: hex::encode(hash),
        signature: hex::encode(signature.to_bytes()),
    };
    db.exec(
        "INSERT INTO checkpoints (chain, seq, time, hash, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
        &vals![
            cp.chain.as_str(),
            seq_to_sql(seq),
            time,
            cp.hash.as_str(),
            cp.signature.as_str()
        ],
    )?;
    Ok(cp)
}

/// Signs this node's chain head unless a checkpoint already covers it (writer thread).
pub(crate) fn checkpoint_now(
    db: &mut dyn Db,
    ctx: &Ctx,
    time: f64,
) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, hash) = chain_head(db, &ctx.chain)?;
    if seq == 0 {
        return Ok(None);
    }
    let signed = db
        .query_one(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM checkpoints WHERE chain = ?1",
            &vals![ctx.chain.as_str()],
        )?
        .i64("seq")?;
    if seq_from_sql(signed)? >= seq {
        return Ok(None);
    }
    insert_checkpoint(db, ctx, seq, time, &hash).map(Some)
}

/// Every chain's head, by chain name (byte order).
pub(crate) fn chain_heads(db: &mut dyn Db) -> Result<Vec<ChainHead>, StoreError> {
    let mut out = db
        .query("SELECT chain, seq, hash FROM audit_heads", &[])?
        .iter()
        .map(ChainHead::from_row)
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| a.chain.cmp(&b.chain));
    Ok(out)
}

/// Appends an `audit.link` entry recording every other chain's head, unless none moved since
/// this chain's previous link (writer thread). Returns the new entry's seq.
pub(crate) fn link_chains(db: &mut dyn Db, ctx: &Ctx, time: f64) -> Result<Option<u64>, StoreError> {
    let chain = ctx.chain.as_str();
    let mut others = Vec::new();
    let mut link_seq = 0i64;
    for r in db.query("SELECT chain, seq, hash, link_seq FROM audit_heads", &[])? {
        let name = r.text("chain")?;
        if name == chain {
            link_seq = r.i64("link_seq")?;
        } else {
            others.push(Link {
                chain: name,
                seq: seq_from_sql(r.i64("seq")?)?,
                hash: r.text("hash")?,
            });
        }
    }
    others.sort_by(|a, b| a.chain.cmp(&b.chain));
    let previous = if link_seq > 0 {
        match db.query_opt(
            "SELECT body FROM audit WHERE chain = ?1 AND seq = ?2",
            &vals![chain, link_seq],
        )? {
            Some(r) => serde_json::from_str::<LinkBody>(&r.text("body")?)
                .map(|b| b.links)
                .unwrap_or_default(),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    if others.is_empty() || others == previous {
        return Ok(None);
    }
    let body = serde_json::to_string(&LinkBody { links: others })
        .map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))?;
    let seq = append_entry(db, ctx, time, None, LINK_KIND, &body)?;
    db.exec(
        "UPDATE audit_heads SET link_seq = ?1 WHERE chain = ?2",
        &vals![seq_to_sql(seq), chain],
    )?;
    Ok(Some(seq))
}
