//! Mode S frames as receivers serve them — Beast binary (dump1090 and readsb, port 30005) or
//! AVR text (port 30002) — turned into track reports. This module owns cutting the byte stream
//! into frames ([`BeastFramer`], [`parse_avr`]) and merging the decoded ADS-B messages into one
//! state per ICAO address ([`BeastMerger`]). Decoding a frame, the parity check and the CPR
//! position (even/odd global decoding, then local decoding against the aircraft's last
//! position) are `rs1090`'s, a well-kept decoder of the field: nothing of Mode S is hand-written
//! here but the framing.
//!
//! | Mode S | carries (used) |
//! |---|---|
//! | DF17, TC 1–4 (BDS 0,8) | callsign and emitter category (the asset class) |
//! | DF17, TC 5–8 (BDS 0,6) | surface position: counted `on_ground`, never reported |
//! | DF17, TC 9–18 (BDS 0,5) | airborne position (CPR) and barometric altitude, feet |
//! | DF17, TC 20–22 (BDS 0,5) | airborne position; the GNSS height is not used |
//! | DF17, TC 19 subtype 1 (BDS 0,9) | ground speed (kt), track, vertical rate (ft/min) |
//! | anything else (DF0/4/5/11/20/21, DF18 TIS-B, TC 19 airspeed, TC 28/29/31) | `ignored` |
//!
//! As with SBS-1, a report leaves only on a decoded position, and only when the altitude and
//! the velocity were heard within [`MAX_AGE_S`] of it, stamped with the time the caller
//! received the frame (the Beast 12 MHz counter has no epoch). The asset id is the ICAO
//! address in upper-case hex, the same id `deconflict feed sbs` gives the same aircraft. The
//! class is `uas_large` for emitter category B6 (unmanned), `rotorcraft` for A7, else
//! `fixed_wing` (and `fixed_wing` until an identification message is heard).

use crate::{Heard, Reject, KT_TO_MPS};
use deconflict_core::{AssetClass, TrackReport};
use rs1090::decode::adsb::ME;
use rs1090::decode::bds::bds08::WakeVortex;
use rs1090::decode::bds::bds09::AirborneVelocitySubType;
use rs1090::decode::cpr::{decode_position, AircraftState};
use rs1090::decode::crc::modes_checksum;
use rs1090::decode::{Message, DF, ICAO};
use std::collections::{BTreeMap, HashMap};

/// Altitude and velocity older than this when a position arrives are not used, seconds.
pub const MAX_AGE_S: f64 = 10.0;
/// State of an aircraft not heard for this long is forgotten by [`BeastMerger::prune`], seconds.
pub const FORGET_S: f64 = 60.0;
/// Most aircraft the merger keeps state for at once.
pub const MAX_AIRCRAFT: usize = 20_000;
/// Longest AVR line read, bytes (`@` + 12 timestamp digits + 28 message digits + `;` is 42).
pub const MAX_AVR_LINE: usize = 128;

/// The escape byte of Beast: it starts every frame, and is doubled inside one.
const ESC: u8 = 0x1a;
/// Timestamp (6 bytes) and signal level (1 byte) before the message in every Beast frame.
const META: usize = 7;

/// One frame cut from a Beast stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeastFrame {
    /// A Mode S message (7 or 14 bytes, without the Beast timestamp and signal level).
    ModeS(Vec<u8>),
    /// A Mode A/C reply or a receiver status frame: nothing the service takes.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Between frames: waiting for [`ESC`].
    #[default]
    Idle,
    /// After [`ESC`]: the type byte comes next.
    Type,
    /// Inside a frame of this many bytes (metadata and message); `escaped` after an [`ESC`].
    Body { len: usize, escaped: bool, modes: bool },
}

/// Splits a Beast byte stream into frames: `0x1a`, a type (`'1'` Mode A/C, `'2'` Mode S
/// short, `'3'` Mode S long, `'4'` receiver status), 6 bytes of timestamp, 1 of signal level
/// and the message, with every `0x1a` inside doubled. Bytes outside any frame and an unknown
/// type are `malformed`; a frame cut off by the start of the next is `truncated`. The buffer
/// never holds more than one frame (at most 21 bytes).
#[derive(Debug, Default)]
pub struct BeastFramer {
    state: State,
    buf: Vec<u8>,
    /// Whether a run of bytes outside any frame has been reported already.
    in_garbage: bool,
}

impl BeastFramer {
    /// A framer waiting for the first frame.
    pub fn new() -> BeastFramer {
        BeastFramer::default()
    }

    /// Forgets a frame in progress (after the connection it came on was closed).
    pub fn reset(&mut self) {
        *self = BeastFramer::default();
    }

    /// Feeds received bytes; calls `out` for each whole frame or refused run of bytes, in order.
    pub fn push(&mut self, bytes: &[u8], mut out: impl FnMut(Result<BeastFrame, Reject>)) {
        for &b in bytes {
            self.byte(b, &mut out);
        }
    }

    fn start(&mut self, t: u8, out: &mut impl FnMut(Result<BeastFrame, Reject>)) {
        let (len, modes) = match t {
            b'1' => (META + 2, false),
            b'2' => (META + 7, true),
            b'3' => (META + 14, true),
            b'4' => (META + 14, false),
            ESC => {
                // `1a 1a` outside a frame: an escaped byte with no frame around it.
                self.state = State::Type;
                return self.garbage(out);
            }
            _ => {
                self.state = State::Idle;
                return self.garbage(out);
            }
        };
        self.in_garbage = false;
        self.buf.clear();
        self.state = State::Body {
            len,
            escaped: false,
            modes,
        };
    }

    fn garbage(&mut self, out: &mut impl FnMut(Result<BeastFrame, Reject>)) {
        if !self.in_garbage {
            self.in_garbage = true;
            out(Err(Reject::Malformed));
        }
    }

    fn byte(&mut self, b: u8, out: &mut impl FnMut(Result<BeastFrame, Reject>)) {
        match self.state {
            State::Idle => {
                if b == ESC {
                    self.state = State::Type;
                } else {
                    self.garbage(out);
                }
            }
            State::Type => self.start(b, out),
            State::Body { len, escaped, modes } => {
                if escaped {
                    if b != ESC {
                        // A lone 0x1a inside a frame: the next frame began before this one ended.
                        out(Err(Reject::Truncated));
                        return self.start(b, out);
                    }
                } else if b == ESC {
                    self.state = State::Body {
                        len,
                        escaped: true,
                        modes,
                    };
                    return;
                }
                self.buf.push(b);
                self.state = State::Body {
                    len,
                    escaped: false,
                    modes,
                };
                if self.buf.len() == len {
                    self.state = State::Idle;
                    out(Ok(if modes {
                        BeastFrame::ModeS(self.buf[META..].to_vec())
                    } else {
                        BeastFrame::Other
                    }));
                }
            }
        }
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Parses one AVR line: `*<hex>;` or, with a 12-digit timestamp, `@<ts><hex>;` (dump1090's
/// and readsb's raw output). `Ok(None)` for a blank line; the message must be 7 or 14 bytes.
pub fn parse_avr(line: &str) -> Result<Option<Vec<u8>>, Reject> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    if line.len() > MAX_AVR_LINE {
        return Err(Reject::Malformed);
    }
    let body = line.strip_suffix(';').ok_or(Reject::Malformed)?;
    let digits = if let Some(h) = body.strip_prefix('*') {
        h
    } else if let Some(h) = body.strip_prefix('@') {
        h.get(12..).ok_or(Reject::Malformed)?
    } else {
        return Err(Reject::Malformed);
    };
    let msg = hex(digits).ok_or(Reject::Malformed)?;
    match msg.len() {
        7 | 14 => Ok(Some(msg)),
        2 => Err(Reject::Ignored),
        _ => Err(Reject::Malformed),
    }
}

/// What is known of one aircraft, each part with the time it was heard.
#[derive(Debug, Clone, Default)]
struct Aircraft {
    callsign: Option<String>,
    class: AssetClass,
    heard: Heard,
    last_heard: f64,
}

/// Merges decoded Mode S messages per ICAO address into track reports.
#[derive(Default)]
pub struct BeastMerger {
    /// rs1090's CPR state (the last even and odd frames and position of each aircraft).
    cpr: BTreeMap<ICAO, AircraftState>,
    aircraft: HashMap<u32, Aircraft>,
}

fn class_of(category: WakeVortex) -> AssetClass {
    match category {
        WakeVortex::Unmanned => AssetClass::UasLarge,
        WakeVortex::Rotorcraft => AssetClass::Rotorcraft,
        _ => AssetClass::FixedWing,
    }
}

impl BeastMerger {
    /// An empty merger.
    pub fn new() -> BeastMerger {
        BeastMerger::default()
    }

    /// Aircraft with state.
    pub fn len(&self) -> usize {
        self.aircraft.len()
    }

    /// Whether no aircraft has state.
    pub fn is_empty(&self) -> bool {
        self.aircraft.is_empty()
    }

    /// The callsign last heard for `icao` (upper-case hex), if any (never sent to the service).
    pub fn callsign(&self, icao: &str) -> Option<&str> {
        let a = u32::from_str_radix(icao, 16).ok()?;
        self.aircraft.get(&a)?.callsign.as_deref()
    }

    /// Forgets aircraft not heard for [`FORGET_S`] before `now` (their CPR state too).
    pub fn prune(&mut self, now: f64) {
        self.aircraft.retain(|_, a| now - a.last_heard <= FORGET_S);
        let keep = &self.aircraft;
        self.cpr.retain(|icao, _| keep.contains_key(&icao.0));
    }

    /// Reads one Mode S message (7 or 14 bytes) received at `now` (Unix seconds).
    /// `Ok(Some(report))` when it is a position and the merged state makes a whole report;
    /// `Ok(None)` when it only updated the state; `Err` names why it gave nothing.
    pub fn push_frame(&mut self, msg: &[u8], now: f64) -> Result<Option<TrackReport>, Reject> {
        if msg.len() != 7 && msg.len() != 14 {
            return Err(Reject::Malformed);
        }
        let df = msg[0] >> 3;
        if df != 17 {
            return Err(Reject::Ignored);
        }
        if msg.len() != 14 {
            return Err(Reject::Malformed);
        }
        if modes_checksum(msg, 112).map_err(|_| Reject::Malformed)? != 0 {
            return Err(Reject::BadCrc);
        }
        let decoded = Message::try_from(msg).map_err(|_| Reject::Malformed)?;
        let DF::ExtendedSquitterADSB(mut adsb) = decoded.df else {
            return Err(Reject::Ignored);
        };
        let icao = adsb.icao24;
        // Only messages that carry what the service takes make (or refresh) an aircraft.
        match &adsb.message {
            ME::BDS05 { .. } | ME::BDS08 { .. } | ME::BDS09(_) => {}
            ME::BDS06 { .. } => return Err(Reject::OnGround),
            _ => return Err(Reject::Ignored),
        }
        if !self.aircraft.contains_key(&icao.0) && self.aircraft.len() >= MAX_AIRCRAFT {
            self.prune(now);
            if self.aircraft.len() >= MAX_AIRCRAFT {
                return Err(Reject::TooManyAircraft);
            }
        }
        match &mut adsb.message {
            ME::BDS08 { inner, .. } => {
                let a = self.aircraft.entry(icao.0).or_default();
                a.last_heard = now;
                a.class = class_of(inner.wake_vortex);
                let cs = inner.callsign.trim_end_matches(['_', ' ', '#']).to_string();
                if !cs.is_empty() {
                    a.callsign = Some(cs);
                }
                Ok(None)
            }
            ME::BDS09(v) => {
                let AirborneVelocitySubType::GroundSpeedDecoding(g) = &v.velocity else {
                    return Err(Reject::Ignored);
                };
                // Subtype 2 (supersonic) counts in 4 kt steps; the service takes subtype 1 only.
                if v.subtype != 1 {
                    return Err(Reject::Ignored);
                }
                let (gs, trk) = (g.groundspeed, g.track);
                if !gs.is_finite() || !trk.is_finite() {
                    return Err(Reject::ImpossibleValue);
                }
                if gs * KT_TO_MPS > deconflict_core::track::MAX_GROUND_SPEED_MPS {
                    return Err(Reject::ImpossibleValue);
                }
                let vr = v.vertical_rate.map(f64::from);
                let a = self.aircraft.entry(icao.0).or_default();
                a.last_heard = now;
                a.heard.vel = Some((gs, trk, vr, now));
                Ok(None)
            }
            me @ ME::BDS05 { .. } => {
                decode_position(me, now, &icao, &mut self.cpr, &mut None, &None);
                let ME::BDS05 { tc, inner } = me else {
                    return Err(Reject::Malformed);
                };
                let a = self.aircraft.entry(icao.0).or_default();
                a.last_heard = now;
                if (9..=18).contains(tc) {
                    if let Some(ft) = inner.alt {
                        a.heard.alt = Some((f64::from(ft), now));
                    }
                }
                let (Some(lat), Some(lon)) = (inner.latitude, inner.longitude) else {
                    // The first frame of a pair, or a position rs1090 found implausible.
                    return Err(Reject::NoPosition);
                };
                let asset = format!("{:06X}", icao.0);
                a.heard
                    .report(asset, (lat, lon), now, MAX_AGE_S, a.class)
                    .map(Some)
            }
            _ => Err(Reject::Ignored),
        }
    }
}

#[cfg(test)]
mod tests;
