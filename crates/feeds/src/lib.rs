//! Sans-IO parsers of the feeds that parties already run, turned into the service's track
//! reports ([`deconflict_core::TrackReport`]):
//!
//! - [`sbs`]: SBS-1 / BaseStation text (dump1090 and readsb, port 30003), one `MSG,n` line at
//!   a time, merged per ICAO address;
//! - [`beast`]: Mode S frames from a receiver's Beast binary port (30005) or AVR text,
//!   decoded with `rs1090` and merged per ICAO address;
//! - [`cot`]: Cursor-on-Target `<event>` XML, one event at a time, and [`frame::Framer`], which
//!   splits a TAK byte stream (events back to back, no delimiter) into events with a bounded
//!   buffer;
//! - [`cot_out`]: the other way, a party's alerts rendered as the CoT events TAK clients
//!   display (`deconflict feed cot-out`).
//!
//! Nothing here touches a socket, a clock or a file: the caller passes each line or frame and
//! the time it was received, so the parsers can be fuzzed and tested alone. A bad input is
//! never a panic and never a half-filled report: it is a [`Reject`] naming a reason from a
//! fixed set, which the bridges count.

pub mod beast;
pub mod cot;
pub mod cot_out;
pub mod frame;
pub mod sbs;

use deconflict_core::TrackReport;

/// Why an input produced no report. [`Reject::reason`] is the name the bridges count it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// Not the shape of the format (too few fields, bad XML, no `<event>`, a bad address).
    Malformed,
    /// A number field that is not a number.
    BadNumber,
    /// A number outside what an aircraft can be or do (lat > 90, 1e9 m/s, NaN, infinity).
    ImpossibleValue,
    /// A message of the format that carries nothing the service takes (SBS `SEL`, `MSG,6`,
    /// a CoT ping or a ground unit): skipped, counted so an operator sees the feed's mix.
    Ignored,
    /// A position report with no position in it.
    NoPosition,
    /// A position with no altitude known within the freshness bound (or CoT `hae` unknown).
    NoAltitude,
    /// A position with no velocity known within the freshness bound (or no CoT `<track>`).
    NoVelocity,
    /// An aircraft reported on the ground (the service separates airborne traffic).
    OnGround,
    /// An id the service would refuse (CoT `uid` outside the asset id alphabet).
    BadId,
    /// A CoT event already past its `stale` time when it arrived.
    Stale,
    /// A CoT event of an affiliation that is not the party's own (hostile, neutral, ...).
    NotOwn,
    /// More aircraft at once than the merger keeps state for.
    TooManyAircraft,
    /// A CoT frame over the framer's bound, or bytes that were not part of any event.
    Oversized,
    /// The start of an event cut off before its end (the next event began first).
    Truncated,
    /// A Mode S extended squitter whose parity (CRC) does not check: a corrupted frame.
    BadCrc,
}

impl Reject {
    /// Every reason, in the order of [`Reject::index`].
    pub const ALL: [Reject; 15] = [
        Reject::Malformed,
        Reject::BadNumber,
        Reject::ImpossibleValue,
        Reject::Ignored,
        Reject::NoPosition,
        Reject::NoAltitude,
        Reject::NoVelocity,
        Reject::OnGround,
        Reject::BadId,
        Reject::Stale,
        Reject::NotOwn,
        Reject::TooManyAircraft,
        Reject::Oversized,
        Reject::Truncated,
        Reject::BadCrc,
    ];

    /// The snake_case name counted and logged.
    pub fn reason(self) -> &'static str {
        match self {
            Reject::Malformed => "malformed",
            Reject::BadNumber => "bad_number",
            Reject::ImpossibleValue => "impossible_value",
            Reject::Ignored => "ignored",
            Reject::NoPosition => "no_position",
            Reject::NoAltitude => "no_altitude",
            Reject::NoVelocity => "no_velocity",
            Reject::OnGround => "on_ground",
            Reject::BadId => "bad_id",
            Reject::Stale => "stale",
            Reject::NotOwn => "not_own",
            Reject::TooManyAircraft => "too_many_aircraft",
            Reject::Oversized => "oversized",
            Reject::Truncated => "truncated",
            Reject::BadCrc => "bad_crc",
        }
    }

    /// Position in [`Reject::ALL`], for counters kept in an array.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}

/// Feet to metres.
pub const FT_TO_M: f64 = 0.3048;
/// Knots to metres per second.
pub const KT_TO_MPS: f64 = 1852.0 / 3600.0;
/// Feet per minute to metres per second.
pub const FPM_TO_MPS: f64 = 0.3048 / 60.0;

/// What a receiver feed (SBS-1, Beast) has heard of an aircraft's altitude and velocity, each
/// with the time it was heard: barometric altitude in feet; ground speed kt, track deg and
/// vertical rate ft/min.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Heard {
    pub alt: Option<(f64, f64)>,
    pub vel: Option<(f64, f64, Option<f64>, f64)>,
}

impl Heard {
    /// The report of a position at `lat`, `lon` heard at `now`, when the altitude and the
    /// velocity were heard within `max_age_s` of it (else `no_altitude` / `no_velocity`:
    /// stale state is never reported as fresh); a missing vertical rate is 0.
    pub(crate) fn report(
        &self,
        asset: String,
        (lat, lon): (f64, f64),
        now: f64,
        max_age_s: f64,
        class: deconflict_core::AssetClass,
    ) -> Result<TrackReport, Reject> {
        let fresh = |t: f64| (now - t).abs() <= max_age_s;
        let alt_ft = match self.alt {
            Some((ft, t)) if fresh(t) => ft,
            _ => return Err(Reject::NoAltitude),
        };
        let (gs_kt, trk, vr_fpm) = match self.vel {
            Some((gs, trk, vr, t)) if fresh(t) => (gs, trk, vr),
            _ => return Err(Reject::NoVelocity),
        };
        checked(TrackReport {
            asset,
            time: now,
            lat,
            lng: lon,
            alt_m: alt_ft * FT_TO_M,
            gs_mps: gs_kt * KT_TO_MPS,
            track_deg: if trk >= 360.0 { 0.0 } else { trk },
            vs_mps: vr_fpm.unwrap_or(0.0) * FPM_TO_MPS,
            class,
        })
    }
}

/// The last check before a report leaves a parser: every field in the ranges the service
/// accepts ([`TrackReport::validate`]), so a bridge never posts what the service would refuse
/// for its values.
pub(crate) fn checked(r: TrackReport) -> Result<TrackReport, Reject> {
    match r.validate() {
        Ok(()) => Ok(r),
        Err(e) if e.field == "asset" => Err(Reject::BadId),
        Err(_) => Err(Reject::ImpossibleValue),
    }
}
