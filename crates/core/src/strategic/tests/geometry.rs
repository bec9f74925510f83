use super::*;

/// Vertices of an axis-aligned rectangle in the plane tangent at `c` (metres).
fn rect(c: (f64, f64), x0: f64, y0: f64, x1: f64, y1: f64) -> Footprint {
    let f = Frame::new(unit_vector(c.0, c.1));
    let pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    Footprint::Polygon(pts.iter().map(|p| sphere::to_latlng(f.inv(*p))).collect())
}

fn vol(footprint: Footprint) -> Volume4D {
    Volume4D {
        footprint,
        alt_lower_m: 0.0,
        alt_upper_m: 1000.0,
        time_start: 0.0,
        time_end: 3600.0,
    }
}

fn ring_area_m2(ring: &[LatLng]) -> f64 {
    let v: Vec<_> = ring.iter().map(|p| unit_vector(p.lat, p.lng)).collect();
    let sum = v.iter().fold([0.0; 3], |s, p| crate::geodesy::add(s, *p));
    spherical_area_m2(sphere::normalize(sum).unwrap(), &v)
}

#[test]
fn antimeridian_polygon_is_accepted_and_overlaps_across() {
    let pts = [(10.0, 179.5), (10.0, -179.5), (11.0, -179.5), (11.0, 179.5)];
    let vs = parse(json!([polygon(&pts)])).unwrap();
    // About 109 × 111 km, not a band round the globe.
    let Footprint::Polygon(ring) = &vs[0].footprint else {
        panic!()
    };
    let a = ring_area_m2(ring) / 1e6;
    assert!((a - 12_100.0).abs() < 200.0, "area {a} km²");
    // A small square on the other side of the antimeridian overlaps it.
    let other = parse(json!([polygon(&[
        (10.4, -179.9),
        (10.4, -179.8),
        (10.5, -179.8),
        (10.5, -179.9)
    ])]))
    .unwrap();
    let o = overlap(&vs[0], &other[0]).expect("overlap across the antimeridian");
    let ratio = ring_area_m2(&o.footprint[0])
        / ring_area_m2(match &other[0].footprint {
            Footprint::Polygon(r) => r,
            _ => unreachable!(),
        });
    assert!((ratio - 1.0).abs() < 1e-6, "{ratio}");
    // And one on the same side far from it does not.
    let far = vol(Footprint::Circle {
        center: LatLng::new(10.5, 170.0),
        radius_m: 5000.0,
    });
    assert!(overlap(&vs[0], &far).is_none());
    assert!(vs[0].contains(10.5, 179.9, 100.0, vs[0].time_start + 1.0));
    assert!(vs[0].contains(10.5, -179.9, 100.0, vs[0].time_start + 1.0));
    assert!(!vs[0].contains(10.5, 0.0, 100.0, vs[0].time_start + 1.0));
    // GeoJSON cuts the overlap of the whole polygon with itself at the antimeridian.
    let o = overlap(&vs[0], &vs[0]).unwrap();
    let g = o.to_geojson_geometry();
    assert_eq!(g["type"], "MultiPolygon");
    let polys = g["coordinates"].as_array().unwrap();
    assert_eq!(polys.len(), 2, "{g}");
    for p in polys {
        for pos in p[0].as_array().unwrap() {
            assert!(pos[0].as_f64().unwrap().abs() <= 180.0 + 1e-9);
        }
    }
}

#[test]
fn polygon_round_the_pole() {
    let pts: Vec<(f64, f64)> = (0..6).map(|i| (88.0, -180.0 + 60.0 * i as f64)).collect();
    let vs = parse(json!([polygon(&pts)])).unwrap();
    assert!(vs[0].contains(90.0, 0.0, 10.0, vs[0].time_start));
    assert!(vs[0].contains(89.0, 123.0, 10.0, vs[0].time_start));
    assert!(!vs[0].contains(87.0, 123.0, 10.0, vs[0].time_start));
    let pole = vol(Footprint::Circle {
        center: LatLng::new(90.0, 0.0),
        radius_m: 1000.0,
    });
    let mut v = vs[0].clone();
    v.time_start = 0.0;
    v.time_end = 10.0;
    assert!(overlap(&v, &pole).is_some());
    let g = overlap(&v, &v).unwrap().to_geojson_geometry();
    assert!(!g["coordinates"].as_array().unwrap().is_empty(), "{g}");
}

#[test]
fn circles_are_decided_exactly() {
    let r = 5000.0;
    let c = LatLng::new(35.0, 35.0);
    for (bearing, d, expect) in [
        (0.0, 2.0 * r + 1.0, false),
        (0.0, 2.0 * r - 1.0, true),
        (77.0, 2.0 * r + 1.0, false),
        (77.0, 2.0 * r - 1.0, true),
    ] {
        let a = vol(Footprint::Circle {
            center: c,
            radius_m: r,
        });
        let b = vol(Footprint::Circle {
            center: destination(c, bearing, d),
            radius_m: r,
        });
        assert_eq!(overlap(&a, &b).is_some(), expect, "d = {d}");
        // A 16-gon gets both wrong: inscribed, it misses the overlap by ~96 m; circumscribed,
        // it finds one where there is none.
        // Flat sides facing each other (rot = 11.25°) or corners facing (rot = 0°).
        let gon = |v: &Volume4D, k: f64, rot: f64| {
            let Footprint::Circle { center, radius_m } = v.footprint else {
                unreachable!()
            };
            vol(Footprint::Polygon(
                (0..16)
                    .map(|i| destination(center, bearing + rot + 22.5 * i as f64, radius_m * k))
                    .collect(),
            ))
        };
        let sec = 1.0 / (std::f64::consts::PI / 16.0).cos();
        let inscribed = overlap(&gon(&a, 1.0, 11.25), &gon(&b, 1.0, 11.25)).is_some();
        let circumscribed = overlap(&gon(&a, sec, 0.0), &gon(&b, sec, 0.0)).is_some();
        if expect {
            assert!(!inscribed);
        } else {
            assert!(circumscribed);
        }
    }
}

#[test]
fn circle_and_polygon_are_decided_exactly() {
    // A square's edge on the meridian 35.0 between 35.0 and 35.1 N; a circle east of it.
    let sq = vol(Footprint::Polygon(
        SQUARE
            .iter()
            .map(|&(lat, lng)| LatLng::new(lat, lng - 0.1))
            .collect(),
    ));
    let r = 2000.0;
    let edge = LatLng::new(35.05, 35.0);
    for (d, expect) in [(r + 1.0, false), (r - 1.0, true)] {
        // Due east along the great circle perpendicular to the meridian.
        let c = vol(Footprint::Circle {
            center: destination(edge, 90.0, d),
            radius_m: r,
        });
        assert_eq!(overlap(&sq, &c).is_some(), expect, "d = {d}");
        assert_eq!(overlap(&c, &sq).is_some(), expect, "d = {d}");
    }
    // Near a corner: nearest point is the vertex.
    let corner = LatLng::new(35.1, 35.0);
    for (d, expect) in [(r + 1.0, false), (r - 1.0, true)] {
        let c = vol(Footprint::Circle {
            center: destination(corner, 45.0, d),
            radius_m: r,
        });
        assert_eq!(overlap(&sq, &c).is_some(), expect, "corner d = {d}");
    }
    // A circle wholly inside: the centre test.
    let inside = vol(Footprint::Circle {
        center: LatLng::new(35.05, 34.95),
        radius_m: 100.0,
    });
    let o = overlap(&sq, &inside).unwrap();
    let a = ring_area_m2(&o.footprint[0]);
    let want = std::f64::consts::PI * 100.0 * 100.0;
    assert!(a >= want && a < want * 1.003, "{a} vs {want}");
}

#[test]
fn offset_squares_overlap_area() {
    let c = (35.0, 35.0);
    let a = vol(rect(c, 0.0, 0.0, 10_000.0, 10_000.0));
    let b = vol(rect(c, 5_000.0, 3_000.0, 15_000.0, 13_000.0));
    let o = overlap(&a, &b).unwrap();
    assert_eq!(o.footprint.len(), 1);
    let area = ring_area_m2(&o.footprint[0]);
    assert!((area / 35e6 - 1.0).abs() < 0.005, "{area}");
    // Concave: an L-shape against a square (BooleanOps path), two parts.
    let f = Frame::new(unit_vector(c.0, c.1));
    let u = |pts: &[[f64; 2]]| {
        vol(Footprint::Polygon(
            pts.iter().map(|p| sphere::to_latlng(f.inv(*p))).collect(),
        ))
    };
    let cup = u(&[
        [0.0, 0.0],
        [3000.0, 0.0],
        [3000.0, 3000.0],
        [2000.0, 3000.0],
        [2000.0, 1000.0],
        [1000.0, 1000.0],
        [1000.0, 3000.0],
        [0.0, 3000.0],
    ]);
    let bar = u(&[
        [-500.0, 2000.0],
        [3500.0, 2000.0],
        [3500.0, 2500.0],
        [-500.0, 2500.0],
    ]);
    let o = overlap(&cup, &bar).unwrap();
    assert_eq!(o.footprint.len(), 2, "{o:?}");
    let total: f64 = o.footprint.iter().map(|r| ring_area_m2(r)).sum();
    assert!((total / 1e6 - 1.0).abs() < 0.005, "{total}");
    assert_eq!(
        o.to_geojson_geometry()["coordinates"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn touching_is_not_overlapping() {
    let c = (35.0, 35.0);
    let a = vol(rect(c, 0.0, 0.0, 1000.0, 1000.0));
    // Shared edge; shared vertex.
    assert!(overlap(&a, &vol(rect(c, 1000.0, 0.0, 2000.0, 1000.0))).is_none());
    assert!(overlap(&a, &vol(rect(c, 1000.0, 1000.0, 2000.0, 2000.0))).is_none());
    // Shared part of an edge, concave partner.
    let f = Frame::new(unit_vector(c.0, c.1));
    let l = vol(Footprint::Polygon(
        [
            [1000.0, 200.0],
            [2000.0, 200.0],
            [2000.0, 2000.0],
            [1500.0, 2000.0],
            [1500.0, 800.0],
            [1000.0, 800.0],
        ]
        .iter()
        .map(|p| sphere::to_latlng(f.inv(*p)))
        .collect(),
    ));
    assert!(overlap(&a, &l).is_none());
    assert!(overlap(&a, &a).is_some());
    // Time windows and altitude bands that touch.
    let mut b = a.clone();
    b.time_start = a.time_end;
    b.time_end = a.time_end + 60.0;
    assert!(overlap(&a, &b).is_none());
    b.time_start -= 1.0;
    assert!(overlap(&a, &b).is_some());
    let mut b = a.clone();
    b.alt_lower_m = a.alt_upper_m;
    b.alt_upper_m = a.alt_upper_m + 100.0;
    assert!(overlap(&a, &b).is_none());
    b.alt_lower_m -= 0.5;
    let o = overlap(&a, &b).unwrap();
    assert_eq!((o.alt_lower_m, o.alt_upper_m), (999.5, 1000.0));
    // Tangent circles.
    let p = LatLng::new(35.0, 35.0);
    let q = destination(p, 30.0, 2000.0);
    let c1 = vol(Footprint::Circle {
        center: p,
        radius_m: 1000.0,
    });
    let c2 = vol(Footprint::Circle {
        center: q,
        radius_m: 1000.0,
    });
    let _ = overlap(&c1, &c2); // exactly tangent: either answer is within rounding
    let c3 = vol(Footprint::Circle {
        center: q,
        radius_m: 999.999,
    });
    assert!(overlap(&c1, &c3).is_none());
}

#[test]
fn containment() {
    let v = vol(Footprint::Circle {
        center: LatLng::new(-85.0, 10.0),
        radius_m: 1000.0,
    });
    let inside = destination(LatLng::new(-85.0, 10.0), 200.0, 999.0);
    let outside = destination(LatLng::new(-85.0, 10.0), 200.0, 1001.0);
    assert!(v.contains(inside.lat, inside.lng, 0.0, 0.0));
    assert!(v.contains(inside.lat, inside.lng, 1000.0, 3600.0));
    assert!(!v.contains(outside.lat, outside.lng, 500.0, 10.0));
    assert!(!v.contains(inside.lat, inside.lng, 1000.1, 10.0));
    assert!(!v.contains(inside.lat, inside.lng, 500.0, 3600.1));
    let b = v.bbox();
    assert!((b.radius_m - 1000.0).abs() < 1e-6);
    assert!(b.lat_min < inside.lat && inside.lat < b.lat_max);
}

#[test]
fn index_insert_replace_remove() {
    let mut ix = StrategicIndex::new();
    let a = vol(Footprint::Circle {
        center: LatLng::new(35.0, 35.0),
        radius_m: 1000.0,
    });
    let far = vol(Footprint::Circle {
        center: LatLng::new(-35.0, 35.0),
        radius_m: 1000.0,
    });
    ix.insert(7, vec![far.clone(), a.clone()]);
    ix.insert(9, vec![far.clone()]);
    assert_eq!(ix.len(), 2);
    let c = ix.conflicts(std::slice::from_ref(&a));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, 7);
    assert_eq!((c[0].1[0].0, c[0].1[0].1), (0, 1));
    assert_eq!(ix.containing(35.0, 35.0, 10.0, 10.0), vec![7]);
    ix.insert(7, vec![far.clone()]);
    assert!(ix.conflicts(std::slice::from_ref(&a)).is_empty());
    assert_eq!(ix.containing(-35.0, 35.0, 10.0, 10.0), vec![7, 9]);
    assert!(ix.remove(7));
    assert!(!ix.remove(7));
    assert_eq!(ix.len(), 1);
    assert!(ix.remove(9));
    assert_eq!(ix.stats().entries, 0);
    assert_eq!(ix.stats().cells, 0);
}

#[test]
fn h3_circumradius_bound() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for level in 0..16u8 {
        let res = h3o::Resolution::try_from(level).unwrap();
        let mut cells: Vec<h3o::CellIndex> = res.pentagons().collect();
        for _ in 0..2000 {
            let lat = rng.gen_range(-1.0f64..1.0).asin().to_degrees();
            let lng = rng.gen_range(-180.0..180.0);
            cells.push(h3o::LatLng::new(lat, lng).unwrap().to_cell(res));
        }
        for c in cells {
            let ll = h3o::LatLng::from(c);
            let ctr = unit_vector(ll.lat(), ll.lng());
            for v in c.boundary().iter() {
                let d = sphere::angle(ctr, unit_vector(v.lat(), v.lng()));
                assert!(d <= rmax(level as usize) / 1.015, "res {level}: {d}");
            }
        }
    }
}

#[test]
fn earth_radius_is_the_core_one() {
    // The module's metres are the geodesy module's sphere.
    let a = vol(Footprint::Circle {
        center: LatLng::new(0.0, 0.0),
        radius_m: 1000.0,
    });
    let d = 2000.0 - 0.001;
    let lng = (d / EARTH_RADIUS_M).to_degrees();
    let b = vol(Footprint::Circle {
        center: LatLng::new(0.0, lng),
        radius_m: 1000.0,
    });
    assert!(overlap(&a, &b).is_some());
}

/// A star of `n` vertices, radii alternating 20 and 12 km, turned by `turn` radians.
fn spiky_star(n: usize, turn: f64) -> Volume4D {
    let (lat, lng) = (20.0f64, 20.0f64);
    let v = (0..n)
        .map(|i| {
            let a = turn + i as f64 * std::f64::consts::TAU / n as f64;
            let r = if i % 2 == 0 { 20_000.0 } else { 12_000.0 };
            LatLng::new(
                lat + r * a.cos() / 111_195.0,
                lng + r * a.sin() / (111_195.0 * lat.to_radians().cos()),
            )
        })
        .collect();
    vol(Footprint::Polygon(v))
}

#[test]
fn past_the_work_budget_overlaps_are_conservative_and_none_is_missed() {
    let mut ix = StrategicIndex::new();
    for k in 0..5u64 {
        ix.insert(k, vec![spiky_star(1000, 0.1 * k as f64)]);
    }
    let q = [spiky_star(1000, 0.37)];
    let exact = ix.conflicts(&q);
    assert_eq!(exact.len(), 5);
    // Room for two exact overlaps of 1000 x 1000 vertex pairs.
    let mut budget = 2_500_000u64;
    let got = ix.conflicts_within(&q, &mut budget, |_| false);
    assert_eq!(
        got.iter().map(|c| c.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4],
        "none missed"
    );
    let approx: Vec<bool> = got.iter().map(|c| c.1[0].2.approximate).collect();
    assert_eq!(approx.iter().filter(|a| !**a).count(), 2, "{approx:?}");
    assert_eq!(budget, 0);
    for (g, e) in got.iter().zip(&exact) {
        let (go, eo) = (&g.1[0].2, &e.1[0].2);
        if go.approximate {
            // Exact in time and altitude; the query's own outline, which contains the overlap.
            assert_eq!((go.time_start, go.alt_upper_m), (eo.time_start, eo.alt_upper_m));
            assert!(ring_area_m2(&go.footprint[0]) >= ring_area_m2(&eo.footprint[0]));
            assert_eq!(go.footprint[0].len(), 1000);
        } else {
            assert_eq!(go, eo);
        }
    }
    // Skipped keys cost nothing and are not reported.
    let mut budget = 2_500_000u64;
    let got = ix.conflicts_within(&q, &mut budget, |k| k < 3);
    assert_eq!(got.iter().map(|c| c.0).collect::<Vec<_>>(), [3, 4]);
    assert!(got.iter().all(|c| !c.1[0].2.approximate));
    assert_eq!(budget, 500_000);
    assert_eq!(overlap_work(&q[0], &q[0]), 1_000_000);
    assert_eq!(
        outline_vertices(
            &vol(Footprint::Circle {
                center: LatLng::new(0.0, 0.0),
                radius_m: 5.0
            })
            .footprint
        ),
        CIRCLE_SIDES as u64
    );
}
