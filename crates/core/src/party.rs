//! Who a track, an alert or a filing belongs to.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A party's number: the operator (or authority) that owns tracks and filings, and to which
/// alerts are told. The store numbers parties with the same type (`deconflict_store::PartyId`
/// is this one), so the store, the engine and the service agree. A newtype, not a bare `i64`:
/// a party's number cannot be passed where a seq, a version or a count is meant. On the wire
/// and in the database it is the plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(pub i64);

impl PartyId {
    /// The plain integer (the database's and the wire's form).
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<i64> for PartyId {
    fn from(n: i64) -> Self {
        PartyId(n)
    }
}
