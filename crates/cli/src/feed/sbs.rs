//! The SBS-1 source: a TCP client of dump1090/readsb's BaseStation port. Reads lines (each at
//! most `sbs::MAX_LINE` bytes; a longer one is thrown away whole, `malformed`), hands each to the
//! merger with the time it arrived, and reconnects with backoff (0.5 s doubling to 10 s) when
//! the source refuses, closes or goes silent for `--idle-s`.

use super::args::SbsArgs;
use super::sink::{unix_now, Sink};
use anyhow::Result;
use deconflict_feeds::sbs::{SbsMerger, MAX_LINE};
use deconflict_feeds::Reject;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

pub(crate) async fn run(args: &SbsArgs, sink: Sink) -> Result<()> {
    let mut merger = SbsMerger::new();
    let mut backoff = Duration::from_millis(500);
    let idle = Duration::from_secs_f64(args.idle_s.max(0.1));
    loop {
        let conn = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&args.source)).await;
        let mut stream = match conn {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                sink.stats
                    .once("source", &format!("source {} unreachable: {e}", args.source));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
            Err(_) => {
                sink.stats
                    .once("source", &format!("source {}: connect timed out", args.source));
                continue;
            }
        };
        sink.stats.log(&format!("connected to {}", args.source));
        backoff = Duration::from_millis(500);
        let why = read(&mut stream, &mut merger, &sink, idle).await;
        if args.once {
            sink.stats
                .log(&format!("source closed ({why}); --once: stopping"));
            return Ok(());
        }
        sink.stats.log(&format!("source closed ({why}); reconnecting"));
        tokio::time::sleep(backoff).await;
    }
}

/// Reads one connection until it ends; says why it ended.
async fn read(stream: &mut TcpStream, merger: &mut SbsMerger, sink: &Sink, idle: Duration) -> String {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::with_capacity(MAX_LINE);
    let mut too_long = false;
    let mut last_prune = unix_now();
    loop {
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return "end of stream".into(),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return format!("nothing for {:.0} s", idle.as_secs_f64()),
        };
        let now = unix_now();
        for &b in &buf[..n] {
            if b != b'\n' {
                if line.len() < MAX_LINE {
                    line.push(b);
                } else {
                    too_long = true;
                }
                continue;
            }
            sink.stats.messages.fetch_add(1, Ordering::Relaxed);
            if too_long {
                sink.refused(Reject::Malformed, "a line over the length bound");
            } else {
                let text = String::from_utf8_lossy(&line);
                match merger.push_line(&text, now) {
                    Ok(Some(r)) => sink.send(r),
                    Ok(None) => {}
                    Err(why) => sink.refused(why, &text),
                }
            }
            line.clear();
            too_long = false;
        }
        if now - last_prune > 5.0 {
            merger.prune(now);
            last_prune = now;
        }
        sink.stats.aircraft.store(merger.len() as u64, Ordering::Relaxed);
    }
}
