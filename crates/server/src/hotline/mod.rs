//! The hotline between parties: the 24-hour line of the 2015 arrangement. This module owns
//! what a message becomes before the store takes it:
//! * [`request`]: the body of `POST /v1/messages`, validated field by field;
//! * [`resolve`]: whom it reaches (named parties; a coalition, through its lead, to every
//!   member; "the other side of conflict C"), and how each recipient is shown the sender
//!   (by name, or only as the other side of C when the conflict told it no name);
//! * [`HotlineConfig`]: when unacknowledged messages are re-sent and escalated (`[hotline]`);
//!   the sweep itself is `runtime::hotline_loop`, the storage `deconflict_store`'s.

pub mod request;

pub use request::{parse_message, Addressee, MessageRequest};

use crate::http::ApiError;
use axum::http::StatusCode;
use deconflict_store::{HotlinePolicy, NewMessage, Party, Recipient, Role, Store};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

/// `[hotline]`: re-sending and escalating unacknowledged messages.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HotlineConfig {
    /// Seconds between re-sends of an unacknowledged message on the recipient's stream.
    pub resend_s: f64,
    /// Seconds after sending when an unacknowledged message is escalated (both sides told).
    pub escalate_s: f64,
    /// The same for `emergency` messages.
    pub emergency_resend_s: f64,
    pub emergency_escalate_s: f64,
    /// At most this many sends of one message to one recipient (the first included).
    pub max_sends: u64,
    /// How often the service looks for messages due, seconds.
    pub sweep_s: f64,
}

impl Default for HotlineConfig {
    fn default() -> Self {
        HotlineConfig {
            resend_s: 60.0,
            escalate_s: 300.0,
            emergency_resend_s: 10.0,
            emergency_escalate_s: 60.0,
            max_sends: 10,
            sweep_s: 1.0,
        }
    }
}

impl HotlineConfig {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && (0.1..=86_400.0).contains(&x);
        for (name, x) in [
            ("resend_s", self.resend_s),
            ("escalate_s", self.escalate_s),
            ("emergency_resend_s", self.emergency_resend_s),
            ("emergency_escalate_s", self.emergency_escalate_s),
            ("sweep_s", self.sweep_s),
        ] {
            if !ok(x) {
                return Err(format!("hotline.{name} must be between 0.1 and 86400 seconds"));
            }
        }
        if !(1..=1000).contains(&self.max_sends) {
            return Err("hotline.max_sends must be 1 to 1000".into());
        }
        if self.emergency_escalate_s > self.escalate_s {
            return Err(
                "hotline.emergency_escalate_s must not exceed escalate_s: emergencies escalate sooner".into(),
            );
        }
        Ok(())
    }

    /// The store's form.
    pub fn policy(&self) -> HotlinePolicy {
        HotlinePolicy {
            resend_s: self.resend_s,
            escalate_s: self.escalate_s,
            emergency_resend_s: self.emergency_resend_s,
            emergency_escalate_s: self.emergency_escalate_s,
            max_sends: self.max_sends,
        }
    }
}

fn unprocessable(field: &str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m, Some(field))
}

/// A fresh message id: `m-` and 128 random bits in hex (tells nothing of how many exist).
pub fn new_message_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let mut id = String::with_capacity(34);
    id.push_str("m-");
    for x in b {
        id.push_str(&format!("{x:02x}"));
    }
    id
}

/// The way back of a reply without `to`: whence the original came (or where it went).
fn way_back(original: &deconflict_store::MailItem) -> Result<Addressee, ApiError> {
    let p = &original.peer;
    let back = if let Some(name) = p.get("party").and_then(Value::as_str) {
        Some(Addressee::Parties(vec![name.to_string()]))
    } else if let Some(c) = p.get("conflict").and_then(Value::as_str) {
        Some(Addressee::Conflict(c.to_string()))
    } else {
        request::parse_addressee(p).ok()
    };
    back.ok_or_else(|| unprocessable("to", "missing, and the original gives no way back"))
}

/// Resolves a validated request of `sender` into the message the store takes (blocking: it
/// reads parties and conflicts). Refusals name the field: a party that does not exist, the
/// sender itself, a coalition without members, a conflict the sender is not a side of (the
/// same answer as an id nobody has), a `reply_to` not in the sender's mailbox.
pub fn resolve(store: &Store, sender: &Party, req: MessageRequest) -> Result<NewMessage, ApiError> {
    let original = match &req.reply_to {
        Some(id) => Some(
            store
                .message(sender.id, id)?
                .ok_or_else(|| unprocessable("reply_to", "no message of yours has this id"))?,
        ),
        None => None,
    };
    let to = match (req.to, &original) {
        (Some(to), _) => to,
        (None, Some(o)) => way_back(o)?,
        (None, None) => return Err(unprocessable("to", "missing: whom the message is for")),
    };
    let named = json!({ "party": sender.name });
    let mut recipients = Vec::new();
    match &to {
        Addressee::Parties(names) => {
            for (i, name) in names.iter().enumerate() {
                let f = format!("to.parties[{i}]");
                if *name == sender.name {
                    return Err(unprocessable(&f, "names yourself"));
                }
                let p = store
                    .party_by_name(name)?
                    .ok_or_else(|| unprocessable(&f, "no such party"))?;
                recipients.push(Recipient {
                    party: p.id,
                    from: named.clone(),
                    label: Some(json!({ "party": name })),
                    via: None,
                });
            }
        }
        Addressee::Coalition(lead_name) => {
            let f = "to.coalition";
            let lead = store
                .party_by_name(lead_name)?
                .filter(|p| p.role != Role::Admin)
                .ok_or_else(|| unprocessable(f, "no such coalition"))?;
            let members: Vec<Party> = store
                .list_parties()?
                .into_iter()
                .filter(|p| p.member_of.as_deref() == Some(lead_name.as_str()))
                .collect();
            if members.is_empty() {
                return Err(unprocessable(f, "not a coalition: no party is a member of it"));
            }
            let from_lead = lead.id == sender.id;
            if !from_lead {
                recipients.push(Recipient {
                    party: lead.id,
                    from: named.clone(),
                    label: Some(json!({ "coalition": lead_name })),
                    via: None,
                });
            }
            for m in members.into_iter().filter(|m| m.id != sender.id) {
                // The lead passes it on: the sender sees the coalition's copy, not each
                // member's, unless the sender is the lead and knows its members.
                recipients.push(Recipient {
                    party: m.id,
                    from: named.clone(),
                    label: from_lead.then(|| json!({ "party": m.name })),
                    via: (!from_lead).then(|| lead_name.clone()),
                });
            }
        }
        Addressee::Conflict(c) => {
            let f = "to.conflict";
            let others = store
                .conflict_others(sender.id, c)?
                .ok_or_else(|| unprocessable(f, "no conflict of yours has this id"))?;
            if others.is_empty() {
                return Err(unprocessable(
                    f,
                    "the conflict has no other side (it is between your own aircraft)",
                ));
            }
            for (party, told_name) in others {
                recipients.push(Recipient {
                    party,
                    // Shown by name only to a side the conflict already told the name.
                    from: if told_name {
                        named.clone()
                    } else {
                        json!({ "conflict": c })
                    },
                    label: Some(json!({ "conflict": c })),
                    via: None,
                });
            }
        }
    }
    if recipients.is_empty() {
        return Err(unprocessable("to", "reaches nobody but yourself"));
    }
    let mut content = json!({ "text": req.text });
    if let Some(e) = req.extents {
        content["extents"] = e;
    }
    if let Some(r) = req.reply_to {
        content["reply_to"] = json!(r);
    }
    Ok(NewMessage {
        id: new_message_id(),
        sender: sender.id,
        kind: req.kind,
        to: to.to_json(),
        content,
        recipients,
    })
}
