//! The service's configuration: a TOML file and command-line flags, checked before start-up.

use anyhow::{Context, Result};
use deconflict_core::SeparationTable;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Service configuration (TOML file and command-line flags).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// TLS: the certificate chain (PEM, leaf first); with `tls_key`, the API speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    /// TLS: the certificate's private key (PEM).
    pub tls_key: Option<PathBuf>,
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
    /// Most live tracks one party may have at once (a report of a new asset past it is 429).
    pub max_live_tracks_per_party: usize,
    /// Reports more than this far in the future (by the server's clock) are refused.
    pub max_future_s: f64,
    /// Reports older than this (by the server's clock) are refused as stale: they would
    /// describe where an aircraft was, not where it is.
    pub max_past_s: f64,
    /// A full scan runs at least this often, milliseconds.
    pub scan_period_ms: u64,
    /// ... and at most this often (or 4 × the last scan, if longer), when new reports arrive.
    pub scan_min_interval_ms: u64,
    /// Alerts between two aircraft of one party (off: a party keeps its own apart).
    pub own_conflicts: bool,
    /// At most this many alerts per party per scan, the most urgent; the rest are counted
    /// in one `alert_summary` (0: no limit).
    pub max_alerts_per_scan: usize,
    /// At most this many conflicts get resolution advice per scan, shared equally between the
    /// parties with alerts in it (0: no limit); the others' alerts go without.
    pub max_advice_per_scan: usize,
    /// Of those, at most this many get kinematic advice (about 1.5 ms a conflict; the rest
    /// instantaneous, about 0.12 ms; 0: none kinematic).
    pub max_kinematic_advice_per_scan: usize,
    /// Alerts buffered per live stream; a client further behind is cut off.
    pub stream_buffer: usize,
    /// A signed checkpoint every this many audit entries.
    pub checkpoint_every: u64,
    /// A signed party checkpoint (every party's sub-chain head, `audit::party`) every this
    /// many seconds, whatever the activity, so their rhythm tells no party anything.
    pub party_checkpoint_s: f64,
    /// The token `/metrics` asks for (`Authorization: Bearer …`); unset, `/metrics` answers
    /// 403 to everyone: its counters describe every party's activity together.
    pub metrics_token: Option<String>,
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
    /// What parties learn of each other's filings (`[disclosure]`; docs/security.md).
    pub disclosure: crate::strategic::DisclosurePolicy,
    /// Per-party rate limits (`[rate]`).
    pub rate: crate::http::RateConfig,
    /// What one filing may hold, and the work its overlaps may take (`[filings]`).
    pub filings: deconflict_core::strategic::VolumeLimits,
    /// When unacknowledged hotline messages are re-sent and escalated (`[hotline]`).
    pub hotline: crate::hotline::HotlineConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            tls_cert: None,
            tls_key: None,
            data_dir: PathBuf::from("./deconflict-data"),
            table: None,
            coast_s: 5.0,
            drop_s: 15.0,
            max_body_bytes: 4 << 20,
            max_reports_per_request: 10_000,
            max_live_tracks_per_party: 20_000,
            max_future_s: 60.0,
            max_past_s: 300.0,
            scan_period_ms: 1000,
            scan_min_interval_ms: 20,
            own_conflicts: false,
            max_alerts_per_scan: 256,
            max_advice_per_scan: 64,
            max_kinematic_advice_per_scan: 16,
            stream_buffer: 4096,
            checkpoint_every: 1000,
            party_checkpoint_s: 60.0,
            metrics_token: None,
            store: None,
            pg_schema: None,
            node: "main".to_string(),
            nats: None,
            regions: Vec::new(),
            disclosure: Default::default(),
            rate: Default::default(),
            filings: Default::default(),
            hotline: Default::default(),
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
        anyhow::ensure!(
            (1..=10_000_000).contains(&self.max_live_tracks_per_party),
            "max_live_tracks_per_party must be 1 to 10000000"
        );
        anyhow::ensure!(
            self.max_future_s >= 0.0 && self.max_future_s.is_finite(),
            "max_future_s must be a number of seconds, 0 or more"
        );
        anyhow::ensure!(
            self.max_past_s >= 1.0 && self.max_past_s.is_finite(),
            "max_past_s must be a number of seconds, 1 or more"
        );
        anyhow::ensure!(self.scan_period_ms >= 10, "scan_period_ms must be at least 10");
        anyhow::ensure!(self.stream_buffer >= 16, "stream_buffer must be at least 16");
        anyhow::ensure!(self.checkpoint_every >= 1, "checkpoint_every must be at least 1");
        anyhow::ensure!(
            self.tls_cert.is_some() == self.tls_key.is_some(),
            "tls_cert and tls_key go together: give both, or neither"
        );
        anyhow::ensure!(
            self.party_checkpoint_s >= 0.1 && self.party_checkpoint_s <= 86_400.0,
            "party_checkpoint_s must be between 0.1 and 86400 seconds"
        );
        if let Some(t) = &self.metrics_token {
            anyhow::ensure!(
                t.len() >= 16 && t.len() <= 256 && t.bytes().all(|b| b.is_ascii_graphic()),
                "metrics_token must be 16 to 256 visible ASCII characters"
            );
        }
        crate::cluster::check_node_name(&self.node).map_err(anyhow::Error::msg)?;
        self.disclosure.validate().map_err(anyhow::Error::msg)?;
        self.rate.validate().map_err(anyhow::Error::msg)?;
        self.filings.validate().map_err(anyhow::Error::msg)?;
        self.hotline.validate().map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            self.rate.report_burst as usize >= self.max_reports_per_request,
            "rate.report_burst must be at least max_reports_per_request, or a full batch never fits"
        );
        if let Some(url) = &self.store {
            anyhow::ensure!(
                url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"),
                "store must be sqlite: or a postgres:// URL"
            );
        }
        for c in &self.regions {
            crate::cluster::filter_for_cell(c).map_err(|e| anyhow::anyhow!("regions: {e}"))?;
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
