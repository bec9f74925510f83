//! Who a tactical pair belongs to across nodes: which node took each track's reports
//! ([`Origin`]), which node speaks for a pair ([`Speaks`]), and how a conflict is named
//! ([`ConflictIds`]). The engine is handed these; it draws no randomness of its own.

use std::sync::Arc;

/// Which node took a track's latest report from its owner: [`LOCAL`] for this node; other
/// numbers are given out by the cluster layer, [`UNKNOWN`] for tracks loaded from the store.
pub type Origin = u16;
/// This node.
pub const LOCAL: Origin = 0;
/// A track whose origin is not known (warmed from the store after a restart).
pub const UNKNOWN: Origin = Origin::MAX;

/// Decides whether this node tells the parties of a change of a conflict between a track that
/// came in through `lo` and one that came in through `hi` (`lo` is the origin of the pair's
/// lower `(party, asset)`). With several nodes every node scans the picture it holds, and
/// exactly one of them speaks for each pair; on one node it is always this one.
pub type Speaks = Arc<dyn Fn(Origin, Origin) -> bool + Send + Sync>;

/// Keyed hash used for conflict ids (the store's `opaque_id`).
pub type OpaqueId = Arc<dyn Fn(&str) -> u64 + Send + Sync>;

/// How conflicts are named: an opaque id of the two tracks' identities and of the encounter
/// (its **episode**), which says nothing about the pair or the order of conflicts, and is
/// fresh for every encounter of the same two tracks, so a party cannot recognise a foreign
/// aircraft from one encounter to the next by its conflict id.
///
/// The episode is named by the absolute time of the pair's closest point of approach, in
/// [`EPISODE_BIN_S`] bins: for aircraft flying straight that time is the same whenever it is
/// computed, so every node, and a node restarted mid-encounter, names one encounter the same
/// without sharing any state. (Limits: a manoeuvre between two nodes' first sight of the
/// conflict, or a CPA time within noise of a bin edge, can give one encounter two ids; a pair
/// with no closure has its CPA "now", so its id is fresh at every start.)
#[derive(Clone)]
pub enum ConflictIds {
    /// A keyed hash shared by every node and kept across restarts (the store's), so every
    /// node, and this one after a restart, names a conflict the same.
    Keyed(OpaqueId),
    /// A hash salted with this number: stable for the life of the engine only. The caller
    /// draws the salt (tests pass a fixed one).
    Salted(u64),
}

impl std::fmt::Debug for ConflictIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConflictIds::Keyed(_) => f.write_str("Keyed(..)"),
            ConflictIds::Salted(_) => f.write_str("Salted(..)"),
        }
    }
}

/// The width of the bins of CPA times that name an episode (see [`ConflictIds`]).
pub const EPISODE_BIN_S: f64 = 30.0;

/// The episode of an encounter whose closest point of approach is at `cpa_time` (Unix
/// seconds): its [`EPISODE_BIN_S`] bin.
pub fn episode_of(cpa_time: f64) -> i64 {
    if cpa_time.is_finite() {
        // Saturates for absurd times; the id is still fresh per encounter.
        (cpa_time / EPISODE_BIN_S).floor() as i64
    } else {
        0
    }
}

impl ConflictIds {
    /// The id of the conflict between the tracks `a` and `b` (`"party/asset"`), in either
    /// order, in `episode` ([`episode_of`]).
    pub fn of(&self, a: &str, b: &str, episode: i64) -> String {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let x = match self {
            ConflictIds::Keyed(f) => f(&format!("tactical-conflict\n{lo}\n{hi}\n{episode}")),
            ConflictIds::Salted(salt) => {
                let mut x = *salt;
                let ep = episode.to_be_bytes();
                for byte in lo.bytes().chain([0]).chain(hi.bytes()).chain([0]).chain(ep) {
                    x = (x ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
                x ^= x >> 33;
                x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
                x ^ (x >> 33)
            }
        };
        format!("c-{x:016x}")
    }
}
