// The browser test (scripts/browser_test.sh runs it): COAL's and RUS's maps side by side
// against `deconflict demo`, in Debian's Chromium through playwright-core.
// Usage: node scripts/browser_test.mjs URL TOKENS_DIR SHOTS_DIR TRACKS.jsonl EPISODES.jsonl
// (the last two: a scenario and what `deconflict replay --out` made of it, for replay mode)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(new URL('./browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, tokens, shots, replayTracks, replayEpisodes] = process.argv.slice(2);
let passed = 0;
const problems = [];
const step = (what) => {
  passed += 1;
  console.log(`ok ${passed} - ${what}`);
};

async function signIn(browser, party) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${party} console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${party} page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) problems.push(`${party} fetched from outside: ${r.url()}`);
  });
  await page.goto(`${url}/`);
  await page.fill('#token', readFileSync(join(tokens, `${party}.token`), 'utf8').trim());
  await page.click('#signin-form button');
  await page.waitForFunction(() => window.deconflictMap && window.deconflictMap.signedIn, null, { timeout: 10000 });
  if (page.url().includes('token') || page.url() !== `${url}/`) throw new Error(`${party}: the URL changed: ${page.url()}`);
  await page.waitForFunction(() => window.deconflictMap.connection.startsWith('live'), null, { timeout: 10000 });
  return page;
}

const counts = (page) => page.evaluate(() => window.deconflictMap.counts);
const conflictsShown = (page) =>
  page.evaluate(() => [...document.querySelectorAll('#alerts li button.to-other-side')].map((b) => b.dataset.conflict));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const coal = await signIn(browser, 'COAL');
  const rus = await signIn(browser, 'RUS');
  step('COAL and RUS signed in with their tokens (the URL carries no token), both streams live');

  // GET /v1/me: each page names its own party in the status line.
  for (const [page, party] of [[coal, 'COAL'], [rus, 'RUS']]) {
    const [who, me] = await page.evaluate(() => [document.querySelector('#whoami').textContent, window.deconflictMap.party]);
    if (!me || me.name !== party || !who.startsWith(party)) throw new Error(`${party}'s page names ${who} (${JSON.stringify(me)})`);
  }
  step('each page shows its own party (GET /v1/me): COAL and RUS');

  // The first view fits what COAL has (its tracks and filings): the box's corners on the canvas.
  await coal.waitForFunction(() => window.deconflictMap.fit, null, { timeout: 30000 });
  const fit = await coal.evaluate(() => window.deconflictMap.fit);
  const inside = fit.corners.every(([x, y]) => x >= -0.5 && y >= -0.5 && x <= fit.size[0] + 0.5 && y <= fit.size[1] + 0.5);
  if (!inside) throw new Error(`the first view does not hold what COAL has: ${JSON.stringify(fit)}`);
  step(`COAL's first view fits its tracks and filings (${fit.box.map((x) => x.toFixed(2)).join(', ')})`);

  await coal.waitForFunction(() => window.deconflictMap.counts.ownDrawn > 0, null, { timeout: 30000 });
  const c0 = await counts(coal);
  await coal.screenshot({ path: join(shots, 'coal-own-tracks.png') });
  step(`COAL's own tracks are drawn (${c0.ownDrawn}), ${c0.filings} filings on the map`);

  // The scripted conflict: one both sides were told (the same id on both streams).
  let shared = null;
  const until = Date.now() + 100000;
  while (!shared && Date.now() < until) {
    const [a, b] = [await conflictsShown(coal), await conflictsShown(rus)];
    shared = a.find((id) => b.includes(id)) || null;
    if (!shared) await coal.waitForTimeout(500);
  }
  if (!shared) throw new Error('no conflict shown to both COAL and RUS');
  await coal.waitForFunction(() => window.deconflictMap.counts.alertsDrawn > 0, null, { timeout: 10000 });
  const c1 = await counts(coal);
  await coal.screenshot({ path: join(shots, 'coal-alert.png') });
  step(`COAL sees the conflict ${shared} as an alert on the map (${c1.alertsDrawn} drawn, ${c1.intrudersDrawn} intruders)`);

  // Each side is shown advice for its own aircraft in that conflict's alert.
  const adviceOf = (page) => page.evaluate((id) => [...document.querySelectorAll('#alerts li')]
    .filter((li) => li.querySelector(`button.to-other-side[data-conflict="${id}"]`))
    .map((li) => li.querySelector('span.advice')?.textContent || '')
    .find((t) => t.startsWith('advice: ')) || null, shared);
  const [adviceCoal, adviceRus] = [await adviceOf(coal), await adviceOf(rus)];
  if (!adviceCoal || !adviceRus) throw new Error(`advice missing: COAL ${adviceCoal}, RUS ${adviceRus}`);
  step(`each side sees advice for its own aircraft: COAL "${adviceCoal}", RUS "${adviceRus}"`);

  const text = `Browser test ${Date.now()}: your aircraft in ${shared}, please climb.`;
  await coal.click(`#alerts li button.to-other-side[data-conflict="${shared}"]`);
  const prefilled = await coal.evaluate(() => {
    const f = document.querySelector('#send').elements;
    return [f.to_kind.value, f.to.value, f.kind.value];
  });
  if (prefilled[0] !== 'conflict' || prefilled[1] !== shared) throw new Error(`not pre-filled: ${prefilled}`);
  await coal.fill('#send textarea[name=text]', text);
  await coal.click('#send button[type=submit]');
  await coal.waitForFunction(() => document.querySelector('#send-status').textContent.startsWith('sent m-'), null, { timeout: 10000 });
  step('COAL sent a request to "the other side of this conflict" from the alert');

  const inRus = rus.locator('#inbox li.msg', { hasText: text });
  await inRus.waitFor({ timeout: 20000 });
  const from = await inRus.locator('.head').textContent();
  await rus.screenshot({ path: join(shots, 'rus-request.png') });
  step(`RUS's page shows it (${from.trim()})`);
  await inRus.locator('button.ack').click();
  await rus.locator('#inbox li.msg.acked', { hasText: text }).waitFor({ timeout: 10000 });
  step('RUS acknowledged it');

  await coal.locator('#sent li.msg', { hasText: text }).locator('.recipient.acked').waitFor({ timeout: 20000 });
  await coal.screenshot({ path: join(shots, 'coal-acknowledged.png') });
  step("COAL's page shows the acknowledgement");

  // The humanitarian coordinator's emergency to both: nobody acknowledges it, so after the
  // configured 8 s (scripts/browser_test.sh) it is escalated, and COAL's inbox shows it so,
  // unacknowledged items first.
  const emergency = coal.locator('#inbox li.msg.escalated', { hasText: 'Emergency' });
  await emergency.waitFor({ timeout: 30000 });
  const flag = (await emergency.locator('.flag').allTextContents()).join(' ');
  if (!flag.includes('ESCALATED')) throw new Error(`the escalated emergency is not flagged: ${flag}`);
  const order = await coal.evaluate(() => [...document.querySelectorAll('#inbox li.msg')].map((li) => li.classList.contains('acked')));
  const firstAcked = order.indexOf(true);
  if (firstAcked >= 0 && order.slice(firstAcked).includes(false)) throw new Error(`an acknowledged item before an open one: ${order}`);
  await coal.screenshot({ path: join(shots, 'coal-escalated.png') });
  step(`COAL's inbox shows the unacknowledged emergency as ESCALATED, open items first (${order.length} items)`);

  // Replay mode on RUS's page: the scenario's tracks and its replay's episodes from disk,
  // scrubbed with the slider; what is drawn at a time is checked against the files.
  const secs = (t) => Date.parse(t) / 1000;
  const lines = (f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const reports = lines(replayTracks);
  const episodes = lines(replayEpisodes);
  const ep = episodes.find((e) => e.max_level === 3);
  if (!ep) throw new Error('no warning episode in the replay');
  const tMid = Math.round((secs(ep.start) + secs(ep.end)) / 2);
  const liveAt = (t) => {
    const last = new Map();
    for (const r of reports) if (secs(r.time) <= t) last.set(r.asset, Math.max(last.get(r.asset) || -Infinity, secs(r.time)));
    return [...last.values()].filter((x) => t - x <= 10).length;
  };
  const episodesAt = (t) => episodes.filter((e) => secs(e.start) <= t && t <= secs(e.end)).length;
  await rus.setInputFiles('#replay-tracks', replayTracks);
  await rus.setInputFiles('#replay-episodes', replayEpisodes);
  // Both files read (each file's change starts a load of its own).
  await rus.waitForFunction(() => window.deconflictMap.counts.replayEpisodes > 0, null, { timeout: 10000 });
  const scrub = async (t) => {
    await rus.evaluate((v) => {
      const s = document.querySelector('#replay-time');
      s.value = String(v);
      s.dispatchEvent(new Event('input'));
    }, t);
    await rus.waitForTimeout(300);
    return [await counts(rus), await rus.textContent('#replay-label')];
  };
  const [atMid, label] = await scrub(tMid);
  const wantOwn = liveAt(tMid);
  const wantAlerts = episodesAt(tMid);
  if (atMid.ownDrawn !== wantOwn || atMid.alertsDrawn !== wantAlerts) {
    throw new Error(`replay at ${label}: drew ${atMid.ownDrawn} tracks and ${atMid.alertsDrawn} alerts; the files say ${wantOwn} and ${wantAlerts}`);
  }
  if (label !== new Date(tMid * 1000).toISOString().slice(0, 19) + 'Z') throw new Error(`replay label ${label}`);
  await rus.screenshot({ path: join(shots, 'rus-replay.png') });
  // A time when no episode is live draws no alert.
  const t1 = Math.max(...reports.map((r) => secs(r.time)));
  const quiet = Math.max(...episodes.map((e) => secs(e.end))) + 1;
  if (quiet <= t1) {
    const [atQuiet] = await scrub(quiet);
    if (atQuiet.alertsDrawn !== 0 || atQuiet.ownDrawn !== liveAt(quiet)) {
      throw new Error(`replay after the last episode: ${atQuiet.alertsDrawn} alerts, ${atQuiet.ownDrawn} tracks`);
    }
  }
  await rus.click('#live');
  await rus.waitForFunction(() => document.querySelector('#replay-time').disabled, null, { timeout: 5000 });
  step(`replay mode: at ${label} ${wantOwn} tracks and ${wantAlerts} alerts drawn, as the files say (${episodes.length} episodes); back to live`);

  await coal.evaluate(() => window.deconflictMap.injectSynthetic(10000));
  const fr = await coal.evaluate(() => window.deconflictMap.measure(3000));
  const drawn = (await counts(coal)).syntheticDrawn;
  await coal.screenshot({ path: join(shots, 'coal-10000-tracks.png') });
  if (drawn !== 10000) throw new Error(`drew ${drawn} synthetic tracks`);
  console.log(
    `frame rate with 10,000 tracks: ${fr.fps.toFixed(1)} frames/s over ${fr.seconds.toFixed(1)} s (${fr.frames} frames; ${fr.drawMsMean.toFixed(1)} ms to draw one)`,
  );
  step('10,000 synthetic tracks drawn by the renderer');
  await coal.evaluate(() => window.deconflictMap.clearSynthetic());

  // A narrow window: the status line wraps (and cuts what is too long), nothing is wider than it.
  await coal.setViewportSize({ width: 320, height: 640 });
  await coal.waitForTimeout(300);
  const widths = await coal.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    header: Math.max(...[...document.querySelectorAll('header *')].map((e) => e.getBoundingClientRect().right)),
  }));
  await coal.screenshot({ path: join(shots, 'coal-narrow.png') });
  if (widths.page > 320 || widths.header > 320.5) throw new Error(`at 320 px wide: ${JSON.stringify(widths)}`);
  step('at 320 px wide the status line wraps within the window');

  if (problems.length) throw new Error(problems.join('\n'));
  step('no console error, no CSP violation, nothing fetched from outside');
  console.log(`browser: ${passed} passed, 0 failed`);
} catch (e) {
  console.log(`not ok - ${e.message}`);
  if (problems.length) console.log(problems.join('\n'));
  console.log(`browser: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
