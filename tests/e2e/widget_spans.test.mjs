// widget_spans.test.mjs — marked passages (span events) and step thumbs (step events) of the
// feedback widget on the demo chat (/demo), in headless Chromium against the real feedbackd and
// a private PostgreSQL (lib/stack.mjs). Text is selected with the real mouse (drag) or from the
// keyboard; the stored events are read back with GET /v1/feedback and their offsets compared
// with offsets computed here, in code points, from the answers' source text written out below
// (docs/api.md "Span feedback", "Step feedback").
//
//   FEEDBACKD_BIN=build/feedbackd node --test tests/e2e/widget_spans.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStack } from './lib/stack.mjs';
import { sleep, waitFor } from './lib/wait.mjs';
import { CHROMIUM_ARGS } from './lib/page.mjs';
import { assertAccessible } from './lib/a11y.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.resolve(HERE, '..', 'artifacts');
const USER = 'e2e-spans';
// The demo's canned answers (static/demo/demo.js), written out by hand: the Markdown answer with
// emoji (one with a skin-tone modifier, one ZWJ sequence) and a combining accent, and the first
// step-by-step answer (a blank and a whitespace-only line between its steps).
const EMOJI_PROMPT = 'How do emoji work in Unicode?';
const EMOJI_SRC = '**Emoji** are ordinary *Unicode characters*: \u{1F600} is one code point (U+1F600), but ' +
  '\u{1F44D}\u{1F3FD} is two \u2014 \u{1F44D} plus a skin-tone modifier.\n\nAccents can be *combining marks*: ' +
  'e\u0301 looks like \u00e9 but is two code points -- and that is why offsets count code points, not bytes.\n\n' +
  '- `na\u00efve` is 5 code points and 6 bytes in UTF-8\n- \u{1F469}\u200d\u{1F4BB} is three code points joined by a zero-width joiner';
const STEPS_PROMPT = 'Solve 2x + 3 = 11 step by step.';
const STEPS_SRC = 'Subtract 3 from both sides: 2x = 8.\n\nDivide both sides by 2: x = 3.\n   \nCheck: 2 \u00b7 3 + 3 = 9, so x = 3 is right.';

const CUSTOM_LABELS = [{ name: 'wrong_number', value: -1 }, { name: 'nice', value: 1 }];
const cp = (s) => [...s].length; // code points, as the server counts
// [start, end) in code points of the `nth` occurrence of `quote` in `src`
function spanOf(src, quote, nth = 0) {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = src.indexOf(quote, at + 1);
  assert.ok(at >= 0, `the test's own source holds ${JSON.stringify(quote)}`);
  return { start: cp(src.slice(0, at)), end: cp(src.slice(0, at)) + cp(quote), quote };
}
// docs/api.md: steps are the lines that are not empty or whitespace-only (space, tab, CR, VT, FF)
const stepsOf = (s) => s.split('\n').filter((l) => !/^[ \t\r\v\f]*$/.test(l));
const graphemes = (s) => [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s)].map((g) => g.segment);

describe('widget: marked passages and step thumbs on the demo chat', { timeout: 240000 }, () => {
  let stack, browser, page;
  const pageErrors = [];
  const seen = new Set(); // ids of stored events already checked
  const ids = {};

  async function listFeedback() {
    const items = [];
    let cursor = null;
    for (let n = 0; n < 20; n++) {
      const q = '/v1/feedback?limit=500' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      const r = await stack.api('GET', q, { key: stack.keys.read });
      assert.equal(r.status, 200, r.text);
      items.push(...r.json.items);
      cursor = r.json.next_cursor;
      if (!cursor) break;
    }
    return items;
  }
  const drain = () => waitFor('the widget queue to be empty', async () => (await page.evaluate(() => window.FeedbackD.pending())) === 0);
  // the events stored since the last call, oldest first; exactly `count` of them (implicit
  // signals the widget sends by itself, such as dwell when a page is left, aside)
  async function fresh(count) {
    await drain();
    const items = (await listFeedback()).filter((i) => !seen.has(i.id) && i.kind !== 'signal').reverse();
    assert.equal(items.length, count, `new events: ${JSON.stringify(items)}`);
    items.forEach((i) => seen.add(i.id));
    return items;
  }
  const answer = (id) => page.locator(`.msg.assistant[data-message-id="${id}"]`);
  // picks a label in the open popover and sends
  async function label(pop, name) {
    await pop.waitFor({ state: 'visible' });
    await pop.locator(`[data-label="${name}"]`).click();
    await pop.locator('.fbd-span-send').click();
    await pop.waitFor({ state: 'hidden' });
  }

  async function ask(prompt) {
    const before_ = await page.locator('.msg.assistant').count();
    await page.fill('#prompt', prompt);
    await page.press('#prompt', 'Enter');
    await waitFor('the answer', async () => (await page.locator('.msg.assistant').count()) === before_ + 1);
    const id = await page.locator('.msg.assistant').last().getAttribute('data-message-id');
    await drain();
    return id;
  }

  // Drags the real mouse over the `nth` occurrence of `passage` as shown on screen (the text of
  // the rendered answer, formatting dropped), from inside its first character to inside its last.
  async function dragSelect(msgId, passage, nth = 0) {
    const pts = await page.evaluate(({ msgId, passage, nth }) => {
      const el = document.querySelector(`.msg.assistant[data-message-id="${msgId}"] .content`);
      el.scrollIntoView({ block: 'center' });
      const nodes = [];
      let text = '';
      const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let t = w.nextNode(); t; t = w.nextNode()) { nodes.push([t, text.length]); text += t.data; }
      let at = -1;
      for (let i = 0; i <= nth; i++) at = text.indexOf(passage, at + 1);
      if (at < 0) throw new Error(`not on screen: ${passage} in ${text}`);
      const segs = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(passage)];
      const rect = (i, len) => {
        let k = nodes.length - 1;
        while (nodes[k][1] > i) k--;
        const r = document.createRange();
        r.setStart(nodes[k][0], i - nodes[k][1]);
        r.setEnd(nodes[k][0], i - nodes[k][1] + len);
        return r.getClientRects()[0];
      };
      const a = rect(at, segs[0].segment.length);
      const lastSeg = segs[segs.length - 1];
      const b = rect(at + lastSeg.index, lastSeg.segment.length);
      return { x1: a.left + a.width * 0.25, y1: a.top + a.height / 2, x2: b.right - b.width * 0.25, y2: b.top + b.height / 2 };
    }, { msgId, passage, nth });
    await page.mouse.move(pts.x1, pts.y1);
    await page.mouse.down();
    await page.mouse.move((pts.x1 + pts.x2) / 2, (pts.y1 + pts.y2) / 2, { steps: 4 });
    await page.mouse.move(pts.x2, pts.y2, { steps: 4 });
    await page.mouse.up();
    // (the selection's text has line breaks between paragraphs that the text nodes have not)
    assert.equal(await page.evaluate(() => String(window.getSelection())).then((s) => s.replace(/\s+/g, '')),
      passage.replace(/\s+/g, ''), 'the drag selected the passage');
  }

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({ name: 'widget-spans' });
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${stack.baseUrl}/demo/?key=${encodeURIComponent(stack.keys.ingest)}&user=${USER}`);
    await page.waitForFunction(() => window.FeedbackD && document.querySelector('#prompt:not([disabled])'));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  it('shows the Markdown answer rendered, and its source is what the server logged', async () => {
    ids.emoji = await ask(EMOJI_PROMPT);
    const a = answer(ids.emoji);
    assert.equal(await a.locator('.content strong').first().innerText(), 'Emoji', 'Markdown is rendered');
    const logged = stack.psql(`SELECT content FROM messages WHERE id = '${ids.emoji}'`);
    assert.equal(logged.replace(/\n$/, ''), EMOJI_SRC, 'the test knows the answer\'s source text');
    assert.equal(await a.locator('.fbd-mark').getAttribute('aria-expanded'), 'false');
    assert.equal(await a.locator('.fbd-steps-toggle').count(), 0, 'no step thumbs on an answer not marked step-by-step');
  });

  it('a selection across Markdown formatting is labelled and stored with source offsets', async () => {
    const a = answer(ids.emoji);
    await dragSelect(ids.emoji, 'moji are ordinary Unicode');
    const pop = a.locator('.fbd-popover');
    await pop.waitFor({ state: 'visible' });
    assert.equal(await pop.getAttribute('role'), 'dialog');
    assert.equal(await pop.locator('.fbd-quote').innerText(), 'moji are ordinary Unicode', 'the popover quotes the selection');
    assert.deepEqual(await pop.locator('.fbd-span-label').evaluateAll((bs) => bs.map((b) => b.dataset.label)),
      ['incorrect', 'irrelevant', 'incomplete', 'unsafe', 'well_said'], 'the default span labels');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'incorrect', 'focus moves to the first label');
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-spans-1-popover.png') });
    await assertAccessible(page, 'demo with the span popover open');
    await pop.locator('.fbd-span-send').click();
    assert.match(await pop.locator('.fbd-note').first().innerText(), /Choose a label/, 'no label, no event');
    await pop.locator('[data-label="irrelevant"]').click();
    assert.equal(await pop.locator('[data-label="irrelevant"]').getAttribute('aria-pressed'), 'true');
    await pop.locator('.fbd-span-comment').fill('not about emoji');
    await pop.locator('.fbd-span-send').click();
    await pop.waitFor({ state: 'hidden' });
    const want = spanOf(EMOJI_SRC, 'moji** are ordinary *Unicode');
    const [ev] = await fresh(1);
    assert.deepEqual({ kind: ev.kind, message_id: ev.message_id, user: ev.user, start: ev.start, end: ev.end, label: ev.label,
      quote: ev.quote, comment: ev.comment },
    { kind: 'span', message_id: ids.emoji, user: USER, ...want, label: 'irrelevant', comment: 'not about emoji' });
  });

  it('offsets after emoji, a skin-tone modifier and a combining accent are code points', async () => {
    const a = answer(ids.emoji);
    await dragSelect(ids.emoji, 'looks like \u00e9 but is two code points');
    const pop = a.locator('.fbd-popover');
    await label(pop, 'well_said');
    // and one that starts at the emoji with its modifier and crosses a paragraph break
    await dragSelect(ids.emoji, '\u{1F44D}\u{1F3FD} is two \u2014 \u{1F44D} plus a skin-tone modifier.Accents can be combining');
    await label(pop, 'incorrect');
    const got = (await fresh(2)).map((e) => ({ start: e.start, end: e.end, quote: e.quote, label: e.label }));
    const w1 = spanOf(EMOJI_SRC, 'looks like \u00e9 but is two code points');
    const w2 = spanOf(EMOJI_SRC, '\u{1F44D}\u{1F3FD} is two \u2014 \u{1F44D} plus a skin-tone modifier.\n\nAccents can be *combining');
    assert.ok(w1.start !== EMOJI_SRC.indexOf('looks like'), 'the expectation is not the UTF-16 index');
    assert.deepEqual(got, [{ ...w1, label: 'well_said' }, { ...w2, label: 'incorrect' }]);
  });

  it('a selection the page shows differently from the source is not sent: the popover says so', async () => {
    const a = answer(ids.emoji);
    // the demo renders " -- " as an en dash, which the source does not hold
    await dragSelect(ids.emoji, 'code points \u2013 and that');
    const pop = a.locator('.fbd-popover');
    await pop.waitFor({ state: 'visible' });
    assert.equal(await pop.getAttribute('data-fbd-mapped'), 'false');
    assert.match(await pop.locator('.fbd-unmapped').innerText(), /cannot be matched exactly/);
    assert.equal(await pop.locator('.fbd-span-label').first().isVisible(), false, 'no labels to pick');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-span-close')), true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-spans-2-unmapped.png') });
    await assertAccessible(page, 'the span popover saying it cannot map', { include: ['.fbd-popover'] });
    await page.keyboard.press('Escape');
    await pop.waitFor({ state: 'hidden' });
    // a passage that occurs several times maps to the occurrence selected ("code points" is
    // there four times, "code point" once more: the third "code points" on screen)
    await dragSelect(ids.emoji, 'code points', 2);
    await label(pop, 'incomplete');
    const [ev] = await fresh(1);
    const w = spanOf(EMOJI_SRC, 'code points', 2);
    assert.deepEqual([ev.start, ev.end, ev.quote], [w.start, w.end, w.quote]);
  });

  it('"Mark a passage" works from the keyboard alone', async () => {
    const a = answer(ids.emoji);
    await a.locator('.fbd-mark').focus();
    await page.keyboard.press('Enter');
    const area = a.locator('textarea.fbd-mark-area');
    await area.waitFor({ state: 'visible' });
    assert.equal(await a.locator('.fbd-mark').getAttribute('aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-mark-area')), true, 'focus in the text');
    assert.equal(await area.inputValue(), EMOJI_SRC, 'the text shown is the source');
    await assertAccessible(page, 'demo with "Mark a passage" open');
    // Escape closes it and gives focus back; open it again
    await page.keyboard.press('Escape');
    await area.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-mark')), true);
    await page.keyboard.press('Space');
    await area.waitFor({ state: 'visible' });
    // select "👩‍💻 is three" with the arrow keys: they move by grapheme, so count graphemes
    const target = '\u{1F469}\u200d\u{1F4BB} is three';
    const at = EMOJI_SRC.indexOf(target);
    await page.keyboard.press('Control+Home');
    const right = graphemes(EMOJI_SRC.slice(0, at)).length;
    for (let i = 0; i < right; i++) await page.keyboard.press('ArrowRight');
    // typing does not change the text
    await page.keyboard.type('xyz');
    await page.keyboard.press('Shift+Backspace');
    assert.equal(await area.inputValue(), EMOJI_SRC, 'the text cannot be edited');
    for (let i = 0; i < graphemes(target).length; i++) await page.keyboard.press('Shift+ArrowRight');
    // Tab reaches the labels
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'incorrect');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.label), 'incomplete');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-span-comment')), true);
    await page.keyboard.type('it is four with the joiner');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await area.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('fbd-mark')), true, 'focus returns');
    const [ev] = await fresh(1);
    const w = spanOf(EMOJI_SRC, target);
    assert.deepEqual([ev.kind, ev.start, ev.end, ev.quote, ev.label, ev.comment],
      ['span', w.start, w.end, w.quote, 'incomplete', 'it is four with the joiner']);
  });

  it('step thumbs store step events with the index among non-blank lines', async () => {
    ids.steps = await ask(STEPS_PROMPT);
    const a = answer(ids.steps);
    const toggle = a.locator('.fbd-steps-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    const steps = stepsOf(STEPS_SRC);
    assert.equal(steps.length, 3);
    assert.deepEqual(await a.locator('.fbd-step-text').allInnerTexts(), steps.map((s) => s.trim()));
    const wrong = steps.indexOf('Divide both sides by 2: x = 3.');
    const check = steps.findIndex((s) => s.startsWith('Check:'));
    await a.locator(`[data-fbd-step="${wrong}"] .fbd-step-down`).click();
    await a.locator(`[data-fbd-step="${check}"] .fbd-step-up`).click();
    assert.equal(await a.locator(`[data-fbd-step="${wrong}"] .fbd-step-down`).getAttribute('aria-pressed'), 'true');
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-spans-3-steps.png') });
    await assertAccessible(page, 'demo with the step thumbs open');
    let got = await fresh(2);
    assert.deepEqual(got.map((e) => [e.kind, e.message_id, e.user, e.step, e.value, e.retracted_at ?? null]),
      [['step', ids.steps, USER, wrong, -1, null], ['step', ids.steps, USER, check, 1, null]]);
    const downId = got[0].id;
    // the pressed thumb again retracts it; neutral is a vote of its own (value 0)
    await a.locator(`[data-fbd-step="${wrong}"] .fbd-step-down`).click();
    assert.equal(await a.locator(`[data-fbd-step="${wrong}"] .fbd-step-down`).getAttribute('aria-pressed'), 'false');
    await a.locator(`[data-fbd-step="${wrong}"] .fbd-step-zero`).click();
    got = await fresh(1);
    assert.deepEqual([got[0].step, got[0].value], [wrong, 0]);
    const all = await listFeedback();
    assert.ok(all.find((i) => i.id === downId).retracted_at, 'the thumb taken back is retracted');
    // and remembered across a reload
    await page.reload();
    await page.waitForFunction(() => window.FeedbackD && document.querySelector('.fbd-steps-toggle'));
    assert.equal(await answer(ids.steps).locator(`[data-fbd-step="${wrong}"] .fbd-step-zero`).getAttribute('aria-pressed'), 'true');
  });

  it('after an edit in place, passages and steps still count in the answer as logged', async () => {
    const a = answer(ids.steps);
    const rewrite = 'Subtract 3 from both sides: 2x = 8.\nSo x = 4.';
    await a.locator('.fbd-edit').click();
    await a.locator('textarea.fbd-edit-area').fill(rewrite);
    await a.locator('.fbd-save').click();
    assert.equal(await a.locator('.content').innerText(), rewrite);
    assert.deepEqual(await a.locator('.fbd-step-text').allInnerTexts(), stepsOf(STEPS_SRC).map((l) => l.trim()),
      'the steps are the logged answer\'s');
    const pop = a.locator('.fbd-popover');
    await dragSelect(ids.steps, 'So x = 4.');  // only in the rewrite
    await pop.waitFor({ state: 'visible' });
    assert.equal(await pop.getAttribute('data-fbd-mapped'), 'false');
    await page.keyboard.press('Escape');
    await dragSelect(ids.steps, 'both sides: 2x');  // in both
    await label(pop, 'incomplete');
    const [edit, span] = await fresh(2);
    assert.equal(edit.kind, 'edit');
    const w = spanOf(STEPS_SRC, 'both sides: 2x');
    assert.deepEqual([span.kind, span.start, span.end, span.quote], ['span', w.start, w.end, w.quote]);
    await a.locator('.fbd-mark').click();
    assert.equal(await a.locator('textarea.fbd-mark-area').inputValue(), STEPS_SRC, 'Mark a passage shows the logged text');
    await page.keyboard.press('Escape');
    // also after a reload, when the page hands the widget the rewrite (the demo's getContent)
    await page.reload();
    await page.waitForFunction(() => document.querySelector('.fbd-steps-toggle'));
    assert.equal(await answer(ids.steps).locator('.content').innerText(), rewrite);
    assert.deepEqual(await answer(ids.steps).locator('.fbd-step-text').allInnerTexts(), stepsOf(STEPS_SRC).map((l) => l.trim()));
  });

  it('offers the project\'s span labels: GET /v1/span-labels once per page', async () => {
    const r = await stack.api('PATCH', '/v1/project', { key: stack.keys.admin, body: { span_labels: CUSTOM_LABELS } });
    assert.equal(r.status, 200, r.text);
    const asked = [];
    const count = (req) => { if (new URL(req.url()).pathname === '/v1/span-labels') asked.push(req.method()); };
    page.on('request', count);
    try {
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('.fbd-popover').length >= 2 &&
        document.querySelectorAll('.fbd-span-label[data-label="nice"]').length >= 2);
      const widgets = await page.locator('.fbd-popover').count();
      assert.ok(widgets >= 2, 'several answers on the page');
      assert.deepEqual(asked, ['GET'], `one request for ${widgets} answers`);
      await dragSelect(ids.emoji, 'ordinary');
      const pop = answer(ids.emoji).locator('.fbd-popover');
      await pop.waitFor({ state: 'visible' });
      assert.deepEqual(await pop.locator('.fbd-span-label').allInnerTexts(), ['Wrong number', 'Nice']);
      await label(pop, 'wrong_number');
      const [ev] = await fresh(1);
      assert.deepEqual([ev.label, ev.quote, ev.start], ['wrong_number', 'ordinary', cp(EMOJI_SRC.slice(0, EMOJI_SRC.indexOf('ordinary')))]);
    } finally {
      page.off('request', count);
    }
  });

  it('or the page\'s spanLabels: a loader called once per page', async () => {
    const labels = CUSTOM_LABELS;
    const asked = [];
    const count = (req) => { if (new URL(req.url()).pathname === '/v1/span-labels') asked.push(req.method()); };
    page.on('request', count);
    // a page of the same origin (served by the test) with two answers and a loader that asks
    // "its backend" (here: returns the list after a delay)
    const url = `${stack.baseUrl}/host-spans-test`;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: `<!doctype html>
      <html lang="en"><meta charset="utf-8"><title>host</title>
      <p class="a" data-message-id="${ids.steps}">${STEPS_SRC.split('\n')[0]}</p>
      <p class="b" data-message-id="${ids.emoji}">other</p>
      <script src="/widget/feedbackd.js"></script>
      <script>
        window.loads = 0;
        const spanLabels = () => { window.loads++; return new Promise((r) => setTimeout(() => r({ span_labels: ${JSON.stringify(labels)} }), 50)); };
        const key = ${JSON.stringify(stack.keys.ingest)};
        FeedbackD.attach(document.querySelector('.a'), { key, user: 'host', spanLabels, getContent: () => ${JSON.stringify(STEPS_SRC)} });
        FeedbackD.attach(document.querySelector('.b'), { key, user: 'host', spanLabels });
      </script></html>` }));
    await page.goto(url);
    await page.waitForFunction(() => document.querySelectorAll('.fbd-span-label').length === 8);
    assert.equal(await page.evaluate(() => window.loads), 1, 'loaded once for two answers');
    const p = page.locator('p.a');
    const box = await p.boundingBox();
    await p.dblclick({ position: { x: 5, y: box.height / 2 } }); // double-click selects the first word
    const pop = page.locator('.fbd-popover').first();
    await pop.waitFor({ state: 'visible' });
    assert.deepEqual(await pop.locator('.fbd-span-label').allInnerTexts(), ['Wrong number', 'Nice']);
    await label(pop, 'nice');
    const [ev] = await fresh(1);
    assert.deepEqual([ev.start, ev.end, ev.quote, ev.label, ev.user], [0, cp('Subtract'), 'Subtract', 'nice', 'host']);
    page.off('request', count);
    assert.deepEqual(asked, [], 'the loader replaces GET /v1/span-labels');
  });

  it('FeedbackD.mapPassage: what Markdown and HTML renderers do to the text', async () => {
    // [source, text on screen, the selected text (its `nth` occurrence on screen), what it is in
    // the source (its first occurrence there; null: cannot be placed exactly)]
    const cases = [
      ['See [the docs](https://x.org/docs) for more.', 'See the docs for more.', 'the docs for', 0, 'the docs](https://x.org/docs) for'],
      ['Steps:\n1. Boil water\n2. Add tea', 'Steps:Boil waterAdd tea', 'waterAdd', 0, 'water\n2. Add'],
      ['# Title\nBody text', 'TitleBody text', 'TitleBody', 0, 'Title\nBody'],
      ['Fish &amp; chips', 'Fish & chips', 'Fish & chips', 0, 'Fish &amp; chips'],
      ['a <b>bold</b> word', 'a bold word', 'bold word', 0, 'bold</b> word'],
      ['a **b** a b', 'a b a b', 'a b', 0, 'a **b'],
      ['a **b** a b', 'a b a b', 'a b', 1, 'a b'],   // the second on screen is the second in the source
      ['\u{1F600} **x** \u{1F44D}\u{1F3FD} *y*', '\u{1F600} x \u{1F44D}\u{1F3FD} y', '\u{1F44D}\u{1F3FD} y', 0, '\u{1F44D}\u{1F3FD} *y'],
      ['> quoted _text_ here', 'quoted text here', 'quoted text', 0, 'quoted _text'],
      ['[faq](https://x.org/faq)', 'faq', 'faq', 0, null],       // "faq" twice in the source, once shown
      ['Wait...', 'Wait\u2026', 'Wait\u2026', 0, null],          // typographic ellipsis: not in the source
    ];
    for (const [source, shown, sel, nth, want] of cases) {
      let at = -1;
      for (let i = 0; i <= nth; i++) at = shown.indexOf(sel, at + 1);
      const got = await page.evaluate(([src, sh, a, b]) => window.FeedbackD.mapPassage(src, sh, a, b), [source, shown, at, at + sel.length]);
      if (want === null) assert.deepEqual(got, { text: sel, unmapped: true }, source);
      else assert.deepEqual(got, { ...spanOf(source, want), text: sel }, `${source} [${nth}]`);
    }
    assert.equal(await page.evaluate(() => window.FeedbackD.mapPassage('a  b', 'a  b', 1, 3)), null, 'only whitespace');
  });

  it('raised no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
