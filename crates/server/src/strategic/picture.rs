//! The strategic picture: every live filing, the index over their volumes, and the decision on
//! a new filing — conflicts found on filing, and disclosure of the overlap only.
//!
//! **Concurrency.** The conflict check and the insertion into the in-memory index happen under
//! one lock, *before* the durable write. A second filing that arrives while the first is being
//! written therefore sees it, so two conflicting filings sent at the same instant cannot both
//! slip through. If the durable write then fails, the entry is taken out again and the
//! filing answers 500. Writes themselves share commits (group commit in the store).

use super::disclosure::{Coalitions, Disclosed, DisclosurePolicy};
use super::request::{parse_request, Binds, FilingBody, FilingRequest};
use deconflict_core::strategic::{Overlap, StrategicIndex, Volume4D, VolumeLimits};
use deconflict_core::track::format_rfc3339;
use deconflict_store::{FilingKind, FilingState};
use deconflict_store::{NewAlert, PartyId, StoredVolume};
use serde_json::{json, Value};
use std::collections::HashMap;

/// One live filing.
#[derive(Debug, Clone)]
pub struct Filing {
    pub key: u64,
    pub party: PartyId,
    pub party_name: String,
    pub kind: FilingKind,
    pub id: String,
    pub version: u64,
    pub state: FilingState,
    pub priority: i64,
    /// Reveal the party's name to the other side of a conflict (`name`), or not (`anonymous`).
    pub disclose_name: bool,
    pub binds: Option<Binds>,
    pub volumes: Vec<Volume4D>,
    /// The filing as accepted, returned to its owner (shared with the request it came from).
    pub body: FilingBody,
}

impl Filing {
    /// Whether this constraint binds `party` (named `name`).
    pub fn binds(&self, party: PartyId, name: &str) -> bool {
        match &self.binds {
            None => false,
            Some(_) if party == self.party => false,
            Some(Binds::AllOthers) => true,
            Some(Binds::Parties(v)) => v.iter().any(|p| p == name),
        }
    }

    fn who(&self) -> String {
        if self.disclose_name {
            self.party_name.clone()
        } else {
            "another party".to_string()
        }
    }
}

/// One strategic conflict as told to one side.
#[derive(Debug, Clone)]
pub struct Found {
    /// The other filing's key.
    pub other: u64,
    pub overlaps: Vec<(usize, usize, Overlap)>,
}

/// An overlap exactly as computed (for a constraint that binds the reader, which is published
/// to it anyway).
pub fn overlap_json(o: &Overlap) -> Value {
    let mut v = json!({
        "time_start": format_rfc3339(o.time_start),
        "time_end": format_rfc3339(o.time_end),
        "alt_lower_m": o.alt_lower_m,
        "alt_upper_m": o.alt_upper_m,
        "footprint": o.to_geojson_geometry(),
    });
    if o.approximate {
        v["approximate"] = json!(true);
    }
    v
}

/// How a filing's conflicts are disclosed: the policy, who sees whom exactly, and the budget.
pub struct Disclose<'a> {
    pub policy: &'a DisclosurePolicy,
    pub coalitions: &'a Coalitions,
    /// Spends one disclosure from the filer about each of these parties, or names one whose
    /// budget is spent (and spends nothing). Asked at most once per filing, before anything
    /// is disclosed.
    pub budget: &'a mut dyn FnMut(&[PartyId]) -> Result<(), PartyId>,
}

/// Maps a label to an unguessable, stable 64-bit id (e.g. `Store::opaque_id`).
pub type OpaqueId = std::sync::Arc<dyn Fn(&str) -> u64 + Send + Sync>;

/// Every live filing, and the index over their volumes.
#[derive(Default)]
pub struct Strategic {
    index: StrategicIndex,
    /// Constraints only: what tracks are checked against (few, so cheap per track).
    constraint_index: StrategicIndex,
    /// Keys of each party's activated intents: what its tracks must conform to.
    activated: HashMap<PartyId, Vec<u64>>,
    filings: HashMap<u64, Filing>,
    by_id: HashMap<(PartyId, FilingKind, String), u64>,
    /// current version of every filing ever made (ended ones too), for optimistic concurrency
    versions: HashMap<(PartyId, FilingKind, String), u64>,
    next_key: u64,
    /// identity of the filing being decided (not yet in `filings`)
    pending: Option<String>,
    /// Makes conflict ids opaque and stable: `id(label)` (the store's keyed hash).
    opaque: Option<OpaqueId>,
    /// The work budget of one filing's exact overlaps (`VolumeLimits::max_overlap_work`);
    /// `None`: unlimited.
    overlap_budget: Option<u64>,
}

/// What a filing decided.
pub enum Decision {
    /// Stored (pending the durable write): the new filing, the conflicts, the alerts to send,
    /// the disclosures to record.
    Accepted {
        filing: Box<Filing>,
        conflicts: Vec<Value>,
        alerts: Vec<NewAlert>,
        disclosed: Vec<Disclosed>,
        previous: Option<Box<Filing>>,
    },
    /// The version is not the current one.
    Stale { current: u64 },
    /// The filing enters a constraint that binds the filer.
    EntersConstraint { conflicts: Vec<Value> },
    /// Conflicts with intents and the filer asked to reject in that case: nothing stored, but
    /// what the answer discloses is told to the other side (`alerts`) and recorded.
    RejectedOnConflict {
        conflicts: Vec<Value>,
        alerts: Vec<NewAlert>,
        disclosed: Vec<Disclosed>,
    },
    /// The filer has used up its disclosure budget about party `about`: nothing stored,
    /// nothing disclosed.
    OverBudget { about: PartyId },
}

impl Strategic {
    /// `opaque` maps a label to an unguessable, stable 64-bit id (e.g. `Store::opaque_id`).
    pub fn new(opaque: OpaqueId) -> Self {
        Strategic {
            opaque: Some(opaque),
            overlap_budget: Some(VolumeLimits::default().max_overlap_work),
            ..Default::default()
        }
    }

    /// Sets the work budget of one filing's exact overlaps (see
    /// `StrategicIndex::conflicts_within`).
    pub fn set_overlap_budget(&mut self, work: u64) {
        self.overlap_budget = Some(work);
    }

    /// Loads stored filings after a restart.
    pub fn warm(&mut self, all: Vec<(PartyId, String, FilingKind, StoredVolume)>, limits: &VolumeLimits) {
        for (party, party_name, kind, v) in all {
            self.apply(party, party_name, kind, v, limits);
        }
    }

    /// Whether this holds version `version` of a filing, or a newer one.
    pub fn holds(&self, party: PartyId, kind: FilingKind, id: &str, version: u64) -> bool {
        self.versions
            .get(&(party, kind, id.to_string()))
            .is_some_and(|cur| *cur >= version)
    }

    /// Takes a stored filing (at start-up, this node's own once stored, or another node's read
    /// back from a shared store) unless the one held is as new. Returns whether it was taken.
    pub fn apply(
        &mut self,
        party: PartyId,
        party_name: String,
        kind: FilingKind,
        v: StoredVolume,
        limits: &VolumeLimits,
    ) -> bool {
        let vkey = (party, kind, v.id.clone());
        if self.versions.get(&vkey).is_some_and(|cur| *cur >= v.version) {
            return false;
        }
        if let Some(old) = self.by_id.get(&vkey).copied() {
            self.remove_key(old);
        }
        self.versions.insert(vkey, v.version);
        if v.state == FilingState::Ended {
            return true;
        }
        if let Ok(req) = parse_request(kind, &v.id, &v.body, limits) {
            let key = self.alloc();
            self.insert(Filing {
                key,
                party,
                party_name,
                kind,
                id: v.id.clone(),
                version: v.version,
                state: v.state,
                priority: req.priority,
                disclose_name: req.disclose_name,
                binds: req.binds,
                volumes: req.volumes,
                body: req.body,
            });
        }
        true
    }

    fn alloc(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn insert(&mut self, f: Filing) {
        self.index.insert(f.key, f.volumes.clone());
        if f.kind == FilingKind::Constraint {
            self.constraint_index.insert(f.key, f.volumes.clone());
        } else if f.state == FilingState::Activated {
            self.activated.entry(f.party).or_default().push(f.key);
        }
        self.by_id.insert((f.party, f.kind, f.id.clone()), f.key);
        self.filings.insert(f.key, f);
    }

    fn remove_key(&mut self, key: u64) -> Option<Filing> {
        let f = self.filings.remove(&key)?;
        self.index.remove(key);
        self.constraint_index.remove(key);
        if let Some(v) = self.activated.get_mut(&f.party) {
            v.retain(|k| *k != key);
            if v.is_empty() {
                self.activated.remove(&f.party);
            }
        }
        self.by_id.remove(&(f.party, f.kind, f.id.clone()));
        Some(f)
    }

    /// The id of the conflict between two filings: the same across their versions and across
    /// restarts, opaque to both parties. `a` may be a key not yet inserted (`pending`).
    fn conflict_id(&self, a: u64, b: u64) -> String {
        self.conflict_id_of(self.identity(a), self.identity(b))
    }

    fn identity(&self, key: u64) -> String {
        match self.filings.get(&key) {
            Some(f) => format!("{}/{}/{}", f.party, f.kind.as_str(), f.id),
            None => self.pending.clone().unwrap_or_default(),
        }
    }

    fn conflict_id_of(&self, a: String, b: String) -> String {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let label = format!("strategic-conflict\n{lo}\n{hi}");
        let x = self.opaque.as_ref().map_or(0, |f| f(&label));
        format!("s-{x:016x}")
    }

    /// Decides a filing under the caller's lock, and on acceptance inserts it into the index.
    pub fn file(
        &mut self,
        party: PartyId,
        party_name: &str,
        req: FilingRequest,
        now: f64,
        disclose: &mut Disclose<'_>,
    ) -> Decision {
        let vkey = (party, req.kind, req.id.clone());
        let current = self.versions.get(&vkey).copied();
        if current != req.version && !(current.is_none() && req.version.is_none()) {
            return Decision::Stale {
                current: current.unwrap_or(0),
            };
        }
        let old_key = self.by_id.get(&vkey).copied();
        let ending = req.state == FilingState::Ended;
        // Conflicts with other parties' live filings (not with the filing it replaces).
        let mut found: Vec<Found> = Vec::new();
        if !ending {
            // The filing it replaces and the party's own filings are left out before any
            // geometry is computed: they cost no budget.
            let filings = &self.filings;
            let skip = |key: u64| Some(key) == old_key || filings.get(&key).is_none_or(|o| o.party == party);
            let mut budget = self.overlap_budget.unwrap_or(u64::MAX);
            for (key, overlaps) in self.index.conflicts_within(&req.volumes, &mut budget, skip) {
                found.push(Found { other: key, overlaps });
            }
        }
        let new_key = self.alloc();
        self.pending = Some(format!("{}/{}/{}", party, req.kind.as_str(), req.id));
        let policy = disclose.policy;
        let coalitions = disclose.coalitions;
        // The regions as disclosed to both sides: exact within a coalition, else coarsened
        // (the same for both, so the disclosure is mutual). A binding constraint's overlap is
        // exact: the constraint is published to the parties it binds.
        let region = |o: &Filing, ov: &Overlap| -> Value {
            if o.kind == FilingKind::Constraint && o.binds(party, party_name) {
                overlap_json(ov)
            } else {
                policy.disclose(ov, coalitions.exact(party, o.party))
            }
        };
        let describe = |s: &Strategic, f: &Found| -> Value {
            let o = &s.filings[&f.other];
            json!({
                "conflict_id": s.conflict_id(new_key, f.other),
                "other_party": o.who(),
                "other_kind": o.kind.as_str(),
                "other_priority": o.priority,
                "overlaps": f.overlaps.iter().map(|(mine, theirs, ov)| {
                    json!({"own_volume": mine, "other_volume": theirs, "region": region(o, ov)})
                }).collect::<Vec<_>>(),
            })
        };
        // Entering a constraint that binds the filer is refused.
        if req.kind == FilingKind::Intent {
            let binding: Vec<Value> = found
                .iter()
                .filter(|f| {
                    let o = &self.filings[&f.other];
                    o.kind == FilingKind::Constraint && o.binds(party, party_name)
                })
                .map(|f| describe(self, f))
                .collect();
            if !binding.is_empty() {
                return Decision::EntersConstraint { conflicts: binding };
            }
        }
        // Which conflicts count: intent vs intent; a constraint vs the intents of parties it binds.
        let relevant: Vec<&Found> = found
            .iter()
            .filter(|f| {
                let o = &self.filings[&f.other];
                match (req.kind, o.kind) {
                    (FilingKind::Intent, FilingKind::Intent) => true,
                    (FilingKind::Intent, FilingKind::Constraint) => false, // not binding us: no conflict
                    (FilingKind::Constraint, FilingKind::Intent) => match &req.binds {
                        Some(Binds::AllOthers) => true,
                        Some(Binds::Parties(v)) => v.contains(&o.party_name),
                        None => false,
                    },
                    (FilingKind::Constraint, FilingKind::Constraint) => false,
                }
            })
            .collect();
        // The budget, before anything of another party is disclosed.
        let mut about: Vec<PartyId> = relevant.iter().map(|f| self.filings[&f.other].party).collect();
        about.sort_unstable();
        about.dedup();
        if !about.is_empty() {
            if let Err(p) = (disclose.budget)(&about) {
                return Decision::OverBudget { about: p };
            }
        }
        let conflicts: Vec<Value> = relevant.iter().map(|f| describe(self, f)).collect();
        let stored = !req.reject_on_conflict || conflicts.is_empty();
        let filing = Filing {
            key: new_key,
            party,
            party_name: party_name.to_string(),
            kind: req.kind,
            id: req.id.clone(),
            version: current.unwrap_or(0) + 1,
            state: req.state,
            priority: req.priority,
            disclose_name: req.disclose_name,
            binds: req.binds.clone(),
            volumes: req.volumes.clone(),
            body: req.body.clone(),
        };
        // The other side of each conflict is told through its alert stream what was disclosed,
        // and whether the filing was kept; each disclosure to the filer is recorded.
        let mut alerts = Vec::new();
        let mut disclosed = Vec::new();
        for (f, c) in relevant.iter().zip(&conflicts) {
            let o = &self.filings[&f.other];
            let conflict_id = self.conflict_id(new_key, f.other);
            // The same regions as the filer's answer (computed once: coarsening a large
            // footprint is the costly part), seen from the other side.
            let overlaps: Vec<Value> = c["overlaps"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|x| {
                            json!({"own_volume": x["other_volume"], "other_volume": x["own_volume"], "region": x["region"]})
                        })
                        .collect()
                })
                .unwrap_or_default();
            alerts.push(NewAlert {
                party: o.party,
                body: json!({
                    "event": "strategic_conflict",
                    "time": format_rfc3339(now),
                    "conflict_id": conflict_id,
                    "own_kind": o.kind.as_str(),
                    "own_id": o.id,
                    "own_priority": o.priority,
                    "other_party": filing.who(),
                    "other_kind": filing.kind.as_str(),
                    "other_priority": filing.priority,
                    "stored": stored,
                    "overlaps": overlaps,
                }),
            });
            disclosed.push(Disclosed {
                to: party,
                about: o.party,
                named: o.disclose_name,
                conflict_id,
                digest: deconflict_store::sha256_hex(c["overlaps"].to_string().as_bytes()),
            });
        }
        if !stored {
            return Decision::RejectedOnConflict {
                conflicts,
                alerts,
                disclosed,
            };
        }
        let previous = old_key.and_then(|k| self.remove_key(k));
        self.versions.insert(vkey, filing.version);
        if !ending {
            self.insert(filing.clone());
        }
        Decision::Accepted {
            filing: Box::new(filing),
            conflicts,
            alerts,
            disclosed,
            previous: previous.map(Box::new),
        }
    }

    /// Undoes an accepted filing whose durable write failed.
    pub fn undo(&mut self, filing: &Filing, previous: Option<Box<Filing>>) {
        if let Some(k) = self
            .by_id
            .get(&(filing.party, filing.kind, filing.id.clone()))
            .copied()
        {
            self.remove_key(k);
        }
        let vkey = (filing.party, filing.kind, filing.id.clone());
        match previous {
            Some(p) => {
                self.versions.insert(vkey, p.version);
                self.insert(*p);
            }
            None => {
                let back = filing.version.saturating_sub(1);
                if back == 0 {
                    self.versions.remove(&vkey);
                } else {
                    self.versions.insert(vkey, back);
                }
            }
        }
    }

    /// The live filings of a party, of a kind.
    pub fn own(&self, party: PartyId, kind: FilingKind) -> Vec<&Filing> {
        let mut v: Vec<&Filing> = self
            .filings
            .values()
            .filter(|f| f.party == party && f.kind == kind)
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Constraints of other parties that bind `party`: their volumes are what it must avoid.
    pub fn binding(&self, party: PartyId, name: &str) -> Vec<&Filing> {
        let mut v: Vec<&Filing> = self
            .filings
            .values()
            .filter(|f| f.kind == FilingKind::Constraint && f.binds(party, name))
            .collect();
        v.sort_by_key(|f| f.key);
        v
    }

    /// The current strategic conflicts of a party's live filings (overlaps only, as
    /// disclosed when they were found).
    pub fn conflicts_of(
        &self,
        party: PartyId,
        policy: &DisclosurePolicy,
        coalitions: &Coalitions,
    ) -> Vec<(String, &Filing, Value)> {
        let mut out = Vec::new();
        for f in self
            .own(party, FilingKind::Intent)
            .into_iter()
            .chain(self.own(party, FilingKind::Constraint))
        {
            let filings = &self.filings;
            let skip = |key: u64| filings.get(&key).is_none_or(|o| o.party == party);
            let mut budget = self.overlap_budget.unwrap_or(u64::MAX);
            for (key, overlaps) in self.index.conflicts_within(&f.volumes, &mut budget, skip) {
                let Some(o) = self.filings.get(&key) else { continue };
                let relevant = match (f.kind, o.kind) {
                    (FilingKind::Intent, FilingKind::Intent) => true,
                    (FilingKind::Intent, FilingKind::Constraint) => o.binds(party, &f.party_name),
                    (FilingKind::Constraint, FilingKind::Intent) => f.binds(o.party, &o.party_name),
                    _ => false,
                };
                if relevant {
                    let bound_by_it = o.kind == FilingKind::Constraint;
                    for (_, _, ov) in &overlaps {
                        let region = if bound_by_it {
                            overlap_json(ov)
                        } else {
                            policy.disclose(ov, coalitions.exact(party, o.party))
                        };
                        out.push((
                            self.conflict_id(f.key, key),
                            f,
                            json!({"other_party": o.who(), "region": region}),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Tracks meet volumes: for a track of `party` at a point, whether it conforms to the
    /// party's activated intents (None when it has none), and the constraints binding it that
    /// it is inside.
    pub fn check_point(
        &self,
        party: PartyId,
        name: &str,
        lat: f64,
        lng: f64,
        alt: f64,
        t: f64,
    ) -> (Option<bool>, Vec<&Filing>) {
        let conforming = self.activated.get(&party).map(|keys| {
            keys.iter()
                .filter_map(|k| self.filings.get(k))
                .any(|f| f.volumes.iter().any(|v| v.contains(lat, lng, alt, t)))
        });
        let constraints = if self.constraint_index.is_empty() {
            Vec::new()
        } else {
            self.constraint_index
                .containing(lat, lng, alt, t)
                .into_iter()
                .filter_map(|k| self.filings.get(&k))
                .filter(|f| f.binds(party, name))
                .collect()
        };
        (conforming, constraints)
    }

    /// Whether any track can be affected: some party has activated intents, or a constraint exists.
    pub fn checks_tracks(&self) -> bool {
        !self.activated.is_empty() || !self.constraint_index.is_empty()
    }

    pub fn get(&self, party: PartyId, kind: FilingKind, id: &str) -> Option<&Filing> {
        self.by_id
            .get(&(party, kind, id.to_string()))
            .and_then(|k| self.filings.get(k))
    }

    pub fn current_version(&self, party: PartyId, kind: FilingKind, id: &str) -> Option<u64> {
        self.versions.get(&(party, kind, id.to_string())).copied()
    }

    pub fn len(&self) -> usize {
        self.filings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filings.is_empty()
    }
}
