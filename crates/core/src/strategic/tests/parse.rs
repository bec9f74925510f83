use super::*;

#[test]
fn valid_polygon_and_circle_parse() {
    let vs = parse(json!([polygon(&SQUARE), circle(35.0, 35.0, 5000.0)])).unwrap();
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0].alt_upper_m, 3000.0);
    assert_eq!(vs[0].time_end - vs[0].time_start, 7200.0);
    assert!(matches!(vs[1].footprint, Footprint::Circle { radius_m, .. } if radius_m == 5000.0));
}

#[test]
fn error_names_latitude_out_of_range() {
    let mut pts = SQUARE.to_vec();
    pts[1].0 = 90.5;
    assert_eq!(
        field_of(polygon(&pts)),
        "extents[0].volume.outline_polygon.vertices[1].lat"
    );
    let c = circle(-91.0, 0.0, 10.0);
    assert_eq!(field_of(c), "extents[0].volume.outline_circle.center.lat");
}

#[test]
fn error_names_longitude_out_of_range() {
    let mut pts = SQUARE.to_vec();
    pts[3].1 = -180.01;
    assert_eq!(
        field_of(polygon(&pts)),
        "extents[0].volume.outline_polygon.vertices[3].lng"
    );
}

#[test]
fn error_names_non_finite_number() {
    // JSON has no NaN or infinity: serde_json turns them into null, and refuses 1e999 when
    // parsing text. Both reach the validator as a missing number.
    let v = set(
        polygon(&SQUARE),
        &["volume", "altitude_lower", "value"],
        json!(f64::NAN),
    );
    assert_eq!(field_of(v), "extents[0].volume.altitude_lower.value");
    assert!(serde_json::from_str::<Value>("{\"lat\": 1e999}").is_err());
}

#[test]
fn error_names_wrong_types() {
    let v = set(
        polygon(&SQUARE),
        &["volume", "altitude_upper", "value"],
        json!("3000"),
    );
    let e = parse(json!([v])).unwrap_err();
    assert_eq!(e.field, "extents[0].volume.altitude_upper.value");
    assert!(e.message.starts_with("wrong type"), "{e}");
    let v = set(
        polygon(&SQUARE),
        &["volume", "outline_polygon", "vertices"],
        json!({}),
    );
    assert_eq!(field_of(v), "extents[0].volume.outline_polygon.vertices");
    let v = set(polygon(&SQUARE), &["time_start"], json!(1442556000));
    assert_eq!(field_of(v), "extents[0].time_start");
    assert_eq!(parse(json!({"a": 1})).unwrap_err().field, "extents");
    assert_eq!(parse(json!([1])).unwrap_err().field, "extents[0]");
}

#[test]
fn error_names_missing_fields() {
    assert_eq!(
        field_of(remove(polygon(&SQUARE), &["time_end"])),
        "extents[0].time_end"
    );
    assert_eq!(
        field_of(remove(polygon(&SQUARE), &["volume", "altitude_upper"])),
        "extents[0].volume.altitude_upper"
    );
    assert_eq!(
        field_of(remove(polygon(&SQUARE), &["time_start", "value"])),
        "extents[0].time_start.value"
    );
    assert_eq!(
        field_of(remove(
            circle(1.0, 1.0, 5.0),
            &["volume", "outline_circle", "radius"]
        )),
        "extents[0].volume.outline_circle.radius"
    );
    assert_eq!(
        field_of(remove(polygon(&SQUARE), &["volume"])),
        "extents[0].volume"
    );
}

#[test]
fn error_names_too_few_distinct_vertices() {
    let pts = [(35.0, 35.0), (35.0, 35.1), (35.0, 35.1), (35.0, 35.0)];
    let e = parse(json!([polygon(&pts)])).unwrap_err();
    assert_eq!(e.field, "extents[0].volume.outline_polygon.vertices");
    assert!(e.message.starts_with("too few vertices"), "{e}");
}

#[test]
fn error_names_self_intersecting_bow_tie() {
    let pts = [(35.0, 35.0), (35.1, 35.1), (35.1, 35.0), (35.0, 35.1)];
    let e = parse(json!([polygon(&pts)])).unwrap_err();
    assert_eq!(e.field, "extents[0].volume.outline_polygon.vertices");
    assert!(e.message.starts_with("self-intersecting"), "{e}");
}

#[test]
fn error_names_zero_area_polygon() {
    // Three vertices on one meridian.
    let pts = [(35.0, 35.0), (35.1, 35.0), (35.2, 35.0)];
    let e = parse(json!([polygon(&pts)])).unwrap_err();
    assert_eq!(e.field, "extents[0].volume.outline_polygon.vertices");
    assert!(e.message.starts_with("zero area"), "{e}");
}

#[test]
fn error_names_both_or_neither_outline() {
    let both = set(
        polygon(&SQUARE),
        &["volume", "outline_circle"],
        circle(1.0, 1.0, 5.0)["volume"]["outline_circle"].clone(),
    );
    let e = parse(json!([both])).unwrap_err();
    assert_eq!(e.field, "extents[0].volume");
    assert!(e.message.contains("both"), "{e}");
    let neither = remove(polygon(&SQUARE), &["volume", "outline_polygon"]);
    assert_eq!(field_of(neither), "extents[0].volume");
}

#[test]
fn error_names_non_positive_radius() {
    assert_eq!(
        field_of(circle(1.0, 1.0, 0.0)),
        "extents[0].volume.outline_circle.radius.value"
    );
    assert_eq!(
        field_of(circle(1.0, 1.0, -5.0)),
        "extents[0].volume.outline_circle.radius.value"
    );
}

#[test]
fn error_names_unknown_units_and_references() {
    let v = set(
        polygon(&SQUARE),
        &["volume", "altitude_lower", "units"],
        json!("KM"),
    );
    assert_eq!(field_of(v), "extents[0].volume.altitude_lower.units");
    let v = set(
        polygon(&SQUARE),
        &["volume", "altitude_upper", "reference"],
        json!("SFC"),
    );
    assert_eq!(field_of(v), "extents[0].volume.altitude_upper.reference");
    let v = set(
        circle(1.0, 1.0, 5.0),
        &["volume", "outline_circle", "radius", "units"],
        json!("FT"),
    );
    assert_eq!(field_of(v), "extents[0].volume.outline_circle.radius.units");
    let v = set(polygon(&SQUARE), &["time_end", "format"], json!("unix"));
    assert_eq!(field_of(v), "extents[0].time_end.format");
}

#[test]
fn feet_are_converted() {
    let v = set(
        polygon(&SQUARE),
        &["volume", "altitude_upper"],
        json!({"value": 1000, "reference": "W84", "units": "FT"}),
    );
    let vs = parse(json!([v])).unwrap();
    assert!((vs[0].alt_upper_m - 304.8).abs() < 1e-9);
}

#[test]
fn error_names_lower_above_upper() {
    let v = set(polygon(&SQUARE), &["volume", "altitude_lower"], alt(3500.0));
    assert_eq!(field_of(v), "extents[0].volume.altitude_lower");
    let v = set(polygon(&SQUARE), &["volume", "altitude_lower"], alt(3000.0));
    assert_eq!(field_of(v), "extents[0].volume.altitude_lower");
}

#[test]
fn error_names_end_not_after_start() {
    let v = set(polygon(&SQUARE), &["time_end"], time(T0));
    assert_eq!(field_of(v), "extents[0].time_end");
    let v = set(polygon(&SQUARE), &["time_end"], time("2015-09-18T05:00:00Z"));
    assert_eq!(field_of(v), "extents[0].time_end");
    let v = set(polygon(&SQUARE), &["time_start"], time("yesterday"));
    assert_eq!(field_of(v), "extents[0].time_start.value");
}

#[test]
fn error_names_limits() {
    let small = VolumeLimits {
        max_vertices: 3,
        max_volumes: 2,
        max_area_km2: 10.0,
        max_duration_s: 3600.0,
        max_radius_m: 3000.0,
        ..VolumeLimits::default()
    };
    let p = |v: Value| parse_volumes(&json!([v]), "extents", &small).unwrap_err();
    assert_eq!(
        p(polygon(&SQUARE)).field,
        "extents[0].volume.outline_polygon.vertices"
    );
    let tri = [(35.0, 35.0), (35.0, 35.02), (35.02, 35.0)];
    // 2.2 × 1.8 km triangle: under the limits but for the duration (2 h).
    let e = p(polygon(&tri));
    assert_eq!(e.field, "extents[0].time_end");
    assert!(e.message.starts_with("too long"), "{e}");
    let short = |v: Value| set(v, &["time_end"], time("2015-09-18T06:30:00Z"));
    assert!(parse_volumes(&json!([short(polygon(&tri))]), "x", &small).is_ok());
    // Area above 10 km² (≈ 11 × 11 km), and a vertex 7.8 km from the centre.
    let big = [(35.0, 35.0), (35.0, 35.12), (35.1, 35.0)];
    let e = p(short(polygon(&big)));
    assert_eq!(e.field, "extents[0].volume.outline_polygon");
    let wide = VolumeLimits {
        max_radius_m: 100_000.0,
        ..small.clone()
    };
    let e = parse_volumes(&json!([short(polygon(&big))]), "extents", &wide).unwrap_err();
    assert_eq!(e.field, "extents[0].volume.outline_polygon");
    assert!(e.message.contains("area"), "{e}");
    // Vertices in all: two triangles fit 6, not 5.
    let five = VolumeLimits {
        max_total_vertices: 5,
        ..wide.clone()
    };
    let e = parse_volumes(
        &json!([short(polygon(&tri)), short(polygon(&tri))]),
        "extents",
        &five,
    )
    .unwrap_err();
    assert_eq!(e.field, "extents");
    assert!(e.message.starts_with("too many vertices in all"), "{e}");
    let six = VolumeLimits {
        max_total_vertices: 6,
        ..wide.clone()
    };
    assert!(parse_volumes(
        &json!([short(polygon(&tri)), short(polygon(&tri))]),
        "extents",
        &six
    )
    .is_ok());
    // Radius above 3 km; area above 10 km² at r = 2 km (12.6 km²).
    assert_eq!(
        p(short(circle(1.0, 1.0, 3001.0))).field,
        "extents[0].volume.outline_circle.radius.value"
    );
    let e = p(short(circle(1.0, 1.0, 2000.0)));
    assert_eq!(e.field, "extents[0].volume.outline_circle.radius.value");
    assert!(e.message.contains("area"), "{e}");
    // Three volumes where two are allowed; an empty list.
    let c = short(circle(1.0, 1.0, 100.0));
    let e = parse_volumes(&json!([c, c, c]), "extents", &small).unwrap_err();
    assert_eq!(e.field, "extents");
    assert_eq!(parse(json!([])).unwrap_err().field, "extents");
    // Each circle of 2 km (12.6 km²) is allowed on its own; three are 37.7 km² in all.
    let total = VolumeLimits {
        max_area_km2: 20.0,
        max_total_area_km2: 30.0,
        ..VolumeLimits::default()
    };
    let c = short(circle(1.0, 1.0, 2000.0));
    assert!(parse_volumes(&json!([c, c]), "extents", &total).is_ok());
    let e = parse_volumes(&json!([c, c, c]), "extents", &total).unwrap_err();
    assert_eq!(e.field, "extents");
    assert!(e.message.starts_with("too large in all: 37.7 km²"), "{e}");
    assert!(VolumeLimits::default().validate().is_ok());
    let bad = VolumeLimits {
        max_total_area_km2: f64::NAN,
        ..VolumeLimits::default()
    };
    assert!(bad.validate().unwrap_err().contains("max_total_area_km2"));
}

#[test]
fn error_names_the_right_volume() {
    let bad = set(polygon(&SQUARE), &["volume", "altitude_lower"], alt(9000.0));
    let e = parse(json!([polygon(&SQUARE), circle(1.0, 1.0, 5.0), bad])).unwrap_err();
    assert_eq!(e.field, "extents[2].volume.altitude_lower");
    assert_eq!(format!("{e}"), format!("field {}: {}", e.field, e.message));
}

#[test]
fn closing_vertex_and_repeats_are_dropped() {
    let pts = [
        (35.0, 35.0),
        (35.0, 35.1),
        (35.0, 35.1),
        (35.1, 35.1),
        (35.0, 35.0),
    ];
    let vs = parse(json!([polygon(&pts)])).unwrap();
    assert!(matches!(&vs[0].footprint, Footprint::Polygon(v) if v.len() == 3));
}

#[test]
fn round_trip_through_astm_json() {
    let vs = parse(json!([
        polygon(&SQUARE),
        circle(-33.9, 151.2, 1234.5),
        set(polygon(&SQUARE), &["time_end"], time("2015-09-18T07:00:00.25Z")),
    ]))
    .unwrap();
    let again = parse(Value::Array(vs.iter().map(|v| v.to_astm_json()).collect())).unwrap();
    assert_eq!(vs, again);
}

#[test]
fn times_outside_1970_to_3000_are_refused() {
    // The volume4d_filing fuzz target's round trip failed on these (kept in
    // fuzz/corpus/volume4d_filing/): an offset carried the instant out of years 0000-9999, and
    // to_astm_json wrote "-0001-12-31T00:01:00Z" / "+10000-01-01T22:59:00Z", which no RFC 3339
    // parser reads back.
    for (start, end) in [
        ("0000-01-01T00:00:00+23:59", "0000-01-01T01:00:00+23:59"),
        ("9999-12-31T23:00:00-23:59", "9999-12-31T23:30:00-23:59"),
        ("1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z"),
    ] {
        let v = set(
            set(circle(35.0, 35.0, 500.0), &["time_start"], time(start)),
            &["time_end"],
            time(end),
        );
        let e = parse(json!([v])).unwrap_err();
        assert_eq!(e.field, "extents[0].time_start.value", "{start}");
        assert!(e.message.starts_with("out of range"), "{e}");
    }
    let v = set(
        set(
            circle(35.0, 35.0, 500.0),
            &["time_start"],
            time("2999-12-31T23:00:00Z"),
        ),
        &["time_end"],
        time("3000-01-01T00:00:00Z"),
    );
    let vs = parse(json!([v])).unwrap();
    let again = parse(Value::Array(vs.iter().map(|v| v.to_astm_json()).collect())).unwrap();
    assert_eq!(vs, again);
    let late = set(
        circle(35.0, 35.0, 500.0),
        &["time_end"],
        time("3000-01-01T00:00:00.5Z"),
    );
    assert_eq!(field_of(late), "extents[0].time_end.value");
}
