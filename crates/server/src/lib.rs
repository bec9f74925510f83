//! # deconflict-server
//!
//! The HTTP service. See `docs/api.md` for the endpoints and `docs/security.md` for who may see
//! what. The pieces:
//! * [`engine`]: the sans-IO tactical engine (tracks of every party, alerts to both sides);
//! * [`api`]: the axum routes, bearer-token authentication, validation and errors;
//! * [`run`]: start-up (store, engine warm-up), the detection loop, graceful shutdown.

pub mod api;
pub mod engine;
pub mod strategic;
pub mod strategic_api;

use anyhow::{Context, Result};
use deconflict_core::strategic::VolumeLimits;
use deconflict_core::SeparationTable;
use deconflict_store::{NewAlert, PartyId, Store, StoredAlert};
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
    /// ... and at most this often, when new reports arrive.
    pub scan_min_interval_ms: u64,
    /// Alerts buffered per live stream; a client further behind is cut off.
    pub stream_buffer: usize,
    /// A signed checkpoint every this many audit entries.
    pub checkpoint_every: u64,
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
        Ok(())
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
}

impl AppState {
    /// The live alert channel of a party (created on first use).
    pub fn stream(&self, party: PartyId) -> broadcast::Sender<Arc<StoredAlert>> {
        let mut m = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(party)
            .or_insert_with(|| broadcast::channel(self.config.stream_buffer).0)
            .clone()
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
    let store = Store::open_with(&config.data_dir, config.checkpoint_every)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
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
        engine.ingest(p, &rs);
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
    }))
}

/// One detection step: tick the engine, store the alerts durably, then publish them.
pub async fn detect_once(state: &Arc<AppState>) {
    let now = unix_now();
    let t = Instant::now();
    let alerts = state.engine().tick(now);
    state.metrics.scans.fetch_add(1, Ordering::Relaxed);
    state
        .metrics
        .scan_us_total
        .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
    publish(state, alerts, now).await;
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
        Ok(Ok(seqs)) => {
            for ((party, body), seq) in parties.into_iter().zip(bodies).zip(seqs) {
                let a = Arc::new(StoredAlert { seq, time: now, body });
                let _ = state.stream(party).send(a);
                state.metrics.alerts_sent.fetch_add(1, Ordering::Relaxed);
            }
        }
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
            for (party, asset, ts) in chunk {
                let (party, asset, ts) = (*party, asset.clone(), *ts);
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

/// The detection loop: a scan when new reports arrive (at most every `scan_min_interval_ms`)
/// and at least every `scan_period_ms`.
pub async fn detection_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let period = Duration::from_millis(state.config.scan_period_ms);
    let min = Duration::from_millis(state.config.scan_min_interval_ms);
    let mut last = Instant::now() - min;
    loop {
        tokio::select! {
            _ = state.dirty.notified() => {}
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => break,
        }
        let since = last.elapsed();
        if since < min {
            tokio::time::sleep(min - since).await;
        }
        last = Instant::now();
        detect_once(&state).await;
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
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let detector = tokio::spawn(detection_loop(state.clone(), stop_rx.clone()));
    let volumes = tokio::spawn(volume_loop(state.clone(), stop_rx));
    let app = api::router(state.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    let _ = detector.await;
    let _ = volumes.await;
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
