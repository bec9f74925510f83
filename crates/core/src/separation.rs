//! Separation standards per pair of asset classes, loaded from TOML.
//!
//! A standard is a cylinder round each aircraft (horizontal radius, vertical half-height) and a
//! lookahead; a pair is in conflict when their predicted relative positions enter the cylinder
//! within the lookahead. Each standard also carries the alerting times that grade a conflict
//! into the DO-365 / DAIDALUS alert levels (see [`AlertLevel`]).
//!
//! The file is a list of `[[pair]]` rules; each names two class selectors (a class, `manned`
//! for fixed-wing and rotorcraft, or `any`). Later rules override earlier ones for the pairs
//! they match, and every one of the ten unordered class pairs must end up covered. The defaults
//! are in [`DEFAULT_TOML`].

use crate::class::AssetClass;
pub use crate::level::AlertLevel;
use crate::wellclear::{Do365Profile, MofNConfig};
use serde::{Deserialize, Serialize};

/// The built-in table: ICAO en-route radar separation between manned aircraft (5 NM / 1000 ft,
/// 300 s lookahead), DO-365A alerting as DAIDALUS does it (`alerting = "do365a"`) between a
/// large UAS and anything and between a small UAS and a manned aircraft, 50 m / 15 m / 60 s
/// between small UAS, and a 4 s alerting hysteresis.
pub const DEFAULT_TOML: &str = r#"# deconflict separation standards.
# Rules apply in order; a later rule overrides an earlier one for the pairs it matches.
# Selectors: fixed_wing, rotorcraft, uas_large, uas_small, manned (fixed_wing or rotorcraft), any.
# Alerting times (seconds before predicted loss of separation) grade a conflict:
#   preventive_s (default: the lookahead), corrective_s (default 55), warning_s (default 25).
# A rule may instead say alerting = "do365a" (or "do365b", non-cooperative) and no volume:
# the pair is then graded with DO-365 well clear as DAIDALUS does it (DO_365A_no_SUM.conf).

[alerting]
# cylinder pairs: a lowered level or a cleared conflict must persist this long before it is
# reported
hysteresis_s = 4.0
# DO-365 pairs: DAIDALUS's hysteresis on 1 Hz samples of the raw level. A level is reported
# once do365_m of the last do365_n samples reach it, samples older than do365_hysteresis_s
# are forgotten, a reported level is lowered only after do365_persistence_s, and a held level
# keeps its early alerting time. do365_m = 1, do365_n = 1, both times 0 and
# do365_early_alerting = false report the raw level of each sample.
do365_m = 2
do365_n = 4
do365_hysteresis_s = 5.0
do365_persistence_s = 4.0
do365_early_alerting = true

# Manned vs manned: ICAO en-route radar separation, 5 NM / 1000 ft.
[[pair]]
classes = ["manned", "manned"]
radius_m = 9260.0
half_height_m = 304.8
lookahead_s = 300.0

# Any aircraft vs a large UAS: DO-365A well clear as DAIDALUS does it (DTHR 0.66 NM,
# ZTHR 450 ft, 700 ft for preventive alerts, tau_mod 35 s; 180 s lookahead).
[[pair]]
classes = ["any", "uas_large"]
alerting = "do365a"

# A small UAS vs manned aircraft: the same well-clear volume protects the manned aircraft.
[[pair]]
classes = ["uas_small", "manned"]
alerting = "do365a"

# Small UAS vs small UAS.
[[pair]]
classes = ["uas_small", "uas_small"]
radius_m = 50.0
half_height_m = 15.0
lookahead_s = 60.0
"#;

/// One separation standard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeparationStandard {
    /// Horizontal radius of the protected cylinder, metres.
    pub radius_m: f64,
    /// Vertical half-height of the protected cylinder, metres.
    pub half_height_m: f64,
    /// How far ahead conflicts are predicted, seconds.
    pub lookahead_s: f64,
    /// A conflict whose entry is at most this many seconds ahead is at least preventive
    /// (level 1).
    pub preventive_s: f64,
    /// A conflict whose entry is at most this many seconds ahead is at least corrective
    /// (level 2).
    pub corrective_s: f64,
    /// A conflict whose entry is at most this many seconds ahead is a warning (level 3). A loss
    /// of separation now is always a warning.
    pub warning_s: f64,
    /// DO-365 alerting for this pair (`alerting = "do365a"` or `"do365b"` in the TOML) instead
    /// of the cylinder: the pair test grades it with [`crate::wellclear`] (no hysteresis in
    /// the scan), and `radius_m`, `half_height_m`, `lookahead_s` are what the broad phase must
    /// reserve for it ([`SeparationStandard::do365`]).
    #[serde(skip)]
    pub do365: Option<Do365Profile>,
}

impl SeparationStandard {
    /// A standard with the default alerting times (preventive over the whole lookahead,
    /// corrective 55 s and warning 25 s as DO-365A, both capped at the lookahead).
    pub fn new(radius_m: f64, half_height_m: f64, lookahead_s: f64) -> Self {
        SeparationStandard {
            radius_m,
            half_height_m,
            lookahead_s,
            preventive_s: lookahead_s,
            corrective_s: 55f64.min(lookahead_s),
            warning_s: 25f64.min(lookahead_s),
            do365: None,
        }
    }

    /// DO-365 alerting with this profile. The cylinder fields become the broad phase's
    /// reservation: radius DTHR, half-height ZTHR, lookahead the profile's plus TTHR (the
    /// largest of its levels), and the detector also pads each track's boxes vertically by
    /// TTHR times its vertical speed ([`SeparationTable::tau_reserve_s`]).
    ///
    /// Why that is enough: well clear is lost at some `t ≤ lookahead` either with range
    /// `≤ DTHR` (inside the cylinder at `t`), or by modified tau with `dcpa ≤ DTHR`, the pair
    /// closing and `0 ≤ tau_mod ≤ TTHR`. Then straight-line motion reaches range DTHR at
    /// `t + s` with `s = (a − √(a² − v²c))/v² ≤ c/a = tau_mod ≤ TTHR` (`a = −r·v`,
    /// `c = r² − DTHR²`, and `a² ≥ v²c` because `dcpa ≤ DTHR`), so horizontally the pair is
    /// inside radius DTHR at `t + s ≤ lookahead + TTHR`; vertically it has moved at most
    /// `s·|dvz| ≤ TTHR·(|vz_a| + |vz_b|)` from `|dz(t)| ≤ ZTHR`, which the per-track padding
    /// covers. The alerting times only grade a found conflict.
    pub fn do365(profile: Do365Profile) -> Self {
        let mut s = Self::new(
            profile.max_dthr_m(),
            profile.max_zthr_m(),
            profile.lookahead_s + profile.max_tthr_s(),
        );
        s.preventive_s = profile.levels[0].alerting_time_s;
        s.corrective_s = profile.levels[1].alerting_time_s;
        s.warning_s = profile.levels[2].alerting_time_s;
        s.do365 = Some(profile);
        s
    }

    /// The alert level of a conflict whose entry into the protected volume is `tin_s` ahead
    /// (0 or less when separation is already lost).
    #[inline]
    pub fn level(&self, tin_s: f64, los: bool) -> AlertLevel {
        if los || tin_s <= self.warning_s {
            AlertLevel::Warning
        } else if tin_s <= self.corrective_s {
            AlertLevel::Corrective
        } else if tin_s <= self.preventive_s {
            AlertLevel::Preventive
        } else {
            AlertLevel::None
        }
    }

    fn validate(&self, what: &str) -> Result<(), SeparationError> {
        let check = |field: &str, v: f64, lo: f64, hi: f64| {
            if !v.is_finite() || v <= lo || v > hi {
                Err(SeparationError::Invalid(format!(
                    "{what}: {field} must be a number in ({lo}, {hi}], got {v}"
                )))
            } else {
                Ok(())
            }
        };
        check("radius_m", self.radius_m, 0.0, MAX_RADIUS_M)?;
        check("half_height_m", self.half_height_m, 0.0, MAX_HALF_HEIGHT_M)?;
        check("lookahead_s", self.lookahead_s, 0.0, MAX_LOOKAHEAD_S)?;
        check("preventive_s", self.preventive_s, -1.0, self.lookahead_s)?;
        check("corrective_s", self.corrective_s, -1.0, self.preventive_s)?;
        check("warning_s", self.warning_s, -1.0, self.corrective_s)?;
        Ok(())
    }
}

// Upper bounds on a standard, which keep the broad phase's guarantees (see `crate::detector`).

/// Largest `radius_m` a table accepts, metres.
pub const MAX_RADIUS_M: f64 = 100_000.0;
/// Largest `half_height_m` a table accepts, metres.
pub const MAX_HALF_HEIGHT_M: f64 = 10_000.0;
/// Largest `lookahead_s` a table accepts, seconds.
pub const MAX_LOOKAHEAD_S: f64 = 1_200.0;

/// Why a separation table was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeparationError {
    /// The text is not TOML of the table's shape (unknown keys included); the parser's message.
    #[error("separation table: {0}")]
    Toml(String),
    /// A value out of range, an unknown class selector, or a class pair no rule covers; the
    /// message names the rule and field at fault.
    #[error("separation table: {0}")]
    Invalid(String),
}

/// Separation standards for every pair of classes, plus the alerting hysteresis.
#[derive(Debug, Clone, PartialEq)]
pub struct SeparationTable {
    table: [[SeparationStandard; AssetClass::COUNT]; AssetClass::COUNT],
    /// How long a lowered level or a cleared conflict must persist before it is reported,
    /// seconds (`[alerting] hysteresis_s`, 0–600, default 4). Cylinder pairs only.
    pub hysteresis_s: f64,
    /// The hysteresis of DO-365 pairs (`[alerting] do365_*`, default DAIDALUS's M-of-N 2 of 4,
    /// [`MofNConfig::DAIDALUS`]).
    pub do365_hysteresis: MofNConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[serde(default)]
    alerting: Option<AlertingSection>,
    #[serde(default)]
    pair: Vec<PairRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertingSection {
    hysteresis_s: Option<f64>,
    do365_m: Option<usize>,
    do365_n: Option<usize>,
    do365_hysteresis_s: Option<f64>,
    do365_persistence_s: Option<f64>,
    do365_early_alerting: Option<bool>,
}

impl AlertingSection {
    /// The DO-365 hysteresis: the defaults ([`MofNConfig::DAIDALUS`]) with the keys given.
    fn do365(&self) -> Result<MofNConfig, SeparationError> {
        let d = MofNConfig::DAIDALUS;
        let cfg = MofNConfig {
            m: self.do365_m.unwrap_or(d.m),
            n: self.do365_n.unwrap_or(d.n),
            hysteresis_s: self.do365_hysteresis_s.unwrap_or(d.hysteresis_s),
            persistence_s: self.do365_persistence_s.unwrap_or(d.persistence_s),
            early_alerting: self.do365_early_alerting.unwrap_or(d.early_alerting),
        };
        cfg.validate()
            .map_err(|e| SeparationError::Invalid(format!("alerting.do365_{e}")))?;
        Ok(cfg)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRule {
    classes: [String; 2],
    alerting: Option<String>,
    radius_m: Option<f64>,
    half_height_m: Option<f64>,
    lookahead_s: Option<f64>,
    preventive_s: Option<f64>,
    corrective_s: Option<f64>,
    warning_s: Option<f64>,
}

impl PairRule {
    fn standard(&self, i: usize) -> Result<SeparationStandard, SeparationError> {
        let invalid = |m: String| SeparationError::Invalid(format!("pair[{i}]: {m}"));
        match self.alerting.as_deref().unwrap_or("cylinder") {
            "cylinder" => {
                let need = |v: Option<f64>, f: &str| {
                    v.ok_or_else(|| invalid(format!("{f} is required for the cylinder standard")))
                };
                let mut std = SeparationStandard::new(
                    need(self.radius_m, "radius_m")?,
                    need(self.half_height_m, "half_height_m")?,
                    need(self.lookahead_s, "lookahead_s")?,
                );
                if let Some(v) = self.preventive_s {
                    std.preventive_s = v;
                }
                if let Some(v) = self.corrective_s {
                    std.corrective_s = v;
                }
                if let Some(v) = self.warning_s {
                    std.warning_s = v;
                }
                std.validate(&format!("pair[{i}]"))?;
                Ok(std)
            }
            name => {
                let profile = Do365Profile::by_name(name).ok_or_else(|| {
                    invalid(format!(
                        "alerting must be \"cylinder\", \"do365a\" or \"do365b\", got {name:?}"
                    ))
                })?;
                for (f, v) in [
                    ("radius_m", self.radius_m),
                    ("half_height_m", self.half_height_m),
                    ("lookahead_s", self.lookahead_s),
                    ("preventive_s", self.preventive_s),
                    ("corrective_s", self.corrective_s),
                    ("warning_s", self.warning_s),
                ] {
                    if v.is_some() {
                        return Err(invalid(format!(
                            "{f} does not go with alerting = {name:?} (its profile sets the volumes and times)"
                        )));
                    }
                }
                Ok(SeparationStandard::do365(profile))
            }
        }
    }
}

fn selector(s: &str, rule: usize) -> Result<Vec<AssetClass>, SeparationError> {
    match s {
        "any" => Ok(AssetClass::ALL.to_vec()),
        "manned" => Ok(vec![AssetClass::FixedWing, AssetClass::Rotorcraft]),
        other => other
            .parse::<AssetClass>()
            .map(|c| vec![c])
            .map_err(|e| SeparationError::Invalid(format!("pair[{rule}].classes: {e}, or manned, or any"))),
    }
}

impl SeparationTable {
    /// The built-in table, [`DEFAULT_TOML`].
    pub fn defaults() -> Self {
        Self::from_toml(DEFAULT_TOML).expect("built-in separation table is valid")
    }

    /// One standard for every pair (used to compare with detectors that have only one), with
    /// the default 4 s hysteresis.
    pub fn uniform(std: SeparationStandard) -> Result<Self, SeparationError> {
        std.validate("uniform standard")?;
        Ok(SeparationTable {
            table: [[std; AssetClass::COUNT]; AssetClass::COUNT],
            hysteresis_s: 4.0,
            do365_hysteresis: MofNConfig::DAIDALUS,
        })
    }

    /// Parses a TOML table (format in the module docs).
    pub fn from_toml(text: &str) -> Result<Self, SeparationError> {
        let file: FileFormat = toml::from_str(text).map_err(|e| SeparationError::Toml(e.to_string()))?;
        let mut cells: [[Option<SeparationStandard>; AssetClass::COUNT]; AssetClass::COUNT] =
            Default::default();
        for (i, rule) in file.pair.iter().enumerate() {
            let std = rule.standard(i)?;
            for a in selector(&rule.classes[0], i)? {
                for b in selector(&rule.classes[1], i)? {
                    cells[a.index()][b.index()] = Some(std);
                    cells[b.index()][a.index()] = Some(std);
                }
            }
        }
        let mut table = [[SeparationStandard::new(1.0, 1.0, 1.0); AssetClass::COUNT]; AssetClass::COUNT];
        for a in AssetClass::ALL {
            for b in AssetClass::ALL {
                table[a.index()][b.index()] = cells[a.index()][b.index()]
                    .ok_or_else(|| SeparationError::Invalid(format!("no [[pair]] rule covers {a} vs {b}")))?;
            }
        }
        let hysteresis_s = file.alerting.as_ref().and_then(|a| a.hysteresis_s).unwrap_or(4.0);
        let do365_hysteresis = match &file.alerting {
            Some(a) => a.do365()?,
            None => MofNConfig::DAIDALUS,
        };
        if !hysteresis_s.is_finite() || !(0.0..=600.0).contains(&hysteresis_s) {
            return Err(SeparationError::Invalid(format!(
                "alerting.hysteresis_s must be in [0, 600], got {hysteresis_s}"
            )));
        }
        Ok(SeparationTable {
            table,
            hysteresis_s,
            do365_hysteresis,
        })
    }

    /// The standard for a pair of classes (symmetric).
    #[inline(always)]
    pub fn get(&self, a: AssetClass, b: AssetClass) -> &SeparationStandard {
        &self.table[a as usize][b as usize]
    }

    /// Largest TTHR of the DO-365 pairs involving `class` (0 when it has none), seconds: the
    /// broad phase pads a track's boxes vertically by this times its vertical speed (see
    /// [`SeparationStandard::do365`]).
    pub fn tau_reserve_s(&self, class: AssetClass) -> f64 {
        self.table[class.index()]
            .iter()
            .filter_map(|s| s.do365.map(|p| p.max_tthr_s()))
            .fold(0.0, f64::max)
    }

    /// Largest radius, half-height and lookahead any pair involving `class` uses: what the
    /// broad phase must reserve round a track of that class.
    pub fn envelope(&self, class: AssetClass) -> (f64, f64, f64) {
        let row = &self.table[class.index()];
        row.iter().fold((0.0f64, 0.0f64, 0.0f64), |(r, h, l), s| {
            (r.max(s.radius_m), h.max(s.half_height_m), l.max(s.lookahead_s))
        })
    }
}

impl Default for SeparationTable {
    fn default() -> Self {
        Self::defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssetClass::*;

    #[test]
    fn defaults_match_design() {
        let t = SeparationTable::defaults();
        assert_eq!(t.get(FixedWing, Rotorcraft).radius_m, 9260.0);
        assert_eq!(t.get(FixedWing, FixedWing).lookahead_s, 300.0);
        // every pair with a UAS but small vs small: DO-365A, reserved in the broad phase as
        // DTHR 0.66 NM, the preventive ZTHR 700 ft, 180 s + TTHR 35 s
        let (dthr, zthr) = (0.66 * 1852.0, 700.0 * 0.3048);
        for (a, b) in [
            (UasLarge, FixedWing),
            (UasSmall, UasLarge),
            (UasSmall, Rotorcraft),
            (UasLarge, UasLarge),
        ] {
            let s = t.get(a, b);
            assert_eq!(s.do365.map(|p| p.name), Some("do365a"), "{a} {b}");
            assert_eq!((s.radius_m, s.half_height_m, s.lookahead_s), (dthr, zthr, 215.0));
        }
        assert_eq!(t.get(FixedWing, Rotorcraft).do365, None);
        assert_eq!(t.get(UasSmall, UasSmall).do365, None);
        assert_eq!(t.get(UasSmall, UasSmall).radius_m, 50.0);
        assert_eq!(t.get(UasSmall, UasSmall).warning_s, 25.0);
        assert_eq!(t.get(UasSmall, UasSmall).preventive_s, 60.0);
        assert_eq!(t.envelope(UasSmall), (dthr, zthr, 215.0));
        assert_eq!(t.envelope(FixedWing), (9260.0, 304.8, 300.0));
        assert_eq!(t.tau_reserve_s(FixedWing), 35.0);
    }

    #[test]
    fn levels() {
        let s = SeparationStandard::new(9260.0, 304.8, 300.0);
        assert_eq!(s.level(0.0, true), AlertLevel::Warning);
        assert_eq!(s.level(25.0, false), AlertLevel::Warning);
        assert_eq!(s.level(25.1, false), AlertLevel::Corrective);
        assert_eq!(s.level(55.0, false), AlertLevel::Corrective);
        assert_eq!(s.level(56.0, false), AlertLevel::Preventive);
        assert_eq!(s.level(300.0, false), AlertLevel::Preventive);
        assert_eq!(s.level(301.0, false), AlertLevel::None);
    }

    #[test]
    fn missing_pair_is_named() {
        let e = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"manned\",\"manned\"]\nradius_m=1\nhalf_height_m=1\nlookahead_s=1\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("no [[pair]] rule covers fixed_wing vs uas_large"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let e = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"any\",\"any\"]\nradius_m=-5\nhalf_height_m=1\nlookahead_s=1\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("pair[0]: radius_m"), "{e}");
        let e = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"any\",\"jet\"]\nradius_m=5\nhalf_height_m=1\nlookahead_s=1\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("pair[0].classes"), "{e}");
        let e = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"any\",\"any\"]\nradius_m=5\nhalf_height_m=1\nlookahead_s=10\nwarning_s=20\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("warning_s"), "{e}");
    }

    #[test]
    fn do365_rules_take_their_volumes_from_the_profile() {
        let t = SeparationTable::from_toml(&format!(
            "{DEFAULT_TOML}\n[[pair]]\nclasses=[\"any\",\"uas_large\"]\nalerting=\"do365a\"\n"
        ))
        .unwrap();
        let s = t.get(UasLarge, FixedWing);
        assert_eq!(s.do365.map(|p| p.name), Some("do365a"));
        // the broad phase's reservation: DTHR, the largest ZTHR, lookahead + TTHR
        assert_eq!(
            (s.radius_m, s.half_height_m, s.lookahead_s),
            (0.66 * 1852.0, 700.0 * 0.3048, 215.0)
        );
        assert_eq!(t.tau_reserve_s(UasLarge), 35.0);
        assert_eq!(t.tau_reserve_s(FixedWing), 35.0);
        assert_eq!(t.tau_reserve_s(UasSmall), 35.0);
        assert_eq!(t.get(FixedWing, Rotorcraft).do365, None);
        let e = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"any\",\"any\"]\nalerting=\"do365a\"\nradius_m=5\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("pair[0]: radius_m does not go with"),
            "{e}"
        );
        let e = SeparationTable::from_toml("[[pair]]\nclasses=[\"any\",\"any\"]\nalerting=\"tcas\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("alerting must be"), "{e}");
        let e =
            SeparationTable::from_toml("[[pair]]\nclasses=[\"any\",\"any\"]\nradius_m=5\nhalf_height_m=1\n")
                .unwrap_err();
        assert!(e.to_string().contains("lookahead_s is required"), "{e}");
    }

    #[test]
    fn the_do365_hysteresis_is_daidalus_by_default_and_configurable() {
        assert_eq!(SeparationTable::defaults().do365_hysteresis, MofNConfig::DAIDALUS);
        let rule = "[[pair]]\nclasses=[\"any\",\"any\"]\nalerting=\"do365a\"\n";
        let t = SeparationTable::from_toml(rule).unwrap();
        assert_eq!(t.do365_hysteresis, MofNConfig::DAIDALUS);
        let off = "[alerting]\ndo365_m=1\ndo365_n=1\ndo365_hysteresis_s=0\ndo365_persistence_s=0\n\
                   do365_early_alerting=false\n";
        let t = SeparationTable::from_toml(&format!("{off}{rule}")).unwrap();
        assert_eq!(t.do365_hysteresis, MofNConfig::OFF);
        for (bad, named) in [
            ("do365_m=5", "alerting.do365_m must be in 1..=n (4)"),
            ("do365_n=0", "alerting.do365_n must be"),
            ("do365_persistence_s=-1", "alerting.do365_persistence_s must be"),
            ("do365_hysteresis_s=1e9", "alerting.do365_hysteresis_s must be"),
        ] {
            let e = SeparationTable::from_toml(&format!("[alerting]\n{bad}\n{rule}")).unwrap_err();
            assert!(e.to_string().contains(named), "{bad}: {e}");
        }
    }

    #[test]
    fn later_rules_override() {
        let t = SeparationTable::from_toml(
            "[[pair]]\nclasses=[\"any\",\"any\"]\nradius_m=5\nhalf_height_m=1\nlookahead_s=10\n\
             [[pair]]\nclasses=[\"uas_small\",\"any\"]\nradius_m=7\nhalf_height_m=1\nlookahead_s=10\n",
        )
        .unwrap();
        assert_eq!(t.get(FixedWing, FixedWing).radius_m, 5.0);
        assert_eq!(t.get(FixedWing, UasSmall).radius_m, 7.0);
        assert_eq!(t.get(UasSmall, UasSmall).radius_m, 7.0);
    }
}
