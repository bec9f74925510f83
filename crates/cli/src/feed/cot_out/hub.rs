//! The bridge's hub: the intruders on show ([`Picture`]) and every way out of the bridge — the
//! TAK clients' queues and the optional UDP destination — behind one lock that is never held
//! across an await. An event of the party's stream comes in ([`Hub::event`]); the CoT events
//! it makes go to every client's queue and, as one datagram each, to the UDP destination.
//!
//! A client whose queue is full is dropped (the others and the stream never wait for it). UDP
//! has no receiver to wait for: a datagram the socket cannot take at once is counted lost.

use super::super::sink::unix_now;
use super::super::status::Stats;
use deconflict_feeds::cot_out::{is_history, message_event, summary_event, Picture};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

use super::sse::SseEvent;

/// The most a CoT datagram carries (an IPv4 UDP payload); a bigger event is not sent by UDP.
pub(super) const MAX_DATAGRAM: usize = 65_507;

/// What the status line shows.
#[derive(Default)]
pub(super) struct Counters {
    pub alerts: AtomicU64,
    pub messages: AtomicU64,
    /// Events handed to clients (one event to three clients is three).
    pub sent: AtomicU64,
    pub clients: AtomicU64,
    /// Clients dropped for being too slow.
    pub dropped: AtomicU64,
    /// Connections closed at once for being over `--max-connections`.
    pub refused: AtomicU64,
    pub reconnects: AtomicU64,
    /// Entries too old to show (the replay of a fresh stream, or held back by an outage).
    pub history: AtomicU64,
    pub connected: AtomicBool,
    /// Datagrams sent to the UDP destination, and those it could not take.
    pub udp_sent: AtomicU64,
    pub udp_lost: AtomicU64,
}

pub(super) struct Inner {
    pub picture: Picture,
    clients: HashMap<u64, mpsc::Sender<Arc<str>>>,
    next: u64,
}

/// The picture and the clients' queues, behind one lock that is never held across an await.
pub(super) struct Hub {
    inner: Mutex<Inner>,
    queue: usize,
    udp: Option<(UdpSocket, SocketAddr)>,
    pub c: Counters,
    pub stats: Arc<Stats>,
}

impl Hub {
    /// A hub with `queue` events per client at most, sending also to `udp` (a non-blocking
    /// socket and its destination) when given.
    pub(super) fn new(queue: usize, udp: Option<(UdpSocket, SocketAddr)>, stats: Arc<Stats>) -> Hub {
        Hub {
            inner: Mutex::new(Inner {
                picture: Picture::default(),
                clients: HashMap::new(),
                next: 0,
            }),
            queue: queue.max(1),
            udp,
            c: Counters::default(),
            stats,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands `events` to every client, and to the UDP destination; a client whose queue is
    /// full is dropped.
    pub(super) fn broadcast(&self, inner: &mut Inner, events: Vec<String>) {
        if events.is_empty() {
            return;
        }
        if let Some((sock, to)) = &self.udp {
            for ev in &events {
                let sent = ev.len() <= MAX_DATAGRAM && sock.send_to(ev.as_bytes(), to).is_ok();
                if sent {
                    self.c.udp_sent.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.c.udp_lost.fetch_add(1, Ordering::Relaxed);
                    self.stats.once(
                        "udp",
                        &format!("a datagram to {to} was not sent (too big, or the socket was full)"),
                    );
                }
            }
        }
        let events: Vec<Arc<str>> = events.into_iter().map(Arc::from).collect();
        let mut slow = Vec::new();
        for (id, tx) in &inner.clients {
            for ev in &events {
                if tx.try_send(ev.clone()).is_err() {
                    slow.push(*id);
                    break;
                }
                self.c.sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        for id in slow {
            inner.clients.remove(&id);
            self.c.dropped.fetch_add(1, Ordering::Relaxed);
            self.c
                .clients
                .store(inner.clients.len() as u64, Ordering::Relaxed);
            self.stats
                .once("slow", &format!("a client {} events behind dropped", self.queue));
        }
    }

    /// A new client's queue, holding the intruders on show.
    pub(super) fn join(&self, now: f64) -> (u64, mpsc::Receiver<Arc<str>>) {
        let (tx, rx) = mpsc::channel(self.queue);
        let mut inner = self.lock();
        for ev in inner.picture.current(now) {
            if tx.try_send(Arc::from(ev)).is_err() {
                break;
            }
            self.c.sent.fetch_add(1, Ordering::Relaxed);
        }
        let id = inner.next;
        inner.next += 1;
        inner.clients.insert(id, tx);
        self.c
            .clients
            .store(inner.clients.len() as u64, Ordering::Relaxed);
        (id, rx)
    }

    pub(super) fn leave(&self, id: u64) {
        let mut inner = self.lock();
        inner.clients.remove(&id);
        self.c
            .clients
            .store(inner.clients.len() as u64, Ordering::Relaxed);
    }

    /// One event of the stream; returns its sequence number when it has one.
    pub(super) fn event(&self, ev: &SseEvent) -> Option<u64> {
        let seq = ev.id.as_deref().and_then(|i| i.trim().parse::<u64>().ok());
        let now = unix_now();
        let body: Value = match serde_json::from_str(&ev.data) {
            Ok(v) => v,
            Err(_) => {
                self.stats
                    .reject("malformed", 1, "an event whose data is not JSON");
                return seq;
            }
        };
        if is_history(&body, now) {
            self.c.history.fetch_add(1, Ordering::Relaxed);
            return seq;
        }
        // The events it makes, handed out under the same lock.
        let mut inner = self.lock();
        let made = match ev.event.as_str() {
            "alert" if body["type"] == "alert_summary" => summary_event(&body, seq, now).map(|e| vec![e]),
            "alert" => inner.picture.alert(&body, seq, now).inspect(|_| {
                self.c.alerts.fetch_add(1, Ordering::Relaxed);
            }),
            "message" => message_event(&body, now).map(|e| {
                self.c.messages.fetch_add(1, Ordering::Relaxed);
                vec![e]
            }),
            _ => Ok(Vec::new()),
        };
        match made {
            Ok(events) => self.broadcast(&mut inner, events),
            Err(why) => {
                drop(inner);
                let mut s: String = ev.data.chars().take(120).collect();
                s.retain(|c| !c.is_control());
                self.stats.reject(why.reason(), 1, &format!("{} {s:?}", ev.event));
            }
        }
        seq
    }

    pub(super) fn line(&self) -> String {
        let c = &self.c;
        let rej = self.stats.rejected();
        let total: u64 = rej.values().sum();
        let by: Vec<String> = rej.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "{} clients, {} alerts, {} messages, {} events sent, {} intruders, {} dropped clients, {} refused connections, {}stream {} ({} reconnects, {} old entries skipped), {total} rejected{}",
            c.clients.load(Ordering::Relaxed),
            c.alerts.load(Ordering::Relaxed),
            c.messages.load(Ordering::Relaxed),
            c.sent.load(Ordering::Relaxed),
            self.lock().picture.len(),
            c.dropped.load(Ordering::Relaxed),
            c.refused.load(Ordering::Relaxed),
            match &self.udp {
                Some((_, to)) => format!(
                    "{} datagrams to {to} ({} lost), ",
                    c.udp_sent.load(Ordering::Relaxed),
                    c.udp_lost.load(Ordering::Relaxed)
                ),
                None => String::new(),
            },
            if c.connected.load(Ordering::Relaxed) { "open" } else { "closed" },
            c.reconnects.load(Ordering::Relaxed),
            c.history.load(Ordering::Relaxed),
            if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) }
        )
    }
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;

    /// The stream's `alert_summary` entry `seq`: one chat event for every client.
    fn summary(seq: u64) -> SseEvent {
        SseEvent {
            event: "alert".into(),
            id: Some(seq.to_string()),
            data: r#"{"type":"alert_summary","suppressed":7,"by_level":{"warning":7}}"#.into(),
        }
    }

    #[test]
    fn a_client_that_falls_a_queue_behind_is_dropped_and_the_others_get_everything() {
        let hub = Hub::new(3, None, Stats::new());
        let (_slow, _never_read) = hub.join(unix_now());
        let (_, mut reader) = hub.join(unix_now());
        let mut got = 0;
        for seq in 1..=10 {
            assert_eq!(hub.event(&summary(seq)), Some(seq));
            while let Ok(ev) = reader.try_recv() {
                assert!(ev.contains(&format!("deconflict-summary.{seq}")), "{ev}");
                got += 1;
            }
        }
        assert_eq!(got, 10);
        // The slow one went at the fourth event, three (its queue) waiting.
        assert_eq!(hub.c.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(hub.c.clients.load(Ordering::Relaxed), 1);
        assert_eq!(hub.c.sent.load(Ordering::Relaxed), 10 + 3);
        assert!(hub.line().contains("1 clients"), "{}", hub.line());
        assert!(hub.line().contains("1 dropped clients"), "{}", hub.line());
    }

    #[test]
    fn every_event_goes_out_as_one_datagram_too() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.set_nonblocking(true).unwrap();
        let to = rx.local_addr().unwrap();
        let hub = Hub::new(8, Some((tx, to)), Stats::new());
        for seq in 1..=3 {
            hub.event(&summary(seq));
        }
        let mut buf = vec![0u8; MAX_DATAGRAM];
        for seq in 1..=3 {
            let n = rx.recv(&mut buf).unwrap();
            let ev = std::str::from_utf8(&buf[..n]).unwrap();
            assert!(ev.starts_with("<?xml") || ev.starts_with("<event"), "{ev}");
            assert!(ev.trim_end().ends_with("</event>"), "{ev}");
            assert!(ev.contains(&format!("deconflict-summary.{seq}")), "{ev}");
        }
        assert_eq!(hub.c.udp_sent.load(Ordering::Relaxed), 3);
        assert!(
            hub.line().contains(&format!("3 datagrams to {to} (0 lost)")),
            "{}",
            hub.line()
        );
    }

    #[test]
    fn an_event_that_is_not_json_is_counted_and_its_sequence_still_kept() {
        let hub = Hub::new(8, None, Stats::new());
        let ev = SseEvent {
            event: "alert".into(),
            id: Some("9".into()),
            data: "{nope".into(),
        };
        assert_eq!(hub.event(&ev), Some(9));
        assert_eq!(hub.stats.rejected().get("malformed"), Some(&1));
    }
}
