// Unit tests of the page's replay mode (replay.js), run by Node's own test runner with no
// install: `node --test web/replay.test.js` (.ci/run does). Episodes are what `deconflict
// replay --out` writes: RFC 3339 `start`/`end`, as the tracks' `time`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replay, parseLines } from './replay.js';

const T0 = Date.parse('2015-09-30T06:00:00Z') / 1000;
const at = (s) => new Date((T0 + s) * 1000).toISOString().replace('.000Z', 'Z');

const tracks = [];
for (let s = 0; s <= 300; s += 10) {
  tracks.push({ asset: 'COAL-F16-01', time: at(s), lat: 35 + s * 1e-4, lng: 36, alt_m: 6000 });
  tracks.push({ asset: 'RUS-SU30-04', time: at(s), lat: 35.1 - s * 1e-4, lng: 36, alt_m: 6100 });
}
const episode = { a: 'COAL-F16-01', b: 'RUS-SU30-04', start: at(100), end: at(160), max_level: 3 };

test('an episode is drawn only between its start and end', () => {
  const r = new Replay();
  r.setTracks(tracks);
  r.setEpisodes([episode]);
  assert.equal(r.t0, T0);
  assert.equal(r.t1, T0 + 300);
  assert.equal(r.frame(T0 + 50).alerts.length, 0);
  const live = r.frame(T0 + 120);
  assert.equal(live.alerts.length, 1);
  assert.equal(live.alerts[0].level, 3);
  assert.deepEqual(live.alerts[0].own, [36, 35 + 120 * 1e-4]);
  assert.equal(r.frame(T0 + 161).alerts.length, 0);
  assert.equal(r.frame(T0 + 120).own.length, 2);
});

test('a track is drawn with its trail up to t, and not once stale', () => {
  const r = new Replay();
  r.setTracks(tracks.filter((x) => x.asset === 'COAL-F16-01' && x.time <= at(200)));
  const f = r.frame(T0 + 205);
  assert.equal(f.own.length, 1);
  assert.equal(f.own[0].trail.length, 12); // the last 120 s: 90 s .. 200 s, every 10 s
  assert.equal(r.frame(T0 + 211).own.length, 0);
});

test('lines that are not JSON, and episodes without both aircraft or times, are skipped', () => {
  assert.equal(parseLines('{"a":1}\nnot json\n\n{"b":2}\n').length, 2);
  const r = new Replay();
  r.setTracks(tracks);
  r.setEpisodes([{ a: 'x' }, { ...episode, start: 'never' }, episode]);
  assert.equal(r.episodes.length, 1);
});
