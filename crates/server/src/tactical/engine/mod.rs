//! The engine: every party's live tracks in one scene, scanned for conflicts, and each pair's
//! alert level (by its standard's rule, [`super::level`]: the shared [`LevelHysteresis`] for a
//! cylinder, DAIDALUS's M-of-N for DO-365) turned into [`AlertEvent`]s for **both** parties of
//! a conflict when it changes.
//!
//! Sans-IO: reports and the time come in ([`Engine::ingest`], [`Engine::tick`]), typed events
//! go out. No clock, no randomness (conflict ids are named by the [`ConflictIds`] it is given),
//! no JSON and no store types; the same reports and times give the same events.

use super::events::{AlertEvent, ClearReason, EventKind, Geometry, Intruder};
use super::ids::{episode_of, ConflictIds, Origin, Speaks, LOCAL};
use super::level::{Do365Level, PairLevel};
use super::views::{IntruderView, OwnTrack, StateVector};
use deconflict_core::hysteresis::{LevelChange, LevelHysteresis};
use deconflict_core::track::format_rfc3339;
use deconflict_core::{
    AlertLevel, AssetClass, Detector, PairConflict, PartyId, Scene, SeparationTable, TrackReport, TrackState,
};
use std::collections::{HashMap, HashSet};

mod do365;

/// Timing of stale tracks.
#[derive(Debug, Clone, Copy)]
pub struct Staleness {
    /// A track whose last report is older than this is *coasting*: still extrapolated, but both
    /// sides of its live conflicts are told the picture is degraded.
    pub coast_s: f64,
    /// Older than this it is dropped, and its conflicts are cleared as lost.
    pub drop_s: f64,
}

impl Default for Staleness {
    fn default() -> Self {
        Staleness {
            coast_s: 5.0,
            drop_s: 15.0,
        }
    }
}

#[derive(Debug, Clone)]
struct Slot {
    party: PartyId,
    /// The node whose API took the latest report ([`LOCAL`] for this one).
    origin: Origin,
    report: TrackReport,
    state: TrackState,
    coasting: bool,
    /// The time of the first scan this track was in.
    scanned_since: Option<f64>,
}

/// A live conflict. Unlike an episode of the replay, a pair only becomes one when its level
/// reported is an alert (level ≥ 1); from then on its level runs its standard's hysteresis,
/// found at level 0 included.
#[derive(Debug, Clone)]
struct PairState {
    id: String,
    level: PairLevel,
    last: PairConflict,
    degraded: bool,
}

/// A DO-365 pair graded an alert whose M-of-N has not confirmed it yet: not a conflict, told to
/// no one, disclosed to no one.
#[derive(Debug, Clone)]
struct Pending {
    level: Do365Level,
    last: Option<PairConflict>,
}

/// One change of a conflict, as told to each side.
#[derive(Debug, Clone, Copy)]
struct Change<'a> {
    id: &'a str,
    kind: EventKind,
    level: AlertLevel,
    conflict: &'a PairConflict,
}

/// The engine: the live tracks, the live conflicts, and the scan that moves them on.
pub struct Engine {
    table: SeparationTable,
    stale: Staleness,
    hysteresis_s: f64,
    index: HashMap<(PartyId, String), usize>,
    /// Live tracks per party (for the per-party cap).
    per_party: HashMap<PartyId, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    detector: Detector,
    scene: Scene,
    scene_slots: Vec<usize>,
    pairs: HashMap<(usize, usize), PairState>,
    pending: HashMap<(usize, usize), Pending>,
    ids: ConflictIds,
    speaks: Option<Speaks>,
    /// Pairs of one party's own aircraft are conflicts too (off by default).
    own_conflicts: bool,
    /// Scans run so far.
    pub scans: u64,
}

impl Engine {
    /// An empty engine scanning with `table` (and its hysteresis), naming conflicts by `ids`.
    pub fn new(table: SeparationTable, stale: Staleness, ids: ConflictIds) -> Self {
        let hysteresis_s = table.hysteresis_s;
        Engine {
            table,
            stale,
            hysteresis_s,
            index: HashMap::new(),
            per_party: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            detector: Detector::new(),
            scene: Scene::new(),
            scene_slots: Vec::new(),
            pairs: HashMap::new(),
            pending: HashMap::new(),
            ids,
            speaks: None,
            own_conflicts: false,
            scans: 0,
        }
    }

    /// Number of live tracks.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No live tracks.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// How many live tracks `party` would have once `reports` are in (the tracks it has, plus
    /// the reports' assets it has not).
    pub fn party_len_with(&self, party: PartyId, reports: &[TrackReport]) -> usize {
        let held = self.per_party.get(&party).copied().unwrap_or(0);
        let mut new: Vec<&str> = reports
            .iter()
            .filter(|r| !self.index.contains_key(&(party, r.asset.clone())))
            .map(|r| r.asset.as_str())
            .collect();
        new.sort_unstable();
        new.dedup();
        held + new.len()
    }

    /// Whether two aircraft of one party are a conflict (default: no; the party keeps its own
    /// aircraft apart, and a party's own crowd then costs no pair tests' results or alerts).
    pub fn set_own_conflicts(&mut self, on: bool) {
        self.own_conflicts = on;
    }

    /// Which pairs this node speaks for (default: all).
    pub fn set_speaks(&mut self, speaks: Speaks) {
        self.speaks = Some(speaks);
    }

    /// Takes a party's accepted reports, taken by this node's API.
    pub fn ingest(&mut self, party: PartyId, reports: &[TrackReport]) {
        self.ingest_from(party, reports, LOCAL);
    }

    /// Takes a party's reports that came in through node `origin`; a report older than the one
    /// held is ignored.
    pub fn ingest_from(&mut self, party: PartyId, reports: &[TrackReport], origin: Origin) {
        for r in reports {
            let key = (party, r.asset.clone());
            match self.index.get(&key) {
                Some(&i) => {
                    if let Some(slot) = self.slots[i].as_mut() {
                        if r.time >= slot.report.time {
                            slot.origin = origin;
                            slot.state = r.state();
                            slot.report = r.clone();
                            slot.coasting = false;
                        }
                    }
                }
                None => {
                    let slot = Slot {
                        party,
                        origin,
                        report: r.clone(),
                        state: r.state(),
                        coasting: false,
                        scanned_since: None,
                    };
                    let i = match self.free.pop() {
                        Some(i) => {
                            self.slots[i] = Some(slot);
                            i
                        }
                        None => {
                            self.slots.push(Some(slot));
                            self.slots.len() - 1
                        }
                    };
                    self.index.insert(key, i);
                    *self.per_party.entry(party).or_default() += 1;
                }
            }
        }
    }

    /// The id of the conflict between slots `a` and `b` found at `now` with geometry `c`: the
    /// same for one encounter of the two tracks on every node, fresh for the next encounter
    /// (see [`ConflictIds`]); says nothing about the pair or the order of conflicts.
    fn conflict_id(&self, a: usize, b: usize, c: &PairConflict, now: f64) -> String {
        let key = |i: usize| {
            self.slots[i]
                .as_ref()
                .map(|s| format!("{}/{}", s.party, s.report.asset))
                .unwrap_or_default()
        };
        self.ids.of(&key(a), &key(b), episode_of(now + c.tcpa_s))
    }

    /// Whether this node tells the parties about pair `(a, b)`.
    fn speaks_for(&self, a: usize, b: usize) -> bool {
        let Some(f) = &self.speaks else {
            return true;
        };
        let (Some(x), Some(y)) = (self.slots[a].as_ref(), self.slots[b].as_ref()) else {
            return false;
        };
        let (lo, hi) = if (x.party, &x.report.asset) <= (y.party, &y.report.asset) {
            (x, y)
        } else {
            (y, x)
        };
        f(lo.origin, hi.origin)
    }

    /// The event for one side (`own` is that side's slot).
    fn event_for(&self, own: usize, other: usize, ch: &Change, now: f64) -> Option<AlertEvent> {
        let (o, x) = (self.slots[own].as_ref()?, self.slots[other].as_ref()?);
        let st = x.state.propagated((now - x.report.time).max(0.0));
        let own_state = o.state.propagated((now - o.report.time).max(0.0));
        Some(AlertEvent {
            party: o.party,
            conflict_id: ch.id.to_string(),
            kind: ch.kind,
            level: ch.level,
            time: now,
            own_asset: o.report.asset.clone(),
            intruder: Intruder {
                state: StateVector::of(&st, now),
                stale: x.coasting,
                exact: st,
            },
            geometry: Geometry::from(ch.conflict),
            own_state,
            advice: None,
        })
    }

    /// The same change told to both sides of pair `(a, b)`.
    /// Every node keeps the state of every pair it sees; only the node that speaks for the pair
    /// tells the parties.
    fn both(&self, (a, b): (usize, usize), ch: Change, now: f64, out: &mut Vec<AlertEvent>) {
        if !self.speaks_for(a, b) {
            return;
        }
        out.extend(self.event_for(a, b, &ch, now));
        out.extend(self.event_for(b, a, &ch, now));
    }

    /// Advances to `now`: coasts and drops stale tracks, scans, and returns the events to tell
    /// (level changes with hysteresis, degraded pictures, clearances), two per change: those of
    /// lost tracks first, then those of the scan in the detector's order, then clearances and
    /// degraded pictures in pair order. The same reports and times give the same events.
    pub fn tick(&mut self, now: f64) -> Vec<AlertEvent> {
        let mut out = Vec::new();
        // Stale tracks.
        let mut dropped: HashSet<usize> = HashSet::new();
        let mut newly_coasting: Vec<usize> = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(slot) = s {
                let age = now - slot.report.time;
                if age > self.stale.drop_s {
                    dropped.insert(i);
                } else if age > self.stale.coast_s && !slot.coasting {
                    slot.coasting = true;
                    newly_coasting.push(i);
                }
            }
        }
        // Conflicts of dropped tracks are cleared as lost, told to both sides while both exist.
        let mut lost: Vec<(usize, usize)> = self
            .pairs
            .keys()
            .filter(|(a, b)| dropped.contains(a) || dropped.contains(b))
            .copied()
            .collect();
        lost.sort_unstable();
        for key in lost {
            if let Some(p) = self.pairs.remove(&key) {
                let ch = Change {
                    id: &p.id,
                    kind: EventKind::Cleared(ClearReason::TrackLost),
                    level: AlertLevel::None,
                    conflict: &p.last,
                };
                self.both(key, ch, now, &mut out);
            }
        }
        self.pending
            .retain(|(a, b), _| !dropped.contains(a) && !dropped.contains(b));
        for i in &dropped {
            if let Some(slot) = self.slots[*i].take() {
                if let Some(n) = self.per_party.get_mut(&slot.party) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.per_party.remove(&slot.party);
                    }
                }
                self.index.remove(&(slot.party, slot.report.asset));
                self.free.push(*i);
            }
        }

        // Scan the live picture at `now`.
        self.scene.clear();
        self.scene.skip_same_group = !self.own_conflicts;
        self.scene_slots.clear();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(slot) = s {
                slot.scanned_since.get_or_insert(now);
                // Party ids are positive; one that is not is in no group (never skipped).
                let group = u64::try_from(slot.party.get()).unwrap_or(0);
                self.scene
                    .push_grouped(&slot.state.propagated((now - slot.report.time).max(0.0)), group);
                self.scene_slots.push(i);
            }
        }
        let found: Vec<(usize, usize, PairConflict)> = self
            .detector
            .scan(&self.scene, &self.table)
            .iter()
            .map(|c| {
                (
                    self.scene_slots[c.a as usize],
                    self.scene_slots[c.b as usize],
                    c.pair,
                )
            })
            .map(|(a, b, c)| if a < b { (a, b, c) } else { (b, a, c) })
            .collect();
        self.scans += 1;

        self.follow_rules(now);
        let mut seen = HashSet::with_capacity(found.len());
        let mut do365_found = HashMap::new();
        for (a, b, c) in found {
            let key = (a, b);
            seen.insert(key);
            if self.is_do365(a, b) {
                do365_found.insert(key, c);
                continue;
            }
            let Some(p) = self.pairs.get_mut(&key) else {
                // Only an alert starts a conflict.
                if c.level == AlertLevel::None {
                    continue;
                }
                let id = self.conflict_id(a, b, &c, now);
                let degraded = self.is_coasting(a) || self.is_coasting(b);
                let ch = Change {
                    id: &id,
                    kind: EventKind::New,
                    level: c.level,
                    conflict: &c,
                };
                self.both(key, ch, now, &mut out);
                self.pairs.insert(
                    key,
                    PairState {
                        id,
                        level: PairLevel::Cylinder(LevelHysteresis::new(c.level)),
                        last: c,
                        degraded,
                    },
                );
                continue;
            };
            p.last = c;
            let PairLevel::Cylinder(h) = &mut p.level else {
                continue;
            };
            let kind = match h.update(Some(c.level), now, self.hysteresis_s) {
                Some(LevelChange::Raised(_)) => EventKind::Raised,
                Some(LevelChange::Lowered(_)) => EventKind::Lowered,
                // A pair found is never cleared, nor new.
                Some(LevelChange::Cleared | LevelChange::New(_)) | None => continue,
            };
            let id = p.id.clone();
            let ch = Change {
                id: &id,
                kind,
                level: c.level,
                conflict: &c,
            };
            self.both(key, ch, now, &mut out);
        }
        self.do365_scan(do365_found, now, &mut out);
        // Cylinder pairs no longer in conflict clear after the hysteresis.
        let mut gone: Vec<(usize, usize)> =
            self.pairs.keys().filter(|k| !seen.contains(k)).copied().collect();
        gone.sort_unstable();
        for key in gone {
            let Some(p) = self.pairs.get_mut(&key) else {
                continue;
            };
            let PairLevel::Cylinder(h) = &mut p.level else {
                continue;
            };
            if h.update(None, now, self.hysteresis_s) == Some(LevelChange::Cleared) {
                if let Some(p) = self.pairs.remove(&key) {
                    let ch = Change {
                        id: &p.id,
                        kind: EventKind::Cleared(ClearReason::Separated),
                        level: AlertLevel::None,
                        conflict: &p.last,
                    };
                    self.both(key, ch, now, &mut out);
                }
            }
        }
        // A live conflict whose data went stale: both sides are told the picture is degraded.
        let coasting: HashSet<usize> = newly_coasting.into_iter().collect();
        let mut degrade: Vec<(usize, usize)> = self
            .pairs
            .iter()
            .filter(|(k, p)| !p.degraded && (coasting.contains(&k.0) || coasting.contains(&k.1)))
            .map(|(k, _)| *k)
            .collect();
        degrade.sort_unstable();
        for key in degrade {
            if let Some(p) = self.pairs.get_mut(&key) {
                p.degraded = true;
                let (id, level, last) = (p.id.clone(), p.level.level(), p.last);
                let ch = Change {
                    id: &id,
                    kind: EventKind::Degraded,
                    level,
                    conflict: &last,
                };
                self.both(key, ch, now, &mut out);
            }
        }
        out
    }

    fn is_coasting(&self, i: usize) -> bool {
        self.slots[i].as_ref().is_some_and(|s| s.coasting)
    }

    /// Every live track extrapolated to `now`: (party, asset, state, origin). Service-internal (the
    /// strategic checks), never returned to a client as is.
    pub fn live(&self, now: f64) -> Vec<(PartyId, String, TrackState, Origin)> {
        self.slots
            .iter()
            .flatten()
            .map(|s| {
                (
                    s.party,
                    s.report.asset.clone(),
                    s.state.propagated((now - s.report.time).max(0.0)),
                    s.origin,
                )
            })
            .collect()
    }

    /// A party's own live tracks.
    pub fn own_tracks(&self, party: PartyId) -> Vec<OwnTrack> {
        let mut v: Vec<OwnTrack> = self
            .slots
            .iter()
            .flatten()
            .filter(|s| s.party == party)
            .map(|s| OwnTrack {
                asset: s.report.asset.clone(),
                class: s.report.class.as_str().to_string(),
                time: format_rfc3339(s.report.time),
                lat: s.report.lat,
                lng: s.report.lng,
                alt_m: s.report.alt_m,
                gs_mps: s.report.gs_mps,
                track_deg: s.report.track_deg,
                vs_mps: s.report.vs_mps,
                coasting: s.coasting,
            })
            .collect();
        v.sort_by(|a, b| a.asset.cmp(&b.asset));
        v
    }

    /// Intruders disclosed to a party by its live conflicts (one per conflict and own asset).
    pub fn disclosed(&self, party: PartyId, now: f64) -> Vec<IntruderView> {
        let mut v = Vec::new();
        for ((a, b), p) in &self.pairs {
            for (own, other) in [(*a, *b), (*b, *a)] {
                let (Some(o), Some(x)) = (self.slots[own].as_ref(), self.slots[other].as_ref()) else {
                    continue;
                };
                if o.party != party {
                    continue;
                }
                let st = x.state.propagated((now - x.report.time).max(0.0));
                v.push(IntruderView {
                    conflict_id: p.id.clone(),
                    own_asset: o.report.asset.clone(),
                    state: StateVector::of(&st, now),
                    stale: x.coasting,
                });
            }
        }
        v.sort_by(|a, b| (&a.conflict_id, &a.own_asset).cmp(&(&b.conflict_id, &b.own_asset)));
        v
    }

    /// Whether `party` is a side of the live conflict `id`.
    pub fn conflict_involves(&self, id: &str, party: PartyId) -> bool {
        self.pairs.iter().any(|((a, b), p)| {
            p.id == id
                && [a, b]
                    .iter()
                    .any(|i| self.slots[**i].as_ref().is_some_and(|s| s.party == party))
        })
    }

    /// The separation table the engine scans with.
    pub fn table(&self) -> &SeparationTable {
        &self.table
    }

    /// Classes known to the engine (for metrics and docs).
    pub fn classes() -> [AssetClass; 4] {
        AssetClass::ALL
    }
}
