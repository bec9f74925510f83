//! Conflict episodes over time, with alerting hysteresis (sans-IO).
//!
//! Feed [`EpisodeTracker::update`] the conflicts of each scan, keyed by a stable pair of asset
//! ids. The tracker owns the episodes (start, end, first alert, closest approach, loss of
//! separation); each pair's reported level runs the shared [`LevelHysteresis`]: a level rises
//! at once; it is lowered, and an episode is closed, only after the lower level (or no
//! conflict) has lasted `hysteresis_s`, so an alert does not flicker when a pair sits on a
//! threshold. Any conflict found starts an episode, level 0 included.

use crate::cpa::PairConflict;
pub use crate::hysteresis::LevelChange;
use crate::hysteresis::LevelHysteresis;
use crate::separation::AlertLevel;
use serde::Serialize;
use std::collections::HashMap;

/// One encounter between two assets, from first alert to clearance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Episode {
    /// Name of the asset with the lower id of the pair.
    pub a: String,
    /// Name of the asset with the higher id of the pair.
    pub b: String,
    /// Time of the first scan that found the conflict (Unix seconds).
    pub start: f64,
    /// Time of the last scan that still found it (Unix seconds).
    pub end: f64,
    /// Time of the first scan that graded the conflict an alert (level ≥ 1), Unix seconds;
    /// `None` while every scan graded it level 0.
    pub first_alert: Option<f64>,
    /// Alert level (0–3) of that first alert; until there is one, the level at the first
    /// detection.
    pub first_level: u8,
    /// Highest alert level (0–3) any scan of the episode found, before hysteresis.
    pub max_level: u8,
    /// Predicted time to loss of separation (`tin`) at the first detection, seconds.
    pub first_tin_s: f64,
    /// Closest horizontal separation reached, metres (current, not predicted).
    pub min_hsep_m: f64,
    /// Smallest vertical separation reached, metres (current, not predicted; not necessarily
    /// at the same time as `min_hsep_m`).
    pub min_vsep_m: f64,
    /// Whether separation was actually lost.
    pub los: bool,
    /// Time of the first loss of separation (Unix seconds).
    pub los_start: Option<f64>,
}

#[derive(Debug, Clone)]
struct Active {
    ep: Episode,
    /// the level reported, with hysteresis
    level: LevelHysteresis,
}

/// Follows episodes across scans.
#[derive(Debug, Default)]
pub struct EpisodeTracker {
    /// How long a lower level, or the absence of conflict, must last before the tracker
    /// reports it (lowering the level or closing the episode), seconds.
    pub hysteresis_s: f64,
    active: HashMap<(u32, u32), Active>,
    /// Episodes closed so far, in order of closing.
    pub finished: Vec<Episode>,
}

impl EpisodeTracker {
    /// A tracker with no episodes and this hysteresis, seconds.
    pub fn new(hysteresis_s: f64) -> Self {
        EpisodeTracker {
            hysteresis_s,
            ..Self::default()
        }
    }

    /// Number of episodes still open.
    pub fn open(&self) -> usize {
        self.active.len()
    }

    /// One scan at time `t`: the conflicts found, as `(id_a, id_b, conflict)` with stable
    /// asset numbers (`id_a < id_b`), and a function naming an id. Returns the level changes.
    pub fn update<F: Fn(u32) -> String>(
        &mut self,
        t: f64,
        conflicts: &[(u32, u32, PairConflict)],
        name: F,
    ) -> Vec<((u32, u32), LevelChange)> {
        let mut changes = Vec::new();
        let mut seen: std::collections::HashSet<(u32, u32)> =
            std::collections::HashSet::with_capacity(conflicts.len());
        for &(a, b, c) in conflicts {
            let key = (a.min(b), a.max(b));
            seen.insert(key);
            match self.active.get_mut(&key) {
                None => {
                    let ep = Episode {
                        a: name(key.0),
                        b: name(key.1),
                        start: t,
                        end: t,
                        first_alert: (c.level > AlertLevel::None).then_some(t),
                        first_level: c.level as u8,
                        max_level: c.level as u8,
                        first_tin_s: c.tin_s,
                        min_hsep_m: c.hsep_m,
                        min_vsep_m: c.vsep_m,
                        los: c.los,
                        los_start: c.los.then_some(t),
                    };
                    self.active.insert(
                        key,
                        Active {
                            ep,
                            level: LevelHysteresis::new(c.level),
                        },
                    );
                    changes.push((key, LevelChange::New(c.level)));
                }
                Some(act) => {
                    let ep = &mut act.ep;
                    ep.end = t;
                    ep.min_hsep_m = ep.min_hsep_m.min(c.hsep_m);
                    ep.min_vsep_m = ep.min_vsep_m.min(c.vsep_m);
                    if c.los && !ep.los {
                        ep.los = true;
                        ep.los_start = Some(t);
                    }
                    if ep.first_alert.is_none() && c.level > AlertLevel::None {
                        ep.first_alert = Some(t);
                        ep.first_level = c.level as u8;
                    }
                    ep.max_level = ep.max_level.max(c.level as u8);
                    if let Some(change) = act.level.update(Some(c.level), t, self.hysteresis_s) {
                        changes.push((key, change));
                    }
                }
            }
        }
        // pairs no longer in conflict
        let mut closed = Vec::new();
        for (key, act) in self.active.iter_mut() {
            if seen.contains(key) {
                continue;
            }
            if act.level.update(None, t, self.hysteresis_s) == Some(LevelChange::Cleared) {
                closed.push(*key);
            }
        }
        closed.sort_unstable();
        for key in closed {
            if let Some(act) = self.active.remove(&key) {
                self.finished.push(act.ep);
                changes.push((key, LevelChange::Cleared));
            }
        }
        changes
    }

    /// Closes every open episode (end of a replay).
    pub fn finish(&mut self) {
        let mut rest: Vec<_> = self.active.drain().collect();
        rest.sort_by(|x, y| x.1.ep.start.total_cmp(&y.1.ep.start).then(x.0.cmp(&y.0)));
        self.finished.extend(rest.into_iter().map(|(_, a)| a.ep));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(level: AlertLevel, los: bool, hsep: f64) -> PairConflict {
        PairConflict {
            tin_s: 10.0,
            tout_s: 20.0,
            tcpa_s: 15.0,
            dcpa_m: 0.0,
            los,
            level,
            hsep_m: hsep,
            vsep_m: 0.0,
        }
    }

    #[test]
    fn hysteresis_holds_level_and_episode() {
        let mut t = EpisodeTracker::new(3.0);
        let name = |i: u32| format!("A{i}");
        let ch = t.update(0.0, &[(1, 2, pc(AlertLevel::Corrective, false, 900.0))], name);
        assert_eq!(ch, vec![((1, 2), LevelChange::New(AlertLevel::Corrective))]);
        let ch = t.update(1.0, &[(1, 2, pc(AlertLevel::Warning, true, 100.0))], name);
        assert_eq!(ch, vec![((1, 2), LevelChange::Raised(AlertLevel::Warning))]);
        // drops briefly: not reported
        assert!(t
            .update(2.0, &[(1, 2, pc(AlertLevel::Corrective, false, 300.0))], name)
            .is_empty());
        assert!(t
            .update(3.0, &[(1, 2, pc(AlertLevel::Warning, false, 300.0))], name)
            .is_empty());
        // drops for good: lowered after 3 s
        assert!(t
            .update(4.0, &[(1, 2, pc(AlertLevel::Corrective, false, 300.0))], name)
            .is_empty());
        assert!(t
            .update(6.0, &[(1, 2, pc(AlertLevel::Corrective, false, 300.0))], name)
            .is_empty());
        let ch = t.update(7.0, &[(1, 2, pc(AlertLevel::Corrective, false, 300.0))], name);
        assert_eq!(ch, vec![((1, 2), LevelChange::Lowered(AlertLevel::Corrective))]);
        // gone: cleared after 3 s
        assert!(t.update(8.0, &[], name).is_empty());
        assert!(t.update(10.0, &[], name).is_empty());
        let ch = t.update(11.0, &[], name);
        assert_eq!(ch, vec![((1, 2), LevelChange::Cleared)]);
        assert_eq!(t.finished.len(), 1);
        let ep = &t.finished[0];
        assert_eq!((ep.start, ep.end, ep.max_level, ep.first_level), (0.0, 7.0, 3, 2));
        assert!(ep.los && ep.los_start == Some(1.0));
        assert_eq!(ep.min_hsep_m, 100.0);
        assert_eq!((ep.a.as_str(), ep.b.as_str()), ("A1", "A2"));
    }

    #[test]
    fn reappearing_within_hysteresis_continues_the_episode() {
        let mut t = EpisodeTracker::new(3.0);
        let name = |i: u32| i.to_string();
        t.update(0.0, &[(1, 2, pc(AlertLevel::Preventive, false, 5000.0))], name);
        t.update(1.0, &[], name);
        t.update(2.0, &[(1, 2, pc(AlertLevel::Preventive, false, 5000.0))], name);
        t.update(10.0, &[], name);
        t.update(14.0, &[], name);
        assert_eq!(t.finished.len(), 1);
        assert_eq!(t.open(), 0);
    }
}
