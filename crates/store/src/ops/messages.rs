//! The hotline's storage: messages and each party's mailbox (its own gap-free sequence),
//! delivery, acknowledgement, re-sending and escalation, the sides of each conflict (whom
//! "the other side of conflict C" reaches), and every step's audit entries.
//!
//! A message's copies live in `mailbox`: one `out` row for the sender, one `in` row per
//! recipient. Each recipient's copy is also put on its stream (an entry of its alert sequence,
//! so the stream's resumption and fan-out carry it); a re-send or an escalation is a new
//! stream entry. Every read takes the caller's party: a party reads only its own rows.
//!
//! Writes run [`Engine::write_alone`]: they take the parties' mailbox and alert counters in
//! party order, as `alerts` does, so two of them never wait on each other in a cycle.

use super::alerts::{insert_alerts, note_side, prepare, PreparedAlert};
use super::parties::ensure_party;
use crate::audit::{append_entry, append_with_receipt, sha256_hex};
use crate::db::{vals, Db, Row};
use crate::engine::{Ctx, Engine};
use crate::error::StoreError;
use crate::hotline::{
    status_body, valid_message_id, Acked, Direction, HotlinePolicy, MailItem, MessageKind, NewMessage,
    RecipientStatus, Sent, StreamEntry, MAX_RECIPIENTS,
};
use crate::rows::{limit_to_sql, parse_json, seq_from_sql, seq_to_sql, stored, to_json_text};
use crate::types::PartyId;
use crate::validate::check_time;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The columns of a [`MailItem`] (mailbox `m` joined with messages `g`).
const ITEM_COLS: &str = "m.seq, m.message_id, m.direction, m.peer, m.via, m.delivered_at, m.acked_at, \
                         m.escalated_at, m.sends, m.stream_seq, g.kind, g.time, g.content, g.sender";

fn item_from_row(r: &Row) -> Result<MailItem, StoreError> {
    let id = r.text("message_id")?;
    let direction = match r.text("direction")?.as_str() {
        "in" => Direction::In,
        "out" => Direction::Out,
        other => return Err(StoreError::Storage(format!("stored direction {other:?}"))),
    };
    Ok(MailItem {
        seq: seq_from_sql(r.i64("seq")?)?,
        direction,
        kind: stored(r, "kind")?,
        time: r.f64("time")?,
        content: parse_json(&format!("message {id}"), &r.text("content")?)?,
        peer: parse_json(&format!("message {id}"), &r.text("peer")?)?,
        via: r.opt_text("via")?,
        delivered_at: r.opt_f64("delivered_at")?,
        acked_at: r.opt_f64("acked_at")?,
        escalated_at: r.opt_f64("escalated_at")?,
        sends: seq_from_sql(r.i64("sends")?)?,
        stream_seq: r.opt_i64("stream_seq")?.map(seq_from_sql).transpose()?,
        recipients: Vec::new(),
        id,
    })
}

/// The copies of an outbound item its sender is shown.
fn load_recipients(db: &mut dyn Db, item: &mut MailItem) -> Result<(), StoreError> {
    if item.direction != Direction::Out {
        return Ok(());
    }
    let rows = db.query(
        "SELECT label, delivered_at, acked_at, escalated_at FROM mailbox \
         WHERE message_id = ?1 AND direction = 'in' AND label IS NOT NULL ORDER BY label",
        &vals![&item.id],
    )?;
    item.recipients = rows
        .iter()
        .map(|r| {
            Ok(RecipientStatus {
                label: parse_json("a recipient's label", &r.text("label")?)?,
                delivered_at: r.opt_f64("delivered_at")?,
                acked_at: r.opt_f64("acked_at")?,
                escalated_at: r.opt_f64("escalated_at")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

/// The party's copy of a message, if it has one.
fn load_item(db: &mut dyn Db, party: PartyId, id: &str) -> Result<Option<MailItem>, StoreError> {
    let row = db.query_opt(
        &format!(
            "SELECT {ITEM_COLS} FROM mailbox m JOIN messages g ON g.id = m.message_id \
             WHERE m.party_id = ?1 AND m.message_id = ?2"
        ),
        &vals![party, id],
    )?;
    match row {
        None => Ok(None),
        Some(r) => {
            let mut item = item_from_row(&r)?;
            load_recipients(db, &mut item)?;
            Ok(Some(item))
        }
    }
}

/// Takes the next `n` seqs of each party's mailbox counter, in party order; returns each
/// party's first.
fn take_mail_seqs(
    db: &mut dyn Db,
    counts: &BTreeMap<PartyId, u64>,
) -> Result<BTreeMap<PartyId, u64>, StoreError> {
    let mut first = BTreeMap::new();
    for (&party, &n) in counts {
        ensure_party(db, party)?;
        db.exec(
            "INSERT INTO mail_seqs (party_id, last) VALUES (?1, 0) ON CONFLICT (party_id) DO NOTHING",
            &vals![party],
        )?;
        let last = db
            .query_one(
                "UPDATE mail_seqs SET last = last + ?2 WHERE party_id = ?1 RETURNING last",
                &vals![party, seq_to_sql(n)],
            )?
            .i64("last")?;
        first.insert(party, seq_from_sql(last)? + 1 - n);
    }
    Ok(first)
}

/// Appends stream entries and records each copy's newest one.
fn put_on_streams(
    db: &mut dyn Db,
    ctx: &Ctx,
    now: f64,
    entries: Vec<(PartyId, Value, Option<String>)>,
) -> Result<Vec<StreamEntry>, StoreError> {
    let prepared: Vec<PreparedAlert> = entries
        .iter()
        .map(|(p, body, _)| prepare(*p, body))
        .collect::<Result<_, _>>()?;
    let seqs = insert_alerts(db, ctx, now, &prepared)?;
    let mut out = Vec::with_capacity(seqs.len());
    for ((party, body, copy_of), seq) in entries.into_iter().zip(seqs) {
        if let Some(id) = copy_of {
            db.exec(
                "UPDATE mailbox SET stream_seq = ?3 WHERE party_id = ?1 AND message_id = ?2",
                &vals![party, &id, seq_to_sql(seq)],
            )?;
        }
        out.push(StreamEntry {
            party,
            seq,
            time: now,
            body,
        });
    }
    Ok(out)
}

fn invalid(m: impl Into<String>) -> StoreError {
    StoreError::Invalid(m.into())
}

/// [`StoreBackend::send_message`](crate::StoreBackend::send_message).
pub(super) fn send_message<E: Engine>(engine: &E, msg: &NewMessage, now: f64) -> Result<Sent, StoreError> {
    check_time(now)?;
    if !valid_message_id(&msg.id) {
        return Err(invalid("id: must be m- and 32 lowercase hex digits"));
    }
    if msg.recipients.is_empty() || msg.recipients.len() > MAX_RECIPIENTS {
        return Err(invalid(format!("recipients: 1 to {MAX_RECIPIENTS}")));
    }
    let mut counts: BTreeMap<PartyId, u64> = BTreeMap::new();
    counts.insert(msg.sender, 1);
    for r in &msg.recipients {
        if counts.insert(r.party, 1).is_some() {
            return Err(invalid("recipients: each party once, and never the sender"));
        }
    }
    let content = to_json_text(&msg.content)?;
    let to = to_json_text(&msg.to)?;
    let digest = sha256_hex(format!("{to}\n{content}").as_bytes());
    let copies: Vec<(PartyId, String, Option<String>, Option<String>)> = msg
        .recipients
        .iter()
        .map(|r| {
            Ok((
                r.party,
                to_json_text(&r.from)?,
                r.label.as_ref().map(to_json_text).transpose()?,
                r.via.clone(),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let (id, sender, kind) = (msg.id.clone(), msg.sender, msg.kind);
    engine.write_alone(move |db, ctx| {
        if db
            .query_opt("SELECT 1 FROM messages WHERE id = ?1", &vals![&id])?
            .is_some()
        {
            return Err(StoreError::Conflict(format!("message {id} exists")));
        }
        let seqs = take_mail_seqs(db, &counts)?;
        let seq_of = |p: PartyId| seqs.get(&p).copied().unwrap_or(0);
        db.exec(
            "INSERT INTO messages (id, sender, kind, time, content) VALUES (?1, ?2, ?3, ?4, ?5)",
            &vals![&id, sender, kind, now, &content],
        )?;
        db.exec(
            "INSERT INTO mailbox (party_id, seq, message_id, direction, peer, sends) \
             VALUES (?1, ?2, ?3, 'out', ?4, 0)",
            &vals![sender, seq_to_sql(seq_of(sender)), &id, &to],
        )?;
        let receipt = append_with_receipt(
            db,
            ctx,
            now,
            sender,
            "message.send",
            &to_json_text(&json!({"id": id, "kind": kind, "digest": digest}))?,
        )?;
        let mut entries = Vec::with_capacity(copies.len());
        for (party, from, label, via) in &copies {
            db.exec(
                "INSERT INTO mailbox (party_id, seq, message_id, direction, peer, label, via, last_sent, sends) \
                 VALUES (?1, ?2, ?3, 'in', ?4, ?5, ?6, ?7, 1)",
                &vals![*party, seq_to_sql(seq_of(*party)), &id, from, label.as_deref(), via.as_deref(), now],
            )?;
            append_entry(
                db,
                ctx,
                now,
                Some(*party),
                "message.receive",
                &to_json_text(&json!({"id": id, "kind": kind, "digest": digest}))?,
            )?;
            let item = load_item(db, *party, &id)?
                .ok_or_else(|| StoreError::Storage("a copy just stored is missing".into()))?;
            entries.push((*party, item.stream_body(1, false), Some(id.clone())));
        }
        let stream = put_on_streams(db, ctx, now, entries)?;
        let item = load_item(db, sender, &id)?
            .ok_or_else(|| StoreError::Storage("the sender's copy just stored is missing".into()))?;
        Ok(Sent {
            item,
            receipt,
            stream,
        })
    })
}

/// [`StoreBackend::messages_after`](crate::StoreBackend::messages_after).
pub(super) fn messages_after<E: Engine>(
    engine: &E,
    party: PartyId,
    after: u64,
    limit: usize,
) -> Result<Vec<MailItem>, StoreError> {
    engine.read(move |db| {
        let rows = db.query(
            &format!(
                "SELECT {ITEM_COLS} FROM mailbox m JOIN messages g ON g.id = m.message_id \
                 WHERE m.party_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"
            ),
            &vals![party, seq_to_sql(after), limit_to_sql(limit)],
        )?;
        let mut items = rows.iter().map(item_from_row).collect::<Result<Vec<_>, _>>()?;
        for item in &mut items {
            load_recipients(db, item)?;
        }
        Ok(items)
    })
}

/// [`StoreBackend::message`](crate::StoreBackend::message).
pub(super) fn message<E: Engine>(
    engine: &E,
    party: PartyId,
    id: &str,
) -> Result<Option<MailItem>, StoreError> {
    if !valid_message_id(id) {
        return Ok(None);
    }
    let id = id.to_string();
    engine.read(move |db| load_item(db, party, &id))
}

/// [`StoreBackend::unacked_messages`](crate::StoreBackend::unacked_messages).
pub(super) fn unacked_messages<E: Engine>(
    engine: &E,
    party: PartyId,
    limit: usize,
) -> Result<Vec<MailItem>, StoreError> {
    engine.read(move |db| {
        db.query(
            &format!(
                "SELECT {ITEM_COLS} FROM mailbox m JOIN messages g ON g.id = m.message_id \
                 WHERE m.party_id = ?1 AND m.direction = 'in' AND m.acked_at IS NULL ORDER BY m.seq LIMIT ?2"
            ),
            &vals![party, limit_to_sql(limit)],
        )?
        .iter()
        .map(item_from_row)
        .collect()
    })
}

/// The sender of a message and the label its copy for `party` is shown by (None: not shown).
fn sender_and_label(
    db: &mut dyn Db,
    party: PartyId,
    id: &str,
) -> Result<(PartyId, Option<Value>), StoreError> {
    let r = db.query_one(
        "SELECT g.sender, m.label FROM mailbox m JOIN messages g ON g.id = m.message_id \
         WHERE m.party_id = ?1 AND m.message_id = ?2",
        &vals![party, id],
    )?;
    let label = r
        .opt_text("label")?
        .map(|l| parse_json("a recipient's label", &l))
        .transpose()?;
    Ok((r.party("sender")?, label))
}

/// [`StoreBackend::mark_delivered`](crate::StoreBackend::mark_delivered).
pub(super) fn mark_delivered<E: Engine>(
    engine: &E,
    party: PartyId,
    ids: &[String],
    now: f64,
) -> Result<Vec<String>, StoreError> {
    check_time(now)?;
    let ids: Vec<String> = ids.iter().filter(|i| valid_message_id(i)).cloned().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    engine.write_alone(move |db, ctx| {
        let mut marked = Vec::new();
        for id in &ids {
            let n = db.exec(
                "UPDATE mailbox SET delivered_at = ?3 WHERE party_id = ?1 AND message_id = ?2 \
                 AND direction = 'in' AND delivered_at IS NULL",
                &vals![party, id, now],
            )?;
            if n == 0 {
                continue;
            }
            append_entry(
                db,
                ctx,
                now,
                Some(party),
                "message.deliver",
                &to_json_text(&json!({"id": id}))?,
            )?;
            let (sender, label) = sender_and_label(db, party, id)?;
            if let Some(label) = label {
                let body = to_json_text(&json!({"id": id, "to": label}))?;
                append_entry(db, ctx, now, Some(sender), "message.delivered", &body)?;
            }
            marked.push(id.clone());
        }
        Ok(marked)
    })
}

/// [`StoreBackend::ack_message`](crate::StoreBackend::ack_message).
pub(super) fn ack_message<E: Engine>(
    engine: &E,
    party: PartyId,
    id: &str,
    now: f64,
) -> Result<Acked, StoreError> {
    check_time(now)?;
    if !valid_message_id(id) {
        return Err(StoreError::NotFound(format!("message {id:?}")));
    }
    let id = id.to_string();
    engine.write_alone(move |db, ctx| {
        let row = db
            .query_opt(
                "SELECT acked_at FROM mailbox WHERE party_id = ?1 AND message_id = ?2 AND direction = 'in'",
                &vals![party, &id],
            )?
            .ok_or_else(|| StoreError::NotFound(format!("message {id:?}")))?;
        let (acked_at, first) = match row.opt_f64("acked_at")? {
            Some(t) => (t, false),
            None => {
                db.exec(
                    "UPDATE mailbox SET acked_at = ?3, delivered_at = COALESCE(delivered_at, ?3) \
                     WHERE party_id = ?1 AND message_id = ?2 AND direction = 'in'",
                    &vals![party, &id, now],
                )?;
                (now, true)
            }
        };
        let receipt = append_with_receipt(
            db,
            ctx,
            now,
            party,
            "message.ack",
            &to_json_text(&json!({"id": id, "first": first}))?,
        )?;
        let mut stream = Vec::new();
        if first {
            let (sender, label) = sender_and_label(db, party, &id)?;
            if let Some(label) = label {
                let body = to_json_text(&json!({"id": id, "to": label}))?;
                append_entry(db, ctx, now, Some(sender), "message.acked", &body)?;
                let entry = status_body("message.ack", &id, &label, now);
                stream = put_on_streams(db, ctx, now, vec![(sender, entry, None)])?;
            }
        }
        Ok(Acked {
            acked_at,
            first,
            receipt,
            stream,
        })
    })
}

/// One copy the sweep found due: (party, message id, sends, last sent, escalated).
type Due = (PartyId, String, u64, f64, bool);

/// Whether a copy is due for a re-send or an escalation at `now`: (re-send, escalate).
fn due(
    policy: &HotlinePolicy,
    kind: MessageKind,
    sent: f64,
    last_sent: f64,
    sends: u64,
    escalated: bool,
    now: f64,
) -> (bool, bool) {
    let (resend_s, escalate_s) = policy.periods(kind);
    let resend = sends < policy.max_sends && now - last_sent >= resend_s;
    let escalate = !escalated && now - sent >= escalate_s;
    (resend, escalate)
}

const DUE_COLS: &str = "m.party_id, m.message_id, m.sends, m.last_sent, m.escalated_at, g.kind, g.time";

fn due_from_row(r: &Row, policy: &HotlinePolicy, now: f64) -> Result<Option<Due>, StoreError> {
    let (sends, last_sent) = (
        seq_from_sql(r.i64("sends")?)?,
        r.opt_f64("last_sent")?.unwrap_or(0.0),
    );
    let escalated = r.opt_f64("escalated_at")?.is_some();
    let (resend, escalate) = due(
        policy,
        stored(r, "kind")?,
        r.f64("time")?,
        last_sent,
        sends,
        escalated,
        now,
    );
    if !(resend || escalate) {
        return Ok(None);
    }
    Ok(Some((
        r.party("party_id")?,
        r.text("message_id")?,
        sends,
        last_sent,
        escalated,
    )))
}

/// [`StoreBackend::sweep_messages`](crate::StoreBackend::sweep_messages).
pub(super) fn sweep_messages<E: Engine>(
    engine: &E,
    policy: &HotlinePolicy,
    now: f64,
) -> Result<Vec<StreamEntry>, StoreError> {
    check_time(now)?;
    // A read first: most sweeps find nothing due and write nothing.
    let p = policy.clone();
    let found: Vec<Due> = engine.read(move |db| {
        let soonest = p.resend_s.min(p.emergency_resend_s);
        let youngest = p.escalate_s.min(p.emergency_escalate_s);
        let rows = db.query(
            &format!(
                "SELECT {DUE_COLS} FROM mailbox m JOIN messages g ON g.id = m.message_id \
                 WHERE m.direction = 'in' AND m.acked_at IS NULL \
                 AND ((m.last_sent <= ?1 AND m.sends < ?3) OR (m.escalated_at IS NULL AND g.time <= ?2)) \
                 ORDER BY m.last_sent LIMIT 1000"
            ),
            &vals![now - soonest, now - youngest, seq_to_sql(p.max_sends)],
        )?;
        let mut found = Vec::new();
        for r in &rows {
            if let Some(d) = due_from_row(r, &p, now)? {
                found.push(d);
            }
        }
        Ok(found)
    })?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let p = policy.clone();
    engine.write_alone(move |db, ctx| {
        let mut entries = Vec::new();
        for (party, id, sends, last_sent, escalated) in &found {
            // Again inside the transaction, and only if no other node took it meanwhile.
            let Some(r) = db.query_opt(
                &format!(
                    "SELECT {DUE_COLS} FROM mailbox m JOIN messages g ON g.id = m.message_id \
                     WHERE m.party_id = ?1 AND m.message_id = ?2 AND m.acked_at IS NULL"
                ),
                &vals![*party, id],
            )?
            else {
                continue;
            };
            let Some((_, _, s, l, e)) = due_from_row(&r, &p, now)? else {
                continue;
            };
            if (s, e) != (*sends, *escalated) || l != *last_sent {
                continue;
            }
            let (_, escalate) = due(&p, stored(&r, "kind")?, r.f64("time")?, l, s, e, now);
            let n = db.exec(
                "UPDATE mailbox SET sends = sends + 1, last_sent = ?3, \
                 escalated_at = CASE WHEN ?4 = 1 THEN ?3 ELSE escalated_at END \
                 WHERE party_id = ?1 AND message_id = ?2 AND acked_at IS NULL AND sends = ?5",
                &vals![*party, id, now, i64::from(escalate), seq_to_sql(s)],
            )?;
            if n == 0 {
                continue;
            }
            let item = load_item(db, *party, id)?
                .ok_or_else(|| StoreError::Storage("a copy being re-sent is missing".into()))?;
            entries.push((*party, item.stream_body(s + 1, escalate || e), Some(id.clone())));
            if escalate {
                append_entry(
                    db,
                    ctx,
                    now,
                    Some(*party),
                    "message.escalate",
                    &to_json_text(&json!({"id": id}))?,
                )?;
                let (sender, label) = sender_and_label(db, *party, id)?;
                if let Some(label) = label {
                    let body = to_json_text(&json!({"id": id, "to": label}))?;
                    append_entry(db, ctx, now, Some(sender), "message.escalated", &body)?;
                    entries.push((sender, status_body("message.escalated", id, &label, now), None));
                }
            }
        }
        put_on_streams(db, ctx, now, entries)
    })
}

/// [`StoreBackend::note_conflict_sides`](crate::StoreBackend::note_conflict_sides).
pub(super) fn note_conflict_sides<E: Engine>(
    engine: &E,
    sides: &[(String, PartyId, bool)],
) -> Result<(), StoreError> {
    if sides.is_empty() {
        return Ok(());
    }
    let sides = sides.to_vec();
    engine.write_relaxed(move |db, _| {
        for (conflict, party, named) in &sides {
            ensure_party(db, *party)?;
            note_side(db, conflict, *party, *named)?;
        }
        Ok(())
    })
}

/// [`StoreBackend::conflict_others`](crate::StoreBackend::conflict_others).
pub(super) fn conflict_others<E: Engine>(
    engine: &E,
    party: PartyId,
    conflict: &str,
) -> Result<Option<Vec<(PartyId, bool)>>, StoreError> {
    let conflict = conflict.to_string();
    engine.read(move |db| {
        let rows = db.query(
            "SELECT party_id, named FROM conflict_sides WHERE conflict = ?1 ORDER BY party_id",
            &vals![conflict],
        )?;
        let sides = rows
            .iter()
            .map(|r| Ok((r.party("party_id")?, r.i64("named")? != 0)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if !sides.iter().any(|(p, _)| *p == party) {
            return Ok(None);
        }
        Ok(Some(sides.into_iter().filter(|(p, _)| *p != party).collect()))
    })
}

/// [`StoreBackend::hotline_backlog`](crate::StoreBackend::hotline_backlog).
pub(super) fn hotline_backlog<E: Engine>(engine: &E) -> Result<(u64, Option<f64>), StoreError> {
    engine.read(|db| {
        let r = db.query_one(
            "SELECT COUNT(*) AS n, MIN(g.time) AS oldest FROM mailbox m JOIN messages g ON g.id = m.message_id \
             WHERE m.direction = 'in' AND m.acked_at IS NULL",
            &[],
        )?;
        Ok((seq_from_sql(r.i64("n")?)?, r.opt_f64("oldest")?))
    })
}
