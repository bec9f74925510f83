//! The strategic index: H3 cells plus time buckets in front of the exact [`overlap`] test.
//!
//! # Design
//!
//! Every footprint has a bounding cap (centre `n`, angular radius `ρ`). Two footprints can
//! only share area when their caps overlap: `angle(n₁, n₂) < ρ₁ + ρ₂`. The index finds a
//! superset of those pairs, and the exact test decides.
//!
//! * **Levels.** A volume's *level* is the finest H3 resolution `L` whose bound
//!   `K·R(L) ≥ ρ`, where `R(L)` is the largest distance from any cell's centre to its
//!   boundary at `L` (below). Big footprints live at coarse levels, small ones at fine levels.
//! * **Entries.** A volume is stored under *one* cell per level: the cell containing its cap
//!   centre, at its own level (a *native* entry) and at every coarser level (an *inherited*
//!   entry), each in every time bucket its window touches. So a volume costs
//!   `(L + 1) × buckets` entries, and a volume of any size has O(1) cells per level.
//! * **Query.** For a query cap `(n_q, ρ_q)` of level `L_q`, at every level `l ≤ L_q` that
//!   holds volumes, take the cells whose centre is within `ρ_q + K·R(l) + R(l)` of `n_q`, and
//!   read their native entries; at `l = L_q` read the inherited entries too.
//!   - A stored volume `s` of level `L_s ≤ L_q` is found natively at `L_s`: its centre is
//!     within `ρ_q + ρ_s ≤ ρ_q + K·R(L_s)` of `n_q`, and its cell's centre within `R(L_s)`
//!     of its centre.
//!   - A stored volume of level `L_s > L_q` is found through its inherited entry at `L_q`, by
//!     the same argument with `ρ_s ≤ K·R(L_s) < K·R(L_q)`.
//!   - The query's cells are found by a breadth-first walk over H3 neighbours from the cell of
//!     `n_q`, going on from a cell while its centre is within the radius plus `R(l)` (every
//!     cell meeting the disc, a connected set, is then reached).
//! * **Time.** Windows of up to 24 hours are bucketed by the hour, up to 64 days by the day,
//!   and longer (or non-finite) ones in one bucket read by every query.
//! * Candidates are deduplicated, filtered by time, altitude and cap, then tested exactly.
//!
//! **`R(L)`.** H3 cells are hexagons (and pentagons) of a regular grid in the gnomonic plane
//! of each icosahedron face, scaled by `1/√7` per resolution. Inverse gnomonic projection
//! shrinks distances, so a cell's circumradius on the unit sphere is at most the planar one,
//! `0.2205 / √7^L` radians (the constant `RES0_U_GNOMONIC / √3` of the H3 reference). An
//! exhaustive scan of every cell at resolutions 0–4 and 2 million random cells plus every
//! pentagon neighbourhood at 5–15 found the largest to be `0.220528 / √7^L`; the index uses
//! `0.2206 × 1.02 / √7^L`. The unit test `h3_circumradius_bound` re-checks samples.

use super::sphere::{angle, overlap_within_first, overlap_work, Shape};
use super::{overlap, Overlap, Volume4D};
use crate::geodesy::{lat_lon, unit_vector, Vec3};
use h3o::{CellIndex, Resolution};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

const NUM_LEVELS: usize = 16;
/// Bound on the cell circumradius at resolution 0, radians (with a 2 % margin).
pub(crate) const RMAX0: f64 = 0.2206 * 1.02;
/// A volume is native at the finest level whose `K·R(L)` covers its cap radius.
const K: f64 = 1.0;
const INHERITED: u64 = 1 << 56;
const TIER_SHIFT: u32 = 57;
const TIER_WIDTH_S: [f64; 2] = [3_600.0, 86_400.0];
const TIER_MAX_BUCKETS: [i128; 2] = [24, 64];
const ALL_TIME: usize = 2;
/// A query whose window spans more buckets than this is answered by a scan.
const MAX_QUERY_BUCKETS: i128 = 20_000;

pub(crate) fn rmax(level: usize) -> f64 {
    RMAX0 * (1.0 / 7f64.sqrt()).powi(level as i32)
}

fn resolution(level: usize) -> Resolution {
    Resolution::try_from(level as u8).expect("level below 16")
}

fn natural_level(rho: f64) -> Option<usize> {
    (0..NUM_LEVELS).rev().find(|&l| rho <= K * rmax(l))
}

/// `(tier, first bucket, last bucket)` of a stored window.
fn stored_tier(ts: f64, te: f64) -> (usize, i64, i64) {
    if ts.is_finite() && te.is_finite() && ts <= te {
        for (t, w) in TIER_WIDTH_S.iter().enumerate() {
            let (b0, b1) = ((ts / w).floor() as i64, (te / w).floor() as i64);
            if (b1 as i128) - (b0 as i128) < TIER_MAX_BUCKETS[t] {
                return (t, b0, b1);
            }
        }
    }
    (ALL_TIME, 0, 0)
}

/// Buckets of tier `t` a query window touches; `None` when too many (or not finite).
fn query_buckets(t: usize, ts: f64, te: f64) -> Option<(i64, i64)> {
    if t == ALL_TIME {
        return Some((0, 0));
    }
    if !(ts.is_finite() && te.is_finite()) {
        return None;
    }
    let w = TIER_WIDTH_S[t];
    let (b0, b1) = ((ts / w).floor() as i64, (te / w).floor() as i64);
    ((b1 as i128) - (b0 as i128) <= MAX_QUERY_BUCKETS).then_some((b0, b1))
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct CellKey {
    cell: u64,
    bucket: i64,
}

impl Hash for CellKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.cell ^ (self.bucket as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

/// One multiply-and-mix of a single `u64` (the keys are already well spread).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    }
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        x ^ (x >> 33)
    }
}

/// One stored key's overlaps with a query: `(key, [(query volume, stored volume, overlap)])`.
pub type KeyConflicts = (u64, Vec<(usize, usize, Overlap)>);

type CellMap = HashMap<CellKey, Vec<u32>, BuildHasherDefault<KeyHasher>>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// Native at this level.
    Level(usize),
    /// Too big for level 0: read by every query.
    Global,
    /// Overlaps and contains nothing (degenerate footprint).
    Nowhere,
}

struct Slot {
    key: u64,
    idx: u32,
    vol: Volume4D,
    c: Vec3,
    rho: f64,
    place: Place,
}

/// Counts describing an index.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct IndexStats {
    /// Stored keys (intents or constraints).
    pub keys: usize,
    /// Stored volumes, over all keys.
    pub volumes: usize,
    /// (cell, time bucket) lists.
    pub cells: usize,
    /// Entries in those lists.
    pub entries: usize,
    /// Volumes native at each H3 resolution (index 0 to 15).
    pub per_level: Vec<usize>,
    /// Volumes too big for resolution 0, read by every query.
    pub global: usize,
}

/// Stored 4D volumes by key (an intent or constraint), indexed by H3 cells and time buckets.
/// The design and its proof of completeness are in the module docs of
/// `crates/core/src/strategic/index.rs` (a private module, so rustdoc does not show them).
#[derive(Default)]
pub struct StrategicIndex {
    keys: HashMap<u64, Vec<u32>>,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    cells: CellMap,
    native: [usize; NUM_LEVELS],
    inherited: [usize; NUM_LEVELS],
    tiers: [usize; 3],
    global: Vec<u32>,
}

/// A query cap's level: its natural one, or 0 for one too big for any.
fn query_level(rho: f64) -> usize {
    natural_level(rho).unwrap_or(0)
}

fn cell_of(c: Vec3, level: usize) -> Option<CellIndex> {
    let (lat, lng) = lat_lon(c);
    h3o::LatLng::new(lat, lng)
        .ok()
        .map(|ll| ll.to_cell(resolution(level)))
}

fn cell_center(cell: CellIndex) -> Vec3 {
    let ll = h3o::LatLng::from(cell);
    unit_vector(ll.lat(), ll.lng())
}

/// Every cell of `level` whose centre is within `radius` of `c` (and a few more).
fn cover(c: Vec3, radius: f64, level: usize, out: &mut Vec<CellIndex>) {
    out.clear();
    let Some(start) = cell_of(c, level) else {
        return;
    };
    let expand = radius + rmax(level);
    let mut seen: std::collections::HashSet<u64, BuildHasherDefault<KeyHasher>> = Default::default();
    let mut queue = vec![start];
    seen.insert(u64::from(start));
    while let Some(cell) = queue.pop() {
        let d = angle(cell_center(cell), c);
        if d < radius {
            out.push(cell);
        }
        if d < expand {
            for n in cell.grid_disk::<Vec<CellIndex>>(1) {
                if seen.insert(u64::from(n)) {
                    queue.push(n);
                }
            }
        }
    }
}

fn time_alt_overlap(a: &Volume4D, b: &Volume4D) -> bool {
    a.time_start.max(b.time_start) < a.time_end.min(b.time_end)
        && a.alt_lower_m.max(b.alt_lower_m) < a.alt_upper_m.min(b.alt_upper_m)
}

impl StrategicIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The stored volumes of `key`.
    pub fn get(&self, key: u64) -> Option<Vec<&Volume4D>> {
        self.keys.get(&key).map(|ids| {
            ids.iter()
                .filter_map(|&i| self.slots[i as usize].as_ref().map(|s| &s.vol))
                .collect()
        })
    }

    /// Counts describing the index now (see [`IndexStats`]).
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            keys: self.keys.len(),
            volumes: self.slots.len() - self.free.len(),
            cells: self.cells.len(),
            entries: self.cells.values().map(Vec::len).sum(),
            per_level: self.native.to_vec(),
            global: self.global.len(),
        }
    }

    /// Calls `f` with every (cell, bucket) key of a slot.
    fn slot_keys(s: &Slot, mut f: impl FnMut(CellKey)) {
        let Place::Level(ls) = s.place else {
            return;
        };
        let (tier, b0, b1) = stored_tier(s.vol.time_start, s.vol.time_end);
        for l in 0..=ls {
            let Some(cell) = cell_of(s.c, l) else {
                continue;
            };
            let mut bits = u64::from(cell) | ((tier as u64) << TIER_SHIFT);
            if l < ls {
                bits |= INHERITED;
            }
            for bucket in b0..=b1 {
                f(CellKey { cell: bits, bucket });
            }
        }
    }

    /// Stores `volumes` under `key`, replacing any previous entry of that key.
    pub fn insert(&mut self, key: u64, volumes: Vec<Volume4D>) {
        self.remove(key);
        let mut ids = Vec::with_capacity(volumes.len());
        for (i, vol) in volumes.into_iter().enumerate() {
            let shape = Shape::new(&vol.footprint);
            let place = if shape.is_empty() {
                Place::Nowhere
            } else {
                natural_level(shape.rho).map_or(Place::Global, Place::Level)
            };
            let slot = Slot {
                key,
                idx: i as u32,
                c: shape.c,
                rho: shape.rho,
                vol,
                place,
            };
            let id = match self.free.pop() {
                Some(id) => id,
                None => {
                    self.slots.push(None);
                    (self.slots.len() - 1) as u32
                }
            };
            let cells = &mut self.cells;
            Self::slot_keys(&slot, |k| cells.entry(k).or_default().push(id));
            match place {
                Place::Level(l) => {
                    self.native[l] += 1;
                    for n in &mut self.inherited[..l] {
                        *n += 1;
                    }
                    self.tiers[stored_tier(slot.vol.time_start, slot.vol.time_end).0] += 1;
                }
                Place::Global => self.global.push(id),
                Place::Nowhere => {}
            }
            self.slots[id as usize] = Some(slot);
            ids.push(id);
        }
        self.keys.insert(key, ids);
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, key: u64) -> bool {
        let Some(ids) = self.keys.remove(&key) else {
            return false;
        };
        for id in ids {
            let Some(slot) = self.slots[id as usize].take() else {
                continue;
            };
            let cells = &mut self.cells;
            Self::slot_keys(&slot, |k| {
                if let Some(list) = cells.get_mut(&k) {
                    if let Some(p) = list.iter().position(|&x| x == id) {
                        list.swap_remove(p);
                    }
                    if list.is_empty() {
                        cells.remove(&k);
                    }
                }
            });
            match slot.place {
                Place::Level(l) => {
                    self.native[l] -= 1;
                    for n in &mut self.inherited[..l] {
                        *n -= 1;
                    }
                    self.tiers[stored_tier(slot.vol.time_start, slot.vol.time_end).0] -= 1;
                }
                Place::Global => self.global.retain(|&x| x != id),
                Place::Nowhere => {}
            }
            self.free.push(id);
        }
        true
    }

    fn live_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as u32)
    }

    /// Candidate slots for a cap `(c, rho)` of query level `lq` over `[ts, te]`; `native_only`
    /// for a point. Returns false when the query must be answered by a scan.
    #[allow(clippy::too_many_arguments)]
    fn gather(
        &self,
        c: Vec3,
        rho: f64,
        lq: usize,
        ts: f64,
        te: f64,
        out: &mut Vec<u32>,
        cells: &mut Vec<CellIndex>,
    ) -> bool {
        let mut buckets: Vec<(u64, i64, i64)> = Vec::with_capacity(3);
        for t in 0..3 {
            if self.tiers[t] > 0 {
                let Some((b0, b1)) = query_buckets(t, ts, te) else {
                    return false;
                };
                buckets.push(((t as u64) << TIER_SHIFT, b0, b1));
            }
        }
        for l in 0..=lq {
            let native = self.native[l] > 0;
            let inherited = l == lq && self.inherited[l] > 0;
            if !native && !inherited {
                continue;
            }
            cover(c, rho + K * rmax(l) + rmax(l), l, cells);
            for cell in cells.iter() {
                let cell = u64::from(*cell);
                for &(tier, b0, b1) in &buckets {
                    for bucket in b0..=b1 {
                        if native {
                            if let Some(v) = self.cells.get(&CellKey {
                                cell: cell | tier,
                                bucket,
                            }) {
                                out.extend_from_slice(v);
                            }
                        }
                        if inherited {
                            if let Some(v) = self.cells.get(&CellKey {
                                cell: cell | tier | INHERITED,
                                bucket,
                            }) {
                                out.extend_from_slice(v);
                            }
                        }
                    }
                }
            }
        }
        out.extend_from_slice(&self.global);
        true
    }

    /// Every stored key with at least one volume overlapping one of `volumes`, with the exact
    /// overlaps `(query volume index, stored volume index, overlap)`, sorted by key and then by
    /// the index pair. Equal to [`brute_force_conflicts`] over the stored keys.
    pub fn conflicts(&self, volumes: &[Volume4D]) -> Vec<KeyConflicts> {
        let mut unlimited = u64::MAX;
        self.conflicts_within(volumes, &mut unlimited, |_| false)
    }

    /// [`conflicts`](Self::conflicts) with a work budget, leaving out the keys `skip` names
    /// before any geometry is computed for them. Each exact overlap spends
    /// [`overlap_work`] of `budget`; once that would overdraw it, the remaining candidates
    /// get the conservative [`overlap_within_first`] (exact time and altitude, the query
    /// volume's own outline, marked `approximate`), so a conflict is never missed and one
    /// filing's exact geometry costs at most the budget.
    pub fn conflicts_within(
        &self,
        volumes: &[Volume4D],
        budget: &mut u64,
        skip: impl Fn(u64) -> bool,
    ) -> Vec<KeyConflicts> {
        let mut found: Vec<(u64, usize, usize, Overlap)> = Vec::new();
        let mut cand: Vec<u32> = Vec::new();
        let mut cells: Vec<CellIndex> = Vec::new();
        for (qi, q) in volumes.iter().enumerate() {
            let shape = Shape::new(&q.footprint);
            if shape.is_empty() {
                // Overlaps nothing (`overlap` says so too).
                continue;
            }
            cand.clear();
            let indexed = self.gather(
                shape.c,
                shape.rho,
                query_level(shape.rho),
                q.time_start,
                q.time_end,
                &mut cand,
                &mut cells,
            );
            if !indexed {
                cand.clear();
                cand.extend(self.live_ids());
            }
            cand.sort_unstable();
            cand.dedup();
            for &id in &cand {
                let Some(s) = self.slots[id as usize].as_ref() else {
                    continue;
                };
                if !time_alt_overlap(q, &s.vol) {
                    continue;
                }
                let near = angle(shape.c, s.c) < shape.rho + s.rho;
                if !near || skip(s.key) {
                    continue;
                }
                let work = overlap_work(q, &s.vol);
                let o = if work <= *budget {
                    *budget -= work;
                    overlap(q, &s.vol)
                } else {
                    *budget = 0;
                    overlap_within_first(q, &s.vol)
                };
                if let Some(o) = o {
                    found.push((s.key, qi, s.idx as usize, o));
                }
            }
        }
        group(found)
    }

    /// Keys with a volume containing the point at time `t` (see [`Volume4D::contains`]),
    /// sorted.
    pub fn containing(&self, lat: f64, lng: f64, alt_m: f64, t: f64) -> Vec<u64> {
        let p = unit_vector(lat, lng);
        let mut cand: Vec<u32> = Vec::new();
        let mut cells: Vec<CellIndex> = Vec::new();
        let mut indexed = p.iter().all(|x| x.is_finite());
        if indexed {
            // A point is a cap of radius 0 finer than every level: native entries only.
            for l in 0..NUM_LEVELS {
                if self.native[l] == 0 {
                    continue;
                }
                cover(p, K * rmax(l) + rmax(l), l, &mut cells);
                for cell in &cells {
                    for tier in 0..3 {
                        if self.tiers[tier] == 0 {
                            continue;
                        }
                        let Some((b, _)) = query_buckets(tier, t, t) else {
                            indexed = false;
                            continue;
                        };
                        let key = CellKey {
                            cell: u64::from(*cell) | ((tier as u64) << TIER_SHIFT),
                            bucket: b,
                        };
                        if let Some(v) = self.cells.get(&key) {
                            cand.extend_from_slice(v);
                        }
                    }
                }
            }
            cand.extend_from_slice(&self.global);
        }
        if !indexed {
            cand.clear();
            cand.extend(self.live_ids());
        }
        cand.sort_unstable();
        cand.dedup();
        let mut keys: Vec<u64> = cand
            .iter()
            .filter_map(|&id| self.slots[id as usize].as_ref())
            .filter(|s| s.vol.contains(lat, lng, alt_m, t))
            .map(|s| s.key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

fn group(mut found: Vec<(u64, usize, usize, Overlap)>) -> Vec<KeyConflicts> {
    found.sort_by_key(|x| (x.0, x.1, x.2));
    let mut out: Vec<KeyConflicts> = Vec::new();
    for (key, qi, si, o) in found {
        match out.last_mut() {
            Some((k, v)) if *k == key => v.push((qi, si, o)),
            _ => out.push((key, vec![(qi, si, o)])),
        }
    }
    out
}

/// The reference answer: [`overlap`] of every query volume with every stored volume, grouped
/// like [`StrategicIndex::conflicts`].
pub fn brute_force_conflicts(all: &[(u64, Vec<Volume4D>)], volumes: &[Volume4D]) -> Vec<KeyConflicts> {
    let mut found = Vec::new();
    for (key, stored) in all {
        for (si, s) in stored.iter().enumerate() {
            for (qi, q) in volumes.iter().enumerate() {
                if let Some(o) = overlap(q, s) {
                    found.push((*key, qi, si, o));
                }
            }
        }
    }
    group(found)
}
