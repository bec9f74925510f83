#!/usr/bin/env python3
"""Compare `deconflict detect` against BlueSky's state-based conflict detector.

Generates a synthetic snapshot (one aircraft per 400 km^2, all reports at the
same instant), runs our CLI on it as a whole process, runs BlueSky's vectorised
Python detector (and its compiled C++ detector when importable) on the same
states, compares the unordered conflict-pair sets and classifies every
mismatch as "explained" (a boundary case) or not.

Progress goes to stderr; stdout carries a single JSON summary line.
Exit status: 0 = agreement (all mismatches explained), 1 = unexplained
mismatches, 2 = a run failed (binary missing, crash, bad output).

See scripts/README.md for how to install and run it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO_ROOT / "target" / "release" / "deconflict"

EARTH_R_M = 6371000.0  # same sphere radius BlueSky's kwik* functions use
M_PER_DEG = math.pi * EARTH_R_M / 180.0
SNAPSHOT_TIME = 1442556000
AREA_PER_AC_KM2 = 400.0


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stdout_to_stderr():
    """BlueSky prints banners on stdout (from Python and C++); keep stdout clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    old = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = old
        os.dup2(saved, 1)
        os.close(saved)


# --------------------------------------------------------------------------
# Snapshot
# --------------------------------------------------------------------------

def generate_snapshot(n: int, seed: int, lat0: float, lon0: float) -> list[dict]:
    rng = np.random.default_rng(seed)
    side_m = math.sqrt(n * AREA_PER_AC_KM2) * 1000.0
    x = rng.uniform(-side_m / 2, side_m / 2, n)  # east, m
    y = rng.uniform(-side_m / 2, side_m / 2, n)  # north, m
    lat = lat0 + y / M_PER_DEG
    lon = lon0 + x / (M_PER_DEG * math.cos(math.radians(lat0)))
    gs = rng.uniform(60.0, 250.0, n)
    trk = rng.uniform(0.0, 360.0, n)
    alt = rng.uniform(0.0, 12000.0, n)
    level = rng.random(n) < 0.7
    vs_mag = rng.uniform(2.0, 15.0, n)
    vs_sign = rng.choice(np.array([-1.0, 1.0]), n)
    vs = np.where(level, 0.0, vs_sign * vs_mag)
    width = max(5, len(str(n)))
    recs = []
    for i in range(n):
        recs.append({
            "asset": f"AC{i + 1:0{width}d}",
            "time": SNAPSHOT_TIME,
            "lat": round(float(lat[i]), 7),
            "lng": round(float(lon[i]), 7),
            "alt_m": round(float(alt[i]), 2),
            "gs_mps": round(float(gs[i]), 3),
            "track_deg": round(float(trk[i]), 4) % 360.0,
            "vs_mps": round(float(vs[i]), 3),
            "class": "fixed_wing",
        })
    return recs


def write_jsonl(path: Path, recs: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")))
            f.write("\n")


def read_jsonl(path: Path) -> list[dict]:
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


class TrafficStandIn:
    """The attributes BlueSky's detectors read from a Traffic object.

    statebased.py reads ntraf, id, lat, lon, trk, gs, alt, vs;
    cstatebased reads lat, lon, trk, gs, alt, vs (float arrays) and id (a list).
    Units as in BlueSky: degrees, m, m/s, track in degrees from north.
    """

    def __init__(self, recs: list[dict]):
        self.ntraf = len(recs)
        self.id = [r["asset"] for r in recs]
        self.lat = np.array([float(r["lat"]) for r in recs])
        self.lon = np.array([float(r["lng"]) for r in recs])
        self.alt = np.array([float(r["alt_m"]) for r in recs])
        self.gs = np.array([float(r["gs_mps"]) for r in recs])
        self.trk = np.array([float(r["track_deg"]) for r in recs])
        self.vs = np.array([float(r["vs_mps"]) for r in recs])
        self.gseast = self.gs * np.sin(np.radians(self.trk))
        self.gsnorth = self.gs * np.cos(np.radians(self.trk))


# --------------------------------------------------------------------------
# Our detector
# --------------------------------------------------------------------------

def ensure_binary(bin_path: Path, allow_build: bool) -> bool:
    if bin_path.exists():
        return True
    if not allow_build or bin_path.resolve() != DEFAULT_BIN.resolve():
        return False
    cargo = shutil.which("cargo")
    if cargo is None:
        log("cargo not found; cannot build", bin_path)
        return False
    log(f"{bin_path} missing; running cargo build --release -p deconflict-cli in {REPO_ROOT}")
    rc = subprocess.run([cargo, "build", "--release", "-p", "deconflict-cli"],
                        cwd=REPO_ROOT, stdout=sys.stderr, stderr=sys.stderr).returncode
    return rc == 0 and bin_path.exists()


def run_ours(bin_path: Path, snap: Path, args) -> tuple[list[float], list[dict]]:
    cmd = [str(bin_path), "detect", str(snap),
           "--radius-m", repr(args.radius_m),
           "--half-height-m", repr(args.half_height_m),
           "--lookahead-s", repr(args.lookahead_s)]
    log("ours:", " ".join(cmd))
    times = []
    out = b""
    for k in range(args.runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"our detector exited {p.returncode}: "
                               f"{p.stderr.decode(errors='replace')[-2000:]}")
        times.append(dt)
        out = p.stdout
        log(f"  run {k + 1}/{args.runs}: {dt * 1000:.1f} ms")
    rows = []
    for ln, line in enumerate(out.decode().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise RuntimeError(f"our stdout line {ln} is not JSON: {line[:200]!r} ({e})")
    return times, rows


def ours_pairs(rows: list[dict]) -> dict[tuple[str, str], dict]:
    pairs: dict[tuple[str, str], dict] = {}
    bad_order = dups = 0
    for r in rows:
        a, b = str(r["a"]), str(r["b"])
        if not a < b:
            bad_order += 1
        key = (a, b) if a < b else (b, a)
        if key in pairs:
            dups += 1
        pairs[key] = r
    if bad_order:
        log(f"WARNING: {bad_order} of our rows do not have a < b")
    if dups:
        log(f"WARNING: {dups} duplicate pairs in our output")
    return pairs


# --------------------------------------------------------------------------
# BlueSky
# --------------------------------------------------------------------------

def import_bluesky(compiled_geo: bool = False):
    """Import BlueSky's detector modules headless, without bluesky.init().

    Returns (StateBased, cstatebased-module-or-None, info dict).
    """
    info: dict = {}
    t0 = time.perf_counter()
    with stdout_to_stderr():
        import bluesky
        from bluesky.tools import geo
        from bluesky.tools.geo import _geo
        from bluesky.traffic.asas import statebased
        try:
            from bluesky.traffic.asas import cstatebased
        except ImportError as e:  # not built for this platform
            cstatebased = None
            info["cpp_import_error"] = str(e)
    info["import_s"] = time.perf_counter() - t0
    info["version"] = getattr(bluesky, "__version__", None)
    try:
        from importlib.metadata import version
        info["version"] = version("bluesky-simulator")
    except Exception:
        pass

    # statebased.py calls geo.kwikqdrdist_matrix through the module object
    # `bluesky.tools.geo`. Which implementation that is depends on the
    # prefer_compiled setting; the compiled one (_cgeo) mirrors the bearing
    # matrix (qdr[j,i] == qdr[i,j] instead of qdr[i,j] + 180) when both inputs
    # are the same arrays, which flips the relative position of half the
    # pairs. Force the pure-Python implementation.
    # (--compiled-geo installs the compiled one instead, to show the effect.)
    before = geo.kwikqdrdist_matrix
    chosen = _geo.kwikqdrdist_matrix
    if compiled_geo:
        from bluesky.tools.geo import _cgeo
        chosen = _cgeo.kwikqdrdist_matrix
    geo.kwikqdrdist_matrix = chosen
    if getattr(statebased, "geo", None) is not geo:
        statebased.geo = geo
    info["kwikqdrdist_before"] = f"{getattr(before, '__module__', None) or 'bluesky.tools.geo._cgeo'}.{before.__name__}"
    info["kwikqdrdist_after"] = f"{getattr(chosen, '__module__', None) or 'bluesky.tools.geo._cgeo'}.{chosen.__name__}"
    return statebased.StateBased, cstatebased, info


def bluesky_pairs(confpairs, extra) -> tuple[dict[tuple[str, str], dict], int]:
    """Reduce ordered (i, j) pairs to unordered ones; keep BlueSky's numbers."""
    qdr, dist, dcpa, tcpa, tin = (np.asarray(x, dtype=float).ravel() for x in extra)
    ordered = set()
    out: dict[tuple[str, str], dict] = {}
    for k, (a, b) in enumerate(confpairs):
        a, b = str(a), str(b)
        ordered.add((a, b))
        key = (a, b) if a < b else (b, a)
        if key not in out:
            out[key] = {"dist_m": float(dist[k]), "dcpa_m": float(dcpa[k]),
                        "tcpa_s": float(tcpa[k]), "tin_s": float(tin[k])}
    asym = sum(1 for (a, b) in ordered if (b, a) not in ordered)
    return out, asym


def time_calls(fn, runs: int, label: str):
    times = []
    res = None
    for k in range(runs):
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        log(f"  {label} run {k + 1}/{runs}: {dt * 1000:.1f} ms")
    return times, res


# --------------------------------------------------------------------------
# Mismatch classification (independent flat-earth CPA)
# --------------------------------------------------------------------------

def _intervals(dx, dy, dvx, dvy, dalt, dvs, rpz, hpz) -> dict:
    """Straight-line CPA and the conflict window for one relative state."""
    v2 = dvx * dvx + dvy * dvy
    d0 = math.hypot(dx, dy)
    tcpa = -(dx * dvx + dy * dvy) / v2 if v2 > 1e-12 else 0.0
    dcpa = math.hypot(dx + dvx * tcpa, dy + dvy * tcpa)
    if dcpa < rpz and v2 > 1e-12:
        half = math.sqrt(rpz * rpz - dcpa * dcpa) / math.sqrt(v2)
        h_in, h_out = tcpa - half, tcpa + half
    elif d0 < rpz:
        h_in, h_out = -math.inf, math.inf
    else:
        h_in, h_out = math.inf, -math.inf
    if dvs != 0.0:
        t1, t2 = (-hpz - dalt) / dvs, (hpz - dalt) / dvs
        v_in, v_out = min(t1, t2), max(t1, t2)
    elif abs(dalt) < hpz:
        v_in, v_out = -math.inf, math.inf
    else:
        v_in, v_out = math.inf, -math.inf
    t_in, t_out = max(h_in, v_in), min(h_out, v_out)
    return {"d0_m": d0, "dcpa_m": dcpa, "tcpa_s": tcpa, "tin_s": t_in, "tout_s": t_out,
            "dalt_m": dalt, "dvs_mps": dvs}


def is_conflict(q: dict, look: float) -> bool:
    return q["tin_s"] < q["tout_s"] and q["tout_s"] > 0.0 and q["tin_s"] <= look


def flat_cpa(tr: TrafficStandIn, i: int, j: int, rpz: float, hpz: float) -> dict:
    """BlueSky's model: equirectangular offsets at the pair's mean latitude and
    both velocity vectors taken in that one east/north frame."""
    lat_m = math.radians(0.5 * (tr.lat[i] + tr.lat[j]))
    dx = math.radians(tr.lon[j] - tr.lon[i]) * math.cos(lat_m) * EARTH_R_M
    dy = math.radians(tr.lat[j] - tr.lat[i]) * EARTH_R_M
    return _intervals(dx, dy, tr.gseast[j] - tr.gseast[i], tr.gsnorth[j] - tr.gsnorth[i],
                      tr.alt[j] - tr.alt[i], tr.vs[j] - tr.vs[i], rpz, hpz)


def _ecef(lat_deg: float, lon_deg: float, east: float, north: float):
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    cl, sl, co, so = math.cos(la), math.sin(la), math.cos(lo), math.sin(lo)
    pos = (EARTH_R_M * cl * co, EARTH_R_M * cl * so, EARTH_R_M * sl)
    # local east (-so, co, 0) and north (-sl*co, -sl*so, cl) unit vectors
    vel = (-so * east - sl * co * north, co * east - sl * so * north, cl * north)
    return pos, vel


def sphere_cpa(tr: TrafficStandIn, i: int, j: int, rpz: float, hpz: float) -> dict:
    """Second opinion for diagnosing mismatches: positions on the sphere, each
    velocity in its own aircraft's local east/north frame (so meridian
    convergence is accounted for), straight lines in 3D, projected onto the
    tangent plane at the pair's midpoint."""
    pi, vi = _ecef(tr.lat[i], tr.lon[i], tr.gseast[i], tr.gsnorth[i])
    pj, vj = _ecef(tr.lat[j], tr.lon[j], tr.gseast[j], tr.gsnorth[j])
    dp = [b - a for a, b in zip(pi, pj)]
    dv = [b - a for a, b in zip(vi, vj)]
    mid = [a + b for a, b in zip(pi, pj)]
    norm = math.sqrt(sum(m * m for m in mid))
    up = [m / norm for m in mid]
    east = [-up[1], up[0], 0.0]
    en = math.hypot(east[0], east[1])
    east = [e / en for e in east]
    north = [up[1] * east[2] - up[2] * east[1], up[2] * east[0] - up[0] * east[2],
             up[0] * east[1] - up[1] * east[0]]

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))
    return _intervals(dot(dp, east), dot(dp, north), dot(dv, east), dot(dv, north),
                      tr.alt[j] - tr.alt[i], tr.vs[j] - tr.vs[i], rpz, hpz)


def explain(q: dict, rpz: float, hpz: float, look: float, eps_alt: float) -> list[str]:
    reasons = []
    if abs(q["dcpa_m"] - rpz) <= 0.01 * rpz:
        reasons.append("dcpa~rpz")
    if abs(q["d0_m"] - rpz) <= 0.01 * rpz:
        reasons.append("dist~rpz")
    if math.isfinite(q["tin_s"]) and abs(q["tin_s"] - look) <= 1.0:
        reasons.append("tin~lookahead")
    if q["dvs_mps"] == 0.0 and abs(abs(q["dalt_m"]) - hpz) <= eps_alt:
        reasons.append("|dalt|==hpz,level")
    return reasons


def compare(name: str, ours: dict, theirs: dict, tr: TrafficStandIn, idx: dict,
            args, their_label: str, our_label: str = "ours") -> dict:
    both = ours.keys() & theirs.keys()
    only_o = sorted(ours.keys() - theirs.keys())
    only_t = sorted(theirs.keys() - ours.keys())
    unexplained = []
    earth_model = 0
    reason_counts: dict[str, int] = {}
    for side, keys in ((our_label, only_o), (their_label, only_t)):
        for key in keys:
            q = flat_cpa(tr, idx[key[0]], idx[key[1]], args.radius_m,
                         args.half_height_m)
            why = explain(q, args.radius_m, args.half_height_m, args.lookahead_s,
                          args.alt_eps_m)
            for w in why:
                reason_counts[w] = reason_counts.get(w, 0) + 1
            if not why and our_label == "ours":
                # Does a sphere model side with us? (diagnostic; counts as
                # explained only with --earth-model-explains)
                sq = sphere_cpa(tr, idx[key[0]], idx[key[1]], args.radius_m,
                                args.half_height_m)
                sphere_says = is_conflict(sq, args.lookahead_s)
                if sphere_says == (side == our_label):
                    earth_model += 1
                    q = {**q, "sphere_dcpa_m": sq["dcpa_m"], "sphere_tin_s": sq["tin_s"],
                         "sphere_tout_s": sq["tout_s"]}
                    if args.earth_model_explains:
                        why = ["earth-model"]
                        reason_counts["earth-model"] = reason_counts.get("earth-model", 0) + 1
            if not why:
                unexplained.append((side, key, q))
            elif len(only_o) + len(only_t) <= 40:
                log(f"  explained only-{side} {key[0]}-{key[1]} ({', '.join(why)}): "
                    f"dist={q['d0_m']:.1f} dcpa={q['dcpa_m']:.1f} tin={q['tin_s']:.2f} "
                    f"dalt={q['dalt_m']:.3f} dvs={q['dvs_mps']:.3f}")
    log(f"[{name}] both={len(both)} only_{our_label}={len(only_o)} "
        f"only_{their_label}={len(only_t)} unexplained={len(unexplained)} "
        f"explained_by={reason_counts}"
        + (f" sphere_model_sides_with_ours={earth_model}" if our_label == "ours" else ""))
    for side, key, q in unexplained[:20]:
        reported = ours.get(key) if side == our_label else theirs.get(key)
        log(f"  UNEXPLAINED only-{side} {key[0]}-{key[1]}: recomputed "
            + ", ".join(f"{k}={v:.3f}" for k, v in q.items())
            + f"; reported {json.dumps(reported)}")
    if len(unexplained) > 20:
        log(f"  ... {len(unexplained) - 20} more")
    numbers = number_diffs(name, both, ours, theirs, our_label, their_label)
    return {"both": len(both), "only_ours": len(only_o), "only_theirs": len(only_t),
            "unexplained": len(unexplained), "earth_model": earth_model, **numbers}


def number_diffs(name, both, ours, theirs, our_label, their_label) -> dict:
    """Largest differences in the reported dcpa / tcpa / tin of common pairs."""
    worst = {"dcpa_m": (0.0, None), "tcpa_s": (0.0, None), "tin_s": (0.0, None)}
    for key in both:
        o, t = ours[key], theirs[key]
        for f in worst:
            ov, tv = o.get(f), t.get(f)
            if not isinstance(ov, (int, float)) or not isinstance(tv, (int, float)):
                continue
            if f == "tin_s" and (ov <= 0.0 or tv <= 0.0):
                continue  # already in conflict: clamping conventions differ
            d = abs(float(ov) - float(tv))
            if d > worst[f][0]:
                worst[f] = (d, key)
    parts = []
    for f, (d, key) in worst.items():
        if key is not None:
            parts.append(f"{f} {d:.3f} ({key[0]}-{key[1]}: {our_label} {ours[key][f]:.3f}, "
                         f"{their_label} {theirs[key][f]:.3f})")
    if parts:
        log(f"[{name}] largest differences on common pairs: " + "; ".join(parts))
    return {"max_" + f + "_diff": round(d, 3) for f, (d, _) in worst.items()}


# --------------------------------------------------------------------------

def ms(times: list[float] | None):
    return None if not times else round(min(times) * 1000.0, 3)


def med_ms(times: list[float] | None):
    return None if not times else round(statistics.median(times) * 1000.0, 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="number of aircraft")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lat0", type=float, default=35.0)
    ap.add_argument("--lon0", type=float, default=35.0)
    ap.add_argument("--input", type=Path,
                    help="use this JSONL snapshot instead of generating one")
    ap.add_argument("--out", type=Path,
                    help="write the generated snapshot here (default: temp dir, deleted)")
    ap.add_argument("--bin", type=Path, default=DEFAULT_BIN)
    ap.add_argument("--no-build", action="store_true",
                    help="do not run cargo build if the default binary is missing")
    ap.add_argument("--bluesky-only", action="store_true",
                    help="skip our detector (BlueSky timings and pair counts only)")
    ap.add_argument("--no-cpp", action="store_true", help="skip BlueSky's C++ detector")
    ap.add_argument("--compiled-geo", action="store_true",
                    help="do NOT patch: run StateBased with the compiled (buggy) "
                         "kwikqdrdist_matrix, to demonstrate the difference")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of our binary")
    ap.add_argument("--bs-runs", type=int, default=5, help="timed runs of each BlueSky detector")
    ap.add_argument("--radius-m", type=float, default=9260.0)
    ap.add_argument("--half-height-m", type=float, default=304.8)
    ap.add_argument("--lookahead-s", type=float, default=300.0)
    ap.add_argument("--earth-model-explains", action="store_true",
                    help="also count a mismatch as explained when a spherical model "
                         "(tracks in each aircraft's own north) agrees with us")
    ap.add_argument("--alt-eps-m", type=float, default=1e-6,
                    help="tolerance for the |dalt| == hpz level-pair explanation")
    args = ap.parse_args()

    tmpdir = None
    if args.input:
        snap = args.input
        recs = read_jsonl(snap)
        log(f"read {len(recs)} reports from {snap}")
    else:
        side_km = math.sqrt(args.n * AREA_PER_AC_KM2)
        recs = generate_snapshot(args.n, args.seed, args.lat0, args.lon0)
        if args.out:
            snap = args.out
        else:
            tmpdir = tempfile.mkdtemp(prefix="compare_bluesky_")
            snap = Path(tmpdir) / f"snapshot_n{args.n}_s{args.seed}.jsonl"
        write_jsonl(snap, recs)
        recs = read_jsonl(snap)  # both sides see exactly the serialised values
        log(f"generated {len(recs)} aircraft, seed {args.seed}, square {side_km:.1f} km "
            f"centred on ({args.lat0}, {args.lon0}) -> {snap}")
    if len({r["time"] for r in recs}) > 1:
        log("WARNING: reports have different times; BlueSky treats them as one instant")
    n = len(recs)

    try:
        summary = run(args, snap, recs, n)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print(json.dumps(summary), flush=True)
    if summary.get("error"):
        return 2
    return 1 if (summary.get("unexplained") or 0) + (summary.get("unexplained_cpp") or 0) else 0


def run(args, snap: Path, recs: list[dict], n: int) -> dict:
    summary: dict = {"n": n}
    tr = TrafficStandIn(recs)
    idx = {a: i for i, a in enumerate(tr.id)}
    if len(idx) != n:
        log("WARNING: duplicate asset ids in snapshot")

    # ---- ours --------------------------------------------------------------
    ours = None
    if not args.bluesky_only:
        if not ensure_binary(args.bin, not args.no_build):
            log(f"ERROR: our binary {args.bin} does not exist (use --bin or --bluesky-only)")
            summary["error"] = f"missing binary {args.bin}"
            return summary
        try:
            t_ours, rows = run_ours(args.bin, snap, args)
        except RuntimeError as e:
            log("ERROR:", e)
            summary["error"] = str(e)[:500]
            return summary
        ours = ours_pairs(rows)
        summary["ours_ms"] = ms(t_ours)
        summary["ours_median_ms"] = med_ms(t_ours)
        log(f"ours: {len(ours)} pairs, best {ms(t_ours)} ms, median {med_ms(t_ours)} ms")

    # ---- BlueSky -----------------------------------------------------------
    StateBased, cstatebased, info = import_bluesky(args.compiled_geo)
    log(f"bluesky-simulator {info['version']}: import {info['import_s'] * 1000:.0f} ms; "
        f"kwikqdrdist_matrix {info['kwikqdrdist_before']} -> {info['kwikqdrdist_after']}")
    t0 = time.perf_counter()
    rpz = np.full(n, args.radius_m)
    hpz = np.full(n, args.half_height_m)
    look = np.full(n, args.lookahead_s)
    # detect() never touches self; ConflictDetection.__init__ needs a live
    # bs.traf, so skip it.
    cd = object.__new__(StateBased)
    setup_s = time.perf_counter() - t0
    summary["bluesky_version"] = info["version"]
    summary["bluesky_import_ms"] = round(info["import_s"] * 1000.0, 1)
    summary["bluesky_setup_ms"] = round(setup_s * 1000.0, 3)

    log("bluesky StateBased.detect (numpy):")
    with stdout_to_stderr():
        t_py, res = time_calls(lambda: cd.detect(tr, tr, rpz, hpz, look), args.bs_runs, "py")
    bs_py, asym = bluesky_pairs(res[0], res[4:9])
    if asym:
        log(f"WARNING: {asym} BlueSky (py) ordered pairs lack their reverse")
    summary["bluesky_py_ms"] = ms(t_py)
    summary["bluesky_py_median_ms"] = med_ms(t_py)
    log(f"bluesky py: {len(bs_py)} pairs ({len(res[0])} ordered), best {ms(t_py)} ms")

    bs_cpp = None
    summary["bluesky_cpp_ms"] = None
    if args.no_cpp:
        log("bluesky C++ detector: skipped (--no-cpp)")
    elif cstatebased is None:
        log(f"bluesky C++ detector NOT AVAILABLE: {info.get('cpp_import_error')}")
    else:
        log("bluesky cstatebased.detect (C++):")
        with stdout_to_stderr():
            t_cpp, resc = time_calls(lambda: cstatebased.detect(tr, tr, rpz, hpz, look),
                                     args.bs_runs, "cpp")
        if resc is None:
            log("bluesky C++ detector returned None (could not read arrays)")
        else:
            bs_cpp, asym = bluesky_pairs(resc[0], resc[4:9])
            if asym:
                log(f"WARNING: {asym} BlueSky (cpp) ordered pairs lack their reverse")
            summary["bluesky_cpp_ms"] = ms(t_cpp)
            summary["bluesky_cpp_median_ms"] = med_ms(t_cpp)
            log(f"bluesky cpp: {len(bs_cpp)} pairs, best {ms(t_cpp)} ms")

    summary["pairs_bluesky"] = len(bs_py)
    summary["pairs_bluesky_cpp"] = None if bs_cpp is None else len(bs_cpp)
    if bs_cpp is not None:
        c = compare("bluesky py vs cpp (info only)", bs_py, bs_cpp, tr, idx, args, "cpp",
                    our_label="py")
        summary["bluesky_py_vs_cpp_disagree"] = c["only_ours"] + c["only_theirs"]

    # ---- comparison --------------------------------------------------------
    if ours is None:
        summary.update({"ours_ms": None, "speedup_vs_py": None, "speedup_vs_cpp": None,
                        "pairs_ours": None, "both": None, "only_ours": None,
                        "only_bluesky": None, "unexplained": None})
        return summary
    summary["speedup_vs_py"] = round(summary["bluesky_py_ms"] / summary["ours_ms"], 2)
    summary["speedup_vs_cpp"] = (None if summary["bluesky_cpp_ms"] is None else
                                 round(summary["bluesky_cpp_ms"] / summary["ours_ms"], 2))
    summary["pairs_ours"] = len(ours)
    c = compare("ours vs bluesky py", ours, bs_py, tr, idx, args, "bluesky")
    summary.update({"both": c["both"], "only_ours": c["only_ours"],
                    "only_bluesky": c["only_theirs"], "unexplained": c["unexplained"],
                    "max_dcpa_diff_m": c["max_dcpa_m_diff"],
                    "max_tcpa_diff_s": c["max_tcpa_s_diff"],
                    "max_tin_diff_s": c["max_tin_s_diff"],
                    "sphere_model_sides_with_ours": c["earth_model"]})
    if bs_cpp is not None:
        c = compare("ours vs bluesky cpp", ours, bs_cpp, tr, idx, args, "bluesky_cpp")
        summary.update({"both_cpp": c["both"], "only_ours_vs_cpp": c["only_ours"],
                        "only_bluesky_cpp": c["only_theirs"],
                        "unexplained_cpp": c["unexplained"]})
    return summary


if __name__ == "__main__":
    sys.exit(main())
