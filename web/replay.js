// Replay mode: a tracks file (JSON Lines of track reports) and a replay's episodes file
// (`deconflict replay --out episodes.jsonl`) read from disk, scrubbed with a time slider.
// Nothing is sent to the service.

const toSeconds = (t) => (typeof t === 'number' ? t : Date.parse(t) / 1000);

export function parseLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l) continue;
    try {
      out.push(JSON.parse(l));
    } catch (_) {
      // A line that is not JSON is skipped, as the replay itself would refuse it.
    }
  }
  return out;
}

export class Replay {
  constructor() {
    this.byAsset = new Map(); // asset -> reports sorted by time
    this.episodes = [];
    this.t0 = 0;
    this.t1 = 0;
  }

  setTracks(reports) {
    this.byAsset.clear();
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const r of reports) {
      const t = toSeconds(r.time);
      if (!Number.isFinite(t) || typeof r.asset !== 'string') continue;
      const rr = { ...r, t };
      if (!this.byAsset.has(r.asset)) this.byAsset.set(r.asset, []);
      this.byAsset.get(r.asset).push(rr);
      t0 = Math.min(t0, t);
      t1 = Math.max(t1, t);
    }
    for (const v of this.byAsset.values()) v.sort((a, b) => a.t - b.t);
    this.t0 = Number.isFinite(t0) ? t0 : 0;
    this.t1 = Number.isFinite(t1) ? t1 : 0;
  }

  // Episodes as `deconflict replay --out` writes them; `start`/`end` (RFC 3339 or seconds)
  // become seconds, and one without both aircraft or both times is skipped.
  setEpisodes(eps) {
    this.episodes = eps
      .filter((e) => typeof e.a === 'string' && typeof e.b === 'string')
      .map((e) => ({ ...e, start: toSeconds(e.start), end: toSeconds(e.end) }))
      .filter((e) => Number.isFinite(e.start) && Number.isFinite(e.end));
  }

  // The last report at or before t (binary search), if within `staleS`.
  static at(list, t, staleS = 10) {
    let lo = 0;
    let hi = list.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].t <= t) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0 || t - list[best].t > staleS) return null;
    return best;
  }

  // What the map draws at time t: every asset as an own track with a 120 s trail, and each
  // episode live at t as an alert line between its two aircraft.
  frame(t) {
    const own = [];
    const pos = new Map();
    for (const [asset, list] of this.byAsset) {
      const i = Replay.at(list, t);
      if (i === null) continue;
      const r = list[i];
      const trail = [];
      for (let j = i; j >= 0 && t - list[j].t <= 120; j -= 1) trail.push([list[j].lng, list[j].lat]);
      trail.reverse();
      own.push({ ...r, asset, trail });
      pos.set(asset, [r.lng, r.lat]);
    }
    const alerts = [];
    for (const e of this.episodes) {
      if (t < e.start || t > e.end) continue;
      const a = pos.get(e.a);
      const b = pos.get(e.b);
      if (!a && !b) continue;
      alerts.push({ level: e.max_level || 0, own: a || null, intruder: b || null });
    }
    return { own, alerts };
  }
}
