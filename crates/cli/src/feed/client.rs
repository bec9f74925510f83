//! The TCP client side of the receiver feeds (SBS-1 on 30003, Beast on 30005): connect to the
//! source, hand every chunk of bytes to a [`Decoder`] with the time it arrived, and reconnect
//! with backoff (0.5 s doubling to 10 s) when the source refuses, closes or goes silent for
//! `--idle-s`. What the bytes mean is the decoder's; this module owns only the connection.

use super::sink::{unix_now, Sink};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// What a receiver feed does with the bytes of a connection.
pub(crate) trait Decoder {
    /// Takes bytes received at `now`, handing reports and refusals to `sink`.
    fn bytes(&mut self, data: &[u8], now: f64, sink: &Sink);
    /// Forgets a message cut off when its connection ended (the aircraft state is kept).
    fn reset(&mut self);
    /// Forgets aircraft not heard for a while.
    fn prune(&mut self, now: f64);
    /// Aircraft with state, for the status line.
    fn aircraft(&self) -> usize;
}

/// Where to connect and when to give up on a connection.
pub(crate) struct Source<'a> {
    pub addr: &'a str,
    pub idle: Duration,
    /// Stop when the source closes, instead of reconnecting.
    pub once: bool,
}

impl<'a> Source<'a> {
    /// `addr`, reconnected when silent for `idle_s` seconds (at least 0.1; the command line
    /// has checked it is a number of seconds, `common::seconds`).
    pub(crate) fn new(addr: &'a str, idle_s: f64, once: bool) -> Self {
        Source {
            addr,
            idle: Duration::from_secs_f64(idle_s.max(0.1)),
            once,
        }
    }
}

/// Reads the source until it closes for good (`once`) or the task is dropped.
pub(crate) async fn run(src: Source<'_>, decoder: &mut impl Decoder, sink: &Sink) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let conn = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(src.addr)).await;
        let mut stream = match conn {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                sink.stats
                    .once("source", &format!("source {} unreachable: {e}", src.addr));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
            Err(_) => {
                sink.stats
                    .once("source", &format!("source {}: connect timed out", src.addr));
                continue;
            }
        };
        sink.stats.log(&format!("connected to {}", src.addr));
        backoff = Duration::from_millis(500);
        let why = read(&mut stream, decoder, sink, src.idle).await;
        decoder.reset();
        if src.once {
            sink.stats
                .log(&format!("source closed ({why}); --once: stopping"));
            return;
        }
        sink.stats.log(&format!("source closed ({why}); reconnecting"));
        tokio::time::sleep(backoff).await;
    }
}

/// Reads one connection until it ends; says why it ended.
async fn read(stream: &mut TcpStream, decoder: &mut impl Decoder, sink: &Sink, idle: Duration) -> String {
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_prune = unix_now();
    loop {
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return "end of stream".into(),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return format!("nothing for {:.0} s", idle.as_secs_f64()),
        };
        let now = unix_now();
        decoder.bytes(&buf[..n], now, sink);
        if now - last_prune > 5.0 {
            decoder.prune(now);
            last_prune = now;
        }
        sink.stats
            .aircraft
            .store(decoder.aircraft() as u64, Ordering::Relaxed);
    }
}
