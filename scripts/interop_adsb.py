#!/usr/bin/env python3
"""The ADS-B half of scripts/interop_feeds.sh: real Beast frames into dump1090-mutability, its
SBS-1 output through `deconflict feed sbs` and its Beast output through `deconflict feed beast`
into a live service (each bridge posting as a party of its own), and pyModeS as the independent
decoder of the same frames.

    interop_adsb.py --frames tests/data/beast-slice.csv.gz --beast-port P --server URL \
        --token sbs=T1 --token beast=T2

1. Sends each frame (`unix_time,hex`: a Beast frame, unescaped) to dump1090's Beast input port,
   paced as recorded (`--speed` > 1 compresses time; dump1090 checks that successive positions
   are reachable at a plausible speed, so keep it at 1 for a faithful replay).
2. Meanwhile polls `GET /v1/tracks` of every party every 100 ms and keeps every distinct stored
   position.
3. Decodes the same frames with pyModeS (even/odd CPR pairs, then local decoding).
4. Checks, for each party (each bridge): every aircraft pyModeS finds an airborne position for
   is stored; every stored
   position is within `--tolerance-m` (5 m) of a position pyModeS decoded for that aircraft;
   and the last stored position of each aircraft matches pyModeS's last within the same bound.
Exits 1 naming each failure.
"""
import argparse
import gzip
import json
import math
import socket
import sys
import threading
import time
import urllib.request

import pyModeS
from pyModeS.position import airborne_position_pair, airborne_position_with_ref


def frames(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            t, h = line.strip().split(",")
            yield float(t), bytes.fromhex(h)


def escape(frame: bytes) -> bytes:
    """Beast framing: 0x1a starts a frame; inside one, a 0x1a byte is sent twice."""
    return frame[:1] + frame[1:].replace(b"\x1a", b"\x1a\x1a")


def metres(a, b):
    (la1, lo1), (la2, lo2) = a, b
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def independent(path):
    """pyModeS's airborne positions per ICAO, in order (lat, lon): for each airborne position
    message (typecodes 9-18), the even/odd pair with the newest frame of the other format
    within 10 s (pyModeS.position.airborne_position_pair), else the frame resolved locally
    against the aircraft's last position within 30 s (airborne_position_with_ref), as a
    receiver does; plus whatever pyModeS's own PipeDecoder decodes."""
    pipe = pyModeS.PipeDecoder()
    last_frame, last_pos, out = {}, {}, {}
    for t, fr in frames(path):
        msg = fr[9:].hex()  # after the type byte, the 6-byte timestamp and the signal byte
        r = pyModeS.decode(msg)
        p = pipe.decode(msg, timestamp=t)
        icao = (r.get("icao") or "").upper()
        found = []
        if p.get("latitude") is not None and 9 <= (p.get("typecode") or 0) <= 18:
            found.append((p["latitude"], p["longitude"]))
        tc = r.get("typecode")
        if r.get("crc_valid") and tc is not None and 9 <= tc <= 18 and "cpr_lat" in r:
            fmt = r["cpr_format"]
            mine = (t, r["cpr_lat"], r["cpr_lon"])
            other = last_frame.get((icao, 1 - fmt))
            last_frame[(icao, fmt)] = mine
            pos = None
            if other and t - other[0] <= 10.0:
                even, odd = (mine, other) if fmt == 0 else (other, mine)
                pos = airborne_position_pair(even[1], even[2], odd[1], odd[2], even_is_newer=fmt == 0)
            if pos is None and icao in last_pos and t - last_pos[icao][0] <= 30.0:
                ref = last_pos[icao][1]
                pos = airborne_position_with_ref(fmt, r["cpr_lat"], r["cpr_lon"], ref[0], ref[1])
            if pos is not None:
                last_pos[icao] = (t, pos)
                found.append(pos)
        for q in found:
            out.setdefault(icao, []).append(q)
    return out


def poll(server, token, stop, seen):
    req = urllib.request.Request(f"{server}/v1/tracks", headers={"Authorization": f"Bearer {token}"})
    while not stop.is_set():
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                for t in json.load(r)["own"]:
                    seen.setdefault(t["asset"], {})[(t["lat"], t["lng"])] = t
        except OSError as e:
            print(f"interop_adsb: poll: {e}", file=sys.stderr)
        stop.wait(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--beast-port", type=int, required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--token", required=True, action="append",
                    help="LABEL=TOKEN: a party whose stored tracks are checked (repeatable)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--tolerance-m", type=float, default=5.0)
    ap.add_argument("--settle-s", type=float, default=3.0)
    a = ap.parse_args()

    truth = independent(a.frames)
    print(f"interop_adsb: pyModeS decodes airborne positions for {len(truth)} aircraft: "
          + ", ".join(f"{k} ({len(v)})" for k, v in sorted(truth.items())))
    if not truth:
        sys.exit("interop_adsb: pyModeS found no position in the frames: wrong slice?")

    parties = [t.split("=", 1) for t in a.token]
    stop = threading.Event()
    seen = {label: {} for label, _ in parties}
    pollers = [threading.Thread(target=poll, args=(a.server, tok, stop, seen[label]), daemon=True)
               for label, tok in parties]
    for p in pollers:
        p.start()
    sock = socket.create_connection(("127.0.0.1", a.beast_port), timeout=10)
    t_start, first, n = time.monotonic(), None, 0
    for t, fr in frames(a.frames):
        first = t if first is None else first
        wait = (t - first) / a.speed - (time.monotonic() - t_start)
        if wait > 0:
            time.sleep(wait)
        sock.sendall(escape(fr))
        n += 1
    print(f"interop_adsb: sent {n} Beast frames in {time.monotonic() - t_start:.1f} s")
    time.sleep(a.settle_s)
    stop.set()
    for p in pollers:
        p.join()
    sock.close()

    failures = []
    for label, _ in parties:
        failures += check(label, truth, seen[label], a.tolerance_m)
    for f in failures[:40]:
        print(f"interop_adsb: FAIL {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("interop_adsb: ok")


def check(label, truth, seen, tolerance_m):
    """The failures of one party's stored tracks against pyModeS's positions."""
    failures = []
    for icao, positions in sorted(truth.items()):
        stored = seen.get(icao)
        if not stored:
            failures.append(f"{label}: {icao}: pyModeS has {len(positions)} positions, the service stored none")
            continue
        worst = 0.0
        for p in stored:
            d = min(metres(p, q) for q in positions)
            worst = max(worst, d)
            if d > tolerance_m:
                failures.append(f"{label}: {icao}: stored {p} is {d:.1f} m from every pyModeS position")
        last = list(stored)[-1]
        d_last = metres(last, positions[-1])
        print(f"interop_adsb: {label}: {icao}: {len(stored)} distinct stored positions, each within "
              f"{worst:.2f} m of a pyModeS position; the last {d_last:.2f} m from pyModeS's last")
        if d_last > tolerance_m:
            failures.append(f"{label}: {icao}: last stored {last} is {d_last:.1f} m from pyModeS's last {positions[-1]}")
    for icao in sorted(set(seen) - set(truth)):
        failures.append(f"{label}: {icao}: stored, but pyModeS decodes no position for it")
    return failures


if __name__ == "__main__":
    main()
