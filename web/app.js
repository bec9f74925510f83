// The page: sign-in (the token kept in sessionStorage, never in the URL; GET /v1/me checks it
// and names the party in the header), the live picture (GET /v1/tracks each second, the
// filings' GeoJSON every 10 s) and the party's stream (alerts, strategic conflicts, hotline
// news), drawn by map.js; the hotline panel; replay.
import { MapView, adviceText, extentOf, rewind } from './map.js';
import { runStream } from './stream.js';
import { Hotline } from './hotline.js';
import { Replay, parseLines } from './replay.js';

const KEY = 'deconflict.token';
const $ = (s) => document.querySelector(s);

const state = {
  token: null,
  me: null, // GET /v1/me: {id, name, role, member_of}
  fitted: null, // the box the view was fitted to (what the party had), once it was
  polled: false, // the first tracks and filings are in
  stop: null,
  map: null,
  hotline: null,
  conn: 'signed out',
  trails: new Map(), // asset -> [[lng, lat], …], the last 30 positions
  picture: { own: [], intruders: [] },
  active: new Map(), // conflict_id -> newest tactical alert
  strategic: new Map(), // conflict_id -> [GeoJSON footprint, …] from the stream
  overlapsGeo: [], // from GET /v1/conflicts.geojson
  log: [], // the panel's alert entries, newest first
  replay: null,
  alertsSeen: 0,
  lastSeq: 0,
};

function api(path, opts = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(opts.headers || {}) };
  if (opts.body) headers['Content-Type'] = 'application/json';
  return fetch(path, { ...opts, headers, cache: 'no-store' });
}

// ---- sign-in ---------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  const r = await api('/v1/me').catch(() => null);
  const me = r && r.ok ? await r.json().catch(() => null) : null;
  if (!me) {
    state.token = null;
    sessionStorage.removeItem(KEY);
    $('#signin-error').textContent = r && r.status === 401 ? 'That token is not valid here.' : 'The service did not answer.';
    return;
  }
  sessionStorage.setItem(KEY, token);
  state.me = me;
  showWho(me);
  $('#signin').hidden = true;
  $('#app').hidden = false;
  start();
}

// The signed-in party in the header: its name, then its role unless it is a plain party, and
// its coalition; all of it in the tooltip.
function whoText(me) {
  const role = me.role && me.role !== 'party' ? ` (${me.role})` : '';
  const coalition = me.member_of ? `, of ${me.member_of}` : '';
  return `${me.name}${role}${coalition}`;
}

function showWho(me) {
  const w = $('#whoami');
  w.textContent = whoText(me);
  w.title = `signed in as ${me.name}: party ${me.id}, role ${me.role}${me.member_of ? `, member of ${me.member_of}` : ''}`;
}

function signOut() {
  sessionStorage.removeItem(KEY);
  if (state.stop) state.stop();
  window.location.replace('/');
}

// ---- live ------------------------------------------------------------------------------

function start() {
  const map = new MapView($('#map'));
  state.map = map;
  map.loadWorld('/assets/countries-50m.json');
  state.hotline = new Hotline(api, $('#hotline'));
  const ctl = new AbortController();
  const timers = [];
  state.stop = () => {
    ctl.abort();
    timers.forEach(clearInterval);
  };
  for (const box of document.querySelectorAll('input[data-layer]')) {
    box.addEventListener('change', () => {
      map.layers[box.dataset.layer] = box.checked;
      map.dirty = true;
    });
  }
  // The first view fits what the party has, once both are in (see fitOnce).
  Promise.allSettled([pollTracks(), pollFilings()]).then(() => {
    state.polled = true;
    fitOnce();
  });
  state.hotline.refresh();
  timers.push(setInterval(pollTracks, 1000), setInterval(pollFilings, 10000));
  runStream({
    token: state.token,
    signal: ctl.signal,
    onStatus: (s) => {
      state.conn = s;
      const c = $('#conn');
      c.textContent = s;
      c.title = `stream: ${s}`;
      c.className = `conn ${s.startsWith('live') ? 'live' : ''}`;
      if (s === 'token refused') signOut();
    },
    onEvent: onStreamEvent,
  });
  setupReplay();
}

async function pollTracks() {
  const r = await api('/v1/tracks').catch(() => null);
  if (!r) return;
  if (r.status === 401) return signOut();
  if (!r.ok) return;
  const p = await r.json();
  state.picture = p;
  const live = new Set();
  for (const t of p.own) {
    live.add(t.asset);
    const tr = state.trails.get(t.asset) || [];
    const last = tr[tr.length - 1];
    if (!last || last[0] !== t.lng || last[1] !== t.lat) tr.push([t.lng, t.lat]);
    if (tr.length > 30) tr.shift();
    state.trails.set(t.asset, tr);
  }
  for (const a of state.trails.keys()) if (!live.has(a)) state.trails.delete(a);
  if (!state.replay) showLive();
  fitOnce();
}

async function pollFilings() {
  const [f, c] = await Promise.all([api('/v1/intents.geojson'), api('/v1/conflicts.geojson')].map((p) => p.catch(() => null)));
  if (f && f.ok) state.map.filings = ((await f.json()).features || []).map(rewind);
  if (c && c.ok) state.overlapsGeo = ((await c.json()).features || []).map((x) => rewind(x.geometry)).filter(Boolean);
  if (!state.replay) showLive();
  fitOnce();
}

// What the party has: its own filings (not others' constraints that bind it) and its own
// tracks, as a [west, south, east, north] box, or null.
function ownExtent() {
  const own = state.map.filings.filter((f) => f.properties && ['intent', 'constraint'].includes(f.properties.kind));
  return extentOf(own, state.picture.own.map((t) => [t.lng, t.lat]));
}

// Once after sign-in the view is fitted to what the party has; while it has nothing, the
// default view stays, and the first poll that brings something fits it then. Never after the
// user has moved or zoomed the map, nor in replay.
function fitOnce() {
  if (!state.polled || state.fitted || state.replay || state.map.panned) return;
  const box = ownExtent();
  if (box && state.map.fitTo(box)) state.fitted = box;
}

function onStreamEvent({ event, data }) {
  if (event === 'message') {
    state.hotline.refresh();
    return;
  }
  if (event !== 'alert' || !data) return;
  if (typeof data.seq === 'number') {
    if (data.seq <= state.lastSeq) return; // the service sends none twice; a resume might
    state.lastSeq = data.seq;
  }
  state.alertsSeen += 1;
  const kind = data.event || data.type;
  if (kind === 'strategic_conflict') {
    const fps = (data.overlaps || []).map((o) => rewind(o.region && o.region.footprint)).filter(Boolean);
    state.strategic.set(data.conflict_id, fps);
    pollFilings();
  } else if (data.conflict_id && data.intruder) {
    if (kind === 'cleared') state.active.delete(data.conflict_id);
    else state.active.set(data.conflict_id, data);
  }
  state.log.unshift(data);
  if (state.log.length > 200) state.log.pop();
  renderAlerts();
  if (!state.replay) showLive();
}

// The map's layers from the live state.
function showLive() {
  const m = state.map;
  const p = state.picture;
  m.own = p.own.map((t) => ({ ...t, trail: state.trails.get(t.asset) || [] }));
  m.intruders = p.intruders.map((i) => ({ ...i, ...(i.state || {}) }));
  const ownAt = new Map(p.own.map((t) => [t.asset, [t.lng, t.lat]]));
  const intrAt = new Map(m.intruders.map((i) => [i.conflict_id, [i.lng, i.lat]]));
  m.alerts = [...state.active.values()].map((a) => ({
    level: a.level || 0,
    own: ownAt.get(a.own_asset) || null,
    intruder: intrAt.get(a.conflict_id) || (a.intruder ? [a.intruder.lng, a.intruder.lat] : null),
    advice: a.advice,
    bands: a.bands,
  }));
  m.overlaps = [...state.overlapsGeo, ...[...state.strategic.values()].flat()];
  m.dirty = true;
}

function renderAlerts() {
  const ul = $('#alerts');
  const items = state.log.slice(0, 50).map((a) => {
    const li = document.createElement('li');
    const kind = a.event || a.type;
    li.className = `level-${a.level || 0}${kind === 'strategic_conflict' ? ' strategic' : ''}`;
    const what = a.type === 'alert_summary'
      ? `${a.suppressed} more alerts suppressed this scan`
      : `${kind} ${a.level_name || ''} ${a.own_asset || a.own_id || a.filing_id || ''} ${a.conflict_id || ''}`;
    li.append(document.createTextNode(`${a.time || ''} ${what}`));
    if (a.intruder) li.append(document.createElement('br'), document.createTextNode(
      `intruder ${a.intruder.class} ${Math.round(a.intruder.alt_m)} m, ${Math.round(a.intruder.gs_mps)} m/s, ${Math.round(a.intruder.track_deg)}°${a.intruder.stale ? ' (stale)' : ''}; tcpa ${a.tcpa_s ?? '?'} s, dcpa ${a.dcpa_m ?? '?'} m`));
    if (a.advice) li.append(document.createElement('br'), Object.assign(document.createElement('span'), { className: 'advice', textContent: `advice: ${adviceText(a.advice)}` }));
    if (a.conflict_id && kind !== 'cleared') {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'to-other-side';
      b.dataset.conflict = a.conflict_id;
      b.textContent = 'Message the other side';
      b.addEventListener('click', () => state.hotline.toConflict(a.conflict_id));
      li.append(' ', b);
    }
    return li;
  });
  ul.replaceChildren(...items);
  $('#alert-count').textContent = `(${state.active.size} live)`;
}

// ---- replay ----------------------------------------------------------------------------

function setupReplay() {
  const slider = $('#replay-time');
  const read = (input) => (input.files[0] ? input.files[0].text().then(parseLines) : Promise.resolve(null));
  const show = () => {
    if (!state.replay) return;
    const t = Number(slider.value);
    const f = state.replay.frame(t);
    Object.assign(state.map, { own: f.own, alerts: f.alerts, intruders: [], dirty: true });
    $('#replay-label').textContent = new Date(t * 1000).toISOString().slice(0, 19) + 'Z';
  };
  // Each file's change starts a load; only the latest one is shown (an earlier one that ends
  // later, e.g. the tracks read before the episodes were chosen, would drop the episodes).
  let loads = 0;
  const load = async () => {
    const mine = ++loads;
    const [tracks, eps] = await Promise.all([read($('#replay-tracks')), read($('#replay-episodes'))]);
    if (!tracks || mine !== loads) return;
    const r = new Replay();
    r.setTracks(tracks);
    r.setEpisodes(eps || []);
    // Loading the episodes after the tracks keeps the time already scrubbed to.
    const was = state.replay && !slider.disabled ? Number(slider.value) : NaN;
    const t = was >= r.t0 && was <= r.t1 ? was : Math.floor(r.t0);
    state.replay = r;
    Object.assign(slider, { min: Math.floor(r.t0), max: Math.ceil(r.t1), disabled: false });
    slider.value = String(t);
    $('#live').hidden = false;
    show();
  };
  $('#replay-tracks').addEventListener('change', load);
  $('#replay-episodes').addEventListener('change', load);
  slider.addEventListener('input', show);
  $('#live').addEventListener('click', () => {
    state.replay = null;
    slider.disabled = true;
    $('#live').hidden = true;
    $('#replay-label').textContent = '';
    showLive();
  });
}

// ---- the debug object the browser test reads -------------------------------------------

function measure(ms) {
  const m = state.map;
  return new Promise((resolve) => {
    const f0 = m.frames;
    const t0 = performance.now();
    m.continuous = true;
    setTimeout(() => {
      m.continuous = false;
      const s = (performance.now() - t0) / 1000;
      const frames = m.frames - f0;
      const times = m.frameTimes.slice();
      resolve({ frames, seconds: s, fps: frames / s, drawMsMean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length) });
    }, ms);
  });
}

window.deconflictMap = Object.freeze({
  get signedIn() { return !!state.token && !$('#app').hidden; },
  get connection() { return state.conn; },
  get party() { return state.me ? { ...state.me } : null; },
  // The box the first view was fitted to and where its corners are now drawn, in CSS pixels
  // of the canvas (null until it was fitted).
  get fit() {
    const m = state.map;
    if (!m || !state.fitted) return null;
    const [w, s, e, n] = state.fitted;
    return { box: state.fitted, corners: [m.projection([w, n]), m.projection([e, s])], size: [m.w, m.h] };
  },
  get counts() {
    const m = state.map;
    const msgs = state.hotline ? state.hotline.messages : [];
    return {
      ownDrawn: m ? m.drawn.own : 0,
      intrudersDrawn: m ? m.drawn.intruders : 0,
      alertsDrawn: m ? m.drawn.alerts : 0,
      replayEpisodes: state.replay ? state.replay.episodes.length : -1,
      syntheticDrawn: m ? m.drawn.synthetic : 0,
      alertEntries: state.alertsSeen,
      liveConflicts: state.active.size,
      filings: m ? m.filings.length : 0,
      overlaps: m ? m.overlaps.length : 0,
      messagesIn: msgs.filter((x) => x.direction === 'in').length,
      messagesOut: msgs.filter((x) => x.direction === 'out').length,
      frames: m ? m.frames : 0,
    };
  },
  get lastFrameMs() { return state.map ? state.map.frameTimes.slice(-10) : []; },
  // The frame-rate hook: n synthetic tracks around Latakia, drawn by the same renderer.
  injectSynthetic(n) {
    const tracks = [];
    for (let i = 0; i < n; i += 1) {
      const lng = 34.5 + Math.random() * 3;
      const lat = 34.2 + Math.random() * 2.5;
      const trail = [];
      for (let k = 5; k >= 0; k -= 1) trail.push([lng - k * 0.004, lat - k * 0.002]);
      tracks.push({ asset: `SYN-${i}`, lat, lng, gs_mps: 200, track_deg: 63, trail });
    }
    state.map.synthetic = tracks;
    state.map.dirty = true;
    return n;
  },
  clearSynthetic() { state.map.synthetic = null; state.map.dirty = true; },
  measure,
});

// ---- boot ------------------------------------------------------------------------------

$('#signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('#token').value.trim();
  $('#token').value = '';
  signIn(t);
});
$('#signout').addEventListener('click', signOut);
const saved = sessionStorage.getItem(KEY);
if (saved) signIn(saved);
