//! The other nodes this one has heard of: a small number each ([`Origin`]), and when each was
//! last heard. Time is passed in, so liveness is tested without sleeping.

use crate::tactical::{Origin, LOCAL, UNKNOWN};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A node not heard for this long is taken as gone.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(3);

/// The nodes heard of, numbered from 1 in the order first heard (0 is this node).
#[derive(Default)]
pub(crate) struct Peers {
    by_name: HashMap<String, Origin>,
    names: Vec<String>,
    seen: Vec<Option<Instant>>,
}

impl Peers {
    pub(crate) fn origin_of(&mut self, name: &str) -> Origin {
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

    /// Notes that node `name` was heard at `now`; returns its number.
    pub(crate) fn heard(&mut self, name: &str, now: Instant) -> Origin {
        let o = self.origin_of(name);
        if o != UNKNOWN {
            self.seen[usize::from(o) - 1] = Some(now);
        }
        o
    }

    /// Whether node `o` was heard within [`PEER_TIMEOUT`] before `now`.
    pub(crate) fn is_live(&self, o: Origin, now: Instant) -> bool {
        o != LOCAL
            && o != UNKNOWN
            && self
                .seen
                .get(usize::from(o) - 1)
                .copied()
                .flatten()
                .is_some_and(|t| now.saturating_duration_since(t) < PEER_TIMEOUT)
    }

    /// The names of the nodes live at `now`.
    pub(crate) fn live_names(&self, now: Instant) -> Vec<String> {
        (1..=self.names.len())
            .filter(|&i| self.is_live(i as Origin, now))
            .map(|i| self.names[i - 1].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_node_is_live_for_the_peer_timeout_after_it_was_heard() {
        let t0 = Instant::now();
        let mut p = Peers::default();
        let a = p.heard("a", t0);
        let b = p.origin_of("b");
        assert_eq!((a, b), (1, 2));
        assert_eq!(p.heard("a", t0), a, "the same name keeps its number");
        assert!(p.is_live(a, t0 + PEER_TIMEOUT - Duration::from_millis(1)));
        assert!(!p.is_live(a, t0 + PEER_TIMEOUT));
        assert!(!p.is_live(b, t0), "known but never heard");
        assert!(!p.is_live(LOCAL, t0) && !p.is_live(UNKNOWN, t0));
        p.heard("b", t0 + Duration::from_secs(2));
        assert_eq!(
            p.live_names(t0 + Duration::from_millis(3500)),
            vec!["b".to_string()]
        );
        // A time before the last heartbeat (clocks are monotonic, but be safe) counts as live.
        assert!(p.is_live(a, t0 - Duration::from_secs(1)));
    }
}
