//! The DO-365 alert level of a pair, raw and with DAIDALUS's hysteresis (sans-IO).
//!
//! **Raw level**: the highest level whose well-clear volume is entered before its alerting
//! time, that is whose loss interval `[tin, tout]` (within the lookahead) has `tin < tout` and
//! `tin < alerting_time − ` [`TIME_ROUNDING_S`]. While a level is held (the level reported by
//! the hysteresis is at least that level), its early alerting time replaces its alerting time,
//! so a held alert is not dropped by a small change of the predicted entry. The strict `<`
//! means a volume touched at a single future instant is no alert, and an entry exactly at the
//! alerting time is not yet one: DAIDALUS answers 0 for the E8 intruder Charlie at t = 10 s,
//! whose entry into the 700 ft volume is (1800 − 700) ft / 1200 fpm = 55 s ahead exactly, which
//! in metres comes out as 54.99999999999998 s; the margin of 1 µs makes it 55 again.
//!
//! **Hysteresis** ([`MofNHysteresis`]), per pair:
//! * M of N: the level reported is the highest level `L` that at least `M` of the last `N` raw
//!   levels reach (`raw ≥ L`); with fewer than `M` raw levels in the history (a new pair),
//!   all of them must reach it. So with 2 of 4 at 1 Hz an onset is reported one scan late and
//!   an alert outlasts its raw level by two scans, as in DAIDALUS's outputs;
//! * raw levels older than `hysteresis_s` drop out of the history (a pair unseen for longer
//!   starts afresh); a time going backwards resets it;
//! * persistence: a reported level is not lowered until it has been reported for
//!   `persistence_s`;
//! * early alerting: [`MofNHysteresis::held`] is the level to pass to [`raw_level`], so the
//!   early alerting times apply while a level is held.
//!
//! Why not [`crate::hysteresis::LevelHysteresis`], the service's and the episodes' state
//! machine? That one raises at once and lowers after a fixed wait, and it also decides when a
//! pair ends (`Cleared`). DO-365 alerting as DAIDALUS does it delays onsets (M of N), measures
//! persistence from the last change, and feeds the held level back into the raw level (early
//! alerting times): a different machine, and bending one into the other would change the
//! service's alerts. Both are sans-IO and take `now` from the caller.

use super::volume::{loss_interval, LossInterval};
use super::Do365Profile;
use crate::cpa::Relative;
use crate::level::AlertLevel;
use std::collections::VecDeque;

/// An entry this close to an alerting time counts as at it (not before it), seconds: far above
/// the rounding of unit conversions (1e-14 s), far below anything surveillance can tell.
pub const TIME_ROUNDING_S: f64 = 1e-6;

/// The raw alert level and what it was graded from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    /// The raw level (before hysteresis).
    pub level: AlertLevel,
    /// The loss interval of each level's volume (levels 1, 2, 3), within the lookahead.
    pub intervals: [Option<LossInterval>; 3],
}

/// Grades a pair: the raw level and each level's loss interval. `held` is the level the
/// hysteresis holds ([`MofNHysteresis::held`]; [`AlertLevel::None`] without hysteresis):
/// levels up to it use their early alerting times.
pub fn assess(rel: &Relative, profile: &Do365Profile, held: AlertLevel) -> Assessment {
    let mut intervals = [None; 3];
    let mut level = AlertLevel::None;
    for (i, lt) in profile.levels.iter().enumerate() {
        let li = loss_interval(rel, &lt.wcv, profile.lookahead_s);
        intervals[i] = li;
        let limit = if held >= lt.level {
            lt.early_alerting_time_s
        } else {
            lt.alerting_time_s
        };
        if let Some(li) = li {
            if li.tin_s < li.tout_s && li.tin_s < limit - TIME_ROUNDING_S && lt.level > level {
                level = lt.level;
            }
        }
    }
    Assessment { level, intervals }
}

/// The raw alert level of a pair (the hot path: from the most severe level down, stopping at
/// the first raised). `held` as in [`assess`].
#[inline]
pub fn raw_level(rel: &Relative, profile: &Do365Profile, held: AlertLevel) -> AlertLevel {
    // levels sharing a volume (DO-365A's corrective and warning) share its interval
    let mut last: Option<(&super::WcvThresholds, Option<LossInterval>)> = None;
    for lt in profile.levels.iter().rev() {
        let limit = if held >= lt.level {
            lt.early_alerting_time_s
        } else {
            lt.alerting_time_s
        };
        let li = match last {
            Some((wcv, li)) if *wcv == lt.wcv => li,
            _ => loss_interval(rel, &lt.wcv, profile.lookahead_s),
        };
        last = Some((&lt.wcv, li));
        if let Some(li) = li {
            if li.tin_s < li.tout_s && li.tin_s < limit - TIME_ROUNDING_S {
                return lt.level;
            }
        }
    }
    AlertLevel::None
}

/// The parameters of [`MofNHysteresis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MofNConfig {
    /// `M`: how many of the last `N` raw levels must reach a level for it to be reported.
    pub m: usize,
    /// `N`: how many raw levels the history keeps (1 to [`MofNConfig::MAX_N`]).
    pub n: usize,
    /// Raw levels older than this drop out of the history, seconds.
    pub hysteresis_s: f64,
    /// A reported level is not lowered before it has been reported this long, seconds.
    pub persistence_s: f64,
    /// Whether held levels use their early alerting times.
    pub early_alerting: bool,
}

impl MofNConfig {
    /// Largest `n` accepted.
    pub const MAX_N: usize = 64;

    /// DAIDALUS's `DO_365A_no_SUM.conf`: 2 of 4, hysteresis 5 s, persistence 4 s, early
    /// alerting times.
    pub const DAIDALUS: MofNConfig = MofNConfig {
        m: 2,
        n: 4,
        hysteresis_s: 5.0,
        persistence_s: 4.0,
        early_alerting: true,
    };

    /// No hysteresis: the reported level is the raw level of each scan (1 of 1, no
    /// persistence, no early alerting).
    pub const OFF: MofNConfig = MofNConfig {
        m: 1,
        n: 1,
        hysteresis_s: 0.0,
        persistence_s: 0.0,
        early_alerting: false,
    };

    /// Checks the parameters; the message names the one at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.n == 0 || self.n > Self::MAX_N {
            return Err(format!("n must be in 1..={}, got {}", Self::MAX_N, self.n));
        }
        if self.m == 0 || self.m > self.n {
            return Err(format!("m must be in 1..=n ({}), got {}", self.n, self.m));
        }
        for (name, v) in [
            ("hysteresis_s", self.hysteresis_s),
            ("persistence_s", self.persistence_s),
        ] {
            if !(v.is_finite() && (0.0..=600.0).contains(&v)) {
                return Err(format!("{name} must be in [0, 600] seconds, got {v}"));
            }
        }
        Ok(())
    }
}

impl Default for MofNConfig {
    fn default() -> Self {
        Self::DAIDALUS
    }
}

/// One pair's reported alert level across scans, DAIDALUS-style (module docs).
#[derive(Debug, Clone)]
pub struct MofNHysteresis {
    /// (time, raw level) of the last scans, oldest first
    history: VecDeque<(f64, AlertLevel)>,
    /// the level reported
    level: AlertLevel,
    /// when the reported level last changed
    since: f64,
}

impl Default for MofNHysteresis {
    fn default() -> Self {
        Self::new()
    }
}

impl MofNHysteresis {
    /// A pair with no history, reported at level 0.
    pub fn new() -> Self {
        MofNHysteresis {
            history: VecDeque::new(),
            level: AlertLevel::None,
            since: 0.0,
        }
    }

    /// The level currently reported.
    pub fn level(&self) -> AlertLevel {
        self.level
    }

    /// The level to pass to [`raw_level`] / [`assess`] as `held`: the reported level when the
    /// configuration uses early alerting times, level 0 otherwise.
    pub fn held(&self, cfg: &MofNConfig) -> AlertLevel {
        if cfg.early_alerting {
            self.level
        } else {
            AlertLevel::None
        }
    }

    /// Reported at level 0 with no raw alert left in the history: no further scan at level 0
    /// can raise it, so a caller may forget the pair.
    pub fn is_quiet(&self) -> bool {
        self.level == AlertLevel::None && self.history.iter().all(|&(_, r)| r == AlertLevel::None)
    }

    /// Forgets the history (the pair starts afresh at level 0).
    pub fn reset(&mut self) {
        self.history.clear();
        self.level = AlertLevel::None;
        self.since = 0.0;
    }

    /// One scan at `now` that graded the pair `raw`; returns the level to report.
    pub fn update(&mut self, raw: AlertLevel, now: f64, cfg: &MofNConfig) -> AlertLevel {
        if self.history.back().is_some_and(|&(t, _)| now < t) {
            self.reset();
        }
        self.history.push_back((now, raw));
        while self.history.len() > cfg.n.max(1) {
            self.history.pop_front();
        }
        while self
            .history
            .front()
            .is_some_and(|&(t, _)| now - t > cfg.hysteresis_s)
        {
            self.history.pop_front();
        }
        let need = cfg.m.max(1).min(self.history.len());
        let mut candidate = AlertLevel::None;
        for l in [
            AlertLevel::Warning,
            AlertLevel::Corrective,
            AlertLevel::Preventive,
        ] {
            if self.history.iter().filter(|&&(_, r)| r >= l).count() >= need {
                candidate = l;
                break;
            }
        }
        if candidate > self.level || (candidate < self.level && now - self.since >= cfg.persistence_s) {
            self.level = candidate;
            self.since = now;
        }
        self.level
    }
}
