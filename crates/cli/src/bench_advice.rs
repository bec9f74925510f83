//! `deconflict bench`'s advice figure: what coordinated resolution advice costs per conflict,
//! DO-365 bands (instantaneous, and kinematic flown together) and MVP, on the conflicts of a
//! synthetic scene, set against the scan of that scene in the same run.

use deconflict_core::advice::{coordinated, coordinated_kinematic, Advice};
use deconflict_core::synth::{generate, SynthParams};
use deconflict_core::wellclear::Do365Profile;
use deconflict_core::{AlertLevel, Detector, Scene, SeparationStandard, SeparationTable, TrackState};
use std::hint::black_box;
use std::time::Instant;

/// At most this many conflicts are advised per standard.
const MAX_CONFLICTS: usize = 400;

/// Prints one JSON line per standard: conflicts found in `tracks` synthetic tracks, the scan's
/// time, and advice's cost per conflict and for all of them.
pub(crate) fn advice_costs(tracks: usize, seed: u64) -> anyhow::Result<()> {
    let states: Vec<TrackState> = generate(&SynthParams::bench(tracks, seed));
    let scene = Scene::from_states(&states);
    type Advise = fn(&TrackState, &TrackState, &SeparationStandard) -> (Advice, Advice);
    let runs: [(&str, SeparationStandard, Advise); 3] = [
        (
            "do365a bands",
            SeparationStandard::do365(Do365Profile::do365a()),
            coordinated,
        ),
        (
            "do365a kinematic bands",
            SeparationStandard::do365(Do365Profile::do365a()),
            coordinated_kinematic,
        ),
        (
            "cylinder 5 NM / 1000 ft mvp",
            SeparationStandard::new(9260.0, 304.8, 300.0),
            coordinated,
        ),
    ];
    for (name, std, advise) in runs {
        let table = SeparationTable::uniform(std)?;
        let mut det = Detector::new();
        det.scan(&scene, &table);
        let t = Instant::now();
        let found = det.scan(&scene, &table);
        let scan_ms = t.elapsed().as_secs_f64() * 1e3;
        let pairs: Vec<(usize, usize)> = found
            .iter()
            .filter(|c| c.pair.level >= AlertLevel::Corrective)
            .map(|c| (c.a as usize, c.b as usize))
            .collect();
        let sample = &pairs[..pairs.len().min(MAX_CONFLICTS)];
        let t = Instant::now();
        let mut preferred = 0usize;
        for &(a, b) in sample {
            let (x, y) = advise(&states[a], &states[b], &std);
            preferred += usize::from(black_box(x).preferred.is_some()) + usize::from(y.preferred.is_some());
        }
        let per_us = t.elapsed().as_secs_f64() * 1e6 / sample.len().max(1) as f64;
        let all_ms = per_us * pairs.len() as f64 / 1e3;
        println!(
            "{}",
            serde_json::json!({
                "advice": name,
                "tracks": tracks,
                "conflicts_corrective_or_worse": pairs.len(),
                "aircraft_in_conflict_pct": ((200.0 * pairs.len() as f64 / tracks as f64) * 10.0).round() / 10.0,
                "advised": sample.len(),
                "advice_us_per_conflict": (per_us * 10.0).round() / 10.0,
                "advice_all_conflicts_ms": (all_ms * 10.0).round() / 10.0,
                // the bar: every aircraft in conflict advised, 5 % of them in conflict
                "advice_at_5pct_in_conflict_ms": (per_us * tracks as f64 * 0.025 / 1e3 * 10.0).round() / 10.0,
                "scan_ms": (scan_ms * 10.0).round() / 10.0,
                "with_a_preferred_manoeuvre": preferred,
            })
        );
    }
    Ok(())
}
