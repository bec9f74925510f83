//! The export: every chain as JSON Lines (format in the `audit` module docs), read from one
//! snapshot and handed out in chunks.

use super::format::{Header, AUDIT_FORMAT};
use crate::db::{vals, Db};
use crate::error::StoreError;
use crate::rows::{seq_from_sql, FromRow};
use crate::types::{Checkpoint, PartyId};
use serde::Serialize;
use serde_json::value::RawValue;

#[derive(Serialize)]
struct ExportEntry<'a> {
    chain: &'a str,
    seq: u64,
    time: f64,
    party: Option<PartyId>,
    kind: &'a str,
    body: &'a RawValue,
    prev: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct EntryLine<'a> {
    entry: ExportEntry<'a>,
}

#[derive(Serialize)]
struct CheckpointLine<'a> {
    checkpoint: &'a Checkpoint,
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Storage(format!("writing the export: {e}"))
}

fn write_line(buf: &mut Vec<u8>, v: &impl Serialize) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *buf, v).map_err(json_err)?;
    buf.push(b'\n');
    Ok(())
}

/// Entries fetched per query while exporting.
const EXPORT_PAGE: i64 = 1000;
/// Bytes handed to `emit` at a time.
const EXPORT_CHUNK: usize = 1 << 16;

/// Produces the whole export from one read snapshot, in chunks of lines handed to `emit`.
pub(crate) fn export(
    db: &mut dyn Db,
    public_key_hex: &str,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    db.begin_snapshot()?;
    let result = export_in_snapshot(db, public_key_hex, emit);
    let end = db.end_snapshot();
    result.and(end)
}

fn export_in_snapshot(
    db: &mut dyn Db,
    public_key_hex: &str,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut buf = Vec::with_capacity(EXPORT_CHUNK + 4096);
    write_line(
        &mut buf,
        &Header {
            format: AUDIT_FORMAT.into(),
            public_key: public_key_hex.into(),
        },
    )?;
    // Chain names are sorted here, not in SQL, so the order is byte order on every backend
    // whatever the database's collation.
    let mut chains = db
        .query("SELECT chain FROM audit UNION SELECT chain FROM checkpoints", &[])?
        .iter()
        .map(|r| r.text("chain"))
        .collect::<Result<Vec<_>, _>>()?;
    chains.sort();
    chains.dedup();
    for chain in &chains {
        let checkpoints = db
            .query(
                "SELECT chain, seq, time, hash, signature FROM checkpoints WHERE chain = ?1 ORDER BY seq",
                &vals![chain],
            )?
            .iter()
            .map(Checkpoint::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let mut next_cp = checkpoints.iter().peekable();
        let mut after = i64::MIN;
        loop {
            let rows = db.query(
                "SELECT seq, time, party_id, kind, body, prev, hash FROM audit \
                 WHERE chain = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                &vals![chain, after, EXPORT_PAGE],
            )?;
            for row in &rows {
                after = row.i64("seq")?;
                let seq = seq_from_sql(after)?;
                let body = row.text("body")?;
                // A body that is not JSON (only possible by tampering) is exported as a JSON
                // string, so the export stays readable and verification names this entry.
                let quoted;
                let raw: &RawValue = match serde_json::from_str::<&RawValue>(&body) {
                    Ok(raw) => raw,
                    Err(_) => {
                        quoted = RawValue::from_string(serde_json::to_string(&body).map_err(json_err)?)
                            .map_err(json_err)?;
                        &quoted
                    }
                };
                let kind = row.text("kind")?;
                let prev = row.text("prev")?;
                let hash = row.text("hash")?;
                write_line(
                    &mut buf,
                    &EntryLine {
                        entry: ExportEntry {
                            chain,
                            seq,
                            time: row.f64("time")?,
                            party: row.opt_party("party_id")?,
                            kind: &kind,
                            body: raw,
                            prev: &prev,
                            hash: &hash,
                        },
                    },
                )?;
                while let Some(cp) = next_cp.next_if(|cp| cp.seq <= seq) {
                    write_line(&mut buf, &CheckpointLine { checkpoint: cp })?;
                }
                if buf.len() >= EXPORT_CHUNK {
                    emit(std::mem::take(&mut buf))?;
                }
            }
            if (rows.len() as i64) < EXPORT_PAGE {
                break;
            }
        }
        for cp in next_cp {
            write_line(&mut buf, &CheckpointLine { checkpoint: cp })?;
        }
    }
    emit(buf)
}
