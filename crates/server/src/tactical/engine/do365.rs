//! The DO-365 pairs of the engine's scan: every live or pending DO-365 pair graded again with
//! its held level, its M-of-N moved on the scans that are samples ([`super::super::level`]),
//! and the changes told to both sides. Also keeps each live pair on the rule of its standard
//! when a track's class changes.

use super::{Change, Engine, PairState, Pending};
use crate::tactical::events::{AlertEvent, ClearReason, EventKind};
use crate::tactical::level::{do365_change, Do365Level, PairLevel};
use deconflict_core::hysteresis::{LevelChange, LevelHysteresis};
use deconflict_core::wellclear::pair::detect_do365_held;
use deconflict_core::{AlertLevel, PairConflict};
use std::collections::HashMap;

impl Engine {
    /// Whether slots `a` and `b` are graded by DO-365 (their standard's `alerting`).
    pub(super) fn is_do365(&self, a: usize, b: usize) -> bool {
        match (self.slots[a].as_ref(), self.slots[b].as_ref()) {
            (Some(x), Some(y)) => self.table.get(x.report.class, y.report.class).do365.is_some(),
            _ => false,
        }
    }

    /// The DO-365 grade of slots `a` and `b` at `now` with `held` held (early alerting times up
    /// to it): the conflict, `None` at raw level 0.
    fn grade_do365(&self, (a, b): (usize, usize), held: AlertLevel, now: f64) -> Option<PairConflict> {
        let (x, y) = (self.slots[a].as_ref()?, self.slots[b].as_ref()?);
        let profile = self.table.get(x.report.class, y.report.class).do365.as_ref()?;
        let sa = x.state.propagated((now - x.report.time).max(0.0));
        let sb = y.state.propagated((now - y.report.time).max(0.0));
        let rel =
            deconflict_core::cpa::relative(sa.n, sa.v, sa.alt_m, sa.vs_mps, sb.n, sb.v, sb.alt_m, sb.vs_mps)?;
        detect_do365_held(&rel, profile, held)
    }

    /// The DO-365 pairs' scan: `found` holds the pairs the detector graded an alert (without
    /// a held level). Every live or pending DO-365 pair is graded again with its held level;
    /// a scan that is one of its samples ([`super::level`]) moves its M-of-N, and the change of
    /// the level reported is told to both sides (new once confirmed, cleared at level 0).
    pub(super) fn do365_scan(
        &mut self,
        mut found: HashMap<(usize, usize), PairConflict>,
        now: f64,
        out: &mut Vec<AlertEvent>,
    ) {
        let cfg = self.table.do365_hysteresis;
        let mut keys: Vec<(usize, usize)> = found
            .keys()
            .chain(self.pending.keys())
            .chain(
                self.pairs
                    .iter()
                    .filter(|(_, p)| matches!(p.level, PairLevel::Do365(_)))
                    .map(|(k, _)| k),
            )
            .copied()
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            if let Some(p) = self.pairs.get(&key) {
                let PairLevel::Do365(d) = &p.level else {
                    continue;
                };
                let c = self.grade_do365(key, d.held(&cfg), now);
                let raw = c.map_or(AlertLevel::None, |c| c.level);
                let Some(p) = self.pairs.get_mut(&key) else {
                    continue;
                };
                let PairLevel::Do365(d) = &mut p.level else {
                    continue;
                };
                let before = d.level();
                let Some(after) = d.scan(raw, now, &cfg) else {
                    continue;
                };
                if let Some(c) = c {
                    p.last = c;
                }
                let kind = match do365_change(before, after) {
                    Some(LevelChange::Raised(_)) => EventKind::Raised,
                    Some(LevelChange::Lowered(_)) => EventKind::Lowered,
                    Some(LevelChange::Cleared) => EventKind::Cleared(ClearReason::Separated),
                    Some(LevelChange::New(_)) | None => continue,
                };
                let (id, last) = (p.id.clone(), p.last);
                if kind == EventKind::Cleared(ClearReason::Separated) {
                    self.pairs.remove(&key);
                }
                let ch = Change {
                    id: &id,
                    kind,
                    level: after,
                    conflict: &last,
                };
                self.both(key, ch, now, out);
                continue;
            }
            // Not a conflict yet: pending, or found for the first time.
            let (level, last) = match self.pending.remove(&key) {
                Some(mut pend) => {
                    let c = self.grade_do365(key, pend.level.held(&cfg), now);
                    let raw = c.map_or(AlertLevel::None, |c| c.level);
                    if pend.level.scan(raw, now, &cfg).is_none() {
                        self.pending.insert(key, pend);
                        continue;
                    }
                    (pend.level, c.or(pend.last))
                }
                None => {
                    let Some(c) = found.remove(&key) else {
                        continue;
                    };
                    let since = |i: usize| self.slots[i].as_ref().and_then(|s| s.scanned_since);
                    let together = since(key.0).unwrap_or(now).max(since(key.1).unwrap_or(now));
                    (Do365Level::start(c.level, now, together, &cfg), Some(c))
                }
            };
            match last {
                Some(c) if level.level() > AlertLevel::None => {
                    let id = self.conflict_id(key.0, key.1, &c, now);
                    let ch = Change {
                        id: &id,
                        kind: EventKind::New,
                        level: level.level(),
                        conflict: &c,
                    };
                    self.both(key, ch, now, out);
                    let degraded = self.is_coasting(key.0) || self.is_coasting(key.1);
                    self.pairs.insert(
                        key,
                        PairState {
                            id,
                            level: PairLevel::Do365(level),
                            last: c,
                            degraded,
                        },
                    );
                }
                _ if level.is_quiet() => {}
                _ => {
                    self.pending.insert(key, Pending { level, last });
                }
            }
        }
    }

    /// Moves every live pair onto the rule of its standard now (a track's report may change
    /// its class, and with it the pair's standard): a pair keeps the level it reports.
    pub(super) fn follow_rules(&mut self, now: f64) {
        let cfg = self.table.do365_hysteresis;
        let mut moved: Vec<((usize, usize), bool)> = self
            .pairs
            .iter()
            .map(|(k, p)| {
                (
                    *k,
                    matches!(p.level, PairLevel::Do365(_)),
                    self.is_do365(k.0, k.1),
                )
            })
            .filter(|(_, was, is)| was != is)
            .map(|(k, _, is)| (k, is))
            .collect();
        moved.sort_unstable();
        for (key, do365) in moved {
            if let Some(p) = self.pairs.get_mut(&key) {
                let level = p.level.level();
                p.level = if do365 {
                    PairLevel::Do365(Do365Level::start(level, now, now, &cfg))
                } else {
                    PairLevel::Cylinder(LevelHysteresis::new(level))
                };
            }
        }
    }
}
