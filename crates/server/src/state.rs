//! What every handler and loop shares ([`AppState`]), and how it is built at start-up: the
//! store opened, the tactical engine and the strategic picture warmed from it.

use crate::cluster::{self, Cluster};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::strategic::conformance::Conformance;
use crate::strategic::Strategic;
use crate::tactical::{self, ConflictIds, Engine, Origin, Staleness};
use anyhow::{Context, Result};
use deconflict_core::strategic::VolumeLimits;
use deconflict_core::TrackReport;
use deconflict_store::{PartyId, Store, StoreOptions, StoredAlert};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, Notify};

/// Everything the handlers share.
pub struct AppState {
    pub store: Store,
    pub engine: Mutex<Engine>,
    pub dirty: Notify,
    pub streams: Mutex<HashMap<PartyId, broadcast::Sender<Arc<StoredAlert>>>>,
    pub config: Config,
    pub metrics: Metrics,
    pub started: Instant,
    pub strategic: Mutex<Strategic>,
    /// The thread that decides filings ([`crate::strategic::worker`]).
    pub strategic_worker: crate::strategic::Worker,
    pub limits: VolumeLimits,
    /// party id -> name (names never change)
    pub party_names: Mutex<HashMap<PartyId, String>>,
    /// per live track: whether it conforms to its activated intents, constraints it is inside
    pub track_status: Mutex<Conformance>,
    /// Set when the node is one of several (NATS configured).
    pub cluster: Option<Arc<Cluster>>,
    /// The store is shared with other nodes: filings are decided in the database, and streams
    /// poll it for alerts stored by the others.
    pub shared: bool,
    /// How many tokens have ever been revoked (by any process on the store): open streams
    /// re-check their token when it changes ([`crate::runtime::revocation_loop`]).
    pub revocations: tokio::sync::watch::Sender<u64>,
    /// Set when the service begins to stop: open streams end at once, so that the graceful
    /// shutdown, which waits for every open request, is not held up by a client.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Strategic disclosures received per pair of parties in the last hour (this node's).
    pub budget: Mutex<crate::strategic::Budget>,
    /// Per-party request and report rates.
    pub rate: crate::http::RateLimits,
    /// Places per party for writes to the store (reports, hotline messages): at most
    /// [`STORE_WRITES_PER_PARTY`] of one party's writes in the writer's queue at once.
    pub store_writes: crate::places::PartyPlaces,
}

/// Filings of one party waiting for (or at) the strategic worker at most; more wait for a
/// place (asynchronously), and the parties are served in turn.
const STRATEGIC_PER_PARTY: usize = 4;

/// One party's writes to the store (a batch of reports, a hotline message or its
/// acknowledgement) in the writer's queue at most; more wait for a place (asynchronously). The
/// writer commits whatever is queued as one group transaction: without a bound, a party
/// sending a burst of its allowed requests at once (1,000 batches of up to 10,000 reports) put
/// them all in the next commits, ahead of every other party's reports and alerts.
pub const STORE_WRITES_PER_PARTY: usize = 4;

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
    pub fn speaks_for_track(&self, origin: Origin) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.speaks(origin, origin))
    }

    pub fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn strategic(&self) -> std::sync::MutexGuard<'_, Strategic> {
        self.strategic.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who sees whom's overlaps exactly (from every party's `member_of`). Blocking: reads
    /// the parties for each call, so that a party the CLI adds counts at once.
    pub fn coalitions(&self) -> Result<crate::strategic::Coalitions, deconflict_store::StoreError> {
        let list: Vec<_> = self
            .store
            .list_parties()?
            .into_iter()
            .map(|p| (p.id, p.name, p.member_of))
            .collect();
        Ok(crate::strategic::Coalitions::new(&list, &self.config.disclosure))
    }

    /// Spends one disclosure to `to` about each of `about` from this node's hourly budget
    /// (`disclosure.per_party_per_hour`); `Err(p)`: the budget about `p` is spent, nothing is.
    pub fn spend_disclosure(&self, to: PartyId, about: &[PartyId], now: f64) -> Result<(), PartyId> {
        self.budget.lock().unwrap_or_else(|e| e.into_inner()).spend(
            to,
            about,
            now,
            self.config.disclosure.per_party_per_hour,
        )
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
        Some(url) => Some(Cluster::new(&config.node, url, &config.regions).map_err(anyhow::Error::msg)?),
        None => None,
    };
    // Conflict ids: the store's keyed hash, the same on every node and across restarts.
    let ids = store.clone();
    let mut engine = Engine::new(
        table,
        Staleness {
            coast_s: config.coast_s,
            drop_s: config.drop_s,
        },
        ConflictIds::Keyed(Arc::new(move |label: &str| ids.opaque_id(label))),
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
                tactical::UNKNOWN
            } else {
                tactical::LOCAL
            },
        );
    }
    engine.set_own_conflicts(config.own_conflicts);
    if let Some(c) = &cluster {
        let c = c.clone();
        engine.set_speaks(Arc::new(move |lo, hi| c.speaks(lo, hi)));
    }
    let limits = config.filings.clone();
    let ids = store.clone();
    let mut strategic = Strategic::new(Arc::new(move |label: &str| ids.opaque_id(label)));
    strategic.set_overlap_budget(limits.max_overlap_work);
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
    let config_rate = config.rate.clone();
    let revoked = store.revocations()?;
    Ok(Arc::new(AppState {
        store,
        engine: Mutex::new(engine),
        dirty: Notify::new(),
        streams: Mutex::new(HashMap::new()),
        config,
        metrics: Metrics::default(),
        started: Instant::now(),
        strategic: Mutex::new(strategic),
        strategic_worker: crate::strategic::Worker::start("strategic", STRATEGIC_PER_PARTY)
            .map_err(|e| anyhow::anyhow!("cannot start the strategic worker thread: {e}"))?,
        limits,
        party_names: Mutex::new(names),
        track_status: Mutex::new(Conformance::default()),
        cluster,
        shared: config_shared,
        revocations: tokio::sync::watch::channel(revoked).0,
        stopping: tokio::sync::watch::channel(false).0,
        budget: Mutex::new(Default::default()),
        rate: crate::http::RateLimits::new(&config_rate),
        store_writes: crate::places::PartyPlaces::new(STORE_WRITES_PER_PARTY),
    }))
}

impl cluster::Inbox for AppState {
    fn take_reports(&self, party: PartyId, reports: &[TrackReport], origin: Origin) {
        self.engine().ingest_from(party, reports, origin);
        self.dirty.notify_one();
    }

    fn take_alert(&self, party: PartyId, alert: StoredAlert) {
        if let Some(tx) = self.existing_stream(party) {
            let _ = tx.send(Arc::new(alert));
        }
    }
}
