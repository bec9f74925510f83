//! The engine: every party's live tracks in one scene, scanned for conflicts, and alerts to
//! **both** parties of a conflict when its level changes.

use super::views::{IntruderView, OwnTrack, StateVector};
use deconflict_core::track::format_rfc3339;
use deconflict_core::{
    AlertLevel, AssetClass, Detector, PairConflict, Scene, SeparationTable, TrackReport, TrackState,
};
use deconflict_store::{NewAlert, PartyId};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Which node took a track's latest report from its owner: [`LOCAL`] for this node; other
/// numbers are given out by the cluster layer, [`UNKNOWN`] for tracks loaded from the store.
pub type Origin = u16;
/// This node.
pub const LOCAL: Origin = 0;
/// A track whose origin is not known (warmed from the store after a restart).
pub const UNKNOWN: Origin = Origin::MAX;

/// Decides whether this node tells the parties of a change of a conflict between a track that
/// came in through `lo` and one that came in through `hi` (`lo` is the origin of the pair's
/// lower `(party, asset)`). With several nodes every node scans the picture it holds, and
/// exactly one of them speaks for each pair; on one node it is always this one.
pub type Speaks = std::sync::Arc<dyn Fn(Origin, Origin) -> bool + Send + Sync>;

/// Keyed hash used for conflict ids (the store's `opaque_id`).
pub type OpaqueId = std::sync::Arc<dyn Fn(&str) -> u64 + Send + Sync>;

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
}

#[derive(Debug, Clone)]
struct PairState {
    id: String,
    level: AlertLevel,
    /// a lower level (None = clear) waiting to outlast the hysteresis, and since when
    pending: Option<(AlertLevel, f64)>,
    last: PairConflict,
    degraded: bool,
}

/// One change of a conflict, as told to each side.
#[derive(Debug, Clone, Copy)]
struct Change<'a> {
    id: &'a str,
    event: &'static str,
    level: AlertLevel,
    conflict: Option<&'a PairConflict>,
    reason: Option<&'static str>,
}

impl<'a> Change<'a> {
    fn new(id: &'a str, event: &'static str, level: AlertLevel, conflict: &'a PairConflict) -> Self {
        Change {
            id,
            event,
            level,
            conflict: Some(conflict),
            reason: None,
        }
    }

    fn because(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }
}

/// The engine.
pub struct Engine {
    table: SeparationTable,
    stale: Staleness,
    hysteresis_s: f64,
    index: HashMap<(PartyId, String), usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    detector: Detector,
    scene: Scene,
    scene_slots: Vec<usize>,
    pairs: HashMap<(usize, usize), PairState>,
    ids: Option<OpaqueId>,
    speaks: Option<Speaks>,
    salt: u64,
    /// Scans run so far.
    pub scans: u64,
}

fn level_name(l: AlertLevel) -> &'static str {
    l.name()
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

impl Engine {
    pub fn new(table: SeparationTable, stale: Staleness) -> Self {
        let hysteresis_s = table.hysteresis_s;
        Engine {
            table,
            stale,
            hysteresis_s,
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            detector: Detector::new(),
            scene: Scene::new(),
            scene_slots: Vec::new(),
            pairs: HashMap::new(),
            ids: None,
            speaks: None,
            salt: rand::random(),
            scans: 0,
        }
    }

    /// Number of live tracks.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Conflict ids become a keyed hash of the two tracks' identities, so every node (and this
    /// one after a restart) names a conflict the same. Without it, ids hash a per-process salt.
    pub fn set_ids(&mut self, ids: OpaqueId) {
        self.ids = Some(ids);
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
                }
            }
        }
    }

    /// The id of the conflict between slots `a` and `b`: the same for the same two tracks on
    /// every node; says nothing about the pair or the order of conflicts.
    fn conflict_id(&self, a: usize, b: usize) -> String {
        let key = |i: usize| {
            self.slots[i]
                .as_ref()
                .map(|s| format!("{}/{}", s.party, s.report.asset))
                .unwrap_or_default()
        };
        let (ka, kb) = (key(a), key(b));
        let (lo, hi) = if ka <= kb { (ka, kb) } else { (kb, ka) };
        let x = match &self.ids {
            Some(f) => f(&format!("tactical-conflict\n{lo}\n{hi}")),
            None => {
                let mut x = self.salt;
                for byte in lo.bytes().chain([0]).chain(hi.bytes()) {
                    x = (x ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
                x ^= x >> 33;
                x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
                x ^ (x >> 33)
            }
        };
        format!("c-{x:016x}")
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

    fn intruder_json(&self, slot: &Slot, now: f64) -> Value {
        let st = slot.state.propagated((now - slot.report.time).max(0.0));
        let mut v = serde_json::to_value(StateVector::of(&st, now)).unwrap_or(Value::Null);
        v["stale"] = json!(slot.coasting);
        v
    }

    /// The alert body for one side (`own` is that side's slot).
    fn alert_for(&self, own: usize, other: usize, ch: &Change, now: f64) -> Option<NewAlert> {
        let (o, x) = (self.slots[own].as_ref()?, self.slots[other].as_ref()?);
        let mut body = json!({
            "conflict_id": ch.id,
            "event": ch.event,
            "level": ch.level as u8,
            "level_name": level_name(ch.level),
            "time": format_rfc3339(now),
            "own_asset": o.report.asset,
            "intruder": self.intruder_json(x, now),
        });
        if let Some(c) = ch.conflict {
            body["tin_s"] = num(c.tin_s);
            body["tout_s"] = num(c.tout_s);
            body["tcpa_s"] = num(c.tcpa_s);
            body["dcpa_m"] = num(c.dcpa_m);
            body["los"] = json!(c.los);
            body["hsep_m"] = num(c.hsep_m);
            body["vsep_m"] = num(c.vsep_m);
        }
        if let Some(r) = ch.reason {
            body["reason"] = json!(r);
        }
        Some(NewAlert { party: o.party, body })
    }

    /// The same change told to both sides of pair `(a, b)`.
    /// Every node keeps the state of every pair it sees; only the node that speaks for the pair
    /// sends the alerts.
    fn both(&self, (a, b): (usize, usize), ch: Change, now: f64, out: &mut Vec<NewAlert>) {
        if !self.speaks_for(a, b) {
            return;
        }
        out.extend(self.alert_for(a, b, &ch, now));
        out.extend(self.alert_for(b, a, &ch, now));
    }

    /// Advances to `now`: coasts and drops stale tracks, scans, and returns the alerts to send
    /// (level changes with hysteresis, degraded pictures, clearances), two per change.
    pub fn tick(&mut self, now: f64) -> Vec<NewAlert> {
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
        let lost: Vec<(usize, usize)> = self
            .pairs
            .keys()
            .filter(|(a, b)| dropped.contains(a) || dropped.contains(b))
            .copied()
            .collect();
        for key in lost {
            if let Some(p) = self.pairs.remove(&key) {
                let (id, last) = (p.id.clone(), p.last);
                self.both(
                    (key.0, key.1),
                    Change::new(&id, "cleared", AlertLevel::None, &last).because("track_lost"),
                    now,
                    &mut out,
                );
            }
        }
        for i in &dropped {
            if let Some(slot) = self.slots[*i].take() {
                self.index.remove(&(slot.party, slot.report.asset));
                self.free.push(*i);
            }
        }

        // Scan the live picture at `now`.
        self.scene.clear();
        self.scene_slots.clear();
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(slot) = s {
                self.scene
                    .push(&slot.state.propagated((now - slot.report.time).max(0.0)));
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

        let mut seen = HashSet::with_capacity(found.len());
        for (a, b, c) in found {
            let key = (a, b);
            seen.insert(key);
            match self.pairs.get(&key).cloned() {
                None => {
                    if c.level == AlertLevel::None {
                        continue;
                    }
                    let id = self.conflict_id(a, b);
                    let degraded = self.is_coasting(a) || self.is_coasting(b);
                    self.pairs.insert(
                        key,
                        PairState {
                            id: id.clone(),
                            level: c.level,
                            pending: None,
                            last: c,
                            degraded,
                        },
                    );
                    self.both((a, b), Change::new(&id, "new", c.level, &c), now, &mut out);
                }
                Some(mut p) => {
                    p.last = c;
                    if c.level > p.level {
                        p.level = c.level;
                        p.pending = None;
                        self.both((a, b), Change::new(&p.id, "raised", c.level, &c), now, &mut out);
                    } else if c.level < p.level {
                        match p.pending {
                            Some((l, since)) if l == c.level => {
                                if now - since >= self.hysteresis_s {
                                    p.level = c.level;
                                    p.pending = None;
                                    self.both(
                                        (a, b),
                                        Change::new(&p.id, "lowered", c.level, &c),
                                        now,
                                        &mut out,
                                    );
                                }
                            }
                            _ => p.pending = Some((c.level, now)),
                        }
                    } else {
                        p.pending = None;
                    }
                    self.pairs.insert(key, p);
                }
            }
        }
        // Pairs no longer in conflict clear after the hysteresis.
        let gone: Vec<(usize, usize)> = self.pairs.keys().filter(|k| !seen.contains(k)).copied().collect();
        for key in gone {
            let Some(mut p) = self.pairs.remove(&key) else {
                continue;
            };
            match p.pending {
                Some((AlertLevel::None, since)) if now - since >= self.hysteresis_s => {
                    let last = p.last;
                    self.both(
                        (key.0, key.1),
                        Change::new(&p.id, "cleared", AlertLevel::None, &last).because("separated"),
                        now,
                        &mut out,
                    );
                    continue;
                }
                Some((AlertLevel::None, _)) => {}
                _ => p.pending = Some((AlertLevel::None, now)),
            }
            self.pairs.insert(key, p);
        }
        // A live conflict whose data went stale: both sides are told the picture is degraded.
        let coasting: HashSet<usize> = newly_coasting.into_iter().collect();
        let degrade: Vec<(usize, usize)> = self
            .pairs
            .iter()
            .filter(|(k, p)| !p.degraded && (coasting.contains(&k.0) || coasting.contains(&k.1)))
            .map(|(k, _)| *k)
            .collect();
        for key in degrade {
            if let Some(p) = self.pairs.get_mut(&key) {
                p.degraded = true;
                let (id, level, last) = (p.id.clone(), p.level, p.last);
                self.both(
                    (key.0, key.1),
                    Change::new(&id, "degraded", level, &last).because("track_stale"),
                    now,
                    &mut out,
                );
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

    /// Classes known to the engine (for metrics and docs).
    pub fn classes() -> [AssetClass; 4] {
        AssetClass::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deconflict_core::SeparationStandard;

    fn rep(asset: &str, t: f64, lat: f64, trk: f64) -> TrackReport {
        TrackReport {
            asset: asset.into(),
            time: t,
            lat,
            lng: 35.0,
            alt_m: 100.0,
            gs_mps: 20.0,
            track_deg: trk,
            vs_mps: 0.0,
            class: AssetClass::UasSmall,
        }
    }

    fn engine() -> Engine {
        let mut table = SeparationTable::uniform(SeparationStandard::new(50.0, 15.0, 60.0)).unwrap();
        table.hysteresis_s = 2.0;
        Engine::new(
            table,
            Staleness {
                coast_s: 3.0,
                drop_s: 6.0,
            },
        )
    }

    #[test]
    fn both_parties_are_alerted_and_cleared() {
        let mut e = engine();
        // 1 km apart, closing at 40 m/s: tin ~ 23.75 s (warning)
        e.ingest(1, &[rep("UAV-1", 100.0, 35.0, 0.0)]);
        e.ingest(2, &[rep("UAV-1", 100.0, 35.0 + 1000.0 / 111_195.0, 180.0)]);
        let a = e.tick(100.0);
        assert_eq!(a.len(), 2);
        let parties: HashSet<_> = a.iter().map(|x| x.party).collect();
        assert_eq!(parties, [1, 2].into_iter().collect());
        for x in &a {
            assert_eq!(x.body["event"], "new");
            assert_eq!(x.body["own_asset"], "UAV-1");
            assert!(x.body["intruder"].get("asset").is_none());
            assert_eq!(x.body["conflict_id"], a[0].body["conflict_id"]);
        }
        // diverge: cleared only after the hysteresis
        e.ingest(1, &[rep("UAV-1", 101.0, 35.0, 180.0)]);
        e.ingest(2, &[rep("UAV-1", 101.0, 35.0 + 1000.0 / 111_195.0, 0.0)]);
        assert!(e.tick(101.0).is_empty());
        let c = e.tick(103.5);
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|x| x.body["event"] == "cleared"));
    }

    #[test]
    fn stale_tracks_degrade_then_clear_as_lost() {
        let mut e = engine();
        e.ingest(1, &[rep("A", 100.0, 35.0, 0.0)]);
        e.ingest(2, &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
        assert_eq!(e.tick(100.0).len(), 2);
        // B keeps reporting, A goes quiet
        e.ingest(2, &[rep("B", 103.5, 35.0 + 500.0 / 111_195.0, 180.0)]);
        let d = e.tick(103.5);
        assert!(
            d.iter().any(|x| x.body["event"] == "degraded" && x.party == 2),
            "{d:?}"
        );
        assert!(d.iter().any(|x| x.body["event"] == "degraded" && x.party == 1));
        e.ingest(2, &[rep("B", 107.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
        let l = e.tick(107.0);
        assert!(
            l.iter()
                .any(|x| x.body["event"] == "cleared" && x.body["reason"] == "track_lost" && x.party == 2),
            "{l:?}"
        );
        assert_eq!(e.len(), 1);
        assert!(e.own_tracks(1).is_empty());
    }

    #[test]
    fn disclosure_is_scoped() {
        let mut e = engine();
        e.ingest(1, &[rep("A", 100.0, 35.0, 0.0)]);
        e.ingest(2, &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
        e.ingest(3, &[rep("C", 100.0, 10.0, 0.0)]);
        e.tick(100.0);
        assert_eq!(e.disclosed(1, 100.0).len(), 1);
        assert_eq!(e.disclosed(2, 100.0).len(), 1);
        assert!(e.disclosed(3, 100.0).is_empty());
        assert_eq!(e.own_tracks(1).len(), 1);
        let id = e.disclosed(1, 100.0)[0].conflict_id.clone();
        assert!(e.conflict_involves(&id, 1) && e.conflict_involves(&id, 2) && !e.conflict_involves(&id, 3));
    }

    #[test]
    fn one_node_speaks_for_a_pair_and_every_node_names_it_the_same() {
        let ids: OpaqueId = std::sync::Arc::new(|label: &str| {
            label
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        });
        // Node X took track A's report (lower key), node Y took B's; both hold both tracks.
        let (x_node, y_node): (Origin, Origin) = (1, 2);
        let mut on_x = engine();
        let mut on_y = engine();
        on_x.set_ids(ids.clone());
        on_y.set_ids(ids.clone());
        // The rule of the cluster layer, seen from each node: the lower track's node speaks.
        on_x.set_speaks(std::sync::Arc::new(|lo, _hi| lo == LOCAL));
        on_y.set_speaks(std::sync::Arc::new(|lo, _hi| lo == LOCAL));
        on_x.ingest(1, &[rep("A", 100.0, 35.0, 0.0)]);
        on_x.ingest_from(2, &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)], y_node);
        on_y.ingest_from(1, &[rep("A", 100.0, 35.0, 0.0)], x_node);
        on_y.ingest(2, &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
        let from_x = on_x.tick(100.0);
        let from_y = on_y.tick(100.0);
        assert_eq!(from_x.len(), 2, "X speaks: both parties told");
        assert!(from_y.is_empty(), "Y keeps quiet: {from_y:?}");
        // Y still holds the conflict (its picture and disclosures match X's), under the same id.
        let id_x = on_x.disclosed(1, 100.0)[0].conflict_id.clone();
        let id_y = on_y.disclosed(1, 100.0)[0].conflict_id.clone();
        assert_eq!(id_x, id_y);
        assert_eq!(from_x[0].body["conflict_id"], id_x.as_str());
        // If B's report now comes in through X, X still speaks; Y does not start.
        on_y.ingest_from(2, &[rep("B", 101.0, 35.0 + 500.0 / 111_195.0, 180.0)], x_node);
        on_y.ingest_from(1, &[rep("A", 101.0, 35.0 + 10.0 / 111_195.0, 0.0)], x_node);
        assert!(on_y.tick(101.0).iter().all(|a| a.body["event"] != "new"));
    }

    #[test]
    fn without_a_key_ids_are_still_per_pair_and_opaque() {
        let mut e = engine();
        e.ingest(1, &[rep("A", 100.0, 35.0, 0.0)]);
        e.ingest(2, &[rep("B", 100.0, 35.0 + 500.0 / 111_195.0, 180.0)]);
        let a = e.tick(100.0);
        let id = a[0].body["conflict_id"].as_str().unwrap().to_string();
        assert!(id.starts_with("c-") && id.len() == 18, "{id}");
        assert!(!id.contains('A') && !id.contains("B"));
    }
}
