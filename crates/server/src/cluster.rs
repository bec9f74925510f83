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

use crate::engine::{Origin, LOCAL, UNKNOWN};
use crate::AppState;
use async_nats::jetstream::{self, consumer, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use deconflict_core::{AssetClass, TrackReport};
use deconflict_store::{PartyId, StoredAlert};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const TRACKS_STREAM: &str = "DCF_TRACKS";
pub const ALERTS_STREAM: &str = "DCF_ALERTS";
const NODE_HEADER: &str = "Dcf-Node";
/// A node not heard for this long is taken as gone.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(3);
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

/// Reports as JSON: what nodes of earlier builds sent; still read.
#[derive(Serialize, Deserialize)]
struct ReportsWire {
    party: PartyId,
    reports: Vec<TrackReport>,
}

/// First bytes of a binary reports message (format 1).
const REPORTS_MAGIC: &[u8; 4] = b"DCR1";

/// Reports in the binary format every node decodes (a third of the bytes of JSON, and no
/// number parsing): `DCR1`, party (i64), count (u32), then per report the asset's length
/// (u16) and UTF-8 bytes, time, lat, lng, alt_m, gs_mps, track_deg, vs_mps (f64 each) and
/// the class (u8, its index in [`AssetClass::ALL`]); little-endian throughout.
fn encode_reports(party: PartyId, reports: &[&TrackReport]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + reports.len() * 80);
    out.extend_from_slice(REPORTS_MAGIC);
    out.extend_from_slice(&party.to_le_bytes());
    out.extend_from_slice(&(reports.len() as u32).to_le_bytes());
    for r in reports {
        // Assets are validated to far fewer than 64 KiB bytes; cut rather than mis-frame.
        let asset = &r.asset.as_bytes()[..r.asset.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(asset.len() as u16).to_le_bytes());
        out.extend_from_slice(asset);
        for x in [r.time, r.lat, r.lng, r.alt_m, r.gs_mps, r.track_deg, r.vs_mps] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        let class = AssetClass::ALL.iter().position(|c| *c == r.class).unwrap_or(0);
        out.push(class as u8);
    }
    out
}

/// Reads a reports message: the binary format, or JSON from an earlier build. Never panics;
/// a malformed message is an error.
fn decode_reports(b: &[u8]) -> Result<(PartyId, Vec<TrackReport>), String> {
    let Some(mut rest) = b.strip_prefix(REPORTS_MAGIC) else {
        let w: ReportsWire = serde_json::from_slice(b).map_err(|e| e.to_string())?;
        return Ok((w.party, w.reports));
    };
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if rest.len() < n {
            return Err("message cut short".into());
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(rest: &mut &[u8]) -> Result<[u8; N], String> {
        take(rest, N)?
            .try_into()
            .map_err(|_| "message cut short".to_string())
    }
    let party = i64::from_le_bytes(array(&mut rest)?);
    let count = u32::from_le_bytes(array(&mut rest)?) as usize;
    // Each report takes at least 59 bytes: a count beyond that is a lie, not an allocation.
    if count > rest.len() / 59 {
        return Err(format!("count {count} does not fit the message"));
    }
    let mut reports = Vec::with_capacity(count);
    for _ in 0..count {
        let len = usize::from(u16::from_le_bytes(array(&mut rest)?));
        let asset = std::str::from_utf8(take(&mut rest, len)?)
            .map_err(|_| "asset is not UTF-8".to_string())?
            .to_string();
        let mut f = [0f64; 7];
        for x in &mut f {
            *x = f64::from_le_bytes(array(&mut rest)?);
        }
        let [class] = array::<1>(&mut rest)?;
        let class = *AssetClass::ALL
            .get(usize::from(class))
            .ok_or_else(|| format!("unknown class {class}"))?;
        reports.push(TrackReport {
            asset,
            time: f[0],
            lat: f[1],
            lng: f[2],
            alt_m: f[3],
            gs_mps: f[4],
            track_deg: f[5],
            vs_mps: f[6],
            class,
        });
    }
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last report", rest.len()));
    }
    Ok((party, reports))
}

#[derive(Serialize, Deserialize)]
struct AlertWire {
    party: PartyId,
    seq: u64,
    time: f64,
    body: serde_json::Value,
}

#[derive(Default)]
struct Peers {
    by_name: HashMap<String, Origin>,
    names: Vec<String>,
    seen: Vec<Option<Instant>>,
}

impl Peers {
    fn origin_of(&mut self, name: &str) -> Origin {
        if let Some(&o) = self.by_name.get(name) {
            return o;
        }
        if self.names.len() >= usize::from(UNKNOWN) - 2 {
            return UNKNOWN;
        }
        self.names.push(name.to_string());
        self.seen.push(None);
        let o = self.names.len() as Origin; // 1-based: 0 is this node
        self.by_name.insert(name.to_string(), o);
        o
    }

    /// Notes that node `name` was heard now; returns its number.
    fn heard(&mut self, name: &str) -> Origin {
        let o = self.origin_of(name);
        if o != UNKNOWN {
            self.seen[usize::from(o) - 1] = Some(Instant::now());
        }
        o
    }

    fn is_live(&self, o: Origin) -> bool {
        o != LOCAL
            && o != UNKNOWN
            && self
                .seen
                .get(usize::from(o) - 1)
                .copied()
                .flatten()
                .is_some_and(|t| t.elapsed() < PEER_TIMEOUT)
    }

    fn live_names(&self) -> Vec<String> {
        (1..=self.names.len())
            .filter(|&i| self.is_live(i as Origin))
            .map(|i| self.names[i - 1].clone())
            .collect()
    }
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

/// The subject of a report at this position.
pub fn subject_for(lat: f64, lng: f64) -> String {
    let cell = h3o::LatLng::new(lat, lng)
        .ok()
        .map(|ll| ll.to_cell(h3o::Resolution::Two));
    match cell {
        Some(c) => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            let p1 = c.parent(h3o::Resolution::One).unwrap_or(c);
            format!("dcf.tracks.{p0}.{p1}.{c}")
        }
        None => "dcf.tracks.x.x.x".to_string(),
    }
}

/// The subject filter of a region given as an H3 cell of resolution 0, 1 or 2 (hex).
pub fn filter_for_cell(cell: &str) -> Result<String, String> {
    let c: h3o::CellIndex = cell
        .parse()
        .map_err(|e| format!("{cell:?} is not an H3 cell index: {e}"))?;
    match c.resolution() {
        h3o::Resolution::Zero => Ok(format!("dcf.tracks.{c}.>")),
        h3o::Resolution::One => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            Ok(format!("dcf.tracks.{p0}.{c}.>"))
        }
        h3o::Resolution::Two => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            let p1 = c.parent(h3o::Resolution::One).unwrap_or(c);
            Ok(format!("dcf.tracks.{p0}.{p1}.{c}"))
        }
        r => Err(format!(
            "{cell:?} has resolution {r}; regions are cells of resolution 0, 1 or 2"
        )),
    }
}

/// A node name: 1 to 32 of `A-Z a-z 0-9 _ -` (it names NATS consumers and subjects).
pub fn check_node_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "node {name:?}: must be 1 to 32 characters of A-Z a-z 0-9 _ -"
        ))
    }
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
        self.peers().live_names()
    }

    /// Whether this node speaks for a pair whose lower track came in through `lo` and the
    /// other through `hi` (see the module docs). For a single track pass it twice.
    pub fn speaks(&self, lo: Origin, hi: Origin) -> bool {
        let connected = self.connected();
        let peers = self.peers();
        let live = |o: Origin| o == LOCAL || (connected && peers.is_live(o));
        if live(lo) {
            return lo == LOCAL;
        }
        if live(hi) {
            return hi == LOCAL;
        }
        if !connected {
            return true;
        }
        peers.live_names().iter().all(|n| *n > self.node)
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

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(NODE_HEADER, self.node.as_str());
        h
    }

    /// Connects (in the background, retrying for ever) and starts the publisher, the
    /// consumers and the heartbeat. Returns at once.
    pub async fn start(self: &Arc<Self>, state: Weak<AppState>) -> anyhow::Result<()> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("deconflict-{}", self.node))
            .retry_on_initial_connect()
            .connect(self.url.as_str())
            .await?;
        let _ = self.client.set(client.clone());
        let js = jetstream::new(client.clone());
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("cluster already started"))?;
        let me = self.clone();
        let js2 = js.clone();
        let st = state.clone();
        tokio::spawn(async move {
            // Streams first; retried until NATS answers.
            loop {
                match me.create_streams(&js2).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!("NATS JetStream not ready ({e}); retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            me.ready.store(true, Ordering::Relaxed);
            tracing::info!(node = %me.node, "cluster: JetStream streams ready");
            for (i, filter) in me.filters.clone().into_iter().enumerate() {
                tokio::spawn(me.clone().consume_tracks(st.clone(), js2.clone(), filter, i));
            }
            tokio::spawn(me.clone().consume_alerts(st.clone(), js2.clone()));
        });
        tokio::spawn(self.clone().publisher(js, rx));
        tokio::spawn(self.clone().heartbeat(client));
        Ok(())
    }

    async fn create_streams(&self, js: &jetstream::Context) -> anyhow::Result<()> {
        js.get_or_create_stream(stream::Config {
            name: TRACKS_STREAM.into(),
            subjects: vec!["dcf.tracks.>".into()],
            max_age: TRACKS_MAX_AGE,
            max_bytes: 1 << 30,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        })
        .await?;
        js.get_or_create_stream(stream::Config {
            name: ALERTS_STREAM.into(),
            subjects: vec!["dcf.alerts.>".into()],
            max_age: ALERTS_MAX_AGE,
            max_bytes: 1 << 30,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        })
        .await?;
        Ok(())
    }

    /// Sends queued messages in order; holds them (bounded) while NATS is away.
    async fn publisher(self: Arc<Self>, js: jetstream::Context, mut rx: mpsc::UnboundedReceiver<Outbound>) {
        let mut q: VecDeque<(String, Bytes)> = VecDeque::new();
        let headers = self.headers();
        loop {
            if q.is_empty() {
                match rx.recv().await {
                    Some(m) => self.enqueue(&mut q, m),
                    None => return,
                }
            }
            while let Ok(m) = rx.try_recv() {
                self.enqueue(&mut q, m);
            }
            if !self.connected() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let n = q.len().min(512);
            let mut acks = Vec::with_capacity(n);
            let mut failed = false;
            for (subject, payload) in q.iter().take(n) {
                match js
                    .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                    .await
                {
                    Ok(ack) => acks.push(ack),
                    Err(e) => {
                        tracing::debug!("publish failed: {e}");
                        failed = true;
                        break;
                    }
                }
            }
            let mut done = 0;
            for ack in acks {
                match ack.await {
                    Ok(_) => done += 1,
                    Err(e) => {
                        tracing::debug!("publish not acknowledged: {e}");
                        failed = true;
                        break;
                    }
                }
            }
            q.drain(..done);
            self.stats.published.fetch_add(done as u64, Ordering::Relaxed);
            self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
            if failed {
                self.stats.publish_failures.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    fn enqueue(&self, q: &mut VecDeque<(String, Bytes)>, m: Outbound) {
        match m {
            Outbound::Reports { party, reports } => {
                let mut by_subject: HashMap<String, Vec<&TrackReport>> = HashMap::new();
                for r in reports.iter() {
                    by_subject.entry(subject_for(r.lat, r.lng)).or_default().push(r);
                }
                for (subject, reports) in by_subject {
                    q.push_back((subject, Bytes::from(encode_reports(party, &reports))));
                }
            }
            Outbound::Alert(a) => {
                if let Ok(b) = serde_json::to_vec(&a) {
                    q.push_back((format!("dcf.alerts.{}", a.party), Bytes::from(b)));
                }
            }
        }
        while q.len() > MAX_QUEUE {
            q.pop_front();
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.queued.store(q.len() as u64, Ordering::Relaxed);
    }

    /// Reads other nodes' reports through a durable consumer (resumes where it stopped).
    async fn consume_tracks(
        self: Arc<Self>,
        state: Weak<AppState>,
        js: jetstream::Context,
        filter: String,
        index: usize,
    ) {
        let durable = format!("{}-tracks-{index}", self.node);
        loop {
            let res: anyhow::Result<()> = async {
                let stream = js.get_stream(TRACKS_STREAM).await?;
                let consumer: consumer::PullConsumer = stream
                    .get_or_create_consumer(
                        &durable,
                        consumer::pull::Config {
                            durable_name: Some(durable.clone()),
                            filter_subject: filter.clone(),
                            deliver_policy: consumer::DeliverPolicy::New,
                            ack_policy: consumer::AckPolicy::Explicit,
                            max_ack_pending: 20_000,
                            ..Default::default()
                        },
                    )
                    .await?;
                let mut msgs = consumer.messages().await?;
                while let Some(m) = msgs.next().await {
                    let m = m?;
                    let Some(state) = state.upgrade() else {
                        return Ok(());
                    };
                    self.take_reports(&state, &m);
                    let _ = m.ack().await;
                }
                Ok(())
            }
            .await;
            if state.strong_count() == 0 {
                return;
            }
            if let Err(e) = res {
                tracing::warn!(%filter, "cluster: reading reports failed ({e}); resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn take_reports(&self, state: &AppState, m: &jetstream::Message) {
        let Some(from) = m
            .headers
            .as_ref()
            .and_then(|h| h.get(NODE_HEADER))
            .map(|v| v.as_str())
        else {
            return;
        };
        if from == self.node {
            return;
        }
        let Ok((party, reports)) = decode_reports(&m.payload) else {
            self.stats.rejected_reports.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let good: Vec<TrackReport> = reports.into_iter().filter(|r| r.validate().is_ok()).collect();
        // A node whose reports arrive is alive, whatever its heartbeat says yet.
        let origin = self.peers().heard(from);
        self.stats
            .received_reports
            .fetch_add(good.len() as u64, Ordering::Relaxed);
        state.engine().ingest_from(party, &good, origin);
        state.dirty.notify_one();
    }

    /// Forwards other nodes' alerts to this node's live streams.
    async fn consume_alerts(self: Arc<Self>, state: Weak<AppState>, js: jetstream::Context) {
        loop {
            let res: anyhow::Result<()> = async {
                let stream = js.get_stream(ALERTS_STREAM).await?;
                let consumer = stream
                    .create_consumer(consumer::pull::OrderedConfig {
                        filter_subject: "dcf.alerts.>".into(),
                        deliver_policy: consumer::DeliverPolicy::New,
                        ..Default::default()
                    })
                    .await?;
                let mut msgs = consumer.messages().await?;
                while let Some(m) = msgs.next().await {
                    let m = m?;
                    let Some(state) = state.upgrade() else {
                        return Ok(());
                    };
                    let from = m
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(NODE_HEADER))
                        .map(|v| v.as_str());
                    if from == Some(self.node.as_str()) {
                        continue;
                    }
                    if let Ok(a) = serde_json::from_slice::<AlertWire>(&m.payload) {
                        self.stats.received_alerts.fetch_add(1, Ordering::Relaxed);
                        if let Some(tx) = state.existing_stream(a.party) {
                            let _ = tx.send(Arc::new(StoredAlert {
                                seq: a.seq,
                                time: a.time,
                                body: a.body,
                            }));
                        }
                    }
                }
                Ok(())
            }
            .await;
            if state.strong_count() == 0 {
                return;
            }
            if let Err(e) = res {
                tracing::warn!("cluster: reading alerts failed ({e}); resuming");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Says "alive" every second and listens for the others.
    async fn heartbeat(self: Arc<Self>, client: async_nats::Client) {
        let me = self.clone();
        let c = client.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(mut sub) = c.subscribe("dcf.nodes.*").await {
                    while let Some(m) = sub.next().await {
                        let name = m.subject.as_str().trim_start_matches("dcf.nodes.");
                        if name != me.node && check_node_name(name).is_ok() {
                            me.peers().heard(name);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let subject = format!("dcf.nodes.{}", self.node);
        loop {
            let _ = client.publish(subject.clone(), Bytes::new()).await;
            tokio::time::sleep(HEARTBEAT).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(i: usize) -> TrackReport {
        TrackReport {
            asset: format!("Ä-{i}"),
            time: 1.7e9 + i as f64 * 0.125,
            lat: 45.5 - i as f64,
            lng: -3.25 + i as f64,
            alt_m: 1000.0,
            gs_mps: 120.0,
            track_deg: 359.5,
            vs_mps: -2.5,
            class: AssetClass::ALL[i % AssetClass::COUNT],
        }
    }

    #[test]
    fn reports_survive_the_binary_format_exactly() {
        let reports: Vec<TrackReport> = (0..5).map(report).collect();
        let refs: Vec<&TrackReport> = reports.iter().collect();
        let b = encode_reports(-7, &refs);
        assert_eq!(decode_reports(&b).unwrap(), (-7, reports));
        assert_eq!(decode_reports(&encode_reports(3, &[])).unwrap(), (3, Vec::new()));
    }

    #[test]
    fn json_from_an_earlier_build_is_still_read() {
        let reports: Vec<TrackReport> = (0..2).map(report).collect();
        let json = serde_json::to_vec(&ReportsWire {
            party: 4,
            reports: reports.clone(),
        })
        .unwrap();
        assert_eq!(decode_reports(&json).unwrap(), (4, reports));
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let reports: Vec<TrackReport> = (0..3).map(report).collect();
        let refs: Vec<&TrackReport> = reports.iter().collect();
        let b = encode_reports(1, &refs);
        // Every truncation, and the message with a byte too many, is refused.
        for n in 0..b.len() {
            assert!(decode_reports(&b[..n]).is_err(), "cut at {n}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(decode_reports(&long).is_err());
        // A count far beyond the bytes is refused before anything is allocated for it.
        let mut lie = b.clone();
        lie[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_reports(&lie).unwrap_err().contains("does not fit"));
        // An unknown class, bad UTF-8 in an asset.
        let mut class = b.clone();
        let last = class.len() - 1;
        class[last] = 9;
        assert!(decode_reports(&class).unwrap_err().contains("class"));
        let mut utf = b.clone();
        utf[18] = 0xff;
        assert!(decode_reports(&utf).unwrap_err().contains("UTF-8"));
        // Arbitrary bytes after the magic never panic.
        let mut x: u64 = 1;
        for len in 0..300 {
            let mut m = REPORTS_MAGIC.to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                m.push(x as u8);
            }
            let _ = decode_reports(&m);
        }
    }
}
