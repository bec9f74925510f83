//! Asset classes: what kind of aircraft a track is, which selects its separation profile.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The class of an asset. Selects the separation standard for each pair (see
/// [`crate::separation::SeparationTable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    /// Manned fixed-wing aircraft (the default).
    #[default]
    FixedWing,
    /// Manned helicopter.
    Rotorcraft,
    /// Large unmanned aircraft, flown to DO-365 "well clear".
    UasLarge,
    /// Small unmanned aircraft (quadcopters and the like).
    UasSmall,
}

impl AssetClass {
    pub const ALL: [AssetClass; 4] = [
        AssetClass::FixedWing,
        AssetClass::Rotorcraft,
        AssetClass::UasLarge,
        AssetClass::UasSmall,
    ];
    pub const COUNT: usize = 4;

    pub fn as_str(self) -> &'static str {
        match self {
            AssetClass::FixedWing => "fixed_wing",
            AssetClass::Rotorcraft => "rotorcraft",
            AssetClass::UasLarge => "uas_large",
            AssetClass::UasSmall => "uas_small",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn is_manned(self) -> bool {
        matches!(self, AssetClass::FixedWing | AssetClass::Rotorcraft)
    }
}

impl fmt::Display for AssetClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown class name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown asset class {0:?} (expected fixed_wing, rotorcraft, uas_large or uas_small)")]
pub struct UnknownClass(pub String);

impl FromStr for AssetClass {
    type Err = UnknownClass;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fixed_wing" => Ok(AssetClass::FixedWing),
            "rotorcraft" => Ok(AssetClass::Rotorcraft),
            "uas_large" => Ok(AssetClass::UasLarge),
            "uas_small" => Ok(AssetClass::UasSmall),
            other => Err(UnknownClass(other.to_string())),
        }
    }
}
