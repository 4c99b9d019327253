// client_js_drift.test.mjs — clients/js against docs/openapi.json: the operations the client
// covers (method, path, operationId) and the types of its index.d.ts (every field of every
// schema it names, required/optional, nullable, enums, nested objects) must agree with the
// document. The comparison is tests/e2e/lib/client_drift.mjs; the tests below also feed it
// altered copies of the document to show that it notices drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { OPERATIONS } from '../../clients/js/index.mjs';
import { driftErrors, loadTypes } from './lib/client_drift.mjs';

const doc = JSON.parse(await readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
const types = loadTypes();
const clone = () => structuredClone(doc);

test('the JS client and docs/openapi.json agree (operations and types)', () => {
  assert.deepEqual(driftErrors(doc, OPERATIONS, types), []);
});

test('the client covers every /v1 operation of the document', () => {
  const covered = new Set(Object.values(OPERATIONS).map((o) => `${o.method} ${o.path}`));
  const missing = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of Object.keys(item)) {
      if (!covered.has(`${method.toUpperCase()} ${path}`)) missing.push(`${method.toUpperCase()} ${path}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('drift is noticed: a new required field, a renamed property, a new enum value', () => {
  const d1 = clone();
  d1.components.schemas.Stats.properties.totals.properties.skips = { type: 'integer' };
  d1.components.schemas.Stats.properties.totals.required.push('skips');
  assert.ok(driftErrors(d1, OPERATIONS, types).some((e) => e.startsWith('Stats.totals.skips: in the document (required), missing')));

  const d2 = clone();
  const ki = d2.components.schemas.KeyItem;
  ki.properties.revoked = ki.properties.revoked_at;
  delete ki.properties.revoked_at;
  ki.required = ki.required.map((r) => (r === 'revoked_at' ? 'revoked' : r));
  const e2 = driftErrors(d2, OPERATIONS, types);
  assert.ok(e2.includes('KeyItem.revoked: in the document (required), missing in index.d.ts'), e2.join('\n'));
  assert.ok(e2.includes('KeyItem.revoked_at: in index.d.ts, not in the document'), e2.join('\n'));

  const d3 = clone();
  d3.components.schemas.ErrorCode.enum.push('gone');
  assert.ok(driftErrors(d3, OPERATIONS, types).some((e) => e.startsWith('ErrorCode: enum')));

  const d4 = clone(); // a nested field that became nullable, a required one that became optional
  d4.components.schemas.FeedbackItem.properties.received_at.type = ['string', 'null'];
  d4.components.schemas.Message.required.push('model');
  const e4 = driftErrors(d4, OPERATIONS, types);
  assert.ok(e4.some((e) => e.startsWith('FeedbackItem.received_at: nullable in the document')), e4.join('\n'));
  assert.ok(e4.includes('Message.model: required in the document, optional in index.d.ts'), e4.join('\n'));
});

test('drift is noticed: a moved path, a renamed operation, a new query parameter, another answer', () => {
  const d1 = clone();
  d1.paths['/v1/statistics'] = d1.paths['/v1/stats'];
  delete d1.paths['/v1/stats'];
  assert.ok(driftErrors(d1, OPERATIONS, types).includes('getStats (GET /v1/stats): no such operation in docs/openapi.json'));

  const d2 = clone();
  d2.paths['/v1/keys'].post.operationId = 'makeKey';
  assert.ok(driftErrors(d2, OPERATIONS, types).some((e) => e.includes('operationId makeKey in the document')));

  const d3 = clone();
  d3.paths['/v1/export'].get.parameters.push({ name: 'shard', in: 'query', schema: { type: 'integer' } });
  assert.ok(driftErrors(d3, OPERATIONS, types).includes('export(query).shard: in the document, missing in index.d.ts'));

  const d4 = clone();
  d4.paths['/v1/keys/{id}'].delete.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Erased' };
  assert.ok(driftErrors(d4, OPERATIONS, types).some((e) => e.startsWith('revokeKey (DELETE /v1/keys/{id}): answers Erased')));
});
