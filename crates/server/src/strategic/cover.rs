//! A true cover of an overlap's footprint by H3 cells: every cell that meets it, and (but for
//! cells the edges only graze within a few percent of a cell's size) no other.
//!
//! h3o's own tiler in its `Covers` mode answers the same, but it tests each cell near the
//! outline with a full DE-9IM `relate` against the whole footprint: on a 2,000-vertex overlap
//! that was 0.3 s and about 4 MB of graph per overlap coarsened (docs/security.md). Here:
//! 1. **Edge cells.** Each ring edge is halved until every piece runs from a cell to the same
//!    cell or to a neighbour of it. Cells are convex, so such a piece stays within the two
//!    cells and the corners of the two cells they share a vertex with: neighbours of its
//!    first cell. So every cell the edge meets is one of the cells its pieces end in or a
//!    neighbour of one; a neighbour is taken when the edge meets its outline (straight lines
//!    between its vertices in degrees, as h3o's tiler and our footprints take them), enlarged
//!    by four times the cell's edge over the Earth's radius (a metre at resolution 7, at
//!    most 5 %) for the arcs the straight lines stand for.
//! 2. **Inner cells.** A cell that meets no edge lies wholly inside the footprint or wholly
//!    outside. Each neighbour of an edge cell is decided by its centre (point in polygon),
//!    and the inside ones are grown from, neighbour by neighbour, without further tests: a
//!    neighbour of a wholly-inside cell that meets no edge shares a side with it, so it is
//!    inside too; and every group of inside cells borders an edge cell, so none is missed.
//!
//! Pure and bounded: a cover is abandoned once it holds more than the cap asked for, so the
//! caller can go a resolution coarser at the cost of the cells counted so far.

use deconflict_core::strategic::LatLng;
use geo::{BoundingRect, Contains, Coord, Intersects, Line, LineString, Point, Polygon};
use h3o::{CellIndex, Resolution};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// Metres per degree of latitude (the mean Earth radius of the rest of the crate).
const M_PER_DEG: f64 = 111_195.0;

/// The footprint's rings (each closed implicitly, at least three vertices), as planar
/// polygons in degrees (x longitude, y latitude).
pub(super) fn polygons(rings: &[Vec<LatLng>]) -> Vec<Polygon> {
    rings
        .iter()
        .filter(|r| r.len() >= 3)
        .map(|ring| {
            let mut cs: Vec<Coord> = ring.iter().map(|p| Coord { x: p.lng, y: p.lat }).collect();
            cs.push(cs[0]);
            Polygon::new(LineString(cs), vec![])
        })
        .collect()
}

/// About how many cells at `res` cover `polys`: per ring, the area over a cell's plus the
/// outline's length over a cell's width, or the same of its bounding box when that is less
/// (a spiky outline crosses the same cells many times). An estimate, to pick a resolution
/// before any cell is computed.
pub(super) fn estimate(polys: &[Polygon], res: Resolution) -> f64 {
    let edge = res.edge_length_m();
    let mut total = 1.0;
    for p in polys {
        let (mut area, mut length) = (0.0, 0.0);
        let cs = &p.exterior().0;
        let lat0 = cs.iter().map(|c| c.y).sum::<f64>() / cs.len().max(1) as f64;
        let k = lat0.to_radians().cos().abs().max(1e-6) * M_PER_DEG;
        let mut twice = 0.0;
        for w in cs.windows(2) {
            let (a, b) = (w[0], w[1]);
            twice += (a.x * k) * (b.y * M_PER_DEG) - (b.x * k) * (a.y * M_PER_DEG);
            length += ((b.x - a.x) * k).hypot((b.y - a.y) * M_PER_DEG);
        }
        area += twice.abs() / 2.0;
        let (w, h) = match p.bounding_rect() {
            Some(r) => (r.width() * k, r.height() * M_PER_DEG),
            None => (0.0, 0.0),
        };
        let of_shape = area / res.area_m2() + length / (1.5 * edge);
        let of_box = w * h / res.area_m2() + 2.0 * (w + h) / (1.5 * edge);
        total += of_shape.min(of_box);
    }
    total
}

/// The cells at `res` that meet `polys` (their union), or `None` once more than `cap` are
/// found.
pub(super) fn cover(polys: &[Polygon], res: Resolution, cap: usize) -> Option<BTreeSet<CellIndex>> {
    let mut edge_cells: HashSet<CellIndex> = HashSet::new();
    let mut outlines = Outlines::new();
    for p in polys {
        for w in p.exterior().0.windows(2) {
            edge_cover(Line::new(w[0], w[1]), res, &mut edge_cells, &mut outlines);
            if edge_cells.len() > cap {
                return None;
            }
        }
    }
    let mut inside: HashSet<CellIndex> = HashSet::new();
    let mut queue: VecDeque<CellIndex> = VecDeque::new();
    for c in &edge_cells {
        for n in neighbours(*c) {
            if edge_cells.contains(&n) || inside.contains(&n) {
                continue;
            }
            let centre = h3o::LatLng::from(n);
            let pt = Point::new(centre.lng(), centre.lat());
            if polys.iter().any(|p| p.contains(&pt)) {
                inside.insert(n);
                queue.push_back(n);
            }
        }
    }
    while let Some(c) = queue.pop_front() {
        if edge_cells.len() + inside.len() > cap {
            return None;
        }
        for n in neighbours(c) {
            if !edge_cells.contains(&n) && inside.insert(n) {
                queue.push_back(n);
            }
        }
    }
    if edge_cells.len() + inside.len() > cap {
        return None;
    }
    Some(edge_cells.into_iter().chain(inside).collect())
}

fn neighbours(c: CellIndex) -> impl Iterator<Item = CellIndex> {
    c.grid_disk::<Vec<_>>(1).into_iter().filter(move |n| *n != c)
}

/// Adds every cell that `edge` (degrees) meets to `cells`: the edge is halved until each
/// piece runs from a cell to the same cell or a neighbour, and the neighbours of those cells
/// that the edge meets are added.
fn edge_cover(edge: Line, res: Resolution, cells: &mut HashSet<CellIndex>, outlines: &mut Outlines) {
    let cell_at = |c: Coord| h3o::LatLng::new(c.y, c.x).ok().map(|ll| ll.to_cell(res));
    let mut along: HashSet<CellIndex> = HashSet::new();
    let mut pieces = vec![(edge.start, cell_at(edge.start), edge.end, cell_at(edge.end), 0u32)];
    while let Some((a, ca, b, cb, depth)) = pieces.pop() {
        let near = match (ca, cb) {
            (Some(x), Some(y)) => x == y || x.is_neighbor_with(y).unwrap_or(false),
            // A point that is no position (the footprints are checked finite): nothing to
            // halve towards.
            _ => true,
        };
        // Forty halvings are a millimetre of the longest edge: past them, take what there is.
        if near || depth >= 40 {
            along.extend(ca);
            along.extend(cb);
            continue;
        }
        let m = Coord {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        };
        let cm = cell_at(m);
        pieces.push((a, ca, m, cm, depth + 1));
        pieces.push((m, cm, b, cb, depth + 1));
    }
    for c in along {
        cells.insert(c);
        for nb in neighbours(c) {
            if !cells.contains(&nb) && meets(nb, &edge, outlines) {
                cells.insert(nb);
            }
        }
    }
}

/// Cells' outlines, enlarged about their centres (module docs), computed once per cover;
/// `None` for a cell across the antimeridian, where a planar outline means nothing (it is
/// taken).
type Outlines = HashMap<CellIndex, Option<Polygon>>;

/// Whether `edge` meets `cell`'s enlarged outline.
fn meets(cell: CellIndex, edge: &Line, outlines: &mut Outlines) -> bool {
    let grow = 1.0 + (4.0 * cell.resolution().edge_length_m() / 6_371_000.0).min(0.05);
    let outline = outlines.entry(cell).or_insert_with(|| {
        let centre = h3o::LatLng::from(cell);
        let (cx, cy) = (centre.lng(), centre.lat());
        let mut ring: Vec<Coord> = Vec::with_capacity(11);
        for v in cell.boundary().iter() {
            if (v.lng() - cx).abs() > 180.0 {
                return None;
            }
            ring.push(Coord {
                x: cx + (v.lng() - cx) * grow,
                y: cy + (v.lat() - cy) * grow,
            });
        }
        let first = ring.first().copied()?;
        ring.push(first);
        Some(Polygon::new(LineString(ring), vec![]))
    });
    outline.as_ref().is_none_or(|p| p.intersects(edge))
}

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use h3o::geom::{ContainmentMode, TilerBuilder};
    use proptest::prelude::*;

    fn h3o_covers(polys: &[Polygon], res: Resolution) -> BTreeSet<CellIndex> {
        let mut t = TilerBuilder::new(res)
            .containment_mode(ContainmentMode::Covers)
            .build();
        for p in polys {
            t.add(p.clone()).unwrap();
        }
        t.into_coverage().collect()
    }

    /// A star of `n` points round (lat, lng), radii alternating `r1` and `r2` metres.
    fn star(lat: f64, lng: f64, n: usize, r1: f64, r2: f64, turn: f64) -> Vec<LatLng> {
        (0..n)
            .map(|i| {
                let a = turn + i as f64 * std::f64::consts::TAU / n as f64;
                let r = if i % 2 == 0 { r1 } else { r2 };
                LatLng {
                    lat: lat + r * a.cos() / M_PER_DEG,
                    lng: lng + r * a.sin() / (M_PER_DEG * lat.to_radians().cos()),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// h3o's tiler (someone else's code) is the witness: every cell it says meets the
        /// footprint is in the cover, and the cover adds few of its own.
        #[test]
        fn the_cover_holds_every_cell_h3o_finds_and_few_more(
            lat in -70.0f64..70.0, lng in -170.0f64..170.0, n in 3usize..40,
            r1 in 300.0f64..20_000.0, r2 in 100.0f64..20_000.0, turn in 0.0f64..6.3, res in 5u8..9,
        ) {
            let polys = polygons(&[star(lat, lng, n, r1, r2, turn)]);
            let res = Resolution::try_from(res).unwrap();
            // Bounded, so that a leak of the inward growth fails instead of covering the globe.
            let ours = cover(&polys, res, 200_000).unwrap();
            let theirs = h3o_covers(&polys, res);
            let missed: Vec<_> = theirs.difference(&ours).collect();
            prop_assert!(missed.is_empty(), "missed {missed:?}");
            prop_assert!(ours.len() <= theirs.len() + theirs.len() / 5 + 6, "{} vs {}", ours.len(), theirs.len());
        }
    }

    #[test]
    fn a_footprint_inside_one_cell_is_covered_by_that_cell() {
        let polys = polygons(&[star(35.4, 35.9, 5, 20.0, 10.0, 0.0)]);
        let c = cover(&polys, Resolution::Seven, 64).unwrap();
        let centre = h3o::LatLng::new(35.4, 35.9).unwrap().to_cell(Resolution::Seven);
        assert!(c.contains(&centre) && c.len() <= 3, "{c:?}");
    }

    #[test]
    fn a_vertex_that_is_no_position_ends_the_halving() {
        let p = |lat, lng| LatLng { lat, lng };
        let polys = polygons(&[vec![p(35.1, 36.1), p(f64::NAN, 36.2), p(35.2, 36.2)]]);
        // Returns (whatever it covers): no endless halving towards a point that is not one.
        let _ = cover(&polys, Resolution::Seven, 1000);
    }

    #[test]
    fn a_cover_past_the_cap_is_abandoned_and_the_estimate_is_near() {
        let polys = polygons(&[star(20.0, 20.0, 200, 20_000.0, 12_000.0, 0.0)]);
        let full = cover(&polys, Resolution::Six, 200_000).unwrap();
        assert!(cover(&polys, Resolution::Six, full.len() - 1).is_none());
        assert_eq!(cover(&polys, Resolution::Six, full.len()), Some(full.clone()));
        let e = estimate(&polys, Resolution::Six);
        assert!(
            e > full.len() as f64 / 3.0 && e < full.len() as f64 * 3.0,
            "{e} vs {}",
            full.len()
        );
    }
}
