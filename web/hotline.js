// The hotline panel: the inbox (unacknowledged first, escalations highlighted), acknowledge,
// the send form (to parties, a coalition, or the other side of a conflict), and the sent
// items with each copy's acknowledgement. Every text from the service goes in as textContent.

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const fromText = (f) => (!f ? '?' : f.party ? f.party : f.conflict ? `the other side of ${f.conflict}` : JSON.stringify(f));
const toText = (t) => {
  if (!t) return '?';
  if (t.parties) return t.parties.join(', ');
  if (t.party) return t.party;
  if (t.coalition) return `coalition ${t.coalition}`;
  if (t.conflict) return `the other side of ${t.conflict}`;
  return JSON.stringify(t);
};

export class Hotline {
  constructor(api, root) {
    this.api = api;
    this.inbox = root.querySelector('#inbox');
    this.sent = root.querySelector('#sent');
    this.form = root.querySelector('#send');
    this.status = root.querySelector('#send-status');
    this.messages = [];
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
  }

  get count() {
    return this.messages.length;
  }

  // Pre-fills the form: a request to the other side of conflict `id`.
  toConflict(id) {
    const f = this.form;
    f.elements.to_kind.value = 'conflict';
    f.elements.to.value = id;
    f.elements.kind.value = 'request';
    f.elements.reply_to.value = '';
    f.elements.text.focus();
  }

  replyTo(m) {
    const f = this.form;
    f.elements.reply_to.value = m.id;
    f.elements.to_kind.value = 'reply';
    f.elements.to.value = '';
    f.elements.kind.value = 'reply';
    f.elements.text.focus();
  }

  async send() {
    const f = this.form.elements;
    const body = { kind: f.kind.value, text: f.text.value };
    const to = f.to.value.trim();
    if (f.to_kind.value === 'parties') body.to = { parties: to.split(/[\s,]+/).filter(Boolean) };
    else if (f.to_kind.value === 'coalition') body.to = { coalition: to };
    else if (f.to_kind.value === 'conflict') body.to = { conflict: to };
    if (f.reply_to.value) body.reply_to = f.reply_to.value;
    const r = await this.api('/v1/messages', { method: 'POST', body: JSON.stringify(body) });
    const v = await r.json().catch(() => ({}));
    if (r.ok) {
      this.status.textContent = `sent ${v.id}`;
      f.text.value = '';
      f.reply_to.value = '';
      await this.refresh();
    } else {
      this.status.textContent = `not sent: ${v.error || r.status}${v.field ? ` (${v.field})` : ''}`;
    }
  }

  async ack(id) {
    const r = await this.api(`/v1/messages/${encodeURIComponent(id)}/ack`, { method: 'POST' });
    if (r.ok) await this.refresh();
  }

  async refresh() {
    const all = [];
    let after = 0;
    for (let page = 0; page < 20; page += 1) {
      const r = await this.api(`/v1/messages?after=${after}&limit=1000`);
      if (!r.ok) return;
      const v = await r.json();
      const items = Array.isArray(v) ? v : v.messages || [];
      all.push(...items);
      if (items.length < 1000) break;
      after = items[items.length - 1].seq;
    }
    this.messages = all;
    this.render();
  }

  render() {
    const inbox = this.messages.filter((m) => m.direction === 'in');
    inbox.sort((a, b) => (!!a.acked_at - !!b.acked_at) || String(b.sent_at).localeCompare(String(a.sent_at)));
    this.inbox.replaceChildren(...inbox.map((m) => this.inItem(m)));
    const sent = this.messages.filter((m) => m.direction === 'out').reverse();
    this.sent.replaceChildren(...sent.map((m) => this.outItem(m)));
  }

  inItem(m) {
    const cls = ['msg', `kind-${m.kind}`, m.acked_at ? 'acked' : 'open', m.escalated_at ? 'escalated' : ''];
    const li = el('li', cls.join(' '));
    li.dataset.id = m.id;
    const head = el('div', 'head');
    head.append(el('b', '', m.kind.toUpperCase()), ` from ${fromText(m.from)}`);
    if (m.via) head.append(` via ${m.via}`);
    head.append(el('span', 'time', ` ${m.sent_at}`));
    if (m.escalated_at) head.append(el('span', 'flag', ' ESCALATED'));
    li.append(head, el('div', 'text', m.text));
    if (m.extents && m.extents.length) li.append(el('div', 'note', `${m.extents.length} planned volume(s) attached`));
    const row = el('div', 'actions');
    if (m.acked_at) row.append(el('span', 'ackd', `acknowledged ${m.acked_at}`));
    else {
      const b = el('button', 'ack', 'Acknowledge');
      b.type = 'button';
      b.addEventListener('click', () => this.ack(m.id));
      row.append(b);
    }
    const rb = el('button', 'reply', 'Reply');
    rb.type = 'button';
    rb.addEventListener('click', () => this.replyTo(m));
    row.append(rb);
    li.append(row);
    return li;
  }

  outItem(m) {
    const li = el('li', 'msg out');
    li.dataset.id = m.id;
    const head = el('div', 'head');
    head.append(el('b', '', m.kind.toUpperCase()), ` to ${toText(m.to)}`, el('span', 'time', ` ${m.sent_at}`));
    li.append(head, el('div', 'text', m.text));
    for (const c of m.recipients || []) {
      const state = c.acked_at ? `acknowledged ${c.acked_at}` : c.delivered_at ? `delivered ${c.delivered_at}, not acknowledged` : 'not yet delivered';
      const r = el('div', `recipient ${c.acked_at ? 'acked' : 'open'}${c.escalated_at ? ' escalated' : ''}`, `${toText(c.to)}: ${state}${c.escalated_at ? ' (escalated)' : ''}`);
      li.append(r);
    }
    return li;
  }
}
