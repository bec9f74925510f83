//! The Cursor-on-Target source: a TCP listener (TAK clients and servers connect and send
//! events back to back; at most `--max-connections` at once, each closed after `--idle-s` of
//! silence, or `--event-timeout-s` after an event began that it has not finished, so that a
//! trickling client holds no slot for long: `slow_source`) and a UDP socket on the same
//! address (one or more events per datagram, as TAK's mesh SA sends them). Each connection has a framer of its own; every event is parsed with
//! the time it arrived. With `--tls-cert`/`--tls-key` the TCP side is TLS (with
//! `--tls-client-ca`, mutual TLS: TAK's streaming port 8089) and there is no UDP, which could
//! not be.

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
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
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
    let tls = super::tls::acceptor(&args.tls)?;
    let ctx = Arc::new(Ctx {
        sink,
        cfg: CotConfig {
            own: args.own.clone(),
        },
        seen: Seen::default(),
    });
    if tls.is_some() {
        let mutual = if args.tls.tls_client_ca.is_some() {
            ", client certificates required"
        } else {
            ""
        };
        println!("listening on {addr} (tcp over tls{mutual})");
    } else {
        // The same port for UDP (what was asked, or the one TCP was given for port 0).
        let udp = UdpSocket::bind(addr)
            .await
            .with_context(|| format!("cannot listen on UDP {addr}"))?;
        println!("listening on {addr} (tcp and udp)");
        tokio::spawn(udp_loop(udp, ctx.clone()));
    }
    let permits = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let limits = Limits {
        idle: Duration::from_secs_f64(args.idle_s.max(0.1)),
        event: Duration::from_secs_f64(args.event_timeout_s.max(0.1)),
    };
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
        let (ctx, tls) = (ctx.clone(), tls.clone());
        tokio::spawn(async move {
            let why = match tls {
                None => read(stream, &ctx, limits).await,
                Some(acceptor) => {
                    match tokio::time::timeout(
                        deconflict_server::tls::HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => read(s, &ctx, limits).await,
                        Ok(Err(e)) => format!("TLS handshake failed: {e}"),
                        Err(_) => "TLS handshake timed out".to_string(),
                    }
                }
            };
            ctx.sink
                .stats
                .once(&format!("closed {peer}"), &format!("{peer} closed: {why}"));
            drop(permit);
        });
    }
}

/// Datagrams: each one whole or nothing.
async fn udp_loop(udp: UdpSocket, ctx: Arc<Ctx>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, _)) = udp.recv_from(&mut buf).await else {
            continue;
        };
        let now = unix_now();
        // A datagram is whole or nothing: what is left unclosed is a cut-off event.
        let mut f = Framer::new();
        f.push(&buf[..n], |fr| ctx.frame(fr, now));
        if !f.pending_is_blank() {
            ctx.sink
                .refused(Reject::Truncated, "a datagram ending inside an event");
        }
    }
}

/// How long a TCP connection may go without a byte, and without finishing the event it began.
#[derive(Clone, Copy)]
struct Limits {
    idle: Duration,
    event: Duration,
}

async fn read(mut stream: impl AsyncRead + Unpin, ctx: &Ctx, limits: Limits) -> String {
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 64 * 1024];
    // When the unfinished event in the framer began (None: nothing pending).
    let mut started: Option<tokio::time::Instant> = None;
    loop {
        let wait = match started {
            Some(t) => limits.idle.min(limits.event.saturating_sub(t.elapsed())),
            None => limits.idle,
        };
        let n = match tokio::time::timeout(wait, stream.read(&mut buf)).await {
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
            Err(_) if started.is_some_and(|t| t.elapsed() >= limits.event) => {
                let why = format!(
                    "an event not finished {:.0} s after it began (--event-timeout-s)",
                    limits.event.as_secs_f64()
                );
                ctx.sink.stats.reject("slow_source", 1, &why);
                return why;
            }
            Err(_) => return format!("nothing for {:.0} s", limits.idle.as_secs_f64()),
        };
        let now = unix_now();
        let mut ended = false;
        framer.push(&buf[..n], |fr| {
            ended = true;
            ctx.frame(fr, now)
        });
        // The clock of an event starts at its first byte: a new one if one ended here.
        if framer.pending_is_blank() {
            started = None;
        } else if ended || started.is_none() {
            started = Some(tokio::time::Instant::now());
        }
    }
}
