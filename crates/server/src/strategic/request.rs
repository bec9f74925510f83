//! A filing request (`PUT /v1/intents/{id}`, `/v1/constraints/{id}`) validated field by field,
//! before anything is decided or stored.

use deconflict_core::strategic::{parse_volumes, Volume4D, VolumeLimits};
use deconflict_store::{FilingKind, FilingState};
use serde_json::Value;

/// A filing's body as accepted, kept as its compact JSON text (what the store keeps and the
/// audit digest covers) and shared, not copied, by the request, the picture and the
/// decision. A 5,000-vertex filing is about 0.3 MB as text but over 3 MB as a
/// `serde_json::Value` (an ordered map per vertex): the picture holds every live filing.
#[derive(Debug, Clone, PartialEq)]
pub struct FilingBody {
    text: std::sync::Arc<str>,
    /// A constraint's `type`, read once (alerts and the bindings list show it).
    constraint_type: Option<String>,
}

impl FilingBody {
    /// The body `v` (a JSON object).
    pub fn of(v: &Value) -> FilingBody {
        FilingBody {
            text: v.to_string().into(),
            constraint_type: v.get("type").and_then(Value::as_str).map(str::to_string),
        }
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The body as a `Value` (made afresh: for the owner's reads, which are rare).
    pub fn value(&self) -> Value {
        // The text was written from a `Value`, so it reads back.
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A constraint's `type`, when it has one.
    pub fn constraint_type(&self) -> Option<&str> {
        self.constraint_type.as_deref()
    }
}

/// Which parties a constraint closes its volume to.
#[derive(Debug, Clone, PartialEq)]
pub enum Binds {
    AllOthers,
    Parties(Vec<String>),
}

/// A filing request, validated.
#[derive(Debug, Clone)]
pub struct FilingRequest {
    pub kind: FilingKind,
    pub id: String,
    pub volumes: Vec<Volume4D>,
    pub state: FilingState,
    pub priority: i64,
    pub version: Option<u64>,
    pub reject_on_conflict: bool,
    pub disclose_name: bool,
    pub binds: Option<Binds>,
    /// The body as sent, shared (not copied) by the filing made of it.
    pub body: FilingBody,
}

/// Longest filing id, bytes.
pub const MAX_FILING_ID_LEN: usize = 128;
/// Longest `purpose` or `type`, bytes.
pub const MAX_FILING_TEXT_LEN: usize = 256;

/// A field-level error.
pub type FieldErr = (String, String);

fn field(f: &str, m: impl Into<String>) -> FieldErr {
    (f.to_string(), m.into())
}

/// Validates a filing body (`PUT /v1/intents/{id}` or `/v1/constraints/{id}`).
pub fn parse_request(
    kind: FilingKind,
    id: &str,
    v: &Value,
    limits: &VolumeLimits,
) -> Result<FilingRequest, FieldErr> {
    deconflict_core::text::check_id(id, MAX_FILING_ID_LEN).map_err(|m| field("id", m))?;
    let obj = v
        .as_object()
        .ok_or_else(|| field("body", "expected a JSON object"))?;
    let allowed: &[&str] = match kind {
        FilingKind::Intent => &[
            "extents",
            "state",
            "priority",
            "version",
            "reject_on_conflict",
            "disclosure",
            "purpose",
        ],
        FilingKind::Constraint => &[
            "extents",
            "state",
            "priority",
            "version",
            "disclosure",
            "binds",
            "type",
            "purpose",
        ],
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(field(
            k,
            format!("unknown field (allowed: {})", allowed.join(", ")),
        ));
    }
    let extents = obj
        .get("extents")
        .ok_or_else(|| field("extents", "missing: a list of Volume4D"))?;
    let volumes = parse_volumes(extents, "extents", limits).map_err(|e| (e.field, e.message))?;
    let state = match obj.get("state") {
        None => FilingState::Accepted,
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| field("state", "must be accepted, activated or ended"))?,
        Some(_) => return Err(field("state", "must be accepted, activated or ended")),
    };
    let priority = match obj.get("priority") {
        None => 0,
        Some(p) => p
            .as_i64()
            .filter(|p| (-1000..=1000).contains(p))
            .ok_or_else(|| field("priority", "must be an integer in [-1000, 1000]"))?,
    };
    let version = match obj.get("version") {
        None | Some(Value::Null) => None,
        Some(p) => Some(
            p.as_u64()
                .filter(|v| *v >= 1)
                .ok_or_else(|| field("version", "must be a positive integer"))?,
        ),
    };
    let reject_on_conflict = match obj.get("reject_on_conflict") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(field("reject_on_conflict", "must be true or false")),
    };
    let disclose_name = match obj.get("disclosure") {
        None => true,
        Some(Value::String(s)) if s == "name" => true,
        Some(Value::String(s)) if s == "anonymous" => false,
        Some(_) => return Err(field("disclosure", "must be name or anonymous")),
    };
    for f in ["purpose", "type"] {
        if let Some(x) = obj.get(f) {
            let text = x.as_str().ok_or_else(|| {
                field(
                    f,
                    format!("must be a string of at most {MAX_FILING_TEXT_LEN} bytes"),
                )
            })?;
            deconflict_core::text::check_text(text, MAX_FILING_TEXT_LEN, false).map_err(|m| field(f, m))?;
        }
    }
    let binds = match kind {
        FilingKind::Intent => None,
        FilingKind::Constraint => Some(match obj.get("binds") {
            None => Binds::AllOthers,
            Some(Value::String(s)) if s == "all_others" => Binds::AllOthers,
            Some(Value::Array(a)) if !a.is_empty() && a.len() <= 100 => {
                let mut names = Vec::new();
                for (i, x) in a.iter().enumerate() {
                    let f = format!("binds[{i}]");
                    let name = x
                        .as_str()
                        .filter(|s| deconflict_store::valid_chain_name(s))
                        .ok_or_else(|| field(&f, "must be a party name"))?;
                    if names.iter().any(|n| n == name) {
                        return Err(field(&f, format!("repeated: {name} is named twice")));
                    }
                    names.push(name.to_string());
                }
                Binds::Parties(names)
            }
            Some(_) => {
                return Err(field(
                    "binds",
                    "must be \"all_others\" or a non-empty list of party names",
                ))
            }
        }),
    };
    Ok(FilingRequest {
        kind,
        id: id.to_string(),
        volumes,
        state,
        priority,
        version,
        reject_on_conflict,
        disclose_name,
        binds,
        body: FilingBody::of(v),
    })
}
