//! What travels between nodes: track reports in a compact binary format (`DCR1`; JSON from
//! earlier builds is still read) and stored alerts as JSON. Decoding never panics.

use deconflict_core::{AssetClass, TrackReport};
use deconflict_store::PartyId;
use serde::{Deserialize, Serialize};

/// Reports as JSON: what nodes of earlier builds sent; still read.
#[derive(Serialize, Deserialize)]
pub(crate) struct ReportsWire {
    pub(crate) party: PartyId,
    pub(crate) reports: Vec<TrackReport>,
}

/// First bytes of a binary reports message (format 1).
pub(crate) const REPORTS_MAGIC: &[u8; 4] = b"DCR1";

/// Reports in the binary format every node decodes (a third of the bytes of JSON, and no
/// number parsing): `DCR1`, party (i64), count (u32), then per report the asset's length
/// (u16) and UTF-8 bytes, time, lat, lng, alt_m, gs_mps, track_deg, vs_mps (f64 each) and
/// the class (u8, its index in [`AssetClass::ALL`]); little-endian throughout.
pub fn encode_reports(party: PartyId, reports: &[&TrackReport]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + reports.len() * 80);
    out.extend_from_slice(REPORTS_MAGIC);
    out.extend_from_slice(&party.get().to_le_bytes());
    out.extend_from_slice(&(reports.len() as u32).to_le_bytes());
    for r in reports {
        // Assets are validated to far fewer than 64 KiB bytes; cut rather than mis-frame.
        let asset = &r.asset.as_bytes()[..r.asset.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(asset.len() as u16).to_le_bytes());
        out.extend_from_slice(asset);
        for x in [r.time, r.lat, r.lng, r.alt_m, r.gs_mps, r.track_deg, r.vs_mps] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        let class = AssetClass::ALL.iter().position(|c| *c == r.class).unwrap_or(0);
        out.push(class as u8);
    }
    out
}

/// Reads a reports message: the binary format, or JSON from an earlier build. Never panics;
/// a malformed message is an error.
pub fn decode_reports(b: &[u8]) -> Result<(PartyId, Vec<TrackReport>), String> {
    let Some(mut rest) = b.strip_prefix(REPORTS_MAGIC) else {
        let w: ReportsWire = serde_json::from_slice(b).map_err(|e| e.to_string())?;
        return Ok((w.party, w.reports));
    };
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if rest.len() < n {
            return Err("message cut short".into());
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(rest: &mut &[u8]) -> Result<[u8; N], String> {
        take(rest, N)?
            .try_into()
            .map_err(|_| "message cut short".to_string())
    }
    let party = i64::from_le_bytes(array(&mut rest)?);
    let count = u32::from_le_bytes(array(&mut rest)?) as usize;
    // Each report takes at least 59 bytes: a count beyond that is a lie, not an allocation.
    if count > rest.len() / 59 {
        return Err(format!("count {count} does not fit the message"));
    }
    let mut reports = Vec::with_capacity(count);
    for _ in 0..count {
        let len = usize::from(u16::from_le_bytes(array(&mut rest)?));
        let asset = std::str::from_utf8(take(&mut rest, len)?)
            .map_err(|_| "asset is not UTF-8".to_string())?
            .to_string();
        let mut f = [0f64; 7];
        for x in &mut f {
            *x = f64::from_le_bytes(array(&mut rest)?);
        }
        let [class] = array::<1>(&mut rest)?;
        let class = *AssetClass::ALL
            .get(usize::from(class))
            .ok_or_else(|| format!("unknown class {class}"))?;
        reports.push(TrackReport {
            asset,
            time: f[0],
            lat: f[1],
            lng: f[2],
            alt_m: f[3],
            gs_mps: f[4],
            track_deg: f[5],
            vs_mps: f[6],
            class,
        });
    }
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last report", rest.len()));
    }
    Ok((PartyId(party), reports))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AlertWire {
    pub(crate) party: PartyId,
    pub(crate) seq: u64,
    pub(crate) time: f64,
    pub(crate) body: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(i: usize) -> TrackReport {
        TrackReport {
            asset: format!("Ä-{i}"),
            time: 1.7e9 + i as f64 * 0.125,
            lat: 45.5 - i as f64,
            lng: -3.25 + i as f64,
            alt_m: 1000.0,
            gs_mps: 120.0,
            track_deg: 359.5,
            vs_mps: -2.5,
            class: AssetClass::ALL[i % AssetClass::COUNT],
        }
    }

    #[test]
    fn reports_survive_the_binary_format_exactly() {
        let reports: Vec<TrackReport> = (0..5).map(report).collect();
        let refs: Vec<&TrackReport> = reports.iter().collect();
        let b = encode_reports(PartyId(-7), &refs);
        assert_eq!(decode_reports(&b).unwrap(), (PartyId(-7), reports));
        assert_eq!(
            decode_reports(&encode_reports(PartyId(3), &[])).unwrap(),
            (PartyId(3), Vec::new())
        );
    }

    #[test]
    fn json_from_an_earlier_build_is_still_read() {
        let reports: Vec<TrackReport> = (0..2).map(report).collect();
        let json = serde_json::to_vec(&ReportsWire {
            party: PartyId(4),
            reports: reports.clone(),
        })
        .unwrap();
        assert_eq!(decode_reports(&json).unwrap(), (PartyId(4), reports));
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let reports: Vec<TrackReport> = (0..3).map(report).collect();
        let refs: Vec<&TrackReport> = reports.iter().collect();
        let b = encode_reports(PartyId(1), &refs);
        // Every truncation, and the message with a byte too many, is refused.
        for n in 0..b.len() {
            assert!(decode_reports(&b[..n]).is_err(), "cut at {n}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(decode_reports(&long).is_err());
        // A count far beyond the bytes is refused before anything is allocated for it.
        let mut lie = b.clone();
        lie[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_reports(&lie).unwrap_err().contains("does not fit"));
        // An unknown class, bad UTF-8 in an asset.
        let mut class = b.clone();
        let last = class.len() - 1;
        class[last] = 9;
        assert!(decode_reports(&class).unwrap_err().contains("class"));
        let mut utf = b.clone();
        utf[18] = 0xff;
        assert!(decode_reports(&utf).unwrap_err().contains("UTF-8"));
        // Arbitrary bytes after the magic never panic.
        let mut x: u64 = 1;
        for len in 0..300 {
            let mut m = REPORTS_MAGIC.to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                m.push(x as u8);
            }
            let _ = decode_reports(&m);
        }
    }
}
