// page.mjs — reading the dashboard in browser tests: Chromium's flags, the numbers as the page
// prints them, table rows, Chart.js instances and whether a canvas was painted.
//
//   browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, ... })
//   num('1,234') -> 1234, num('—') -> null
//   await readTable(page, 'models-table') -> [{ data: {...tr.dataset}, cells: ['text', ...] }]
//   await chartData(page, 'models-chart') -> { type, labels, datasets: [{ label, data }] } | null
//   await paintedPixels(page, 'models-chart') -> count of non-transparent pixels
//   pct('71.4 %') -> 0.714, ci('[35.9 %, 91.8 %]') -> [0.359, 0.918] (null for '—')
//   assertRate(shown, exact, what), assertCI(shown, exact, what): within the one shown decimal
//   await settle(page, () => page.click('#refresh')) -> { path, params } of the /v1/stats query
//       the page sent, once it has answered 200 and the page has rendered it
//   wilson(up, n) -> the Wilson 95% interval (z = 1.96) the contract specifies, or null for n = 0

import assert from 'node:assert/strict';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export const num = (s) => (s.trim() === '—' ? null : Number(s.replace(/[,\s]/g, '')));

export async function readTable(page, id) {
  return page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => ({
    data: { ...r.dataset }, cells: [...r.cells].map((c) => c.textContent.trim()),
  })));
}

export async function chartData(page, canvasId) {
  return page.evaluate((id) => {
    const c = window.Chart && window.Chart.getChart(document.getElementById(id));
    if (!c) return null;
    return { type: c.config.type, labels: [...c.data.labels], datasets: c.data.datasets.map((d) => ({ label: d.label, data: JSON.parse(JSON.stringify(d.data)) })) };
  }, canvasId);
}

export async function paintedPixels(page, canvasId) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
    return n;
  }, canvasId);
}

export const pct = (s) => (s.trim() === '—' ? null : Number(s.replace(/[%\s]/g, '')) / 100);
export function ci(s) {
  if (s.trim() === '—') return null;
  const m = s.match(/^\[\s*([\d.]+)\s*%,\s*([\d.]+)\s*%\]$/);
  assert.ok(m, `interval text "${s}" is not "[a %, b %]"`);
  return [Number(m[1]) / 100, Number(m[2]) / 100];
}
// A shown percentage has one decimal: it must be within half a unit of the exact value.
export function assertRate(shown, exact, what) {
  if (exact === null || exact === undefined) { assert.equal(shown, null, `${what}: expected "—"`); return; }
  assert.notEqual(shown, null, `${what}: shown as "—" but is ${exact}`);
  assert.ok(Math.abs(shown - exact) <= 0.0005 + 1e-9, `${what}: shown ${shown}, expected ${exact}`);
}
export function assertCI(shown, exact, what) {
  if (!exact || exact[0] === null) { assert.equal(shown, null, `${what}: expected "—"`); return; }
  assertRate(shown && shown[0], exact[0], `${what} low`);
  assertRate(shown && shown[1], exact[1], `${what} high`);
}

// The Wilson score interval at z = 1.96 (docs/api.md "Stats"), computed here independently.
export function wilson(up, n) {
  if (n === 0) return null;
  const z = 1.96, p = up / n, d = 1 + z * z / n;
  const centre = (p + z * z / (2 * n)) / d;
  const half = (z * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d;
  return [centre - half, centre + half];
}

// Waits for the page's next successful /v1/stats answer and for the page to finish rendering;
// returns the query the page sent.
export async function settle(page, action) {
  const statsResponse = page.waitForResponse((r) => r.url().includes('/v1/stats') && r.status() === 200);
  await action();
  const res = await statsResponse;
  await page.waitForFunction(() => !document.getElementById('main').hasAttribute('aria-busy'));
  const u = new URL(res.url());
  return { path: u.pathname + u.search, params: Object.fromEntries(u.searchParams) };
}
