//! Conflict detection over a whole scene: brute force, and the time-sliced broad phase over
//! cube-face buckets that makes it scale.
//!
//! # Broad phase
//! Each track flies a straight line `P(t) = R·n + v·t` in Earth-centred 3D space (the tangent
//! line that the pair test also uses). The lookahead is cut into slices of `T` seconds, and the
//! scan takes one slice at a time. In a slice a track sweeps a segment, whose axis-aligned box
//! (x, y, z in ECEF metres, and altitude) is padded by a margin.
//!
//! Boxes are binned per **cube face**: face `2·a + sign` is the region where ECEF axis `a`
//! dominates with that sign. A box goes on every face where some point of it has that face's
//! axis dominant, and on each such face it is binned by the two other axes (cells of
//! `cell_m`) and by altitude (layers of `alt_cell_m`). Two boxes that share a point both reach
//! that point's face, so no overlapping pair is missed, and a box covers about 4 cells instead
//! of about 8 in 3D. A cell's bucket key is a 2D Morton code of its face cell with the
//! altitude layer in the low bits, salted per face, so walking the buckets in order walks the
//! airspace in order; far-apart cells that fold onto one bucket only cost a box test. The
//! tracks themselves are copied into a work array in Morton order of their current position.
//!
//! Only tracks in the same bucket and on the same face, whose padded boxes overlap, get the
//! exact test of [`crate::cpa`]. Working in 3D needs no map projection, so the poles and the
//! antimeridian are not special cases.
//!
//! # Why nothing is missed
//! The pair test measures horizontal distance `h` in the plane tangent at the pair's midpoint
//! `m`; the 3D separation `D(t)` of the two tangent lines also has a component `u` along `m`.
//! `D(0)·m = 0`, and `|u(t)| = t·|Δv·m| ≤ t·s·|m − n_a| ≤ 0.6·t·s·c/R` where `s` is the sum
//! of ground speeds and `c` the chord between the two at `t = 0` (`|m − n_a|/(c/R) =
//! 1/(2cos(θ/4)) ≤ 0.58` for θ ≤ 120°, beyond which the pair test rejects at once); since
//! `c ≤ |D(t)| + s·t`, at a time in conflict (`h < radius`, `t ≤ L`)
//! `|u| ≤ k(radius + sL)/(1 − k)` with `k = 0.6·L·s/R`. So every coordinate
//! of `D(t)` is below `g(s) = sqrt(radius² + u²)`, and padding each track's boxes by
//! `g(2·|v_i|)/2` (g is convex in s) makes the two boxes overlap in the slice holding `t`.
//! Vertically each box is padded by half the half-height. A track's radius, half-height and
//! lookahead are the largest its class has with any other class, which bounds every pair's.
//! A class with DO-365 pairs also pads vertically by TTHR times the track's vertical speed,
//! since a modified-tau loss of well clear reaches the DTHR disc up to TTHR later, when the
//! altitudes have moved on (proof at [`crate::separation::SeparationStandard::do365`]).
//! Tracks whose boxes would cover too many cells (non-finite or absurd states) are tested
//! against every other track instead.
//!
//! # Counting each pair once
//! A candidate pair found in a bucket is tested only in the bucket of the cell holding the low
//! corner of the intersection of its two boxes, and only in the first slice of a run of slices
//! in which the boxes overlap; the rare pair with two separate runs is deduplicated at the end.
//! Buckets are filled by a counting sort on the low bits of the cells' bucket keys, so the whole
//! scan is O(N) for bounded density. A property test (`indexed_equals_brute_force` in
//! `crates/core/tests/detector_props.rs`) checks that the result equals [`brute_force`]
//! exactly.

use crate::class::AssetClass;
use crate::cpa::PairConflict;
use crate::geodesy::{norm, EARTH_RADIUS_M};
use crate::separation::SeparationTable;
use crate::wellclear::pair::detect_raw;

pub use crate::scene::Scene;

/// A conflict between tracks `a < b` of a scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conflict {
    /// Scene index of one track, the lower of the two.
    pub a: u32,
    /// Scene index of the other track, the higher of the two.
    pub b: u32,
    /// The pair test's result for `a` then `b` (`tin`, `tout`, `tcpa`, `dcpa`, alert level).
    pub pair: PairConflict,
}

/// Every pair against every other: the O(N²) baseline and the oracle of the tests.
pub fn brute_force(scene: &Scene, table: &SeparationTable) -> Vec<Conflict> {
    let n = scene.len();
    let mut out = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            if let Some(pair) = scene.test_pair(table, i, j) {
                out.push(Conflict {
                    a: i as u32,
                    b: j as u32,
                    pair,
                });
            }
        }
    }
    out
}

/// Tuning of the broad phase. `None` picks a value from the scene (the default).
///
/// The defaults (2 slices, cells of 1.5 box edges) were measured on the benchmark's traffic
/// (100k tracks, 300 s lookahead): they beat 4–6 thin slices by 2×, because the bucket work,
/// not the pair tests, dominates. `deconflict bench` prints the figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BroadPhaseConfig {
    /// Length of a time slice, seconds (never below the longest lookahead / 63).
    pub slice_s: Option<f64>,
    /// Edge of a cell in the two ECEF axes a cube face is binned on, metres (at least 1).
    pub cell_m: Option<f64>,
    /// Thickness of an altitude layer, metres (at least 1).
    pub alt_cell_m: Option<f64>,
    /// Number of slices the longest lookahead is cut into when `slice_s` is `None`.
    pub slices: u32,
    /// Cell edge as a multiple of a typical padded box edge when `cell_m` is `None`.
    pub cell_factor: f64,
    /// Altitude cell as a multiple of a typical padded box height when `alt_cell_m` is `None`.
    pub alt_cell_factor: f64,
}

impl Default for BroadPhaseConfig {
    fn default() -> Self {
        BroadPhaseConfig {
            slice_s: None,
            cell_m: None,
            alt_cell_m: None,
            // Measured: see the type's docs.
            slices: 2,
            cell_factor: 1.5,
            alt_cell_factor: 2.0,
        }
    }
}

/// Figures from the last scan, for benchmarks and tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScanStats {
    /// Tracks in the scene.
    pub tracks: usize,
    /// Length of a time slice used, seconds.
    pub slice_s: f64,
    /// Edge of a cube-face cell used, metres.
    pub cell_m: f64,
    /// Thickness of an altitude layer used, metres.
    pub alt_cell_m: f64,
    /// Bucket entries written, summed over the slices: one per (track, cube face, cell) that a
    /// track's slice box covers.
    pub entries: usize,
    /// Buckets allocated, summed over the slices (per slice, the power of two above its number
    /// of entries, at least 1024).
    pub buckets: usize,
    /// Box-overlap tests of pairs that share a bucket and a cube face.
    pub box_tests: usize,
    /// Exact pair tests run, including those of wide tracks.
    pub exact_tests: usize,
    /// Tracks tested against every other because their state is not finite or their boxes
    /// would cover too many cells.
    pub wide_tracks: usize,
    /// Conflicting pairs found.
    pub conflicts: usize,
}

/// A track whose boxes would cover more cells than this is tested against every track.
const MAX_CELLS_PER_TRACK: u64 = 4096;
const MAX_SLICES: u32 = 63;

#[derive(Debug, Clone, Copy, Default)]
struct Aabb {
    lo: [f64; 4],
    hi: [f64; 4],
}

#[inline(always)]
fn overlaps(a: &Aabb, b: &Aabb) -> bool {
    a.lo[0] <= b.hi[0]
        && b.lo[0] <= a.hi[0]
        && a.lo[1] <= b.hi[1]
        && b.lo[1] <= a.hi[1]
        && a.lo[2] <= b.hi[2]
        && b.lo[2] <= a.hi[2]
        && a.lo[3] <= b.hi[3]
        && b.lo[3] <= a.hi[3]
}

/// Bucket key of a cell: a 2D Morton code of the face cell with the altitude layer in the low
/// five bits, salted per face. It preserves locality, so that walking the buckets in order walks
/// the airspace in order and the tracks a bucket touches are near those of the previous one
/// (the work array is in spatial order too); far-apart cells that fold onto one bucket only cost
/// a box test. The low `bits` bits of the key (`key & mask` in [`Detector::scan`]) pick the
/// bucket.
#[inline(always)]
fn cell_key(face: u32, c: [i64; 3]) -> u64 {
    let x = (c[0] as u64).wrapping_add(1 << 23) & 0xFF_FFFF;
    let y = (c[1] as u64).wrapping_add(1 << 23) & 0xFF_FFFF;
    let m = morton2(x, y);
    ((m << 5) | (c[2] as u64 & 31)) ^ FACE_SALT[face as usize]
}

const FACE_SALT: [u64; 6] = [
    0x0000_0000_0000,
    0x5A5A_5A5A_5A5A,
    0x3C3C_3C3C_3C3C,
    0x6969_6969_6969,
    0x1E1E_1E1E_1E1E,
    0x7878_7878_7878,
];

#[inline(always)]
fn morton2(x: u64, y: u64) -> u64 {
    fn spread(mut v: u64) -> u64 {
        v &= 0xFFFF_FFFF;
        v = (v | v << 16) & 0x0000_FFFF_0000_FFFF;
        v = (v | v << 8) & 0x00FF_00FF_00FF_00FF;
        v = (v | v << 4) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | v << 2) & 0x3333_3333_3333_3333;
        v = (v | v << 1) & 0x5555_5555_5555_5555;
        v
    }
    spread(x) | spread(y) << 1
}

/// Floor of a float as an integer without a libm call (exact for |x| < 2^52).
#[inline(always)]
fn ifloor(x: f64) -> i64 {
    let t = x as i64;
    t - ((t as f64) > x) as i64
}

/// The two ECEF axes a cube face is binned on: face `2·a + sign` is the region where axis `a`
/// dominates (`|p_a| ≥ |p_other|`) with that sign.
const FACE_AXES: [(usize, usize); 3] = [(1, 2), (0, 2), (0, 1)];

/// The cube faces a box reaches: face (a, sign) if some point of the box has axis `a` dominant
/// with that sign. Two boxes that share a point both reach that point's face, so binning each
/// box only on its faces, by the two other axes, misses no overlapping pair.
#[inline(always)]
fn faces(b: &Aabb) -> impl Iterator<Item = u32> {
    let min_abs = |d: usize| {
        if b.lo[d] <= 0.0 && b.hi[d] >= 0.0 {
            0.0
        } else {
            b.lo[d].abs().min(b.hi[d].abs())
        }
    };
    let m = [min_abs(0), min_abs(1), min_abs(2)];
    let mut set = 0u32;
    for (a, &(o1, o2)) in FACE_AXES.iter().enumerate() {
        let need = m[o1].max(m[o2]);
        if b.hi[a] > 0.0 && b.hi[a] >= need {
            set |= 1 << (2 * a + 1);
        }
        if b.lo[a] <= 0.0 && -b.lo[a] >= need {
            set |= 1 << (2 * a);
        }
    }
    (0..6u32).filter(move |f| set & (1 << f) != 0)
}

/// Horizontal padding of a track's boxes (see the module docs): half of
/// `g(2·gs) = sqrt(r² + u²)`, `u = k(r + 2·gs·L)/(1 − k)`, `k = 0.6·2·gs·L/R`.
///
/// The 0.6 bounds `|m − n_a| / |n_b − n_a| = 1/(2·cos(θ/4))` for the pairs the exact test
/// considers at all (θ ≤ 120°).
#[inline]
pub fn horizontal_margin(radius_m: f64, lookahead_s: f64, gs_mps: f64) -> f64 {
    let s = 2.0 * gs_mps;
    let k = 0.6 * lookahead_s * s / EARTH_RADIUS_M;
    if k.is_nan() || k >= 0.5 {
        return f64::INFINITY;
    }
    let u = k * (radius_m + s * lookahead_s) / (1.0 - k);
    let g = (radius_m * radius_m + u * u).sqrt();
    g * 0.5 * (1.0 + 1e-9) + 1e-3
}

/// The grid used by one scan.
#[derive(Debug, Clone, Copy)]
struct Grid {
    slice_s: f64,
    inv_cell: f64,
    inv_alt_cell: f64,
}

impl Grid {
    #[inline(always)]
    fn cell_of(&self, p: &[f64; 4]) -> [i64; 4] {
        [
            ifloor(p[0] * self.inv_cell),
            ifloor(p[1] * self.inv_cell),
            ifloor(p[2] * self.inv_cell),
            ifloor(p[3] * self.inv_alt_cell),
        ]
    }
}

/// What the broad phase needs of one track, in one 96-byte record so that a bucket's boxes cost
/// a couple of cache lines each, not one miss per array.
#[derive(Debug, Clone, Copy, Default)]
struct Work {
    /// unit vector (the pair test's input; positions are `n · R`)
    n: [f64; 3],
    v: [f64; 3],
    alt: f64,
    vs: f64,
    margin: f64,
    half_h: f64,
    lookahead: f64,
    /// index in the scene
    orig: u32,
    nslices: u16,
    class: AssetClass,
}

/// The indexed detector. Keeps its buffers between scans so a scan allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Detector {
    /// Broad-phase tuning used by the scans.
    pub config: BroadPhaseConfig,
    work: Vec<Work>,
    order: Vec<u64>,
    wide: Vec<u32>,
    is_wide: Vec<bool>,
    hashes: Vec<u64>,
    payload: Vec<u32>,
    counts: Vec<u32>,
    sorted: Vec<u32>,
    boxes: Vec<Aabb>,
    out: Vec<Conflict>,
    stats: ScanStats,
}

#[inline(always)]
fn slice_box(w: &Work, grid: &Grid, k: u32) -> Aabb {
    let t0 = k as f64 * grid.slice_s;
    let t1 = ((k + 1) as f64 * grid.slice_s).min(w.lookahead);
    let e = w.margin;
    let mut b = Aabb::default();
    for d in 0..3 {
        let p = w.n[d] * EARTH_RADIUS_M;
        let a0 = p + w.v[d] * t0;
        let a1 = p + w.v[d] * t1;
        b.lo[d] = a0.min(a1) - e;
        b.hi[d] = a0.max(a1) + e;
    }
    let z0 = w.alt + w.vs * t0;
    let z1 = w.alt + w.vs * t1;
    b.lo[3] = z0.min(z1) - w.half_h;
    b.hi[3] = z0.max(z1) + w.half_h;
    b
}

/// Interleaves the low 21 bits of three numbers (a Morton code), for a spatial order.
#[inline(always)]
fn morton3(x: u64, y: u64, z: u64) -> u64 {
    fn spread(mut v: u64) -> u64 {
        v &= 0x1F_FFFF;
        v = (v | v << 32) & 0x1F_0000_0000_FFFF;
        v = (v | v << 16) & 0x1F_0000_FF00_00FF;
        v = (v | v << 8) & 0x100F_00F0_0F00_F00F;
        v = (v | v << 4) & 0x10C3_0C30_C30C_30C3;
        v = (v | v << 2) & 0x1249_2492_4924_9249;
        v
    }
    spread(x) | spread(y) << 1 | spread(z) << 2
}

impl Detector {
    /// A detector with the default [`BroadPhaseConfig`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A detector with this tuning.
    pub fn with_config(config: BroadPhaseConfig) -> Self {
        Detector {
            config,
            ..Self::default()
        }
    }

    /// Figures from the last scan.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// All conflicting pairs of the scene, sorted by `(a, b)`; the same set [`brute_force`]
    /// returns, in O(N) for bounded traffic density.
    pub fn scan(&mut self, scene: &Scene, table: &SeparationTable) -> &[Conflict] {
        self.out.clear();
        let n = scene.len();
        self.stats = ScanStats {
            tracks: n,
            ..ScanStats::default()
        };
        if n < 2 {
            return &self.out;
        }
        assert!(n < (1 << 26), "a scene holds at most 2^26 tracks");

        // Per-track envelope and padding; typical sizes for the grid.
        let env: [(f64, f64, f64); AssetClass::COUNT] = AssetClass::ALL.map(|c| table.envelope(c));
        let tau: [f64; AssetClass::COUNT] = AssetClass::ALL.map(|c| table.tau_reserve_s(c));
        self.work.clear();
        self.wide.clear();
        self.is_wide.clear();
        self.is_wide.resize(n, false);
        let (mut lmax, mut sum_e, mut sum_gs, mut sum_h, mut sum_vs, mut finite) =
            (0f64, 0f64, 0f64, 0f64, 0f64, 0usize);
        for i in 0..n {
            let (r, h, l) = env[scene.class[i].index()];
            let gs = norm(scene.v[i]);
            let w = Work {
                n: scene.n[i],
                v: scene.v[i],
                alt: scene.alt[i],
                vs: scene.vs[i],
                margin: horizontal_margin(r, l, gs),
                half_h: (h * 0.5 + tau[scene.class[i].index()] * scene.vs[i].abs()) * (1.0 + 1e-9) + 1e-3,
                lookahead: l,
                orig: i as u32,
                nslices: 0,
                class: scene.class[i],
            };
            let ok = w.n.iter().chain(w.v.iter()).all(|x| x.is_finite())
                && w.alt.is_finite()
                && w.vs.is_finite()
                && w.margin.is_finite();
            if !ok {
                self.wide.push(i as u32);
                self.is_wide[i] = true;
                continue;
            }
            lmax = lmax.max(l);
            sum_e += w.margin;
            sum_gs += gs;
            sum_h += h;
            sum_vs += w.vs.abs();
            finite += 1;
            self.work.push(w);
        }
        let cfg = self.config;
        let lmax = if lmax > 0.0 { lmax } else { 1.0 };
        let slice_s = cfg
            .slice_s
            .unwrap_or(lmax / cfg.slices.max(1) as f64)
            .max(lmax / MAX_SLICES as f64);
        let fin = finite.max(1) as f64;
        let cell_m = cfg
            .cell_m
            .unwrap_or(cfg.cell_factor * (2.0 * sum_e / fin + sum_gs / fin * slice_s))
            .max(1.0);
        let alt_cell_m = cfg
            .alt_cell_m
            .unwrap_or(cfg.alt_cell_factor * (sum_h / fin + sum_vs / fin * slice_s))
            .max(1.0);
        let grid = Grid {
            slice_s,
            inv_cell: 1.0 / cell_m,
            inv_alt_cell: 1.0 / alt_cell_m,
        };
        self.stats.slice_s = slice_s;
        self.stats.cell_m = cell_m;
        self.stats.alt_cell_m = alt_cell_m;

        // Spatial order (Morton code of the current cell), so that the tracks of one bucket
        // are near each other in memory.
        self.order.clear();
        let off = (EARTH_RADIUS_M * 2.0 * grid.inv_cell) as i64;
        for (wi, w) in self.work.iter().enumerate() {
            let c = [
                ifloor(w.n[0] * EARTH_RADIUS_M * grid.inv_cell) + off,
                ifloor(w.n[1] * EARTH_RADIUS_M * grid.inv_cell) + off,
                ifloor(w.n[2] * EARTH_RADIUS_M * grid.inv_cell) + off,
            ];
            let key = morton3(c[0] as u64, c[1] as u64, c[2] as u64);
            self.order.push((key << 26) | wi as u64);
        }
        self.order.sort_unstable();
        {
            let old = std::mem::take(&mut self.work);
            self.work
                .extend(self.order.iter().map(|&o| old[(o & ((1 << 26) - 1)) as usize]));
        }

        // Slices per track; tracks whose boxes could cover too many cells go to the wide list
        // (an upper bound from the box extents, so no box is computed here).
        let mut max_slices = 0u32;
        let mut keep = 0usize;
        for wi in 0..self.work.len() {
            let mut w = self.work[wi];
            let ns = ((w.lookahead / slice_s).ceil() as u32).clamp(1, MAX_SLICES);
            w.nslices = ns as u16;
            let horiz = (2.0 * w.margin + norm(w.v) * slice_s) * grid.inv_cell + 2.0;
            let vert = (2.0 * w.half_h + w.vs.abs() * slice_s) * grid.inv_alt_cell + 2.0;
            let bound = ns as f64 * 3.0 * horiz * horiz * vert;
            if bound.is_nan() || bound > MAX_CELLS_PER_TRACK as f64 {
                self.wide.push(w.orig);
                self.is_wide[w.orig as usize] = true;
                continue;
            }
            max_slices = max_slices.max(ns);
            self.work[keep] = w;
            keep += 1;
        }
        self.work.truncate(keep);

        let mut box_tests = 0usize;
        let mut exact_tests = 0usize;
        let mut boxes = std::mem::take(&mut self.boxes);
        let mut out = std::mem::take(&mut self.out);
        let work = std::mem::take(&mut self.work);
        let mut run_end: Vec<usize> = Vec::new();
        // One slice at a time keeps the buckets small enough to stay in cache.
        for k in 0..max_slices {
            // Entries: one per (track, cube face, cell) of the slice's box.
            self.hashes.clear();
            self.payload.clear();
            for (wi, w) in work.iter().enumerate() {
                if (w.nslices as u32) <= k {
                    continue;
                }
                let b = slice_box(w, &grid, k);
                let lo = grid.cell_of(&b.lo);
                let hi = grid.cell_of(&b.hi);
                for f in faces(&b) {
                    let (g, h) = FACE_AXES[(f >> 1) as usize];
                    let p = ((wi as u32) << 3) | f;
                    for ca in lo[3]..=hi[3] {
                        for ch in lo[h]..=hi[h] {
                            for cg in lo[g]..=hi[g] {
                                self.hashes.push(cell_key(f, [cg, ch, ca]));
                                self.payload.push(p);
                            }
                        }
                    }
                }
            }
            let m = self.hashes.len();
            self.stats.entries += m;
            if m < 2 {
                continue;
            }
            // Counting sort of entries into buckets.
            let bits = (usize::BITS - m.max(512).leading_zeros()).min(40);
            let nb = 1usize << bits;
            let mask = (nb - 1) as u64;
            self.counts.clear();
            self.counts.resize(nb + 1, 0);
            for &h in &self.hashes {
                self.counts[(h & mask) as usize] += 1;
            }
            let mut acc = 0u32;
            for c in self.counts.iter_mut() {
                acc += *c;
                *c = acc;
            }
            self.sorted.clear();
            self.sorted.resize(m, 0);
            for e in (0..m).rev() {
                let b = (self.hashes[e] & mask) as usize;
                self.counts[b] -= 1;
                self.sorted[self.counts[b] as usize] = self.payload[e];
            }
            self.stats.buckets += nb;

            // Pairs within buckets.
            for b in 0..nb {
                let s = self.counts[b] as usize;
                let e = self.counts[b + 1] as usize;
                if e - s < 2 {
                    continue;
                }
                let entries = &mut self.sorted[s..e];
                // A party's own crowd costs no pair enumeration: with its pairs skipped, the
                // bucket is sorted by group and each entry meets only the other groups' runs.
                let group = |p: u32| scene.group[work[(p >> 3) as usize].orig as usize];
                if scene.skip_same_group {
                    entries.sort_unstable_by_key(|&p| group(p));
                }
                boxes.clear();
                for &p in entries.iter() {
                    boxes.push(slice_box(&work[(p >> 3) as usize], &grid, k));
                }
                run_end.clear();
                run_end.resize(entries.len(), 0);
                for x in (0..entries.len()).rev() {
                    let same = x + 1 < entries.len()
                        && scene.same_group_key(group(entries[x]), group(entries[x + 1]));
                    run_end[x] = if same { run_end[x + 1] } else { x + 1 };
                }
                for x in 0..entries.len() {
                    let (pi, bi) = (entries[x], &boxes[x]);
                    let (i, f) = (pi >> 3, pi & 7);
                    for y in run_end[x]..entries.len() {
                        let pj = entries[y];
                        let (j, fj) = (pj >> 3, pj & 7);
                        if fj != f || j == i {
                            continue;
                        }
                        box_tests += 1;
                        let bj = &boxes[y];
                        if !overlaps(bi, bj) {
                            continue;
                        }
                        // Only in the cell holding the low corner of the intersection ...
                        let (g, h) = FACE_AXES[(f >> 1) as usize];
                        let corner = grid.cell_of(&[
                            bi.lo[0].max(bj.lo[0]),
                            bi.lo[1].max(bj.lo[1]),
                            bi.lo[2].max(bj.lo[2]),
                            bi.lo[3].max(bj.lo[3]),
                        ]);
                        if (cell_key(f, [corner[g], corner[h], corner[3]]) & mask) as usize != b {
                            continue;
                        }
                        let (wa, wb) = (&work[i as usize], &work[j as usize]);
                        // ... and in the first slice of a run of overlapping slices.
                        if k > 0 && overlaps(&slice_box(wa, &grid, k - 1), &slice_box(wb, &grid, k - 1)) {
                            continue;
                        }
                        // The exact test on the same values, in scene order, as brute force.
                        let (x, y) = if wa.orig < wb.orig { (wa, wb) } else { (wb, wa) };
                        if scene.same_group(x.orig as usize, y.orig as usize) {
                            continue;
                        }
                        exact_tests += 1;
                        let std = table.get(x.class, y.class);
                        if let Some(pair) = detect_raw(x.n, x.v, x.alt, x.vs, y.n, y.v, y.alt, y.vs, std) {
                            out.push(Conflict {
                                a: x.orig,
                                b: y.orig,
                                pair,
                            });
                        }
                    }
                }
            }
        }
        self.work = work;

        // Tracks too wide for the grid: against everyone.
        for &w in &self.wide {
            for j in 0..n as u32 {
                if j == w || (self.is_wide[j as usize] && j < w) {
                    continue;
                }
                let (lo, hi) = if w < j { (w, j) } else { (j, w) };
                exact_tests += 1;
                if let Some(pair) = scene.test_pair(table, lo as usize, hi as usize) {
                    out.push(Conflict { a: lo, b: hi, pair });
                }
            }
        }

        out.sort_unstable_by_key(|c| ((c.a as u64) << 32) | c.b as u64);
        out.dedup_by_key(|c| ((c.a as u64) << 32) | c.b as u64);
        self.stats.box_tests = box_tests;
        self.stats.exact_tests = exact_tests;
        self.stats.wide_tracks = self.wide.len();
        self.stats.conflicts = out.len();
        self.boxes = boxes;
        self.out = out;
        &self.out
    }
}

#[cfg(test)]
mod tests;
