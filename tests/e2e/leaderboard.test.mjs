// leaderboard.test.mjs — the dashboard's "Model leaderboard" and "Rater agreement" panels in a
// real headless Chromium against the real feedbackd binary and a private PostgreSQL
// (tests/e2e/lib/stack.mjs).
//
// The page is opened first on an empty project (both panels must say so), then A/B picks and
// ratings from several raters are posted through the API and the page is refreshed. What the
// page shows is checked against (a) GET /v1/leaderboard and GET /v1/agreement, fetched by this
// file with the query the page sent, and (b) what this file computes itself from the votes it
// posted, following docs/api.md ("Vote semantics", "Model leaderboard", "Rater agreement"):
// the model order (one model wins every battle, the other two have the same record against it
// and one beat the other), each model's wins/losses/ties/both_bad, the rank rule applied to the
// API's intervals, Krippendorff's alpha, each rater's agreement with the majority and
// flip-flops, and the raters' order on the page (lowest agreement first).
//
// Run: FEEDBACKD_BIN=build/feedbackd node --test tests/e2e/leaderboard.test.mjs
// Screenshot: tests/artifacts/dashboard-leaderboard.png (git-ignored).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { CHROMIUM_ARGS, num, readTable, chartData, paintedPixels } from './lib/page.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
const HOUR = 3600e3;
const DAY = 24 * HOUR;
// Inside the dashboard's default range (the last 30 days), never on a day boundary.
const MIDNIGHT = Math.floor(Date.now() / DAY) * DAY;
const at = (daysAgo, hour, minute = 0) => new Date(MIDNIGHT - daysAgo * DAY + hour * HOUR + minute * 60e3).toISOString();

// ---------------------------------------------------------------------------------------------
// Seed data: 10 prompts, each answered by two models. Pair k is (first answer, second answer).

const A = 'alpha-large', B = 'beta-medium', C = 'gamma-small';
const PAIRS = [
  [A, B], [A, B], [A, B], // p0..p2
  [A, C], [A, C], [A, C], // p3..p5
  [B, C], [B, C], [B, C], [B, C], // p6..p9
];
const MESSAGES = PAIRS.flatMap(([m1, m2], k) => [
  { id: `lq${k}`, conversation_id: `lc${k}`, parent_id: null, role: 'user', content: `Question ${k}?`, created_at: at(3, 1, k) },
  { id: `la${k}`, conversation_id: `lc${k}`, parent_id: `lq${k}`, role: 'assistant', content: `Answer ${k} by ${m1}`, model: m1, created_at: at(3, 1, k + 1) },
  { id: `lb${k}`, conversation_id: `lc${k}`, parent_id: `lq${k}`, role: 'assistant', content: `Answer ${k} by ${m2}`, model: m2, created_at: at(3, 1, k + 2) },
]);
const MODEL_OF = Object.fromEntries(MESSAGES.filter((m) => m.model).map((m) => [m.id, m.model]));

// Votes: pick = 'a' (the first answer preferred), 'b' (the second), 'tie' or 'both_bad'.
// Everyone prefers A's answer; on B vs C, u1 and u4 always pick B, u2 picks B but calls p9 a
// tie, u3 picks C on p6/p7 (on p6 after first picking B: a flip-flop) and B on p8/p9.
const PICKS = {
  u1: ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'],
  u2: ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'tie'],
  u3: ['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'a', 'a'],
  u4: ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'both_bad'],
};
function comparison(id, user, k, pick, createdAt) {
  const e = { id, kind: 'comparison', user, created_at: createdAt };
  if (pick === 'b') Object.assign(e, { message_id: `lb${k}`, other_message_id: `la${k}` });
  else Object.assign(e, { message_id: `la${k}`, other_message_id: `lb${k}` });
  if (pick === 'tie' || pick === 'both_bad') e.outcome = pick;
  return e;
}
const EVENTS = [
  comparison('lx-u3-p6-first', 'u3', 6, 'a', at(2, 1)), // superseded below: u3 changes their mind
  ...Object.entries(PICKS).flatMap(([user, picks]) =>
    picks.map((pick, k) => comparison(`lx-${user}-p${k}`, user, k, pick, at(2, 2 + k)))),
  // ratings: three raters on la0, three on la3 (one on a 1..5 scale), one rater alone on lb6
  { id: 'lr1', kind: 'rating', user: 'u1', message_id: 'la0', value: 1, created_at: at(2, 14) },
  { id: 'lr2', kind: 'rating', user: 'u2', message_id: 'la0', value: 1, created_at: at(2, 14, 5) },
  { id: 'lr3', kind: 'rating', user: 'u3', message_id: 'la0', value: -1, created_at: at(2, 14, 10) },
  { id: 'lr4', kind: 'rating', user: 'u1', message_id: 'la3', value: 1, created_at: at(2, 15) },
  { id: 'lr5', kind: 'rating', user: 'u2', message_id: 'la3', value: 1, created_at: at(2, 15, 5) },
  { id: 'lr6', kind: 'rating', user: 'u4', message_id: 'la3', value: 4, scale: 5, created_at: at(2, 15, 10) },
  { id: 'lr7', kind: 'rating', user: 'u5', message_id: 'lb6', value: -1, created_at: at(2, 16) },
];

// ---------------------------------------------------------------------------------------------
// The contract's rules, written out here independently of the server.

// Counting votes: the latest per (user, kind, message | unordered pair) by created_at, then
// arrival (every event here has a user and none is retracted).
function itemOf(e) {
  return e.kind === 'comparison' ? [e.message_id, e.other_message_id].sort().join('|') : e.message_id;
}
function byTime(events) {
  return events.map((e, arrival) => ({ e, t: Date.parse(e.created_at), arrival }))
    .sort((x, y) => x.t - y.t || x.arrival - y.arrival).map((x) => x.e);
}
function countingVotes(events) {
  const latest = new Map();
  for (const e of byTime(events)) latest.set(`${e.user}\u0000${e.kind}\u0000${itemOf(e)}`, e);
  return [...latest.values()];
}
// The value a vote gives its item: the normalised score for ratings, the outcome for pairs
// (the byte-order-first message preferred, the second, or a tie; both_bad is a tie).
function valueOf(e) {
  if (e.kind === 'rating') return !e.scale || e.scale === 2 ? e.value : 2 * (e.value - 1) / (e.scale - 1) - 1;
  if (e.outcome === 'tie' || e.outcome === 'both_bad') return 'tie';
  return e.message_id < e.other_message_id ? 'first' : 'second';
}
const same = (x, y) => (typeof x === 'number' ? Math.abs(x - y) <= 1e-9 : x === y);

// Krippendorff's alpha from the coincidence matrix: alpha = 1 - (n - 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck
// over items with at least two values; null with fewer than two such items, 1 without disagreement.
function krippendorff(items, delta2) {
  const units = items.filter((vals) => vals.length >= 2);
  if (units.length < 2) return { alpha: null, items: units.length };
  const values = [...new Set(units.flat())];
  const idx = new Map(values.map((v, i) => [v, i]));
  const o = values.map(() => values.map(() => 0));
  for (const vals of units) {
    for (let i = 0; i < vals.length; i++) {
      for (let j = 0; j < vals.length; j++) if (i !== j) o[idx.get(vals[i])][idx.get(vals[j])] += 1 / (vals.length - 1);
    }
  }
  const nc = o.map((row) => row.reduce((s, x) => s + x, 0));
  const n = nc.reduce((s, x) => s + x, 0);
  let obs = 0, exp = 0;
  values.forEach((c, i) => values.forEach((k, j) => {
    obs += o[i][j] * delta2(c, k);
    exp += nc[i] * nc[j] * delta2(c, k);
  }));
  return { alpha: exp === 0 ? 1 : 1 - (n - 1) * obs / exp, items: units.length };
}

function expectedAgreement(events) {
  const votes = countingVotes(events);
  const byItem = new Map();
  for (const v of votes) {
    const k = `${v.kind}\u0000${itemOf(v)}`;
    if (!byItem.has(k)) byItem.set(k, []);
    byItem.get(k).push(v);
  }
  const part = (kind, delta2) => {
    const items = [...byItem.entries()].filter(([k]) => k.startsWith(kind + '\u0000')).map(([, vs]) => vs);
    const shared = items.filter((vs) => vs.length >= 2);
    return { ...krippendorff(items.map((vs) => vs.map(valueOf)), delta2),
      raters: new Set(shared.flat().map((v) => v.user)).size };
  };
  const users = [...new Set(events.map((e) => e.user))].sort();
  const raters = users.map((user) => {
    const mine = votes.filter((v) => v.user === user);
    let shared = 0, agree = 0;
    for (const v of mine) {
      const others = byItem.get(`${v.kind}\u0000${itemOf(v)}`).filter((w) => w.user !== user).map(valueOf);
      if (!others.length) continue;
      shared++;
      // the majority: the one value given more often than any other (a tie is no majority)
      const counts = [];
      for (const x of others) {
        const c = counts.find((y) => same(y.value, x));
        if (c) c.n++; else counts.push({ value: x, n: 1 });
      }
      counts.sort((p, q) => q.n - p.n);
      if ((counts.length === 1 || counts[0].n > counts[1].n) && same(counts[0].value, valueOf(v))) agree++;
    }
    // flip-flops: consecutive events of this user on one item that changed value
    let flips = 0;
    const last = new Map();
    for (const e of byTime(events.filter((x) => x.user === user))) {
      const k = `${e.kind}\u0000${itemOf(e)}`;
      if (last.has(k) && !same(last.get(k), valueOf(e))) flips++;
      last.set(k, valueOf(e));
    }
    return { user, events: mine.length, agreement: shared ? agree / shared : null, flip_flops: flips };
  });
  return {
    ratings: part('rating', (c, k) => (c - k) ** 2),
    comparisons: part('comparison', (c, k) => (c === k ? 0 : 1)),
    raters,
  };
}

// Per model: battles, wins, losses, ties, both_bad from the counting comparison votes.
function expectedRecords(events) {
  const rec = {};
  const get = (m) => (rec[m] ||= { battles: 0, wins: 0, losses: 0, ties: 0, both_bad: 0 });
  for (const v of countingVotes(events).filter((e) => e.kind === 'comparison')) {
    const w = MODEL_OF[v.message_id], l = MODEL_OF[v.other_message_id];
    get(w).battles++; get(l).battles++;
    if (v.outcome === 'tie') { get(w).ties++; get(l).ties++; }
    else if (v.outcome === 'both_bad') { get(w).both_bad++; get(l).both_bad++; }
    else { get(w).wins++; get(l).losses++; }
  }
  return rec;
}

// ---------------------------------------------------------------------------------------------
// Runs action, waits for the page's leaderboard and agreement answers and for it to finish
// rendering; returns the paths (with query) the page requested.
async function settle(page, action) {
  const lb = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/leaderboard');
  const ag = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/agreement');
  await action();
  const [l, a] = await Promise.all([lb, ag]);
  assert.equal(l.status(), 200, 'GET /v1/leaderboard from the page');
  assert.equal(a.status(), 200, 'GET /v1/agreement from the page');
  await page.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'));
  const rel = (r) => { const u = new URL(r.url()); return u.pathname + u.search; };
  return { leaderboard: rel(l), agreement: rel(a) };
}

// ---------------------------------------------------------------------------------------------

describe('dashboard leaderboard and agreement panels in a real browser against the real stack', () => {
  let stack, browser;
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startStack({ name: 'leaderboard' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    if (browser) await browser.close();
    if (stack) await stack.stop();
  });

  test('empty state, then the panels equal the endpoints and the votes posted', { timeout: 180e3 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    try {
      // --- nothing posted yet: both panels say so, no empty chart is drawn
      await page.goto(`${stack.baseUrl}/dashboard`);
      await page.waitForSelector('#key-input', { state: 'visible' });
      await settle(page, async () => {
        await page.fill('#key-input', stack.keys.read);
        await page.click('#key-form button[type="submit"]');
      });
      assert.equal(await page.isVisible('#alert'), false, `unexpected alert: ${await page.textContent('#alert')}`);
      assert.match(await page.textContent('#leaderboard-table tbody'), /No comparisons yet/);
      assert.equal(await page.isVisible('#leaderboard-note'), true);
      assert.match(await page.textContent('#leaderboard-note'), /No comparisons yet/);
      assert.equal(await page.isVisible('#leaderboard-charts'), false, 'no empty charts');
      assert.equal(await page.textContent('#alpha-ratings'), '—');
      assert.equal(await page.textContent('#alpha-comparisons'), '—');
      assert.match(await page.textContent('#alpha-comparisons-verdict'), /not enough data/);
      assert.match(await page.textContent('#raters-table tbody'), /No ratings or comparisons/);

      // --- post the votes, refresh
      const msg = await stack.api('POST', '/v1/messages', { key: stack.keys.ingest, body: { messages: MESSAGES } });
      assert.equal(msg.status, 200, `POST /v1/messages: ${JSON.stringify(msg.json)}`);
      for (const r of msg.json.results) assert.equal(r.status, 'stored', `message ${r.id}: ${JSON.stringify(r)}`);
      for (const e of EVENTS) {
        const r = await stack.api('POST', '/v1/feedback', { key: stack.keys.ingest, body: e });
        assert.equal(r.status, 201, `POST /v1/feedback ${e.id}: ${r.status} ${JSON.stringify(r.json)}`);
      }
      const sent = await settle(page, () => page.click('#refresh'));
      assert.equal(await page.isVisible('#alert'), false, `unexpected alert: ${await page.textContent('#alert')}`);
      const lb = await stack.api('GET', sent.leaderboard, { key: stack.keys.read });
      const ag = await stack.api('GET', sent.agreement, { key: stack.keys.read });
      assert.equal(lb.status, 200, JSON.stringify(lb.json));
      assert.equal(ag.status, 200, JSON.stringify(ag.json));
      assert.match(sent.leaderboard, /[?&]since=/, 'the leaderboard follows the selected time range');

      // --- leaderboard: the API against this file's own reading of the battles
      const records = expectedRecords(EVENTS);
      // A wins every battle; B and C lost every battle to A and B beat C: A, B, C.
      assert.deepEqual(records[A].losses + records[A].ties + records[A].both_bad, 0, 'seed: A never lost');
      assert.deepEqual(lb.json.models.map((m) => m.model), [A, B, C], `API order: ${JSON.stringify(lb.json.models)}`);
      assert.equal(lb.json.battles, Object.values(records).reduce((s, r) => s + r.battles, 0) / 2);
      for (const m of lb.json.models) {
        for (const k of ['battles', 'wins', 'losses', 'ties', 'both_bad']) assert.equal(m[k], records[m.model][k], `API ${m.model}.${k}`);
        assert.ok(Array.isArray(m.ci95) && m.ci95[0] <= m.rating && m.rating <= m.ci95[1], `${m.model}: rating inside its interval ${JSON.stringify(m)}`);
        const rank = 1 + lb.json.models.filter((o) => o.ci95[0] > m.ci95[1]).length;
        assert.equal(m.rank, rank, `${m.model}: rank by the rule "1 + models whose interval lies above"`);
      }

      // --- leaderboard on the page == API (rounded to 0.1 as shown)
      const rows = await readTable(page, 'leaderboard-table');
      assert.deepEqual(rows.map((r) => r.cells[1]), [A, B, C], 'page order');
      assert.deepEqual(await page.$$eval('#leaderboard-table thead th', (ths) => ths.map((th) => th.scope)), Array(9).fill('col'));
      assert.equal(num(await page.textContent('#leaderboard-battles')), lb.json.battles);
      rows.forEach((r, i) => {
        const m = lb.json.models[i];
        const [rank, model, rating, interval, ...counts] = r.cells;
        assert.equal(model, m.model);
        assert.equal(r.data.model, m.model);
        assert.equal(num(rank), m.rank, `${model}: rank`);
        assert.equal(rating, m.rating.toFixed(1), `${model}: rating`);
        assert.equal(interval, `[${m.ci95[0].toFixed(1)}, ${m.ci95[1].toFixed(1)}]`, `${model}: interval`);
        assert.deepEqual(counts.map(num), [m.battles, m.wins, m.losses, m.ties, m.both_bad], `${model}: counts`);
      });
      const rc = await chartData(page, 'leaderboard-chart');
      assert.ok(rc, 'a Chart on #leaderboard-chart');
      assert.deepEqual(rc.labels, [A, B, C]);
      const points = rc.datasets.find((d) => d.label === 'Rating');
      const bars = rc.datasets.find((d) => /interval/i.test(d.label));
      lb.json.models.forEach((m, i) => {
        assert.ok(Math.abs(points.data[i] - m.rating) <= 0.05 + 1e-9, `chart point ${m.model}`);
        assert.ok(Math.abs(bars.data[i][0] - m.ci95[0]) <= 0.05 + 1e-9 && Math.abs(bars.data[i][1] - m.ci95[1]) <= 0.05 + 1e-9,
          `chart interval ${m.model}: ${JSON.stringify(bars.data[i])}`);
      });
      const bc = await chartData(page, 'battles-chart');
      assert.ok(bc, 'a Chart on #battles-chart');
      assert.deepEqual(bc.labels, [A, B, C]);
      lb.json.models.forEach((m, i) => {
        assert.equal(bc.datasets.reduce((s, d) => s + d.data[i], 0), m.battles, `battles bar of ${m.model} adds up`);
        assert.equal(bc.datasets.find((d) => d.label === 'Wins').data[i], m.wins);
      });
      for (const id of ['leaderboard-chart', 'battles-chart']) {
        assert.ok(await paintedPixels(page, id) > 500, `#${id} looks blank`);
      }

      // --- agreement: the API against this file's own computation
      const want = expectedAgreement(EVENTS);
      for (const kind of ['ratings', 'comparisons']) {
        assert.equal(ag.json[kind].items, want[kind].items, `${kind}.items`);
        assert.equal(ag.json[kind].raters, want[kind].raters, `${kind}.raters`);
        assert.ok(want[kind].alpha !== null && Math.abs(ag.json[kind].alpha - want[kind].alpha) <= 1e-9,
          `${kind}.alpha: API ${ag.json[kind].alpha}, computed ${want[kind].alpha}`);
      }
      assert.deepEqual(ag.json.raters.map((r) => r.user), want.raters.map((r) => r.user));
      for (const w of want.raters) {
        const r = ag.json.raters.find((x) => x.user === w.user);
        assert.equal(r.events, w.events, `${w.user}.events`);
        assert.equal(r.flip_flops, w.flip_flops, `${w.user}.flip_flops`);
        if (w.agreement === null) assert.equal(r.agreement, null, `${w.user}.agreement`);
        else assert.ok(Math.abs(r.agreement - w.agreement) <= 1e-9, `${w.user}.agreement: API ${r.agreement}, computed ${w.agreement}`);
      }
      assert.equal(want.raters.find((r) => r.user === 'u3').flip_flops, 1, 'seed: u3 changed their mind once');

      // --- agreement on the page == API
      for (const kind of ['ratings', 'comparisons']) {
        assert.equal(await page.textContent(`#alpha-${kind}`), ag.json[kind].alpha.toFixed(3), `${kind} alpha shown`);
        const a = ag.json[kind].alpha;
        const verdict = a >= 0.8 ? /reliable/ : a >= 0.667 ? /tentative/ : /do not train/;
        assert.match(await page.textContent(`#alpha-${kind}-verdict`), verdict, `${kind} verdict for ${a}`);
        assert.match(await page.textContent(`#alpha-${kind}-detail`), new RegExp(`^${ag.json[kind].items} items.* ${ag.json[kind].raters} raters$`));
      }
      assert.match(await page.textContent('#alpha-guide'), /0\.8.*0\.667/s);
      // lowest agreement first, raters without a shared item last, ties by user
      const order = [...want.raters].sort((x, y) => (x.agreement ?? Infinity) - (y.agreement ?? Infinity) || (x.user < y.user ? -1 : 1));
      const raterRows = await readTable(page, 'raters-table');
      assert.deepEqual(raterRows.map((r) => r.cells[0]), order.map((r) => r.user), 'raters, lowest agreement first');
      assert.equal(raterRows.at(-1).cells[0], 'u5', 'u5 shares no item: last');
      for (const r of raterRows) {
        const a = ag.json.raters.find((x) => x.user === r.cells[0]);
        if (a.agreement === null) assert.match(r.cells[1], /^—/);
        else assert.equal(r.cells[1], `${(a.agreement * 100).toFixed(1)} %`);
        assert.deepEqual([num(r.cells[2]), num(r.cells[3])], [a.events, a.flip_flops], `${a.user} votes, flip-flops`);
      }
      assert.ok(await page.locator('#alpha-guide').isVisible());

      // accessible names: one h2 per panel, charts described, every table column has a header
      for (const [id, title] of [['leaderboard', 'Model leaderboard'], ['agreement', 'Rater agreement']]) {
        assert.equal(await page.textContent(`#${id} h2`), title);
      }
      for (const id of ['leaderboard-chart', 'battles-chart']) {
        assert.match(await page.getAttribute(`#${id}`, 'aria-label') || '', /table below/);
      }

      // both panels, in page coordinates
      const clip = await page.evaluate(() => {
        const top = document.getElementById('leaderboard').getBoundingClientRect().top + window.scrollY;
        const bottom = document.getElementById('agreement').getBoundingClientRect().bottom + window.scrollY;
        return { x: 0, y: Math.max(0, top - 10), width: document.documentElement.clientWidth, height: bottom - top + 20 };
      });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-leaderboard.png'), fullPage: true, clip });
      assert.deepEqual(problems, [], 'no script errors on the page');
    } finally {
      await context.close();
    }
  });
});
