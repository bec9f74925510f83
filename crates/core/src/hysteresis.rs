//! The alert level of one pair of assets across scans, with hysteresis (sans-IO).
//!
//! [`LevelHysteresis`] owns the one state machine that both the replay's [`EpisodeTracker`]
//! and the service's tactical engine run for every pair: a level rises at once; a lower level,
//! or no conflict at all, is reported only once it has lasted `hysteresis_s`, so an alert does
//! not flicker when a pair sits on a threshold.
//!
//! The callers keep their own policy around it: which scans start a pair (the tracker starts an
//! episode on any conflict found, level 0 included; the engine only on level ≥ 1), and what
//! happens to a pair whose track is lost.
//!
//! [`EpisodeTracker`]: crate::episodes::EpisodeTracker

use crate::separation::AlertLevel;

/// A change of the reported alert level of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelChange {
    /// A new pair (episode, conflict), reported at once with its level. Never returned by
    /// [`LevelHysteresis::update`]: the caller starts a pair.
    New(AlertLevel),
    /// The level rose to this one (reported at once).
    Raised(AlertLevel),
    /// The level fell to this one, which has now lasted `hysteresis_s`.
    Lowered(AlertLevel),
    /// The pair has been out of conflict (not found by the scans) for `hysteresis_s`: the
    /// caller ends it (the tracker closes the episode, the engine clears the conflict).
    Cleared,
}

/// The reported alert level of one pair, and the lower level (or absence of conflict) waiting
/// to outlast the hysteresis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelHysteresis {
    /// the level currently reported
    level: AlertLevel,
    /// a lower level waiting to outlast the hysteresis, and since when; "not found" waits as
    /// level 0 ([`AlertLevel::None`])
    pending: Option<(AlertLevel, f64)>,
}

impl LevelHysteresis {
    /// A pair first found at `level`, reported at once (the caller tells [`LevelChange::New`]).
    pub fn new(level: AlertLevel) -> Self {
        LevelHysteresis { level, pending: None }
    }

    /// The level currently reported.
    pub fn level(&self) -> AlertLevel {
        self.level
    }

    /// The lower level waiting to outlast the hysteresis (level 0 also for "not found"), and
    /// since when; `None` when nothing is waiting.
    pub fn pending(&self) -> Option<(AlertLevel, f64)> {
        self.pending
    }

    /// One scan at time `now`: `found` is the level the scan graded the pair, `None` when the
    /// scan did not find it. Returns the change to report, if any:
    /// * a higher level is reported at once ([`LevelChange::Raised`]) and forgets any lower
    ///   one waiting;
    /// * the same level forgets any lower one waiting;
    /// * a lower level starts waiting from `now`, unless that same level is already waiting;
    ///   once it has waited `hysteresis_s` it is reported ([`LevelChange::Lowered`]);
    /// * not found waits like level 0: it starts waiting from `now` unless level 0 is already
    ///   waiting; once that has waited `hysteresis_s`, the pair is [`LevelChange::Cleared`].
    ///
    /// So a pair found at level 0 and a pair not found continue each other's wait; what the
    /// scan that ends the wait saw decides between `Lowered(AlertLevel::None)` (found at level
    /// 0) and `Cleared` (not found). After `Cleared` the caller ends the pair.
    pub fn update(&mut self, found: Option<AlertLevel>, now: f64, hysteresis_s: f64) -> Option<LevelChange> {
        if let Some(level) = found {
            if level > self.level {
                self.level = level;
                self.pending = None;
                return Some(LevelChange::Raised(level));
            }
            if level == self.level {
                self.pending = None;
                return None;
            }
        }
        let waiting = found.unwrap_or(AlertLevel::None);
        match self.pending {
            Some((l, since)) if l == waiting => {
                if now - since >= hysteresis_s {
                    self.pending = None;
                    self.level = waiting;
                    Some(match found {
                        Some(level) => LevelChange::Lowered(level),
                        None => LevelChange::Cleared,
                    })
                } else {
                    None
                }
            }
            _ => {
                self.pending = Some((waiting, now));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertLevel::{Corrective, Preventive, Warning};

    const H: f64 = 3.0;

    #[test]
    fn raises_at_once_and_lowers_after_the_hysteresis() {
        let mut h = LevelHysteresis::new(Preventive);
        assert_eq!(
            h.update(Some(Warning), 1.0, H),
            Some(LevelChange::Raised(Warning))
        );
        assert_eq!(h.level(), Warning);
        // a lower level waits...
        assert_eq!(h.update(Some(Corrective), 2.0, H), None);
        assert_eq!(h.pending(), Some((Corrective, 2.0)));
        assert_eq!(h.update(Some(Corrective), 4.9, H), None);
        assert_eq!(h.level(), Warning);
        // ...and is reported once it has lasted the hysteresis (exactly is enough)
        assert_eq!(
            h.update(Some(Corrective), 5.0, H),
            Some(LevelChange::Lowered(Corrective))
        );
        assert_eq!((h.level(), h.pending()), (Corrective, None));
    }

    #[test]
    fn the_same_level_forgets_the_wait_and_another_lower_level_restarts_it() {
        let mut h = LevelHysteresis::new(Warning);
        h.update(Some(Corrective), 0.0, H);
        assert_eq!(h.update(Some(Warning), 1.0, H), None);
        assert_eq!(h.pending(), None);
        h.update(Some(Corrective), 2.0, H);
        // a different lower level restarts the timer from now
        assert_eq!(h.update(Some(Preventive), 4.0, H), None);
        assert_eq!(h.pending(), Some((Preventive, 4.0)));
        assert_eq!(h.update(Some(Preventive), 6.0, H), None);
        assert_eq!(
            h.update(Some(Preventive), 7.0, H),
            Some(LevelChange::Lowered(Preventive))
        );
        // a raise in the middle of a wait forgets it
        h.update(None, 8.0, H);
        assert_eq!(
            h.update(Some(Corrective), 9.0, H),
            Some(LevelChange::Raised(Corrective))
        );
        assert_eq!(h.pending(), None);
    }

    #[test]
    fn not_found_clears_after_the_hysteresis_and_waits_like_level_0() {
        let mut h = LevelHysteresis::new(Corrective);
        assert_eq!(h.update(None, 10.0, H), None);
        assert_eq!(h.pending(), Some((AlertLevel::None, 10.0)));
        // found again at level 0: the same wait goes on, and ends as a lowering
        assert_eq!(h.update(Some(AlertLevel::None), 12.0, H), None);
        assert_eq!(
            h.update(Some(AlertLevel::None), 13.0, H),
            Some(LevelChange::Lowered(AlertLevel::None))
        );
        // at level 0, not found waits afresh and ends as a clearance
        assert_eq!(h.update(None, 14.0, H), None);
        assert_eq!(h.update(Some(AlertLevel::None), 15.0, H), None);
        assert_eq!(h.pending(), None, "level 0 found at level 0 is the same level");
        assert_eq!(h.update(None, 16.0, H), None);
        assert_eq!(h.update(None, 18.9, H), None);
        assert_eq!(h.update(None, 19.0, H), Some(LevelChange::Cleared));

        // level 0 waiting, then not found: not found continues the wait
        let mut h = LevelHysteresis::new(Warning);
        h.update(Some(AlertLevel::None), 0.0, H);
        assert_eq!(h.update(None, 3.0, H), Some(LevelChange::Cleared));
        // with no hysteresis, the first scan without the pair only starts the wait
        let mut h = LevelHysteresis::new(Warning);
        assert_eq!(h.update(None, 0.0, 0.0), None);
        assert_eq!(h.update(None, 0.0, 0.0), Some(LevelChange::Cleared));
    }

    /// The two copies this type replaced (the episode tracker's and the tactical engine's,
    /// identical but for the names), as they were: `found` is `None` when the scan did not find
    /// the pair. Returns the change and whether the pair ends.
    fn reference(
        level: &mut AlertLevel,
        pending: &mut Option<(AlertLevel, f64)>,
        found: Option<AlertLevel>,
        t: f64,
        h: f64,
    ) -> Option<LevelChange> {
        match found {
            Some(c) => {
                if c > *level {
                    *level = c;
                    *pending = None;
                    return Some(LevelChange::Raised(c));
                } else if c < *level {
                    match *pending {
                        Some((l, since)) if l == c => {
                            if t - since >= h {
                                *level = c;
                                *pending = None;
                                return Some(LevelChange::Lowered(c));
                            }
                        }
                        _ => *pending = Some((c, t)),
                    }
                } else {
                    *pending = None;
                }
                None
            }
            None => match *pending {
                Some((AlertLevel::None, since)) if t - since >= h => Some(LevelChange::Cleared),
                Some((AlertLevel::None, _)) => None,
                _ => {
                    *pending = Some((AlertLevel::None, t));
                    None
                }
            },
        }
    }

    #[test]
    fn behaves_exactly_as_the_code_it_replaced() {
        use rand::{Rng, SeedableRng};
        let levels = [AlertLevel::None, Preventive, Corrective, Warning];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..2000 {
            let start = levels[rng.gen_range(0..4)];
            let h = [0.0, 1.0, 2.5, 3.0][rng.gen_range(0..4)];
            let (mut level, mut pending) = (start, None);
            let mut shared = LevelHysteresis::new(start);
            let mut t = 0.0;
            for _ in 0..40 {
                t += [0.5, 1.0, 1.5][rng.gen_range(0..3)];
                let found = (rng.gen_range(0..5) > 0).then(|| levels[rng.gen_range(0..4)]);
                let want = reference(&mut level, &mut pending, found, t, h);
                assert_eq!(shared.update(found, t, h), want, "t {t}, found {found:?}");
                if want == Some(LevelChange::Cleared) {
                    break;
                }
                assert_eq!((shared.level(), shared.pending()), (level, pending));
            }
        }
    }
}
