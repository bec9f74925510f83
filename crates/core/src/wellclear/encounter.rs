//! Ownship-centric alerting over an encounter file, as DAIDALUS's `DaidalusAlerting` runs it:
//! at each time, the first aircraft is the ownship and every other one an intruder; each
//! (ownship, intruder) pair is graded and keeps its own [`MofNHysteresis`].

use super::alerting::{raw_level, MofNConfig, MofNHysteresis};
use super::Do365Profile;
use crate::cpa::relative;
use crate::level::AlertLevel;
use crate::track::TrackReport;
use std::collections::HashMap;

/// One (time, ownship, intruder) alert level.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelRow {
    /// Time of the step, seconds as in the file.
    pub time: f64,
    /// The ownship's name.
    pub ownship: String,
    /// The intruder's name.
    pub intruder: String,
    /// The level reported (after the hysteresis, if any).
    pub level: AlertLevel,
    /// The raw level of this step (before the hysteresis).
    pub raw: AlertLevel,
}

/// Follows every (ownship, intruder) pair of an encounter across steps.
#[derive(Debug, Clone)]
pub struct EncounterAlerting {
    /// The alerting profile.
    pub profile: Do365Profile,
    /// The hysteresis ([`MofNConfig::OFF`] for none).
    pub hysteresis: MofNConfig,
    pairs: HashMap<(String, String), MofNHysteresis>,
}

impl EncounterAlerting {
    /// No pairs yet.
    pub fn new(profile: Do365Profile, hysteresis: MofNConfig) -> Self {
        EncounterAlerting {
            profile,
            hysteresis,
            pairs: HashMap::new(),
        }
    }

    /// One step at `time`: the ownship's state and the intruders' (all at `time`). Returns
    /// one row per intruder, in the order given. An intruder with the ownship's name is
    /// skipped.
    pub fn step(&mut self, time: f64, ownship: &TrackReport, intruders: &[&TrackReport]) -> Vec<LevelRow> {
        let o = ownship.state();
        let mut rows = Vec::with_capacity(intruders.len());
        for i in intruders {
            if i.asset == ownship.asset {
                continue;
            }
            let s = i.state();
            let key = (ownship.asset.clone(), i.asset.clone());
            let h = self.pairs.entry(key).or_default();
            let raw = match relative(o.n, o.v, o.alt_m, o.vs_mps, s.n, s.v, s.alt_m, s.vs_mps) {
                Some(rel) => raw_level(&rel, &self.profile, h.held(&self.hysteresis)),
                None => AlertLevel::None,
            };
            let level = h.update(raw, time, &self.hysteresis);
            rows.push(LevelRow {
                time,
                ownship: ownship.asset.clone(),
                intruder: i.asset.clone(),
                level,
                raw,
            });
        }
        rows
    }

    /// Runs a whole encounter given as reports in file order (a `.daa` file): consecutive
    /// reports of one time form a step whose first report is the ownship.
    pub fn run(&mut self, reports: &[TrackReport]) -> Vec<LevelRow> {
        let mut out = Vec::new();
        for step in reports.chunk_by(|a, b| a.time == b.time) {
            let intruders: Vec<&TrackReport> = step[1..].iter().collect();
            out.extend(self.step(step[0].time, &step[0], &intruders));
        }
        out
    }
}
