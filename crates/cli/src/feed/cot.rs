//! The Cursor-on-Target source: a TCP listener (TAK clients and servers connect and send
//! events back to back; at most `--max-connections` at once, each closed after `--idle-s` of
//! silence) and a UDP socket on the same address (one or more events per datagram, as TAK's
//! mesh SA sends them). Each connection has a framer of its own; every event is parsed with
//! the time it arrived.

use super::args::CotArgs;
use super::sink::{unix_now, Sink};
use anyhow::{Context, Result};
use deconflict_feeds::cot::{parse_event, CotConfig};
use deconflict_feeds::frame::Framer;
use deconflict_feeds::Reject;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

/// The uids heard in the last minute: the status line's aircraft.
#[derive(Default)]
struct Seen(Mutex<HashMap<String, f64>>);

impl Seen {
    fn heard(&self, uid: &str, now: f64) -> usize {
        let Ok(mut m) = self.0.lock() else { return 0 };
        if let Some(t) = m.get_mut(uid) {
            *t = now;
        } else {
            if m.len() >= 10_000 {
                m.retain(|_, t| now - *t <= 60.0);
            }
            m.insert(uid.to_string(), now);
        }
        m.len()
    }
}

struct Ctx {
    sink: Sink,
    cfg: CotConfig,
    seen: Seen,
}

impl Ctx {
    fn frame(&self, frame: Result<&[u8], Reject>, now: f64) {
        let frame = match frame {
            Ok(f) => f,
            Err(why) => return self.sink.refused(why, "bytes outside any whole event"),
        };
        self.sink.stats.messages.fetch_add(1, Ordering::Relaxed);
        match parse_event(frame, now, &self.cfg) {
            Ok(r) => {
                let n = self.seen.heard(&r.asset, now);
                self.sink.stats.aircraft.store(n as u64, Ordering::Relaxed);
                self.sink.send(r);
            }
            Err(why) => self.sink.refused(why, &String::from_utf8_lossy(frame)),
        }
    }
}

pub(crate) async fn run(args: &CotArgs, sink: Sink) -> Result<()> {
    let tcp = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on TCP {}", args.listen))?;
    let addr = tcp.local_addr()?;
    // The same port for UDP (what was asked, or the one TCP was given for port 0).
    let udp = UdpSocket::bind(addr)
        .await
        .with_context(|| format!("cannot listen on UDP {addr}"))?;
    println!("listening on {addr} (tcp and udp)");
    let ctx = Arc::new(Ctx {
        sink,
        cfg: CotConfig {
            own: args.own.clone(),
        },
        seen: Seen::default(),
    });
    let udp_ctx = ctx.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, _)) = udp.recv_from(&mut buf).await else {
                continue;
            };
            let now = unix_now();
            // A datagram is whole or nothing: what is left unclosed is a cut-off event.
            let mut f = Framer::new();
            f.push(&buf[..n], |fr| udp_ctx.frame(fr, now));
            if !f.pending_is_blank() {
                udp_ctx
                    .sink
                    .refused(Reject::Truncated, "a datagram ending inside an event");
            }
        }
    });
    let permits = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let idle = Duration::from_secs_f64(args.idle_s.max(0.1));
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(x) => x,
            Err(e) => {
                ctx.sink.stats.once("accept", &format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            ctx.sink
                .stats
                .once("connections", &format!("{peer}: over --max-connections, closed"));
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let why = read(stream, &ctx, idle).await;
            ctx.sink
                .stats
                .once(&format!("closed {peer}"), &format!("{peer} closed: {why}"));
            drop(permit);
        });
    }
}

async fn read(mut stream: TcpStream, ctx: &Ctx, idle: Duration) -> String {
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(0)) => {
                if !framer.pending_is_blank() {
                    let rest = framer.pending();
                    ctx.sink.refused(
                        Reject::Truncated,
                        &format!("{rest} bytes of an unclosed event at the end"),
                    );
                }
                return "end of stream".into();
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return format!("nothing for {:.0} s", idle.as_secs_f64()),
        };
        let now = unix_now();
        framer.push(&buf[..n], |fr| ctx.frame(fr, now));
    }
}
