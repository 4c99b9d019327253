// a11y.test.mjs — accessibility audit (axe-core, WCAG 2.1 A and AA rules) of the built-in pages
// in a real headless Chromium against the real feedbackd binary (lib/stack.mjs): the demo chat
// with answers, the reason chooser, the editor, the reaction picker and the A/B comparison open
// (the widget's own tests audit their controls too), and the dashboard
// with data (every panel filled, the number tables and the export form open), plus its sign-in
// form and its error message. No critical or serious finding is allowed (lib/a11y.mjs).
//
// The test first proves it can fail: a page with a known contrast failure must be reported.
//
//   FEEDBACKD_BIN=build/feedbackd node --test tests/e2e/a11y.test.mjs
// Screenshots of the audited states go to tests/artifacts/ (git-ignored).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { CHROMIUM_ARGS } from './lib/page.mjs';
import { audit, assertAccessible, WCAG_TAGS } from './lib/a11y.mjs';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOUR = 3600e3;
const ago = (h) => new Date(Date.now() - h * HOUR).toISOString();

// A little of everything the dashboard shows, so that no panel is audited empty.
const MESSAGES = [
  { id: 'aq1', conversation_id: 'ac1', parent_id: null, role: 'user', content: 'Capital of France?', created_at: ago(30), user: 'u1' },
  { id: 'aa1', conversation_id: 'ac1', parent_id: 'aq1', role: 'assistant', content: 'Lyon, on the Rhône.', model: 'chat-v7', created_at: ago(30) },
  { id: 'aa2', conversation_id: 'ac1', parent_id: 'aq1', role: 'assistant', content: 'Paris. It has been the capital for centuries.', model: 'chat-v8', created_at: ago(30) },
  { id: 'aq2', conversation_id: 'ac2', parent_id: null, role: 'user', content: 'What is 2 + 2?', created_at: ago(20), user: 'u2' },
  { id: 'aa3', conversation_id: 'ac2', parent_id: 'aq2', role: 'assistant', content: '2 + 2 = 5', model: 'chat-v7', created_at: ago(20) },
  { id: 'aa4', conversation_id: 'ac2', parent_id: 'aq2', role: 'assistant', content: '4', model: 'chat-v8', created_at: ago(20) },
];
const EVENTS = [
  { kind: 'rating', message_id: 'aa1', user: 'u1', value: -1, tags: ['inaccurate'], comment: 'Lyon is not the capital.', created_at: ago(29) },
  { kind: 'rating', message_id: 'aa2', user: 'u1', value: 1, created_at: ago(29) },
  { kind: 'rating', message_id: 'aa1', user: 'u2', value: -1, created_at: ago(19) },
  { kind: 'rating', message_id: 'aa2', user: 'u2', value: 1, created_at: ago(19) },
  { kind: 'rating', message_id: 'aa4', user: 'u3', value: 4, scale: 5, created_at: ago(18) },
  { kind: 'comparison', message_id: 'aa2', other_message_id: 'aa1', user: 'u1', created_at: ago(28) },
  { kind: 'comparison', message_id: 'aa4', other_message_id: 'aa3', user: 'u2', created_at: ago(18) },
  { kind: 'comparison', message_id: 'aa2', other_message_id: 'aa1', user: 'u3', created_at: ago(17) },
  { kind: 'comment', message_id: 'aa4', user: 'u3', comment: 'Correct, but terse.', created_at: ago(16) },
  { kind: 'edit', message_id: 'aa3', user: 'u2', edited_content: '2 + 2 = 4', created_at: ago(15) },
  { kind: 'reaction', message_id: 'aa2', user: 'u1', emoji: 'love', created_at: ago(14) },
  { kind: 'reaction', message_id: 'aa1', user: 'u2', emoji: 'angry', created_at: ago(14) },
  { kind: 'reaction', message_id: 'aa4', user: 'u2', emoji: 'like', created_at: ago(13) },
  { kind: 'signal', message_id: 'aa2', user: 'u1', signal: 'copy', created_at: ago(12) },
  { kind: 'signal', message_id: 'aa1', user: 'u2', signal: 'regenerate', created_at: ago(12) },
  { kind: 'span', message_id: 'aa1', user: 'u1', start: 0, end: 4, label: 'incorrect', quote: 'Lyon', created_at: ago(11) },
  { kind: 'span', message_id: 'aa2', user: 'u2', start: 0, end: 6, label: 'well_said', created_at: ago(11) },
];

describe('accessibility of the built-in pages (axe-core, WCAG 2.1 A/AA)', () => {
  let stack, browser;
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startStack({ name: 'a11y' });
    const m = await stack.api('POST', '/v1/messages', { key: stack.keys.ingest, body: { messages: MESSAGES } });
    assert.equal(m.status, 200, m.text);
    for (const r of m.json.results) assert.equal(r.status, 'stored', JSON.stringify(r));
    const b = await stack.api('POST', '/v1/feedback/batch', { key: stack.keys.ingest, body: { events: EVENTS } });
    assert.equal(b.status, 200, b.text);
    for (const r of b.json.results) assert.equal(r.status, 'stored', JSON.stringify(r));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    if (browser) await browser.close();
    if (stack) await stack.stop();
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    return { page, context, errors };
  }

  test('the audit can fail: low-contrast text, an unlabelled field and an image without text are reported', { timeout: 60e3 }, async () => {
    const { page, context } = await newPage();
    try {
      await page.setContent(`<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
        <p style="color:#aaa;background:#fff">pale text</p><input type="text"><img src="data:,">
        <p class="fine">fine text</p></main></body></html>`);
      const r = await audit(page);
      const ids = r.blocking.map((v) => v.id).sort();
      for (const id of ['color-contrast', 'image-alt', 'label']) assert.ok(ids.includes(id), `${id} reported: ${ids}`);
      await assert.rejects(assertAccessible(page, 'the bad page'), /color-contrast/);
      // include narrows the audit to one part of the page
      const part = await audit(page, { include: ['.fine'] });
      assert.deepEqual(part.blocking, [], 'a clean part of the page has no finding');
      assert.deepEqual(WCAG_TAGS, ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
    } finally { await context.close(); }
  });

  test('demo chat: answers, the reason chooser, the editor, the reaction picker and the A/B comparison open', { timeout: 120e3 }, async () => {
    const { page, context, errors } = await newPage();
    try {
      // first visit without a key: the settings form is open and says what to do
      await page.goto(`${stack.baseUrl}/demo`);
      await page.locator('#no-key').waitFor({ state: 'visible' });
      await assertAccessible(page, 'demo without a key (settings open)');

      await page.goto(`${stack.baseUrl}/demo/?key=${encodeURIComponent(stack.keys.ingest)}&user=a11y-user`);
      await page.waitForSelector('#prompt:not([disabled])');
      await page.fill('#prompt', 'What is the capital of France?');
      await page.press('#prompt', 'Enter');
      await page.locator('.msg.assistant').first().waitFor();
      await page.click('button.regenerate');
      await page.locator('.msg.assistant').nth(1).waitFor();
      await page.locator('.fbd-compare').first().waitFor();
      const first = page.locator('.msg.assistant').first();
      await first.locator('.fbd-down').click();
      await first.locator('.fbd-reasons').waitFor({ state: 'visible' });
      await first.locator('.fbd-reasons [data-tag="inaccurate"]').click();
      const second = page.locator('.msg.assistant').nth(1);
      await second.locator('.fbd-edit').click();
      await second.locator('.fbd-editor').waitFor({ state: 'visible' });
      await page.locator('#settings summary').click(); // connection settings open too
      await page.waitForFunction(() => document.querySelectorAll('#log li').length > 0);
      // the reaction picker of the first answer, opened last (it closes on a click elsewhere)
      await first.locator('.fbd-react').click();
      await first.locator('.fbd-picker').waitFor({ state: 'visible' });
      assert.equal(await second.locator('.fbd-editor').isVisible(), true, 'the editor stays open');
      assert.equal(await first.locator('.fbd-reasons').isVisible(), true, 'the reasons stay open');
      await page.screenshot({ path: path.join(ARTIFACTS, 'a11y-demo.png'), fullPage: true });
      const r = await assertAccessible(page, 'demo with answers, reasons, editor, reaction picker and comparison open');
      assert.ok(r.passes > 10, `axe ran ${r.passes} passing rules`);
      assert.deepEqual(errors, []);
    } finally { await context.close(); }
  });

  test('dashboard: sign-in form, a refused key, and every panel with data', { timeout: 120e3 }, async () => {
    const { page, context, errors } = await newPage();
    try {
      await page.goto(`${stack.baseUrl}/dashboard`);
      await page.waitForSelector('#key-input', { state: 'visible' });
      await assertAccessible(page, 'dashboard sign-in');
      await page.fill('#key-input', 'fbd_not_a_key');
      await page.press('#key-input', 'Enter');
      await page.locator('#alert').waitFor({ state: 'visible' });
      await assertAccessible(page, 'dashboard sign-in with an error');

      await page.fill('#key-input', stack.keys.read);
      await page.press('#key-input', 'Enter');
      await page.locator('#dash').waitFor({ state: 'visible' });
      await page.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'));
      assert.equal(await page.isVisible('#alert'), false, `no alert: ${await page.textContent('#alert')}`);
      // every <details> open, the export form open
      await page.$$eval('#dash details', (ds) => ds.forEach((d) => { d.open = true; }));
      await page.click('#export-open');
      await page.locator('#export-form').waitFor({ state: 'visible' });
      await page.screenshot({ path: path.join(ARTIFACTS, 'a11y-dashboard.png'), fullPage: true });
      const r = await assertAccessible(page, 'dashboard with data');
      assert.ok(r.passes > 10, `axe ran ${r.passes} passing rules`);
      // the dashboard follows the system's dark mode: the same audit in its dark palette
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: path.join(ARTIFACTS, 'a11y-dashboard-dark.png'), fullPage: true });
      await assertAccessible(page, 'dashboard with data, dark mode');
      assert.deepEqual(errors, []);
    } finally { await context.close(); }
  });
});
