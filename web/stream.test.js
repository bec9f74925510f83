// Unit tests of the page's stream reader (stream.js), run by Node's own test runner with no
// install: `node --test web/stream.test.js` (.ci/run does). parseSse is checked against the
// Server-Sent Events rules on input cut at every possible place; runStream against a fake
// fetch whose streams end, to prove it resumes with the last id it saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, runStream } from './stream.js';

const parseAll = (chunks) => {
  const out = [];
  const feed = parseSse((e) => out.push(e));
  for (const c of chunks) feed(c);
  return out;
};

const SAMPLE =
  ': keep-alive comment\n' +
  'id: 7\nevent: alert\ndata: {"seq":7}\n\n' +
  'event: message\r\ndata: {"a":1}\r\ndata: {"b":2}\r\n\r\n' + // CRLF, two data lines
  'id:8\rdata:no space after the colon\r\r' + // lone CRs
  'id: 9\n\n' + // an id with no data dispatches nothing
  'data\n\n' + // a field with no colon: empty data
  'retry: 1000\nunknown: x\ndata: last\n\n';

const EXPECTED = [
  { id: '7', event: 'alert', data: '{"seq":7}' },
  { id: null, event: 'message', data: '{"a":1}\n{"b":2}' },
  { id: '8', event: 'message', data: 'no space after the colon' },
  { id: null, event: 'message', data: '' },
  { id: null, event: 'message', data: 'last' },
];

test('parseSse reads events, comments, CRLF and CR line ends and multi-line data', () => {
  assert.deepEqual(parseAll([SAMPLE]), EXPECTED);
});

test('parseSse gives the same events whatever the chunks the network cuts them into', () => {
  // Every cut into two pieces (a CRLF split between chunks among them), then one byte a time.
  for (let i = 0; i <= SAMPLE.length; i++) {
    assert.deepEqual(parseAll([SAMPLE.slice(0, i), SAMPLE.slice(i)]), EXPECTED, `cut at ${i}`);
  }
  assert.deepEqual(parseAll(SAMPLE.split('')), EXPECTED);
});

test('parseSse holds an unfinished event until its blank line', () => {
  const out = [];
  const feed = parseSse((e) => out.push(e));
  feed('id: 1\ndata: x\n');
  assert.equal(out.length, 0);
  feed('\n');
  assert.deepEqual(out, [{ id: '1', event: 'message', data: 'x' }]);
});

// A fetch that answers each call with the next scripted body (then ends the stream), and
// records the request headers.
function fakeFetch(bodies, abort) {
  const calls = [];
  const fetch = async (url, opts) => {
    calls.push({ url, headers: { ...opts.headers } });
    const body = bodies.shift();
    if (body === undefined) {
      abort();
      throw new Error('aborted');
    }
    if (body === 401) return { status: 401, ok: false };
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(body));
        c.close(); // the connection drops
      },
    });
    return { status: 200, ok: true, body: stream };
  };
  return { fetch, calls };
}

test('runStream resumes after a dropped connection with the last id it saw', async () => {
  const ctl = new AbortController();
  const { fetch, calls } = fakeFetch(
    [
      'id: 3\nevent: alert\ndata: {"seq":3}\n\nid: 4\nevent: alert\ndata: {"seq":4}\n\n',
      // a pending message (no id) must not move the resume point
      'event: message\ndata: {"pending":true}\n\nid: 5\nevent: alert\ndata: {"seq":5}\n\n',
      'event: error\ndata: {"error":"slow consumer","last_seq":9}\n\n',
    ],
    () => ctl.abort(),
  );
  globalThis.fetch = fetch;
  const events = [];
  const statuses = [];
  await runStream({ token: 't0k', onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s), signal: ctl.signal });
  assert.deepEqual(
    calls.map((c) => c.headers['Last-Event-ID']),
    [undefined, '4', '5', '9'],
  );
  assert.ok(calls.every((c) => c.url === '/v1/stream' && c.headers.Authorization === 'Bearer t0k'));
  assert.deepEqual(
    events.map((e) => e.data.seq ?? e.data.pending ?? e.data.last_seq),
    [3, 4, true, 5, 9],
  );
  assert.ok(statuses.includes('live (resumed after 4)'), statuses.join(' | '));
});

test('runStream stops when the token is refused', async () => {
  const ctl = new AbortController();
  const { fetch, calls } = fakeFetch([401], () => ctl.abort());
  globalThis.fetch = fetch;
  const statuses = [];
  await runStream({ token: 'x', onEvent: () => {}, onStatus: (s) => statuses.push(s), signal: ctl.signal });
  assert.equal(calls.length, 1);
  assert.deepEqual(statuses, ['token refused']);
});
