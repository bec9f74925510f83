// The party's stream (GET /v1/stream) read with fetch() and a streaming reader: EventSource
// cannot send an Authorization header. Parses Server-Sent Events (id:, event:, data:) and
// resumes after a disconnect with Last-Event-ID, backing off up to 15 s.

export function parseSse(onEvent) {
  let buf = '';
  let ev = { id: null, event: '', data: [] };
  const line = (l) => {
    if (l === '') {
      if (ev.data.length) onEvent({ id: ev.id, event: ev.event || 'message', data: ev.data.join('\n') });
      ev = { id: null, event: '', data: [] };
      return;
    }
    if (l.startsWith(':')) return;
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') ev.data.push(value);
    else if (field === 'event') ev.event = value;
    else if (field === 'id') ev.id = value;
  };
  return (chunk) => {
    buf += chunk;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(buf);
      if (!m) return;
      // A lone CR at the end of a chunk may be half of a CRLF: wait for the next chunk.
      if (m[0] === '\r' && m.index === buf.length - 1) return;
      line(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
    }
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs until `signal` aborts or the token is refused. `onEvent({id, event, data})` gets each
// event with `data` parsed as JSON; `onStatus(text)` the connection's state.
export async function runStream({ token, onEvent, onStatus, signal }) {
  let last = null;
  let backoff = 500;
  while (!signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
      if (last !== null) headers['Last-Event-ID'] = last;
      const r = await fetch('/v1/stream', { headers, signal, cache: 'no-store' });
      if (r.status === 401) {
        onStatus('token refused');
        return;
      }
      if (!r.ok) throw new Error(`stream: ${r.status}`);
      onStatus(last === null ? 'live' : `live (resumed after ${last})`);
      backoff = 500;
      const feed = parseSse((e) => {
        let data = null;
        try {
          data = JSON.parse(e.data);
        } catch (_) {
          return;
        }
        if (e.id !== null && e.id !== '') last = e.id;
        if (e.event === 'error' && data && data.last_seq !== undefined) last = String(data.last_seq);
        onEvent({ id: e.id, event: e.event, data });
      });
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed(value);
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    onStatus(`reconnecting in ${(backoff / 1000).toFixed(1)} s`);
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 15000);
  }
}
