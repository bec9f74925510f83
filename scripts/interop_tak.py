#!/usr/bin/env python3
"""The TAK half of scripts/interop_feeds.sh: pytak, the real TAK client library, sends the
CoT tracks of two converging drones of two parties, each to that party's
`deconflict feed cot` (party A over TCP, party B over UDP); the service must store both
tracks as sent and alert both parties.

    interop_tak.py --cot-a HOST:PORT --cot-b HOST:PORT --server URL --token-a T --token-b T

The drones fly at 120 m, 1.8 km apart, closing head-on at 40 m/s; each sends its position
every 0.5 s (pytak.gen_cot_xml, with <track course speed> added to its detail). Exits 1 when
a track is not stored as sent or no alert reaches both parties within --timeout-s.
"""
import argparse
import asyncio
import json
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from configparser import ConfigParser

import pytak

M_PER_DEG = 111_195.0


class Done(Exception):
    """Raised by a sender when it has sent all its events, to end pytak's CLITool.run."""


class Drone(pytak.QueueWorker):
    """Puts one drone's CoT position events on pytak's transmit queue."""

    def __init__(self, queue, config, uid, lat0, course, speed, seconds, sent):
        super().__init__(queue, config)
        self.uid, self.lat0, self.course, self.speed = uid, lat0, course, speed
        self.seconds, self.sent = seconds, sent

    async def handle_data(self, data):
        await self.put_queue(data)

    async def run(self, _=-1):
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.seconds:
            dt = time.monotonic() - t0
            north = self.speed * dt * (1 if self.course == 0 else -1)
            lat = round(self.lat0 + north / M_PER_DEG, 7)
            ev = pytak.gen_cot_xml(lat=lat, lon=35.0, ce=10, hae=120, le=5, uid=self.uid,
                                   stale=30, cot_type="a-f-A-M-H-Q", callsign=self.uid)
            detail = ev.find("detail")
            if detail is None:
                detail = ET.SubElement(ev, "detail")
            ET.SubElement(detail, "track", course=str(self.course), speed=str(self.speed))
            await self.handle_data(ET.tostring(ev))
            point = ev.find("point")
            self.sent[self.uid] = (float(point.get("lat")), float(point.get("lon")))
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # let the TX worker drain the queue
        raise Done()


async def fly(url, uid, lat0, course, seconds, sent):
    cfg = ConfigParser()
    cfg["drone"] = {"COT_URL": url, "PYTAK_NO_HELLO": ""}
    cfg = cfg["drone"]
    tool = pytak.CLITool(cfg)
    await tool.setup()
    tool.add_tasks({Drone(tool.tx_queue, cfg, uid, lat0, course, 20.0, seconds, sent)})
    try:
        await tool.run()
    except Done:
        pass


def get(server, token, path):
    req = urllib.request.Request(f"{server}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


async def watch(a, t0, result):
    """Waits for an alert in both parties' /v1/alerts."""
    while time.monotonic() - t0 < a.timeout_s:
        got = {}
        for name, tok in (("A", a.token_a), ("B", a.token_b)):
            alerts = await asyncio.to_thread(get, a.server, tok, "/v1/alerts?after=0")
            if alerts:
                got[name] = alerts[0]
        if len(got) == 2:
            result["alerts"] = got
            result["after_s"] = time.monotonic() - t0
            return
        await asyncio.sleep(0.1)


async def run(a):
    sent, result = {}, {}
    t0 = time.monotonic()
    gap = 1800.0
    await asyncio.gather(
        fly(f"tcp://{a.cot_a}", "RUS-UAV-1", 35.0, 0, a.fly_s, sent),
        fly(f"udp+wo://{a.cot_b}", "COAL-UAV-9", 35.0 + gap / M_PER_DEG, 180, a.fly_s, sent),
        watch(a, t0, result),
    )
    return sent, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cot-a", required=True)
    ap.add_argument("--cot-b", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--token-a", required=True)
    ap.add_argument("--token-b", required=True)
    ap.add_argument("--fly-s", type=float, default=12.0)
    ap.add_argument("--timeout-s", type=float, default=12.0)
    a = ap.parse_args()
    sent, result = asyncio.run(run(a))
    failures = []
    for uid, tok in (("RUS-UAV-1", a.token_a), ("COAL-UAV-9", a.token_b)):
        # The last event may still be in the bridge's batch: up to 5 s for it.
        lat, lon = sent[uid]
        deadline, t = time.monotonic() + 5.0, None
        while time.monotonic() < deadline:
            t = {t["asset"]: t for t in get(a.server, tok, "/v1/tracks")["own"]}.get(uid)
            if t is not None and abs(t["lat"] - lat) < 1e-9 and abs(t["lng"] - lon) < 1e-9:
                break
            time.sleep(0.1)
        if t is None:
            failures.append(f"{uid}: not stored")
        elif abs(t["lat"] - lat) > 1e-9 or abs(t["lng"] - lon) > 1e-9 or t["class"] != "uas_small" \
                or abs(t["alt_m"] - 120) > 1e-9 or abs(t["gs_mps"] - 20) > 1e-9:
            failures.append(f"{uid}: stored {t}; pytak last sent {lat}, {lon} at 120 m, 20 m/s, a-f-A-M-H-Q")
        else:
            print(f"interop_tak: {uid} stored as pytak last sent it: {lat}, {lon}, {t['class']}")
    if "alerts" not in result:
        failures.append(f"no alert reached both parties within {a.timeout_s} s")
    else:
        al = result["alerts"]
        print(f"interop_tak: both parties alerted {result['after_s']:.1f} s after the first CoT "
              f"(level {al['A'].get('level')}, conflict {al['A'].get('conflict_id')})")
        if al["A"].get("conflict_id") != al["B"].get("conflict_id"):
            failures.append(f"the two alerts name different conflicts: {al}")
        for mine, theirs in (("A", "COAL-UAV-9"), ("B", "RUS-UAV-1")):
            if theirs in json.dumps(al[mine]):
                failures.append(f"party {mine}'s alert names the other side's drone {theirs}")
    for f in failures:
        print(f"interop_tak: FAIL {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("interop_tak: ok")


if __name__ == "__main__":
    main()
