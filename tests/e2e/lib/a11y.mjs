// a11y.mjs — accessibility audit of a page in the browser tests with axe-core (npm, pinned in
// package.json), the engine screen-reader users' and auditors' tooling runs: WCAG 2.0/2.1 level A
// and AA rules only. A test puts the page into the state it wants audited (answers shown, a
// popover open …) and calls:
//
//   await assertAccessible(page, 'demo with the reason chooser open');
//       fails on any `critical` or `serious` finding, with every offending node in the message
//   await assertAccessible(page, 'reaction picker', { include: ['.fbd-picker'] });
//       audits only that part of the page (a CSS selector or a list of them)
//   const { violations, blocking, passes } = await audit(page, { exclude: ['#log'] });
//       the raw answer; `blocking` = the critical and serious violations
//   formatViolations(violations) -> one readable line per rule and node
//
// axe-core is evaluated into the page through the DevTools protocol (page.evaluate), so a page's
// Content-Security-Policy does not stop it and the page itself never loads it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const BLOCKING_IMPACTS = ['critical', 'serious'];

const require = createRequire(import.meta.url);
let axeSource = null;
function source() {
  if (axeSource === null) axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

export function axeVersion() {
  return require('axe-core/package.json').version;
}

const asList = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

// Runs axe on the page (or on `include` minus `exclude`, CSS selectors) with the WCAG 2.1 A/AA
// rules; `tags` overrides the rule tags. Animations are settled first: a half-faded element has
// a half-faded colour and would be judged on it.
export async function audit(page, { include, exclude, tags = WCAG_TAGS } = {}) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object' && typeof window.axe.run === 'function');
  if (!loaded) await page.evaluate(source());
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
  const context = {};
  if (asList(include).length) context.include = asList(include);
  if (asList(exclude).length) context.exclude = asList(exclude);
  const result = await page.evaluate(async ({ context, tags }) => {
    const r = await window.axe.run(Object.keys(context).length ? context : document,
      { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    const slim = (v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, impact: n.impact, summary: n.failureSummary })),
    });
    return { violations: r.violations.map(slim), passes: r.passes.length, incomplete: r.incomplete.length };
  }, { context, tags });
  result.blocking = result.violations.filter((v) => BLOCKING_IMPACTS.includes(v.impact));
  return result;
}

export function formatViolations(violations) {
  const lines = [];
  for (const v of violations) {
    lines.push(`[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    ${n.target.join(' ')}  ${n.html.slice(0, 160)}`);
      if (n.summary) lines.push(`      ${n.summary.replace(/\n\s*/g, ' | ').slice(0, 400)}`);
    }
  }
  return lines.join('\n');
}

// Fails the test on a critical or serious violation; returns the full audit (minor and
// moderate findings included) for a test that wants to say more.
export async function assertAccessible(page, label, opts = {}) {
  const r = await audit(page, opts);
  if (r.blocking.length) {
    throw new Error(`${label}: ${r.blocking.length} critical/serious accessibility violation(s) ` +
      `(axe-core ${axeVersion()}, ${opts.tags || WCAG_TAGS}):\n${formatViolations(r.blocking)}`);
  }
  if (r.passes === 0) throw new Error(`${label}: axe-core ran no rule at all (wrong include selector?)`);
  return r;
}
