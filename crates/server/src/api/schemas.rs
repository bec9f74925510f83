//! The schemas of the bodies that the handlers read and write as JSON values (track reports,
//! ASTM F3548 `Volume4D`, filings, alerts), for the OpenAPI document. Each is a marker type
//! whose [`utoipa::PartialSchema`] is written out as JSON Schema here, next to the ranges the
//! parsers enforce (`deconflict_core::TrackReport::from_json`,
//! `deconflict_core::strategic::parse_volumes`, `crate::strategic::parse_request`), so that
//! a body the schema allows is a body those parsers read, as far as JSON Schema can say it.
//! What it cannot say (lower below upper, end after start, a simple outline, an area or a
//! duration under the limits, a time not in the future) is a 422.

use deconflict_core::track::{
    MAX_ALTITUDE_M, MAX_ASSET_ID_LEN, MAX_GROUND_SPEED_MPS, MAX_UNIX_TIME_S, MAX_VERTICAL_SPEED_MPS,
    MIN_ALTITUDE_M,
};
use serde_json::{json, Value};
use std::borrow::Cow;
use utoipa::openapi::{RefOr, Schema};

/// No control characters (what `char::is_control` refuses).
pub const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn to_schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a schema utoipa reads")
}

macro_rules! schemas {
    ($($(#[$m:meta])* $name:ident => $json:expr;)*) => {
        $(
            $(#[$m])*
            pub struct $name;
            impl $name {
                /// The schema as JSON.
                pub fn json() -> Value {
                    $json
                }
            }
            // `PartialSchema` comes with this (a blanket impl of utoipa's), as for derived schemas.
            impl utoipa::__dev::ComposeSchema for $name {
                fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
                    to_schema($name::json())
                }
            }
            impl utoipa::ToSchema for $name {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($name))
                }
            }
        )*
        /// Every schema of this module, by name and as JSON (for the round-trip test).
        #[cfg(test)]
        pub(crate) fn all() -> Vec<(&'static str, Value)> {
            vec![$((stringify!($name), $name::json())),*]
        }
    };
}

fn lat_lng() -> Value {
    json!({"type": "object", "required": ["lat", "lng"], "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180}}})
}

fn altitude() -> Value {
    json!({"type": "object", "required": ["value", "reference", "units"], "properties": {
        "value": {"type": "number"},
        "reference": {"type": "string", "enum": ["W84"]},
        "units": {"type": "string", "enum": ["M", "FT"]}}})
}

fn time() -> Value {
    json!({"type": "object", "required": ["value"], "properties": {
        "value": {"type": "string", "format": "date-time"},
        "format": {"type": "string", "enum": ["RFC3339"]}}})
}

fn polygon() -> Value {
    json!({"type": "object", "required": ["vertices"], "properties": {
        "vertices": {"type": "array", "minItems": 3, "maxItems": 1001, "items": lat_lng(),
                     "description": "at least 3 distinct vertices, a simple outline (edges are great-circle arcs)"}}})
}

fn circle() -> Value {
    json!({"type": "object", "required": ["center", "radius"], "properties": {
        "center": lat_lng(),
        "radius": {"type": "object", "required": ["value", "units"], "properties": {
            // No `maximum`: the limit is on the cap's area (max_area_km2) and the radius
            // (max_radius_m), both configurable, so a 422 names it instead.
            "value": {"type": "number", "exclusiveMinimum": 0,
                      "description": "metres; within max_radius_m and max_area_km2 of area"},
            "units": {"type": "string", "enum": ["M"]}}}}})
}

/// The `volume` of a Volume4D: exactly one of `outline_polygon` and `outline_circle` (the
/// other absent or null), and both altitudes.
fn volume(footprint: &str, other: &str) -> Value {
    let shape = if footprint == "outline_polygon" {
        polygon()
    } else {
        circle()
    };
    json!({"type": "object", "required": [footprint, "altitude_lower", "altitude_upper"], "properties": {
        footprint: shape,
        other: {"type": "null"},
        "altitude_lower": altitude(),
        "altitude_upper": altitude()}})
}

fn filing_properties() -> Value {
    json!({
        "extents": {"type": "array", "minItems": 1, "maxItems": 100, "items": reference("Volume4D")},
        "state": {"type": "string", "enum": ["accepted", "activated", "ended"]},
        "priority": {"type": "integer", "minimum": -1000, "maximum": 1000},
        "version": {"type": ["integer", "null"], "minimum": 1, "maximum": i64::MAX,
                    "description": "the version this filing replaces; absent for a new id"},
        "disclosure": {"type": "string", "enum": ["name", "anonymous"]},
        "purpose": {"type": "string", "maxLength": 256, "description": "at most 256 bytes; kept private"}
    })
}

schemas! {
    /// One track report (the engine's JSON Lines form; see the README).
    TrackReport => json!({"type": "object",
        "required": ["asset", "time", "lat", "lng", "alt_m", "gs_mps", "track_deg"],
        "properties": {
            "asset": {"type": "string", "minLength": 1, "maxLength": MAX_ASSET_ID_LEN, "pattern": NO_CONTROL,
                      "description": "your asset id: 1 to 64 bytes, no control characters"},
            "time": {"oneOf": [
                {"type": "string", "format": "date-time"},
                {"type": "number", "minimum": 0, "maximum": MAX_UNIX_TIME_S}],
                "description": "RFC 3339, or Unix seconds; at most max_future_s ahead of the server clock and max_past_s behind it"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lng": {"type": "number", "minimum": -180, "maximum": 180},
            "alt_m": {"type": "number", "minimum": MIN_ALTITUDE_M, "maximum": MAX_ALTITUDE_M},
            "gs_mps": {"type": "number", "minimum": 0, "maximum": MAX_GROUND_SPEED_MPS},
            "track_deg": {"type": "number", "minimum": 0, "maximum": 360},
            "vs_mps": {"type": ["number", "null"], "minimum": -MAX_VERTICAL_SPEED_MPS, "maximum": MAX_VERTICAL_SPEED_MPS},
            "class": {"type": ["string", "null"], "enum": ["fixed_wing", "rotorcraft", "uas_large", "uas_small", null]},
            "party": {"type": "string", "description": "if given, your party's name"}
        }});
    /// An ASTM F3548 `Volume4D`.
    Volume4D => json!({"type": "object", "required": ["volume", "time_start", "time_end"], "properties": {
        "volume": {"oneOf": [volume("outline_polygon", "outline_circle"), volume("outline_circle", "outline_polygon")]},
        "time_start": time(),
        "time_end": time()},
        "description": "altitude_lower below altitude_upper, time_end after time_start, within the volume limits"});
    /// The body of `PUT /v1/intents/{id}`.
    IntentFiling => {
        let mut p = filing_properties();
        p["reject_on_conflict"] = json!({"type": "boolean"});
        json!({"type": "object", "required": ["extents"], "additionalProperties": false, "properties": p})
    };
    /// The body of `PUT /v1/constraints/{id}`.
    ConstraintFiling => {
        let mut p = filing_properties();
        p["binds"] = json!({"oneOf": [
            {"type": "string", "enum": ["all_others"]},
            {"type": "array", "minItems": 1, "maxItems": 100,
             "items": {"type": "string", "minLength": 1, "maxLength": 64}}]});
        p["type"] = json!({"type": "string", "maxLength": 256,
                           "description": "e.g. exclusion_zone, engagement_zone, humanitarian_corridor"});
        json!({"type": "object", "required": ["extents"], "additionalProperties": false, "properties": p})
    };
    /// The answer to a filing.
    FilingAnswer => json!({"type": "object", "required": ["id", "kind", "version", "state", "conflicts"], "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["intent", "constraint"]},
        "version": {"type": "integer", "minimum": 1},
        "state": {"type": "string"},
        "conflicts": {"type": "array", "items": {"type": "object"}},
        "receipt": {"type": "object", "description": "the signed receipt of the filing's audit entry (as for POST /v1/tracks)",
            "required": ["chain", "party", "seq", "time", "hash", "signature"],
            "properties": {"chain": {"type": "string"}, "party": {"type": "integer"}, "seq": {"type": "integer", "minimum": 1},
                "time": {"type": "number"}, "hash": {"type": "string"}, "signature": {"type": "string"}}}}});
    /// One of your filings.
    Filing => json!({"type": "object", "required": ["id", "version", "state", "priority", "filing"], "properties": {
        "id": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "state": {"type": "string"},
        "priority": {"type": "integer"},
        "filing": {"type": "object"}}});
    /// Your constraints and those that bind you.
    ConstraintList => json!({"type": "object", "required": ["own", "binding_you"], "properties": {
        "own": {"type": "array", "items": reference("Filing")},
        "binding_you": {"type": "array", "items": {"type": "object", "required": ["owner", "extents"], "properties": {
            "owner": {"type": "string"},
            "type": {"type": ["string", "null"]},
            "extents": {"type": "array", "items": {"type": "object"}}}}}}});
    /// An alert about one of your assets (see docs/api.md for its members).
    Alert => json!({"type": "object", "required": ["seq"], "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "conflict_id": {"type": "string"},
        "event": {"type": "string"},
        "advice": reference("Advice")}});
    /// Resolution advice for your own aircraft in an alert, coordinated with the other side's
    /// (never shown to you). Each value is the nearest conflict-free one that way, `null` when
    /// none is needed or none is free.
    Advice => json!({"type": "object", "required": ["method", "preferred"], "properties": {
        "method": {"type": "string", "enum": ["kinematic_bands", "bands", "mvp"],
                   "description": "kinematic_bands: DO-365 kinematic bands, the two sides' manoeuvres checked flown together (pairs with a UAS, the first max_kinematic_advice_per_scan conflicts of a scan); bands: DO-365 instantaneous bands (the rest); mvp: Modified Voltage Potential (manned pairs)"},
        "track_left_deg": {"type": ["number", "null"]},
        "track_right_deg": {"type": ["number", "null"]},
        "gs_up_mps": {"type": ["number", "null"]},
        "gs_down_mps": {"type": ["number", "null"]},
        "vs_up_mps": {"type": ["number", "null"]},
        "vs_down_mps": {"type": ["number", "null"]},
        "preferred": {"type": ["object", "null"], "required": ["manoeuvre"], "properties": {
            "manoeuvre": {"type": "string", "enum": ["turn_left", "turn_right", "speed_up", "slow_down", "vs_up", "vs_down"]},
            "track_deg": {"type": "number"},
            "gs_mps": {"type": "number"},
            "vs_mps": {"type": "number"}}}}});
    /// The body of `POST /v1/messages`.
    MessageRequest => json!({"type": "object", "required": ["kind", "text"], "additionalProperties": false, "properties": {
        "to": {"oneOf": [
            {"type": "object", "required": ["parties"], "additionalProperties": false, "properties": {
                "parties": {"type": "array", "minItems": 1, "maxItems": 32, "uniqueItems": true,
                            "items": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.-]+$"}}}},
            {"type": "object", "required": ["coalition"], "additionalProperties": false, "properties": {
                "coalition": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_.-]+$"}}},
            {"type": "object", "required": ["conflict"], "additionalProperties": false, "properties": {
                "conflict": {"type": "string", "minLength": 1, "maxLength": 128}}}],
            "description": "named parties, a coalition (through its lead), or the other side of one of your conflicts; may be left out with reply_to"},
        "kind": {"type": "string", "enum": ["notice", "request", "reply", "emergency", "text"]},
        "text": {"type": "string", "minLength": 1, "maxLength": 4096,
                 "description": "1 to 4096 bytes; line feeds allowed, no other control or invisible character"},
        "extents": {"type": "array", "minItems": 1, "maxItems": 100, "items": reference("Volume4D"),
                    "description": "a notice's planned operation, checked as a filing's, shown only to the addressees"},
        "reply_to": {"type": "string", "pattern": "^m-[0-9a-f]{32}$"}}});
    /// The answer to `POST /v1/messages`.
    MessageSent => json!({"type": "object", "required": ["id", "seq", "sent_at", "receipt"], "properties": {
        "id": {"type": "string", "pattern": "^m-[0-9a-f]{32}$"},
        "seq": {"type": "integer", "minimum": 1, "description": "the message's place in your mailbox"},
        "sent_at": {"type": "string", "format": "date-time"},
        "receipt": {"type": "object"}}});
    /// One item of your mailbox: a message you sent (`out`, with each copy you are shown) or
    /// received (`in`, with the sender as you may see it).
    MessageItem => json!({"type": "object", "required": ["seq", "id", "direction", "kind", "sent_at", "text"], "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "id": {"type": "string"},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "kind": {"type": "string"},
        "sent_at": {"type": "string", "format": "date-time"},
        "text": {"type": "string"},
        "from": {"type": "object", "description": "in: {\"party\": name} or {\"conflict\": id}"},
        "via": {"type": "string", "description": "in: the coalition lead that passed it on"},
        "to": {"type": "object", "description": "out: the address as you wrote it"},
        "recipients": {"type": "array", "items": {"type": "object"}},
        "delivered_at": {"type": ["string", "null"]},
        "acked_at": {"type": ["string", "null"]},
        "escalated_at": {"type": ["string", "null"]},
        "sends": {"type": "integer"},
        "extents": {"type": "array"},
        "reply_to": {"type": "string"}}});
    /// The answer to `POST /v1/messages/{id}/ack`.
    MessageAcked => json!({"type": "object", "required": ["id", "acked_at", "first", "receipt"], "properties": {
        "id": {"type": "string"},
        "acked_at": {"type": "string", "format": "date-time"},
        "first": {"type": "boolean", "description": "false when it had been acknowledged before"},
        "receipt": {"type": "object"}}});
    /// A GeoJSON FeatureCollection.
    FeatureCollection => json!({"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}}}});
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Numbers as f64 (utoipa writes `30000.0` back as `30000`).
    fn numbers_as_f64(v: Value) -> Value {
        match v {
            Value::Number(n) => serde_json::json!(n.as_f64()),
            Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
            Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect()),
            other => other,
        }
    }

    /// utoipa's schema types keep every keyword written here (nothing silently dropped).
    #[test]
    fn schemas_round_trip() {
        for (name, json) in super::all() {
            let back = serde_json::to_value(super::to_schema(json.clone())).unwrap();
            assert_eq!(numbers_as_f64(back), numbers_as_f64(json), "{name}");
        }
    }
}
