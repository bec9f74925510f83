// Unit tests of the first view's fit (map.js: extentOf, fitView), run by Node's own test
// runner with no install: `node --test web/map.test.js` (.ci/run does). fitView is checked
// against Mercator written out here (x = kλ, y = −k·ln tan(π/4 + φ/2), the centre at the
// canvas's middle), as d3.geoMercator().center(c).scale(k).translate([w/2, h/2]) draws it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extentOf, fitView } from './map.js';

const rad = Math.PI / 180;
const project = ({ center, scale }, w, h) => {
  const y = (lat) => -scale * Math.log(Math.tan(Math.PI / 4 + (lat * rad) / 2));
  return ([lng, lat]) => [w / 2 + scale * (lng - center[0]) * rad, h / 2 + y(lat) - y(center[1])];
};

// An intent near Latakia as /v1/intents.geojson gives it: a polygon about 1 km across.
const intent = {
  type: 'Feature',
  properties: { kind: 'intent', id: 'i1' },
  geometry: { type: 'Polygon', coordinates: [[[35.9, 35.4], [35.91, 35.4], [35.91, 35.409], [35.9, 35.409], [35.9, 35.4]]] },
};

test('extentOf spans features, bare geometries of any nesting and points', () => {
  const multi = { type: 'MultiPolygon', coordinates: [[[[36, 34], [36.5, 34], [36.5, 34.5], [36, 34]]]] };
  assert.deepEqual(extentOf([intent]), [35.9, 35.4, 35.91, 35.409]);
  assert.deepEqual(extentOf([intent, multi], [[37, 36]]), [35.9, 34, 37, 36]);
  assert.deepEqual(extentOf([], [[35, 35]]), [35, 35, 35, 35]);
  assert.deepEqual(extentOf([{ type: 'FeatureCollection', features: [intent] }]), [35.9, 35.4, 35.91, 35.409]);
});

test('extentOf is null when there is nothing, or nothing finite', () => {
  assert.equal(extentOf([], []), null);
  assert.equal(extentOf(), null);
  assert.equal(extentOf([null, { type: 'Feature', geometry: null }], [[NaN, 1], [1, undefined]]), null);
});

test('fitView shows the whole box inside the padding, filling one dimension', () => {
  const cases = [
    [[35.9, 35.4, 35.95, 35.44], 1280, 760], // one filing, 5 km across
    [[34.5, 34.2, 37.5, 36.7], 1280, 760], // tracks over western Syria
    [[34.5, 34.2, 37.5, 36.7], 360, 640], // the same on a narrow window
    [[-10, 50, 2, 60], 800, 800],
    [[35.8, 34.7, 36.9, 36.1], 49, 517], // a sliver of a canvas: the padding shrinks
  ];
  for (const [box, w, h] of cases) {
    const v = fitView(box, w, h, { pad: 40, minSpan: 0 });
    const pr = project(v, w, h);
    const pad = Math.min(40, w / 8, h / 8);
    const [a, b] = [pr([box[0], box[3]]), pr([box[2], box[1]])]; // north-west, south-east
    for (const [x, y] of [a, b]) {
      assert.ok(x >= pad - 1e-6 && x <= w - pad + 1e-6, `${box} in ${w}x${h}: x ${x}`);
      assert.ok(y >= pad - 1e-6 && y <= h - pad + 1e-6, `${box} in ${w}x${h}: y ${y}`);
    }
    const fill = Math.max((b[0] - a[0]) / (w - 2 * pad), (b[1] - a[1]) / (h - 2 * pad));
    assert.ok(Math.abs(fill - 1) < 1e-9, `${box} in ${w}x${h}: fills ${fill}`);
    // Centred: the same margin on both sides.
    assert.ok(Math.abs(a[0] - (w - b[0])) < 1e-6 && Math.abs(a[1] - (h - b[1])) < 1e-6, `${box}: not centred`);
  }
});

test('a small filing is drawn far larger than at the default view (scale 5000)', () => {
  const v = fitView(extentOf([intent]), 1280, 760);
  const pr = project(v, 1280, 760);
  const [a, b] = [pr([35.9, 35.409]), pr([35.91, 35.4])];
  // 1 km in 5 (minSpan 0.05°): over 100 px, where the default view drew it 0.9 px wide.
  assert.ok(b[0] - a[0] > 100, `the intent is ${b[0] - a[0]} px wide`);
  assert.ok(v.scale / 5000 > 50, `scale ${v.scale}`);
});

test('a lone track is shown minSpan wide, and the scale stays within the wheel\'s limits', () => {
  const v = fitView([35.9, 35.4, 35.9, 35.4], 1000, 800, { pad: 0, minSpan: 0.05 });
  assert.deepEqual(v.center.map((x) => Math.round(x * 1e9) / 1e9), [35.9, 35.4]);
  const pr = project(v, 1000, 800);
  // 0.05° of longitude and of latitude around it: both shown, one of them filling its side.
  const x = pr([35.925, 35.4])[0] - pr([35.875, 35.4])[0];
  const y = pr([35.9, 35.375])[1] - pr([35.9, 35.425])[1];
  assert.ok(x <= 1000.01 && y <= 800.01, `${x} x ${y} px`);
  assert.ok(Math.abs(Math.max(x / 1000, y / 800) - 1) < 2e-3, `${x} x ${y} px`);
  assert.equal(fitView([0, 0, 1e-9, 1e-9], 1000, 800, { minSpan: 0 }).scale, 2e6);
  assert.equal(fitView([-180, -85, 180, 85], 400, 300).scale, 300);
  // Near the poles the box is clamped to Mercator's ±85°, not infinite.
  assert.ok(Number.isFinite(fitView([0, 80, 10, 90], 800, 600).scale));
});
