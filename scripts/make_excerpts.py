#!/usr/bin/env python3
"""Cut small real-data excerpts for the deconflict test-suite.

Reads the OpenSky ADS-B recordings in /work/shared/data/traffic/ (gzipped JSON
arrays, one record per aircraft per second) and writes, in exactly the same
format (records unmodified, original order, compact JSON, gzip):

  tests/data/quickstart-excerpt.json.gz
      every record of quickstart.json.gz inside one 10-15 minute window, the
      window being chosen to hold as many distinct genuine close-encounter
      pairs as possible (then as many pairs of any kind) while the file stays
      well under 400 KB;
  tests/data/inflight-refuelling-excerpt.json.gz
      the first records of inflight_refuelling.json.gz (the very first one has
      a null position; the early part has null groundspeed/track/roll/TAS),
      as many as fit in 100 KB.

It then prints a summary and the list of close-encounter pairs found in the
quickstart excerpt (brute force, per second, haversine distance).

A close encounter is two distinct icao24 with a record at the same timestamp
second, neither with onground == true, both with latitude, longitude and
altitude present, within 5556 m (3 NM) great-circle distance and within
1000 ft in altitude (both limits inclusive).

The recording repeats the last position of many aircraft after they land at
Paris-CDG while onground is still false, so a landed aircraft can seem to be
"within 3 NM" of the next arrival.  An encounter second is called genuine
when neither aircraft's latitude/longitude has stayed identical for 10 s or
more (counted over the whole recording); a pair is genuine if it has at least
one genuine second.

Usage: python3 scripts/make_excerpts.py [--src DIR] [--out DIR]
Python 3.11 standard library only; output is deterministic.
"""

import argparse
import collections
import datetime as dt
import gzip
import io
import json
import math
import os
import sys

EARTH_RADIUS_M = 6371008.8  # mean Earth radius (IUGG)
H_LIMIT_M = 5556.0          # 3 NM
V_LIMIT_FT = 1000.0
QUICKSTART_MAX_BYTES = 390_000   # target; the hard limit is 400 KB
REFUEL_MAX_BYTES = 100_000
WINDOW_LENGTHS_S = range(600, 901, 60)
WINDOW_STEP_S = 30
HELD_LIMIT_S = 10


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def load(path):
    with gzip.open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def dump_bytes(records):
    """Serialise like the source files (compact JSON) and gzip deterministically."""
    text = json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(text)
    return buf.getvalue()


def iso(sec):
    return dt.datetime.fromtimestamp(sec, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def close_encounters(records):
    """Return a list of (second, icao_a, icao_b, dist_m, dalt_ft), icao_a < icao_b."""
    by_sec = collections.defaultdict(list)
    for r in records:
        if r.get("onground") is True:
            continue
        lat, lon, alt, ts = r.get("latitude"), r.get("longitude"), r.get("altitude"), r.get("timestamp")
        if lat is None or lon is None or alt is None or ts is None or r.get("icao24") is None:
            continue
        by_sec[ts // 1000].append((lat, lon, alt, r["icao24"]))
    # 5556 m is about 0.05 deg of latitude: prune on latitude after sorting.
    dlat_max = math.degrees(H_LIMIT_M / EARTH_RADIUS_M) * 1.01
    events = []
    for sec in sorted(by_sec):
        pts = sorted(by_sec[sec])
        for i, (la1, lo1, al1, id1) in enumerate(pts):
            for la2, lo2, al2, id2 in pts[i + 1:]:
                if la2 - la1 > dlat_max:
                    break
                if id1 == id2:
                    continue
                dalt = abs(al2 - al1)
                if dalt > V_LIMIT_FT:
                    continue
                d = haversine_m(la1, lo1, la2, lo2)
                if d <= H_LIMIT_M:
                    a, b = sorted((id1, id2))
                    events.append((sec, a, b, d, dalt))
    return events


def held_seconds(records):
    """{(icao24, second): seconds the reported position has stayed identical}.
    Some feeds keep repeating the last position of an aircraft that has landed
    while onground is still false; such 'encounters' are artefacts."""
    pos = collections.defaultdict(dict)
    for r in records:
        if r.get("latitude") is not None and r.get("longitude") is not None:
            pos[r["icao24"]][r["timestamp"] // 1000] = (r["latitude"], r["longitude"])
    held = {}
    for icao, by_sec in pos.items():
        prev_sec, prev_pos, since = None, None, None
        for sec in sorted(by_sec):
            p = by_sec[sec]
            if p != prev_pos:
                since = sec
            held[(icao, sec)] = sec - since
            prev_sec, prev_pos = sec, p
    return held


def summarize_pairs(events, callsigns):
    pairs = collections.OrderedDict()
    for sec, a, b, d, dalt in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        p = pairs.setdefault((a, b), {"first": sec, "last": sec, "seconds": 0, "min_d": d, "min_t": sec, "dalt_at_min": dalt})
        p["last"] = sec
        p["seconds"] += 1
        if d < p["min_d"]:
            p["min_d"], p["min_t"], p["dalt_at_min"] = d, sec, dalt
    rows = []
    for (a, b), p in pairs.items():
        rows.append(dict(a=a, b=b, cs_a=callsigns.get(a, ""), cs_b=callsigns.get(b, ""), **p))
    rows.sort(key=lambda r: (r["first"], r["a"], r["b"]))
    return rows


def genuine(events, held):
    return [e for e in events
            if held.get((e[1], e[0]), 0) < HELD_LIMIT_S and held.get((e[2], e[0]), 0) < HELD_LIMIT_S]


def choose_window(records, events, held):
    secs = [r["timestamp"] // 1000 for r in records]
    t_first, t_last = min(secs), max(secs)
    size_per_sec = collections.Counter()
    for r, s in zip(records, secs):
        size_per_sec[s] += len(json.dumps(r, separators=(",", ":"))) + 1
    ev_by_sec = collections.defaultdict(set)
    for sec, a, b, _, _ in events:
        ev_by_sec[sec].add((a, b))
    gen_by_sec = collections.defaultdict(set)
    for sec, a, b, _, _ in genuine(events, held):
        gen_by_sec[sec].add((a, b))
    candidates = []
    start0 = t_first - t_first % WINDOW_STEP_S
    for length in WINDOW_LENGTHS_S:
        for start in range(start0, t_last - length + 2, WINDOW_STEP_S):
            pairs, gen_pairs = set(), set()
            raw = 0
            for s in range(start, start + length):
                pairs |= ev_by_sec.get(s, set())
                gen_pairs |= gen_by_sec.get(s, set())
                raw += size_per_sec.get(s, 0)
            candidates.append((-len(gen_pairs), -len(pairs), raw, start, length))
    candidates.sort()
    for _, _, raw, start, length in candidates:
        sub = [r for r in records if start * 1000 <= r["timestamp"] < (start + length) * 1000]
        blob = dump_bytes(sub)
        if len(blob) <= QUICKSTART_MAX_BYTES:
            return start, length, sub, blob
    raise SystemExit("no window fits the size limit")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default="/work/shared/data/traffic")
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # ---- quickstart ----------------------------------------------------------
    qs = load(os.path.join(args.src, "quickstart.json.gz"))
    all_events = close_encounters(qs)
    held = held_seconds(qs)
    print(f"quickstart: {len(qs)} records, {len({(e[1], e[2]) for e in all_events})} close-encounter pairs in total, "
          f"{len({(e[1], e[2]) for e in genuine(all_events, held)})} of them genuine", file=sys.stderr)
    start, length, sub, blob = choose_window(qs, all_events, held)
    out = os.path.join(args.out, "quickstart-excerpt.json.gz")
    with open(out, "wb") as f:
        f.write(blob)
    # Re-check on what was actually written.
    sub = load(out)
    callsigns = {}
    for r in sub:
        if r.get("callsign") and r["icao24"] not in callsigns:
            callsigns[r["icao24"]] = r["callsign"].strip()
    sub_events = close_encounters(sub)
    rows = summarize_pairs(sub_events, callsigns)
    gen_pairs = {(e[1], e[2]) for e in genuine(sub_events, held)}
    ts = [r["timestamp"] for r in sub]
    print(f"\nquickstart-excerpt.json.gz: {len(blob)} bytes, {len(sub)} records, "
          f"{len({r['icao24'] for r in sub})} aircraft", file=sys.stderr)
    print(f"  window [{iso(start)}, {iso(start + length)})  = [{start * 1000}, {(start + length) * 1000}) ms, "
          f"{length} s; records span {iso(min(ts) // 1000)} .. {iso(max(ts) // 1000)}", file=sys.stderr)
    strict = {(e[1], e[2]) for e in sub_events if e[3] < H_LIMIT_M and e[4] < V_LIMIT_FT}
    print(f"  close-encounter pairs: {len(rows)}, genuine: {len(gen_pairs)}; "
          f"with strict limits (< 5556 m and < 1000 ft): {len(strict)}", file=sys.stderr)
    print("  | icao24 a | callsign a | icao24 b | callsign b | first (UTC) | last (UTC) | seconds | min dist m | at (UTC) "
          "| dalt ft there | genuine | position held >= 10 s at the closest second |", file=sys.stderr)
    print("  |---|---|---|---|---|---|---|---|---|---|---|---|", file=sys.stderr)
    for r in rows:
        frozen = [f"{i} ({held.get((i, r['min_t']), 0)} s)" for i in (r["a"], r["b"])
                  if held.get((i, r["min_t"]), 0) >= 10]
        print(f"  | {r['a']} | {r['cs_a']} | {r['b']} | {r['cs_b']} | {iso(r['first'])[11:19]} | {iso(r['last'])[11:19]} | "
              f"{r['seconds']} | {r['min_d']:.0f} | {iso(r['min_t'])[11:19]} | {r['dalt_at_min']:.0f} | "
              f"{'yes' if (r['a'], r['b']) in gen_pairs else 'no'} | "
              f"{', '.join(frozen) or '-'} |", file=sys.stderr)

    # ---- inflight refuelling -------------------------------------------------
    rf = load(os.path.join(args.src, "inflight_refuelling.json.gz"))
    n = len(rf) - len(rf) % 100
    while n > 0:
        blob = dump_bytes(rf[:n])
        if len(blob) <= REFUEL_MAX_BYTES:
            break
        n -= 100
    out = os.path.join(args.out, "inflight-refuelling-excerpt.json.gz")
    with open(out, "wb") as f:
        f.write(blob)
    part = load(out)
    nulls = collections.Counter(k for r in part for k, v in r.items() if v is None)
    ts = [r["timestamp"] for r in part]
    print(f"\ninflight-refuelling-excerpt.json.gz: {len(blob)} bytes, records 0..{n - 1} of {len(rf)} "
          f"({len(part)} records, {len({r['icao24'] for r in part})} aircraft), "
          f"{iso(min(ts) // 1000)} .. {iso(max(ts) // 1000)}", file=sys.stderr)
    print(f"  null counts: {dict(sorted(nulls.items()))}", file=sys.stderr)


if __name__ == "__main__":
    main()
