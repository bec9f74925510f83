#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! Revocation ends everything a token holds: a live stream opened before `token revoke` is
//! told so and closed within a second, and the token opens no new one. A stopping service ends
//! its open streams too, rather than wait for their clients.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::call;
use support::single::{cli, party, start};

#[test]
fn a_revoked_tokens_open_stream_closes_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let alpha = party(dir.path(), "ALPHA");
    let bravo = party(dir.path(), "BRAVO");
    // Each stream is read on a thread of its own, which reports every line and the end.
    let open = |token: &str| support::stream_lines(&s.base, token);
    let alpha_rx = open(&alpha);
    let bravo_rx = open(&bravo);
    // Both streams are live (nothing has ended them).
    std::thread::sleep(Duration::from_millis(500));
    assert!(alpha_rx.try_recv().is_err_and(|e| e == mpsc::TryRecvError::Empty));
    cli(dir.path(), &["token", "revoke", "ALPHA"]);
    let (closed_after, lines) = support::stream_end(&alpha_rx, Instant::now(), "the revoked token's stream");
    eprintln!(
        "revoked stream closed {} ms after token revoke returned",
        closed_after.as_millis()
    );
    assert!(
        closed_after <= Duration::from_secs(1),
        "closed after {closed_after:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("token revoked")),
        "no revocation event: {lines:?}"
    );
    // The other party's stream goes on; the revoked token opens nothing new.
    assert!(bravo_rx.try_recv().is_err_and(|e| e == mpsc::TryRecvError::Empty));
    let (st, v) = call("GET", &format!("{}/v1/stream", s.base), Some(&alpha), None);
    assert_eq!(st, 401, "{v}");
    // A new token of the same party opens a stream again.
    let fresh = cli(dir.path(), &["token", "issue", "ALPHA"]);
    let fresh_rx = open(&fresh);
    std::thread::sleep(Duration::from_millis(600));
    assert!(fresh_rx.try_recv().is_err_and(|e| e == mpsc::TryRecvError::Empty));
}

/// A stream held open must not hold up a graceful shutdown: on SIGTERM each open stream is
/// told the service is stopping (with the last sequence number it got, to resume from) and
/// ended, and the process exits. (It once waited for every client to hang up, for ever.)
#[test]
fn sigterm_ends_open_streams_and_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());
    let alpha = party(dir.path(), "ALPHA");
    let rx = support::stream_lines(&s.base, &alpha);
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    let pid = s.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (ended_after, lines) = support::stream_end(&rx, t0, "the stream of a stopping service");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("shutting down") && l.contains("last_seq")),
        "no shutdown event: {lines:?}"
    );
    let exited = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "stream ended {} ms and the process exited ({exited}) {} ms after SIGTERM",
        ended_after.as_millis(),
        t0.elapsed().as_millis()
    );
    assert!(exited.success(), "{exited}");
}
