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
    /// Every class, in the order of [`Self::index`].
    pub const ALL: [AssetClass; 4] = [
        AssetClass::FixedWing,
        AssetClass::Rotorcraft,
        AssetClass::UasLarge,
        AssetClass::UasSmall,
    ];
    /// Number of classes: the size of per-class tables such as the separation table's rows.
    pub const COUNT: usize = 4;

    /// The snake_case name used on the wire and in the separation TOML (`fixed_wing`,
    /// `rotorcraft`, `uas_large`, `uas_small`); [`FromStr`] reads it back.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetClass::FixedWing => "fixed_wing",
            AssetClass::Rotorcraft => "rotorcraft",
            AssetClass::UasLarge => "uas_large",
            AssetClass::UasSmall => "uas_small",
        }
    }

    /// Position of the class in [`Self::ALL`] (`0..COUNT`): its row and column in per-class
    /// tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the class is crewed (fixed-wing or rotorcraft): the classes the `manned`
    /// selector of the separation TOML matches.
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
pub struct UnknownClass(
    /// The name that was given.
    pub String,
);

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
