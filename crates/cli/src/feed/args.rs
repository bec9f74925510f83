//! The command line of `deconflict feed`: the sources, and the service side every bridge
//! shares.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The feeds a bridge can read.
#[derive(Debug, Subcommand)]
pub(crate) enum FeedCmd {
    /// SBS-1 / BaseStation text from dump1090 or readsb (`HOST:30003`): a TCP client that
    /// reconnects with backoff.
    Sbs(SbsArgs),
    /// Mode S frames from a receiver's Beast binary port (`HOST:30005`) or AVR text port
    /// (`HOST:30002`), decoded with rs1090: a TCP client that reconnects with backoff.
    Beast(BeastArgs),
    /// Cursor-on-Target XML from TAK clients and servers: listens on TCP and UDP at one address.
    Cot(CotArgs),
    /// The other way: the party's alerts and hotline messages (its `GET /v1/stream`) as
    /// Cursor-on-Target to the TAK clients that connect over TCP (intruders as tracks, alerts
    /// as GeoChat).
    CotOut(CotOutArgs),
}

/// The service side, common to every bridge.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServiceArgs {
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A file holding the party's bearer token; default: the DECONFLICT_TOKEN variable.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Most reports in one request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Longest a report waits for its batch, milliseconds.
    #[arg(long, default_value_t = 200)]
    pub batch_ms: u64,
    /// Most tries of a batch the service did not acknowledge.
    #[arg(long, default_value_t = 8)]
    pub attempts: u32,
    /// Reports waiting for the service at most (more are dropped and counted `backlog_full`).
    #[arg(long, default_value_t = 50_000)]
    pub backlog: usize,
    /// Seconds between status lines when stderr is not a terminal.
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub status_s: f64,
}

#[derive(Debug, Args)]
pub(crate) struct SbsArgs {
    /// The SBS-1 source, `HOST:PORT` (dump1090: port 30003).
    pub source: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Reconnect when the source sends nothing for this many seconds.
    #[arg(long, default_value_t = 60.0, value_parser = crate::common::seconds)]
    pub idle_s: f64,
    /// Stop when the source closes the connection (after posting what it sent), instead of
    /// reconnecting: for replays and benchmarks.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BeastArgs {
    /// The receiver, `HOST:PORT` (dump1090/readsb: 30005 Beast, 30002 AVR).
    pub source: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    /// The source's format; `auto` tells it by each connection's first byte.
    #[arg(long, value_enum, default_value_t = BeastFormat::Auto)]
    pub format: BeastFormat,
    /// Reconnect when the source sends nothing for this many seconds.
    #[arg(long, default_value_t = 60.0, value_parser = crate::common::seconds)]
    pub idle_s: f64,
    /// Stop when the source closes the connection (after posting what it sent), instead of
    /// reconnecting: for replays and benchmarks.
    #[arg(long)]
    pub once: bool,
}

/// How a receiver frames its Mode S messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BeastFormat {
    /// Told by the first byte of each connection (0x1a: Beast; `*` or `@`: AVR).
    Auto,
    /// Beast binary: 0x1a-escaped frames with a 12 MHz timestamp and signal level.
    Beast,
    /// AVR text: `*<hex>;` or `@<timestamp><hex>;` lines.
    Avr,
}

#[derive(Debug, Args)]
pub(crate) struct CotArgs {
    /// The address to listen on, TCP and UDP (TAK's usual ports: 8087 TCP, 8087 UDP).
    #[arg(long, default_value = "127.0.0.1:8087")]
    pub listen: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    /// The CoT affiliations that are the party's own assets (the letter after `a-`): friend
    /// and assumed friend by default.
    #[arg(long, default_value = "f,a", value_delimiter = ',')]
    pub own: Vec<char>,
    /// Most TCP connections at once.
    #[arg(long, default_value_t = 64)]
    pub max_connections: usize,
    /// Close a TCP connection that sends nothing for this many seconds.
    #[arg(long, default_value_t = 300.0, value_parser = crate::common::seconds)]
    pub idle_s: f64,
    /// Close a TCP connection whose event is not finished this many seconds after its first
    /// byte (a trickling client would otherwise hold a connection slot for ever).
    #[arg(long, default_value_t = 30.0, value_parser = crate::common::seconds)]
    pub event_timeout_s: f64,
    /// TLS on the TCP listener (UDP is then off).
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// TLS on a CoT listener (`feed cot`, `feed cot-out`).
#[derive(Debug, Clone, Args)]
pub(crate) struct TlsArgs {
    /// Serve TCP over TLS with this certificate chain (PEM, leaf first).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Ask every TLS client for a certificate signed by this CA (PEM), as a TAK Server's
    /// streaming port does: a client without one is refused at the handshake and gets nothing.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CotOutArgs {
    /// The TCP address TAK clients connect to. Whoever reaches it sees the party's picture,
    /// as on a TAK Server's plain port: keep it on loopback or the party's own network.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: String,
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A file holding the party's bearer token; default: the DECONFLICT_TOKEN variable.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Most TAK clients at once (more are closed and counted).
    #[arg(long, default_value_t = 64)]
    pub max_connections: usize,
    /// Events waiting for one client at most; a client further behind is dropped.
    #[arg(long, default_value_t = 1024)]
    pub queue: usize,
    /// Seconds between refreshes of the intruders' positions from `GET /v1/tracks` (0: none).
    #[arg(long, default_value_t = 1.0, value_parser = crate::common::seconds)]
    pub refresh_s: f64,
    /// TLS for the TAK clients: with a client CA, only the party's enrolled crews see its
    /// picture.
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Also send every event as one UDP datagram to `ADDR:PORT`: a multicast group (TAK's
    /// default mesh is 239.2.3.1:6969) or one host. UDP is never encrypted: whoever joins the
    /// group reads the party's picture.
    #[arg(long, value_name = "ADDR:PORT")]
    pub udp: Option<std::net::SocketAddr>,
    /// Hops a multicast datagram may take (1: the local network only).
    #[arg(long, default_value_t = 1, requires = "udp", value_parser = clap::value_parser!(u32).range(0..=255))]
    pub udp_ttl: u32,
    /// The local IPv4 address whose interface multicast leaves by (default: the system's
    /// choice).
    #[arg(long, value_name = "IP", requires = "udp")]
    pub udp_interface: Option<std::net::Ipv4Addr>,
    /// Seconds between status lines when stderr is not a terminal.
    #[arg(long, default_value_t = 10.0, value_parser = crate::common::seconds)]
    pub status_s: f64,
}
