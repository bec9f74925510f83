//! The DO-365 / DAIDALUS alert levels (0 none, 1 preventive, 2 corrective, 3 warning), shared
//! by the cylinder standards of [`crate::separation`] and the well-clear alerting of
//! [`crate::wellclear`] (a module of its own so that neither depends on the other for it).

use serde::{Deserialize, Serialize};

/// Alert levels after DO-365 / DAIDALUS, ordered by severity; serialised as the number 0–3.
///
/// A conflict's level comes from its entry time `tin` and the alerting times of its
/// [`crate::separation::SeparationStandard`] (see
/// [`crate::separation::SeparationStandard::level`]) or from the well-clear volumes of
/// [`crate::wellclear`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum AlertLevel {
    /// Level 0: a predicted conflict whose entry is further ahead than `preventive_s` (only
    /// when a standard's `preventive_s` is shorter than its lookahead).
    None = 0,
    /// Level 1: entry within `preventive_s` (by default the whole lookahead).
    Preventive = 1,
    /// Level 2: entry within `corrective_s` (by default 55 s).
    Corrective = 2,
    /// Level 3: entry within `warning_s` (by default 25 s), or separation already lost.
    Warning = 3,
}

impl From<AlertLevel> for u8 {
    fn from(l: AlertLevel) -> u8 {
        l as u8
    }
}

impl TryFrom<u8> for AlertLevel {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Ok(match v {
            0 => AlertLevel::None,
            1 => AlertLevel::Preventive,
            2 => AlertLevel::Corrective,
            3 => AlertLevel::Warning,
            _ => return Err(format!("alert level must be 0..=3, got {v}")),
        })
    }
}

impl AlertLevel {
    /// Lower-case name (`none`, `preventive`, `corrective`, `warning`) for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            AlertLevel::None => "none",
            AlertLevel::Preventive => "preventive",
            AlertLevel::Corrective => "corrective",
            AlertLevel::Warning => "warning",
        }
    }
}
