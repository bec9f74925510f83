//! A bridge's counters and what it tells its operator: a live status line on stderr when that
//! is a terminal (rewritten in place every second), plain log lines every `--status-s`
//! otherwise; each reason a message or report was refused is logged once a minute at most.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often one reason is logged at most.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Counters shared by a bridge's tasks.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Lines (SBS) or events (CoT) read from the source.
    pub messages: AtomicU64,
    /// Reports the parser made.
    pub reports: AtomicU64,
    /// Reports the service acknowledged.
    pub posted: AtomicU64,
    /// Aircraft with state now.
    pub aircraft: AtomicU64,
    /// Refused or thrown away, by reason: the parser's (`malformed`, ...), the service's
    /// (`service: time: stale`, ...) and the bridge's own (`backlog_full`, `unacknowledged`).
    rejected: Mutex<BTreeMap<String, u64>>,
    logged: Mutex<HashMap<String, Instant>>,
    terminal: bool,
}

impl Stats {
    pub(crate) fn new() -> Arc<Stats> {
        Arc::new(Stats {
            terminal: std::io::stderr().is_terminal(),
            ..Stats::default()
        })
    }

    /// Counts `n` refusals for `reason`; logs `detail` if this reason was not logged within
    /// the last minute.
    pub(crate) fn reject(&self, reason: &str, n: u64, detail: &str) {
        if n == 0 {
            return;
        }
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(reason.to_string()).or_default() += n;
        }
        self.once(reason, &format!("rejected ({reason}): {detail}"));
    }

    /// Logs `text` unless something under `key` was logged within the last minute.
    pub(crate) fn once(&self, key: &str, text: &str) {
        let due = match self.logged.lock() {
            Ok(mut l) => match l.get(key) {
                Some(t) if t.elapsed() < LOG_EVERY => false,
                _ => {
                    l.insert(key.to_string(), Instant::now());
                    true
                }
            },
            Err(_) => false,
        };
        if due {
            self.log(&format!("{text} (logged once a minute)"));
        }
    }

    /// A log line (clearing the status line first on a terminal).
    pub(crate) fn log(&self, text: &str) {
        if self.terminal {
            eprint!("\r\x1b[K");
        }
        eprintln!("feed: {text}");
    }

    /// Refusals by reason so far.
    pub(crate) fn rejected(&self) -> BTreeMap<String, u64> {
        self.rejected.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn line(&self, rate: f64) -> String {
        let rej = self.rejected();
        let total: u64 = rej.values().sum();
        let by: Vec<String> = rej.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!(
            "{rate:.0} msg/s, {} messages, {} aircraft, {} reports, {} posted, {total} rejected{}",
            self.messages.load(Ordering::Relaxed),
            self.aircraft.load(Ordering::Relaxed),
            self.reports.load(Ordering::Relaxed),
            self.posted.load(Ordering::Relaxed),
            if by.is_empty() {
                String::new()
            } else {
                format!(" ({})", by.join(", "))
            }
        )
    }

    /// Prints the status for ever: every second in place on a terminal, otherwise a line
    /// every `every`.
    pub(crate) async fn report(self: Arc<Self>, every: Duration) {
        let period = if self.terminal {
            Duration::from_secs(1)
        } else {
            every
        };
        let mut last = (Instant::now(), 0u64);
        loop {
            tokio::time::sleep(period).await;
            let n = self.messages.load(Ordering::Relaxed);
            let rate = (n - last.1) as f64 / last.0.elapsed().as_secs_f64().max(1e-3);
            last = (Instant::now(), n);
            if self.terminal {
                eprint!("\r\x1b[K{}", self.line(rate));
            } else {
                eprintln!("feed: {}", self.line(rate));
            }
        }
    }

    /// Prints `line()` for ever, as [`Stats::report`] does its own: for a bridge with a
    /// status of another shape (`feed cot-out`).
    pub(crate) async fn report_with(self: Arc<Self>, every: Duration, line: impl Fn() -> String) {
        let period = if self.terminal {
            Duration::from_secs(1)
        } else {
            every
        };
        loop {
            tokio::time::sleep(period).await;
            if self.terminal {
                eprint!("\r\x1b[K{}", line());
            } else {
                eprintln!("feed: {}", line());
            }
        }
    }

    /// The closing line.
    pub(crate) fn summary(&self) -> String {
        self.line(0.0)
    }
}
