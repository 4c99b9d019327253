// client_js_types.test.mjs — `tsc --noEmit --strict` (npm typescript) on the declarations of
// the JS client (clients/js/index.d.ts) and of the widget (static/widget/feedbackd.d.ts) with
// the usage examples of clients/js/examples; and, so the check can fail, on misuses that the
// declarations must reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(project) {
  const r = spawnSync(process.execPath, [TSC, '--noEmit', '--strict', '-p', project], { encoding: 'utf8', timeout: 120000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the client and widget declarations and their usage examples type-check (strict)', () => {
  const r = tsc(path.join(REPO, 'clients/js/tsconfig.json'));
  assert.equal(r.status, 0, r.out);
});

test('misuses are type errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-tsc-'));
  try {
    fs.writeFileSync(path.join(dir, 'bad.ts'), `
import { FeedbackdClient } from 'feedbackd-client';
const fd = new FeedbackdClient({ baseUrl: 'http://x' });
export async function f(el: HTMLElement) {
  await fd.postFeedback({ kind: 'rating', message_id: 'm1' });                 // value missing
  await fd.postFeedback({ kind: 'vote', message_id: 'm1', value: 1 });         // unknown kind
  await fd.logMessages([{ id: 'm1', conversation_id: 'c', role: 'bot', content: '' }]); // role
  const s = await fd.getStats({ bucket: 'month' });                            // bucket
  const n: number = s.totals.positive_rate;                                    // nullable
  FeedbackD.attach(el, { messageId: 'm1' });                                   // key missing
  FeedbackD.signal('m1', 'click');                                             // unknown signal
  return n;
}
`);
    const base = path.join(REPO, 'clients/js');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      extends: path.join(base, 'tsconfig.json'),
      files: [path.join(base, 'index.d.ts'), path.join(REPO, 'static/widget/feedbackd.d.ts'), path.join(dir, 'bad.ts')],
    }));
    const r = tsc(path.join(dir, 'tsconfig.json'));
    assert.notEqual(r.status, 0);
    const lines = r.out.split('\n').filter((l) => l.includes('bad.ts(')).map((l) => Number(l.match(/bad\.ts\((\d+),/)[1]));
    assert.deepEqual([...new Set(lines)].sort((a, b) => a - b), [5, 6, 7, 8, 9, 10, 11], r.out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
