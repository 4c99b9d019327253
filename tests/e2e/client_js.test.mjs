// client_js.test.mjs — clients/js (feedbackd-client) against the real feedbackd and PostgreSQL
// (tests/e2e/lib/stack.mjs): every operation, errors as FeedbackdError, retries under the same
// ids through real failures (a rate-limited key's 429, the database stopped → 503, an answer
// lost after the commit), the export read as a stream, and the README's JS examples run as
// written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startStack } from './lib/stack.mjs';
import { FeedbackdClient, FeedbackdError, ExportStream } from '../../clients/js/index.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let s;
const fast = { attempts: 5, baseDelayMs: 50, maxDelayMs: 1000 };
const client = (scope, opts = {}) => new FeedbackdClient({ baseUrl: s.baseUrl, key: s.keys[scope], retry: fast, ...opts });
const uniq = (p) => `${p}-${process.hrtime.bigint().toString(36)}`;
const rows = (sql) => s.psql(sql).trim();

// the real fetch, counting the attempts and the statuses it saw
function countingFetch() {
  const seen = [];
  const f = async (url, init) => {
    try {
      const res = await fetch(url, init);
      seen.push(res.status);
      return res;
    } catch (e) {
      seen.push('network');
      throw e;
    }
  };
  f.seen = seen;
  return f;
}

before(async () => { s = await startStack({ name: 'client-js' }); });
after(async () => { await s?.stop(); });

test('turns, events and batches: stored, ids assigned once, duplicates recognised', async () => {
  const fd = client('ingest');
  const c = uniq('c');
  const logged = await fd.logMessages([
    { id: `${c}-u`, conversation_id: c, role: 'user', content: 'Capital of France?', user: 'u1' },
    { id: `${c}-a`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'Paris.', model: 'm-js' },
  ]);
  assert.deepEqual(logged.results.map((r) => [r.index, r.id, r.status]), [[0, `${c}-u`, 'stored'], [1, `${c}-a`, 'stored']]);

  const event = { kind: 'rating', message_id: `${c}-a`, value: 1, user: 'u1' };
  const first = await fd.postFeedback(event);
  assert.equal(first.status, 'stored');
  assert.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(event.id, undefined, 'the caller\'s object is not modified');
  assert.deepEqual(await fd.postFeedback({ ...event, id: first.id }), { id: first.id, status: 'duplicate' });

  const batch = await fd.postFeedbackBatch([
    { kind: 'comment', message_id: `${c}-a`, comment: 'ok', id: `${c}-e1` },
    { kind: 'edit', message_id: `${c}-a`, edited_content: 'Paris, of course.' },
    { kind: 'rating', message_id: `${c}-a`, value: 0 },
  ]);
  assert.deepEqual(batch.results.map((r) => r.status), ['stored', 'stored', 'error']);
  assert.equal(batch.results[0].id, `${c}-e1`);
  assert.match(batch.results[1].id, /^[0-9a-f-]{36}$/);
  const bad = batch.results[2];
  assert.equal(bad.status, 'error');
  if (bad.status === 'error') assert.deepEqual([bad.error.code, bad.error.field], ['invalid_field', 'events[2].value']);
  assert.equal(rows(`SELECT count(*) FROM feedback WHERE message_id = '${c}-a'`), '3');

  const retracted = await fd.retractFeedback(first.id);
  assert.equal(retracted.status, 'retracted');
  assert.equal(retracted.id, first.id);
});

test('errors are FeedbackdError with status, code, message and field; 4xx are not retried', async () => {
  const f = countingFetch();
  const fd = client('ingest', { fetch: f });
  const e1 = await fd.postFeedback({ kind: 'rating', message_id: 'm1', value: 3 }).catch((e) => e);
  assert.ok(e1 instanceof FeedbackdError);
  assert.deepEqual([e1.status, e1.code, e1.field], [400, 'invalid_field', 'value']);
  assert.ok(e1.message.length > 0);
  assert.match(e1.requestId, /^[0-9a-f]{16}$/);
  const e2 = await fd.retractFeedback(uniq('nope')).catch((e) => e);
  assert.deepEqual([e2.status, e2.code, e2.field], [404, 'not_found', null]);
  const e3 = await fd.getStats().catch((e) => e); // an ingest key may not read
  assert.deepEqual([e3.status, e3.code], [403, 'forbidden']);
  const e4 = await new FeedbackdClient({ baseUrl: s.baseUrl, key: 'fbd_nope' }).getStats().catch((e) => e);
  assert.deepEqual([e4.status, e4.code], [401, 'unauthorized']);
  assert.deepEqual(f.seen, [400, 404, 403], 'one attempt per call');
});

test('a network error with no server at all: bounded attempts, then network_error', async () => {
  const f = countingFetch();
  const fd = new FeedbackdClient({ baseUrl: 'http://127.0.0.1:9', key: 'k', fetch: f, retry: { attempts: 3, baseDelayMs: 10 } });
  const e = await fd.listKeys().catch((x) => x);
  assert.ok(e instanceof FeedbackdError);
  assert.deepEqual([e.status, e.code], [0, 'network_error']);
  assert.deepEqual(f.seen, ['network', 'network', 'network']);
});

test('an answer lost after the commit: the retry re-sends the same id and the server has one row', async () => {
  // The first attempt reaches the real server and is committed; its answer is then dropped as
  // a broken connection would. The retry must send the same generated ids: duplicate, one row.
  let calls = 0;
  const lossy = async (url, init) => {
    const res = await fetch(url, init);
    if (++calls === 1) { await res.arrayBuffer(); throw new TypeError('fetch failed (answer lost)'); }
    return res;
  };
  const fd = client('ingest', { fetch: lossy });
  const m = uniq('m');
  const got = await fd.postFeedback({ kind: 'comment', message_id: m, comment: 'once' });
  assert.equal(calls, 2);
  assert.equal(got.status, 'duplicate');
  assert.equal(rows(`SELECT count(*) FROM feedback WHERE message_id = '${m}'`), '1');
  assert.equal(rows(`SELECT id FROM feedback WHERE message_id = '${m}'`), got.id);

  calls = 0;
  const b = await fd.postFeedbackBatch([
    { kind: 'comment', message_id: m, comment: 'a' }, { kind: 'comment', message_id: m, comment: 'b' },
  ]);
  assert.equal(calls, 2);
  assert.deepEqual(b.results.map((r) => r.status), ['duplicate', 'duplicate']);
  assert.equal(rows(`SELECT count(*) FROM feedback WHERE message_id = '${m}'`), '3');
});

test('the database stopped: 503 with Retry-After is retried until it is back, one row', async () => {
  const f = countingFetch();
  const fd = client('ingest', { fetch: f, retry: { attempts: 30, baseDelayMs: 100, maxDelayMs: 500 } });
  const m = uniq('m');
  s.stopDatabase();
  let restarted;
  try {
    const pending = fd.postFeedback({ kind: 'comment', message_id: m, comment: 'survives an outage' });
    // restart only after the client has seen a 503 (no fixed sleep deciding the outcome)
    const deadline = Date.now() + 20000;
    while (!f.seen.includes(503) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(f.seen.includes(503), `no 503 while the database was down: ${f.seen}`);
    restarted = (s.startDatabase(), true);
    const got = await pending;
    assert.equal(got.status, 'stored');
    assert.equal(f.seen.at(-1), 201);
    assert.equal(rows(`SELECT count(*) FROM feedback WHERE message_id = '${m}'`), '1');
  } finally {
    if (!restarted) s.startDatabase();
  }
});

test('a rate-limited key: 429 with Retry-After is waited out, same id, one row', async () => {
  const rl = await startStack({ name: 'client-js-429', env: { FEEDBACKD_RATE_LIMIT_RPS: '1', FEEDBACKD_RATE_LIMIT_BURST: '1' } });
  try {
    const f = countingFetch();
    const fd = new FeedbackdClient({ baseUrl: rl.baseUrl, key: rl.keys.ingest, fetch: f, retry: { attempts: 4, baseDelayMs: 10 } });
    const m = uniq('m');
    const t0 = Date.now();
    const a = await fd.postFeedback({ kind: 'comment', message_id: m, comment: 'first' });
    const b = await fd.postFeedback({ kind: 'comment', message_id: m, comment: 'second' });
    assert.deepEqual([a.status, b.status], ['stored', 'stored']);
    assert.deepEqual(f.seen, [201, 429, 201]);
    assert.ok(Date.now() - t0 >= 900, 'the retry waited for Retry-After (1 s)');
    assert.equal(rl.psql(`SELECT count(*) FROM feedback WHERE message_id = '${m}'`).trim(), '2');

    // a Retry-After longer than the caller accepts: the 429 is thrown, not waited for
    const impatient = new FeedbackdClient({ baseUrl: rl.baseUrl, key: rl.keys.ingest, maxRetryAfterMs: 10 });
    await impatient.postFeedback({ kind: 'comment', message_id: m, comment: 'x' }).catch(() => {});
    const e = await impatient.postFeedback({ kind: 'comment', message_id: m, comment: 'y' }).catch((x) => x);
    assert.deepEqual([e.status, e.code], [429, 'rate_limited']);
    assert.ok(e.retryAfterMs >= 1000);
  } finally {
    await rl.stop();
  }
});

test('reading: list pages, iterate all, stats counted independently', async () => {
  const ing = client('ingest');
  const rd = client('read');
  const model = uniq('model');
  const c = uniq('c');
  await ing.logMessages([
    { id: `${c}-u`, conversation_id: c, role: 'user', content: 'Q' },
    { id: `${c}-a`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'A', model },
  ]);
  const values = [1, 1, 1, -1, 1];
  await ing.postFeedbackBatch(values.map((value, i) => ({ kind: 'rating', message_id: `${c}-a`, value, user: `${c}-r${i}` })));
  const page = await rd.listFeedback({ model, limit: 2 });
  assert.equal(page.items.length, 2);
  assert.ok(page.next_cursor);
  const all = [];
  for await (const it of rd.iterateFeedback({ model, limit: 2 })) all.push(it);
  assert.equal(all.length, values.length);
  assert.deepEqual(all.map((it) => it.value).sort(), [...values].sort());
  const stats = await rd.getStats({ model, group_by: 'model' });
  assert.deepEqual([stats.totals.up, stats.totals.down, stats.totals.ratings], [4, 1, 5]);
  assert.equal(stats.totals.positive_rate, 0.8);
  assert.equal(stats.groups[0].key, model);
});

test('export: records streamed as an async iterator, the manifest, early break', async () => {
  const ing = client('ingest');
  const ex = client('export');
  const c = uniq('c');
  const model = uniq('mx');
  await ing.logMessages([
    { id: `${c}-u`, conversation_id: c, role: 'user', content: 'Capital of France?' },
    { id: `${c}-a`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'Lyon.', model },
    { id: `${c}-b`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'Paris.', model },
  ]);
  await ing.postFeedbackBatch([
    { kind: 'rating', message_id: `${c}-a`, value: -1, user: 'x' },
    { kind: 'rating', message_id: `${c}-b`, value: 1, user: 'x' },
  ]);
  const stream = await ex.export({ format: 'trl', model, include_meta: true });
  assert.ok(stream instanceof ExportStream);
  assert.match(stream.id, /^[0-9a-f-]{36}$/);
  assert.ok(stream.watermark);
  const records = [];
  for await (const r of stream) records.push(r);
  assert.equal(records.length, 1);
  assert.deepEqual(records[0].prompt, [{ role: 'user', content: 'Capital of France?' }]);
  assert.deepEqual(records[0].chosen, [{ role: 'assistant', content: 'Paris.' }]);
  assert.deepEqual(records[0].rejected, [{ role: 'assistant', content: 'Lyon.' }]);
  assert.equal(records[0].meta.margin, 2);
  const manifest = await ex.getExportManifest(stream.id);
  assert.equal(manifest.id, stream.id);
  assert.equal(manifest.records, 1);
  assert.equal(manifest.params.model, model);
  await assert.rejects(async () => { for await (const r of stream) void r; }, /only once/);

  // many records, read one at a time; breaking early frees the connection (next call works)
  const many = Array.from({ length: 300 }, (_, i) => i);
  const turns = many.flatMap((i) => [
    { id: `${c}-q${i}`, conversation_id: `${c}-${i}`, role: 'user', content: `q${i}` },
    { id: `${c}-r${i}`, conversation_id: `${c}-${i}`, parent_id: `${c}-q${i}`, role: 'assistant', content: `r${i}`, model },
  ]);
  await ing.logMessages(turns);
  await ing.postFeedbackBatch(many.map((i) => ({ kind: 'rating', message_id: `${c}-r${i}`, value: 1, user: 'x' })));
  let n = 0;
  for await (const r of await ex.export({ format: 'sft', model })) {
    assert.ok(Array.isArray(r.messages));
    if (++n === 10) break;
  }
  assert.equal(n, 10);
  const full = await (await ex.export({ format: 'sft', model })).toArray();
  assert.equal(full.length, 301); // the 300 thumbs-up answers and Paris.
  const incremental = await (await ex.export({ format: 'sft', model, after: stream.watermark })).toArray();
  assert.equal(incremental.length, 300);
  // rater x gave every vote: without x nothing is left
  const without = await ex.export({ format: 'sft', model, exclude_users: 'x,nobody' });
  assert.deepEqual(await without.toArray(), []);
  assert.deepEqual((await ex.getExportManifest(without.id)).params.exclude_users, ['nobody', 'x']);
});

test('leaderboard and agreement', async () => {
  // two models, three raters preferring ma's answer: ma ranks above mb
  const ing = client('ingest');
  const rd = client('read');
  const c = uniq('c');
  const [ma, mb] = [uniq('ma'), uniq('mb')];
  await ing.logMessages([
    { id: `${c}-u`, conversation_id: c, role: 'user', content: 'Q' },
    { id: `${c}-a`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'A', model: ma },
    { id: `${c}-b`, conversation_id: c, parent_id: `${c}-u`, role: 'assistant', content: 'B', model: mb },
  ]);
  await ing.postFeedbackBatch([0, 1, 2].map((i) => ({ kind: 'comparison', message_id: `${c}-a`, other_message_id: `${c}-b`, user: `${c}-r${i}` })));
  const board = await rd.getLeaderboard({ min_battles: 1, bootstrap: 0 });
  const a = board.models.find((m) => m.model === ma);
  const b = board.models.find((m) => m.model === mb);
  assert.deepEqual([a.wins, a.losses, b.wins, b.losses], [3, 0, 0, 3]);
  assert.ok(a.rating > b.rating);
  assert.equal(a.ci95, null);
  const users = new Set((await rd.getAgreement()).raters.map((r) => r.user));
  for (const i of [0, 1, 2]) assert.ok(users.has(`${c}-r${i}`));
});

test('administration: project, keys, erasure', async () => {
  const admin = client('admin');
  const p = await admin.getProject();
  assert.equal(p.slug, s.project);
  const patched = await admin.updateProject({ name: 'Renamed by the JS client' });
  assert.equal(patched.name, 'Renamed by the JS client');
  const created = await admin.createKey({ scopes: ['read'], label: 'js' });
  assert.match(created.key, /^fbd_[0-9a-f]{48}$/);
  assert.ok((await admin.listKeys()).items.some((k) => k.id === created.id && k.revoked_at === null));
  const fresh = new FeedbackdClient({ baseUrl: s.baseUrl, key: created.key });
  assert.equal((await fresh.listFeedback({ limit: 1 })).items.length <= 1, true);
  const revoked = await admin.revokeKey(created.id);
  assert.ok(revoked.revoked_at);
  const user = uniq('u');
  await client('ingest').postFeedbackBatch([1, 2].map(() => ({ kind: 'comment', message_id: 'mm', comment: 'c', user })));
  assert.deepEqual(await admin.eraseUser(user), { user, feedback_deleted: 2 });

  const hook = await admin.createWebhook({ url: 'https://hooks.example.com/feedbackd', events: ['feedback.stored'] });
  assert.match(hook.secret, /^whsec_/);
  assert.ok((await admin.listWebhooks()).items.some((w) => w.id === hook.id));
  await client('ingest').postFeedback({ kind: 'comment', message_id: 'mm', comment: 'hooked' });
  const deliveries = await admin.listWebhookDeliveries(hook.id, { limit: 5 });
  assert.ok(Array.isArray(deliveries.items));
  assert.equal((await admin.deleteWebhook(hook.id)).id, hook.id);
  const gone = await admin.deleteWebhook(hook.id).catch((e) => e);
  assert.deepEqual([gone.status, gone.code], [404, 'not_found']);
});

// The README's "Client packages" examples (under "Integrate"), run as written (only the import names this checkout).
function readmeBlocks(lang) {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^#+ /m).find((x) => x.startsWith('Client packages'));
  assert.ok(section, 'README.md has a "Client packages" section (under "Integrate")');
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

test('the README examples (JavaScript) run against the server and print what they promise', () => {
  const blocks = readmeBlocks('js');
  assert.equal(blocks.length, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-readme-js-'));
  const env = {
    ...process.env, FEEDBACKD_URL: s.baseUrl,
    FEEDBACKD_INGEST_KEY: s.keys.ingest, FEEDBACKD_EXPORT_KEY: s.keys.export,
  };
  const out = [];
  try {
    blocks.forEach((code, i) => {
      const file = path.join(dir, `example${i}.mjs`);
      fs.writeFileSync(file, code.replaceAll("'feedbackd-client'", `'${pathToFileURL(path.join(REPO, 'clients/js/index.mjs'))}'`));
      const r = spawnSync(process.execPath, [file], { env, encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, `README js block ${i}:\n${r.stdout}\n${r.stderr}`);
      out.push(r.stdout);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.match(out[0], /\[ 'stored', 'stored' \]/);
  assert.match(out[0], /400 invalid_field value/);
  // two raters prefer Paris (a thumbs pair and a comparison): one record after dedup
  assert.equal(out[1].split('\n').filter((l) => l === 'Paris. > Lyon.').length, 1, out[1]);
  assert.match(out[1], /^1 records, next: after=\S+$/m);
});

// Ids without crypto.randomUUID: Node 18 (Debian 12's nodejs) has no global Web Crypto, and a
// browser page served over plain http:// has getRandomValues only. Each case runs in a child
// process whose globals are set up before the client module is loaded.
for (const [name, setup] of [
  ['no global crypto (Node 18)', 'delete globalThis.crypto;'],
  ['getRandomValues only (insecure browser context)',
    "const w = (await import('node:crypto')).webcrypto; delete globalThis.crypto; " +
    "globalThis.crypto = { getRandomValues: (b) => w.getRandomValues(b) };"],
]) {
  test(`ids are random v4 UUIDs with ${name}`, () => {
    const url = pathToFileURL(path.join(REPO, 'clients/js/index.mjs')).href;
    const c = uniq('c-noweb');
    const script = `${setup}
      const { FeedbackdClient } = await import(${JSON.stringify(url)});
      const fd = new FeedbackdClient({ baseUrl: process.env.U, key: process.env.K });
      await fd.logMessages([{ id: '${c}-a', conversation_id: '${c}', role: 'assistant', content: 'x', model: 'm' }]);
      const r = await Promise.all([1, 2, 3].map((v) => fd.postFeedback({ kind: 'rating', message_id: '${c}-a', value: 1, user: 'u' + v })));
      console.log(JSON.stringify({ crypto: typeof globalThis.crypto?.randomUUID, r }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
      { env: { ...process.env, U: s.baseUrl, K: s.keys.ingest }, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    const { crypto, r: results } = JSON.parse(r.stdout);
    assert.equal(crypto, 'undefined', 'the child really had no randomUUID');
    for (const x of results) {
      assert.equal(x.status, 'stored');
      assert.match(x.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.equal(new Set(results.map((x) => x.id)).size, 3);
    assert.equal(rows(`SELECT count(*) FROM feedback WHERE message_id = '${c}-a'`), '3');
  });
}
