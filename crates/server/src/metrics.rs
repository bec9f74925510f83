//! The service's metrics, kept and encoded with `prometheus-client` (OpenMetrics text at
//! `/metrics`, the operator's only: see `api::health`). [`Metrics`] holds what the handlers
//! and loops count as they go; [`Metrics::encode`] adds, at each scrape, what is read from
//! the state then (live tracks, the store's transactions, the hotline's backlog, the cluster).

use deconflict_core::AlertLevel;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The label of alerts by level.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabel {
    /// `none`, `preventive`, `corrective` or `warning`.
    pub level: &'static str,
}

/// The label of hotline messages by kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// What the service counts as it goes (shared handles: a clone counts into the same value).
#[derive(Debug)]
pub struct Metrics {
    pub reports_accepted: Counter,
    pub reports_rejected: Counter,
    pub requests_rejected: Counter,
    pub alerts_sent: Counter,
    /// Tactical alerts by the level they report.
    pub alerts_by_level: Family<LevelLabel, Counter>,
    pub scans: Counter,
    /// Seconds per detection scan.
    pub scan_seconds: Histogram,
    /// Seconds per scan spent on resolution advice (after the scan, before storing).
    pub advice_seconds: Histogram,
    /// Conflicts given advice.
    pub advice_conflicts: Counter,
    /// Alert events left without advice past `max_advice_per_scan`.
    pub advice_skipped: Counter,
    pub streams_cut: Counter,
    /// How far behind a live stream was (entries waiting for it) when it took one.
    pub stream_lag: Histogram,
    /// Alerts left out of a scan past `max_alerts_per_scan` (counted in summaries).
    pub alerts_suppressed: Counter,
    pub store_errors: Counter,
    /// Requests and report batches refused by a party's rate limit (429).
    pub requests_throttled: Counter,
    /// Hotline messages sent, by kind.
    pub messages_sent: Family<KindLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            reports_accepted: Counter::default(),
            reports_rejected: Counter::default(),
            requests_rejected: Counter::default(),
            alerts_sent: Counter::default(),
            alerts_by_level: Family::default(),
            scans: Counter::default(),
            // 0.25 ms to about 4 s.
            scan_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 15)),
            advice_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 15)),
            advice_conflicts: Counter::default(),
            advice_skipped: Counter::default(),
            streams_cut: Counter::default(),
            // 0 to 4096 entries behind (stream_buffer's default).
            stream_lag: Histogram::new([0.0, 1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0]),
            alerts_suppressed: Counter::default(),
            store_errors: Counter::default(),
            requests_throttled: Counter::default(),
            messages_sent: Family::default(),
        }
    }
}

/// What a scrape reads from the state, besides [`Metrics`].
#[derive(Debug, Default)]
pub struct Snapshot {
    pub live_tracks: u64,
    pub uptime_s: f64,
    pub store_transactions: u64,
    pub store_retries: u64,
    /// Received hotline copies not acknowledged, and the age of the oldest, seconds.
    pub unacked_messages: u64,
    pub oldest_unacked_s: f64,
    /// With several nodes: the cluster's figures.
    pub cluster: Option<ClusterSnapshot>,
}

/// The cluster layer's figures at a scrape.
#[derive(Debug, Default)]
pub struct ClusterSnapshot {
    pub connected: bool,
    pub peers: u64,
    pub queued: u64,
    pub published: u64,
    pub publish_failures: u64,
    pub dropped: u64,
    pub reports_received: u64,
    pub reports_rejected: u64,
    pub alerts_received: u64,
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

fn gauge(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}

fn gauge_f(v: f64) -> Gauge<f64, std::sync::atomic::AtomicU64> {
    let g = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    g.set(v);
    g
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Counts one tactical alert of `level`.
    pub fn alert_of_level(&self, level: AlertLevel) {
        self.alerts_by_level
            .get_or_create(&LevelLabel { level: level.name() })
            .inc();
    }

    /// Every metric, with `snap`'s, as OpenMetrics text.
    pub fn encode(&self, snap: Snapshot) -> Result<String, std::fmt::Error> {
        let mut r = Registry::with_prefix("deconflict");
        r.register(
            "reports_accepted",
            "Track reports stored",
            self.reports_accepted.clone(),
        );
        r.register(
            "reports_rejected",
            "Track reports refused as invalid",
            self.reports_rejected.clone(),
        );
        r.register(
            "requests_rejected",
            "Requests refused before their handler (bad JSON, too large)",
            self.requests_rejected.clone(),
        );
        r.register(
            "alerts_sent",
            "Stream entries handed to live streams and other nodes",
            self.alerts_sent.clone(),
        );
        r.register(
            "alerts_by_level",
            "Tactical alerts by the level they report",
            self.alerts_by_level.clone(),
        );
        r.register("scans", "Detection scans", self.scans.clone());
        r.register(
            "scan_seconds",
            "Time of one detection scan",
            self.scan_seconds.clone(),
        );
        r.register(
            "advice_seconds",
            "Time spent on resolution advice in one detection step",
            self.advice_seconds.clone(),
        );
        r.register(
            "advice_conflicts",
            "Conflicts given resolution advice",
            self.advice_conflicts.clone(),
        );
        r.register(
            "advice_skipped",
            "Alert events left without advice past max_advice_per_scan",
            self.advice_skipped.clone(),
        );
        r.register(
            "streams_cut",
            "Live streams cut off as too slow",
            self.streams_cut.clone(),
        );
        r.register(
            "stream_lag_entries",
            "Entries a live stream had waiting when it took one",
            self.stream_lag.clone(),
        );
        r.register(
            "alerts_suppressed",
            "Alerts past max_alerts_per_scan, counted in summaries",
            self.alerts_suppressed.clone(),
        );
        r.register(
            "store_errors",
            "Store operations that failed",
            self.store_errors.clone(),
        );
        r.register(
            "requests_throttled",
            "Requests and report batches refused by a rate limit",
            self.requests_throttled.clone(),
        );
        r.register(
            "hotline_messages_sent",
            "Hotline messages sent, by kind",
            self.messages_sent.clone(),
        );
        r.register(
            "store_transactions",
            "Write transactions committed",
            counter(snap.store_transactions),
        );
        r.register(
            "store_retries",
            "Write transactions retried (PostgreSQL)",
            counter(snap.store_retries),
        );
        r.register(
            "live_tracks",
            "Tracks held by the engine",
            gauge(int(snap.live_tracks)),
        );
        r.register("uptime_seconds", "Seconds since start-up", gauge_f(snap.uptime_s));
        r.register(
            "hotline_unacked",
            "Received hotline copies not yet acknowledged",
            gauge(int(snap.unacked_messages)),
        );
        r.register(
            "hotline_oldest_unacked_seconds",
            "Age of the oldest unacknowledged hotline copy (0: none)",
            gauge_f(snap.oldest_unacked_s),
        );
        if let Some(c) = snap.cluster {
            r.register(
                "nats_connected",
                "1 when connected to NATS",
                gauge(i64::from(c.connected)),
            );
            r.register(
                "cluster_peers",
                "Other nodes heard within 3 s",
                gauge(int(c.peers)),
            );
            r.register(
                "cluster_queued",
                "Messages waiting for NATS",
                gauge(int(c.queued)),
            );
            r.register(
                "cluster_published",
                "Messages published to NATS",
                counter(c.published),
            );
            r.register(
                "cluster_publish_failures",
                "Publishes that failed",
                counter(c.publish_failures),
            );
            r.register(
                "cluster_dropped",
                "Messages dropped (queue full)",
                counter(c.dropped),
            );
            r.register(
                "cluster_reports_received",
                "Track reports taken from other nodes",
                counter(c.reports_received),
            );
            r.register(
                "cluster_reports_rejected",
                "Track reports from other nodes refused",
                counter(c.reports_rejected),
            );
            r.register(
                "cluster_alerts_received",
                "Alerts taken from other nodes",
                counter(c.alerts_received),
            );
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r)?;
        Ok(out)
    }
}
