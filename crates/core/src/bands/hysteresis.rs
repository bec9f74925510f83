//! The bands as a DAIDALUS display shows them over time: an M-of-N filter on every band
//! boundary, and the persistence of the conflict band the ownship is in (DAIDALUS's bands
//! hysteresis, on in `DaidalusBatch` by default, hence in the reference files).
//!
//! [`compute`](super::compute) grades one instant on its own. A display fed at 1 Hz would
//! flicker where a boundary moves by a grid step from one second to the next, so DAIDALUS
//! filters the colours it shows:
//!
//! * **M of N** (`alerting_m` 2 of `alerting_n` 4): each boundary ever shown is a point with a
//!   history of the last N colours on each side. A side shows the most severe colour that at
//!   least M of its last N colours reach (severity `none` < `preventive` < `corrective` <
//!   `warning` < `recovery`). A boundary appearing takes over the history of the range it
//!   falls in; a point whose two sides have the same history is dropped. So a band that grows
//!   reaches a new value one step late (the new colour needs two of four), and one that
//!   shrinks leaves it two steps late (the old colour holds while two of four have it). In
//!   E1, whose warning speed boundary moves down by 10 kt a second, the shown boundary is
//!   the previous second's: the raw one is entered 24.7–25 s ahead, the shown one 25 s ahead
//!   one second earlier (`docs/do365.md`, item 1 of the disagreements).
//! * **Persistence** (`bands_persistence`, `persistence_time` 4 s): when the ownship's current
//!   value is in a conflict band, and at the next step its region turns less severe within
//!   4 s of that band's onset (or last escalation), the band it was in is kept, over weaker
//!   colours only.
//! * A gap of more than `hysteresis_time` (5 s) between steps, or time going backwards,
//!   forgets everything.
//!
//! The filter changes the bands only, never the resolution (which is the instant's own).

use super::config::{Band, BandLevel};
use super::grid::Bands;
use crate::geodesy::{FPM_TO_MPS, FT_TO_M, KT_TO_MPS};
use crate::track::TrackReport;
use std::collections::VecDeque;

/// The filter's parameters: DAIDALUS's keys of `DO_365A_no_SUM.conf`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HysteresisConfig {
    /// `hysteresis_time`, seconds: a longer gap between steps resets the filter.
    pub hysteresis_s: f64,
    /// `persistence_time`, seconds.
    pub persistence_s: f64,
    /// `bands_persistence`.
    pub persistence: bool,
    /// `alerting_m`: how many of the last N colours a side needs to show one.
    pub m: usize,
    /// `alerting_n`.
    pub n: usize,
}

impl HysteresisConfig {
    /// DAIDALUS v2.0.4's `DO_365A_no_SUM.conf`.
    pub fn do365a() -> Self {
        HysteresisConfig {
            hysteresis_s: 5.0,
            persistence_s: 4.0,
            persistence: true,
            m: 2,
            n: 4,
        }
    }
}

impl Default for HysteresisConfig {
    fn default() -> Self {
        Self::do365a()
    }
}

/// Severity of a colour for the filter; -1 is "outside the dimension's limits".
type Code = i8;
const OUTSIDE: Code = -1;

fn code(l: BandLevel) -> Code {
    match l {
        BandLevel::None => 0,
        BandLevel::Preventive => 1,
        BandLevel::Corrective => 2,
        BandLevel::Warning => 3,
        BandLevel::Recovery => 4,
    }
}

fn level(c: Code) -> BandLevel {
    match c {
        1 => BandLevel::Preventive,
        2 => BandLevel::Corrective,
        3 => BandLevel::Warning,
        4 => BandLevel::Recovery,
        _ => BandLevel::None,
    }
}

/// none and recovery: the colours a pilot may fly (DAIDALUS's "resolution" regions).
fn is_free(c: Code) -> bool {
    c == 0 || c == 4
}

fn is_conflict(c: Code) -> bool {
    (1..=3).contains(&c)
}

/// Severity among conflict colours, the free ones counting as 0.
fn conflict_order(c: Code) -> Code {
    if is_free(c) {
        0
    } else {
        c
    }
}

/// The last N colours of one side of a boundary.
#[derive(Debug, Clone, PartialEq)]
struct History(VecDeque<Code>);

impl History {
    /// M copies of `c`, the rest unknown: a new colour shows at once.
    fn new(c: Code, cfg: &HysteresisConfig) -> Self {
        History((0..cfg.n).map(|i| if i < cfg.m { c } else { OUTSIDE }).collect())
    }

    /// Records `c` and returns the colour shown: the M-th most severe of the last N.
    fn push(&mut self, c: Code, m: usize) -> Code {
        self.0.pop_front();
        self.0.push_back(c);
        let mut v: Vec<Code> = self.0.iter().copied().collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.get(m.saturating_sub(1)).copied().unwrap_or(OUTSIDE)
    }
}

/// A boundary: its value and the colours left and right of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mark {
    val: f64,
    left: Code,
    right: Code,
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    val: f64,
    left: History,
    right: History,
}

/// The conflict band the current value was in at the last step (persistence).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Held {
    color: Code,
    lo: f64,
    hi: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct DimState {
    points: Vec<Point>,
    held: Option<Held>,
    /// When the held band began (or last escalated); `None`: persistence idle.
    since: Option<f64>,
}

const EPS: f64 = 1e-6;

/// DAIDALUS's bands hysteresis for one ownship (module docs): feed it the bands of every
/// step, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct BandsHysteresis {
    cfg: HysteresisConfig,
    last_time: Option<f64>,
    dims: [DimState; 4],
}

impl BandsHysteresis {
    /// A filter that has seen nothing yet.
    pub fn new(cfg: HysteresisConfig) -> Self {
        BandsHysteresis {
            cfg,
            last_time: None,
            dims: Default::default(),
        }
    }

    /// Filters `bands`, computed for `own` at `time_s`, in place (their resolution is kept).
    pub fn apply(&mut self, time_s: f64, own: &TrackReport, bands: &mut Bands) {
        let stale = self
            .last_time
            .is_none_or(|t| time_s <= t || time_s - t > self.cfg.hysteresis_s);
        if stale {
            self.dims = Default::default();
        }
        self.last_time = Some(time_s);
        let current = [
            own.track_deg.rem_euclid(360.0),
            own.gs_mps / KT_TO_MPS,
            own.vs_mps / FPM_TO_MPS,
            own.alt_m / FT_TO_M,
        ];
        let lists = [
            &mut bands.track_deg,
            &mut bands.gs_kt,
            &mut bands.vs_fpm,
            &mut bands.alt_ft,
        ];
        for (k, list) in lists.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let circular = k == 0;
            *list = self.dim(k, time_s, current[k], list, circular);
        }
    }

    fn dim(&mut self, k: usize, time_s: f64, val: f64, raw: &[Band], circular: bool) -> Vec<Band> {
        let recovery = raw.iter().any(|b| b.level == BandLevel::Recovery);
        let mut marks = marks(raw, circular);
        let cfg = self.cfg;
        let st = &mut self.dims[k];
        m_of_n(&mut st.points, &mut marks, &cfg);
        if cfg.persistence && cfg.persistence_s > 0.0 {
            match st.held {
                Some(h) => {
                    let now = region_of(&marks, val);
                    if now != OUTSIDE {
                        let young = st.since.is_some_and(|s| time_s - s < cfg.persistence_s);
                        if young && now < h.color {
                            paint(&mut marks, h.lo, h.hi, h.color, circular);
                        } else if is_conflict(now) && now > h.color {
                            st.since = Some(time_s);
                        }
                    }
                }
                None => st.since = Some(time_s),
            }
        }
        let out = to_bands(&marks, recovery);
        if st.since.is_some() {
            st.held = held(&out, val, circular);
            if st.held.is_none() {
                st.since = None;
            }
        }
        out
    }
}

/// The boundaries of `bands` (covering the dimension in increasing order; zero-width bands,
/// a free grid value between two gaps, are dropped as DAIDALUS drops them), with the
/// colours either side; outside the limits is [`OUTSIDE`], except for the circular track.
fn marks(bands: &[Band], circular: bool) -> Vec<Mark> {
    let bands: Vec<&Band> = bands.iter().filter(|b| b.hi - b.lo > EPS).collect();
    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        return Vec::new();
    };
    let (outer_l, outer_r) = if circular {
        (code(last.level), code(first.level))
    } else {
        (OUTSIDE, OUTSIDE)
    };
    let mut out = vec![Mark {
        val: first.lo,
        left: outer_l,
        right: code(first.level),
    }];
    for w in bands.windows(2) {
        let (a, b) = (code(w[0].level), code(w[1].level));
        if a == b {
            continue;
        }
        out.push(Mark {
            val: w[1].lo,
            left: a,
            right: b,
        });
    }
    out.push(Mark {
        val: last.hi,
        left: code(last.level),
        right: outer_r,
    });
    out
}

/// The M-of-N step: merges the remembered boundaries with this step's, records each side's
/// colour and shows the filtered one; forgets the boundaries whose sides agree.
fn m_of_n(points: &mut Vec<Point>, marks: &mut Vec<Mark>, cfg: &HysteresisConfig) {
    if cfg.m == 0 || cfg.m > cfg.n || cfg.hysteresis_s <= 0.0 {
        return;
    }
    if points.is_empty() {
        *points = marks
            .iter()
            .map(|m| Point {
                val: m.val,
                left: History::new(m.left, cfg),
                right: History::new(m.right, cfg),
            })
            .collect();
    }
    let (mut i, mut j) = (0, 0);
    while i < points.len() && j < marks.len() {
        let (p, q) = (points[i].val, marks[j].val);
        if (p - q).abs() <= EPS {
            marks[j].left = points[i].left.push(marks[j].left, cfg.m);
            marks[j].right = points[i].right.push(marks[j].right, cfg.m);
            i += 1;
            j += 1;
        } else if p < q {
            // a remembered boundary inside this step's range: mark it, one colour both sides
            let c = marks[j].left;
            marks.insert(
                j,
                Mark {
                    val: p,
                    left: c,
                    right: c,
                },
            );
        } else {
            // a new boundary: it inherits the history of the range it falls in
            let h = points[i].left.clone();
            points.insert(
                i,
                Point {
                    val: q,
                    left: h.clone(),
                    right: h,
                },
            );
        }
    }
    let mut k = 1;
    while k + 1 < points.len() {
        if points[k].left == points[k].right {
            points.remove(k);
        } else {
            k += 1;
        }
    }
}

/// The colour of `val`: inside a range, that range's; on a boundary, the free side if any,
/// else the less severe one.
fn region_of(marks: &[Mark], val: f64) -> Code {
    let Some(m) = marks.iter().find(|m| m.val >= val - EPS) else {
        return OUTSIDE;
    };
    if (m.val - val).abs() > EPS {
        return m.left;
    }
    if is_free(m.right) || m.left == OUTSIDE {
        m.right
    } else if is_free(m.left) || m.right == OUTSIDE || conflict_order(m.left) < conflict_order(m.right) {
        m.left
    } else {
        m.right
    }
}

/// Paints `color` over the weaker colours of `[lo, hi]` (wrapping through 0 when `lo > hi`
/// on the circular track); outside the limits and recovery stay.
fn paint(marks: &mut Vec<Mark>, lo: f64, hi: f64, color: Code, circular: bool) {
    if lo > hi {
        if circular {
            let end = marks.last().map_or(360.0, |m| m.val);
            paint(marks, 0.0, hi, color, false);
            paint(marks, lo, end, color, false);
        }
        return;
    }
    for x in [lo, hi] {
        if let Some(j) = marks.iter().position(|m| m.val >= x - EPS) {
            if (marks[j].val - x).abs() > EPS && j > 0 {
                let c = marks[j].left;
                marks.insert(
                    j,
                    Mark {
                        val: x,
                        left: c,
                        right: c,
                    },
                );
            }
        }
    }
    for j in 0..marks.len().saturating_sub(1) {
        let (a, b) = (marks[j].val, marks[j + 1].val);
        let c = marks[j].right;
        if a >= lo - EPS && b <= hi + EPS && c != OUTSIDE && c < color {
            marks[j].right = color;
            marks[j + 1].left = color;
        }
    }
    if circular && marks.len() > 1 {
        let n = marks.len() - 1;
        marks[0].left = marks[n].left;
        marks[n].right = marks[0].right;
    }
}

/// Ranges between the boundaries, free colours as `recovery` when this step recovers.
fn to_bands(marks: &[Mark], recovery: bool) -> Vec<Band> {
    let free = if recovery {
        BandLevel::Recovery
    } else {
        BandLevel::None
    };
    let mut out: Vec<Band> = Vec::new();
    for w in marks.windows(2) {
        let c = w[0].right;
        let l = if is_free(c) || c == OUTSIDE {
            free
        } else {
            level(c)
        };
        match out.last_mut() {
            Some(b) if b.level == l => b.hi = w[1].val,
            _ => out.push(Band {
                lo: w[0].val,
                hi: w[1].val,
                level: l,
            }),
        }
    }
    out
}

/// The conflict band holding `val` (a boundary belongs to the less severe side), joined
/// across 360°/0° on the circular track.
fn held(bands: &[Band], val: f64, circular: bool) -> Option<Held> {
    let c = |b: &Band| conflict_order(code(b.level));
    let n = bands.len();
    let idx = (0..n).find(|&i| {
        let b = &bands[i];
        let prev = if i > 0 {
            Some(&bands[i - 1])
        } else if circular {
            bands.last()
        } else {
            None
        };
        let next = if i + 1 < n {
            Some(&bands[i + 1])
        } else if circular {
            bands.first()
        } else {
            None
        };
        let free = is_free(code(b.level));
        let lo_closed = free || prev.is_none_or(|p| c(b) <= c(p));
        let hi_closed = free || next.is_none_or(|q| c(b) <= c(q));
        let above = if lo_closed {
            val >= b.lo - EPS
        } else {
            val > b.lo + EPS
        };
        let below = if hi_closed {
            val <= b.hi + EPS
        } else {
            val < b.hi - EPS
        };
        above && below
    })?;
    let b = bands[idx];
    let color = code(b.level);
    if !is_conflict(color) {
        return None;
    }
    let (mut lo, mut hi) = (b.lo, b.hi);
    if circular && n > 1 {
        if idx == 0 && bands[n - 1].level == b.level {
            lo = bands[n - 1].lo;
        }
        if idx == n - 1 && bands[0].level == b.level {
            hi = bands[0].hi;
        }
    }
    Some(Held { color, lo, hi })
}
