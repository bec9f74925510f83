//! The scene: every track state of one instant in flat arrays (structure of arrays), the form
//! the broad phase and the exact pair test read.

use crate::class::AssetClass;
use crate::cpa::PairConflict;
use crate::geodesy::Vec3;
use crate::separation::SeparationTable;
use crate::track::TrackState;
use crate::wellclear::pair::detect_raw;

/// A set of track states in flat arrays (structure of arrays), indexed `0..len`.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    /// Horizontal position of each track: unit vector from the Earth's centre (ECEF).
    pub n: Vec<Vec3>,
    /// Ground velocity of each track: ECEF vector tangent to the sphere at `n`, m/s.
    pub v: Vec<Vec3>,
    /// Altitude of each track, metres.
    pub alt: Vec<f64>,
    /// Vertical speed of each track, m/s (positive climbing).
    pub vs: Vec<f64>,
    /// Asset class of each track, which selects the separation standard of each pair.
    pub class: Vec<AssetClass>,
    /// Group of each track (0: none), e.g. its party.
    pub group: Vec<u64>,
    /// Pairs of two tracks of one group (other than 0) are never tested: a party's own
    /// aircraft are not its conflicts unless its policy says so, and skipping them before the
    /// exact test keeps a party's own crowd from costing memory.
    pub skip_same_group: bool,
}

impl Scene {
    /// An empty scene.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty scene with room for `n` tracks.
    pub fn with_capacity(n: usize) -> Self {
        Scene {
            n: Vec::with_capacity(n),
            v: Vec::with_capacity(n),
            alt: Vec::with_capacity(n),
            vs: Vec::with_capacity(n),
            class: Vec::with_capacity(n),
            group: Vec::with_capacity(n),
            skip_same_group: false,
        }
    }

    /// The scene of these states: track `i` is `states[i]`.
    pub fn from_states(states: &[TrackState]) -> Self {
        let mut s = Self::with_capacity(states.len());
        for st in states {
            s.push(st);
        }
        s
    }

    /// Appends a track of no group; returns its index.
    pub fn push(&mut self, s: &TrackState) -> u32 {
        self.push_grouped(s, 0)
    }

    /// Appends a track of group `group`; returns its index.
    pub fn push_grouped(&mut self, s: &TrackState, group: u64) -> u32 {
        let i = self.n.len() as u32;
        self.group.push(group);
        self.n.push(s.n);
        self.v.push(s.v);
        self.alt.push(s.alt_m);
        self.vs.push(s.vs_mps);
        self.class.push(s.class);
        i
    }

    /// Replaces track `i` (which must exist) with the state.
    pub fn set(&mut self, i: usize, s: &TrackState) {
        self.n[i] = s.n;
        self.v[i] = s.v;
        self.alt[i] = s.alt_m;
        self.vs[i] = s.vs_mps;
        self.class[i] = s.class;
    }

    /// Removes every track, keeping the allocations.
    pub fn clear(&mut self) {
        self.n.clear();
        self.v.clear();
        self.alt.clear();
        self.vs.clear();
        self.class.clear();
        self.group.clear();
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.n.len()
    }

    /// Whether the scene has no track.
    pub fn is_empty(&self) -> bool {
        self.n.is_empty()
    }

    /// Track `i` (which must exist) as a [`TrackState`].
    pub fn state(&self, i: usize) -> TrackState {
        TrackState {
            n: self.n[i],
            v: self.v[i],
            alt_m: self.alt[i],
            vs_mps: self.vs[i],
            class: self.class[i],
        }
    }

    /// Whether the pair `i`, `j` is skipped as two tracks of one group.
    #[inline(always)]
    pub fn same_group(&self, i: usize, j: usize) -> bool {
        self.same_group_key(self.group[i], self.group[j])
    }

    /// Whether two tracks of groups `a` and `b` are skipped as one group's.
    #[inline]
    pub fn same_group_key(&self, a: u64, b: u64) -> bool {
        self.skip_same_group && a != 0 && a == b
    }

    /// The exact pair test between tracks `i` and `j` with the table's standard for them.
    #[inline(always)]
    pub fn test_pair(&self, table: &SeparationTable, i: usize, j: usize) -> Option<PairConflict> {
        if self.same_group(i, j) {
            return None;
        }
        let std = table.get(self.class[i], self.class[j]);
        detect_raw(
            self.n[i],
            self.v[i],
            self.alt[i],
            self.vs[i],
            self.n[j],
            self.v[j],
            self.alt[j],
            self.vs[j],
            std,
        )
    }
}
