//! The hotline's plain data: a message as the service hands it to the store ([`NewMessage`],
//! one [`Recipient`] per copy), a mailbox item as a party reads it back ([`MailItem`]), the
//! re-send and escalation policy ([`HotlinePolicy`]), and the JSON views both the stream and
//! `GET /v1/messages` show ([`MailItem::to_json`], [`MailItem::stream_body`]).
//!
//! Need-to-know lives in the data: a recipient's copy carries the sender *as this recipient may
//! see it* (`from`: a party's name, or only the conflict it was addressed through) and never
//! the other addressees; the sender's copy shows each recipient only by its `label` (the
//! address the sender used), and a coalition member's relayed copy not at all.

use crate::audit::Receipt;
use crate::types::PartyId;
use deconflict_core::track::format_rfc3339;
use serde_json::{json, Value};

/// The kinds of message (the text of each [`MessageKind`]).
pub const MESSAGE_KINDS: [&str; 5] = ["notice", "request", "reply", "emergency", "text"];

/// What a hotline message is: a notice of planned operation, a request, a reply, an emergency
/// (re-sent and escalated sooner: [`HotlinePolicy::periods`]) or free text. Stored as its
/// [`as_str`](Self::as_str) text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Notice,
    Request,
    Reply,
    Emergency,
    Text,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Notice => "notice",
            MessageKind::Request => "request",
            MessageKind::Reply => "reply",
            MessageKind::Emergency => "emergency",
            MessageKind::Text => "text",
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MessageKind {
    type Err = crate::StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "notice" => MessageKind::Notice,
            "request" => MessageKind::Request,
            "reply" => MessageKind::Reply,
            "emergency" => MessageKind::Emergency,
            "text" => MessageKind::Text,
            other => {
                return Err(crate::StoreError::Invalid(format!(
                    "kind: must be one of {}, got {other:?}",
                    MESSAGE_KINDS.join(", ")
                )))
            }
        })
    }
}

/// The most recipients of one message (a coalition and its members included).
pub const MAX_RECIPIENTS: usize = 256;

/// A message to store: the sender's copy and one copy per recipient, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// `m-` and 32 lowercase hex digits, drawn at random by the caller.
    pub id: String,
    pub sender: PartyId,
    pub kind: MessageKind,
    /// The addressee as the sender wrote it (`{"parties":[…]}`, `{"coalition":…}`,
    /// `{"conflict":…}`): shown to the sender only.
    pub to: Value,
    /// What every copy shows: `text`, and `extents` and `reply_to` when given.
    pub content: Value,
    pub recipients: Vec<Recipient>,
}

/// One recipient's copy of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub party: PartyId,
    /// The sender as this recipient may see it: `{"party": name}` or `{"conflict": id}`.
    pub from: Value,
    /// This recipient as the sender sees it (the address used: `{"party": …}`,
    /// `{"coalition": …}`, `{"conflict": …}`), or `None` for a copy the sender is not shown
    /// (a coalition member's, passed on by its lead).
    pub label: Option<Value>,
    /// The coalition lead that passed the message on to this member.
    pub via: Option<String>,
}

/// An entry the store appended to a party's stream (its alert sequence), for live delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry {
    pub party: PartyId,
    pub seq: u64,
    pub time: f64,
    pub body: Value,
}

/// What sending stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The message in the sender's mailbox.
    pub item: MailItem,
    /// The sender's signed receipt for its `message.send` entry.
    pub receipt: Receipt,
    /// The recipients' stream entries.
    pub stream: Vec<StreamEntry>,
}

/// What an acknowledgement stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Acked {
    /// When the message was first acknowledged.
    pub acked_at: f64,
    /// False when it had been acknowledged before (nothing told again).
    pub first: bool,
    /// The acknowledging party's receipt for its `message.ack` entry.
    pub receipt: Receipt,
    /// The sender's stream entry (`message.ack`), on the first acknowledgement of a copy the
    /// sender is shown.
    pub stream: Vec<StreamEntry>,
}

/// When unacknowledged messages are re-sent and escalated (`[hotline]` in the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct HotlinePolicy {
    /// Seconds between re-sends of an unacknowledged message.
    pub resend_s: f64,
    /// Seconds after sending when an unacknowledged message is escalated.
    pub escalate_s: f64,
    /// The same for `emergency` messages (sooner).
    pub emergency_resend_s: f64,
    pub emergency_escalate_s: f64,
    /// At most this many sends of one copy (the first included).
    pub max_sends: u64,
}

impl HotlinePolicy {
    /// (re-send period, escalation age) for a kind.
    pub fn periods(&self, kind: MessageKind) -> (f64, f64) {
        if kind == MessageKind::Emergency {
            (self.emergency_resend_s, self.emergency_escalate_s)
        } else {
            (self.resend_s, self.escalate_s)
        }
    }
}

/// In or out of a party's mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Delivery of one copy, as its sender is shown it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientStatus {
    pub label: Value,
    pub delivered_at: Option<f64>,
    pub acked_at: Option<f64>,
    pub escalated_at: Option<f64>,
}

/// One item of a party's mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct MailItem {
    /// The party's mailbox sequence number (1, 2, 3, … per party).
    pub seq: u64,
    pub id: String,
    pub direction: Direction,
    pub kind: MessageKind,
    /// When it was sent.
    pub time: f64,
    /// `text`, and `extents` and `reply_to` when given.
    pub content: Value,
    /// For an inbound copy the sender as shown (`from`); for an outbound one the address
    /// (`to`).
    pub peer: Value,
    pub via: Option<String>,
    /// Inbound: this copy's delivery, acknowledgement and escalation.
    pub delivered_at: Option<f64>,
    pub acked_at: Option<f64>,
    pub escalated_at: Option<f64>,
    /// Inbound: how many times it was put on the stream.
    pub sends: u64,
    /// Inbound: the party's stream entry that last carried it.
    pub stream_seq: Option<u64>,
    /// Outbound: every copy the sender is shown.
    pub recipients: Vec<RecipientStatus>,
}

fn time_json(t: Option<f64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_rfc3339(t)))
}

impl MailItem {
    /// The item as `GET /v1/messages` shows it.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "seq": self.seq,
            "id": self.id,
            "direction": self.direction.as_str(),
            "kind": self.kind,
            "sent_at": format_rfc3339(self.time),
        });
        match self.direction {
            Direction::In => {
                v["from"] = self.peer.clone();
                if let Some(via) = &self.via {
                    v["via"] = json!(via);
                }
                v["delivered_at"] = time_json(self.delivered_at);
                v["acked_at"] = time_json(self.acked_at);
                v["escalated_at"] = time_json(self.escalated_at);
                v["sends"] = json!(self.sends);
            }
            Direction::Out => {
                v["to"] = self.peer.clone();
                v["recipients"] = self
                    .recipients
                    .iter()
                    .map(|r| {
                        json!({"to": r.label, "delivered_at": time_json(r.delivered_at),
                               "acked_at": time_json(r.acked_at), "escalated_at": time_json(r.escalated_at)})
                    })
                    .collect();
            }
        }
        if let Value::Object(m) = &self.content {
            for (k, x) in m {
                v[k] = x.clone();
            }
        }
        v
    }

    /// An inbound copy as its recipient's stream carries it (`event: message`):
    /// `{"type":"message", …the item…}`, marked `resend` (the send's number) and `escalated`.
    pub fn stream_body(&self, send: u64, escalated: bool) -> Value {
        let mut v = self.to_json();
        if let Value::Object(m) = &mut v {
            // The stream has its own sequence; the mailbox's and the live status are in
            // GET /v1/messages.
            for k in ["seq", "delivered_at", "acked_at", "escalated_at", "sends"] {
                m.remove(k);
            }
        }
        v["type"] = json!("message");
        if send > 1 {
            v["resend"] = json!(send - 1);
        }
        if escalated {
            v["escalated"] = json!(true);
        }
        v
    }
}

/// The sender's stream entry when a copy it is shown is acknowledged or escalated.
pub(crate) fn status_body(kind: &str, id: &str, label: &Value, at: f64) -> Value {
    let field = if kind == "message.ack" {
        "acked_at"
    } else {
        "escalated_at"
    };
    json!({"type": kind, "id": id, "to": label, field: format_rfc3339(at)})
}

/// True for a message id as the service draws them: `m-` and 32 lowercase hex digits.
pub fn valid_message_id(id: &str) -> bool {
    id.strip_prefix("m-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}
