//! Places per party: at most so many of one party's jobs of a kind in flight at once (waiting
//! or running), the rest waiting for a place, asynchronously. A leaf: used by the strategic
//! worker (filings) and by the routes that write to the store (reports, hotline messages), so
//! that however many requests one party sends at once, it holds at most its places in the
//! worker's queue or in the store writer's next group commit, and another party's job comes
//! after at most those.

use deconflict_core::party::PartyId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The places of every party (created on a party's first use).
pub struct PartyPlaces {
    per_party: usize,
    map: Mutex<HashMap<PartyId, Arc<Semaphore>>>,
}

/// The places were closed (the service is stopping).
#[derive(Debug, thiserror::Error)]
#[error("no place: the service is stopping")]
pub struct Closed;

impl PartyPlaces {
    /// `per_party` places for each party (at least 1).
    pub fn new(per_party: usize) -> Self {
        PartyPlaces {
            per_party: per_party.max(1),
            map: Mutex::default(),
        }
    }

    /// Places per party.
    pub fn per_party(&self) -> usize {
        self.per_party
    }

    /// Waits for one of `party`'s places; the place is the caller's until the permit drops.
    pub async fn acquire(&self, party: PartyId) -> Result<OwnedSemaphorePermit, Closed> {
        let places = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(party)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_party)))
            .clone();
        places.acquire_owned().await.map_err(|_| Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_party_that_holds_its_places_waits_and_another_does_not() {
        let p = PartyPlaces::new(2);
        let held = [p.acquire(PartyId(1)).await.ok(), p.acquire(PartyId(1)).await.ok()];
        assert!(held.iter().all(Option::is_some));
        // the third of party 1 waits ...
        let third = tokio::time::timeout(Duration::from_millis(50), p.acquire(PartyId(1))).await;
        assert!(third.is_err(), "party 1 got a third place");
        // ... party 2 does not
        let other = tokio::time::timeout(Duration::from_millis(50), p.acquire(PartyId(2))).await;
        assert!(other.is_ok_and(|r| r.is_ok()), "party 2 waited for party 1");
        // and a place given back is taken
        drop(held);
        let again = tokio::time::timeout(Duration::from_millis(50), p.acquire(PartyId(1))).await;
        assert!(again.is_ok_and(|r| r.is_ok()));
        assert_eq!(PartyPlaces::new(0).per_party(), 1);
    }
}
