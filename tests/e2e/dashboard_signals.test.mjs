// dashboard_signals.test.mjs — the dashboard's reactions, signals and span-label panels and the
// list of recent answers with their labelled passages (static/dashboard/signals.js), in a real
// headless Chromium against the real feedbackd binary and a private PostgreSQL (lib/stack.mjs).
//
// First the empty state (every panel says there is nothing yet, no empty chart), then messages,
// reactions, signals and spans posted through the API — re-votes, retractions, events without a
// user, an emoji given as its character, an unlogged message, an out-of-range message, a span
// label, an answer and a model name made of markup — and every figure on the page compared with
// GET /v1/stats (the very query the page sent) and with this file's own counting by the
// contract's rules (docs/api.md "Reactions", "Implicit signals", "Span feedback", "Stats"). The
// highlighted passages are checked code point by code point; the markup must stay text.
//
//   FEEDBACKD_BIN=build/feedbackd node --test tests/e2e/dashboard_signals.test.mjs
// Screenshots go to tests/artifacts/ (git-ignored).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { CHROMIUM_ARGS, num, readTable, chartData, pct, ci, assertRate, assertCI, wilson, settle } from './lib/page.mjs';
import { assertAccessible } from './lib/a11y.mjs';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOUR = 3600e3;
const DAY = 24 * HOUR;
const MIDNIGHT = Math.floor(Date.now() / DAY) * DAY; // today 00:00 UTC
const at = (daysAgo, hour, minute = 0) => new Date(MIDNIGHT - daysAgo * DAY + hour * HOUR + minute * 60e3).toISOString();

// The default reaction set and span labels (docs/api.md), written out by hand.
const REACTION_VALUE = { love: 1, like: 1, laugh: 0.5, wow: 0, sad: -0.5, angry: -1, dislike: -1 };
const EMOJI_NAME = { '👎': 'dislike' };
const DEFAULT_LABELS = [{ name: 'incorrect', value: -1 }, { name: 'irrelevant', value: -1 },
  { name: 'incomplete', value: -1 }, { name: 'unsafe', value: -1 }, { name: 'well_said', value: 1 }];
const SIGNALS = ['copy', 'share', 'regenerate', 'continue', 'abandon', 'dwell', 'retry',
  'detected_praise', 'detected_complaint', 'detected_correction'];

// Markup where the page must show text.
const EVIL_LABEL = '<img src=x onerror="window.__pwned=1">';
const EVIL_MODEL = '<i>evil-model</i>';
const EVIL_ANSWER = '<script>window.__pwned=2</script><b>bold</b> & <img src=x onerror="window.__pwned=3">';

const A1 = 'The capital of France is Lyon 🇫🇷 — ask any cafe\u0301 owner.';
const MESSAGES = [
  { id: 'q1', conversation_id: 'c1', parent_id: null, role: 'user', content: 'Capital of France?', created_at: at(6, 1), user: 'u1' },
  { id: 'a1', conversation_id: 'c1', parent_id: 'q1', role: 'assistant', content: A1, model: 'chat-v7', created_at: at(6, 1, 1) },
  { id: 'a2', conversation_id: 'c1', parent_id: 'q1', role: 'assistant', content: 'Paris. 👩‍💻 It has been the capital since 987.', model: 'chat-v8', created_at: at(6, 1, 2) },
  { id: 'q2', conversation_id: 'c2', parent_id: null, role: 'user', content: 'How do I cook pasta?', created_at: at(5, 1), user: 'u2' },
  { id: 'a3', conversation_id: 'c2', parent_id: 'q2', role: 'assistant', content: 'Step 1: boil water.\nStep 2: add pasta 🍝.\nStep 3: wait 30 minutes.', model: 'chat-v7', created_at: at(5, 1, 1) },
  { id: 'a4', conversation_id: 'c2', parent_id: 'q2', role: 'assistant', content: EVIL_ANSWER, model: 'tiny-1', created_at: at(5, 1, 2) },
  { id: 'q3', conversation_id: 'c3', parent_id: null, role: 'user', content: 'Say something.', created_at: at(3, 1), user: 'u3' },
  { id: 'a5', conversation_id: 'c3', parent_id: 'q3', role: 'assistant', content: 'Über naïve façade: ok.', model: EVIL_MODEL, created_at: at(3, 1, 1) },
  { id: 'a6', conversation_id: 'c3', parent_id: 'q3', role: 'assistant', content: 'Fine.', model: 'chat-v8', created_at: at(3, 1, 2) },
  { id: 'q4', conversation_id: 'c4', parent_id: null, role: 'user', content: 'Where is Berlin?', created_at: at(2, 1), user: 'u4' },
  { id: 'a7', conversation_id: 'c4', parent_id: 'q4', role: 'assistant', content: 'Berlin is in Spain.', model: 'chat-v7', created_at: at(2, 1, 1) },
  { id: 'f4', conversation_id: 'c4', parent_id: 'a7', role: 'user', content: 'That is wrong.', created_at: at(2, 1, 5) },
  { id: 'q5', conversation_id: 'c5', parent_id: null, role: 'user', content: 'A poem, please.', created_at: at(1, 1), user: 'u5' },
  { id: 'a8', conversation_id: 'c5', parent_id: 'q5', role: 'assistant', content: 'Sure, here it is.', model: 'chat-v8', created_at: at(1, 1, 1) },
  { id: 'f5', conversation_id: 'c5', parent_id: 'a8', role: 'user', content: 'Perfect, thank you!', created_at: at(1, 1, 5) },
  // outside the default 30-day range
  { id: 'q9', conversation_id: 'c9', parent_id: null, role: 'user', content: 'Old question', created_at: at(40, 1), user: 'u1' },
  { id: 'a9', conversation_id: 'c9', parent_id: 'q9', role: 'assistant', content: 'Old answer', model: 'chat-v7', created_at: at(40, 1, 1) },
];
const CONTENT = Object.fromEntries(MESSAGES.map((m) => [m.id, m.content]));
const MODEL_OF = Object.fromEntries(MESSAGES.filter((m) => m.model).map((m) => [m.id, m.model]));
const ASSISTANT = MESSAGES.filter((m) => m.role === 'assistant');

// [start, end) of `sub` in `text`, in code points (what the API's offsets count)
function cpRange(text, sub) {
  const i = text.indexOf(sub);
  assert.ok(i >= 0, `${sub} in ${text}`);
  const start = [...text.slice(0, i)].length;
  return { start, end: start + [...sub].length, quote: sub };
}
const span = (id, user, mid, sub, label, createdAt, withQuote = true) => {
  const r = cpRange(CONTENT[mid], sub);
  const e = { id, kind: 'span', message_id: mid, start: r.start, end: r.end, label, created_at: createdAt };
  if (user) e.user = user;
  if (withQuote) e.quote = r.quote;
  return e;
};

// Posted one by one in this order (arrival order decides "latest" on equal times and the order
// of the recent-answers list).
const EVENTS = [
  { id: 'r1', kind: 'reaction', message_id: 'a1', user: 'u1', emoji: 'love', created_at: at(6, 3) },
  { id: 'r2', kind: 'reaction', message_id: 'a1', user: 'u1', emoji: 'like', created_at: at(6, 3, 10) },
  { id: 'r3', kind: 'reaction', message_id: 'a1', user: 'u1', emoji: 'love', created_at: at(5, 1) }, // same slot as r1
  { id: 'r4', kind: 'reaction', message_id: 'a1', user: 'u2', emoji: 'angry', created_at: at(5, 2) }, // retracted
  { id: 'r5', kind: 'reaction', message_id: 'a2', user: 'u2', emoji: 'sad', created_at: at(5, 3) },
  { id: 'r6', kind: 'reaction', message_id: 'a2', user: 'u3', emoji: 'wow', created_at: at(4, 1) },
  { id: 'r7', kind: 'reaction', message_id: 'a3', emoji: 'laugh', created_at: at(4, 2) },
  { id: 'r8', kind: 'reaction', message_id: 'a3', emoji: 'laugh', created_at: at(4, 3) },
  { id: 'r9', kind: 'reaction', message_id: 'a3', user: 'u4', emoji: '👎', created_at: at(3, 1) },
  { id: 'r10', kind: 'reaction', message_id: 'a5', user: 'u5', emoji: 'like', created_at: at(3, 2) },
  { id: 'r11', kind: 'reaction', message_id: 'a7', user: 'u5', emoji: 'like', created_at: at(2, 1) },
  { id: 'r12', kind: 'reaction', message_id: 'a7', user: 'u5', emoji: 'like', created_at: at(2, 0) }, // older: r11 stays
  { id: 'r13', kind: 'reaction', message_id: 'ghost', user: 'u6', emoji: 'angry', created_at: at(1, 1) },
  { id: 'r14', kind: 'reaction', message_id: 'a9', user: 'u1', emoji: 'love', created_at: at(40, 2) },
  { id: 's1', kind: 'signal', message_id: 'a1', user: 'u1', signal: 'copy', created_at: at(6, 4) },
  { id: 's2', kind: 'signal', message_id: 'a1', user: 'u2', signal: 'copy', created_at: at(5, 4) },
  { id: 's3', kind: 'signal', message_id: 'a1', user: 'u1', signal: 'copy', created_at: at(5, 5) },
  { id: 's4', kind: 'signal', message_id: 'a1', user: 'u2', signal: 'regenerate', created_at: at(5, 6) },
  { id: 's5', kind: 'signal', message_id: 'a3', user: 'u3', signal: 'regenerate', created_at: at(4, 4) }, // retracted
  { id: 's6', kind: 'signal', message_id: 'a3', user: 'u3', signal: 'regenerate', created_at: at(4, 5) },
  { id: 's7', kind: 'signal', message_id: 'a3', user: 'u4', signal: 'dwell', value: 5400, created_at: at(3, 3) },
  { id: 's8', kind: 'signal', message_id: 'a5', user: 'u4', signal: 'share', created_at: at(3, 4) },
  { id: 's9', kind: 'signal', message_id: 'a7', user: 'u5', signal: 'copy', created_at: at(2, 2) },
  { id: 's10', kind: 'signal', message_id: 'a8', user: 'u6', signal: 'retry', created_at: at(1, 2) },
  { id: 's11', kind: 'signal', message_id: 'a9', user: 'u1', signal: 'copy', created_at: at(40, 3) },
  span('p1', 'u1', 'a1', 'Lyon', 'incorrect', at(6, 5)),
  span('p2', 'u2', 'a1', 'Lyon', 'incorrect', at(5, 7), false),
  span('p3', 'u1', 'a1', 'Lyon 🇫🇷', 'incomplete', at(5, 8)),
  span('p4', 'u1', 'a1', 'Lyon 🇫🇷', 'incomplete', at(5, 9)), // same slot as p3
  span('p5', 'u3', 'a1', 'cafe\u0301 owner', 'irrelevant', at(4, 6)), // retracted
  span('p6', 'u2', 'a2', 'Paris.', 'well_said', at(4, 7)),
  span('p7', 'u3', 'a4', '<b>bold</b>', EVIL_LABEL, at(3, 5)),
  span('p8', 'u4', 'a3', 'wait 30 minutes', 'incorrect', at(3, 6)),
  span('p9', 'u4', 'a7', 'Berlin is in Spain.', 'unsafe', at(2, 3)),
  span('p10', null, 'a7', 'Spain', 'incorrect', at(2, 4)),
  { id: 'p11', kind: 'span', message_id: 'ghost', user: 'u5', start: 0, end: 5, label: 'incorrect', quote: 'Lyons', created_at: at(1, 3) },
  span('p12', 'u1', 'a9', 'Old', 'incorrect', at(40, 4)),
];
const RETRACTED = new Set(['r4', 's5', 'p5']);

// ---------------------------------------------------------------------------------------------
// The contract's counting rules, written out here.

function slotOf(e) {
  if (e.kind === 'reaction') return [e.user, e.message_id, 'reaction', EMOJI_NAME[e.emoji] || e.emoji];
  if (e.kind === 'span') return [e.user, e.message_id, 'span', e.start, e.end, e.label];
  return null; // signals are not votes: each counts
}
// latest per slot by created_at, then arrival; none if that one is retracted; no user: each counts
function counting(events) {
  const latest = new Map();
  const out = [];
  events.forEach((e, arrival) => {
    const slot = slotOf(e);
    if (!e.user || !slot) { if (!RETRACTED.has(e.id)) out.push(e); return; }
    const k = JSON.stringify(slot);
    const prev = latest.get(k);
    const t = Date.parse(e.created_at);
    if (!prev || t > prev.t || (t === prev.t && arrival > prev.arrival)) latest.set(k, { e, t, arrival });
  });
  for (const { e } of latest.values()) if (!RETRACTED.has(e.id)) out.push(e);
  return out;
}
const inWindow = (t, lo, hi) => { const x = Date.parse(t); return x >= lo && x < hi; };
const modelKey = (mid) => (MODEL_OF[mid] === undefined ? null : MODEL_OF[mid]);

function reactionTally(events) {
  const counts = Object.fromEntries(Object.keys(REACTION_VALUE).map((n) => [n, 0]));
  let pos = 0, nonzero = 0;
  for (const e of events) {
    const name = EMOJI_NAME[e.emoji] || e.emoji;
    counts[name]++;
    if (REACTION_VALUE[name] > 0) pos++;
    if (REACTION_VALUE[name] !== 0) nonzero++;
  }
  return { counts, total: events.length, rate: nonzero ? pos / nonzero : null, ci95: wilson(pos, nonzero) };
}
function signalTally(events, answers) {
  const counts = Object.fromEntries(SIGNALS.map((n) => [n, 0]));
  for (const e of events) counts[e.signal]++;
  return { counts, answers, rate: (n) => (answers ? counts[n] / answers : null) };
}
function spanTally(events) {
  const counts = {};
  for (const e of events) counts[e.label] = (counts[e.label] || 0) + 1;
  return counts;
}

// detected: the server's own events (user turns f4, f5), listed and counted here
function expected(events, { since, until, model = null }) {
  const lo = Date.parse(since), hi = Date.parse(until);
  const all = counting(events).filter((e) => inWindow(e.created_at, lo, hi));
  const scoped = model ? all.filter((e) => modelKey(e.message_id) === model) : all;
  const answersIn = (pred) => ASSISTANT.filter((m) => inWindow(m.created_at, lo, hi) && pred(m)).length;
  const models = [...new Set([...all.map((e) => modelKey(e.message_id)),
    ...ASSISTANT.filter((m) => inWindow(m.created_at, lo, hi)).map((m) => m.model)])];
  const perModel = new Map(models.map((m) => {
    const evs = all.filter((e) => modelKey(e.message_id) === m);
    return [m, {
      reactions: reactionTally(evs.filter((e) => e.kind === 'reaction')),
      signals: signalTally(evs.filter((e) => e.kind === 'signal'), m === null ? null : answersIn((x) => x.model === m)),
      spans: spanTally(evs.filter((e) => e.kind === 'span')),
    }];
  }));
  const days = new Map();
  for (let d = Math.floor(lo / DAY) * DAY; d < hi; d += DAY) {
    days.set(d, signalTally(scoped.filter((e) => e.kind === 'signal' && Math.floor(Date.parse(e.created_at) / DAY) * DAY === d),
      answersIn((m) => (!model || m.model === model) && Math.floor(Date.parse(m.created_at) / DAY) * DAY === d)));
  }
  return {
    reactions: reactionTally(scoped.filter((e) => e.kind === 'reaction')),
    signals: signalTally(scoped.filter((e) => e.kind === 'signal'), answersIn((m) => !model || m.model === model)),
    spans: spanTally(scoped.filter((e) => e.kind === 'span')),
    perModel, days,
    spanEvents: scoped.filter((e) => e.kind === 'span'),
  };
}

// ---------------------------------------------------------------------------------------------

const modelName = (k) => (k === null ? '(no model)' : k);
const byCountThenName = (counts) => Object.keys(counts).filter((k) => counts[k] > 0)
  .sort((a, b) => counts[b] - counts[a] || (a < b ? -1 : a > b ? 1 : 0));

describe('dashboard reactions, signals and span panels in a real browser against the real stack', () => {
  let stack, browser;
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startStack({ name: 'dashboard-signals' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    if (browser) await browser.close();
    if (stack) await stack.stop();
  });
  async function signIn(page) {
    await page.goto(`${stack.baseUrl}/dashboard`);
    await page.waitForSelector('#key-input', { state: 'visible' });
    return settle(page, async () => {
      await page.fill('#key-input', stack.keys.read);
      await page.press('#key-input', 'Enter');
    });
  }

  test('empty state, then every figure equals /v1/stats and the events posted; markup stays text', { timeout: 240e3 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
    try {
      // --- nothing yet: each panel says so, no chart is drawn
      await signIn(page);
      assert.equal(await page.isVisible('#alert'), false, `unexpected alert: ${await page.textContent('#alert')}`);
      assert.equal(await page.textContent('#reactions-note'), 'No reactions in this range.');
      assert.equal(await page.textContent('#signals-note'), 'No logged answers and no signals in this range.');
      assert.equal(await page.textContent('#spans-note'), 'No labelled passages in this range.');
      for (const id of ['reactions-charts', 'signal-rates-box', 'spans-box']) assert.equal(await page.isVisible(`#${id}`), false, `#${id} hidden`);
      for (const id of ['reaction-counts-chart', 'reaction-rate-chart', 'signal-rates-chart', 'spans-chart']) assert.equal(await chartData(page, id), null, `no chart on #${id}`);
      assert.equal(await page.textContent('#total-reactions'), '0');
      assert.equal(await page.textContent('#total-reaction-rate'), '—');
      assert.match(await page.textContent('#signal-models-table tbody'), /No logged answers and no signals/);
      assert.equal((await page.textContent('#span-answers')).trim(), 'No labelled passages in this range.');
      await assertAccessible(page, 'empty reactions, signals and spans panels', { include: ['#reactions', '#signals', '#spans'] });

      // --- the data, through the real API
      const labels = await stack.api('PATCH', '/v1/project', { key: stack.keys.admin, body: { span_labels: [...DEFAULT_LABELS, { name: EVIL_LABEL, value: -1 }] } });
      assert.equal(labels.status, 200, labels.text);
      const msg = await stack.api('POST', '/v1/messages', { key: stack.keys.ingest, body: { messages: MESSAGES } });
      assert.equal(msg.status, 200, msg.text);
      for (const r of msg.json.results) assert.equal(r.status, 'stored', JSON.stringify(r));
      for (const e of EVENTS) {
        const r = await stack.api('POST', '/v1/feedback', { key: stack.keys.ingest, body: e });
        assert.equal(r.status, 201, `POST /v1/feedback ${e.id}: ${r.text}`);
      }
      for (const id of RETRACTED) assert.equal((await stack.api('DELETE', `/v1/feedback/${id}`, { key: stack.keys.ingest })).status, 200);
      // signals the server detected in the user turns f4 and f5 (if its rules match them): its
      // own events, counted here by the same rules as the posted ones
      const listed = await stack.api('GET', '/v1/feedback?kind=signal&limit=500', { key: stack.keys.read });
      assert.equal(listed.status, 200, listed.text);
      const detected = listed.json.items.filter((e) => String(e.signal).startsWith('detected_')).reverse();
      for (const d of detected) assert.ok(['a7', 'a8'].includes(d.message_id), `detected on ${d.message_id}`);
      const all = [...EVENTS, ...detected.map((d) => ({ ...d, user: undefined }))];

      const sent = await settle(page, () => page.click('#refresh'));
      assert.equal(await page.isVisible('#alert'), false, `unexpected alert: ${await page.textContent('#alert')}`);
      assert.equal(sent.params.group_by, 'model');
      const api = await stack.api('GET', sent.path, { key: stack.keys.read });
      assert.equal(api.status, 200, api.text);
      const stats = api.json;
      const exp = expected(all, sent.params);
      const groupOf = (k) => stats.groups.find((g) => g.key === k);

      // --- reactions: totals
      assert.equal(num(await page.textContent('#total-reactions')), exp.reactions.total, 'total reactions vs computed');
      assert.equal(exp.reactions.total, Object.values(stats.totals.reactions).reduce((a, b) => a + b, 0), 'API total reactions');
      assertRate(pct(await page.textContent('#total-reaction-rate')), exp.reactions.rate, 'positive-reaction rate vs computed');
      assertRate(pct(await page.textContent('#total-reaction-rate')), stats.totals.reaction_positive_rate, 'positive-reaction rate vs API');
      assertCI(ci(await page.textContent('#total-reaction-ci')), exp.reactions.ci95, 'reaction interval vs computed');
      assertCI(ci(await page.textContent('#total-reaction-ci')), stats.totals.reaction_positive_rate_ci95, 'reaction interval vs API');
      // counts per emoji name: every name of the set, zeros included
      const emojiRows = await readTable(page, 'reaction-counts-table');
      const shownCounts = Object.fromEntries(emojiRows.map((r) => [r.data.emoji, num(r.cells[1])]));
      assert.deepEqual(shownCounts, exp.reactions.counts, 'reactions per emoji vs computed');
      assert.deepEqual(shownCounts, stats.totals.reactions, 'reactions per emoji vs API');
      for (const r of emojiRows) assertRate(pct(r.cells[2]), exp.reactions.counts[r.data.emoji] / exp.reactions.total, `share of ${r.data.emoji}`);
      const rc = await chartData(page, 'reaction-counts-chart');
      assert.deepEqual(Object.fromEntries(rc.labels.map((l, i) => [l, rc.datasets[0].data[i]])), exp.reactions.counts, 'reaction chart');
      // per model: reactions, rate, interval, most used
      const rModels = await readTable(page, 'reaction-models-table');
      const wantR = [...exp.perModel].filter(([, v]) => v.reactions.total > 0);
      assert.deepEqual(rModels.map((r) => r.cells[0]).sort(), wantR.map(([m]) => modelName(m)).sort(), 'models with reactions');
      for (const [m, v] of wantR) {
        const row = rModels.find((r) => r.cells[0] === modelName(m));
        assert.equal(num(row.cells[1]), v.reactions.total, `${m}: reactions`);
        assertRate(pct(row.cells[2]), v.reactions.rate, `${m}: positive-reaction rate vs computed`);
        assertRate(pct(row.cells[2]), groupOf(m).reaction_positive_rate, `${m}: positive-reaction rate vs API`);
        assertCI(ci(row.cells[3]), v.reactions.ci95, `${m}: interval vs computed`);
        const top = byCountThenName(v.reactions.counts);
        const most = top.filter((n) => v.reactions.counts[n] === v.reactions.counts[top[0]]);
        assert.equal(row.cells[4], `${most.join(', ')} (${v.reactions.counts[top[0]]})`, `${m}: most used`);
      }
      const rr = await chartData(page, 'reaction-rate-chart');
      rModels.forEach((row, i) => {
        const v = [...exp.perModel].find(([m]) => modelName(m) === row.cells[0])[1];
        const rate = rr.datasets.find((d) => /rate/i.test(d.label)).data[i];
        if (v.reactions.rate === null) assert.equal(rate, null);
        else assert.ok(Math.abs(rate - v.reactions.rate * 100) < 0.01, `rate chart ${row.cells[0]}: ${rate}`);
      });

      // --- signals per model and in all
      const sRows = await readTable(page, 'signal-models-table');
      const check = (row, tally, what) => {
        assert.equal(num(row.cells[1]), tally.answers, `${what}: answers logged`);
        [['copy', 2], ['regenerate', 4], ['detected_complaint', 6]].forEach(([name, col]) => {
          assert.equal(num(row.cells[col]), tally.counts[name], `${what}: ${name}`);
          assertRate(pct(row.cells[col + 1]), tally.rate(name), `${what}: ${name} rate`);
        });
      };
      const allRow = sRows.find((r) => r.data.all === 'true');
      assert.ok(allRow, 'an "All models" row');
      check(allRow, exp.signals, 'all models');
      assert.equal(stats.totals.assistant_messages, exp.signals.answers, 'API assistant_messages');
      assert.deepEqual(stats.totals.signals, exp.signals.counts, 'API signals');
      const wantS = [...exp.perModel].filter(([, v]) => v.signals.answers > 0 || Object.values(v.signals.counts).some((n) => n > 0));
      assert.deepEqual(sRows.filter((r) => !r.data.all).map((r) => r.cells[0]).sort(), wantS.map(([m]) => modelName(m)).sort(), 'signal rows');
      for (const [m, v] of wantS) {
        check(sRows.find((r) => !r.data.all && r.cells[0] === modelName(m)), v.signals, `model ${m}`);
        if (m !== null) assert.equal(groupOf(m).assistant_messages, v.signals.answers, `API ${m}.assistant_messages`);
      }
      // every signal
      const every = await readTable(page, 'signal-counts-table');
      assert.deepEqual(Object.fromEntries(every.map((r) => [r.data.signal, num(r.cells[1])])), exp.signals.counts, 'every signal');
      assert.equal(num(await page.textContent('#signal-answers')), exp.signals.answers);
      // over time (days): table rows and chart points
      const series = await readTable(page, 'signal-series-table');
      const chart = await chartData(page, 'signal-rates-chart');
      assert.equal(chart.labels.length, series.length, 'a chart point per row');
      const dsOf = (word) => chart.datasets.find((d) => d.label.toLowerCase().startsWith(word));
      let checkedDays = 0;
      series.forEach((row, i) => {
        const day = exp.days.get(Date.parse(row.data.t));
        if (!day) return; // the bucket holding `since` starts before it
        check(row, day, `bucket ${row.data.t}`);
        [['copy', 'copy'], ['regenerate', 'regenerate'], ['detected_complaint', 'complaint']].forEach(([name, word]) => {
          const want = day.rate(name);
          const got = dsOf(word).data[i];
          if (want === null) assert.equal(got, null, `chart ${name} ${row.data.t}`);
          else assert.ok(Math.abs(got - want * 100) < 0.01, `chart ${name} ${row.data.t}: ${got} vs ${want}`);
        });
        checkedDays++;
      });
      assert.ok(checkedDays >= 29, `checked ${checkedDays} days`);

      // --- span labels
      const lRows = await readTable(page, 'span-labels-table');
      const wantLabels = Object.fromEntries(Object.entries(exp.spans).filter(([, n]) => n > 0));
      assert.deepEqual(Object.fromEntries(lRows.map((r) => [r.data.label, num(r.cells[1])])), wantLabels, 'spans per label vs computed');
      assert.ok(lRows.some((r) => r.cells[0] === EVIL_LABEL), 'the markup label is shown as text');
      for (const [l, n] of Object.entries(wantLabels)) assert.equal(stats.totals.spans[l], n, `API spans.${l}`);
      const mRows = await readTable(page, 'span-models-table');
      const wantM = [...exp.perModel].filter(([, v]) => Object.keys(v.spans).length);
      assert.deepEqual(mRows.map((r) => r.cells[0]).sort(), wantM.map(([m]) => modelName(m)).sort(), 'models with spans');
      for (const [m, v] of wantM) {
        const row = mRows.find((r) => r.cells[0] === modelName(m));
        assert.equal(num(row.cells[1]), Object.values(v.spans).reduce((a, b) => a + b, 0), `${m}: spans`);
        assert.equal(row.cells[2], byCountThenName(v.spans).slice(0, 3).map((l) => `${l} ${v.spans[l]}`).join(' · '), `${m}: most frequent labels`);
      }
      const sc = await chartData(page, 'spans-chart');
      assert.deepEqual(sc.labels, mRows.map((r) => r.cells[0]));
      for (const ds of sc.datasets) {
        sc.labels.forEach((label, i) => {
          const v = [...exp.perModel].find(([m]) => modelName(m) === label)[1];
          assert.equal(ds.data[i], v.spans[ds.label] || 0, `spans chart ${label} ${ds.label}`);
        });
      }

      // --- recent answers with their labelled passages
      const arrival = new Map(all.map((e, i) => [e.id, i]));
      const byMessage = new Map();
      for (const e of exp.spanEvents) {
        const a = byMessage.get(e.message_id) || { last: -1, slots: new Map() };
        a.last = Math.max(a.last, arrival.get(e.id));
        const k = `${e.start}|${e.end}|${e.label}`;
        a.slots.set(k, (a.slots.get(k) || 0) + 1);
        byMessage.set(e.message_id, a);
      }
      const order = [...byMessage].sort((x, y) => y[1].last - x[1].last).map(([mid]) => mid);
      const shown = await page.$$eval('#span-answers li.span-answer', (lis) => lis.map((li) => {
        const text = li.querySelector('.answer-text');
        const marked = [];
        let cp = 0;
        if (text) {
          for (const n of text.childNodes) {
            const len = [...n.textContent].length;
            if (n.nodeName === 'MARK') for (let i = cp; i < cp + len; i++) marked.push(i);
            cp += len;
          }
        }
        return {
          id: li.dataset.messageId, text: text ? text.textContent : null,
          marks: text ? [...text.querySelectorAll('mark')].map((m) => ({ start: Number(m.dataset.start), end: Number(m.dataset.end), title: m.title, text: m.textContent })) : [],
          marked,
          spans: [...li.querySelectorAll('.span-list > li')].map((x) => ({ start: Number(x.dataset.start), end: Number(x.dataset.end), label: x.dataset.label,
            badge: x.querySelector('.span-label').textContent, quote: x.querySelector('q') ? x.querySelector('q').textContent : null, text: x.textContent })),
        };
      }));
      assert.deepEqual(shown.map((a) => a.id), order, 'answers, newest labelled first');
      for (const a of shown) {
        const known = a.id in CONTENT;
        const cps = known ? [...CONTENT[a.id]] : null;
        assert.equal(a.text, known ? CONTENT[a.id] : null, `${a.id}: the answer's text, as text`);
        const slots = byMessage.get(a.id).slots;
        assert.deepEqual(a.spans.map((s) => `${s.start}|${s.end}|${s.label}`).sort(), [...slots.keys()].sort(), `${a.id}: listed passages`);
        for (const s of a.spans) {
          assert.equal(s.badge, s.label, `${a.id}: label as text`);
          const n = slots.get(`${s.start}|${s.end}|${s.label}`);
          if (known) assert.equal(s.quote, cps.slice(s.start, s.end).join(''), `${a.id}: passage ${s.start}-${s.end} cut in code points`);
          assert.equal(s.text, `${s.label} ${s.quote} (characters ${s.start}–${s.end}${n > 1 ? `, ${n} raters` : ''})`, `${a.id}: passage line (${n} counting)`);
        }
        if (known) {
          const want = new Set();
          for (const k of slots.keys()) { const [st, en] = k.split('|').map(Number); for (let i = st; i < en; i++) want.add(i); }
          assert.deepEqual(a.marked, [...want].sort((x, y) => x - y), `${a.id}: highlighted code points`);
          for (const mk of a.marks) {
            assert.equal(mk.text, cps.slice(mk.start, mk.end).join(''), `${a.id}: mark ${mk.start}-${mk.end}`);
            const over = [...slots.keys()].map((k) => k.split('|')).filter(([st, en]) => Number(st) <= mk.start && Number(en) >= mk.end).map((x) => x[2]);
            assert.deepEqual(mk.title.split(', ').sort(), [...new Set(over)].sort(), `${a.id}: labels of mark ${mk.start}-${mk.end}`);
          }
        } else {
          assert.equal(a.spans[0].quote, 'Lyons', 'an unlogged answer shows the rater\'s quote');
        }
      }
      // a1's overlapping passages: "Lyon" (incorrect ×2) inside "Lyon 🇫🇷" (incomplete)
      const a1 = shown.find((a) => a.id === 'a1');
      assert.deepEqual(a1.marks.map((m) => [m.text, m.title.split(', ').sort().join('+')]), [['Lyon', 'incomplete+incorrect'], [' 🇫🇷', 'incomplete']]);

      // --- markup from data stayed text: no element made of it, nothing ran
      assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script from data ran');
      assert.equal(await page.$$eval('#dash img, #dash script, #dash b, #dash i, #dash iframe', (els) => els.length), 0, 'no element from data');
      assert.ok((await page.textContent('#span-answers')).includes(EVIL_ANSWER), 'the markup answer is shown as text');
      assert.ok((await page.textContent('#reaction-models-table')).includes(EVIL_MODEL), 'the markup model name is shown as text');

      await page.$$eval('#dash details', (ds) => ds.forEach((d) => { d.open = true; }));
      for (const id of ['reactions', 'signals', 'spans']) await page.locator(`#${id}`).screenshot({ path: path.join(ARTIFACTS, `dashboard-${id}.png`) });
      await assertAccessible(page, 'reactions, signals and spans panels with data', { include: ['#reactions', '#signals', '#spans'] });

      // --- one model: the page asks /v1/stats for it and every panel follows
      const one = await settle(page, () => page.selectOption('#model', 'chat-v7'));
      assert.equal(one.params.model, 'chat-v7');
      assert.equal(await page.isVisible('#model-note'), false, 'the server filters by model');
      const e7 = expected(all, one.params);
      assert.equal(num(await page.textContent('#total-reactions')), e7.reactions.total, 'chat-v7: reactions');
      assertRate(pct(await page.textContent('#total-reaction-rate')), e7.reactions.rate, 'chat-v7: positive-reaction rate');
      check((await readTable(page, 'signal-models-table')).find((r) => r.data.all === 'true'), e7.signals, 'chat-v7 all row');
      assert.deepEqual(Object.fromEntries((await readTable(page, 'span-labels-table')).map((r) => [r.data.label, num(r.cells[1])])),
        Object.fromEntries(Object.entries(e7.spans).filter(([, n]) => n > 0)), 'chat-v7: spans per label');
      const ids7 = await page.$$eval('#span-answers li.span-answer', (lis) => lis.map((li) => li.dataset.messageId));
      assert.deepEqual(ids7, order.filter((mid) => MODEL_OF[mid] === 'chat-v7'), 'chat-v7: labelled answers');

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  // Runs after the test above (same stack, its data): the export form's new formats and options.
  test('export form: reward, prm and spans, reactions=true and signals=true only where the format takes them', { timeout: 120e3 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    try {
      await signIn(page);
      await page.click('#export-open');
      await page.fill('#export-key', stack.keys.export);
      // which boxes each format allows (docs/export.md "Reactions and signals")
      const allowed = { trl: [true, false], 'trl-text': [true, false], openai: [true, false], hh: [true, false], kto: [true, true],
        sft: [false, false], reward: [false, true], prm: [false, false], spans: [false, false] };
      for (const [format, [reactions, signals]] of Object.entries(allowed)) {
        await page.selectOption('#export-format', format);
        assert.equal(await page.isEnabled('#export-reactions'), reactions, `${format}: reactions box`);
        assert.equal(await page.isEnabled('#export-signals'), signals, `${format}: signals box`);
      }
      await page.selectOption('#export-format', 'reward');
      assert.equal(await page.isChecked('#export-reactions'), true, 'reward always counts reactions: shown ticked');
      await page.selectOption('#export-format', 'trl');
      assert.equal(await page.isChecked('#export-reactions'), false, 'and unticked again for trl');
      await assertAccessible(page, 'export form with the new options', { include: ['#export-form'] });

      async function download(format, boxes, wantParams) {
        await page.selectOption('#export-format', format);
        for (const [id, on] of Object.entries(boxes)) await page.setChecked(`#${id}`, on);
        const resp = page.waitForResponse((r) => r.url().includes('/v1/export'));
        const dl = page.waitForEvent('download');
        await page.click('#export-go');
        const res = await resp;
        assert.equal(res.status(), 200, `${format}: ${res.url()}`);
        const params = Object.fromEntries(new URL(res.url()).searchParams);
        assert.deepEqual(params, wantParams, `${format}: the query sent`);
        const file = path.join(ARTIFACTS, `export-${format}.jsonl`);
        await (await dl).saveAs(file);
        const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
        const direct = await stack.api('GET', `/v1/export?${new URLSearchParams(wantParams)}`, { key: stack.keys.export });
        assert.equal(direct.status, 200, direct.text);
        assert.deepEqual([...lines].sort(), direct.text.split('\n').filter((l) => l !== '').sort(), `${format}: file equals the API's export`);
        return lines.map((l) => JSON.parse(l));
      }
      const prompt = [{ role: 'user', content: 'Capital of France?' }];
      // reward: a1 has no rating, its counting reactions are love and like (value 1 each)
      const reward = await download('reward', { 'export-signals': true }, { format: 'reward', signals: 'true' });
      const a1 = reward.find((r) => r.completion[0].content === A1);
      assert.ok(a1, `a reward record for a1: ${JSON.stringify(reward)}`);
      assert.deepEqual(a1.prompt, prompt);
      assert.equal(a1.reward, 1);
      assert.equal(a1.n, 2);
      assert.deepEqual(a1.reactions, { love: 1, like: 1, laugh: 0, wow: 0, sad: 0, angry: 0, dislike: 0 });
      // spans: a1's counting passages, merged per (start, end, label)
      const spans = await download('spans', {}, { format: 'spans' });
      const s1 = spans.find((r) => r.completion === A1);
      assert.ok(s1, 'a spans record for a1');
      const lyon = cpRange(A1, 'Lyon'), flag = cpRange(A1, 'Lyon 🇫🇷');
      assert.deepEqual(s1.spans, [
        { start: lyon.start, end: lyon.end, label: 'incorrect', value: -1, n: 2 },
        { start: flag.start, end: flag.end, label: 'incomplete', value: -1, n: 1 },
      ]);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
