//! `deconflict feed cot-out`: one party's alert stream out to its TAK clients. This module
//! owns the network side; what the events say is `deconflict_feeds::cot_out`.
//!
//! - **In**: the party's `GET /v1/stream` (its bearer token), held open and reopened with
//!   backoff (0.5 s doubling to 10 s) with `Last-Event-ID`, so nothing is missed across a
//!   reconnection. A refused token (401/403) stops the bridge with an error. Every
//!   `--refresh-s` it also reads `GET /v1/tracks`, whose `intruders` move the tracks on show
//!   between alerts (an alert comes only when a conflict's level changes). Entries over a
//!   minute old when they arrive (a fresh stream replays from the first) are skipped.
//! - **Out**: a TCP listener (at most `--max-connections` clients). A client is first given
//!   the intruders not yet stale, then every event as it is made. Each client has a queue of
//!   `--queue` events; a client that falls further behind (or whose socket accepts nothing for
//!   10 s) is dropped and counted, so a slow client never holds up the others or the stream.
//!   What a client sends (its own position, pings) is read and thrown away. With
//!   `--tls-cert`/`--tls-key` the listener is TLS, and with `--tls-client-ca` every client must
//!   show a certificate of the party's CA (TAK's enrolment), else it gets nothing. With
//!   `--udp`, every event also goes out as one datagram to a multicast group or a host
//!   (`cot_out/hub.rs` owns the clients' queues and the datagrams).

mod hub;
mod sse;

use super::args::CotOutArgs;
use super::sink::unix_now;
use super::status::Stats;
use anyhow::{Context, Result};
use hub::Hub;
use serde_json::Value;
use sse::Sse;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

/// The stream is reopened when it sends nothing, not even a keep-alive (every 15 s), for this.
const STREAM_IDLE: Duration = Duration::from_secs(45);
/// A client whose socket takes nothing for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the bridge with the party's `token` until Ctrl-C, or an error when the token is refused.
pub(crate) fn run(args: &CotOutArgs, token: String) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(serve(args, token))
}

async fn serve(args: &CotOutArgs, token: String) -> Result<()> {
    let tcp = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on TCP {}", args.listen))?;
    let tls = super::tls::acceptor(&args.tls)?;
    let how = match (&tls, &args.tls.tls_client_ca) {
        (None, _) => "tcp",
        (Some(_), None) => "tcp over tls",
        (Some(_), Some(_)) => "tcp over tls, client certificates required",
    };
    println!("listening on {} ({how})", tcp.local_addr()?);
    let udp = match args.udp {
        Some(to) => {
            let sock = udp_socket(to, args.udp_ttl, args.udp_interface)?;
            println!("sending UDP to {to} (ttl {})", args.udp_ttl);
            Some((sock, to))
        }
        None => None,
    };
    let stats = Stats::new();
    let hub = Arc::new(Hub::new(args.queue, udp, stats.clone()));
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let server = args.server.trim_end_matches('/').to_string();
    let line_hub = hub.clone();
    let status = tokio::spawn(
        stats
            .clone()
            .report_with(Duration::from_secs_f64(args.status_s.max(0.1)), move || {
                line_hub.line()
            }),
    );
    let refresh = tokio::spawn(refresh(
        hub.clone(),
        http.clone(),
        format!("{server}/v1/tracks"),
        token.clone(),
        args.refresh_s,
    ));
    let accept = tokio::spawn(accept(tcp, hub.clone(), args.max_connections.max(1), tls));
    let stream_url = format!("{server}/v1/stream");
    let result = tokio::select! {
        r = stream(&hub, &http, &stream_url, &token) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    for t in [status, refresh, accept] {
        t.abort();
    }
    stats.log(&format!("stopped: {}", hub.line()));
    result
}

/// A non-blocking socket for datagrams to `to`: for a multicast group with `ttl` hops,
/// leaving by the interface of `interface` when given.
fn udp_socket(to: SocketAddr, ttl: u32, interface: Option<std::net::Ipv4Addr>) -> Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    if interface.is_some() && !matches!(to, SocketAddr::V4(v4) if v4.ip().is_multicast()) {
        anyhow::bail!("--udp-interface applies to an IPv4 multicast group, and {to} is not one");
    }
    let sock = Socket::new(Domain::for_address(to), Type::DGRAM, Some(Protocol::UDP))
        .context("cannot open a UDP socket")?;
    match to {
        SocketAddr::V4(v4) if v4.ip().is_multicast() => {
            sock.set_multicast_ttl_v4(ttl)
                .context("cannot set the multicast TTL")?;
            if let Some(ip) = interface {
                sock.set_multicast_if_v4(&ip)
                    .with_context(|| format!("cannot send multicast by the interface of {ip}"))?;
            }
        }
        SocketAddr::V6(v6) if v6.ip().is_multicast() => {
            sock.set_multicast_hops_v6(ttl)
                .context("cannot set the multicast hops")?;
        }
        _ => sock
            .set_ttl_v4(ttl)
            .or_else(|_| sock.set_unicast_hops_v6(ttl))
            .context("cannot set the TTL")?,
    }
    let any: SocketAddr = match to {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    sock.bind(&any.into()).context("cannot bind a UDP socket")?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Accepts TAK clients for ever (each TLS handshake, when there is TLS, on the client's own
/// task and bounded in time, so a stalled one holds up no other client).
async fn accept(tcp: TcpListener, hub: Arc<Hub>, max: usize, tls: Option<tokio_rustls::TlsAcceptor>) {
    let permits = Arc::new(Semaphore::new(max));
    loop {
        let (sock, peer) = match tcp.accept().await {
            Ok(x) => x,
            Err(e) => {
                hub.stats.once("accept", &format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            hub.c.refused.fetch_add(1, Ordering::Relaxed);
            hub.stats
                .once("connections", &format!("{peer}: over --max-connections, closed"));
            continue;
        };
        let _ = sock.set_nodelay(true);
        let (hub, tls) = (hub.clone(), tls.clone());
        tokio::spawn(async move {
            let why = match tls {
                None => served(&hub, sock).await,
                Some(acceptor) => {
                    let hs = tokio::time::timeout(
                        deconflict_server::tls::HANDSHAKE_TIMEOUT,
                        acceptor.accept(sock),
                    )
                    .await;
                    match hs {
                        Ok(Ok(s)) => served(&hub, s).await,
                        Ok(Err(e)) => format!("TLS handshake failed: {e}"),
                        Err(_) => "TLS handshake timed out".to_string(),
                    }
                }
            };
            hub.stats
                .once(&format!("closed {peer}"), &format!("{peer} closed: {why}"));
            drop(permit);
        });
    }
}

/// A client from joining to leaving; says why it left.
async fn served(hub: &Hub, sock: impl AsyncRead + AsyncWrite + Unpin) -> String {
    let (id, rx) = hub.join(unix_now());
    let why = client(sock, rx).await;
    hub.leave(id);
    why
}

/// Writes what the client's queue brings; reads and discards what it sends.
async fn client(sock: impl AsyncRead + AsyncWrite + Unpin, mut rx: mpsc::Receiver<Arc<str>>) -> String {
    let (mut rd, mut wr) = tokio::io::split(sock);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Some(ev) => match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(ev.as_bytes())).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return e.to_string(),
                    Err(_) => return format!("took nothing for {} s", WRITE_TIMEOUT.as_secs()),
                },
                None => return "dropped: too far behind".into(),
            },
            r = rd.read(&mut buf) => match r {
                Ok(0) => return "end of stream".into(),
                Ok(_) => {}
                Err(e) => return e.to_string(),
            },
        }
    }
}

/// Every `every_s`: the intruders of `GET /v1/tracks` move the tracks on show; those past
/// their `stale` are forgotten.
async fn refresh(hub: Arc<Hub>, http: reqwest::Client, url: String, token: String, every_s: f64) {
    let every = Duration::from_secs_f64(if every_s > 0.0 { every_s.max(0.1) } else { 1.0 });
    loop {
        tokio::time::sleep(every).await;
        if every_s > 0.0 {
            let got = http
                .get(&url)
                .bearer_auth(&token)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            match got {
                Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                    Ok(v) => {
                        let mut inner = hub.lock();
                        let evs = inner.picture.refresh(&v["intruders"], unix_now());
                        hub.broadcast(&mut inner, evs);
                    }
                    Err(e) => hub.stats.once("refresh", &format!("GET /v1/tracks: {e}")),
                },
                Ok(r) => hub
                    .stats
                    .once("refresh", &format!("GET /v1/tracks: {}", r.status())),
                Err(e) => hub.stats.once("refresh", &format!("GET /v1/tracks: {e}")),
            }
        }
        hub.lock().picture.expire(unix_now());
    }
}

/// Backoff before try `n + 1` of opening the stream: 0.5 s doubling, at most 10 s.
fn backoff(n: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << n.min(5)).min(10_000))
}

enum Ended {
    /// Open it again (why it ended); `true` when it had been open.
    Again(String, bool),
    /// The token was refused: stop.
    Refused(String),
}

/// Holds the stream for ever; ends only when the token is refused.
async fn stream(hub: &Hub, http: &reqwest::Client, url: &str, token: &str) -> Result<()> {
    let mut last: Option<u64> = None;
    let mut fails = 0u32;
    loop {
        let ended = once(hub, http, url, token, &mut last).await;
        hub.c.connected.store(false, Ordering::Relaxed);
        match ended {
            Ended::Refused(why) => anyhow::bail!("{why}"),
            Ended::Again(why, was_open) => {
                if was_open {
                    fails = 0;
                }
                let wait = backoff(fails);
                fails = fails.saturating_add(1);
                hub.c.reconnects.fetch_add(1, Ordering::Relaxed);
                // Once a minute per kind of ending (unreachable, closed, ...).
                let kind = why.split([':', '(']).next().unwrap_or("");
                hub.stats.once(
                    &format!("stream {kind}"),
                    &format!("the stream ended ({why}); again in {:.1} s", wait.as_secs_f64()),
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// One connection of the stream, resumed after `last`, which it advances.
async fn once(hub: &Hub, http: &reqwest::Client, url: &str, token: &str, last: &mut Option<u64>) -> Ended {
    let mut req = http
        .get(url)
        .bearer_auth(token)
        .header("accept", "text/event-stream");
    if let Some(s) = last {
        req = req.header("last-event-id", s.to_string());
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Ended::Again(format!("unreachable: {e}"), false),
    };
    let status = resp.status().as_u16();
    if status != 200 {
        let body = resp.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        return match status {
            401 | 403 => Ended::Refused(format!("the service refused the token ({status}): {body}")),
            _ => Ended::Again(format!("{status}: {body}"), false),
        };
    }
    hub.c.connected.store(true, Ordering::Relaxed);
    if last.is_none() {
        hub.stats.log(&format!("stream open at {url}"));
    }
    let mut sse = Sse::default();
    let mut events = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(STREAM_IDLE, resp.chunk()).await {
            Ok(Ok(Some(c))) => c,
            Ok(Ok(None)) => return Ended::Again("the service closed it".into(), true),
            Ok(Err(e)) => return Ended::Again(format!("broken: {e}"), true),
            Err(_) => return Ended::Again(format!("nothing for {} s", STREAM_IDLE.as_secs()), true),
        };
        if let Err(e) = sse.push(&chunk, &mut events) {
            return Ended::Again(e, true);
        }
        for ev in events.drain(..) {
            if ev.event == "error" {
                // A slow consumer is told the last sequence number it got: resume there.
                let v: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                if let Some(s) = v["last_seq"].as_u64() {
                    *last = Some(s);
                }
                let why = v["error"].as_str().unwrap_or("error").to_string();
                return Ended::Again(format!("the service said: {why}"), true);
            }
            if let Some(s) = hub.event(&ev) {
                *last = Some(last.map_or(s, |l| l.max(s)));
            }
        }
    }
}
