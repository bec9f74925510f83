//! Cursor-on-Target out: a party's alerts (the JSON bodies of `GET /v1/stream`) turned into
//! the CoT events a TAK client displays, and [`Picture`], the intruders on show, which a
//! bridge keeps so that a client connecting late is given them at once. Pure functions of
//! JSON and the time in, XML text out; the bridge (`deconflict feed cot-out`) owns the sockets.
//!
//! For an alert (`event: alert` with a `conflict_id`) two events:
//! - **the intruder** as a track: `uid` `deconflict-<conflict id>` and callsign `INTRUDER
//!   <conflict id>` (an alert never carries the intruder's asset id, callsign or party, so
//!   neither can this), `how` `m-g`, `<point>` from the alert's `intruder` (`hae` its `alt_m`;
//!   `ce`/`le` `9999999`, unknown: the service has no accuracy), `<track course speed>` (m/s)
//!   and `<remarks>`: level, event, time to the closest point of approach, advice for the own
//!   asset. The type is from the intruder's class, affiliation unknown:
//!
//!   | class | CoT type |
//!   |---|---|
//!   | `uas_small`, `uas_large` | `a-u-A-M-F-Q` (UAV) |
//!   | `rotorcraft` | `a-u-A-M-H` |
//!   | anything else (`fixed_wing`) | `a-u-A` (unknown air) |
//!
//!   `stale` is `now + `[`stale_bound`]: 30 s, or the alert's `tout_s` (the predicted end of the
//!   loss of well clear) when that is longer, at most 120 s. Every later alert of the conflict,
//!   and every refresh from `GET /v1/tracks` ([`Picture::refresh`]), sends it again with a new
//!   `stale`. A `cleared` alert sends it with `stale` = now and a `t-x-d-d` delete
//!   (`<link uid>` + `<__forcedelete/>`), which TAK clients take as "remove this marker".
//! - **the alert** as a GeoChat message (`b-t-f`) from `DECONFLICT` to `All Chat Rooms`, placed
//!   at the intruder: TAK clients show it in their chat window with a notification. Its text is
//!   `<LEVEL> <event> <conflict id>: ...` as in the remarks.
//!
//! A hotline message (`"type":"message"`) becomes a GeoChat message from `HOTLINE <sender>`
//! (`[kind] text`), and so do the sender's news of it: `message.ack` (`HOTLINE`, `acknowledged
//! m-… by <recipient> at <time>`) and `message.escalated` (`not acknowledged … : escalated`).
//! An `alert_summary` (the conflict changes of one scan past the service's per-scan alert
//! budget, counted instead of sent) is a GeoChat message from `DECONFLICT` with its counts by
//! level ([`summary_event`]). Other entries produce nothing ([`Reject::Ignored`]).
//! Entries more than a minute old when they arrive are history, not news ([`is_history`]).
//! Every string is XML-escaped, and characters XML cannot carry are dropped.

use crate::Reject;
use deconflict_core::track::{format_rfc3339, parse_rfc3339};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// CoT's "unknown" for `hae`, `ce` and `le`.
pub const UNKNOWN: f64 = 9_999_999.0;
/// The shortest life of an intruder's track, seconds.
pub const MIN_STALE_S: f64 = 30.0;
/// The longest, seconds.
pub const MAX_STALE_S: f64 = 120.0;
/// The uid prefix of every track this module makes.
pub const UID_PREFIX: &str = "deconflict-";
/// An entry older than this when it arrives, seconds, is history ([`is_history`]).
pub const HISTORY_S: f64 = 60.0;
/// Most intruders a [`Picture`] holds (an alert past it is shown but not kept for late joiners).
pub const MAX_SHOWN: usize = 10_000;

const XML_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
const ROOM: &str = "All Chat Rooms";
const SENDER_UID: &str = "deconflict";

/// The intruder of an alert or of a `GET /v1/tracks` view: what the service disclosed.
#[derive(Debug, Clone, PartialEq)]
pub struct Intruder {
    pub conflict_id: String,
    pub class: String,
    pub lat: f64,
    pub lng: f64,
    pub alt_m: f64,
    pub gs_mps: f64,
    pub track_deg: f64,
    /// Its owner has not reported it for the coasting time: extrapolated.
    pub stale: bool,
}

/// The parts of an alert body the rendering uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub conflict_id: String,
    /// `new`, `raised`, `lowered`, `degraded`, `cleared`.
    pub event: String,
    pub level: u64,
    pub level_name: String,
    pub own_asset: String,
    pub tcpa_s: Option<f64>,
    pub tout_s: Option<f64>,
    pub reason: Option<String>,
    /// The preferred manoeuvre in words, when the alert has advice.
    pub advice: Option<String>,
    pub intruder: Intruder,
}

/// Conflict ids (and the uids made of them) are of the service's id alphabet, 1 to 64 long.
fn id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn finite(v: &Value, min: f64, max: f64) -> Result<f64, Reject> {
    let x = v.as_f64().ok_or(Reject::BadNumber)?;
    if x.is_finite() && (min..=max).contains(&x) {
        Ok(x)
    } else {
        Err(Reject::ImpossibleValue)
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

impl Intruder {
    /// The intruder of `v` (an alert's `intruder` member, or a view, which carries its own
    /// `conflict_id`), in the conflict `conflict_id`.
    pub fn from_json(v: &Value, conflict_id: &str) -> Result<Intruder, Reject> {
        if !id_ok(conflict_id) {
            return Err(Reject::BadId);
        }
        if !v.is_object() {
            return Err(Reject::Malformed);
        }
        Ok(Intruder {
            conflict_id: conflict_id.to_string(),
            class: text(&v["class"]),
            lat: finite(&v["lat"], -90.0, 90.0)?,
            lng: finite(&v["lng"], -180.0, 180.0)?,
            alt_m: v["alt_m"].as_f64().filter(|a| a.is_finite()).unwrap_or(UNKNOWN),
            gs_mps: finite(&v["gs_mps"], 0.0, 2_000.0)?,
            track_deg: finite(&v["track_deg"], -360.0, 360.0)?.rem_euclid(360.0),
            stale: v["stale"].as_bool().unwrap_or(false),
        })
    }
}

/// The preferred manoeuvre of an `advice` member in words (`vs_down -2.5 m/s`), `None` when
/// there is no advice or nothing to do now.
fn advice_text(a: &Value) -> Option<String> {
    let m = a.get("advice")?;
    let Some(p) = m.get("preferred").filter(|p| p.is_object()) else {
        return Some("none needed now".into());
    };
    let name = p["manoeuvre"].as_str().unwrap_or("?");
    let value = ["track_deg", "gs_mps", "vs_mps"]
        .iter()
        .find_map(|k| p[*k].as_f64().map(|x| (*k, x)));
    Some(match value {
        Some(("track_deg", x)) => format!("{name} to {x:.0} deg"),
        Some((_, x)) if name.starts_with("vs") => format!("{name} {x:.1} m/s"),
        Some((_, x)) => format!("{name} to {x:.1} m/s"),
        None => name.to_string(),
    })
}

impl Alert {
    /// An alert body as `GET /v1/alerts` and the stream carry it; [`Reject::Ignored`] for
    /// entries that are not an alert about a conflict (a summary, a hotline entry).
    pub fn from_json(v: &Value) -> Result<Alert, Reject> {
        if !v.is_object() {
            return Err(Reject::Malformed);
        }
        if v.get("type").is_some_and(|t| t != "alert") {
            return Err(Reject::Ignored);
        }
        let conflict_id = v["conflict_id"].as_str().ok_or(Reject::Ignored)?;
        let intruder = Intruder::from_json(&v["intruder"], conflict_id)?;
        let opt = |k: &str| v[k].as_f64().filter(|x| x.is_finite());
        Ok(Alert {
            conflict_id: conflict_id.to_string(),
            event: text(&v["event"]),
            level: v["level"].as_u64().unwrap_or(0),
            level_name: text(&v["level_name"]),
            own_asset: text(&v["own_asset"]),
            tcpa_s: opt("tcpa_s"),
            tout_s: opt("tout_s"),
            reason: v["reason"].as_str().map(str::to_string),
            advice: advice_text(v),
            intruder,
        })
    }

    /// The conflict has ended: its intruder is taken off the map.
    pub fn ends(&self) -> bool {
        self.event == "cleared" || self.level == 0
    }

    /// One line for people: level, event, own asset, time to the closest point of approach,
    /// advice.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} (level {}) {} {}: own {}",
            self.level_name.to_uppercase(),
            self.level,
            self.event,
            self.conflict_id,
            self.own_asset
        );
        if let Some(t) = self.tcpa_s {
            let _ = write!(s, "; CPA in {t:.0} s");
        }
        if let Some(r) = &self.reason {
            let _ = write!(s, "; {r}");
        }
        if self.intruder.stale {
            s.push_str("; intruder coasting");
        }
        if let Some(a) = &self.advice {
            let _ = write!(s, "; advice: {a}");
        }
        s
    }
}

/// How long an intruder's track lives: [`MIN_STALE_S`], or the alert's `tout_s` when longer,
/// at most [`MAX_STALE_S`].
pub fn stale_bound(tout_s: Option<f64>) -> f64 {
    tout_s.map_or(MIN_STALE_S, |t| t.clamp(MIN_STALE_S, MAX_STALE_S))
}

/// The CoT type of an intruder of `class` (the table in the module docs).
pub fn cot_type(class: &str) -> &'static str {
    match class {
        "uas_small" | "uas_large" => "a-u-A-M-F-Q",
        "rotorcraft" => "a-u-A-M-H",
        _ => "a-u-A",
    }
}

/// `s` escaped for XML text and attribute values; characters XML 1.0 cannot carry (controls
/// other than tab and line feed, lone surrogates cannot occur in a `str`, U+FFFE, U+FFFF) are
/// dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A number for an attribute: `UNKNOWN` when not finite.
fn n(x: f64) -> String {
    if x.is_finite() {
        let r = (x * 1e7).round() / 1e7;
        format!("{r}")
    } else {
        format!("{UNKNOWN}")
    }
}

fn head(out: &mut String, uid: &str, kind: &str, how: &str, now: f64, stale: f64) {
    let (t, st) = (format_rfc3339(now), format_rfc3339(stale));
    let _ = write!(
        out,
        r#"{XML_HEAD}<event version="2.0" uid="{}" type="{}" how="{how}" time="{t}" start="{t}" stale="{st}">"#,
        escape(uid),
        escape(kind)
    );
}

fn point(out: &mut String, lat: f64, lon: f64, hae: f64) {
    let _ = write!(
        out,
        r#"<point lat="{}" lon="{}" hae="{}" ce="{UNKNOWN}" le="{UNKNOWN}"/>"#,
        n(lat),
        n(lon),
        n(hae)
    );
}

/// The uid of the track of conflict `conflict_id`.
pub fn track_uid(conflict_id: &str) -> String {
    format!("{UID_PREFIX}{conflict_id}")
}

/// The intruder as a CoT track, sent at `now`, stale at `stale`, with `remarks`.
pub fn track_event(i: &Intruder, remarks: &str, now: f64, stale: f64) -> String {
    let mut out = String::with_capacity(640);
    head(
        &mut out,
        &track_uid(&i.conflict_id),
        cot_type(&i.class),
        "m-g",
        now,
        stale,
    );
    point(&mut out, i.lat, i.lng, i.alt_m);
    let _ = write!(
        out,
        r#"<detail><track course="{}" speed="{}"/><contact callsign="INTRUDER {}"/><remarks>{}</remarks></detail></event>"#,
        n(i.track_deg),
        n(i.gs_mps),
        escape(&i.conflict_id),
        escape(remarks)
    );
    out
}

/// A `t-x-d-d` event asking TAK clients to remove the track `uid`.
pub fn delete_event(uid: &str, now: f64) -> String {
    let mut out = String::with_capacity(400);
    head(
        &mut out,
        &format!("{uid}-delete"),
        "t-x-d-d",
        "h-g-i-g-o",
        now,
        now + 20.0,
    );
    point(&mut out, 0.0, 0.0, UNKNOWN);
    let _ = write!(
        out,
        r#"<detail><link uid="{}" relation="none" type="none"/><__forcedelete/></detail></event>"#,
        escape(uid)
    );
    out
}

/// A GeoChat message (`b-t-f`) to `All Chat Rooms` from `callsign`, with id `message_id`,
/// placed at `at` (lat, lon, hae) or nowhere in particular.
pub fn chat_event(
    message_id: &str,
    callsign: &str,
    body: &str,
    at: Option<(f64, f64, f64)>,
    now: f64,
) -> String {
    let mut out = String::with_capacity(900);
    let uid = format!("GeoChat.{SENDER_UID}.{ROOM}.{message_id}");
    // Chat lives in a client's history; a day is what TAK clients give their own.
    head(&mut out, &uid, "b-t-f", "h-g-i-g-o", now, now + 86_400.0);
    let (lat, lon, hae) = at.unwrap_or((0.0, 0.0, UNKNOWN));
    point(&mut out, lat, lon, hae);
    let (id, cs) = (escape(message_id), escape(callsign));
    let _ = write!(
        out,
        r#"<detail><__chat parent="RootContactGroup" groupOwner="false" messageId="{id}" chatroom="{ROOM}" id="{ROOM}" senderCallsign="{cs}"><chatgrp uid0="{SENDER_UID}" uid1="{ROOM}" id="{ROOM}"/></__chat><link uid="{SENDER_UID}" type="a-f-G-U-C" relation="p-p"/><remarks source="{SENDER_UID}" to="{ROOM}" time="{}">{}</remarks></detail></event>"#,
        format_rfc3339(now),
        escape(body)
    );
    out
}

/// A sender or recipient as the service labels it (`{"party": "RUS"}`, `{"conflict": "c-…"}`
/// when anonymous, `{"coalition": …}`, or a bare string): its name, `the other side of c-…`
/// for a conflict.
fn label_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => match (m.get("party"), m.get("conflict"), m.get("coalition")) {
            (Some(Value::String(p)), _, _) => p.clone(),
            (_, Some(Value::String(c)), _) => format!("the other side of {c}"),
            (_, _, Some(Value::String(c))) => format!("coalition {c}"),
            _ => "?".into(),
        },
        _ => "?".into(),
    }
}

/// A hotline entry of the party's stream as a GeoChat message: a message (`"type":"message"`)
/// from `HOTLINE <sender>`, and the news of one the party sent (`message.ack`,
/// `message.escalated`) from `HOTLINE`; [`Reject::Ignored`] for anything else.
pub fn message_event(v: &Value, now: f64) -> Result<String, Reject> {
    let status = match v["type"].as_str() {
        Some("message") => None,
        Some("message.ack") => Some(("acked_at", "ack", "acknowledged")),
        Some("message.escalated") => Some(("escalated_at", "escalated", "not acknowledged")),
        _ => return Err(Reject::Ignored),
    };
    let id = v["id"].as_str().filter(|i| id_ok(i)).ok_or(Reject::BadId)?;
    if let Some((field, tag, said)) = status {
        let at = v[field]
            .as_str()
            .and_then(parse_rfc3339)
            .ok_or(Reject::Malformed)?;
        let to = label_text(&v["to"]);
        let at_text = format_rfc3339(at);
        let body = match tag {
            "ack" => format!("{id} {said} by {to} at {at_text}"),
            _ => format!("{id} to {to} {said} in time: escalated at {at_text}"),
        };
        // One chat message per copy and status: TAK clients drop a repeated messageId.
        let to_key: String = to
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .take(64)
            .collect();
        let mid = format!("{id}.{tag}.{to_key}");
        return Ok(chat_event(&mid, "HOTLINE", &body, None, now));
    }
    let from = label_text(&v["from"]);
    let kind = v["kind"].as_str().unwrap_or("text");
    let mut body = format!("[{kind}] {}", v["text"].as_str().unwrap_or(""));
    if v["pending"] == true {
        body.push_str(" (unacknowledged)");
    }
    let mid = match v["resend"].as_u64() {
        Some(k) => format!("{id}.{k}"),
        None => id.to_string(),
    };
    Ok(chat_event(&mid, &format!("HOTLINE {from}"), &body, None, now))
}

/// Whether a stream entry is history rather than news: its `time` (an alert) or `sent_at` (a
/// message) more than [`HISTORY_S`] before `now`. A stream opened without `Last-Event-ID`
/// replays the party's entries from the first, and a long outage holds some back; shown as
/// new they would put old conflicts on the map and old chat in the room. A pending message
/// (`"pending": true`: not yet acknowledged) is news however old.
pub fn is_history(v: &Value, now: f64) -> bool {
    if v["pending"] == true {
        return false;
    }
    let t = ["time", "sent_at", "acked_at", "escalated_at"]
        .iter()
        .find_map(|k| v[*k].as_str())
        .and_then(parse_rfc3339);
    t.is_some_and(|t| now - t > HISTORY_S)
}

/// An `alert_summary` entry (stream sequence `seq`) as a GeoChat message from `DECONFLICT`:
/// how many conflict changes of one scan were counted instead of sent, by level;
/// [`Reject::Ignored`] for any other entry.
pub fn summary_event(v: &Value, seq: Option<u64>, now: f64) -> Result<String, Reject> {
    if v["type"] != "alert_summary" {
        return Err(Reject::Ignored);
    }
    let count = v["suppressed"].as_u64().ok_or(Reject::Malformed)?;
    let mut body = format!("{count} more conflict changes in one scan were not sent one by one");
    let levels: Vec<String> = ["warning", "corrective", "preventive", "none"]
        .iter()
        .filter_map(|l| {
            v["by_level"][*l]
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| format!("{l} {n}"))
        })
        .collect();
    if !levels.is_empty() {
        let _ = write!(body, " ({})", levels.join(", "));
    }
    body.push_str("; the intruders come on the map at the next refresh");
    let mid = match seq {
        Some(s) => format!("{SENDER_UID}-summary.{s}"),
        None => format!("{SENDER_UID}-summary.{}", (now * 1000.0) as u64),
    };
    Ok(chat_event(&mid, "DECONFLICT", &body, None, now))
}

#[derive(Debug, Clone)]
struct Shown {
    intruder: Intruder,
    remarks: String,
    bound_s: f64,
    stale_at: f64,
}

/// The intruders on show: the last state of each conflict's intruder, for the clients that
/// connect later and for refreshes.
#[derive(Debug, Default)]
pub struct Picture {
    shown: BTreeMap<String, Shown>,
    /// Conflicts that ended, and when: a refresh that still lists one (the picture lags the
    /// stream by up to a scan) does not bring it back.
    ended: BTreeMap<String, f64>,
}

/// How long an ended conflict's id is remembered, seconds (ids are fresh per encounter).
const ENDED_S: f64 = 300.0;

impl Picture {
    /// The events for an alert body (`seq`, its stream id, names the chat message): the
    /// intruder's track, the chat message and, when the conflict ended, the delete.
    pub fn alert(&mut self, body: &Value, seq: Option<u64>, now: f64) -> Result<Vec<String>, Reject> {
        let a = Alert::from_json(body)?;
        let summary = a.summary();
        let uid = track_uid(&a.conflict_id);
        let mid = match seq {
            Some(s) => format!("{uid}.{s}"),
            None => format!("{uid}.{}.{}", a.event, (now * 1000.0) as u64),
        };
        let i = &a.intruder;
        let mut out = Vec::with_capacity(3);
        if a.ends() {
            self.shown.remove(&a.conflict_id);
            if self.ended.len() < MAX_SHOWN {
                self.ended.insert(a.conflict_id.clone(), now);
            }
            out.push(track_event(i, &summary, now, now));
            out.push(delete_event(&uid, now));
        } else {
            let bound_s = stale_bound(a.tout_s);
            out.push(track_event(i, &summary, now, now + bound_s));
            if self.shown.len() < MAX_SHOWN || self.shown.contains_key(&a.conflict_id) {
                self.shown.insert(
                    a.conflict_id.clone(),
                    Shown {
                        intruder: i.clone(),
                        remarks: summary.clone(),
                        bound_s,
                        stale_at: now + bound_s,
                    },
                );
            }
        }
        out.push(chat_event(
            &mid,
            "DECONFLICT",
            &summary,
            Some((i.lat, i.lng, i.alt_m)),
            now,
        ));
        Ok(out)
    }

    /// The intruders of `GET /v1/tracks` (its `intruders` array) at `now`: each one on show,
    /// and each new one, sent again where it is now with a new `stale`. A conflict not in the
    /// list is left to go stale (its `cleared` alert removes it).
    pub fn refresh(&mut self, intruders: &Value, now: f64) -> Vec<String> {
        let mut out = Vec::new();
        for v in intruders.as_array().into_iter().flatten() {
            let Some(cid) = v["conflict_id"].as_str() else {
                continue;
            };
            let Ok(i) = Intruder::from_json(v, cid) else {
                continue;
            };
            if !self.shown.contains_key(cid) {
                if self.shown.len() >= MAX_SHOWN || self.ended.contains_key(cid) {
                    continue;
                }
                let remarks = format!(
                    "conflict {cid} with own {}",
                    v["own_asset"].as_str().unwrap_or("?")
                );
                self.shown.insert(
                    cid.to_string(),
                    Shown {
                        intruder: i.clone(),
                        remarks,
                        bound_s: MIN_STALE_S,
                        stale_at: now,
                    },
                );
            }
            let Some(s) = self.shown.get_mut(cid) else {
                continue;
            };
            s.intruder = i;
            s.stale_at = now + s.bound_s;
            out.push(track_event(&s.intruder, &s.remarks, now, s.stale_at));
        }
        out
    }

    /// Forgets the intruders past their `stale`.
    pub fn expire(&mut self, now: f64) {
        self.shown.retain(|_, s| s.stale_at > now);
        self.ended.retain(|_, t| now - *t < ENDED_S);
    }

    /// The tracks of every intruder not yet stale, for a client that has just connected.
    pub fn current(&self, now: f64) -> Vec<String> {
        self.shown
            .values()
            .filter(|s| s.stale_at > now)
            .map(|s| track_event(&s.intruder, &s.remarks, now, s.stale_at))
            .collect()
    }

    /// Intruders on show.
    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }
}

#[cfg(test)]
#[path = "cot_out_tests.rs"]
mod tests;
