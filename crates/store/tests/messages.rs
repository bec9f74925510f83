#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The hotline's storage on each backend: copies per party, scoped reads, delivery and
//! acknowledgement, re-sends and escalation, the sides of a conflict, and the audit record.
mod common;

use common::{backends, party};
use deconflict_store::PartyId;
use deconflict_store::{
    verify_party_audit, Direction, HotlinePolicy, NewAlert, NewMessage, Recipient, StoreError,
};
use serde_json::json;

fn msg(id: u8, sender: PartyId, to: &[(PartyId, Option<serde_json::Value>)], kind: &str) -> NewMessage {
    NewMessage {
        id: format!("m-{:032x}", id),
        sender,
        kind: kind.parse().expect("a message kind"),
        to: json!({"parties": ["x"]}),
        content: json!({"text": format!("message {id}")}),
        recipients: to
            .iter()
            .map(|(p, label)| Recipient {
                party: *p,
                from: json!({"party": "alpha"}),
                label: label.clone(),
                via: None,
            })
            .collect(),
    }
}

fn policy() -> HotlinePolicy {
    HotlinePolicy {
        resend_s: 10.0,
        escalate_s: 30.0,
        emergency_resend_s: 2.0,
        emergency_escalate_s: 5.0,
        max_sends: 3,
    }
}

#[test]
fn copies_are_scoped_to_their_parties_and_streamed() {
    for b in backends() {
        let store = b.open();
        let (a, br, c) = (
            party(&store, "alpha"),
            party(&store, "bravo"),
            party(&store, "charlie"),
        );
        let m = msg(1, a.id, &[(br.id, Some(json!({"party": "bravo"})))], "request");
        let sent = store.send_message(&m, 100.0).unwrap();
        assert_eq!(sent.item.direction, Direction::Out);
        assert_eq!(sent.item.seq, 1);
        assert_eq!(sent.receipt.party, a.id);
        assert_eq!(sent.stream.len(), 1);
        assert_eq!(sent.stream[0].party, br.id);
        assert_eq!(sent.stream[0].body["type"], "message");
        assert_eq!(sent.stream[0].body["from"], json!({"party": "alpha"}));
        // The stream entry is the recipient's next alert seq.
        let on_stream = store.alerts_after(br.id, 0, 10).unwrap();
        assert_eq!(on_stream.len(), 1);
        assert_eq!(on_stream[0].seq, sent.stream[0].seq);

        // Each party reads its own copy only; a third reads nothing.
        let inbox = store.messages_after(br.id, 0, 10).unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].direction, Direction::In);
        assert_eq!(inbox[0].content["text"], "message 1");
        assert!(
            inbox[0].to_json().get("to").is_none(),
            "a recipient is not shown the address list"
        );
        assert!(store.messages_after(c.id, 0, 10).unwrap().is_empty());
        assert!(store.message(c.id, &m.id).unwrap().is_none());
        assert!(store.alerts_after(c.id, 0, 10).unwrap().is_empty());
        assert!(matches!(
            store.ack_message(c.id, &m.id, 101.0),
            Err(StoreError::NotFound(_))
        ));
        // The sender cannot acknowledge its own message either.
        assert!(matches!(
            store.ack_message(a.id, &m.id, 101.0),
            Err(StoreError::NotFound(_))
        ));

        // Delivery, then acknowledgement (told to the sender once).
        assert_eq!(
            store
                .mark_delivered(br.id, std::slice::from_ref(&m.id), 101.0)
                .unwrap(),
            vec![m.id.clone()]
        );
        assert!(store
            .mark_delivered(br.id, std::slice::from_ref(&m.id), 102.0)
            .unwrap()
            .is_empty());
        assert!(store
            .mark_delivered(c.id, std::slice::from_ref(&m.id), 102.0)
            .unwrap()
            .is_empty());
        let ack = store.ack_message(br.id, &m.id, 103.0).unwrap();
        assert!(ack.first);
        assert_eq!(ack.acked_at, 103.0);
        assert_eq!(ack.stream.len(), 1);
        assert_eq!(ack.stream[0].party, a.id);
        assert_eq!(ack.stream[0].body["type"], "message.ack");
        assert_eq!(ack.stream[0].body["to"], json!({"party": "bravo"}));
        let again = store.ack_message(br.id, &m.id, 104.0).unwrap();
        assert!(!again.first);
        assert_eq!(again.acked_at, 103.0);
        assert!(again.stream.is_empty());
        let out = store.message(a.id, &m.id).unwrap().unwrap();
        assert_eq!(out.recipients.len(), 1);
        assert_eq!(out.recipients[0].delivered_at, Some(101.0));
        assert_eq!(out.recipients[0].acked_at, Some(103.0));

        // Bad input stores nothing.
        let mut bad = msg(2, a.id, &[(a.id, None)], "text");
        assert!(matches!(
            store.send_message(&bad, 105.0),
            Err(StoreError::Invalid(_))
        ));
        // (a kind is a MessageKind: "gossip" is refused where the text is read)
        assert!(matches!(
            "gossip".parse::<deconflict_store::MessageKind>(),
            Err(StoreError::Invalid(_))
        ));
        bad = msg(2, a.id, &[(br.id, None), (br.id, None)], "text");
        assert!(matches!(
            store.send_message(&bad, 105.0),
            Err(StoreError::Invalid(_))
        ));
        bad = msg(2, a.id, &[(PartyId(9999), None)], "text");
        assert!(matches!(
            store.send_message(&bad, 105.0),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.send_message(&m, 105.0),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.messages_after(a.id, 0, 10).unwrap().len(), 1);
        assert_eq!(store.messages_after(br.id, 0, 10).unwrap().len(), 1);

        // Every step is on both parties' records, and each record verifies.
        for (p, kinds) in [
            (a.id, &["message.send", "message.delivered", "message.acked"][..]),
            (br.id, &["message.receive", "message.deliver", "message.ack"][..]),
        ] {
            let mut out = Vec::new();
            store.export_party_audit(p, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for k in kinds {
                assert!(
                    text.contains(&format!("\"kind\":\"{k}\"")),
                    "{} lacks {k}",
                    b.name
                );
            }
            verify_party_audit(text.as_bytes()).unwrap();
        }
    }
}

#[test]
fn unacknowledged_copies_are_resent_then_escalated_once() {
    for b in backends() {
        let store = b.open();
        let (a, br, c) = (
            party(&store, "alpha"),
            party(&store, "bravo"),
            party(&store, "charlie"),
        );
        let plain = msg(1, a.id, &[(br.id, Some(json!({"party": "bravo"})))], "request");
        let urgent = msg(2, a.id, &[(c.id, Some(json!({"conflict": "c-1"})))], "emergency");
        store.send_message(&plain, 0.0).unwrap();
        store.send_message(&urgent, 0.0).unwrap();
        let p = policy();
        // Nothing due yet.
        assert!(store.sweep_messages(&p, 1.0).unwrap().is_empty());
        // The emergency is re-sent after 2 s; the plain one not yet.
        let s = store.sweep_messages(&p, 2.5).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].party, &s[0].body["resend"]), (c.id, &json!(1)));
        assert!(s[0].body.get("escalated").is_none());
        // Swept again at once: nothing (taken already).
        assert!(store.sweep_messages(&p, 2.5).unwrap().is_empty());
        // At 5 s the emergency escalates: the recipient's copy marked, the sender told.
        let s = store.sweep_messages(&p, 5.0).unwrap();
        let to_c: Vec<_> = s.iter().filter(|e| e.party == c.id).collect();
        let to_a: Vec<_> = s.iter().filter(|e| e.party == a.id).collect();
        assert_eq!(to_c.len(), 1);
        assert_eq!(to_c[0].body["escalated"], true);
        assert_eq!(to_a.len(), 1);
        assert_eq!(to_a[0].body["type"], "message.escalated");
        assert_eq!(to_a[0].body["to"], json!({"conflict": "c-1"}));
        // max_sends (3) bounds the re-sends; escalation happens once.
        let s = store.sweep_messages(&p, 8.0).unwrap();
        assert!(s.iter().all(|e| e.party != c.id), "{s:?}");
        let copy = store.message(c.id, &urgent.id).unwrap().unwrap();
        assert_eq!(copy.sends, 3);
        assert_eq!(copy.escalated_at, Some(5.0));
        // The plain one: re-sent at 10 s, escalated at 30 s; acknowledged, it stops.
        assert_eq!(store.sweep_messages(&p, 10.0).unwrap().len(), 1);
        store.ack_message(br.id, &plain.id, 11.0).unwrap();
        assert!(store.sweep_messages(&p, 40.0).unwrap().is_empty());
        let unacked = store.unacked_messages(c.id, 10).unwrap();
        assert_eq!(unacked.len(), 1);
        assert!(store.unacked_messages(br.id, 10).unwrap().is_empty());
        // The stream entry of the newest send is recorded on the copy.
        assert_eq!(unacked[0].stream_seq, Some(store.last_alert_seq(c.id).unwrap()));
    }
}

#[test]
fn alerts_make_their_parties_sides_of_a_conflict() {
    for b in backends() {
        let store = b.open();
        let (a, br, c) = (
            party(&store, "alpha"),
            party(&store, "bravo"),
            party(&store, "charlie"),
        );
        store
            .append_alerts(
                &[
                    NewAlert {
                        party: a.id,
                        body: json!({"conflict_id": "c-77", "event": "new"}),
                    },
                    NewAlert {
                        party: br.id,
                        body: json!({"conflict_id": "c-77", "event": "new", "other_party": "another party"}),
                    },
                    NewAlert {
                        party: br.id,
                        body: json!({"conflict_id": "c-88", "other_party": "charlie"}),
                    },
                ],
                10.0,
            )
            .unwrap();
        assert_eq!(
            store.conflict_others(a.id, "c-77").unwrap(),
            Some(vec![(br.id, false)])
        );
        assert_eq!(
            store.conflict_others(br.id, "c-77").unwrap(),
            Some(vec![(a.id, false)])
        );
        // Not a side: nothing, the same as an unknown id.
        assert_eq!(store.conflict_others(c.id, "c-77").unwrap(), None);
        assert_eq!(store.conflict_others(c.id, "c-nope").unwrap(), None);
        // A filer's side is noted by the service; named stays named.
        store.note_conflict_sides(&[("c-88".into(), c.id, true)]).unwrap();
        store
            .note_conflict_sides(&[("c-88".into(), c.id, false)])
            .unwrap();
        assert_eq!(
            store.conflict_others(br.id, "c-88").unwrap(),
            Some(vec![(c.id, true)])
        );
        assert_eq!(
            store.conflict_others(c.id, "c-88").unwrap(),
            Some(vec![(br.id, true)])
        );
    }
}
