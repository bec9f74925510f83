//! NATS subjects: reports by airspace cell (`dcf.tracks.<res-0>.<res-1>.<res-2>`, H3 cells of
//! the report's position), region filters, and node names.

/// The subject of a report at this position.
pub fn subject_for(lat: f64, lng: f64) -> String {
    let cell = h3o::LatLng::new(lat, lng)
        .ok()
        .map(|ll| ll.to_cell(h3o::Resolution::Two));
    match cell {
        Some(c) => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            let p1 = c.parent(h3o::Resolution::One).unwrap_or(c);
            format!("dcf.tracks.{p0}.{p1}.{c}")
        }
        None => "dcf.tracks.x.x.x".to_string(),
    }
}

/// The subject filter of a region given as an H3 cell of resolution 0, 1 or 2 (hex).
pub fn filter_for_cell(cell: &str) -> Result<String, String> {
    let c: h3o::CellIndex = cell
        .parse()
        .map_err(|e| format!("{cell:?} is not an H3 cell index: {e}"))?;
    match c.resolution() {
        h3o::Resolution::Zero => Ok(format!("dcf.tracks.{c}.>")),
        h3o::Resolution::One => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            Ok(format!("dcf.tracks.{p0}.{c}.>"))
        }
        h3o::Resolution::Two => {
            let p0 = c.parent(h3o::Resolution::Zero).unwrap_or(c);
            let p1 = c.parent(h3o::Resolution::One).unwrap_or(c);
            Ok(format!("dcf.tracks.{p0}.{p1}.{c}"))
        }
        r => Err(format!(
            "{cell:?} has resolution {r}; regions are cells of resolution 0, 1 or 2"
        )),
    }
}

/// A node name: 1 to 32 of `A-Z a-z 0-9 _ -` (it names NATS consumers and subjects).
pub fn check_node_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "node {name:?}: must be 1 to 32 characters of A-Z a-z 0-9 _ -"
        ))
    }
}
