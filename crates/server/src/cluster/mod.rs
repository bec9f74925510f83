//! Several nodes as one service: track reports and alerts travel between nodes over NATS
//! JetStream (see `docs/operations.md` and `docs/architecture.md`).
//!
//! * **Reports.** A node stores the reports its API accepts, ingests them, and publishes them
//!   to stream `DCF_TRACKS` on subject `dcf.tracks.<res-0 cell>.<res-1 cell>.<res-2 cell>`
//!   (H3 cells of the report's position), so a node can subscribe to one region at any of the
//!   three levels. Each node reads the stream through durable consumers named after it, so a
//!   node that restarts resumes from its stream position.
//! * **Who speaks.** Every node scans the picture it holds. The alerts of a pair are sent by
//!   exactly one node: the node that took the latest report of the pair's lower `(party,
//!   asset)` if that node is alive, else the node of the other track, else the live node with
//!   the lowest name. Liveness is a heartbeat on core NATS subject `dcf.nodes.<node>` every
//!   second; a node not heard for 3 s is taken as gone. Without NATS a node hears nobody and
//!   speaks for every pair it sees, so local detection goes on.
//! * **Alerts** are stored (per-party gap-free sequence numbers in the shared database) by the
//!   node that speaks, then published to stream `DCF_ALERTS` on `dcf.alerts.<party id>`. Every
//!   node forwards them to its own live streams of that party; a stream that sees a gap reads
//!   the missing alerts from the database, and in a cluster polls the database every second,
//!   so an alert is never skipped nor sent twice even while NATS is away.
//! * **While NATS is away** outbound messages wait in a bounded queue (oldest dropped first,
//!   counted) and go out in order when it returns.
//!
//! Modules: [`subjects`] (subjects and node names), [`wire`] (what travels), [`peers`] (who is
//! alive), [`nats`] (the JetStream connection, publisher and consumers).

mod nats;
mod peers;
pub mod subjects;
pub(crate) mod wire;

use crate::tactical::{Origin, LOCAL};
use deconflict_core::TrackReport;
use deconflict_store::{PartyId, StoredAlert};
use peers::Peers;
pub use peers::PEER_TIMEOUT;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
pub use subjects::{check_node_name, filter_for_cell, subject_for};
use tokio::sync::mpsc;
use wire::AlertWire;

/// Where the cluster layer hands what it hears from the other nodes: the node's engine and its
/// live streams. The node's shared state implements it, so this module never depends on it.
pub trait Inbox: Send + Sync + 'static {
    /// Reports of `party` (validated) that came in through node `origin`.
    fn take_reports(&self, party: PartyId, reports: &[TrackReport], origin: Origin);
    /// An alert another node stored for `party`, for this node's live streams of that party.
    fn take_alert(&self, party: PartyId, alert: StoredAlert);
}

pub const TRACKS_STREAM: &str = "DCF_TRACKS";
pub const ALERTS_STREAM: &str = "DCF_ALERTS";
const NODE_HEADER: &str = "Dcf-Node";
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Outbound messages held while NATS is away; beyond this the oldest are dropped (counted).
pub const MAX_QUEUE: usize = 200_000;
/// How long reports stay in `DCF_TRACKS` (a node down for longer warms from the database).
pub const TRACKS_MAX_AGE: Duration = Duration::from_secs(300);
pub const ALERTS_MAX_AGE: Duration = Duration::from_secs(3600);

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ClusterStats {
    pub published: AtomicU64,
    pub publish_failures: AtomicU64,
    pub dropped: AtomicU64,
    pub queued: AtomicU64,
    pub received_reports: AtomicU64,
    pub received_alerts: AtomicU64,
    pub rejected_reports: AtomicU64,
}

enum Outbound {
    Reports {
        party: PartyId,
        reports: Arc<Vec<TrackReport>>,
    },
    Alert(AlertWire),
}

/// This node's part in a cluster.
pub struct Cluster {
    pub node: String,
    url: String,
    filters: Vec<String>,
    client: OnceLock<async_nats::Client>,
    ready: AtomicBool,
    peers: Mutex<Peers>,
    tx: mpsc::UnboundedSender<Outbound>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Outbound>>>,
    pub stats: ClusterStats,
}

impl Cluster {
    /// A cluster member named `node` talking to NATS at `url`, reading the reports of the
    /// given regions (H3 cells; empty: everywhere).
    pub fn new(node: &str, url: &str, regions: &[String]) -> Result<Arc<Cluster>, String> {
        check_node_name(node)?;
        let filters = if regions.is_empty() {
            vec!["dcf.tracks.>".to_string()]
        } else {
            regions
                .iter()
                .map(|c| filter_for_cell(c))
                .collect::<Result<_, _>>()?
        };
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Arc::new(Cluster {
            node: node.to_string(),
            url: url.to_string(),
            filters,
            client: OnceLock::new(),
            ready: AtomicBool::new(false),
            peers: Mutex::new(Peers::default()),
            tx,
            rx: Mutex::new(Some(rx)),
            stats: ClusterStats::default(),
        }))
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, Peers> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the connection to NATS is up and the streams exist.
    pub fn connected(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
            && self
                .client
                .get()
                .is_some_and(|c| c.connection_state() == async_nats::connection::State::Connected)
    }

    /// Names of the other nodes heard within [`PEER_TIMEOUT`].
    pub fn live_peers(&self) -> Vec<String> {
        if !self.connected() {
            return Vec::new();
        }
        self.peers().live_names(Instant::now())
    }

    /// Whether this node speaks for a pair whose lower track came in through `lo` and the
    /// other through `hi` (see the module docs). For a single track pass it twice.
    pub fn speaks(&self, lo: Origin, hi: Origin) -> bool {
        let connected = self.connected();
        let peers = self.peers();
        let now = Instant::now();
        let live = |o: Origin| o == LOCAL || (connected && peers.is_live(o, now));
        if live(lo) {
            return lo == LOCAL;
        }
        if live(hi) {
            return hi == LOCAL;
        }
        if !connected {
            return true;
        }
        peers.live_names(now).iter().all(|n| *n > self.node)
    }

    /// Queues accepted reports for the other nodes.
    pub fn send_reports(&self, party: PartyId, reports: Arc<Vec<TrackReport>>) {
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Outbound::Reports { party, reports });
    }

    /// Queues a stored alert for the other nodes.
    pub fn send_alert(&self, party: PartyId, alert: &StoredAlert) {
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Outbound::Alert(AlertWire {
            party,
            seq: alert.seq,
            time: alert.time,
            body: alert.body.clone(),
        }));
    }
}
