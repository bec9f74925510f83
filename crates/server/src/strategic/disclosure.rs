//! What one party learns of another's filings (docs/security.md, "Disclosure policy"): the
//! overlap coarsened to H3 cells and time and altitude bins unless the two parties are of one
//! coalition, and a budget of disclosures per pair of parties and hour.
//!
//! Pure: the policy and the budget take the time as an argument; recording a disclosure in the
//! audit chain is the handler's part ([`Disclosed`] says what to record).

use super::cover;
use deconflict_core::strategic::Overlap;
use deconflict_core::track::format_rfc3339;
use deconflict_store::PartyId;
use h3o::{CellIndex, Resolution};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};

/// The disclosure policy (`[disclosure]` in the configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosurePolicy {
    /// H3 resolution of a coarsened footprint (0 to 15; 7 is about 5 km² a cell).
    pub h3_resolution: u8,
    /// Most cells in one coarsened footprint: a coarser resolution is used past it.
    pub max_cells: usize,
    /// A coarsened time window is widened to whole bins of this many seconds.
    pub time_bin_s: f64,
    /// A coarsened altitude band is widened to whole bins of this many metres.
    pub alt_bin_m: f64,
    /// Parties of one coalition see each other's overlaps exactly.
    pub exact_within_coalition: bool,
    /// Disclosures one party may receive about another in any hour.
    pub per_party_per_hour: usize,
}

impl Default for DisclosurePolicy {
    fn default() -> Self {
        DisclosurePolicy {
            h3_resolution: 7,
            max_cells: 64,
            time_bin_s: 900.0,
            alt_bin_m: 300.0,
            exact_within_coalition: true,
            per_party_per_hour: 60,
        }
    }
}

impl DisclosurePolicy {
    /// Checks the values (at start-up).
    pub fn validate(&self) -> Result<(), String> {
        if self.h3_resolution > 15 {
            return Err("disclosure.h3_resolution must be 0 to 15".into());
        }
        if !(1..=10_000).contains(&self.max_cells) {
            return Err("disclosure.max_cells must be 1 to 10000".into());
        }
        if !(self.time_bin_s >= 1.0 && self.time_bin_s <= 86_400.0) {
            return Err("disclosure.time_bin_s must be 1 to 86400".into());
        }
        if !(self.alt_bin_m >= 1.0 && self.alt_bin_m <= 10_000.0) {
            return Err("disclosure.alt_bin_m must be 1 to 10000".into());
        }
        if self.per_party_per_hour == 0 {
            return Err("disclosure.per_party_per_hour must be at least 1".into());
        }
        Ok(())
    }

    /// An overlap as disclosed: exact (`exact`) or coarsened by this policy.
    pub fn disclose(&self, o: &Overlap, exact: bool) -> Value {
        let mut v = self.disclose_region(o, exact);
        if o.approximate {
            // Past the work budget: the region is the filer's own volume, not the overlap.
            v["approximate"] = json!(true);
        }
        v
    }

    fn disclose_region(&self, o: &Overlap, exact: bool) -> Value {
        if exact {
            return json!({
                "time_start": format_rfc3339(o.time_start),
                "time_end": format_rfc3339(o.time_end),
                "alt_lower_m": o.alt_lower_m,
                "alt_upper_m": o.alt_upper_m,
                "footprint": o.to_geojson_geometry(),
                "coarsened": false,
            });
        }
        let down = |x: f64, b: f64| (x / b).floor() * b;
        let up = |x: f64, b: f64| (x / b).ceil() * b;
        let (res, cells) = self.cells(o);
        let polygons = outline(&cells).unwrap_or_else(|| hexagons(&cells));
        json!({
            "time_start": format_rfc3339(down(o.time_start, self.time_bin_s)),
            "time_end": format_rfc3339(up(o.time_end, self.time_bin_s)),
            "alt_lower_m": down(o.alt_lower_m, self.alt_bin_m),
            "alt_upper_m": up(o.alt_upper_m, self.alt_bin_m),
            "footprint": {"type": "MultiPolygon", "coordinates": polygons},
            "cells": cells.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "h3_resolution": res,
            "coarsened": true,
        })
    }

    /// The H3 cells covering the overlap's footprint at the finest resolution, from the
    /// policy's down, that needs at most `max_cells` (estimated before tiling, so a huge
    /// overlap costs no more than a small one).
    fn cells(&self, o: &Overlap) -> (u8, Vec<CellIndex>) {
        let polygons = cover::polygons(&o.footprint);
        let mut res = self.h3_resolution;
        loop {
            let r = Resolution::try_from(res).unwrap_or(Resolution::Zero);
            if res > 0 && cover::estimate(&polygons, r) > (4 * self.max_cells + 64) as f64 {
                res -= 1;
                continue;
            }
            // At resolution 0 (122 cells on Earth) the whole cover is taken, whatever its size.
            let cap = if res == 0 { usize::MAX } else { self.max_cells };
            if let Some(cells) = cover::cover(&polygons, r, cap) {
                return (res, cells.into_iter().collect());
            }
            res -= 1;
        }
    }
}

/// The outline of a set of cells of one resolution (their union, dissolved by h3o: the
/// outer boundary and any holes, not one hexagon per cell) as GeoJSON MultiPolygon
/// coordinates. A region of 188 cells is some 60 vertices instead of 1,316 (`cells` lists
/// the cells themselves). `None` when h3o cannot dissolve them, or when the outline leaves
/// [-180, 180] (a region across the antimeridian): the hexagons are given then.
fn outline(cells: &[CellIndex]) -> Option<Vec<Value>> {
    let solvent = h3o::geom::SolventBuilder::new().build();
    let shape = solvent.dissolve(cells.iter().copied()).ok()?;
    let ring = |r: &geo::LineString| -> Option<Vec<[f64; 2]>> {
        r.coords()
            .map(|c| (c.x.abs() <= 180.0).then(|| [round6(c.x), round6(c.y)]))
            .collect()
    };
    shape
        .iter()
        .map(|p| {
            let mut rings = vec![ring(p.exterior())?];
            for hole in p.interiors() {
                rings.push(ring(hole)?);
            }
            Some(json!(rings))
        })
        .collect()
}

/// One hexagon (or pentagon) per cell, as GeoJSON MultiPolygon coordinates.
fn hexagons(cells: &[CellIndex]) -> Vec<Value> {
    cells
        .iter()
        .map(|c| {
            let mut ring: Vec<[f64; 2]> = c
                .boundary()
                .iter()
                .map(|ll| [round6(ll.lng()), round6(ll.lat())])
                .collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            json!([ring])
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Which parties see each other's overlaps exactly: those of one coalition (one is the other's
/// `member_of`, or both have the same `member_of`), when the policy allows it.
#[derive(Debug, Clone, Default)]
pub struct Coalitions {
    exact: HashSet<(PartyId, PartyId)>,
}

impl Coalitions {
    /// From every party: (id, name, member_of).
    pub fn new(parties: &[(PartyId, String, Option<String>)], policy: &DisclosurePolicy) -> Self {
        let mut exact = HashSet::new();
        if policy.exact_within_coalition {
            for (a, an, am) in parties {
                for (b, bn, bm) in parties {
                    let together = am.as_deref() == Some(bn.as_str())
                        || bm.as_deref() == Some(an.as_str())
                        || (am.is_some() && am == bm);
                    if a != b && together {
                        exact.insert((*a, *b));
                    }
                }
            }
        }
        Coalitions { exact }
    }

    /// Whether `a` and `b` see each other's overlaps exactly.
    pub fn exact(&self, a: PartyId, b: PartyId) -> bool {
        self.exact.contains(&(a, b))
    }
}

/// One disclosure to record: `to` learned about `about`'s filing through conflict
/// `conflict_id`; `digest` is SHA-256 of the overlaps as disclosed.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosed {
    pub to: PartyId,
    pub about: PartyId,
    pub conflict_id: String,
    /// `to` was told `about`'s name (its filing's disclosure is `name`).
    pub named: bool,
    pub digest: String,
}

/// Disclosures received per (receiver, subject) in the last hour.
#[derive(Debug, Default)]
pub struct Budget {
    used: HashMap<(PartyId, PartyId), VecDeque<f64>>,
}

/// The window of the budget, seconds.
pub const BUDGET_WINDOW_S: f64 = 3600.0;

impl Budget {
    /// Spends one disclosure from `to` about each of `about` if every one of them has some
    /// left under `limit`; otherwise spends nothing and returns the first exhausted subject.
    pub fn spend(&mut self, to: PartyId, about: &[PartyId], now: f64, limit: usize) -> Result<(), PartyId> {
        for s in about {
            if let Some(q) = self.used.get_mut(&(to, *s)) {
                while q.front().is_some_and(|t| *t <= now - BUDGET_WINDOW_S) {
                    q.pop_front();
                }
                if q.len() >= limit {
                    return Err(*s);
                }
            }
        }
        for s in about {
            self.used.entry((to, *s)).or_default().push_back(now);
        }
        // Forget pairs whose window has passed, so the map stays the size of recent activity.
        if self.used.len() > 4096 {
            self.used
                .retain(|_, q| q.back().is_some_and(|t| *t > now - BUDGET_WINDOW_S));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deconflict_core::strategic::LatLng;
    use geo::Contains;

    fn pentagon() -> Overlap {
        let p = |lat: f64, lng: f64| LatLng { lat, lng };
        Overlap {
            time_start: 1_443_600_123.0,
            time_end: 1_443_604_623.0,
            alt_lower_m: 1234.0,
            alt_upper_m: 2345.0,
            footprint: vec![vec![
                p(35.40, 35.90),
                p(35.42, 35.95),
                p(35.45, 35.96),
                p(35.46, 35.92),
                p(35.43, 35.88),
            ]],
            approximate: false,
        }
    }

    #[test]
    fn a_coarsened_overlap_has_no_vertex_altitude_or_time_of_the_original() {
        let policy = DisclosurePolicy::default();
        let d = policy.disclose(&pentagon(), false);
        assert_eq!(d["coarsened"], true);
        assert_eq!(d["alt_lower_m"], 1200.0);
        assert_eq!(d["alt_upper_m"], 2400.0);
        assert_eq!(d["time_start"], format_rfc3339(1_443_600_000.0));
        assert_eq!(d["time_end"], format_rfc3339(1_443_605_400.0));
        // No vertex of the footprint is one of the pentagon's.
        let mut vertices = Vec::new();
        for poly in d["footprint"]["coordinates"].as_array().unwrap() {
            for v in poly[0].as_array().unwrap() {
                vertices.push((v[1].as_f64().unwrap(), v[0].as_f64().unwrap()));
            }
        }
        for p in &pentagon().footprint[0] {
            assert!(
                vertices
                    .iter()
                    .all(|v| (v.0 - p.lat).abs() > 1e-4 || (v.1 - p.lng).abs() > 1e-4),
                "{p:?} disclosed"
            );
        }
        let cells = d["cells"].as_array().unwrap();
        assert!(
            !cells.is_empty() && cells.len() <= policy.max_cells,
            "{}",
            cells.len()
        );
        // The footprint is the cells' outline, not one hexagon each: every cell's centre is
        // inside it, and it has fewer vertices than the cells' hexagons.
        let footprint = geojson_multipolygon(&d["footprint"]);
        for c in cells {
            let centre = h3o::LatLng::from(c.as_str().unwrap().parse::<CellIndex>().unwrap());
            let pt = geo::Point::new(centre.lng(), centre.lat());
            assert!(footprint.contains(&pt), "cell {c} outside the footprint");
        }
        assert!(
            vertices.len() < 6 * cells.len(),
            "{} vertices, {} cells",
            vertices.len(),
            cells.len()
        );
        // The cells cover the pentagon: each vertex lies in one of them.
        let res = Resolution::try_from(d["h3_resolution"].as_u64().unwrap() as u8).unwrap();
        for p in &pentagon().footprint[0] {
            let c = h3o::LatLng::new(p.lat, p.lng).unwrap().to_cell(res).to_string();
            assert!(cells.iter().any(|x| x == &c), "vertex {p:?} not covered");
        }
        let exact = policy.disclose(&pentagon(), true);
        assert_eq!(
            (exact["coarsened"].clone(), exact["alt_lower_m"].clone()),
            (json!(false), json!(1234.0))
        );
    }

    /// A GeoJSON MultiPolygon's coordinates as a geo MultiPolygon.
    fn geojson_multipolygon(g: &Value) -> geo::MultiPolygon {
        let ring = |r: &Value| -> geo::LineString {
            r.as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                .collect::<Vec<_>>()
                .into()
        };
        let polys = g["coordinates"].as_array().unwrap().iter().map(|p| {
            let rings = p.as_array().unwrap();
            geo::Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
        });
        geo::MultiPolygon(polys.collect())
    }

    #[test]
    fn a_coarsened_region_is_the_union_of_its_cells_and_far_smaller_than_hexagons() {
        // A 40 km square at resolution 7: some 30 cells across.
        let p = |lat: f64, lng: f64| LatLng { lat, lng };
        let o = Overlap {
            footprint: vec![vec![p(35.0, 35.0), p(35.0, 35.4), p(35.36, 35.4), p(35.36, 35.0)]],
            ..pentagon()
        };
        let policy = DisclosurePolicy {
            max_cells: 2000,
            ..Default::default()
        };
        let d = policy.disclose(&o, false);
        let cells: Vec<CellIndex> = d["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().parse().unwrap())
            .collect();
        assert!(cells.len() > 100, "{} cells", cells.len());
        let footprint = geojson_multipolygon(&d["footprint"]);
        let n: usize = footprint.iter().map(|p| p.exterior().0.len()).sum();
        assert!(
            n * 5 < 7 * cells.len(),
            "{n} outline vertices for {} cells",
            cells.len()
        );
        // the outline's area is the cells' (planar degrees², alike for both)
        use geo::Area;
        let union = footprint.unsigned_area();
        let sum: f64 = hexagons(&cells)
            .iter()
            .map(|h| geojson_multipolygon(&json!({"coordinates": [h]})).unsigned_area())
            .sum();
        assert!((union - sum).abs() < 1e-3 * sum, "outline {union}, cells {sum}");
        // and the JSON is smaller for it
        let text = d.to_string().len();
        let hex = json!(hexagons(&cells)).to_string().len();
        assert!(text * 3 < hex, "{text} bytes against {hex} of hexagons alone");
    }

    #[test]
    fn a_huge_overlap_is_coarsened_to_at_most_max_cells() {
        let p = |lat: f64, lng: f64| LatLng { lat, lng };
        let o = Overlap {
            footprint: vec![vec![p(34.0, 34.0), p(34.0, 37.0), p(36.5, 37.0), p(36.5, 34.0)]],
            ..pentagon()
        };
        let policy = DisclosurePolicy::default();
        let d = policy.disclose(&o, false);
        let n = d["cells"].as_array().unwrap().len();
        assert!((1..=64).contains(&n), "{n} cells");
        assert!(d["h3_resolution"].as_u64().unwrap() < 7, "{d}");
    }

    #[test]
    fn the_budget_stops_a_sweep_and_refills_after_an_hour() {
        let mut b = Budget::default();
        for i in 0..3 {
            assert_eq!(
                b.spend(PartyId(2), &[PartyId(1)], 100.0 + f64::from(i), 3),
                Ok(())
            );
        }
        assert_eq!(b.spend(PartyId(2), &[PartyId(1)], 110.0, 3), Err(PartyId(1)));
        // Nothing is spent when one subject is exhausted; other pairs are unaffected.
        assert_eq!(
            b.spend(PartyId(2), &[PartyId(3), PartyId(1)], 111.0, 3),
            Err(PartyId(1))
        );
        assert_eq!(b.spend(PartyId(2), &[PartyId(3)], 112.0, 3), Ok(()));
        assert_eq!(b.spend(PartyId(1), &[PartyId(2)], 112.0, 3), Ok(()));
        assert_eq!(
            b.spend(PartyId(2), &[PartyId(1)], 100.0 + BUDGET_WINDOW_S + 0.5, 3),
            Ok(())
        );
    }

    #[test]
    fn coalitions_are_the_lead_and_its_members() {
        let parties = vec![
            (PartyId(1), "LEAD".to_string(), None),
            (PartyId(2), "M1".to_string(), Some("LEAD".to_string())),
            (PartyId(3), "M2".to_string(), Some("LEAD".to_string())),
            (PartyId(4), "STATE".to_string(), None),
        ];
        let c = Coalitions::new(&parties, &DisclosurePolicy::default());
        assert!(
            c.exact(PartyId(1), PartyId(2))
                && c.exact(PartyId(2), PartyId(1))
                && c.exact(PartyId(2), PartyId(3))
        );
        assert!(
            !c.exact(PartyId(1), PartyId(4))
                && !c.exact(PartyId(4), PartyId(2))
                && !c.exact(PartyId(1), PartyId(1))
        );
        let off = DisclosurePolicy {
            exact_within_coalition: false,
            ..Default::default()
        };
        assert!(!Coalitions::new(&parties, &off).exact(PartyId(1), PartyId(2)));
    }
}
