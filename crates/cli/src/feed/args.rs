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
    /// Cursor-on-Target XML from TAK clients and servers: listens on TCP and UDP at one address.
    Cot(CotArgs),
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
    #[arg(long, default_value_t = 10.0)]
    pub status_s: f64,
}

#[derive(Debug, Args)]
pub(crate) struct SbsArgs {
    /// The SBS-1 source, `HOST:PORT` (dump1090: port 30003).
    pub source: String,
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Reconnect when the source sends nothing for this many seconds.
    #[arg(long, default_value_t = 60.0)]
    pub idle_s: f64,
    /// Stop when the source closes the connection (after posting what it sent), instead of
    /// reconnecting: for replays and benchmarks.
    #[arg(long)]
    pub once: bool,
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
    #[arg(long, default_value_t = 300.0)]
    pub idle_s: f64,
}
