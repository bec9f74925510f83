#!/usr/bin/env python3
"""The TAK half of scripts/interop_feeds.sh: pytak, the real TAK client library, sends the
CoT tracks of two converging drones of two parties, each to that party's
`deconflict feed cot` (party A over TCP, party B over UDP); the service must store both
tracks as sent and alert both parties. With --cot-out, a pytak client of party B is also
connected (over TCP, through pytak's own reader and RXWorker) to B's `deconflict feed
cot-out`, and must receive the intruder as a CoT track and the alert as a GeoChat message
within --max-latency-s (2 s) of the alert, measured from the alert's own `time` and from
the moment it is first seen on B's GET /v1/alerts; neither may name A's drone. With
--cot-out-udp GROUP:PORT, a second pytak client reads B's cot-out's multicast (`udp+ro://`,
joined on 127.0.0.1, as a TAK client on the mesh) and must get the same within the same time.

    interop_tak.py --cot-a HOST:PORT --cot-b HOST:PORT --server URL --token-a T --token-b T
                   [--cot-out HOST:PORT] [--cot-out-udp GROUP:PORT]

The drones fly at 120 m, 1.8 km apart, closing head-on at 40 m/s; each sends its position
every 0.5 s (pytak.gen_cot_xml, with <track course speed> added to its detail). Exits 1 when
a track is not stored as sent, no alert reaches both parties within --timeout-s, or the CoT
out check fails.
"""
import argparse
import asyncio
import json
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from configparser import ConfigParser
from datetime import datetime

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


class Receiver(pytak.QueueWorker):
    """Takes the events pytak's RXWorker read from the bridge (cut at </event>) off the
    receive queue, and keeps each with the wall-clock time it arrived."""

    def __init__(self, queue, config, got):
        super().__init__(queue, config)
        self.got = got

    async def handle_data(self, data):
        at = time.time()
        try:
            ev = ET.fromstring(data.strip())
        except ET.ParseError as e:
            self.got.append((at, None, data, str(e)))
            return
        self.got.append((at, ev, data, None))


async def tak_client(url, got, **extra):
    """A pytak TAK client (reads and writes, sends its hello as TAK clients do) that keeps
    every event it receives, until cancelled. `extra`: more of pytak's configuration."""
    cfg = ConfigParser()
    cfg["client"] = {"COT_URL": url, **extra}
    cfg = cfg["client"]
    tool = pytak.CLITool(cfg)
    await tool.setup()
    tool.add_tasks({Receiver(tool.rx_queue, cfg, got)})
    await tool.run()


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
                result.setdefault(f"seen_{name}", time.time())
        if len(got) == 2:
            result["alerts"] = got
            result["after_s"] = time.monotonic() - t0
            return
        await asyncio.sleep(0.1)


async def run(a):
    sent, result = {}, {}
    clients = {}
    if a.cot_out:
        clients["cot_out"] = ([], None)
        clients["cot_out"] = (clients["cot_out"][0],
                              asyncio.create_task(tak_client(f"tcp://{a.cot_out}", clients["cot_out"][0])))
    if a.cot_out_udp:
        got = []
        # Read-only on the mesh, joined on loopback; a read-only client has nothing to say hello on.
        clients["cot_out_udp"] = (got, asyncio.create_task(tak_client(
            f"udp+ro://{a.cot_out_udp}", got, PYTAK_MULTICAST_LOCAL_ADDR="127.0.0.1",
            PYTAK_NO_HELLO="")))
    if clients:
        await asyncio.sleep(0.5)  # connected before the first alert
    t0 = time.monotonic()
    gap = 1800.0
    await asyncio.gather(
        fly(f"tcp://{a.cot_a}", "RUS-UAV-1", 35.0, 0, a.fly_s, sent),
        fly(f"udp+wo://{a.cot_b}", "COAL-UAV-9", 35.0 + gap / M_PER_DEG, 180, a.fly_s, sent),
        watch(a, t0, result),
    )
    for key, (got, client) in clients.items():
        if client.done() and client.exception() is not None:
            result[f"{key}_error"] = repr(client.exception())
        client.cancel()
        try:
            await client
        except (asyncio.CancelledError, Exception):  # pylint: disable=broad-except
            pass
        result[key] = got
    return sent, result


def check_cot_out(a, result, key, how):
    """The intruder's track and the alert's chat message, as B's pytak client (`how`) got
    them into result[key]."""
    failures = []
    if f"{key}_error" in result:
        return [f"the pytak client ({how}) failed: {result[f'{key}_error']}"]
    alert = result.get("alerts", {}).get("B")
    if alert is None:
        return ["no alert for party B to compare the CoT with"]
    cid = alert["conflict_id"]
    got = result[key]
    bad = [g for g in got if g[1] is None]
    if bad:
        failures.append(f"{len(bad)} events pytak could not parse: {bad[0][2][:200]!r} ({bad[0][3]})")
    events = [(at, ev, raw) for at, ev, raw, _ in got if ev is not None]
    track = next(((at, ev, raw) for at, ev, raw in events
                  if ev.get("type", "").startswith("a-u-A") and ev.get("uid") == f"deconflict-{cid}"),
                 None)
    chat = next(((at, ev, raw) for at, ev, raw in events
                 if ev.get("type") == "b-t-f" and cid in (ev.findtext("detail/remarks") or "")), None)
    if track is None:
        failures.append(f"no CoT track with uid deconflict-{cid} among {len(events)} events: "
                        f"{[(e.get('type'), e.get('uid')) for _, e, _ in events][:10]}")
    if chat is None:
        failures.append(f"no GeoChat (b-t-f) message naming {cid}")
    if failures:
        return failures
    at, ev, raw = track
    point, contact = ev.find("point"), ev.find("detail/contact")
    callsign = contact.get("callsign") if contact is not None else None
    if callsign != f"INTRUDER {cid}":
        failures.append(f"the track's callsign is {callsign!r}, not 'INTRUDER {cid}'")
    for secret in ("RUS-UAV-1", "RUS"):
        if secret in ev.get("uid", "") or secret in (callsign or ""):
            failures.append(f"the track's uid/callsign names the other side ({secret}): {raw[:300]!r}")
    if b"RUS-UAV-1" in raw or b"RUS-UAV-1" in chat[2]:
        failures.append("an event names the other side's drone RUS-UAV-1")
    lat, hae = float(point.get("lat")), float(point.get("hae"))
    want = alert["intruder"]
    if abs(lat - want["lat"]) > 1e-6 or abs(hae - 120.0) > 1e-6 or ev.get("how") != "m-g":
        failures.append(f"the track is at {lat}, {hae} m; the alert's intruder is {want}")
    alert_t = datetime.fromisoformat(alert["time"].replace("Z", "+00:00")).timestamp()
    first = min(track[0], chat[0])
    last = max(track[0], chat[0])
    seen = result.get("seen_B", alert_t)
    print(f"interop_tak: pytak ({how}) got the intruder {ev.get('uid')} "
          f"({ev.get('type')}, callsign {callsign!r}) and the alert as GeoChat "
          f"{last - alert_t:.3f} s after the alert's time and {last - seen:+.3f} s after it was "
          f"first seen on GET /v1/alerts (polled every 0.1 s); first event {first - alert_t:.3f} s")
    if last - alert_t > a.max_latency_s or last - seen > a.max_latency_s:
        failures.append(f"{how}: the CoT came {last - alert_t:.3f} s after the alert's time "
                        f"({last - seen:+.3f} s after /v1/alerts showed it), over {a.max_latency_s} s")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cot-a", required=True)
    ap.add_argument("--cot-b", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--token-a", required=True)
    ap.add_argument("--token-b", required=True)
    ap.add_argument("--fly-s", type=float, default=12.0)
    ap.add_argument("--timeout-s", type=float, default=12.0)
    ap.add_argument("--cot-out", help="B's deconflict feed cot-out, HOST:PORT")
    ap.add_argument("--cot-out-udp", help="the multicast GROUP:PORT of B's feed cot-out --udp")
    ap.add_argument("--max-latency-s", type=float, default=2.0)
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
    if a.cot_out:
        failures += check_cot_out(a, result, "cot_out", "feed cot-out of B, TCP")
    if a.cot_out_udp:
        failures += check_cot_out(a, result, "cot_out_udp", "feed cot-out of B, UDP multicast")
    for f in failures:
        print(f"interop_tak: FAIL {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("interop_tak: ok")


if __name__ == "__main__":
    main()
