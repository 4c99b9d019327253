// openapi.test.mjs — docs/openapi.json is a valid OpenAPI 3.1 document, checked by an
// independent validator (@apidevtools/swagger-parser: the official 3.1 JSON Schema plus
// $ref resolution). That every route is documented, and that every answer of the integration
// suite matches the document, is tested in tests/integration (test_openapi.py, openapi_check.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';

const docUrl = new URL('../../docs/openapi.json', import.meta.url);
const load = async () => JSON.parse(await readFile(docUrl, 'utf8'));

test('docs/openapi.json validates as OpenAPI 3.1 with every $ref resolved', async () => {
  const api = await SwaggerParser.validate(await load());
  assert.match(api.openapi, /^3\.1\./);
  assert.ok(Object.keys(api.paths).length >= 20);
});

test('the validator rejects a broken copy (so the test above can fail)', async () => {
  const broken = await load();
  broken.paths['/v1/stats'].get.responses['200'].content['application/json'].schema = {
    $ref: '#/components/schemas/NoSuchSchema',
  };
  await assert.rejects(SwaggerParser.validate(broken));
  const badParameter = await load();
  badParameter.paths['/v1/stats'].get.parameters[0].in = 'body'; // Swagger 2, not OpenAPI 3.1
  await assert.rejects(SwaggerParser.validate(badParameter));
});

test('operation ids are unique and every scoped operation names exactly one scope', async () => {
  const doc = await load();
  const ids = new Set();
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      for (const req of op.security ?? []) {
        if (req.bearerKey) assert.equal(req.bearerKey.length, 1, op.operationId);
      }
    }
  }
});
