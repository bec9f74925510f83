//! Footprints on the sphere: bounding caps, the gnomonic plane of a pair, the exact overlap
//! tests and the intersection polygon.

use super::{Bounds4D, Footprint, LatLng, Overlap, Volume4D};
use crate::geodesy::{add, cross, dot, lat_lon, norm, scale, unit_vector, Vec3, EARTH_RADIUS_M};
use geo::{Area, BooleanOps, Coord, LineString, Polygon};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Sides of the polygon that stands for a circle in a *reported* overlap region.
pub const CIRCLE_SIDES: usize = 64;

/// Two polygons overlap when their intersection's area exceeds this fraction of the smaller
/// one's area (see the [`strategic`](crate::strategic) module docs).
pub const AREA_EPS_REL: f64 = 1e-9;

/// Footprints whose bounding cap is wider than this (radians, ≈ 4,460 km) are outside the
/// supported domain: they overlap and contain nothing. `parse_volumes` rejects them long
/// before (the radius limit), and the bound keeps every point of an overlapping pair within
/// 80° of the pair's centre, where the gnomonic plane is well conditioned.
pub(crate) const MAX_CAP_RAD: f64 = 0.7;

pub(crate) type P2 = [f64; 2];

#[inline]
pub(crate) fn angle(a: Vec3, b: Vec3) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

#[inline]
pub(crate) fn normalize(a: Vec3) -> Option<Vec3> {
    let n = norm(a);
    if n > 1e-300 && n.is_finite() {
        Some(scale(a, 1.0 / n))
    } else {
        None
    }
}

fn finite3(a: Vec3) -> bool {
    a.iter().all(|x| x.is_finite())
}

pub(crate) fn to_latlng(p: Vec3) -> LatLng {
    let (lat, lng) = lat_lon(p);
    LatLng { lat, lng }
}

/// A footprint prepared for tests: unit vectors and a bounding cap (`c`, `rho` radians).
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub c: Vec3,
    pub rho: f64,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// Angular radius.
    Circle(f64),
    Polygon(Vec<Vec3>),
    /// Degenerate or outside the supported domain: overlaps and contains nothing.
    Empty,
}

impl Shape {
    pub(super) fn new(fp: &Footprint) -> Shape {
        let empty = Shape {
            c: [1.0, 0.0, 0.0],
            rho: 0.0,
            kind: Kind::Empty,
        };
        match fp {
            Footprint::Circle { center, radius_m } => {
                let c = unit_vector(center.lat, center.lng);
                let r = radius_m / EARTH_RADIUS_M;
                if !(r > 0.0 && r <= MAX_CAP_RAD && finite3(c)) {
                    return empty;
                }
                Shape {
                    c,
                    rho: r,
                    kind: Kind::Circle(r),
                }
            }
            Footprint::Polygon(vs) => {
                let v: Vec<Vec3> = vs.iter().map(|p| unit_vector(p.lat, p.lng)).collect();
                if v.len() < 3 || !v.iter().all(|p| finite3(*p)) {
                    return empty;
                }
                let sum = v.iter().fold([0.0; 3], |s, p| add(s, *p));
                let c = normalize(sum).unwrap_or(v[0]);
                let rho = v.iter().map(|p| angle(c, *p)).fold(0.0, f64::max);
                if !(rho <= MAX_CAP_RAD) {
                    return empty;
                }
                Shape {
                    c,
                    rho,
                    kind: Kind::Polygon(v),
                }
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Empty)
    }

    /// Strictly inside (a circle: distance below the radius).
    pub(super) fn contains(&self, p: Vec3) -> bool {
        if !finite3(p) {
            return false;
        }
        match &self.kind {
            Kind::Empty => false,
            Kind::Circle(r) => angle(self.c, p) < *r,
            Kind::Polygon(v) => {
                if !(angle(self.c, p) <= self.rho) {
                    return false;
                }
                let f = Frame::new(self.c);
                let ring: Vec<P2> = v.iter().map(|q| f.fwd(*q)).collect();
                point_in_ring(f.fwd(p), &ring)
            }
        }
    }

    /// The outline as unit vectors: the polygon's vertices, or a circle's circumscribed
    /// [`CIRCLE_SIDES`]-gon.
    fn outline(&self) -> Vec<Vec3> {
        match &self.kind {
            Kind::Empty => Vec::new(),
            Kind::Polygon(v) => v.clone(),
            Kind::Circle(r) => circumscribed(self.c, *r),
        }
    }
}

/// The plane tangent at `m`, with points projected gnomonically (from the Earth's centre), in
/// metres at the tangent point. Great circles become straight lines.
pub(crate) struct Frame {
    m: Vec3,
    e1: Vec3,
    e2: Vec3,
}

impl Frame {
    pub(super) fn new(m: Vec3) -> Frame {
        let a = if m[2].abs() < 0.9 {
            [0.0, 0.0, 1.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        let e1 = normalize(cross(a, m)).unwrap_or([0.0, 1.0, 0.0]);
        let e2 = cross(m, e1);
        Frame { m, e1, e2 }
    }

    /// Whether `p` is in the hemisphere the plane can show, with room to spare.
    pub(super) fn sees(&self, p: Vec3) -> bool {
        dot(p, self.m) > 0.05
    }

    #[inline]
    pub(super) fn fwd(&self, p: Vec3) -> P2 {
        let w = dot(p, self.m) / EARTH_RADIUS_M;
        [dot(p, self.e1) / w, dot(p, self.e2) / w]
    }

    pub(super) fn inv(&self, q: P2) -> Vec3 {
        let k = 1.0 / EARTH_RADIUS_M;
        let p = add(self.m, add(scale(self.e1, q[0] * k), scale(self.e2, q[1] * k)));
        normalize(p).unwrap_or(self.m)
    }
}

fn unit_circle() -> &'static [(f64, f64)] {
    static T: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    T.get_or_init(|| {
        (0..CIRCLE_SIDES)
            .map(|k| (k as f64 * 2.0 * PI / CIRCLE_SIDES as f64).sin_cos())
            .collect()
    })
}

/// The spherical polygon circumscribed about the circle of angular radius `r` around `c`: its
/// great-circle edges are tangent to the circle, so it contains the circle.
pub(crate) fn circumscribed(c: Vec3, r: f64) -> Vec<Vec3> {
    let rv = (r.tan() / (PI / CIRCLE_SIDES as f64).cos()).atan();
    let f = Frame::new(c);
    let (s, co) = rv.sin_cos();
    unit_circle()
        .iter()
        .map(|&(sn, cs)| {
            let d = add(scale(f.e1, cs), scale(f.e2, sn));
            normalize(add(scale(c, co), scale(d, s))).unwrap_or(c)
        })
        .collect()
}

/// Great-circle distance (radians) from `p` to the minor arc `a`–`b`.
pub(crate) fn arc_distance(p: Vec3, a: Vec3, b: Vec3) -> f64 {
    let n = cross(a, b);
    let Some(n) = normalize(n) else {
        return angle(p, a);
    };
    let s = dot(p, n);
    let q = add(p, scale(n, -s));
    if dot(cross(a, q), n) >= 0.0 && dot(cross(q, b), n) >= 0.0 {
        s.abs().atan2(norm(q))
    } else {
        angle(p, a).min(angle(p, b))
    }
}

/// Ray casting; points on the boundary may go either way.
pub(crate) fn point_in_ring(p: P2, ring: &[P2]) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

pub(crate) fn signed_area(ring: &[P2]) -> f64 {
    let n = ring.len();
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        s += a[0] * b[1] - a[1] * b[0];
    }
    0.5 * s
}

#[inline]
fn turn(o: P2, a: P2, b: P2) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Whether a counter-clockwise ring is convex (and simple): no right turn, and the edge
/// direction goes round once (each coordinate of it changes sign at most twice).
fn is_convex_ccw(ring: &[P2]) -> bool {
    let n = ring.len();
    let (mut sx, mut sy) = (0, 0);
    let (mut px, mut py) = (0.0f64, 0.0f64);
    for i in 0..n {
        let (a, b, c) = (ring[i], ring[(i + 1) % n], ring[(i + 2) % n]);
        if turn(a, b, c) < 0.0 {
            return false;
        }
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        if dx != 0.0 {
            if px != 0.0 && (dx > 0.0) != (px > 0.0) {
                sx += 1;
            }
            px = dx;
        }
        if dy != 0.0 {
            if py != 0.0 && (dy > 0.0) != (py > 0.0) {
                sy += 1;
            }
            py = dy;
        }
    }
    // The loop compares each edge with the previous non-zero one, not the last with the first:
    // a single turn gives at most 2 changes here as well.
    sx <= 2 && sy <= 2
}

/// Sutherland–Hodgman: `subject` clipped by the convex counter-clockwise `clip`.
fn clip_convex(subject: &[P2], clip: &[P2]) -> Vec<P2> {
    let mut out: Vec<P2> = subject.to_vec();
    let mut input: Vec<P2> = Vec::with_capacity(subject.len() + clip.len());
    let n = clip.len();
    for i in 0..n {
        if out.is_empty() {
            break;
        }
        let (a, b) = (clip[i], clip[(i + 1) % n]);
        std::mem::swap(&mut input, &mut out);
        out.clear();
        let m = input.len();
        let mut s = input[m - 1];
        let mut ds = turn(a, b, s);
        for &e in input.iter() {
            let de = turn(a, b, e);
            if de >= 0.0 {
                if ds < 0.0 {
                    out.push(lerp(s, e, ds / (ds - de)));
                }
                out.push(e);
            } else if ds >= 0.0 {
                out.push(lerp(s, e, ds / (ds - de)));
            }
            s = e;
            ds = de;
        }
    }
    out
}

#[inline]
fn lerp(a: P2, b: P2, t: f64) -> P2 {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}

fn to_geo(ring: &[P2]) -> Polygon<f64> {
    let mut cs: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    cs.push(cs[0]);
    Polygon::new(LineString(cs), vec![])
}

/// The intersection of two counter-clockwise simple rings, as exterior rings, and its area.
fn intersect(a: &[P2], b: &[P2]) -> (Vec<Vec<P2>>, f64) {
    if is_convex_ccw(b) && is_convex_ccw(a) {
        let r = clip_convex(a, b);
        if r.len() < 3 {
            return (Vec::new(), 0.0);
        }
        let area = signed_area(&r).abs();
        return (vec![r], area);
    }
    let mp = to_geo(a).intersection(&to_geo(b));
    let area = mp.unsigned_area();
    let rings =
        mp.0.iter()
            .map(|p| {
                let mut r: Vec<P2> = p.exterior().0.iter().map(|c| [c.x, c.y]).collect();
                r.pop();
                r
            })
            .filter(|r| r.len() >= 3)
            .collect();
    (rings, area)
}

/// Projects an outline and orients it counter-clockwise.
fn project_ccw(f: &Frame, v: &[Vec3]) -> Vec<P2> {
    let mut r: Vec<P2> = v.iter().map(|p| f.fwd(*p)).collect();
    if signed_area(&r) < 0.0 {
        r.reverse();
    }
    r
}

/// The footprint overlap of two prepared shapes: `None` when the footprints share no area.
pub(crate) fn footprint_overlap(a: &Shape, b: &Shape) -> Option<Vec<Vec<LatLng>>> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let d = angle(a.c, b.c);
    if !(d < a.rho + b.rho) {
        return None;
    }
    let f = Frame::new(normalize(add(a.c, b.c))?);
    let (oa, ob) = (a.outline(), b.outline());
    if !oa.iter().chain(ob.iter()).all(|p| f.sees(*p)) {
        return None;
    }
    let (pa, pb) = (project_ccw(&f, &oa), project_ccw(&f, &ob));
    let (rings, area) = intersect(&pa, &pb);
    let decided = match (&a.kind, &b.kind) {
        // The caps are the circles: `d < r1 + r2` above is the exact test.
        (Kind::Circle(_), Kind::Circle(_)) => true,
        (Kind::Circle(r), Kind::Polygon(v)) => circle_meets_polygon(a.c, *r, v, &pb, &f),
        (Kind::Polygon(v), Kind::Circle(r)) => circle_meets_polygon(b.c, *r, v, &pa, &f),
        _ => {
            let min_area = signed_area(&pa).abs().min(signed_area(&pb).abs());
            area > AREA_EPS_REL * min_area
        }
    };
    if !decided {
        return None;
    }
    Some(
        rings
            .iter()
            .map(|r| r.iter().map(|q| to_latlng(f.inv(*q))).collect())
            .collect(),
    )
}

/// Exact: the centre is inside the polygon, or nearer than `r` to its outline.
fn circle_meets_polygon(c: Vec3, r: f64, v: &[Vec3], projected: &[P2], f: &Frame) -> bool {
    if point_in_ring(f.fwd(c), projected) {
        return true;
    }
    let n = v.len();
    (0..n).any(|i| arc_distance(c, v[i], v[(i + 1) % n]) < r)
}

/// The exact 4D overlap of two volumes, or `None` (see the [`strategic`](crate::strategic)
/// module docs for the rules).
pub fn overlap(a: &Volume4D, b: &Volume4D) -> Option<Overlap> {
    let time_start = a.time_start.max(b.time_start);
    let time_end = a.time_end.min(b.time_end);
    if !(time_start < time_end) {
        return None;
    }
    let alt_lower_m = a.alt_lower_m.max(b.alt_lower_m);
    let alt_upper_m = a.alt_upper_m.min(b.alt_upper_m);
    if !(alt_lower_m < alt_upper_m) {
        return None;
    }
    let footprint = footprint_overlap(&Shape::new(&a.footprint), &Shape::new(&b.footprint))?;
    Some(Overlap {
        time_start,
        time_end,
        alt_lower_m,
        alt_upper_m,
        footprint,
        approximate: false,
    })
}

/// The area of a footprint, m² (a circle's spherical cap; a polygon's spherical area; 0 for
/// one outside the supported domain).
pub fn footprint_area_m2(fp: &Footprint) -> f64 {
    let s = Shape::new(fp);
    match &s.kind {
        Kind::Circle(r) => 2.0 * PI * EARTH_RADIUS_M * EARTH_RADIUS_M * (1.0 - r.cos()),
        Kind::Polygon(v) => spherical_area_m2(s.c, v),
        Kind::Empty => 0.0,
    }
}

/// The vertices of a footprint's outline (a circle counts as its [`CIRCLE_SIDES`]-gon).
pub fn outline_vertices(fp: &Footprint) -> u64 {
    match fp {
        Footprint::Polygon(v) => v.len() as u64,
        Footprint::Circle { .. } => CIRCLE_SIDES as u64,
    }
}

/// What an exact [`overlap`] of `a` and `b` costs in a work budget: the product of their
/// outlines' vertex counts (the polygon clipping's pairs of edges).
pub fn overlap_work(a: &Volume4D, b: &Volume4D) -> u64 {
    outline_vertices(&a.footprint).saturating_mul(outline_vertices(&b.footprint))
}

/// A conservative overlap, for when the exact one is past the work budget: the common time
/// window and altitude band exactly, and as footprint `a`'s own outline, which contains the
/// true intersection (so a conflict is never missed, and nothing of `b`'s shape is in it);
/// marked `approximate`. `None` when the time windows or altitude bands do not meet.
pub fn overlap_within_first(a: &Volume4D, b: &Volume4D) -> Option<Overlap> {
    let time_start = a.time_start.max(b.time_start);
    let time_end = a.time_end.min(b.time_end);
    let alt_lower_m = a.alt_lower_m.max(b.alt_lower_m);
    let alt_upper_m = a.alt_upper_m.min(b.alt_upper_m);
    if !(time_start < time_end && alt_lower_m < alt_upper_m) {
        return None;
    }
    let outline: Vec<LatLng> = Shape::new(&a.footprint)
        .outline()
        .into_iter()
        .map(to_latlng)
        .collect();
    if outline.len() < 3 {
        return None;
    }
    Some(Overlap {
        time_start,
        time_end,
        alt_lower_m,
        alt_upper_m,
        footprint: vec![outline],
        approximate: true,
    })
}

pub(crate) fn bounds(v: &Volume4D) -> Bounds4D {
    let s = Shape::new(&v.footprint);
    let c = to_latlng(s.c);
    let rho_deg = s.rho.to_degrees();
    let (lat_min, lat_max) = (c.lat - rho_deg, c.lat + rho_deg);
    let (lng_min, lng_max) = if lat_max >= 90.0 || lat_min <= -90.0 {
        (-180.0, 180.0)
    } else {
        let dl = (s.rho.sin() / c.lat.to_radians().cos())
            .clamp(-1.0, 1.0)
            .asin()
            .to_degrees();
        (c.lng - dl, c.lng + dl)
    };
    Bounds4D {
        center: c,
        radius_m: s.rho * EARTH_RADIUS_M,
        lat_min: lat_min.max(-90.0),
        lat_max: lat_max.min(90.0),
        lng_min,
        lng_max,
        alt_lower_m: v.alt_lower_m,
        alt_upper_m: v.alt_upper_m,
        time_start: v.time_start,
        time_end: v.time_end,
    }
}

/// Spherical area (m²) of a simple polygon inside a cap around `c` smaller than a hemisphere:
/// the signed fan of triangles from `c`.
pub(crate) fn spherical_area_m2(c: Vec3, v: &[Vec3]) -> f64 {
    let n = v.len();
    let mut e = 0.0;
    for i in 0..n {
        let (a, b) = (v[i], v[(i + 1) % n]);
        let num = dot(c, cross(a, b));
        let den = 1.0 + dot(c, a) + dot(a, b) + dot(b, c);
        e += 2.0 * num.atan2(den);
    }
    e.abs() * EARTH_RADIUS_M * EARTH_RADIUS_M
}

impl Volume4D {
    /// Whether the point is inside the volume: `time_start ≤ t ≤ time_end`,
    /// `alt_lower_m ≤ alt_m ≤ alt_upper_m`, and strictly inside the footprint (a circle: the
    /// great-circle distance from the centre is below the radius).
    pub fn contains(&self, lat: f64, lng: f64, alt_m: f64, t: f64) -> bool {
        self.time_start <= t
            && t <= self.time_end
            && self.alt_lower_m <= alt_m
            && alt_m <= self.alt_upper_m
            && Shape::new(&self.footprint).contains(unit_vector(lat, lng))
    }

    /// The volume's bounds (see [`Bounds4D`]).
    pub fn bbox(&self) -> Bounds4D {
        bounds(self)
    }
}
