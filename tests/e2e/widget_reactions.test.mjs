// widget_reactions.test.mjs — the widget's reaction picker, implicit signals and opt-out link on
// the demo chat page (/demo), in headless Chromium against the real feedbackd binary and a
// private PostgreSQL (lib/stack.mjs). Every stored event is read back with GET /v1/feedback
// (read key) and compared with what the action must produce according to docs/api.md
// ("Reactions", "Implicit signals", "Consent and licence"); the expected values are written
// out here (the contract's default reaction set, the demo's canned answers).
//
//   FEEDBACKD_BIN=build/feedbackd node --test tests/e2e/widget_reactions.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { sleep, waitFor } from './lib/wait.mjs';
import { CHROMIUM_ARGS } from './lib/page.mjs';
import { assertAccessible } from './lib/a11y.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.resolve(HERE, '..', 'artifacts');
const USER = 'e2e-reactor';
const PROMPT = 'What is the capital of France?';
const ANSWER_1 = 'The capital of France is Lyon.'; // static/demo/demo.js, first canned answer
// The contract's default reaction set, in its order (docs/api.md "Reactions").
const DEFAULT_SET = [['love', '\u2764\ufe0f'], ['like', '\u{1f44d}'], ['laugh', '\u{1f602}'], ['wow', '\u{1f62e}'],
  ['sad', '\u{1f622}'], ['angry', '\u{1f621}'], ['dislike', '\u{1f44e}']];

describe('reactions, implicit signals and opt-out in the widget', { timeout: 240000 }, () => {
  let stack, browser, context, page;
  const pageErrors = [];
  const requests = []; // every API request the pages made: {method, path, body}
  let shot = 0;
  let a1, a2; // the two answers' message ids

  async function snap(name) {
    shot += 1;
    await page.screenshot({ path: path.join(ARTIFACTS, `reactions-${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true, timeout: 10000 });
  }

  async function stored(kind) {
    const r = await stack.api('GET', `/v1/feedback?kind=${kind}&limit=500`, { key: stack.keys.read });
    assert.equal(r.status, 200, r.text);
    return r.json.items.slice().reverse(); // oldest first
  }
  async function drain(p = page, timeout = 15000) {
    await waitFor('the widget queue to be empty', async () => (await p.evaluate(() => window.FeedbackD.pending())) === 0, { timeout });
  }
  const answer = (id) => page.locator(`.msg.assistant[data-message-id="${id}"]`);
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return e ? (e.getAttribute('data-reaction') || e.className) : null;
  });
  const reactionRequests = () => requests.filter((r) => r.method === 'GET' && r.path === '/v1/reactions').length;

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const f of fs.readdirSync(ARTIFACTS)) if (/^reactions-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
    stack = await startStack({ name: 'widget-reactions' });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (req) => {
      const u = new URL(req.url());
      if (u.origin === stack.baseUrl && u.pathname.startsWith('/v1/')) {
        requests.push({ method: req.method(), path: u.pathname, body: req.postData() });
      }
    });
    page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${stack.baseUrl}/demo/?key=${encodeURIComponent(stack.keys.ingest)}&user=${USER}`);
    await page.waitForFunction(() => window.FeedbackD && document.querySelector('#prompt:not([disabled])'));
    await page.fill('#prompt', PROMPT);
    await page.press('#prompt', 'Enter');
    await page.locator('.msg.assistant').first().waitFor();
    a1 = await page.locator('.msg.assistant').first().getAttribute('data-message-id');
    await drain();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  it('the picker opens with the mouse, shows the project set, and choosing stores a reaction', async () => {
    const a = answer(a1);
    const trigger = a.locator('.fbd-react');
    assert.equal(await trigger.getAttribute('aria-haspopup'), 'menu');
    assert.equal(await trigger.getAttribute('aria-expanded'), 'false');
    assert.equal(reactionRequests(), 0, 'the set is fetched when needed, not on load');
    await trigger.click();
    const menu = a.locator('.fbd-picker');
    await menu.waitFor({ state: 'visible' });
    assert.equal(await trigger.getAttribute('aria-expanded'), 'true');
    assert.equal(await menu.getAttribute('role'), 'menu');
    assert.equal(await trigger.getAttribute('aria-controls'), await menu.getAttribute('id'));
    const items = await menu.locator('[role=menuitemcheckbox]').evaluateAll((els) => els.map((e) => ({
      name: e.getAttribute('data-reaction'), label: e.getAttribute('aria-label'), emoji: e.textContent,
      checked: e.getAttribute('aria-checked'),
    })));
    assert.deepEqual(items, DEFAULT_SET.map(([name, emoji]) => ({ name, label: name[0].toUpperCase() + name.slice(1), emoji, checked: 'false' })));
    assert.equal(await focused(), 'love', 'focus moves into the menu');
    await snap('picker-open');
    await menu.locator('[data-reaction="laugh"]').click();
    await menu.waitFor({ state: 'hidden' });
    assert.equal(await trigger.getAttribute('aria-expanded'), 'false');
    assert.equal(await focused(), 'fbd-btn fbd-react', 'focus returns to the reaction button');
    const chip = a.locator('.fbd-chip[data-reaction="laugh"]');
    assert.equal(await chip.getAttribute('aria-pressed'), 'true');
    assert.equal(await chip.innerText(), '\u{1f602}');
    await drain();
    const rx = await stored('reaction');
    assert.equal(rx.length, 1);
    assert.equal(rx[0].emoji, 'laugh');
    assert.equal(rx[0].message_id, a1);
    assert.equal(rx[0].user, USER);
    assert.equal(rx[0].retracted_at, null);
    assert.deepEqual(await page.evaluate((id) => document.querySelector(`[data-message-id="${id}"] .content`).__feedbackd.state().reactions, a1),
      { laugh: rx[0].id }, 'state() names the event of each reaction held');
    assert.equal(reactionRequests(), 1);
  });

  it('works from the keyboard: arrows, Home/End, Escape closes, Enter chooses', async () => {
    const a = answer(a1);
    const trigger = a.locator('.fbd-react');
    const menu = a.locator('.fbd-picker');
    await trigger.focus();
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'visible' });
    assert.equal(await focused(), 'laugh', 'focus starts on the reaction held');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'wow');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'sad');
    await page.keyboard.press('End');
    assert.equal(await focused(), 'dislike');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'love', 'arrows wrap around');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await focused(), 'dislike');
    await page.keyboard.press('Home');
    assert.equal(await focused(), 'love');
    const tabStops = await menu.locator('[tabindex="0"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-reaction')));
    assert.deepEqual(tabStops, ['love'], 'one tab stop in the menu (roving tabindex)');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(await focused(), 'fbd-btn fbd-react', 'Escape gives focus back to the button');
    await sleep(300);
    assert.equal((await stored('reaction')).length, 1, 'Escape chooses nothing');

    await page.keyboard.press('ArrowDown'); // opens too
    await menu.waitFor({ state: 'visible' });
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'wow');
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden' });
    assert.equal(await focused(), 'fbd-btn fbd-react');
    await page.keyboard.press('Space');
    await menu.waitFor({ state: 'visible' });
    await page.keyboard.press('End');
    await page.keyboard.press('Space'); // Space chooses as well
    await menu.waitFor({ state: 'hidden' });
    assert.deepEqual(await a.locator('.fbd-chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-reaction'))),
      ['laugh', 'wow', 'dislike'], 'chips in the order of the set');
    await drain();
    const rx = await stored('reaction');
    assert.deepEqual(rx.map((r) => [r.emoji, r.user, r.message_id, r.retracted_at]),
      [['laugh', USER, a1, null], ['wow', USER, a1, null], ['dislike', USER, a1, null]]);
    await snap('three-reactions');
    // a click outside closes the menu without choosing
    await trigger.click();
    await menu.waitFor({ state: 'visible' });
    await page.locator('.top h1').click();
    await menu.waitFor({ state: 'hidden' });
  });

  it('un-toggling a reaction (its chip, or its checked menu item) retracts its event', async () => {
    const a = answer(a1);
    const before_ = await stored('reaction');
    const id = (name) => before_.find((r) => r.emoji === name).id;
    await a.locator('.fbd-chip[data-reaction="laugh"]').click();
    assert.equal(await a.locator('.fbd-chip[data-reaction="laugh"]').count(), 0);
    assert.equal(await focused(), 'fbd-btn fbd-react', 'focus goes to the reaction button when the chip goes');
    await a.locator('.fbd-react').click();
    const wow = a.locator('.fbd-picker [data-reaction="wow"]');
    assert.equal(await wow.getAttribute('aria-checked'), 'true');
    assert.equal(await a.locator('.fbd-picker [data-reaction="laugh"]').getAttribute('aria-checked'), 'false');
    await wow.click();
    await drain();
    const rx = await stored('reaction');
    assert.equal(rx.length, 3, 'a retraction stores no new event');
    const byId = new Map(rx.map((r) => [r.id, r]));
    assert.notEqual(byId.get(id('laugh')).retracted_at, null, 'laugh retracted');
    assert.notEqual(byId.get(id('wow')).retracted_at, null, 'wow retracted');
    assert.equal(byId.get(id('dislike')).retracted_at, null, 'dislike still held');
    const deletes = requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    assert.deepEqual(deletes, [`/v1/feedback/${id('laugh')}`, `/v1/feedback/${id('wow')}`]);
    // choosing it again is a new event (the retracted one does not come back)
    await a.locator('.fbd-react').click();
    await a.locator('.fbd-picker [data-reaction="love"]').click();
    await drain();
    const after_ = await stored('reaction');
    assert.deepEqual(after_.slice(3).map((r) => [r.emoji, r.retracted_at]), [['love', null]]);

    // a reload shows the reactions held (remembered in this browser), from one fetch of the set
    const fetchesBefore = reactionRequests();
    await page.reload();
    await page.locator('.fbd-chip').first().waitFor();
    assert.deepEqual(await answer(a1).locator('.fbd-chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-reaction'))),
      ['love', 'dislike']);
    assert.equal(reactionRequests(), fetchesBefore + 1, 'one GET /v1/reactions for the new page');
  });

  it('copying the answer\'s text sends a copy signal; copying elsewhere does not', async () => {
    const select = (sel) => page.evaluate((s) => {
      const r = document.createRange();
      r.selectNodeContents(document.querySelector(s));
      getSelection().removeAllRanges();
      getSelection().addRange(r);
    }, sel);
    await drain();
    const before_ = (await stored('signal')).filter((s) => s.signal === 'copy').length;
    await select(`[data-message-id="${a1}"] .content`);
    await page.keyboard.press('Control+C');
    await select('.top h1'); // not an answer
    await page.keyboard.press('Control+C');
    await page.evaluate(() => getSelection().removeAllRanges());
    await drain();
    const copies = (await stored('signal')).filter((s) => s.signal === 'copy');
    assert.equal(copies.length, before_ + 1);
    const c = copies[copies.length - 1];
    assert.deepEqual([c.message_id, c.user, c.value ?? null, c.retracted_at], [a1, USER, null, null]);
  });

  it('the page\'s buttons send signals with FeedbackD.signal, several in one batch request', async () => {
    await drain();
    const before_ = await stored('signal');
    const batchesBefore = requests.filter((r) => r.path === '/v1/feedback/batch').length;
    // a slow machine must not split the three clicks into two batches
    await page.evaluate(() => window.FeedbackD.configure({ signalBatchMs: 4000 }));
    await page.locator('.regenerate').first().click();
    await waitFor('a second answer', async () => (await page.locator('.msg.assistant').count()) === 2);
    a2 = await page.locator('.msg.assistant').nth(1).getAttribute('data-message-id');
    await answer(a2).locator('.share-answer').click();
    await answer(a2).locator('.copy-answer').click();
    await drain();
    const fresh = (await stored('signal')).slice(before_.length).filter((s) => s.signal !== 'dwell');
    assert.deepEqual(fresh.map((s) => [s.signal, s.message_id, s.user, s.value ?? null]),
      [['regenerate', a1, USER, null], ['share', a2, USER, null], ['copy', a2, USER, null]]);
    const batches = requests.filter((r) => r.path === '/v1/feedback/batch').slice(batchesBefore)
      .map((r) => JSON.parse(r.body).events.map((e) => e.signal));
    assert.equal(batches.length, 1, `one batch request: ${JSON.stringify(batches)}`);
    assert.deepEqual(batches[0], ['regenerate', 'share', 'copy']);
    assert.equal(requests.filter((r) => r.method === 'POST' && r.path === '/v1/feedback' &&
      JSON.parse(r.body).kind === 'signal').length, 0, 'signals never go one by one');

    // the contract's rules, enforced before anything is queued
    const errors = await page.evaluate((id) => [
      ['click'], ['dwell'], ['dwell', -1], ['copy', 5], ['detected_praise'],
    ].map(([name, value]) => { try { window.FeedbackD.signal(id, name, value); return 'sent'; } catch (e) { return e.name; } }), a1);
    assert.deepEqual(errors, ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError']);
    const id = await page.evaluate((m) => window.FeedbackD.signal(m, 'dwell', 1234.4), a1);
    await drain();
    const dw = (await stored('signal')).find((s) => s.id === id);
    assert.deepEqual([dw.signal, dw.value, dw.message_id, dw.user], ['dwell', 1234, a1, USER]);

    // one refused item of a batch (a message id over 128 characters) is reported as failed for
    // good; the others of that batch are stored
    const [good, bad] = await page.evaluate(([m, key]) => [window.FeedbackD.signal(m, 'continue'),
      window.FeedbackD.signal('x'.repeat(129), 'continue', null, { key })], [a1, stack.keys.ingest]);
    await drain();
    const all = await stored('signal');
    assert.deepEqual(all.filter((x) => x.id === good).map((x) => [x.signal, x.message_id]), [['continue', a1]]);
    assert.equal(all.filter((x) => x.id === bad).length, 0);
    await waitFor('the failure in the demo log', async () => /FAILED: signals: continue on xxxxxxxx \(200 invalid_field\)/.test(await page.locator('#log').innerText()));
    assert.equal(await page.evaluate(() => window.FeedbackD.pending()), 0, 'not retried');
  });

  it('sends dwell time when the page is hidden (tab switch) and when it is left', async () => {
    // start from zero: leaving the page sends what was counted so far
    const tr = Date.now();
    await page.reload();
    await page.locator('.msg.assistant').nth(1).waitFor();
    await drain();
    const t0 = Date.now(); // both answers are on screen from here on
    await sleep(1800);
    const before_ = (await stored('signal')).length;
    const t1 = Date.now();
    await page.evaluate(() => { // what a tab switch does (headless Chromium never hides a page)
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const t2 = Date.now();
    await drain();
    const dwells = (await stored('signal')).slice(before_);
    assert.deepEqual(dwells.map((d) => [d.signal, d.message_id, d.user]).sort(),
      [['dwell', a1, USER], ['dwell', a2, USER]].sort(), 'one dwell per answer on screen');
    for (const d of dwells) {
      // counted from the answers' attach (between tr and t0) to the hidden event (t1..t2)
      assert.ok(d.value >= t1 - t0 && d.value <= t2 - tr, `dwell ${d.value} ms, on screen ${t1 - t0}..${t2 - tr} ms`);
    }
    // back to visible: counting resumes from zero; leaving the page sends the new time
    const t3a = Date.now();
    await page.evaluate(() => {
      delete document.visibilityState;
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const t3 = Date.now();
    await sleep(1300);
    const t4 = Date.now();
    await page.goto('about:blank');
    const t5 = Date.now();
    await page.goto(`${stack.baseUrl}/demo/`); // the next visit delivers what the last one queued
    await page.locator('.msg.assistant').nth(1).waitFor();
    await drain();
    const left = (await stored('signal')).slice(before_ + dwells.length).filter((s) => s.signal === 'dwell');
    assert.equal(left.length, 2, `dwell on leaving: ${JSON.stringify(left)}`);
    for (const d of left) assert.ok(d.value >= t4 - t3 && d.value <= t5 - t3a, `dwell ${d.value} ms, ${t4 - t3}..${t5 - t3a} ms`);
    await drain();
  });

  it('the opt-out link opts the rater out (stored consent), and says so on every widget', async () => {
    const consent = async (user) => (await stack.api('GET', `/v1/users/${user}/consent`, { key: stack.keys.read })).json;
    assert.deepEqual(await consent(USER), { user: USER, train: true, updated_at: null }, 'the project default first');
    const links = page.locator('.fbd-opt-out');
    assert.equal(await links.count(), 1, 'the demo shows the link once, under the newest answer');
    const link = answer(a2).locator('.fbd-opt-out');
    assert.equal(await link.getAttribute('aria-disabled'), 'false');
    const label = await link.innerText();
    await link.click();
    assert.equal(await link.getAttribute('aria-disabled'), 'true');
    assert.notEqual(await link.innerText(), label, 'the link says the rater is opted out');
    await drain();
    const c = await consent(USER);
    assert.equal(c.train, false);
    assert.ok(Math.abs(Date.parse(c.updated_at) - Date.now()) < 60000);
    const puts = requests.filter((r) => r.method === 'PUT').map((r) => [r.path, JSON.parse(r.body)]);
    assert.deepEqual(puts, [[`/v1/users/${USER}/consent`, { train: false }]]);
    await page.reload();
    await page.locator('.fbd-opt-out').waitFor();
    assert.equal(await page.locator('.fbd-opt-out').getAttribute('aria-disabled'), 'true', 'remembered in this browser');
    assert.equal(await page.evaluate((u) => window.FeedbackD.optedOut(u), USER), true);
    await page.locator('.fbd-opt-out').click({ force: true }); // aria-disabled: nothing more to send
    assert.equal(await page.evaluate(() => window.FeedbackD.pending()), 0);
    await snap('opted-out');

    // FeedbackD.optOut for any rater id
    assert.equal(await page.evaluate(() => { try { window.FeedbackD.optOut('e2e-other'); return 'sent'; } catch (e) { return e.name; } }),
      'TypeError', 'no key given, none configured');
    assert.equal(await page.evaluate(() => window.FeedbackD.optedOut('e2e-other')), false, 'nothing remembered when nothing was sent');
    await page.evaluate((key) => window.FeedbackD.optOut('e2e-other', { key }), stack.keys.ingest);
    await drain();
    assert.equal((await consent('e2e-other')).train, false);
    assert.equal(await page.evaluate((key) => { try { window.FeedbackD.optOut('', { key }); return 'sent'; } catch (e) { return e.name; } }, stack.keys.ingest),
      'TypeError', 'no user: nobody to opt out');
  });

  it('passes the accessibility audit with the picker open, reactions held and the opt-out link', async () => {
    const a = answer(a1);
    await a.locator('.fbd-react').click();
    await a.locator('.fbd-picker').waitFor({ state: 'visible' });
    assert.ok(await a.locator('.fbd-chip').count() > 0, 'chips shown');
    assert.equal(await page.locator('.fbd-opt-out').count(), 1, 'opt-out link shown');
    await snap('a11y-picker');
    await assertAccessible(page, 'demo with the reaction picker open');
    await assertAccessible(page, 'the reaction picker', { include: ['.fbd-reactions'] });
    await page.keyboard.press('Escape');
  });

  it('works from a page of another origin: the set and the consent cross CORS', async () => {
    const host = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>host</title>
        <div class="answer" data-message-id="${a1}">${ANSWER_1}</div>
        <script src="${stack.baseUrl}/widget/feedbackd.js"></script>
        <script>
          FeedbackD.attach(document.querySelector('.answer'),
            { key: ${JSON.stringify(stack.keys.ingest)}, user: 'e2e-cross', optOutLink: true });
        </script></html>`);
    });
    await new Promise((r) => host.listen(0, '127.0.0.1', r));
    const hostOrigin = `http://localhost:${host.address().port}`;
    const p2 = await context.newPage();
    p2.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      const r = await stack.api('PATCH', '/v1/project', { key: stack.keys.admin, body: { allowed_origins: [stack.baseUrl, hostOrigin] } });
      assert.equal(r.status, 200, r.text);
      await waitFor('the new origin to be allowed', async () => (await stack.api('OPTIONS', '/v1/reactions', {
        headers: { Origin: hostOrigin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
      })).headers['access-control-allow-origin'] === hostOrigin, { timeout: 5000 });
      await p2.goto(hostOrigin + '/');
      await p2.locator('.fbd-react').click();
      await p2.locator('.fbd-picker [data-reaction="wow"]').click();
      await p2.locator('.fbd-opt-out').click();
      await drain(p2);
      const rx = (await stored('reaction')).filter((x) => x.user === 'e2e-cross');
      assert.deepEqual(rx.map((x) => [x.emoji, x.message_id]), [['wow', a1]]);
      const c = await stack.api('GET', '/v1/users/e2e-cross/consent', { key: stack.keys.read });
      assert.equal(c.json.train, false);
    } finally {
      await p2.close();
      host.close();
    }
  });

  it('a reaction set changed with PATCH /v1/project is what the next page offers', async () => {
    const set = [{ name: 'star', emoji: '\u2b50', value: 1 }, { name: 'meh', emoji: '\u{1f610}', value: -0.5 }];
    const r = await stack.api('PATCH', '/v1/project', { key: stack.keys.admin, body: { reactions: set } });
    assert.equal(r.status, 200, r.text);
    await page.reload();
    const a = answer(a1);
    await a.locator('.fbd-react').click();
    const items = await a.locator('.fbd-picker [role=menuitemcheckbox]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-reaction'), e.textContent]));
    assert.deepEqual(items, set.map((x) => [x.name, x.emoji]));
    assert.deepEqual(await a.locator('.fbd-chip').count(), 0, 'reactions no longer in the set are not shown');
    await a.locator('.fbd-picker [data-reaction="meh"]').click();
    await drain();
    const rx = await stored('reaction');
    assert.deepEqual([rx[rx.length - 1].emoji, rx[rx.length - 1].message_id], ['meh', a1]);
  });

  it('signals and an opt-out made while feedbackd is down are retried and stored once', async () => {
    await page.evaluate(() => window.FeedbackD.configure({ retry: { baseMs: 200, maxMs: 1000 } }));
    await drain();
    await stack.stopServer();
    const [sig, req] = await page.evaluate(([m, key]) => [window.FeedbackD.signal(m, 'retry'),
      window.FeedbackD.optOut('e2e-outage', { key })], [a1, stack.keys.ingest]);
    assert.match(req, /^consent-/);
    await waitFor('failed attempts', async () => (await page.locator('#log').innerText()).split('will retry').length > 2, { timeout: 15000 });
    assert.ok(await page.evaluate(() => window.FeedbackD.pending()) >= 2, 'both wait in the queue');
    await stack.startServer();
    await drain(page, 30000);
    const got = (await stored('signal')).filter((x) => x.id === sig);
    assert.deepEqual(got.map((x) => [x.signal, x.message_id, x.user]), [['retry', a1, USER]], 'stored once, under its id');
    const c = await stack.api('GET', '/v1/users/e2e-outage/consent', { key: stack.keys.read });
    assert.equal(c.json.train, false);
  });

  it('raised no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
