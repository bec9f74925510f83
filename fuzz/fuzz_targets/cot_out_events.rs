//! The CoT a party's TAK clients are sent (`deconflict feed cot-out`), made from a stream
//! entry that may be anything: the input (after its first byte, which picks the sequence
//! number and the clock) as JSON is given to `Picture::alert`, `Picture::refresh` (as it is and
//! as a one-element list), `message_event` and `summary_event`, then the picture is shown to
//! a client joining (`current`) and expired.
//!
//! Invariants: no panic; every event made is one well-formed XML document whose only root is
//! `<event>`, nothing of the input getting out of the field it was put in.
#![no_main]

use deconflict_feeds::cot_out::{message_event, summary_event, Picture};
use libfuzzer_sys::fuzz_target;
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;

const NOW: f64 = 1_796_148_000.0;

/// Panics unless `ev` is an XML declaration and one `<event>` element, well formed.
fn one_event(ev: &str) {
    let mut r = Reader::from_str(ev);
    r.config_mut().check_end_names = true;
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    assert_eq!(e.name().as_ref(), b"event", "{ev}");
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => assert!(depth > 0, "an element {:?} outside <event>: {ev}", e.name()),
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                assert!(depth > 0 || t.iter().all(u8::is_ascii_whitespace), "text outside <event>: {ev}");
                assert!(t.decode().is_ok(), "{ev}");
            }
            // quick-xml gives each entity of a text as an event of its own: only XML's five
            // and character references may appear, and only inside the event.
            Ok(Event::GeneralRef(g)) => {
                assert!(depth > 0, "an entity outside <event>: {ev}");
                let name: &[u8] = &g;
                let known = matches!(name, b"lt" | b"gt" | b"amp" | b"quot" | b"apos");
                assert!(known || g.is_char_ref(), "an unknown entity {g:?} in {ev}");
                if g.is_char_ref() {
                    assert!(matches!(g.resolve_char_ref(), Ok(Some(_))), "{ev}");
                }
            }
            Ok(Event::Decl(_)) => assert_eq!(roots + depth, 0, "{ev}"),
            Ok(Event::Eof) => break,
            Ok(other) => panic!("unexpected {other:?} in {ev}"),
            Err(e) => panic!("not well-formed ({e}): {ev}"),
        }
    }
    assert_eq!((roots, depth), (1, 0), "{ev}");
    // Every attribute value decodes (no stray `&`, no `<`).
    let mut r = Reader::from_str(ev);
    loop {
        match r.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("a bad attribute ({err}): {ev}"));
                    assert!(a.unescape_value().is_ok(), "{ev}");
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}: {ev}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let now = NOW + f64::from(op);
    let seq = (op % 2 == 0).then_some(u64::from(op));
    let mut pic = Picture::default();
    let mut out = Vec::new();
    if let Ok(evs) = pic.alert(&v, seq, NOW) {
        out.extend(evs);
    }
    out.extend(pic.refresh(&v, now));
    out.extend(pic.refresh(&Value::Array(vec![v.clone()]), now));
    if let Ok(e) = message_event(&v, NOW) {
        out.push(e);
    }
    if let Ok(e) = summary_event(&v, seq, NOW) {
        out.push(e);
    }
    out.extend(pic.current(now));
    pic.expire(now + 1e6);
    assert_eq!(pic.current(now + 1e6).len(), 0);
    for ev in &out {
        one_event(ev);
    }
});
