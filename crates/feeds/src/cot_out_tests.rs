//! Tests of the CoT encoder: every event parsed back with quick-xml, fields checked.
#![allow(clippy::unwrap_used)]

use super::*;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::json;
use std::collections::HashMap;

const NOW: f64 = 1_796_148_000.0; // 2026-12-01T18:00:00Z

/// One parsed event: each element's attributes by element name (the last of a name wins),
/// and the text of `<remarks>`.
#[derive(Debug, Default)]
struct Parsed {
    attrs: HashMap<String, HashMap<String, String>>,
    remarks: String,
    elements: Vec<String>,
}

impl Parsed {
    fn get(&self, el: &str, attr: &str) -> &str {
        self.attrs
            .get(el)
            .and_then(|a| a.get(attr))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {el}@{attr} in {self:?}"))
    }
    fn num(&self, el: &str, attr: &str) -> f64 {
        self.get(el, attr).parse().unwrap()
    }
}

fn parse(xml: &str) -> Parsed {
    assert!(xml.ends_with("</event>"), "{xml}");
    // Exactly one `</event>`: a reader that cuts at it (pytak, TAK clients) gets the whole.
    assert_eq!(xml.matches("</event>").count(), 1, "{xml}");
    let mut r = Reader::from_str(xml);
    let mut p = Parsed::default();
    let mut in_remarks = false;
    let mut depth = 0i32;
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if !matches!(e.name().as_ref(), b"") => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let mut m = HashMap::new();
                for a in e.attributes() {
                    let a = a.unwrap();
                    m.insert(
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.unescape_value().unwrap().into_owned(),
                    );
                }
                in_remarks = name == "remarks";
                p.elements.push(name.clone());
                p.attrs.insert(name, m);
                depth += 1;
            }
            Event::End(_) => {
                in_remarks = false;
                depth -= 1;
            }
            Event::Text(t) if in_remarks => {
                p.remarks += &t.decode().unwrap();
            }
            Event::GeneralRef(g) if in_remarks => {
                let name = g.decode().unwrap();
                p.remarks += match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    "#10" => "\n",
                    "#9" => "\t",
                    other => panic!("unexpected reference {other}"),
                };
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // Empty elements count one up and none down: only the event's own depth matters here.
    assert!(depth >= 0);
    assert_eq!(p.elements.first().map(String::as_str), Some("event"));
    p
}

fn alert(event: &str, level: u8, class: &str, advice: Value) -> Value {
    let name = ["none", "preventive", "corrective", "warning"][level as usize];
    let mut v = json!({"seq":3,"conflict_id":"c-5f0e12ab","event":event,"level":level,
        "level_name":name,
        "time":"2026-12-01T18:00:00Z","own_asset":"RUS-UAV-1",
        "intruder":{"class":class,"time":"2026-12-01T18:00:00Z","lat":35.0072,"lng":35.1,
                    "alt_m":120.5,"gs_mps":20.0,"track_deg":180.0,"vs_mps":0.0,"stale":false},
        "tin_s":18.75,"tout_s":21.25,"tcpa_s":20.0,"dcpa_m":0.0,"los":false,"hsep_m":800.0,
        "vsep_m":0.0});
    if !advice.is_null() {
        v["advice"] = advice;
    }
    v
}

fn advice() -> Value {
    json!({"method":"bands","track_left_deg":41.0,"track_right_deg":139.0,"gs_up_mps":null,
           "gs_down_mps":null,"vs_up_mps":null,"vs_down_mps":-2.54,
           "preferred":{"manoeuvre":"vs_down","vs_mps":-2.54}})
}

#[test]
fn an_alert_gives_the_intruder_as_a_track_and_a_chat_message() {
    let mut pic = Picture::default();
    let out = pic
        .alert(&alert("new", 3, "uas_small", advice()), Some(3), NOW)
        .unwrap();
    assert_eq!(out.len(), 2);
    let t = parse(&out[0]);
    assert_eq!(t.get("event", "uid"), "deconflict-c-5f0e12ab");
    assert_eq!(t.get("event", "type"), "a-u-A-M-F-Q");
    assert_eq!(t.get("event", "how"), "m-g");
    assert_eq!(t.get("event", "time"), "2026-12-01T18:00:00Z");
    assert_eq!(t.get("event", "start"), "2026-12-01T18:00:00Z");
    // tout_s 21.25 is under the 30 s floor.
    assert_eq!(t.get("event", "stale"), "2026-12-01T18:00:30Z");
    assert_eq!(t.num("point", "lat"), 35.0072);
    assert_eq!(t.num("point", "lon"), 35.1);
    assert_eq!(t.num("point", "hae"), 120.5);
    assert_eq!(t.num("point", "ce"), UNKNOWN);
    assert_eq!(t.num("point", "le"), UNKNOWN);
    assert_eq!(t.num("track", "course"), 180.0);
    assert_eq!(t.num("track", "speed"), 20.0);
    assert_eq!(t.get("contact", "callsign"), "INTRUDER c-5f0e12ab");
    assert!(
        t.remarks.starts_with("WARNING (level 3) new c-5f0e12ab"),
        "{}",
        t.remarks
    );
    assert!(t.remarks.contains("CPA in 20 s"), "{}", t.remarks);
    assert!(t.remarks.contains("advice: vs_down -2.5 m/s"), "{}", t.remarks);
    let c = parse(&out[1]);
    assert_eq!(c.get("event", "type"), "b-t-f");
    assert_eq!(
        c.get("event", "uid"),
        "GeoChat.deconflict.All Chat Rooms.deconflict-c-5f0e12ab.3"
    );
    assert_eq!(c.get("__chat", "senderCallsign"), "DECONFLICT");
    assert_eq!(c.get("__chat", "chatroom"), "All Chat Rooms");
    assert_eq!(c.get("chatgrp", "uid0"), "deconflict");
    assert_eq!(c.get("remarks", "to"), "All Chat Rooms");
    assert_eq!(c.remarks, t.remarks);
    assert_eq!(c.num("point", "lat"), 35.0072);
    // A client that connects now is given the intruder.
    assert_eq!(pic.len(), 1);
    let cur = pic.current(NOW + 1.0);
    assert_eq!(cur.len(), 1);
    assert_eq!(parse(&cur[0]).get("event", "uid"), "deconflict-c-5f0e12ab");
    assert!(pic.current(NOW + 30.0).is_empty());
}

#[test]
fn the_type_follows_the_class_and_the_stale_bound_the_alert() {
    for (class, kind) in [
        ("uas_large", "a-u-A-M-F-Q"),
        ("rotorcraft", "a-u-A-M-H"),
        ("fixed_wing", "a-u-A"),
        ("", "a-u-A"),
    ] {
        let out = Picture::default()
            .alert(&alert("raised", 2, class, Value::Null), None, NOW)
            .unwrap();
        assert_eq!(parse(&out[0]).get("event", "type"), kind, "{class}");
    }
    assert_eq!(stale_bound(None), 30.0);
    assert_eq!(stale_bound(Some(75.0)), 75.0);
    assert_eq!(stale_bound(Some(1e6)), 120.0);
    let mut a = alert("new", 1, "uas_small", Value::Null);
    a["tout_s"] = json!(75.5);
    let out = Picture::default().alert(&a, None, NOW).unwrap();
    assert_eq!(parse(&out[0]).get("event", "stale"), "2026-12-01T18:01:15.500Z");
    // An open-ended loss interval (`tout_s: null`) takes the floor.
    a["tout_s"] = Value::Null;
    let out = Picture::default().alert(&a, None, NOW).unwrap();
    assert_eq!(parse(&out[0]).get("event", "stale"), "2026-12-01T18:00:30Z");
}

#[test]
fn a_cleared_alert_ends_the_track_and_deletes_it() {
    let mut pic = Picture::default();
    pic.alert(&alert("new", 3, "uas_small", advice()), Some(3), NOW)
        .unwrap();
    let mut c = alert("cleared", 0, "uas_small", Value::Null);
    c["reason"] = json!("separated");
    let out = pic.alert(&c, Some(4), NOW + 5.0).unwrap();
    assert_eq!(out.len(), 3);
    let t = parse(&out[0]);
    assert_eq!(t.get("event", "stale"), t.get("event", "time"));
    let d = parse(&out[1]);
    assert_eq!(d.get("event", "type"), "t-x-d-d");
    assert_eq!(d.get("link", "uid"), "deconflict-c-5f0e12ab");
    assert!(d.elements.contains(&"__forcedelete".to_string()));
    let m = parse(&out[2]);
    assert!(m.remarks.contains("NONE (level 0) cleared"), "{}", m.remarks);
    assert!(m.remarks.contains("separated"), "{}", m.remarks);
    assert!(pic.is_empty());
    assert!(pic.current(NOW + 5.0).is_empty());
    // The picture still listing it a moment later does not bring it back.
    let view = json!([{"conflict_id":"c-5f0e12ab","own_asset":"RUS-UAV-1","class":"uas_small",
        "lat":35.0,"lng":35.1,"alt_m":121.0,"gs_mps":20.0,"track_deg":180.0,"stale":false}]);
    assert!(pic.refresh(&view, NOW + 5.5).is_empty());
    assert!(pic.is_empty());
}

#[test]
fn hostile_strings_are_escaped_and_stay_inside_their_fields() {
    let nasty = "</remarks></detail></event><event uid=\"x\">&amp; 'q' \"dq\" \u{0}\u{1b}[31m\u{7}\nline2";
    let mut a = alert("new", 3, "<b>", Value::Null);
    a["own_asset"] = json!(nasty);
    a["advice"] = json!({"preferred":{"manoeuvre": nasty, "vs_mps": 1.0}});
    a["reason"] = json!("]]><!-- x -->");
    let out = Picture::default().alert(&a, Some(1), NOW).unwrap();
    for ev in &out {
        let p = parse(ev);
        assert!(
            p.remarks
                .contains("</remarks></detail></event><event uid=\"x\">&amp; 'q' \"dq\" [31m"),
            "{}",
            p.remarks
        );
        assert!(p.remarks.contains("\nline2"), "{}", p.remarks);
        assert!(p.remarks.contains("]]><!-- x -->"), "{}", p.remarks);
        assert!(!p.remarks.chars().any(|c| c.is_control() && c != '\n'));
    }
    assert_eq!(parse(&out[0]).get("event", "type"), "a-u-A");
    // A conflict id outside the id alphabet is refused, never put into a uid.
    let mut b = alert("new", 3, "uas_small", Value::Null);
    b["conflict_id"] = json!("c-1\" type=\"a-f-G");
    assert_eq!(Picture::default().alert(&b, None, NOW), Err(Reject::BadId));
    // A hotline message: sender, kind and text escaped.
    let m = json!({"type":"message","id":"m-0123abcd","from":{"party":"COAL<&>"},"kind":"emergency",
                   "text": nasty});
    let p = parse(&message_event(&m, NOW).unwrap());
    assert_eq!(p.get("event", "type"), "b-t-f");
    assert_eq!(p.get("__chat", "senderCallsign"), "HOTLINE COAL<&>");
    assert!(p.remarks.starts_with("[emergency] </remarks>"), "{}", p.remarks);
}

#[test]
fn bad_bodies_are_refused_by_reason() {
    let mut pic = Picture::default();
    assert_eq!(pic.alert(&json!([1]), None, NOW), Err(Reject::Malformed));
    let summary = json!({"seq":9,"type":"alert_summary","suppressed":3});
    assert_eq!(pic.alert(&summary, None, NOW), Err(Reject::Ignored));
    let msg = json!({"type":"message","id":"m-1"});
    assert_eq!(pic.alert(&msg, None, NOW), Err(Reject::Ignored));
    for (k, v, why) in [
        ("lat", json!(95.0), Reject::ImpossibleValue),
        ("lat", json!("35"), Reject::BadNumber),
        ("gs_mps", json!(1e9), Reject::ImpossibleValue),
        ("lng", Value::Null, Reject::BadNumber),
    ] {
        let mut a = alert("new", 3, "uas_small", Value::Null);
        a["intruder"][k] = v;
        assert_eq!(pic.alert(&a, None, NOW), Err(why), "{k}");
    }
    let mut a = alert("new", 3, "uas_small", Value::Null);
    a["intruder"] = json!("nope");
    assert_eq!(pic.alert(&a, None, NOW), Err(Reject::Malformed));
    // An unknown altitude is CoT's unknown, not a refusal.
    let mut a = alert("new", 3, "uas_small", Value::Null);
    a["intruder"]["alt_m"] = Value::Null;
    let out = pic.alert(&a, None, NOW).unwrap();
    assert_eq!(parse(&out[0]).num("point", "hae"), UNKNOWN);
    // An acknowledgement without its time is refused; an entry of another type is not chat.
    let ack = json!({"type":"message.ack","id":"m-1","to":{"party":"X"}});
    assert_eq!(message_event(&ack, NOW), Err(Reject::Malformed));
    let other = json!({"type":"message.read","id":"m-1"});
    assert_eq!(message_event(&other, NOW), Err(Reject::Ignored));
    assert!(pic.alert(&json!({"type":"alert"}), None, NOW).is_err());
}

#[test]
fn a_refresh_moves_the_intruders_on_show_and_adds_new_ones() {
    let mut pic = Picture::default();
    pic.alert(&alert("new", 3, "uas_small", advice()), Some(3), NOW)
        .unwrap();
    let views = json!([
        {"conflict_id":"c-5f0e12ab","own_asset":"RUS-UAV-1","class":"uas_small","time":"x",
         "lat":35.0,"lng":35.1,"alt_m":121.0,"gs_mps":20.0,"track_deg":180.0,"vs_mps":0.0,
         "stale":false},
        {"conflict_id":"c-77","own_asset":"RUS-UAV-2","class":"rotorcraft","time":"x",
         "lat":36.0,"lng":36.0,"alt_m":300.0,"gs_mps":50.0,"track_deg":90.0,"vs_mps":0.0,
         "stale":true},
        {"conflict_id":"c-\"bad","lat":1.0},
        "junk"
    ]);
    let out = pic.refresh(&views, NOW + 20.0);
    assert_eq!(out.len(), 2);
    let a = parse(&out[0]);
    assert_eq!(a.get("event", "uid"), "deconflict-c-5f0e12ab");
    assert_eq!(a.num("point", "lat"), 35.0);
    assert_eq!(a.get("event", "stale"), "2026-12-01T18:00:50Z");
    // The alert's remarks stay with its intruder.
    assert!(a.remarks.starts_with("WARNING"), "{}", a.remarks);
    let b = parse(&out[1]);
    assert_eq!(b.get("event", "uid"), "deconflict-c-77");
    assert_eq!(b.get("event", "type"), "a-u-A-M-H");
    assert_eq!(pic.len(), 2);
    pic.expire(NOW + 49.0);
    assert_eq!(pic.len(), 2);
    pic.expire(NOW + 51.0);
    assert!(pic.is_empty());
    assert!(pic.refresh(&json!({"not":"a list"}), NOW).is_empty());
}

#[test]
fn any_json_never_panics() {
    let bodies = [
        json!(null),
        json!({"conflict_id": 5}),
        json!({"conflict_id": "c-1", "intruder": {"lat": 1, "lng": 2, "gs_mps": -1, "track_deg": 1}}),
        json!({"conflict_id": "c-1", "intruder": {"lat": 1, "lng": 2, "gs_mps": 1, "track_deg": 1},
               "advice": {"preferred": 7}, "level": -3, "tcpa_s": "x"}),
        json!({"type": "message", "id": "", "text": 3}),
    ];
    let mut pic = Picture::default();
    for b in &bodies {
        let _ = pic.alert(b, None, NOW);
        let _ = message_event(b, NOW);
        let _ = pic.refresh(b, NOW);
    }
    let ok = json!({"conflict_id": "c-1", "intruder": {"lat": 1, "lng": 2, "gs_mps": 1, "track_deg": -90},
                    "advice": {"preferred": 7}});
    let out = pic.alert(&ok, None, NOW).unwrap();
    let t = parse(&out[0]);
    assert_eq!(t.num("track", "course"), 270.0);
    assert!(t.remarks.contains("advice: none needed now"), "{}", t.remarks);
}

#[test]
fn old_entries_are_history_unless_pending() {
    let a = alert("new", 3, "uas_small", Value::Null); // time = NOW
    assert!(!is_history(&a, NOW + 59.0));
    assert!(is_history(&a, NOW + 61.0));
    let m = json!({"type":"message","id":"m-1","sent_at":"2026-12-01T18:00:00Z"});
    assert!(is_history(&m, NOW + 3600.0));
    let p = json!({"type":"message","id":"m-1","sent_at":"2026-12-01T18:00:00Z","pending":true});
    assert!(!is_history(&p, NOW + 3600.0));
    assert!(!is_history(&json!({"time": "not a time"}), NOW));
    assert!(!is_history(&json!(7), NOW));
}

#[test]
fn acks_and_escalations_of_a_sent_message_are_chat_from_the_hotline() {
    let id = "m-0123456789abcdef0123456789abcdef";
    let ack = json!({"type":"message.ack","id":id,"to":{"party":"RUS"},
                     "acked_at":"2026-12-01T18:00:05Z"});
    let p = parse(&message_event(&ack, NOW).unwrap());
    assert_eq!(p.get("event", "type"), "b-t-f");
    assert_eq!(p.get("__chat", "senderCallsign"), "HOTLINE");
    assert_eq!(
        p.remarks,
        format!("{id} acknowledged by RUS at 2026-12-01T18:00:05Z")
    );
    let esc = json!({"type":"message.escalated","id":id,"to":{"conflict":"c-5f0e12ab"},
                     "escalated_at":"2026-12-01T18:05:00Z"});
    let q = parse(&message_event(&esc, NOW).unwrap());
    assert_eq!(
        q.remarks,
        format!("{id} to the other side of c-5f0e12ab not acknowledged in time: escalated at 2026-12-01T18:05:00Z")
    );
    // One chat message per copy and status: an ack and an escalation, or the acks of two
    // recipients, never share a messageId (a TAK client would drop the second).
    let ack2 = json!({"type":"message.ack","id":id,"to":{"coalition":"COAL"},
                      "acked_at":"2026-12-01T18:00:06Z"});
    let r = parse(&message_event(&ack2, NOW).unwrap());
    assert!(r.remarks.contains("by coalition COAL"), "{}", r.remarks);
    let ids = [&p, &q, &r].map(|x| x.get("__chat", "messageId").to_string());
    assert!(
        ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2],
        "{ids:?}"
    );
    // A label that is not what the service writes is shown as unknown, not echoed.
    let odd = json!({"type":"message.ack","id":id,"to":{"x":"<b>"},"acked_at":"2026-12-01T18:00:05Z"});
    assert!(parse(&message_event(&odd, NOW).unwrap()).remarks.contains("by ?"));
    // Without its time, or with a bad id, it is refused; news of long ago is history.
    let mut no_time = ack.clone();
    no_time["acked_at"] = json!("yesterday");
    assert_eq!(message_event(&no_time, NOW), Err(Reject::Malformed));
    let mut bad_id = ack.clone();
    bad_id["id"] = json!("m 1");
    assert_eq!(message_event(&bad_id, NOW), Err(Reject::BadId));
    assert!(!is_history(&ack, NOW + 30.0));
    assert!(is_history(&esc, NOW + 3600.0));
    assert_eq!(
        message_event(&json!({"type":"message.read","id":id}), NOW),
        Err(Reject::Ignored)
    );
}

#[test]
fn an_alert_summary_is_chat_with_its_counts_by_level() {
    let v = json!({"type":"alert_summary","time":"2026-12-01T18:00:00Z","suppressed":412,
                   "by_level":{"none":0,"preventive":300,"corrective":100,"warning":12}});
    let p = parse(&summary_event(&v, Some(77), NOW).unwrap());
    assert_eq!(p.get("event", "type"), "b-t-f");
    assert_eq!(p.get("__chat", "senderCallsign"), "DECONFLICT");
    assert_eq!(p.get("__chat", "messageId"), "deconflict-summary.77");
    assert_eq!(
        p.remarks,
        "412 more conflict changes in one scan were not sent one by one (warning 12, corrective 100, preventive 300); the intruders come on the map at the next refresh"
    );
    // An alert is not a summary, nor the reverse; a summary without its count is refused.
    assert_eq!(
        summary_event(&alert("new", 3, "uas_small", Value::Null), None, NOW),
        Err(Reject::Ignored)
    );
    assert_eq!(Alert::from_json(&v), Err(Reject::Ignored));
    assert_eq!(
        summary_event(&json!({"type":"alert_summary","suppressed":"many"}), None, NOW),
        Err(Reject::Malformed)
    );
}
