#![allow(clippy::unwrap_used)] // a test that unwraps fails with the message
//! The service's tactical engine against NASA DAIDALUS v2.0.4 (`DO_365A_no_SUM.conf`) on the
//! ten reference encounters (core's test copies in `crates/core/tests/data/daidalus/`).
//!
//! Each aircraft of an encounter is its own party's drone (`uas_large`, so every pair is
//! DO-365A under the built-in table); every step's reports go into the engine, which ticks at
//! the step's time. The level the engine *reports* to the parties (its events: new, raised,
//! lowered, cleared) is compared with DAIDALUS's per (time, ownship, intruder) row: with the
//! built-in M-of-N against `*.hyst.csv`, and with the hysteresis off against `*.nohyst.csv`.
//! This is what a drone operator gets in its alerts, not the replay's library call. Every row
//! must agree.

use deconflict_core::wellclear::MofNConfig;
use deconflict_core::SeparationTable;
use deconflict_server::tactical::{ConflictIds, Engine, EventKind, Staleness};
use deconflict_store::PartyId;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const ENCOUNTERS: [&str; 10] = [
    "E1_headon",
    "E2_crossing",
    "E3_overtake",
    "E4_climbing",
    "E5_nearmiss",
    "E6_vertical_edge",
    "E7_turn_in",
    "E8_three",
    "E9_diverging",
    "E10_parallel",
];

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/daidalus")
}

/// (time in ms, ownship, intruder) -> level
type Levels = BTreeMap<(i64, String, String), u8>;

fn ms(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

/// DAIDALUS's CSV: two header rows, then `time, ownship, traffic, alerter, level, …`.
fn daidalus(path: &Path) -> Levels {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Levels::new();
    for line in text.lines().skip(2) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() >= 5 {
            let t: f64 = f[0].parse().unwrap();
            out.insert((ms(t), f[1].to_string(), f[2].to_string()), f[4].parse().unwrap());
        }
    }
    out
}

/// The levels the engine reports for every pair at every step, keyed as DAIDALUS's rows are
/// (both orders of a pair).
fn engine_levels(encounter: &str, hysteresis: MofNConfig) -> Levels {
    let text = std::fs::read_to_string(data().join(format!("{encounter}.daa"))).unwrap();
    let rows = deconflict_core::daa::parse(&text).unwrap();
    let mut table = SeparationTable::defaults();
    table.do365_hysteresis = hysteresis;
    let mut engine = Engine::new(table, Staleness::default(), ConflictIds::Salted(1));
    let mut party_of: HashMap<String, PartyId> = HashMap::new();
    for r in &rows {
        let n = party_of.len() as i64 + 1;
        party_of.entry(r.name.clone()).or_insert(PartyId(n));
    }
    let name_of: HashMap<PartyId, String> = party_of.iter().map(|(k, v)| (*v, k.clone())).collect();
    // conflict id -> (the two aircraft, the level reported)
    let mut live: HashMap<String, (Vec<String>, u8)> = HashMap::new();
    let mut out = Levels::new();
    for step in rows.chunk_by(|a, b| a.time_s == b.time_s) {
        let now = step[0].time_s;
        for r in step {
            engine.ingest(party_of[&r.name], std::slice::from_ref(&r.report));
        }
        for ev in engine.tick(now) {
            let entry = live.entry(ev.conflict_id.clone()).or_default();
            let me = name_of[&ev.party].clone();
            if !entry.0.contains(&me) {
                entry.0.push(me);
            }
            entry.1 = match ev.kind {
                EventKind::Cleared(_) => 0,
                _ => ev.level as u8,
            };
        }
        let names: Vec<&String> = step.iter().map(|r| &r.name).collect();
        for a in &names {
            for b in &names {
                if a != b {
                    out.insert((ms(now), (*a).clone(), (*b).clone()), 0);
                }
            }
        }
        for (pair, level) in live.values() {
            if let [a, b] = pair.as_slice() {
                out.insert((ms(now), a.clone(), b.clone()), *level);
                out.insert((ms(now), b.clone(), a.clone()), *level);
            }
        }
        live.retain(|_, (_, l)| *l > 0);
    }
    out
}

fn agreement(suffix: &str, hysteresis: MofNConfig) {
    let (mut agree, mut total) = (0usize, 0usize);
    let mut misses = Vec::new();
    for enc in ENCOUNTERS {
        let theirs = daidalus(&data().join(format!("{enc}.{suffix}.csv")));
        let ours = engine_levels(enc, hysteresis);
        let (mut a, mut n) = (0usize, 0usize);
        for (k, want) in &theirs {
            n += 1;
            match ours.get(k) {
                Some(got) if got == want => a += 1,
                got => misses.push(format!(
                    "{enc} t={} {}->{}: DAIDALUS {want}, engine {got:?}",
                    k.0 as f64 / 1000.0,
                    k.1,
                    k.2
                )),
            }
        }
        println!("{suffix} {enc}: {a}/{n}");
        agree += a;
        total += n;
    }
    let share = agree as f64 / total as f64;
    println!("{suffix}: {agree}/{total} = {:.2} %", 100.0 * share);
    // The bar is 98 %; the core's replay of the same files agrees on every row, so the
    // engine must too: a miss is the engine's sampling or pairing going wrong (the old
    // cylinder hysteresis on these pairs scored 98.3 % and 98.4 %).
    assert!(
        misses.is_empty(),
        "{suffix}: {:.2} % of rows; first misses: {:#?}",
        100.0 * share,
        &misses[..misses.len().min(20)]
    );
}

#[test]
fn the_engine_reports_daidalus_levels_with_its_m_of_n() {
    agreement("hyst", MofNConfig::DAIDALUS);
}

#[test]
fn the_engine_reports_daidalus_raw_levels_with_the_hysteresis_off() {
    agreement("nohyst", MofNConfig::OFF);
}
