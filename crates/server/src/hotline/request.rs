//! A hotline message as sent (`POST /v1/messages`), validated field by field before anything
//! is resolved or stored.

use crate::strategic::FieldErr;
use deconflict_core::strategic::{parse_volumes, Volume4D, VolumeLimits};
use deconflict_store::{valid_chain_name, valid_message_id, MessageKind, MESSAGE_KINDS};
use serde_json::{json, Value};

/// Longest message text, bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Most parties named in one `to`.
pub const MAX_NAMED: usize = 32;
/// Longest conflict id, bytes.
pub const MAX_CONFLICT_ID_LEN: usize = 128;

/// Whom a message is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Addressee {
    /// Named parties.
    Parties(Vec<String>),
    /// A coalition, through its lead, which passes it on to every member.
    Coalition(String),
    /// The other side of a conflict the sender is a side of, by its id.
    Conflict(String),
}

impl Addressee {
    /// The address as written (`to`).
    pub fn to_json(&self) -> Value {
        match self {
            Addressee::Parties(p) => json!({ "parties": p }),
            Addressee::Coalition(c) => json!({ "coalition": c }),
            Addressee::Conflict(c) => json!({ "conflict": c }),
        }
    }
}

/// A message request, validated.
#[derive(Debug, Clone)]
pub struct MessageRequest {
    /// `None` only with `reply_to`: the reply goes back the way the message came.
    pub to: Option<Addressee>,
    pub kind: MessageKind,
    pub text: String,
    /// The extents as sent (checked: `volumes`).
    pub extents: Option<Value>,
    pub volumes: Vec<Volume4D>,
    pub reply_to: Option<String>,
}

fn field(f: &str, m: impl Into<String>) -> FieldErr {
    (f.to_string(), m.into())
}

/// Reads `to`.
pub fn parse_addressee(v: &Value) -> Result<Addressee, FieldErr> {
    let shape = "must be {\"parties\": [names]}, {\"coalition\": name} or {\"conflict\": id}";
    let obj = v.as_object().ok_or_else(|| field("to", shape))?;
    if obj.len() != 1 {
        return Err(field("to", shape));
    }
    let (key, value) = obj.iter().next().ok_or_else(|| field("to", shape))?;
    match key.as_str() {
        "parties" => {
            let list = value
                .as_array()
                .filter(|a| !a.is_empty() && a.len() <= MAX_NAMED)
                .ok_or_else(|| {
                    field(
                        "to.parties",
                        format!("must be a list of 1 to {MAX_NAMED} party names"),
                    )
                })?;
            let mut names: Vec<String> = Vec::with_capacity(list.len());
            for (i, x) in list.iter().enumerate() {
                let f = format!("to.parties[{i}]");
                let name = x
                    .as_str()
                    .filter(|s| valid_chain_name(s))
                    .ok_or_else(|| field(&f, "must be a party name"))?;
                if names.iter().any(|n| n == name) {
                    return Err(field(&f, format!("repeated: {name} is named twice")));
                }
                names.push(name.to_string());
            }
            Ok(Addressee::Parties(names))
        }
        "coalition" => value
            .as_str()
            .filter(|s| valid_chain_name(s))
            .map(|s| Addressee::Coalition(s.to_string()))
            .ok_or_else(|| field("to.coalition", "must be the name of a coalition's lead party")),
        "conflict" => {
            let id = value
                .as_str()
                .ok_or_else(|| field("to.conflict", "must be a conflict id"))?;
            deconflict_core::text::check_id(id, MAX_CONFLICT_ID_LEN).map_err(|m| field("to.conflict", m))?;
            Ok(Addressee::Conflict(id.to_string()))
        }
        other => Err(field(&format!("to.{other}"), shape)),
    }
}

/// Validates a message body (the times of `extents` are checked by the caller, against now).
pub fn parse_message(v: &Value, limits: &VolumeLimits) -> Result<MessageRequest, FieldErr> {
    let obj = v
        .as_object()
        .ok_or_else(|| field("body", "expected a JSON object"))?;
    const ALLOWED: [&str; 5] = ["to", "kind", "text", "extents", "reply_to"];
    if let Some(k) = obj.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(field(
            k,
            format!("unknown field (allowed: {})", ALLOWED.join(", ")),
        ));
    }
    let kind: MessageKind = obj
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| field("kind", format!("must be one of {}", MESSAGE_KINDS.join(", "))))?;
    let text = obj
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| field("text", format!("must be a string of 1 to {MAX_TEXT_LEN} bytes")))?;
    if text.trim().is_empty() {
        return Err(field("text", "must not be empty"));
    }
    deconflict_core::text::check_text(text, MAX_TEXT_LEN, true).map_err(|m| field("text", m))?;
    let reply_to = match obj.get("reply_to") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if valid_message_id(id) => Some(id.clone()),
        Some(_) => return Err(field("reply_to", "must be a message id (m- and 32 hex digits)")),
    };
    let to = match obj.get("to") {
        None | Some(Value::Null) if reply_to.is_some() => None,
        None | Some(Value::Null) => return Err(field("to", "missing: whom the message is for")),
        Some(t) => Some(parse_addressee(t)?),
    };
    let (extents, volumes) = match obj.get("extents") {
        None | Some(Value::Null) => (None, Vec::new()),
        Some(e) => {
            let volumes = parse_volumes(e, "extents", limits).map_err(|e| (e.field, e.message))?;
            (Some(e.clone()), volumes)
        }
    };
    Ok(MessageRequest {
        to,
        kind,
        text: text.to_string(),
        extents,
        volumes,
        reply_to,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn err(v: Value) -> String {
        parse_message(&v, &VolumeLimits::default()).unwrap_err().0
    }

    #[test]
    fn each_bad_field_is_named() {
        let to = json!({"parties": ["bravo"]});
        assert_eq!(err(json!({"to": to, "kind": "gossip", "text": "x"})), "kind");
        assert_eq!(err(json!({"to": to, "kind": "text"})), "text");
        assert_eq!(err(json!({"to": to, "kind": "text", "text": "  "})), "text");
        assert_eq!(
            err(json!({"to": to, "kind": "text", "text": "a\u{202e}b"})),
            "text"
        );
        assert_eq!(
            err(json!({"to": to, "kind": "text", "text": "x".repeat(4097)})),
            "text"
        );
        assert_eq!(err(json!({"kind": "text", "text": "x"})), "to");
        assert_eq!(err(json!({"to": {}, "kind": "text", "text": "x"})), "to");
        assert_eq!(
            err(json!({"to": {"parties": []}, "kind": "text", "text": "x"})),
            "to.parties"
        );
        assert_eq!(
            err(json!({"to": {"parties": ["a", "a"]}, "kind": "text", "text": "x"})),
            "to.parties[1]"
        );
        assert_eq!(
            err(json!({"to": {"parties": ["a b"]}, "kind": "text", "text": "x"})),
            "to.parties[0]"
        );
        assert_eq!(
            err(json!({"to": {"coalition": 3}, "kind": "text", "text": "x"})),
            "to.coalition"
        );
        assert_eq!(
            err(json!({"to": {"conflict": "c\u{200b}"}, "kind": "text", "text": "x"})),
            "to.conflict"
        );
        assert_eq!(
            err(json!({"to": {"nobody": 1}, "kind": "text", "text": "x"})),
            "to.nobody"
        );
        assert_eq!(
            err(json!({"to": to, "kind": "text", "text": "x", "reply_to": "m-1"})),
            "reply_to"
        );
        assert_eq!(
            err(json!({"to": to, "kind": "text", "text": "x", "extents": []})),
            "extents"
        );
        assert_eq!(err(json!({"to": to, "kind": "text", "text": "x", "cc": 1})), "cc");
        assert_eq!(err(json!([1])), "body");
    }

    #[test]
    fn a_good_message_reads_whole() {
        let r = parse_message(
            &json!({"to": {"conflict": "c-12ab"}, "kind": "request", "text": "climb?\nplease"}),
            &VolumeLimits::default(),
        )
        .unwrap();
        assert_eq!(r.to, Some(Addressee::Conflict("c-12ab".into())));
        assert_eq!(r.text, "climb?\nplease");
        // A reply may leave `to` out.
        let id = format!("m-{}", "0".repeat(32));
        let r = parse_message(
            &json!({"kind": "reply", "text": "ok", "reply_to": id}),
            &VolumeLimits::default(),
        )
        .unwrap();
        assert_eq!((r.to, r.reply_to), (None, Some(id)));
    }
}
