// page.mjs — reading the dashboard in browser tests: Chromium's flags, the numbers as the page
// prints them, table rows, Chart.js instances and whether a canvas was painted.
//
//   browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, ... })
//   num('1,234') -> 1234, num('—') -> null
//   await readTable(page, 'models-table') -> [{ data: {...tr.dataset}, cells: ['text', ...] }]
//   await chartData(page, 'models-chart') -> { type, labels, datasets: [{ label, data }] } | null
//   await paintedPixels(page, 'models-chart') -> count of non-transparent pixels

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
