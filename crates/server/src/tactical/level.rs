//! A live pair's reported alert level across scans, by its standard's rule (sans-IO):
//!
//! * a **cylinder** pair (manned vs manned by default) runs the shared [`LevelHysteresis`]:
//!   a level rises at once and falls, or clears, once the lower level has lasted
//!   `[alerting] hysteresis_s`;
//! * a **DO-365** pair runs DAIDALUS's M-of-N ([`MofNHysteresis`], `[alerting] do365_*`) on
//!   *samples* of its raw level. DAIDALUS defines M-of-N (2 of 4, 5 s) on 1 Hz data, and the
//!   engine scans as often as reports come (every 20 ms under load), so a scan is a sample
//!   only when [`SAMPLE_S`] has passed since the last one, or when the raw level rose above
//!   the last sample's (an onset is sampled when it is seen, as in DAIDALUS's data, and then
//!   confirmed a second later). The reported level feeds back as the held level, so a held
//!   alert keeps its early alerting time (75 s for corrective, 55 s for warning).
//!
//! A DO-365 pair's history starts before it alerts: the engine's detector finds every pair at
//! raw level ≥ 1, so a pair both of whose tracks were in earlier scans was at level 0 in them.
//! [`Do365Level::start`] seeds that history, which is what delays an onset by one sample as
//! DAIDALUS does; a pair whose tracks are new is reported at its first sample as it is.

use deconflict_core::hysteresis::{LevelChange, LevelHysteresis};
use deconflict_core::wellclear::{MofNConfig, MofNHysteresis};
use deconflict_core::AlertLevel;

/// The interval of the raw-level samples of a DO-365 pair, seconds (DAIDALUS's 1 Hz).
pub const SAMPLE_S: f64 = 1.0;

/// A scan this close to a sample interval after the last sample counts as a sample (scans on a
/// 1 s period arrive a few ms early or late).
const SAMPLE_SLACK_S: f64 = 0.05;

/// A DO-365 pair's M-of-N and its sampling.
#[derive(Debug, Clone)]
pub struct Do365Level {
    mofn: MofNHysteresis,
    last_sample: f64,
    last_raw: AlertLevel,
}

impl Do365Level {
    /// A pair first graded `raw` at `now`, whose two tracks have both been scanned since
    /// `together_since`: the samples it had at level 0 in between (up to `n − 1`, one every
    /// [`SAMPLE_S`]) are seeded before `raw` is taken.
    pub fn start(raw: AlertLevel, now: f64, together_since: f64, cfg: &MofNConfig) -> Self {
        let mut mofn = MofNHysteresis::new();
        for k in (1..cfg.n).rev() {
            let t = now - k as f64 * SAMPLE_S;
            if t >= together_since - SAMPLE_SLACK_S {
                mofn.update(AlertLevel::None, t, cfg);
            }
        }
        mofn.update(raw, now, cfg);
        Do365Level {
            mofn,
            last_sample: now,
            last_raw: raw,
        }
    }

    /// The level reported.
    pub fn level(&self) -> AlertLevel {
        self.mofn.level()
    }

    /// The level to grade the pair's raw level with (early alerting times up to it).
    pub fn held(&self, cfg: &MofNConfig) -> AlertLevel {
        self.mofn.held(cfg)
    }

    /// No alert reported and none left in the history (a pending pair may be forgotten).
    pub fn is_quiet(&self) -> bool {
        self.mofn.is_quiet()
    }

    /// One scan at `now` that graded the pair `raw`: `Some(level reported)` when the scan is
    /// a sample, `None` when it is not (the level stands).
    pub fn scan(&mut self, raw: AlertLevel, now: f64, cfg: &MofNConfig) -> Option<AlertLevel> {
        let due = now - self.last_sample >= SAMPLE_S - SAMPLE_SLACK_S;
        if !(due || raw > self.last_raw) {
            return None;
        }
        self.last_sample = now;
        self.last_raw = raw;
        Some(self.mofn.update(raw, now, cfg))
    }
}

/// A live pair's level, by the rule of its standard.
#[derive(Debug, Clone)]
pub enum PairLevel {
    /// A cylinder standard's pair.
    Cylinder(LevelHysteresis),
    /// A DO-365 standard's pair.
    Do365(Do365Level),
}

impl PairLevel {
    /// The level reported.
    pub fn level(&self) -> AlertLevel {
        match self {
            PairLevel::Cylinder(h) => h.level(),
            PairLevel::Do365(d) => d.level(),
        }
    }
}

/// The change a DO-365 sample makes to a live pair's reported level, from `before` to `after`
/// (a fall to level 0 clears the pair).
pub fn do365_change(before: AlertLevel, after: AlertLevel) -> Option<LevelChange> {
    use std::cmp::Ordering::*;
    match after.cmp(&before) {
        Greater => Some(LevelChange::Raised(after)),
        Less if after == AlertLevel::None => Some(LevelChange::Cleared),
        Less => Some(LevelChange::Lowered(after)),
        Equal => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertLevel::{Corrective, Preventive, Warning};

    const CFG: MofNConfig = MofNConfig::DAIDALUS;

    #[test]
    fn a_pair_seen_before_is_confirmed_one_sample_later_a_new_one_at_once() {
        // both tracks scanned for 10 s: three level-0 samples seeded, the onset waits
        let mut d = Do365Level::start(Corrective, 10.0, 0.0, &CFG);
        assert_eq!(d.level(), AlertLevel::None);
        assert!(!d.is_quiet());
        // scans between samples do not count (the engine scans every 20 ms under load)
        for k in 1..48 {
            assert_eq!(d.scan(Corrective, 10.0 + k as f64 * 0.02, &CFG), None);
        }
        assert_eq!(d.scan(Corrective, 11.0, &CFG), Some(Corrective));
        // tracks new together: nothing to confirm against, reported as it is (E9 in DAIDALUS)
        let d = Do365Level::start(Warning, 10.0, 10.0, &CFG);
        assert_eq!(d.level(), Warning);
        // tracks together for 1 s only: one level-0 sample seeded, which is enough to wait
        let d = Do365Level::start(Warning, 10.0, 9.0, &CFG);
        assert_eq!(d.level(), AlertLevel::None);
    }

    #[test]
    fn a_rise_is_sampled_when_seen_and_confirmed_a_second_later() {
        let mut d = Do365Level::start(Preventive, 0.0, 0.0, &CFG);
        assert_eq!(d.scan(Preventive, 1.0, &CFG), Some(Preventive));
        // warning seen 0.25 s after a sample: sampled at once (not up to 1 s later)...
        assert_eq!(d.scan(Warning, 1.25, &CFG), Some(Preventive));
        // ...and confirmed one sample interval after that
        assert_eq!(d.scan(Warning, 2.0, &CFG), None);
        assert_eq!(d.scan(Warning, 2.25, &CFG), Some(Warning));
        // a fall waits for the samples and the persistence
        let mut t = 2.25;
        let mut reported = Vec::new();
        while t < 12.0 {
            t += 0.25;
            if let Some(l) = d.scan(AlertLevel::None, t, &CFG) {
                reported.push((t, l));
            }
        }
        let cleared = reported
            .iter()
            .find(|(_, l)| *l == AlertLevel::None)
            .map(|(t, _)| *t);
        // raised at 2.25: M-of-N says 0 from the sample at 5.25, persistence holds the
        // warning to 6.25
        assert_eq!(cleared, Some(6.25));
        assert_eq!(reported.first(), Some(&(3.25, Warning)));
        assert!(d.is_quiet());
    }

    #[test]
    fn changes_of_a_sample() {
        assert_eq!(
            do365_change(Preventive, Warning),
            Some(LevelChange::Raised(Warning))
        );
        assert_eq!(
            do365_change(Warning, Corrective),
            Some(LevelChange::Lowered(Corrective))
        );
        assert_eq!(
            do365_change(Warning, AlertLevel::None),
            Some(LevelChange::Cleared)
        );
        assert_eq!(do365_change(Warning, Warning), None);
    }
}
