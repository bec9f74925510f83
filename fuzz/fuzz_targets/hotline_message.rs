//! Hotline messages: the bytes as a `POST /v1/messages` body (parsed as JSON as the service
//! does), to `parse_message`.
//!
//! Invariant: what is accepted has a kind of the list, a text within its limit and without a
//! control or invisible character (line feeds aside), an address unless it is a reply, and
//! re-parses to the same request when its address is written back (`Addressee::to_json`).
#![no_main]

use deconflict_core::strategic::VolumeLimits;
use deconflict_server::fuzzing::parse_message;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let limits = VolumeLimits::default();
    let Ok(req) = parse_message(&v, &limits) else {
        return;
    };
    assert!(deconflict_store::MESSAGE_KINDS.contains(&req.kind.as_str()));
    assert!(!req.text.trim().is_empty() && req.text.len() <= 4096);
    assert!(deconflict_core::text::check_text(&req.text, 4096, true).is_ok());
    assert!(req.to.is_some() || req.reply_to.is_some());
    if let Some(to) = &req.to {
        let mut body = v.clone();
        body["to"] = to.to_json();
        let again = parse_message(&body, &limits).unwrap_or_else(|e| panic!("{e:?} re-parsing {body}"));
        assert_eq!(again.to.as_ref(), Some(to));
        assert_eq!(
            (again.kind, again.text, again.reply_to),
            (req.kind, req.text, req.reply_to)
        );
        assert_eq!(again.volumes, req.volumes);
    }
});
