//! # deconflict-server
//!
//! The HTTP service. See `docs/api.md` for the endpoints and `docs/security.md` for who may see
//! what. The pieces:
//! * [`engine`]: the sans-IO tactical engine (tracks of every party, alerts to both sides);
//! * [`api`]: the axum routes, bearer-token authentication, validation and errors;
//! * [`run`]: start-up (store, engine warm-up), the detection loop, graceful shutdown.

pub mod api;
pub mod cluster;
pub mod engine;
pub mod strategic;
pub mod strategic_api;

use anyhow::{Context, Result};
use deconflict_core::strategic::VolumeLimits;
use deconflict_core::SeparationTable;
use deconflict_store::{NewAlert, PartyId, Store, StoreOptions, StoredAlert};
use engine::{Engine, Staleness};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, Notify};

/// Service configuration (TOML file and command-line flags).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database and the service key live.
    pub data_dir: PathBuf,
    /// Separation table (TOML); default: the built-in one.
    pub table: Option<PathBuf>,
    /// A track not reported for this long is coasting (its conflicts are flagged degraded).
    pub coast_s: f64,
    /// ... and dropped after this long.
    pub drop_s: f64,
    /// Largest request body, bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest batch of reports in one request.
    pub max_reports_per_request: usize,
    /// Reports more than this far in the future (by the server's clock) are refused.
    pub max_future_s: f64,
    /// A full scan runs at least this often, milliseconds.
    pub scan_period_ms: u64,
    /// ... and at most this often (or 4 × the last scan, if longer), when new reports arrive.
    pub scan_min_interval_ms: u64,
    /// Alerts buffered per live stream; a client further behind is cut off.
    pub stream_buffer: usize,
    /// A signed checkpoint every this many audit entries.
    pub checkpoint_every: u64,
    /// The store: unset (or `sqlite:`) for SQLite in `data_dir`; `postgres://…` for a
    /// PostgreSQL database that several nodes share.
    pub store: Option<String>,
    /// PostgreSQL schema to use (default: the connection's `search_path`).
    pub pg_schema: Option<String>,
    /// This node's name: its audit chain, its NATS consumers (1 to 32 of `A-Z a-z 0-9 _ -`).
    pub node: String,
    /// NATS server with JetStream (`nats://host:4222`): reports and alerts between nodes.
    pub nats: Option<String>,
    /// The regions whose reports this node reads from the other nodes: H3 cells of resolution
    /// 0, 1 or 2 (hex). Empty: everywhere.
    pub regions: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            data_dir: PathBuf::from("./deconflict-data"),
            table: None,
            coast_s: 5.0,
            drop_s: 15.0,
            max_body_bytes: 4 << 20,
            max_reports_per_request: 10_000,
            max_future_s: 60.0,
            scan_period_ms: 1000,
            scan_min_interval_ms: 20,
            stream_buffer: 4096,
            checkpoint_every: 1000,
            store: None,
            pg_schema: None,
            node: "main".to_string(),
            nats: None,
            regions: Vec::new(),
        }
    }
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Config> {
        let c: Config = toml::from_str(text).context("config")?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            self.coast_s > 0.0 && self.coast_s.is_finite(),
            "coast_s must be a positive number"
        );
        anyhow::ensure!(
            self.drop_s > self.coast_s && self.drop_s.is_finite(),
            "drop_s must be larger than coast_s"
        );
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.max_reports_per_request >= 1,
            "max_reports_per_request must be at least 1"
        );
        anyhow::ensure!(self.scan_period_ms >= 10, "scan_period_ms must be at least 10");
        anyhow::ensure!(self.stream_buffer >= 16, "stream_buffer must be at least 16");
        anyhow::ensure!(self.checkpoint_every >= 1, "checkpoint_every must be at least 1");
        cluster::check_node_name(&self.node).map_err(anyhow::Error::msg)?;
        if let Some(url) = &self.store {
            anyhow::ensure!(
                url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"),
                "store must be sqlite: or a postgres:// URL"
            );
        }
        for c in &self.regions {
            cluster::filter_for_cell(c).map_err(|e| anyhow::anyhow!("regions: {e}"))?;
        }
        anyhow::ensure!(
            self.regions.is_empty() || self.nats.is_some(),
            "regions needs nats (the regions say which other nodes' reports to read)"
        );
        Ok(())
    }

    /// Whether the store is shared with other nodes (PostgreSQL).
    pub fn shared_store(&self) -> bool {
        self.store
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
    }

    pub fn separation_table(&self) -> Result<SeparationTable> {
        match &self.table {
            None => Ok(SeparationTable::defaults()),
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                Ok(SeparationTable::from_toml(&text)?)
            }
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub reports_accepted: AtomicU64,
    pub reports_rejected: AtomicU64,
    pub requests_rejected: AtomicU64,
    pub alerts_sent: AtomicU64,
    pub scans: AtomicU64,
    pub scan_us_total: AtomicU64,
    pub streams_cut: AtomicU64,
    pub store_errors: AtomicU64,
}

/// A live track against the filings: conforming to its party's activated intents (None when
/// the party has none), and the keys of the constraints binding it that it is inside.
pub type TrackVolumes = (Option<bool>, Vec<u64>);

/// Everything the handlers share.
pub struct AppState {
    pub store: Store,
    pub engine: Mutex<Engine>,
    pub dirty: Notify,
    pub streams: Mutex<HashMap<PartyId, broadcast::Sender<Arc<StoredAlert>>>>,
    pub config: Config,
    pub metrics: Metrics,
    pub started: Instant,
    pub strategic: Mutex<strategic::Strategic>,
    pub limits: VolumeLimits,
    /// party id -> name (names never change)
    pub party_names: Mutex<HashMap<PartyId, String>>,
    /// per live track: whether it conforms to its activated intents, constraints it is inside
    pub track_status: Mutex<HashMap<(PartyId, String), TrackVolumes>>,
    /// Set when the node is one of several (NATS configured).
    pub cluster: Option<Arc<cluster::Cluster>>,
    /// The store is shared with other nodes: filings are decided in the database, and streams
    /// poll it for alerts stored by the others.
    pub shared: bool,
}

impl AppState {
    /// The live alert channel of a party (created on first use).
    pub fn stream(&self, party: PartyId) -> broadcast::Sender<Arc<StoredAlert>> {
        let mut m = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(party)
            .or_insert_with(|| broadcast::channel(self.config.stream_buffer).0)
            .clone()
    }

    /// The live alert channel of a party, if anyone is listening on this node.
    pub fn existing_stream(&self, party: PartyId) -> Option<broadcast::Sender<Arc<StoredAlert>>> {
        let m = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&party).filter(|tx| tx.receiver_count() > 0).cloned()
    }

    /// Whether this node tells the owner of a single track (taken through `origin`) about it.
    pub fn speaks_for_track(&self, origin: engine::Origin) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.speaks(origin, origin))
    }

    pub fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn strategic(&self) -> std::sync::MutexGuard<'_, strategic::Strategic> {
        self.strategic.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A party's name (cached; names never change).
    pub fn party_name(&self, id: PartyId) -> Option<String> {
        if let Some(n) = self
            .party_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Some(n.clone());
        }
        let p = self.store.party(id).ok().flatten()?;
        self.party_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, p.name.clone());
        Some(p.name)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Opens the store, warms the engine from the stored tracks, and builds the shared state.
pub fn build_state(config: Config) -> Result<Arc<AppState>> {
    config.validate()?;
    let table = config.separation_table()?;
    let store = Store::connect(&StoreOptions {
        url: config.store.clone(),
        data_dir: config.data_dir.clone(),
        checkpoint_every: config.checkpoint_every,
        node: config.node.clone(),
        pg_schema: config.pg_schema.clone(),
    })
    .with_context(|| match &config.store {
        Some(u) if config.shared_store() => {
            format!("opening the store at {}", deconflict_store::redact_url(u))
        }
        _ => format!("opening the store in {}", config.data_dir.display()),
    })?;
    let cluster = match &config.nats {
        Some(url) => {
            Some(cluster::Cluster::new(&config.node, url, &config.regions).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let mut engine = Engine::new(
        table,
        Staleness {
            coast_s: config.coast_s,
            drop_s: config.drop_s,
        },
    );
    let mut by_party: HashMap<PartyId, Vec<deconflict_core::TrackReport>> = HashMap::new();
    for (p, r) in store.all_tracks()? {
        by_party.entry(p).or_default().push(r);
    }
    for (p, rs) in by_party {
        // Warmed tracks came through some node; which one is not recorded.
        engine.ingest_from(
            p,
            &rs,
            if cluster.is_some() {
                engine::UNKNOWN
            } else {
                engine::LOCAL
            },
        );
    }
    let ids = store.clone();
    engine.set_ids(Arc::new(move |label: &str| ids.opaque_id(label)));
    if let Some(c) = &cluster {
        let c = c.clone();
        engine.set_speaks(Arc::new(move |lo, hi| c.speaks(lo, hi)));
    }
    let limits = VolumeLimits::default();
    let ids = store.clone();
    let mut strategic = strategic::Strategic::new(Arc::new(move |label: &str| ids.opaque_id(label)));
    let names: HashMap<PartyId, String> = store
        .list_parties()?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let filings = store
        .all_volumes()?
        .into_iter()
        .map(|(p, kind, v)| (p, names.get(&p).cloned().unwrap_or_default(), kind, v))
        .collect();
    strategic.warm(filings, &limits);
    let config_shared = config.shared_store();
    Ok(Arc::new(AppState {
        store,
        engine: Mutex::new(engine),
        dirty: Notify::new(),
        streams: Mutex::new(HashMap::new()),
        config,
        metrics: Metrics::default(),
        started: Instant::now(),
        strategic: Mutex::new(strategic),
        limits,
        party_names: Mutex::new(names),
        track_status: Mutex::new(HashMap::new()),
        cluster,
        shared: config_shared,
    }))
}

/// One detection step: tick the engine, store the alerts durably, then publish them.
/// Returns how long the scan took.
pub async fn detect_once(state: &Arc<AppState>) -> Duration {
    let now = unix_now();
    let t = Instant::now();
    let alerts = state.engine().tick(now);
    let took = t.elapsed();
    state.metrics.scans.fetch_add(1, Ordering::Relaxed);
    state
        .metrics
        .scan_us_total
        .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    publish(state, alerts, now).await;
    took
}

/// Stores alerts durably (per-party sequence numbers, audit entries), then streams them.
pub async fn publish(state: &Arc<AppState>, alerts: Vec<NewAlert>, now: f64) {
    if alerts.is_empty() {
        return;
    }
    let parties: Vec<PartyId> = alerts.iter().map(|a| a.party).collect();
    let bodies: Vec<serde_json::Value> = alerts.iter().map(|a| a.body.clone()).collect();
    let store = state.store.clone();
    let res = tokio::task::spawn_blocking(move || store.append_alerts(&alerts, now)).await;
    match res {
        Ok(Ok(seqs)) => deliver(state, parties.into_iter().zip(bodies).zip(seqs), now),
        Ok(Err(e)) => {
            state.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!("storing alerts failed: {e}");
        }
        Err(e) => {
            state.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!("storing alerts panicked: {e}");
        }
    }
}

/// Hands stored alerts to this node's live streams and to the other nodes.
pub fn deliver(
    state: &AppState,
    alerts: impl IntoIterator<Item = ((PartyId, serde_json::Value), u64)>,
    now: f64,
) {
    for ((party, body), seq) in alerts {
        let a = Arc::new(StoredAlert { seq, time: now, body });
        if let Some(c) = &state.cluster {
            c.send_alert(party, &a);
        }
        if let Some(tx) = state.existing_stream(party) {
            let _ = tx.send(a);
        }
        state.metrics.alerts_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// Tracks meet volumes: a live track outside its party's activated intents is flagged to its
/// owner; a live track inside a constraint that binds its party raises an alert to both the
/// track's owner and the constraint's owner. Each on a change only.
pub async fn check_tracks_against_volumes(state: &Arc<AppState>) {
    let st = state.clone();
    let alerts = tokio::task::spawn_blocking(move || volume_alerts(&st)).await;
    if let Ok((alerts, now)) = alerts {
        publish(state, alerts, now).await;
    }
}

fn volume_alerts(state: &AppState) -> (Vec<NewAlert>, f64) {
    let now = unix_now();
    let mut alerts = Vec::new();
    {
        let quiet = !state.strategic().checks_tracks();
        let mut status = state.track_status.lock().unwrap_or_else(|e| e.into_inner());
        if quiet && status.is_empty() {
            return (alerts, now);
        }
        let live = state.engine().live(now);
        let mut seen = std::collections::HashSet::new();
        // The strategic lock is taken per chunk so filings are never held up for long.
        for chunk in live.chunks(512) {
            let st = state.strategic();
            for (party, asset, ts, origin) in chunk {
                let (party, asset, ts) = (*party, asset.clone(), *ts);
                // With several nodes, one of them speaks for each track.
                if !state.speaks_for_track(*origin) {
                    continue;
                }
                let Some(name) = state.party_name(party) else {
                    continue;
                };
                let (lat, lng) = ts.lat_lng();
                let (conforming, inside) = st.check_point(party, &name, lat, lng, ts.alt_m, now);
                let key = (party, asset.clone());
                seen.insert(key.clone());
                let prev = status.get(&key).cloned().unwrap_or((None, Vec::new()));
                let time = deconflict_core::track::format_rfc3339(now);
                if conforming == Some(false) && prev.0 != Some(false) {
                    alerts.push(NewAlert {
                        party,
                        body: serde_json::json!({"event": "nonconforming", "time": time,
                            "own_asset": asset, "reason": "outside your activated intents"}),
                    });
                } else if prev.0 == Some(false) && conforming != Some(false) {
                    alerts.push(NewAlert {
                        party,
                        body: serde_json::json!({"event": "conforming", "time": time, "own_asset": asset}),
                    });
                }
                let keys: Vec<u64> = inside.iter().map(|f| f.key).collect();
                for f in inside.iter().filter(|f| !prev.1.contains(&f.key)) {
                    let who = if f.disclose_name {
                        f.party_name.clone()
                    } else {
                        "another party".into()
                    };
                    alerts.push(NewAlert {
                        party,
                        body: serde_json::json!({"event": "constraint_intrusion", "time": time,
                            "own_asset": asset, "constraint_owner": who, "constraint_type": f.body.get("type").cloned()}),
                    });
                    alerts.push(NewAlert {
                        party: f.party,
                        body: serde_json::json!({"event": "constraint_intrusion", "time": time,
                            "own_constraint": f.id,
                            "intruder": engine::StateVector::of(&ts, now)}),
                    });
                }
                if conforming.is_some() || !keys.is_empty() || prev.0.is_some() || !prev.1.is_empty() {
                    status.insert(key, (conforming, keys));
                }
            }
        }
        status.retain(|k, _| seen.contains(k));
    }
    (alerts, now)
}

/// Checks live tracks against the filings once a second, apart from the detection loop so that
/// tactical alerts never wait for it.
pub async fn volume_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
        check_tracks_against_volumes(&state).await;
    }
}

/// With a shared store: takes the other nodes' filings into this node's picture every second,
/// and every 10 s cross-links this node's audit chain to the others' heads.
pub async fn shared_store_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    // Filings are stamped with their node's clock, so each poll re-reads a 30 s margin; rows
    // whose version this node holds (its own filings, and those taken before) are skipped
    // before their bodies are read.
    let mut since = unix_now() - 60.0;
    let mut last_link = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => break,
        }
        let store = state.store.clone();
        let from = since - 30.0;
        let st = state.clone();
        let rows = tokio::task::spawn_blocking(move || {
            store.volumes_updated_since(from, &|party, kind, id, version| {
                st.strategic().holds(party, kind, id, version)
            })
        })
        .await;
        match rows {
            Ok(Ok(found)) => {
                // The cursor follows every row read, this node's own filings included.
                if let Some(newest) = found.newest {
                    since = since.max(newest);
                }
                let mut st = state.strategic();
                for (party, name, kind, v) in found.filings {
                    st.apply(party, name, &kind, v, &state.limits);
                }
            }
            Ok(Err(e)) => {
                state.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("reading other nodes' filings failed: {e}");
            }
            Err(_) => {}
        }
        if last_link.elapsed() >= Duration::from_secs(10) {
            last_link = Instant::now();
            let store = state.store.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.link_chains(unix_now())).await {
                tracing::warn!("cross-linking the audit chains failed: {e}");
            }
        }
    }
}

/// The detection loop: a scan when new reports arrive (at most every `scan_min_interval_ms`, or
/// 4 × the last scan if longer) and at least every `scan_period_ms`.
pub async fn detection_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(state.config.scan_period_ms);
    let min = Duration::from_millis(state.config.scan_min_interval_ms);
    let mut last = Instant::now() - min;
    let mut took = Duration::ZERO;
    loop {
        tokio::select! {
            _ = state.dirty.notified() => {}
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        // Under a steady stream of reports, scanning takes at most a fifth of a core: the gap
        // between scans is at least 4 × the last scan (and at least scan_min_interval_ms).
        // With 10,000 tracks a scan takes ~4 ms, so the configured 20 ms still rules; when
        // the machine is shared (several nodes on one host) scans stretch, and so does the gap.
        let gap = min.max(took * 4);
        let since = last.elapsed();
        if since < gap {
            tokio::time::sleep(gap - since).await;
        }
        last = Instant::now();
        took = detect_once(&state).await;
    }
}

/// Runs the service until `shutdown` resolves; then stops accepting, lets requests finish,
/// runs a last detection step and writes a final signed checkpoint.
pub async fn run<F>(config: Config, shutdown: F) -> Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let state = build_state(config)?;
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", state.config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %state.config.data_dir.display(), "deconflict serving");
    // A line on stdout that scripts and tests can wait for.
    println!("listening on http://{addr}");
    if let Some(c) = &state.cluster {
        c.start(Arc::downgrade(&state))
            .await
            .context("starting the NATS connection")?;
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let detector = tokio::spawn(detection_loop(state.clone(), stop_rx.clone()));
    let volumes = tokio::spawn(volume_loop(state.clone(), stop_rx.clone()));
    let shared = state
        .shared
        .then(|| tokio::spawn(shared_store_loop(state.clone(), stop_rx)));
    let app = api::router(state.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    let _ = detector.await;
    let _ = volumes.await;
    if let Some(h) = shared {
        let _ = h.await;
    }
    detect_once(&state).await;
    let store = state.store.clone();
    let cp = tokio::task::spawn_blocking(move || store.checkpoint(unix_now())).await?;
    match cp {
        Ok(Some(c)) => tracing::info!(seq = c.seq, "final audit checkpoint signed"),
        Ok(None) => {}
        Err(e) => tracing::error!("final checkpoint failed: {e}"),
    }
    tracing::info!("deconflict stopped");
    Ok(())
}
