// The map renderer: d3-geo (Mercator) on one canvas, no tile server. Country borders and
// coastlines come from world-atlas through topojson-client and are drawn once per view into
// an offscreen canvas; the live layers are drawn over it each frame, batched per colour (one
// path per colour and layer, no DOM node per track), so 10,000 tracks stay smooth.
/* global d3, topojson */

export const LEVEL_COLOURS = { 0: '#8a8f98', 1: '#e0c000', 2: '#f08000', 3: '#e02020' };
export const LEVEL_NAMES = { preventive: 1, corrective: 2, warning: 3 };

const OWN = '#1e6fff';
const INTRUDER = '#ff5db1';
const STALE = '#9aa0a6';

// d3-geo reads a ring's winding on the sphere: an RFC 7946 (counter-clockwise) polygon would
// be taken as the whole globe outside it. Any polygon larger than a hemisphere is reversed.
// An alert's resolution advice for its own aircraft as one line: the preferred manoeuvre
// first, then the other options (docs/api.md, "advice").
export function adviceText(adv) {
  if (!adv || typeof adv !== 'object') return '';
  const r = (x) => Math.round(x * 10) / 10;
  const said = {
    turn_left: (p) => `turn left to ${r(p.track_deg)}°`,
    turn_right: (p) => `turn right to ${r(p.track_deg)}°`,
    speed_up: (p) => `speed up to ${r(p.gs_mps)} m/s`,
    slow_down: (p) => `slow down to ${r(p.gs_mps)} m/s`,
    vs_up: (p) => `vertical speed up to ${r(p.vs_mps)} m/s`,
    vs_down: (p) => `vertical speed down to ${r(p.vs_mps)} m/s`,
  };
  const p = adv.preferred;
  const head = p && said[p.manoeuvre] ? said[p.manoeuvre](p) : 'no manoeuvre needed now';
  const opts = [
    ['left', adv.track_left_deg, '°'], ['right', adv.track_right_deg, '°'],
    ['gs+', adv.gs_up_mps, ' m/s'], ['gs−', adv.gs_down_mps, ' m/s'],
    ['vs+', adv.vs_up_mps, ' m/s'], ['vs−', adv.vs_down_mps, ' m/s'],
  ].filter(([, v]) => typeof v === 'number').map(([k, v, u]) => `${k} ${r(v)}${u}`);
  return `${head}${opts.length ? ` (${opts.join(', ')})` : ''} [${adv.method || '?'}]`;
}

export function rewind(geo) {
  if (!geo) return geo;
  const g = geo.type === 'Feature' ? geo.geometry : geo;
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return geo;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  for (const rings of polys) {
    if (d3.geoArea({ type: 'Polygon', coordinates: rings }) > 2 * Math.PI) rings.forEach((r) => r.reverse());
  }
  return geo;
}

// The [west, south, east, north] box (degrees) of GeoJSON features or geometries and of
// [lng, lat] points, or null when they hold no finite position.
export function extentOf(geos = [], points = []) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const add = (p) => {
    if (!Array.isArray(p) || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) return;
    w = Math.min(w, p[0]);
    e = Math.max(e, p[0]);
    s = Math.min(s, p[1]);
    n = Math.max(n, p[1]);
  };
  // Coordinates nest to any depth (Point, LineString, Polygon, MultiPolygon): walk to pairs.
  const walk = (c) => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === 'number') add(c);
    else c.forEach(walk);
  };
  const geometry = (g) => {
    if (!g) return;
    if (g.type === 'Feature') geometry(g.geometry);
    else if (g.type === 'FeatureCollection') (g.features || []).forEach(geometry);
    else if (g.type === 'GeometryCollection') (g.geometries || []).forEach(geometry);
    else walk(g.coordinates);
  };
  geos.forEach(geometry);
  points.forEach(add);
  return w <= e && s <= n ? [w, s, e, n] : null;
}

const MAX_LAT = 85;
const mercY = (lat) => Math.log(Math.tan(Math.PI / 4 + (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 360));
const mercLat = (y) => (2 * Math.atan(Math.exp(y)) - Math.PI / 2) * (180 / Math.PI);

// The Mercator view that shows `box` ([west, south, east, north]) whole in a w × h canvas with
// `pad` pixels to spare on each side: `center` ([lng, lat], for the canvas's middle) and
// `scale` (d3's: pixels a radian). A box narrower than `minSpan` degrees (a lone track, one
// small filing) is shown `minSpan` wide (about 5 km, so that some land is in view); the scale stays within the wheel's [300, 2e6].
export function fitView(box, w, h, { pad = 40, minSpan = 0.05, minScale = 300, maxScale = 2e6 } = {}) {
  const [west, south, east, north] = box;
  const cx = (west + east) / 2;
  const lngSpan = Math.max(east - west, minSpan);
  const [y0, y1] = [mercY(south), mercY(north)];
  const ymid = (y0 + y1) / 2;
  // minSpan of latitude at the box's middle, in Mercator units.
  const minY = (minSpan * Math.PI) / 180 / Math.cos((mercLat(ymid) * Math.PI) / 180);
  const ySpan = Math.max(y1 - y0, minY);
  const xSpan = (lngSpan * Math.PI) / 180;
  // The padding shrinks on a small canvas (an eighth of a side at most).
  const p = Math.min(pad, w / 8, h / 8);
  const room = (n) => Math.max(1, n - 2 * p);
  const scale = Math.min(maxScale, Math.max(minScale, Math.min(room(w) / xSpan, room(h) / ySpan)));
  return { center: [cx, mercLat(ymid)], scale };
}

export class MapView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.base = document.createElement('canvas');
    this.projection = d3.geoMercator().center([35.9, 35.4]).scale(5000);
    this.world = null;
    this.baseKey = '';
    this.layers = { own: true, intruders: true, alerts: true, filings: true, overlaps: true };
    // What is drawn; app.js and replay.js fill these.
    this.own = []; // {asset, lat, lng, track_deg, gs_mps, coasting, trail: [[lng, lat], …]}
    this.intruders = []; // {lat, lng, track_deg, gs_mps, class, stale, conflict_id}
    this.alerts = []; // {level, own: [lng, lat]|null, intruder: [lng, lat]|null, advice, bands}
    this.filings = []; // GeoJSON features with properties.kind
    this.overlaps = []; // GeoJSON geometries
    this.synthetic = null; // tracks like `own` (the frame-rate hook)
    this.dirty = true;
    this.frameTimes = [];
    this.frames = 0;
    this.continuous = false;
    this.drawn = { own: 0, intruders: 0, alerts: 0, synthetic: 0 };
    this.resize();
    this.bindPanZoom();
    window.addEventListener('resize', () => this.resize());
    const loop = () => {
      if (this.dirty || this.continuous) this.draw();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  async loadWorld(url) {
    const r = await fetch(url);
    this.world = await r.json();
    const o = this.world.objects;
    this.land = topojson.feature(this.world, o.land);
    this.borders = topojson.mesh(this.world, o.countries, (a, b) => a !== b);
    this.invalidate();
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.w = Math.max(1, Math.round(r.width));
    this.h = Math.max(1, Math.round(r.height));
    for (const c of [this.canvas, this.base]) {
      c.width = this.w * dpr;
      c.height = this.h * dpr;
    }
    this.dpr = dpr;
    if (!this.panned) this.projection.translate([this.w / 2, this.h / 2]);
    this.invalidate();
  }

  // Shows `box` (see extentOf) whole, unless the user has moved the map already: true if it
  // did. The box's centre stays at the canvas's middle when the window is resized.
  fitTo(box) {
    if (!box || this.panned) return false;
    const v = fitView(box, this.w, this.h);
    this.projection.center(v.center).scale(v.scale).translate([this.w / 2, this.h / 2]);
    this.invalidate();
    return true;
  }

  invalidate() {
    this.baseKey = '';
    this.dirty = true;
  }

  bindPanZoom() {
    let drag = null;
    this.canvas.addEventListener('pointerdown', (e) => {
      drag = [e.clientX, e.clientY];
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const [tx, ty] = this.projection.translate();
      this.projection.translate([tx + e.clientX - drag[0], ty + e.clientY - drag[1]]);
      drag = [e.clientX, e.clientY];
      this.panned = true;
      this.invalidate();
    });
    this.canvas.addEventListener('pointerup', () => (drag = null));
    this.canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      const k = Math.exp(-e.deltaY * 0.002);
      const s = this.projection.scale();
      const ns = Math.min(2e6, Math.max(300, s * k));
      const kk = ns / s;
      const rect = this.canvas.getBoundingClientRect();
      const p = [e.clientX - rect.left, e.clientY - rect.top];
      const [tx, ty] = this.projection.translate();
      this.projection.scale(ns).translate([p[0] - kk * (p[0] - tx), p[1] - kk * (p[1] - ty)]);
      this.panned = true;
      this.invalidate();
    }, { passive: false });
  }

  drawBase() {
    const key = `${this.projection.scale()}|${this.projection.translate()}|${this.w}x${this.h}`;
    if (key === this.baseKey) return;
    this.baseKey = key;
    const c = this.base.getContext('2d');
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    c.fillStyle = '#cfe3f3';
    c.fillRect(0, 0, this.w, this.h);
    if (!this.world) return;
    const path = d3.geoPath(this.projection, c);
    c.beginPath();
    path(this.land);
    c.fillStyle = '#f3f1ea';
    c.fill();
    c.strokeStyle = '#5b7a91';
    c.lineWidth = 1;
    c.stroke();
    c.beginPath();
    path(this.borders);
    c.strokeStyle = '#9c8f80';
    c.setLineDash([4, 3]);
    c.stroke();
    c.setLineDash([]);
    c.beginPath();
    path(d3.geoGraticule().step([1, 1])());
    c.strokeStyle = 'rgba(0,0,0,0.07)';
    c.stroke();
  }

  draw() {
    const t0 = performance.now();
    this.dirty = false;
    this.drawBase();
    const c = this.ctx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.drawImage(this.base, 0, 0);
    c.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const path = d3.geoPath(this.projection, c);
    const drawn = { own: 0, intruders: 0, alerts: 0, synthetic: 0 };
    if (this.layers.filings) this.drawFilings(c, path);
    if (this.layers.overlaps && this.overlaps.length) {
      c.beginPath();
      for (const g of this.overlaps) path(g);
      c.fillStyle = 'rgba(200,0,200,0.25)';
      c.fill();
      c.strokeStyle = '#b000b0';
      c.lineWidth = 1.5;
      c.stroke();
    }
    if (this.synthetic) drawn.synthetic = this.drawSynthetic(c);
    if (this.layers.own) drawn.own = this.drawOwn(c, this.own, OWN);
    if (this.layers.intruders) drawn.intruders = this.drawIntruders(c);
    if (this.layers.alerts) drawn.alerts = this.drawAlerts(c);
    this.drawn = drawn;
    this.frames += 1;
    this.frameTimes.push(performance.now() - t0);
    if (this.frameTimes.length > 60) this.frameTimes.shift();
  }

  drawFilings(c, path) {
    const styles = {
      intent: ['rgba(30,111,255,0.08)', '#1e6fff', [6, 4]],
      constraint: ['rgba(120,60,200,0.10)', '#7040c0', []],
      constraint_binding_you: ['rgba(220,30,30,0.12)', '#c01818', [2, 2]],
    };
    for (const [kind, [fill, stroke, dash]] of Object.entries(styles)) {
      const fs = this.filings.filter((f) => f.properties && f.properties.kind === kind);
      if (!fs.length) continue;
      c.beginPath();
      for (const f of fs) path(f);
      c.fillStyle = fill;
      c.fill();
      c.setLineDash(dash);
      c.strokeStyle = stroke;
      c.lineWidth = 1.5;
      c.stroke();
      c.setLineDash([]);
    }
  }

  // A heading tick: where the aircraft is in 60 s, on screen.
  lead(pr, t) {
    const k = ((t.gs_mps || 0) * 60) / 111320;
    const a = ((t.track_deg || 0) * Math.PI) / 180;
    return pr([t.lng + (k * Math.sin(a)) / Math.cos((t.lat * Math.PI) / 180), t.lat + k * Math.cos(a)]);
  }

  // Mercator is x = a + kλ, y = b − k·ln tan(π/4 + φ/2): the per-point projection of the
  // track layers, inlined (d3's full pipeline, with its clipping, is for the outlines).
  fast() {
    const k = this.projection.scale();
    const [a, b] = this.projection([0, 0]);
    const r = Math.PI / 180;
    return (p) => [a + k * p[0] * r, b - k * Math.log(Math.tan(Math.PI / 4 + (p[1] * r) / 2))];
  }

  drawOwn(c, list, colour) {
    const pr = this.fast();
    const many = list.length > 500;
    c.beginPath();
    for (const t of list) {
      const tr = t.trail || [];
      for (let i = 0; i < tr.length; i += 1) {
        const p = pr(tr[i]);
        if (i === 0) c.moveTo(p[0], p[1]);
        else c.lineTo(p[0], p[1]);
      }
    }
    c.globalAlpha = 0.45;
    c.strokeStyle = colour;
    c.lineWidth = many ? 1 : 1.5;
    c.stroke();
    c.globalAlpha = 1;
    let n = 0;
    c.beginPath();
    const vec = new Path2D();
    for (const t of list) {
      const p = pr([t.lng, t.lat]);
      if (many) c.rect(p[0] - 2.5, p[1] - 2.5, 5, 5);
      else {
        c.moveTo(p[0] + 5, p[1]);
        c.arc(p[0], p[1], 5, 0, 2 * Math.PI);
      }
      const q = this.lead(pr, t);
      vec.moveTo(p[0], p[1]);
      vec.lineTo(q[0], q[1]);
      n += 1;
    }
    c.fillStyle = colour;
    c.fill();
    c.strokeStyle = colour;
    c.stroke(vec);
    if (list.length <= 200) {
      c.fillStyle = '#0b2a66';
      c.font = '11px sans-serif';
      for (const t of list) {
        const p = pr([t.lng, t.lat]);
        c.fillText(t.asset + (t.coasting ? ' (coasting)' : ''), p[0] + 7, p[1] - 6);
      }
    }
    return n;
  }

  drawIntruders(c) {
    const pr = this.fast();
    let n = 0;
    for (const [stale, colour] of [[false, INTRUDER], [true, STALE]]) {
      c.beginPath();
      const vec = new Path2D();
      for (const t of this.intruders) {
        if (!!t.stale !== stale) continue;
        const p = pr([t.lng, t.lat]);
        c.moveTo(p[0], p[1] - 7);
        c.lineTo(p[0] + 6, p[1] + 5);
        c.lineTo(p[0] - 6, p[1] + 5);
        c.closePath();
        const q = this.lead(pr, t);
        vec.moveTo(p[0], p[1]);
        vec.lineTo(q[0], q[1]);
        n += 1;
      }
      c.fillStyle = colour;
      c.fill();
      c.strokeStyle = colour;
      c.lineWidth = 1.5;
      c.stroke(vec);
    }
    if (this.intruders.length <= 200) {
      c.font = '11px sans-serif';
      for (const t of this.intruders) {
        const p = pr([t.lng, t.lat]);
        c.fillStyle = t.stale ? STALE : '#801050';
        const fl = Math.round(t.alt_m || 0);
        c.fillText(`${t.class} ${fl} m ${Math.round(t.gs_mps || 0)} m/s${t.stale ? ' STALE' : ''}`, p[0] + 8, p[1] + 4);
      }
    }
    return n;
  }

  drawAlerts(c) {
    const pr = this.fast();
    let n = 0;
    for (const level of [1, 2, 3, 0]) {
      c.beginPath();
      for (const a of this.alerts) {
        if ((a.level || 0) !== level) continue;
        const at = a.intruder || a.own;
        if (!at) continue;
        const p = pr(at);
        c.moveTo(p[0] + 14, p[1]);
        c.arc(p[0], p[1], 14, 0, 2 * Math.PI);
        if (a.own && a.intruder) {
          const q = pr(a.own);
          c.moveTo(q[0], q[1]);
          c.lineTo(p[0], p[1]);
        }
        n += 1;
      }
      c.strokeStyle = LEVEL_COLOURS[level];
      c.lineWidth = 3;
      c.stroke();
    }
    for (const a of this.alerts) this.drawAdvice(c, a);
    return n;
  }

  // Advice and DO-365 bands, where an alert carries them (the service sends advice; bands are
  // not on the wire yet): bands as coloured arcs of heading around the own aircraft, advice as
  // a label.
  drawAdvice(c, a) {
    if (!a.own || (!a.advice && !a.bands)) return;
    const p = this.fast()(a.own);
    for (const b of Array.isArray(a.bands) ? a.bands : []) {
      const from = b.from_deg ?? b.lower ?? b.min;
      const to = b.to_deg ?? b.upper ?? b.max;
      if (typeof from !== 'number' || typeof to !== 'number') continue;
      const lv = LEVEL_NAMES[b.level] ?? (typeof b.level === 'number' ? b.level : 2);
      c.beginPath();
      c.arc(p[0], p[1], 24, ((from - 90) * Math.PI) / 180, ((to - 90) * Math.PI) / 180);
      c.strokeStyle = LEVEL_COLOURS[lv] || LEVEL_COLOURS[2];
      c.lineWidth = 6;
      c.stroke();
    }
    if (a.advice) {
      c.fillStyle = '#000';
      c.font = 'bold 12px sans-serif';
      const text = typeof a.advice === 'string' ? a.advice : adviceText(a.advice);
      c.fillText(text.slice(0, 80), p[0] + 8, p[1] + 30);
    }
  }

  // The frame-rate hook's tracks, drawn exactly as own tracks are (trails, dots, heading
  // ticks), in their own colour.
  drawSynthetic(c) {
    return this.drawOwn(c, this.synthetic, '#2a9d8f');
  }
}
