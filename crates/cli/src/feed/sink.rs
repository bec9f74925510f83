//! Where a source hands its reports: a bounded queue to the poster, and the counting of what
//! the parsers refused.

use super::status::Stats;
use deconflict_core::TrackReport;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Unix seconds now (the bridges' clock for when a message was received).
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Where a source hands its reports: a bounded queue to the poster.
#[derive(Clone)]
pub(crate) struct Sink {
    pub tx: mpsc::Sender<TrackReport>,
    pub stats: Arc<Stats>,
}

impl Sink {
    /// Queues a report; counted `backlog_full` and dropped when the service is too far behind.
    pub(crate) fn send(&self, r: TrackReport) {
        self.stats
            .reports
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.tx.try_send(r).is_err() {
            self.stats
                .reject("backlog_full", 1, "the service is behind; report dropped");
        }
    }

    /// Counts a parser's refusal.
    pub(crate) fn refused(&self, why: deconflict_feeds::Reject, what: &str) {
        let mut s = what.chars().take(120).collect::<String>();
        s.retain(|c| !c.is_control());
        self.stats.reject(why.reason(), 1, &format!("{s:?}"));
    }
}
