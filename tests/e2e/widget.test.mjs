// widget.test.mjs — the feedback widget on the demo chat page (/demo), in headless Chromium,
// against the real feedbackd binary and a private PostgreSQL (lib/stack.mjs).
// After every click the stored events are read back with GET /v1/feedback (read key) and
// compared with what that click must produce according to docs/api.md; then feedbackd is stopped,
// clicks are made (and the page reloaded) while it is down, and after the restart every queued
// event must arrive exactly once. Screenshots go to tests/artifacts/ (git-ignored).
//
//   FEEDBACKD_BIN=build-widget/feedbackd node --test tests/e2e/widget.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { sleep, waitFor } from './lib/wait.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.resolve(HERE, '..', 'artifacts');
const USER = 'e2e-user';
const PROMPT = 'What is the capital of France?';
// The demo's canned answers for PROMPT, in order (static/demo/demo.js), written out by hand.
const ANSWER_1 = 'The capital of France is Lyon.';
const ANSWER_2 = 'The capital of France is Paris.';
const MODEL_1 = 'demo-small-v1';
const MODEL_2 = 'demo-large-v1';

describe('feedback widget on the demo chat', { timeout: 240000 }, () => {
  let stack, browser, context, page;
  const pageErrors = [];
  let shot = 0;
  // every event the test expects to be stored, by id: the fields that must match
  const expected = new Map();
  let msgIds = {};

  async function snap(name) {
    shot += 1;
    const file = path.join(ARTIFACTS, `widget-${String(shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: 10000 });
  }

  async function listFeedback() {
    const items = [];
    let cursor = null;
    for (let pageNo = 0; pageNo < 20; pageNo++) {
      const q = '/v1/feedback?limit=500' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      const r = await stack.api('GET', q, { key: stack.keys.read });
      assert.equal(r.status, 200, `GET ${q}: ${r.text}`);
      assert.ok(Array.isArray(r.json.items), 'items is an array');
      // implicit signals (regenerate, dwell on reload, ...) are checked in widget_signals.test.mjs
      items.push(...r.json.items.filter((i) => i.kind !== 'signal'));
      cursor = r.json.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  // what one stored item says, in the terms the test compares
  function view(it) {
    return {
      kind: it.kind,
      message_id: it.message_id,
      user: it.user ?? null,
      value: it.value ?? null,
      tags: it.tags ?? [],
      comment: it.comment ?? null,
      edited_content: it.edited_content ?? null,
      other_message_id: it.other_message_id ?? null,
      outcome: it.kind === 'comparison' ? (it.outcome ?? 'preferred') : null,
      retracted: it.retracted_at != null,
    };
  }
  function spec(fields) {
    return {
      kind: fields.kind, message_id: fields.message_id, user: 'user' in fields ? fields.user : USER, value: fields.value ?? null,
      tags: fields.tags ?? [], comment: fields.comment ?? null, edited_content: fields.edited_content ?? null,
      other_message_id: fields.other_message_id ?? null, outcome: fields.outcome ?? null,
      retracted: fields.retracted ?? false,
    };
  }

  async function pending() {
    return page.evaluate(() => window.FeedbackD.pending());
  }
  async function drain(timeout = 15000) {
    await waitFor('the widget queue to be empty', async () => (await pending()) === 0, { timeout });
  }

  // The stored events must be exactly `expected` plus `fresh` (new events whose ids the test
  // learns here): returns the new items in the order of `fresh`.
  async function checkStored(fresh = []) {
    const items = await listFeedback();
    const ids = items.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, `an event id is stored twice: ${ids.join(', ')}`);
    for (const [id, want] of expected) {
      const it = items.find((i) => i.id === id);
      assert.ok(it, `event ${id} (${want.kind}) is stored`);
      assert.deepEqual(view(it), want, `event ${id}`);
    }
    const extra = items.filter((i) => !expected.has(i.id));
    assert.equal(extra.length, fresh.length,
      `expected ${fresh.length} new event(s), got: ${JSON.stringify(extra.map(view))}`);
    // newest first by received_at, so the oldest new one is last
    const newest = extra.slice().reverse();
    const out = [];
    fresh.forEach((f, i) => {
      const it = newest[i];
      assert.deepEqual(view(it), spec(f), `new event #${i + 1}`);
      assert.match(it.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'client-made UUIDv4 id');
      assert.ok(!Number.isNaN(Date.parse(it.received_at)), 'received_at is a time');
      expected.set(it.id, spec(f));
      out.push(it);
    });
    assert.equal(items.length, expected.size, 'no other events are stored');
    return out;
  }

  const answer = (id) => page.locator(`.msg.assistant[data-message-id="${id}"]`);
  async function pressed(loc) { return loc.getAttribute('aria-pressed', { timeout: 5000 }); }

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const f of fs.readdirSync(ARTIFACTS)) if (/^widget-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
    stack = await startStack({ name: 'widget' });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync', '--disable-quic'],
      timeout: 30000,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    if (page && process.env.E2E_DEBUG) console.log(await page.locator('#log').innerText().catch(() => ''));
    await browser?.close().catch(() => {});
    const exit = await stack?.stop();
    if (exit) console.log(`# feedbackd final exit: ${JSON.stringify(exit)}`);
  });

  it('serves the widget and the demo page', async () => {
    const js = await stack.api('GET', '/widget/feedbackd.js');
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type'] || '', /javascript/);
    assert.match(js.text, /FeedbackD/);
    for (const p of ['/demo', '/demo/']) {
      const r = await stack.api('GET', p);
      assert.equal(r.status, 200, `GET ${p}`);
      assert.match(r.headers['content-type'] || '', /text\/html/);
      assert.match(r.text, /\/widget\/feedbackd\.js/);
    }
    // first visit without a key: the page asks for one in its settings form
    assert.equal((await page.goto(`${stack.baseUrl}/demo`)).status(), 200);
    await page.locator('#no-key').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.locator('#prompt').isDisabled(), true, 'no chatting without a key');
    assert.equal(await page.locator('#set-endpoint').inputValue(), stack.baseUrl, 'endpoint defaults to the page origin');
    await page.fill('#set-key', stack.keys.ingest);
    await page.fill('#set-user', USER);
    await page.click('#settings-form button[type=submit]');
    await page.locator('#no-key').waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await page.locator('#prompt').isDisabled(), false);
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('feedbackd-demo.settings')));
    assert.deepEqual(saved, { endpoint: stack.baseUrl, key: stack.keys.ingest, user: USER }, 'settings are remembered');
    // and the shortcut a new user gets: the key in the URL
    await page.evaluate(() => localStorage.clear());
    const resp = await page.goto(`${stack.baseUrl}/demo/?key=${encodeURIComponent(stack.keys.ingest)}&user=${USER}`);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => window.FeedbackD && document.querySelector('#prompt:not([disabled])'), null, { timeout: 10000 });
    assert.ok(!page.url().includes('key='), 'the key is taken out of the address bar');
    assert.equal((await page.evaluate(() => JSON.parse(localStorage.getItem('feedbackd-demo.settings')))).key, stack.keys.ingest);
    await snap('empty');
  });

  it('logs the user turn and the answer with POST /v1/messages', async () => {
    await page.fill('#prompt', PROMPT);
    await page.press('#prompt', 'Enter');
    await page.locator('.msg.assistant').first().waitFor({ timeout: 5000 });
    msgIds.user = await page.locator('.msg.user').first().getAttribute('data-message-id');
    msgIds.a1 = await page.locator('.msg.assistant').first().getAttribute('data-message-id');
    assert.equal(await page.locator('.msg.assistant .content').first().innerText(), ANSWER_1);
    await drain();
    const rows = stack.psql(`SELECT id, role, coalesce(parent_id, '-'), coalesce(model, '-'), content FROM messages ORDER BY seq`)
      .trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(rows, [
      [msgIds.user, 'user', '-', '-', PROMPT],
      [msgIds.a1, 'assistant', msgIds.user, MODEL_1, ANSWER_1],
    ]);
    await checkStored([]);
    await snap('answer');
  });

  it('thumbs up stores one rating +1', async () => {
    const a = answer(msgIds.a1);
    await a.locator('.fbd-up').click();
    assert.equal(await pressed(a.locator('.fbd-up')), 'true');
    assert.equal(await pressed(a.locator('.fbd-down')), 'false');
    await drain();
    await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: 1 }]);
    await snap('thumbs-up');
  });

  it('switching to thumbs down asks for reasons, then stores a new rating -1 with tags and comment', async () => {
    const a = answer(msgIds.a1);
    await a.locator('.fbd-down').click();
    const panel = a.locator('.fbd-reasons');
    await panel.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-tag')),
      'inaccurate', 'focus moves to the first reason');
    assert.equal(await pressed(a.locator('.fbd-down')), 'true');
    assert.equal(await pressed(a.locator('.fbd-up')), 'false');
    await sleep(300);
    assert.equal(await pending(), 0, 'nothing is sent before the reasons are chosen');
    await checkStored([]);
    await panel.locator('[data-tag="inaccurate"]').click();
    await panel.locator('[data-tag="too_long"]').click();
    assert.equal(await pressed(panel.locator('[data-tag="inaccurate"]')), 'true');
    assert.equal(await pressed(panel.locator('[data-tag="unhelpful"]')), 'false');
    await panel.locator('textarea').fill('Lyon is not the capital.');
    await snap('reasons');
    await panel.locator('.fbd-send').click();
    await panel.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-down')), true,
      'focus returns to the thumbs-down button');
    await drain();
    // latest-vote semantics: the earlier +1 stays in history, not retracted
    await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: -1, tags: ['inaccurate', 'too_long'],
      comment: 'Lyon is not the capital.' }]);
  });

  it('clicking the active thumb again retracts that rating', async () => {
    const a = answer(msgIds.a1);
    const downId = [...expected.entries()].find(([, v]) => v.value === -1)[0];
    await a.locator('.fbd-down').click();
    assert.equal(await pressed(a.locator('.fbd-down')), 'false');
    assert.equal(await pressed(a.locator('.fbd-up')), 'false');
    await drain();
    expected.get(downId).retracted = true;
    await checkStored([]);
    await snap('retracted');
  });

  it('editing the answer in place stores an edit with the rewritten text', async () => {
    const a = answer(msgIds.a1);
    await a.locator('.fbd-edit').click();
    const area = a.locator('textarea.fbd-edit-area');
    await area.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await area.inputValue(), ANSWER_1, 'the editor starts from the answer');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-edit-area')), true);
    assert.equal(await a.locator('.content').isVisible(), false, 'the editor takes the answer\'s place');
    await area.fill(ANSWER_2);
    await snap('editing');
    await a.locator('.fbd-save').click();
    await area.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await a.locator('.content').innerText(), ANSWER_2);
    await drain();
    const [edit] = await checkStored([{ kind: 'edit', message_id: msgIds.a1, edited_content: ANSWER_2 }]);
    assert.equal(edit.original_content, ANSWER_1, 'the server knows the original (logged) answer');
  });

  it('regenerating logs a sibling answer and the comparison chooser stores A/B picks', async () => {
    const before_ = Date.now();
    await page.locator('.regenerate').first().click();
    await waitFor('a second answer', async () => (await page.locator('.msg.assistant').count()) === 2, { timeout: 5000 });
    msgIds.a2 = await page.locator('.msg.assistant').nth(1).getAttribute('data-message-id');
    assert.notEqual(msgIds.a2, msgIds.a1);
    await drain();
    const rows = stack.psql(`SELECT id, role, parent_id, model, content FROM messages WHERE id = '${msgIds.a2.replace(/'/g, "''")}'`)
      .trim().split('\t');
    assert.deepEqual(rows, [msgIds.a2, 'assistant', msgIds.user, MODEL_2, ANSWER_2], 'same parent as answer 1');
    assert.ok(Date.now() - before_ < 60000);

    const cmp = page.locator('.fbd-compare');
    await cmp.waitFor({ state: 'visible', timeout: 5000 });
    await cmp.locator('[data-choice="b"]').click();
    assert.equal(await pressed(cmp.locator('[data-choice="b"]')), 'true');
    await drain();
    await checkStored([{ kind: 'comparison', message_id: msgIds.a2, other_message_id: msgIds.a1, outcome: 'preferred' }]);

    await cmp.locator('[data-choice="tie"]').click();
    assert.equal(await pressed(cmp.locator('[data-choice="tie"]')), 'true');
    assert.equal(await pressed(cmp.locator('[data-choice="b"]')), 'false');
    await drain();
    await checkStored([{ kind: 'comparison', message_id: msgIds.a1, other_message_id: msgIds.a2, outcome: 'tie' }]);

    await cmp.locator('[data-choice="both_bad"]').click();
    await drain();
    await checkStored([{ kind: 'comparison', message_id: msgIds.a1, other_message_id: msgIds.a2, outcome: 'both_bad' }]);
    await snap('compare');
  });

  it('works from the keyboard: Enter opens the reasons, Space picks, Escape closes and sends', async () => {
    const a = answer(msgIds.a2);
    await a.locator('.fbd-down').focus();
    await page.keyboard.press('Enter');
    const panel = a.locator('.fbd-reasons');
    await panel.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-tag')), 'inaccurate');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-tag')), 'unhelpful');
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-down')), true,
      'Escape returns focus to the thumb');
    assert.equal(await pressed(a.locator('.fbd-down')), 'true');
    await drain();
    await checkStored([{ kind: 'rating', message_id: msgIds.a2, value: -1, tags: ['inaccurate', 'unhelpful'] }]);
  });

  it('a lost response is retried with the same id and stored once', async () => {
    // The first POST reaches feedbackd (stored), but the browser sees the connection reset,
    // as if the response got lost; the widget retries and must get "duplicate", not a 2nd row.
    const seen = [];
    let cut = false;
    await page.route('**/v1/feedback', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const id = JSON.parse(req.postData()).id;
      if (!cut) {
        cut = true;
        const resp = await route.fetch();
        seen.push({ id, status: resp.status(), lost: true });
        return route.abort('connectionreset');
      }
      seen.push({ id, status: null });
      return route.continue();
    });
    try {
      await answer(msgIds.a1).locator('.fbd-up').click();
      await drain(20000);
    } finally {
      await page.unroute('**/v1/feedback');
    }
    assert.ok(seen.length >= 2, `the event was sent again (${JSON.stringify(seen)})`);
    assert.equal(seen[0].status, 201, 'the first attempt was stored');
    assert.ok(seen.every((s) => s.id === seen[0].id), 'every attempt carries the same id');
    await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: 1 }]);
    await waitFor('the log to show the duplicate answer', async () =>
      /delivered: thumbs up .*\(200, duplicate\)/.test(await page.locator('#log').innerText()), { timeout: 3000 });
  });

  it('a 503 is retried no sooner than its Retry-After; a 400 is dropped and reported', async () => {
    const attempts = [];
    await page.route('**/v1/feedback', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const ev = JSON.parse(req.postData());
      attempts.push({ at: Date.now(), kind: ev.kind, id: ev.id });
      if (ev.kind === 'rating' && attempts.filter((x) => x.kind === 'rating').length === 1) {
        return route.fulfill({ status: 503, contentType: 'application/json', headers: { 'Retry-After': '2' },
          body: JSON.stringify({ error: { code: 'unavailable', message: 'try later', field: null } }) });
      }
      if (ev.kind === 'comparison') {
        return route.fulfill({ status: 400, contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'invalid_field', message: 'made up by the test', field: 'outcome' } }) });
      }
      return route.continue();
    });
    try {
      const a = answer(msgIds.a1);
      await a.locator('.fbd-down').click();
      await a.locator('.fbd-reasons .fbd-skip').click();
      await drain(20000);
      const r = attempts.filter((x) => x.kind === 'rating');
      assert.equal(r.length, 2, `one 503, then one retry (${JSON.stringify(attempts)})`);
      assert.equal(r[1].id, r[0].id, 'the retry carries the same id');
      assert.ok(r[1].at - r[0].at >= 1900, `retried after ${r[1].at - r[0].at} ms, Retry-After was 2 s`);
      await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: -1 }]);

      await page.locator('.fbd-compare [data-choice="a"]').click();
      await drain();
      assert.equal(attempts.filter((x) => x.kind === 'comparison').length, 1, 'a 400 is not retried');
      await waitFor('the failure to be reported', async () =>
        /FAILED: comparison \(preferred\).*\(400 invalid_field\)/.test(await page.locator('#log').innerText()), { timeout: 3000 });
      assert.match(await page.locator('.fbd-compare .fbd-status').innerText(), /Could not send feedback: made up by the test/);
      assert.equal(await pressed(page.locator('.fbd-compare [data-choice="a"]')), 'false', 'a refused choice is not shown as made');
      assert.equal(await pressed(page.locator('.fbd-compare [data-choice="both_bad"]')), 'true', 'the counting choice is shown again');
      await checkStored([]);
    } finally {
      await page.unroute('**/v1/feedback');
    }
    await snap('failures');
  });

  it('while feedbackd is down, clicks are queued, survive a reload and arrive once after restart', async () => {
    // The page itself comes from feedbackd too: keep the bytes it served, and let the reload
    // below get them from here (as from a browser cache or a CDN) while the API is down.
    const assets = new Map();
    for (const p of ['/demo/', '/demo/demo.js', '/demo/demo.css', '/widget/feedbackd.js']) {
      const r = await stack.api('GET', p);
      assert.equal(r.status, 200, p);
      assets.set(p, { body: r.text, contentType: r.headers['content-type'] });
    }
    await page.route((url) => url.origin === stack.baseUrl && assets.has(url.pathname),
      (route) => route.fulfill({ status: 200, ...assets.get(new URL(route.request().url()).pathname) }));
    const exit = await stack.stopServer();
    console.log(`# feedbackd stopped with SIGTERM: ${JSON.stringify(exit)}`);
    const a = answer(msgIds.a2);
    await a.locator('.fbd-up').click();            // down -> up: a new rating
    assert.equal(await pressed(a.locator('.fbd-up')), 'true');
    await a.locator('.fbd-edit').click();
    await a.locator('textarea.fbd-edit-area').fill('Paris.');
    await page.keyboard.press('Control+Enter');     // save from the keyboard
    await a.locator('textarea.fbd-edit-area').waitFor({ state: 'hidden', timeout: 5000 });
    await waitFor('a failed attempt', async () => /will retry/.test(await page.locator('#log').innerText()), { timeout: 10000 });
    const queued = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('feedbackd.q.'))
      .map((k) => JSON.parse(localStorage.getItem(k))).sort((x, y) => x.seq - y.seq)
      .map((it) => ({ op: it.op, id: it.id, body: it.body })));
    assert.equal(queued.length, 2, 'two requests wait in localStorage');
    assert.deepEqual(queued.map((q) => [q.op, q.body.kind]), [['post', 'rating'], ['post', 'edit']]);
    await snap('offline-queued');

    await page.reload();
    await page.waitForFunction(() => window.FeedbackD && document.querySelector('.msg.assistant'), null, { timeout: 10000 });
    // (leaving the page also queued the answers' dwell signals: op batch, left out here)
    const after = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('feedbackd.q.'))
      .map((k) => JSON.parse(localStorage.getItem(k))).filter((it) => it.op !== 'batch').map((it) => it.id).sort());
    assert.deepEqual(after, queued.map((q) => q.id).sort(), 'the queue survives the reload');
    const a2 = answer(msgIds.a2);
    assert.equal(await pressed(a2.locator('.fbd-up')), 'true', 'the vote is remembered');
    assert.equal(await a2.locator('.content').innerText(), 'Paris.', 'the edit is remembered');
    await sleep(1500); // the reloaded page's own flush fails too
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('feedbackd.q.'))
      .filter((k) => JSON.parse(localStorage.getItem(k)).op !== 'batch').length), 2);
    await snap('offline-reloaded');

    await page.unrouteAll();
    await stack.startServer();
    // no "online" event here: the backoff timer alone must deliver
    await drain(45000);
    const fresh = await checkStored([
      { kind: 'rating', message_id: msgIds.a2, value: 1 },
      { kind: 'edit', message_id: msgIds.a2, edited_content: 'Paris.' },
    ]);
    assert.deepEqual(fresh.map((f) => f.id), queued.map((q) => q.id), 'stored under the ids given at creation');
    // created_at is the click's time, not the delivery's
    for (const f of fresh) {
      const q = queued.find((x) => x.id === f.id);
      assert.equal(Date.parse(f.created_at), Date.parse(q.body.created_at), 'created_at as sent');
    }
    await snap('delivered');
  });

  it('works embedded in a page of another origin (CORS preflights, default endpoint)', async () => {
    // A host page on its own origin that only adds the script tag and one attach() call.
    const host = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><meta charset="utf-8"><title>host</title>
        <div class="answer" data-message-id="${msgIds.a2}">${ANSWER_2}</div>
        <script src="${stack.baseUrl}/widget/feedbackd.js"></script>
        <div class="anon" data-message-id="${msgIds.a1}">${ANSWER_1}</div>
        <script>
          const key = ${JSON.stringify(stack.keys.ingest)};
          FeedbackD.attach(document.querySelector('.answer'), { key, user: 'e2e-cross' });
          FeedbackD.attach(document.querySelector('.anon'), { key, reasons: false }); // no user id
        </script>`);
    });
    await new Promise((r) => host.listen(0, '127.0.0.1', r));
    const hostOrigin = `http://localhost:${host.address().port}`;
    try {
      const r = await stack.api('PATCH', '/v1/project', { key: stack.keys.admin,
        body: { allowed_origins: [stack.baseUrl, hostOrigin] } });
      assert.equal(r.status, 200, r.text);
      await waitFor('the new origin to be allowed', async () => (await stack.api('OPTIONS', '/v1/feedback', {
        headers: { Origin: hostOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
      })).headers['access-control-allow-origin'] === hostOrigin, { timeout: 5000 });

      const p2 = await context.newPage();
      p2.setDefaultTimeout(10000);
      p2.on('pageerror', (e) => pageErrors.push(String(e)));
      try {
        await p2.goto(hostOrigin + '/');
        await p2.locator('.fbd-up').first().waitFor({ timeout: 5000 });
        const drain2 = () => waitFor('the host page queue to be empty', async () =>
          (await p2.evaluate(() => window.FeedbackD.pending())) === 0, { timeout: 15000 });
        const named = p2.locator('.fbd-bar').first();
        await named.locator('.fbd-up').click();
        await drain2();
        const [up] = await checkStored([{ kind: 'rating', message_id: msgIds.a2, value: 1, user: 'e2e-cross' }]);
        await named.locator('.fbd-up').click(); // retract: a cross-origin DELETE
        assert.equal(await pressed(named.locator('.fbd-up')), 'false');
        await drain2();
        expected.get(up.id).retracted = true;
        await checkStored([]);

        // without a user id every event counts on its own (docs/api.md), so switching the vote
        // must retract the earlier one; `reasons: false` sends thumbs-down at once
        const anon = p2.locator('.fbd-bar').nth(1);
        await anon.locator('.fbd-up').click();
        await drain2();
        const [anonUp] = await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: 1, user: null }]);
        await anon.locator('.fbd-down').click();
        assert.equal(await anon.locator('.fbd-reasons').isVisible(), false);
        await drain2();
        expected.get(anonUp.id).retracted = true;
        await checkStored([{ kind: 'rating', message_id: msgIds.a1, value: -1, user: null }]);
        await p2.screenshot({ path: path.join(ARTIFACTS, 'widget-99-cross-origin.png'), timeout: 10000 });
      } finally {
        await p2.close();
      }
    } finally {
      host.close();
    }
  });

  it('raised no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
