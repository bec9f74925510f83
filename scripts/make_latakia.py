#!/usr/bin/env python3
"""Generate scenarios/latakia-2015.jsonl, a scripted demo scenario for deconflict.

Two parties fly near the air base by Latakia, Syria (about 35.401 N, 35.948 E)
on 2015-09-30 from 06:00:00Z for 12 minutes: RUS-* assets fly from the base,
COAL-* assets belong to the coalition.  One JSON object per line, one report
per airborne asset every 2 s, lines sorted by time then asset name.

The scenario is fictional and illustrative; it is not a reconstruction of any
real flight.  It is scripted so that a conflict detector has something to
find: one planned, converging encounter for every unordered pair of aircraft
classes (most lose separation, a few are near misses that stay just outside),
a same-party formation, landings, late departures and one asset whose reports
stop in mid-air.

How the traffic is made
  * Every asset flies a small program (straight legs, turns at a fixed rate,
    speed changes at a fixed acceleration, climbs/descents at a fixed vertical
    rate), integrated every 0.1 s on a flat plane centred on the runway
    (x east, y north, metres).  Reports carry the instantaneous ground speed,
    track and vertical speed, so they agree with how the positions move.
  * Plane coordinates become latitude/longitude through an oblique
    stereographic projection on a sphere of radius 6371008.8 m centred on the
    base.  It is conformal; its scale error is below 1.5e-4 within 150 km;
    the reported track is corrected for the small grid convergence.
  * Encounters are placed by construction: the second aircraft of a pair is
    translated so that, at the planned time of closest approach, it sits at
    the planned miss distance from the first, perpendicular to the relative
    velocity; its altitude is chosen to give the planned vertical miss.

Checks printed to stderr
  * the planned encounters, and each one re-measured from the generated
    reports with an independent flat-earth closest-point-of-approach
    computation;
  * every loss of separation found by an all-pairs scan of the reports
    (planned or not), using the separation standards of the detector;
  * how well positions and altitudes follow the reported velocities.

Python 3.11 standard library only; the output is deterministic.
Usage: python3 scripts/make_latakia.py [--out scenarios/latakia-2015.jsonl]
"""

import argparse
import datetime as dt
import json
import math
import os
import sys

# ----------------------------------------------------------------------------
# constants

BASE_LAT, BASE_LON = 35.401, 35.948
EARTH_R = 6371008.8
FIELD_ELEV = 48.0                      # metres above mean sea level
START = dt.datetime(2015, 9, 30, 6, 0, 0, tzinfo=dt.timezone.utc)
DURATION = 720                         # seconds
REPORT_EVERY = 2                       # seconds
TICKS_PER_S = 10                       # integration step 0.1 s
STD_RATE = 3.0                         # deg/s, rate-one turn
QUAD_RATE = 6.0                        # deg/s for the small quadcopters

MANNED = {"fixed_wing", "rotorcraft"}
# (radius m, vertical half-height m, lookahead s)
STD_MANNED = (9260.0, 304.8, 300.0)
STD_UAS = (1222.0, 137.0, 180.0)
STD_SMALL = (50.0, 15.0, 60.0)

# Runway 18/36 modelled as north-south through the origin; operations use 18
# (landing and departing southbound).
LIFTOFF = (0.0, -300.0)
TOUCHDOWN = (0.0, 1100.0)
HELIPAD = (700.0, -300.0)


def standard(c1, c2):
    if c1 == "uas_small" and c2 == "uas_small":
        return STD_SMALL
    if c1 in MANNED and c2 in MANNED:
        return STD_MANNED
    return STD_UAS


# ----------------------------------------------------------------------------
# projection

_SIN0, _COS0 = math.sin(math.radians(BASE_LAT)), math.cos(math.radians(BASE_LAT))


def plane_to_geo(x, y):
    """Inverse oblique stereographic projection (sphere) centred on the base."""
    rho = math.hypot(x, y)
    if rho < 1e-9:
        return BASE_LAT, BASE_LON
    c = 2.0 * math.atan(rho / (2.0 * EARTH_R))
    sc, cc = math.sin(c), math.cos(c)
    lat = math.asin(cc * _SIN0 + y * sc * _COS0 / rho)
    lon = math.radians(BASE_LON) + math.atan2(x * sc, rho * _COS0 * cc - y * _SIN0 * sc)
    return math.degrees(lat), math.degrees(lon)


def bearing_deg(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    yy = math.sin(dl) * math.cos(p2)
    xx = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(yy, xx))


def grid_convergence(x, y):
    """True bearing (deg) of the plane's +y axis at (x, y)."""
    la1, lo1 = plane_to_geo(x, y)
    la2, lo2 = plane_to_geo(x, y + 1.0)
    return bearing_deg(la1, lo1, la2, lo2)


# ----------------------------------------------------------------------------
# flight programs

def turn_to(t, hdg, direction=0, rate=STD_RATE):
    """Turn to heading hdg starting at t; direction +1 right, -1 left, 0 shortest."""
    return ("turn_to", t, hdg, direction, rate)


def turn_by(t, degrees, rate=STD_RATE):
    """Turn through a signed angle (positive = right) starting at t."""
    return ("turn_by", t, degrees, rate)


def speed(t, gs, accel):
    return ("speed", t, gs, accel)


def alt_to(t, alt, rate):
    return ("alt", t, alt, rate)


def racetrack(t_first_turn, leg_s, until, direction=+1, rate=STD_RATE):
    """180-degree turns separated by straight legs of leg_s seconds."""
    cmds, t = [], t_first_turn
    turn_s = 180.0 / rate
    while t < until:
        cmds.append(turn_by(t, 180.0 * direction, rate))
        t += turn_s + leg_s
    return cmds


def shuttle(t_first_turn, leg_s, until, first_direction=-1, rate=STD_RATE):
    """Back-and-forth legs whose 180-degree turns alternate left and right, so
    that every turn bulges to the same side of the line of legs."""
    cmds, t, d = [], t_first_turn, first_direction
    turn_s = 180.0 / rate
    while t < until:
        cmds.append(turn_by(t, 180.0 * d, rate))
        d = -d
        t += turn_s + leg_s
    return cmds


class Asset:
    def __init__(self, name, cls, t0, hdg, gs, alt, cmds=(), t1=DURATION, land=False):
        assert t0 % REPORT_EVERY == 0
        self.name, self.cls, self.t0, self.t1 = name, cls, t0, t1
        self.hdg0, self.gs0, self.alt0 = hdg, gs, alt
        self.cmds = sorted(cmds, key=lambda c: c[1])
        self.land = land               # stop reporting once on the ground
        self.samples = {}              # t -> [x, y, alt, gs, hdg, vs]  (plane)

    # -- integration ----------------------------------------------------------
    def simulate(self):
        hdg, gs, alt = self.hdg0 % 360.0, self.gs0, self.alt0
        x = y = 0.0
        turn_left = 0.0                # signed degrees still to turn
        turn_rate = STD_RATE
        gs_target, gs_accel = gs, 0.0
        alt_target, alt_rate = alt, 0.0
        pending = list(self.cmds)
        dtk = 1.0 / TICKS_PER_S
        tick = self.t0 * TICKS_PER_S
        last_tick = DURATION * TICKS_PER_S
        while True:
            t = tick / TICKS_PER_S
            while pending and pending[0][1] <= t + 1e-9:
                c = pending.pop(0)
                if c[0] == "turn_to":
                    _, _, target, direction, turn_rate = c
                    right = (target - hdg) % 360.0
                    if direction > 0 or (direction == 0 and right <= 180.0):
                        turn_left = right
                    else:
                        turn_left = -((hdg - target) % 360.0)
                elif c[0] == "turn_by":
                    _, _, turn_left, turn_rate = c
                elif c[0] == "speed":
                    _, _, gs_target, gs_accel = c
                elif c[0] == "alt":
                    _, _, alt_target, alt_rate = c
            vs = 0.0
            if abs(alt_target - alt) > 1e-9:
                vs = math.copysign(alt_rate, alt_target - alt)
            if tick % (REPORT_EVERY * TICKS_PER_S) == 0:
                self.samples[int(round(t))] = [x, y, alt, gs, hdg, vs]
                landed = self.land and t > self.t0 + 10 and alt <= FIELD_ELEV + 1e-6
                if landed or t >= self.t1 - 1e-9 or tick >= last_tick:
                    self.t1 = int(round(t))
                    break
            # one step
            dh = 0.0
            if abs(turn_left) > 1e-9:
                dh = math.copysign(min(turn_rate * dtk, abs(turn_left)), turn_left)
                turn_left -= dh
            dv = 0.0
            if abs(gs_target - gs) > 1e-9:
                dv = math.copysign(min(gs_accel * dtk, abs(gs_target - gs)), gs_target - gs)
            dz = 0.0
            if vs:
                dz = math.copysign(min(alt_rate * dtk, abs(alt_target - alt)), vs)
            h_mid = math.radians(hdg + dh / 2.0)
            v_mid = gs + dv / 2.0
            x += v_mid * dtk * math.sin(h_mid)
            y += v_mid * dtk * math.cos(h_mid)
            hdg = (hdg + dh) % 360.0
            gs += dv
            alt += dz
            tick += 1

    def shift(self, dx, dy):
        for s in self.samples.values():
            s[0] += dx
            s[1] += dy

    def pos(self, t):
        s = self.samples[t]
        return s[0], s[1]

    def alt(self, t):
        return self.samples[t][2]

    def vel(self, t):
        s = self.samples[t]
        h = math.radians(s[4])
        return s[3] * math.sin(h), s[3] * math.cos(h)


class World:
    def __init__(self):
        self.assets = {}
        self.encounters = []           # planned encounters

    def add(self, asset, at=None, cpa=None):
        """at=(t, x, y): put the asset there at time t ('end' = last report).
        cpa=(t, other, h, side): pass `other` at time t, horizontal miss h,
        on the left (side=-1) or right (+1) of the relative velocity."""
        asset.simulate()
        if at is not None:
            t, x, y = at
            if t == "end":
                t = asset.t1
            px, py = asset.pos(t)
            asset.shift(x - px, y - py)
        elif cpa is not None:
            t, other, h, side = cpa
            o = self.assets[other]
            ox, oy = o.pos(t)
            vx, vy = asset.vel(t)
            wx, wy = o.vel(t)
            rx, ry = vx - wx, vy - wy
            n = math.hypot(rx, ry)
            ux, uy = -ry / n * side, rx / n * side
            px, py = asset.pos(t)
            asset.shift(ox + h * ux - px, oy + h * uy - py)
        self.assets[asset.name] = asset
        return asset

    def plan(self, eid, t, a, b, h, v, note):
        self.encounters.append(dict(id=eid, t=t, a=a, b=b, h=h, v=v, note=note))


# ----------------------------------------------------------------------------
# the scenario

def departure(name, t0, climb_to, climb_rate, cruise, first_turn):
    """Lift-off from runway 18 then a turn; first_turn = (t, heading, dir)."""
    ft, fh, fd = first_turn
    return Asset(name, "fixed_wing", t0, 180.0, 85.0, FIELD_ELEV,
                 [speed(t0, cruise, 4.0), alt_to(t0, climb_to, climb_rate), turn_to(ft, fh, fd)])


def quad_sortie(name, t0, hdg, gs, cruise_alt, legs, t_land):
    """A small quadcopter: climbs from the ground, flies `legs`, lands at t_land."""
    cmds = [alt_to(t0, cruise_alt, 3.0)] + list(legs)
    cmds += [speed(t_land, 0.0, 2.0), alt_to(t_land + 8, FIELD_ELEV, 3.0)]
    return Asset(name, "uas_small", t0, hdg, gs, FIELD_ELEV, cmds, land=True)


def build():
    W = World()
    A = W.assets

    # -- E1 fixed_wing / fixed_wing: CAP over the sea vs a southbound F-16 ----
    W.add(Asset("RUS-SU30-04", "fixed_wing", 0, 90.0, 200.0, 6800.0,
                racetrack(150, 150, DURATION, +1)), at=(70, -6000.0, 40000.0))
    W.add(Asset("COAL-F16-01", "fixed_wing", 0, 200.0, 230.0, A["RUS-SU30-04"].alt(70) + 120.0,
                [turn_to(130, 100.0, -1)]), cpa=(70, "RUS-SU30-04", 2500.0, +1))
    W.plan("E1", 70, "RUS-SU30-04", "COAL-F16-01", 2500.0, 120.0,
           "CAP Su-30 over the sea crosses a southbound F-16 (loss of separation)")

    # -- E2 fixed_wing / uas_large: departing Su-34 climbs through an MQ-9 ---
    W.add(departure("RUS-SU34-05", 0, 3500.0, 20.0, 220.0, (14, 90.0, -1)), at=(0, *LIFTOFF))
    W.add(Asset("COAL-MQ9-01", "uas_large", 0, 20.0, 55.0, A["RUS-SU34-05"].alt(140) - 50.0,
                racetrack(160, 160, DURATION, +1)), cpa=(140, "RUS-SU34-05", 500.0, -1))
    W.plan("E2", 140, "RUS-SU34-05", "COAL-MQ9-01", 500.0, 50.0,
           "Su-34 departure, climbing at 20 m/s, passes an MQ-9 orbit (loss of separation)")

    # -- E3 rotorcraft / uas_large: Mi-8 over the ridge meets an MQ-9 orbit ---
    W.add(Asset("COAL-MQ9-02", "uas_large", 0, 270.0, 50.0, 1400.0,
                racetrack(100, 150, DURATION, -1), t1=400), at=(0, 24000.0, -14000.0))
    W.add(Asset("RUS-MI8-01", "rotorcraft", 0, 30.0, 70.0, A["COAL-MQ9-02"].alt(190) + 30.0,
                [turn_to(300, 350.0, -1), speed(300, 65.0, 0.5)]),
          cpa=(190, "COAL-MQ9-02", 350.0, +1))
    W.plan("E3", 190, "COAL-MQ9-02", "RUS-MI8-01", 350.0, 30.0,
           "Mi-8 crossing the ridge at 1430 m meets an MQ-9 orbit (loss of separation)")

    # -- E4 uas_large / uas_large: near miss, 1.5 x radius horizontally -------
    W.add(Asset("RUS-UAV-07", "uas_large", 0, 60.0, 50.0, 3000.0,
                [turn_to(400, 150.0, +1)] + racetrack(580, 150, DURATION, +1)), at=(0, 2500.0, 3500.0))
    W.add(Asset("COAL-MQ9-03", "uas_large", 0, 290.0, 60.0, A["RUS-UAV-07"].alt(250),
                [turn_to(400, 200.0, -1)] + racetrack(580, 150, DURATION, -1)),
          cpa=(250, "RUS-UAV-07", 1.5 * STD_UAS[0], -1))
    W.plan("E4", 250, "RUS-UAV-07", "COAL-MQ9-03", 1.5 * STD_UAS[0], 0.0,
           "two UAVs transit at the same altitude, pass 1.5 x 1222 m apart (near miss)")

    # -- E5 rotorcraft / rotorcraft: Mi-24 vs HH-60 along the coast -----------
    W.add(Asset("COAL-HH60-01", "rotorcraft", 0, 10.0, 70.0, 500.0,
                [turn_to(330, 60.0, +1)]), at=(310, -9000.0, -35000.0))
    W.add(Asset("RUS-MI24-02", "rotorcraft", 0, 250.0, 75.0, 590.0,
                [turn_to(360, 200.0, -1)]), cpa=(310, "COAL-HH60-01", 1500.0, +1))
    W.plan("E5", 310, "COAL-HH60-01", "RUS-MI24-02", 1500.0, 90.0,
           "Mi-24 and HH-60 converge near the coast south of the base (loss of separation)")

    # -- E6 fixed_wing / rotorcraft: near miss, 1.5 x half-height vertically --
    W.add(Asset("RUS-MI24-03", "rotorcraft", 0, 200.0, 70.0, 700.0), at=(370, 30000.0, -42000.0))
    W.add(Asset("COAL-F15-01", "fixed_wing", 0, 300.0, 230.0, 700.0 + 1.5 * STD_MANNED[1]),
          cpa=(370, "RUS-MI24-03", 300.0, +1))
    W.plan("E6", 370, "RUS-MI24-03", "COAL-F15-01", 300.0, 1.5 * STD_MANNED[1],
           "F-15 passes almost overhead a Mi-24, 457 m above it (near miss)")

    # -- E7 fixed_wing / uas_small: Su-25 on final vs a quadcopter ------------
    W.add(Asset("RUS-SU25-03", "fixed_wing", 0, 225.0, 220.0, 6000.0,
                [alt_to(0, 1500.0, 20.0), speed(150, 90.0, 1.0), alt_to(250, 360.0, 10.0),
                 turn_to(365, 180.0, -1), speed(366, 80.0, 0.5), alt_to(380, FIELD_ELEV, 4.2)],
                land=True), at=("end", *TOUCHDOWN))
    W.add(quad_sortie("COAL-QUAD-01", 330, 270.0, 12.0, A["RUS-SU25-03"].alt(430) - 40.0,
                      [turn_to(480, 200.0, -1, QUAD_RATE)], 560),
          cpa=(430, "RUS-SU25-03", 250.0, +1))
    W.plan("E7", 430, "RUS-SU25-03", "COAL-QUAD-01", 250.0, 40.0,
           "Su-25 on final, descending, passes over a quadcopter (loss of separation)")

    # -- E8 uas_large / uas_small: returning UAV vs a quadcopter on the approach
    W.add(Asset("RUS-UAV-08", "uas_large", 0, 200.0, 50.0, 1500.0,
                [alt_to(200, 250.0, 5.0), turn_to(300, 180.0, -1), speed(400, 40.0, 0.2),
                 alt_to(520, FIELD_ELEV, 2.5)], land=True), at=("end", *TOUCHDOWN))
    W.add(quad_sortie("COAL-QUAD-03", 420, 270.0, 12.0, A["RUS-UAV-08"].alt(500) - 50.0,
                      [turn_to(540, 90.0, +1, QUAD_RATE)], 640),
          cpa=(500, "RUS-UAV-08", 300.0, -1))
    W.plan("E8", 500, "RUS-UAV-08", "COAL-QUAD-03", 300.0, 50.0,
           "UAV returning to land passes a quadcopter 5 km north of the runway (loss of separation)")

    # -- E9 rotorcraft / uas_small: Ka-52 lifts off and meets a quadcopter ----
    W.add(Asset("RUS-KA52-05", "rotorcraft", 520, 90.0, 20.0, FIELD_ELEV,
                [speed(520, 70.0, 2.0), alt_to(520, 150.0, 5.0), turn_to(600, 45.0, -1),
                 alt_to(600, 400.0, 5.0)]), at=(520, *HELIPAD))
    W.add(quad_sortie("COAL-QUAD-02", 400, 250.0, 12.0, A["RUS-KA52-05"].alt(570) - 30.0,
                      [], DURATION), cpa=(570, "RUS-KA52-05", 200.0, +1))
    W.plan("E9", 570, "RUS-KA52-05", "COAL-QUAD-02", 200.0, 30.0,
           "Ka-52 just after lift-off passes a quadcopter east of the base (loss of separation)")

    # -- E10 uas_small / uas_small: base quad intercepts the intruder ----------
    W.add(quad_sortie("RUS-QUAD-02", 590, 280.0, 15.0, A["COAL-QUAD-02"].alt(650) + 5.0,
                      [turn_to(662, 20.0, +1, QUAD_RATE)], 680),
          cpa=(650, "COAL-QUAD-02", 20.0, +1))
    W.plan("E10", 650, "COAL-QUAD-02", "RUS-QUAD-02", 20.0, 5.0,
           "base quadcopter crosses 20 m from the intruding quadcopter (loss of separation)")

    # -- E11 fixed_wing / uas_large: near miss, 1.5 x half-height vertically --
    W.add(Asset("RUS-UAV-09", "uas_large", 0, 0.0, 50.0, 3000.0,
                [turn_by(120, 180.0), turn_by(300, 180.0), turn_by(420, 180.0)]),
          at=(0, -25000.0, 15000.0))
    W.add(Asset("COAL-F16-02", "fixed_wing", 300, 60.0, 210.0,
                A["RUS-UAV-09"].alt(690) + 1.5 * STD_UAS[1]),
          cpa=(690, "RUS-UAV-09", 400.0, -1))
    W.plan("E11", 690, "RUS-UAV-09", "COAL-F16-02", 400.0, 1.5 * STD_UAS[1],
           "F-16 passes 205.5 m above a UAV over the sea (near miss)")

    # -- same-party formation: two Su-24 line abreast, 100 m apart ------------
    W.add(departure("RUS-SU24-01", 200, 5500.0, 20.0, 210.0, (216, 120.0, -1)), at=(200, *LIFTOFF))
    W.add(departure("RUS-SU24-02", 200, 5500.0, 20.0, 210.0, (216, 120.0, -1)),
          at=(200, LIFTOFF[0] + 100.0, LIFTOFF[1]))

    # -- background traffic ---------------------------------------------------
    W.add(Asset("RUS-IL20-06", "fixed_wing", 0, 0.0, 180.0, 7600.0,
                racetrack(200, 200, DURATION, -1)), at=(0, -45000.0, -15000.0))
    W.add(Asset("COAL-KC135-01", "fixed_wing", 0, 270.0, 200.0, 8500.0,
                racetrack(180, 180, DURATION, -1)), at=(0, 40000.0, 75000.0))
    W.add(Asset("RUS-MI8-04", "rotorcraft", 0, 340.0, 65.0, 300.0), at=(0, -14000.0, 14000.0))
    # base perimeter quadcopters: north-south patrol lines west of the runway
    W.add(Asset("RUS-QUAD-01", "uas_small", 0, 0.0, 15.0, 90.0,
                shuttle(200, 170, DURATION, -1, QUAD_RATE)), at=(0, -1800.0, -1000.0))
    W.add(quad_sortie("RUS-QUAD-03", 100, 180.0, 12.0, 70.0,
                      shuttle(266, 150, 640, +1, QUAD_RATE), 680), at=(100, -1500.0, -1500.0))
    return W


# ----------------------------------------------------------------------------
# output

def iso(t):
    return (START + dt.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def reports(W):
    rows = []
    for a in W.assets.values():
        for t in range(a.t0, a.t1 + 1, REPORT_EVERY):
            x, y, alt, gs, hdg, vs = a.samples[t]
            lat, lon = plane_to_geo(x, y)
            track = (hdg + grid_convergence(x, y)) % 360.0
            track = round(track, 1) % 360.0
            rows.append({
                "asset": a.name, "time": iso(t),
                "lat": round(lat, 6), "lng": round(lon, 6),
                "alt_m": round(alt, 1), "gs_mps": round(gs, 1),
                "track_deg": track, "vs_mps": round(vs, 1), "class": a.cls,
                "_t": t,
            })
    rows.sort(key=lambda r: (r["_t"], r["asset"]))
    return rows


# ----------------------------------------------------------------------------
# independent verification from the reports (flat earth, local to each pair)

def flat(lat, lon, lat0, lon0):
    k = math.cos(math.radians(lat0))
    return (math.radians(lon - lon0) * EARTH_R * k, math.radians(lat - lat0) * EARTH_R)


def velocity(r):
    h = math.radians(r["track_deg"])
    return r["gs_mps"] * math.sin(h), r["gs_mps"] * math.cos(h), r["vs_mps"]


def pair_geometry(ra, rb):
    """Relative position/velocity of b w.r.t. a, flat earth about their midpoint."""
    lat0 = (ra["lat"] + rb["lat"]) / 2.0
    lon0 = (ra["lng"] + rb["lng"]) / 2.0
    ax, ay = flat(ra["lat"], ra["lng"], lat0, lon0)
    bx, by = flat(rb["lat"], rb["lng"], lat0, lon0)
    avx, avy, avz = velocity(ra)
    bvx, bvy, bvz = velocity(rb)
    return (bx - ax, by - ay, rb["alt_m"] - ra["alt_m"], bvx - avx, bvy - avy, bvz - avz)


def measured_cpa(by_asset, a, b, t_plan, half_window=60):
    """Minimum horizontal distance between a and b around t_plan, by linear
    CPA over each 2 s interval from the reported states."""
    best = None
    ra_all, rb_all = by_asset[a], by_asset[b]
    for t in range(t_plan - half_window, t_plan + half_window + 1, REPORT_EVERY):
        ra, rb = ra_all.get(t), rb_all.get(t)
        if ra is None or rb is None:
            continue
        rx, ry, rz, vx, vy, vz = pair_geometry(ra, rb)
        v2 = vx * vx + vy * vy
        tau = 0.0 if v2 < 1e-9 else max(0.0, min(REPORT_EVERY, -(rx * vx + ry * vy) / v2))
        d = math.hypot(rx + vx * tau, ry + vy * tau)
        dz = abs(rz + vz * tau)
        if best is None or d < best[1]:
            best = (t + tau, d, dz)
    return best


def separation_scan(by_asset, classes):
    """All pairs, every report time: intervals of actual loss of separation,
    and the worst (smallest) horizontal distance inside each interval."""
    names = sorted(by_asset)
    times = sorted({t for rs in by_asset.values() for t in rs})
    losses = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rad, half, _ = standard(classes[a], classes[b])
            for t in times:
                ra, rb = by_asset[a].get(t), by_asset[b].get(t)
                if ra is None or rb is None:
                    continue
                if abs(ra["lat"] - rb["lat"]) * 111000.0 > rad + 1000.0:
                    continue
                rx, ry, rz, *_ = pair_geometry(ra, rb)
                d = math.hypot(rx, ry)
                if d < rad and abs(rz) < half:
                    ivs = losses.setdefault((a, b), [])
                    if ivs and ivs[-1][1] == t - REPORT_EVERY:
                        ivs[-1][1] = t
                        if d < ivs[-1][2]:
                            ivs[-1][2:] = [d, abs(rz)]
                    else:
                        ivs.append([t, t, d, abs(rz)])
    return losses


def predicted_scan(by_asset, classes):
    """All pairs, every report time: does straight-line extrapolation of the
    reported velocities predict a loss of separation within the lookahead?
    Returns {(a, b): [first report time, last report time]}."""
    names = sorted(by_asset)
    times = sorted({t for rs in by_asset.values() for t in rs})
    pred = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rad, half, look = standard(classes[a], classes[b])
            for t in times:
                ra, rb = by_asset[a].get(t), by_asset[b].get(t)
                if ra is None or rb is None:
                    continue
                if abs(ra["lat"] - rb["lat"]) * 111000.0 > rad + 300.0 * look + 1000.0:
                    continue
                rx, ry, rz, vx, vy, vz = pair_geometry(ra, rb)
                # horizontal: |r + v s| < rad  ->  s in (h0, h1)
                aa = vx * vx + vy * vy
                bb = 2.0 * (rx * vx + ry * vy)
                cc = rx * rx + ry * ry - rad * rad
                if aa < 1e-12:
                    if cc >= 0:
                        continue
                    h0, h1 = -math.inf, math.inf
                else:
                    disc = bb * bb - 4 * aa * cc
                    if disc <= 0:
                        continue
                    sq = math.sqrt(disc)
                    h0, h1 = (-bb - sq) / (2 * aa), (-bb + sq) / (2 * aa)
                # vertical: |rz + vz s| < half
                if abs(vz) < 1e-12:
                    if abs(rz) >= half:
                        continue
                    v0, v1 = -math.inf, math.inf
                else:
                    v0, v1 = sorted(((-half - rz) / vz, (half - rz) / vz))
                lo, hi = max(h0, v0, 0.0), min(h1, v1, look)
                if lo < hi:
                    iv = pred.setdefault((a, b), [t, t])
                    iv[1] = t
    return pred


def consistency(by_asset):
    """Worst mismatch between reported motion and reported velocities over
    2 s, straight-and-steady intervals only, plus over all intervals."""
    worst_h = worst_h_all = worst_v = 0.0
    for name, rs in by_asset.items():
        ts = sorted(rs)
        for t1, t2 in zip(ts, ts[1:]):
            r1, r2 = rs[t1], rs[t2]
            dx, dy = flat(r2["lat"], r2["lng"], r1["lat"], r1["lng"])
            v1, v2 = velocity(r1), velocity(r2)
            ex = dx - (v1[0] + v2[0]) / 2 * (t2 - t1)
            ey = dy - (v1[1] + v2[1]) / 2 * (t2 - t1)
            err = math.hypot(ex, ey)
            steady = abs(r1["track_deg"] - r2["track_deg"]) < 0.05 and r1["gs_mps"] == r2["gs_mps"]
            worst_h_all = max(worst_h_all, err)
            if steady:
                worst_h = max(worst_h, err)
            if r1["vs_mps"] == r2["vs_mps"]:
                worst_v = max(worst_v, abs(r2["alt_m"] - r1["alt_m"] - r1["vs_mps"] * (t2 - t1)))
    return worst_h, worst_h_all, worst_v


def log(*args):
    print(*args, file=sys.stderr)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="generate the Latakia 2015 demo scenario")
    ap.add_argument("--out", default=os.path.join(here, "..", "scenarios", "latakia-2015.jsonl"))
    args = ap.parse_args()

    W = build()
    rows = reports(W)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps({k: v for k, v in r.items() if k != "_t"}, separators=(",", ":")) + "\n")
    size = os.path.getsize(args.out)

    by_asset, classes = {}, {}
    for r in rows:
        by_asset.setdefault(r["asset"], {})[r["_t"]] = r
        classes[r["asset"]] = r["class"]

    log(f"wrote {args.out}: {len(rows)} reports, {len(by_asset)} assets, {size} bytes")
    log("\nassets:")
    for a in sorted(W.assets.values(), key=lambda a: a.name):
        landed = a.land and a.alt(a.t1) <= FIELD_ELEV + 1e-6
        end = "landed" if landed else ("GOES SILENT in flight" if a.t1 < DURATION else "")
        ss = [a.samples[t] for t in range(a.t0, a.t1 + 1, REPORT_EVERY)]
        dist = max(math.hypot(s[0], s[1]) for s in ss) / 1000.0
        log(f"  {a.name:14s} {a.cls:11s} {iso(a.t0)[11:19]}-{iso(a.t1)[11:19]} "
            f"gs {min(s[3] for s in ss):5.1f}-{max(s[3] for s in ss):5.1f} m/s  "
            f"alt {min(s[2] for s in ss):6.0f}-{max(s[2] for s in ss):6.0f} m  "
            f"up to {dist:5.1f} km from the base  {end}")

    log("\nplanned encounters (h = horizontal miss, v = vertical miss at the time of closest approach)")
    log("  id  pair                         classes                   standard (R/H/look)   "
        "planned t  h m      v m     | measured t  h m      v m     | outcome")
    planned_pairs = set()
    for e in W.encounters:
        a, b = e["a"], e["b"]
        planned_pairs.add(tuple(sorted((a, b))))
        rad, half, look = standard(classes[a], classes[b])
        t, d, dz = measured_cpa(by_asset, a, b, e["t"])
        lost = d < rad and dz < half
        in_band = d < 2 * rad and dz < 2 * half
        outcome = "LOSS OF SEPARATION" if lost else (
            "near miss, inside 2x band" if in_band else "NOT EVEN IN 2x BAND")
        log(f"  {e['id']:3s} {a + ' / ' + b:28s} {classes[a] + '/' + classes[b]:25s} "
            f"{rad:6.0f}/{half:5.1f}/{look:3.0f}      {iso(e['t'])[11:19]}   {e['h']:7.1f} {e['v']:7.1f} | "
            f"{iso(int(round(t)))[11:19]}  {d:7.1f} {dz:7.1f} | {outcome}")
        e.update(measured_t=t, measured_h=d, measured_v=dz, lost=lost, classes=(classes[a], classes[b]))
        assert abs(d - e["h"]) < max(5.0, 0.01 * e["h"]), ("horizontal miss off plan", e)
        assert abs(dz - e["v"]) < 2.0, ("vertical miss off plan", e)
    mixes = {tuple(sorted(e["classes"])) for e in W.encounters}
    log(f"  class mixes covered: {len(mixes)} of 10")
    assert len(mixes) == 10

    losses = separation_scan(by_asset, classes)
    log("\nall losses of separation in the reports (pair: first-last, smallest h/v):")
    for (a, b), ivs in sorted(losses.items(), key=lambda kv: kv[1][0][0]):
        tag = "planned" if (a, b) in planned_pairs else (
            "formation" if {a, b} == {"RUS-SU24-01", "RUS-SU24-02"} else "UNPLANNED")
        for t1, t2, d, dz in ivs:
            log(f"  {a:14s} {b:14s} {iso(t1)[11:19]}-{iso(t2)[11:19]}  h {d:7.1f} m  v {dz:6.1f} m  {tag}")
    pred = predicted_scan(by_asset, classes)
    log("\npredicted conflicts (straight-line extrapolation within the lookahead), first-last report time:")
    for (a, b), (t1, t2) in sorted(pred.items(), key=lambda kv: kv[1][0]):
        tag = "planned" if (a, b) in planned_pairs else (
            "formation" if {a, b} == {"RUS-SU24-01", "RUS-SU24-02"} else "unplanned")
        party = "same party" if a.split("-")[0] == b.split("-")[0] else "cross-party"
        log(f"  {a:14s} {b:14s} {iso(t1)[11:19]}-{iso(t2)[11:19]}  {tag}, {party}")

    wh, wha, wv = consistency(by_asset)
    log(f"\nconsistency over 2 s: position vs mean reported velocity, steady flight {wh:.2f} m, "
        f"all intervals {wha:.2f} m; altitude vs vs {wv:.2f} m")


if __name__ == "__main__":
    main()
