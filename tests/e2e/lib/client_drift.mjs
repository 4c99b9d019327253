// client_drift.mjs — compares clients/js (its OPERATIONS table and the types of index.d.ts,
// read with the TypeScript compiler's type checker) with docs/openapi.json. Returns a list of
// human-readable differences; empty means no drift. Used by tests/e2e/client_js_drift.test.mjs.
//
// What is compared:
//   - every operation of OPERATIONS exists in the document with that method, path and
//     operationId, and the client class has a method of that name;
//   - the client method's answer type is the interface named after the 2xx answer's schema,
//     its body parameter the request schema's (the batch calls: their item schema), and its
//     query type has exactly the operation's query parameters;
//   - every d.ts type named like a schema of components/schemas matches it: the same property
//     names (none missing, none extra when additionalProperties is false), required ⇔ not
//     optional, nullable ⇔ `| null`, the primitive kinds, enums and consts as literal unions,
//     arrays, nested objects and oneOf alternatives, recursively.
import ts from 'typescript';

const REPO = new URL('../../../', import.meta.url);
export const DTS = new URL('clients/js/index.d.ts', REPO).pathname;

// The batch calls take the list itself and wrap it ({messages: [...]}, {events: [...]}).
const BODY_ITEM = { logMessages: 'Message', postFeedbackBatch: 'FeedbackEvent' };

export function loadTypes() {
  const program = ts.createProgram([DTS], { strict: true, noEmit: true, types: [], target: ts.ScriptTarget.ES2022 });
  const checker = program.getTypeChecker();
  const mod = checker.getSymbolAtLocation(program.getSourceFile(DTS));
  const exported = new Map(checker.getExportsOfModule(mod).map((s) => [s.name, s]));
  return { checker, exported };
}

export function driftErrors(doc, operations, { checker, exported } = loadTypes()) {
  const errors = [];
  const schemas = doc.components.schemas;
  const resolve = (s) => {
    while (s && s.$ref) s = schemas[s.$ref.replace('#/components/schemas/', '')];
    return s ?? {};
  };
  const refName = (s) => (s && s.$ref ? s.$ref.replace('#/components/schemas/', '') : null);
  const F = ts.TypeFlags;
  const members = (t) => (t.isUnion() ? t.types : [t]);
  const hasNull = (t) => members(t).some((m) => m.flags & F.Null);
  const nonNull = (t) => checker.getNonNullableType(t);
  const show = (t) => checker.typeToString(t);
  const literalValues = (t) => {
    const ms = members(t);
    return ms.every((m) => m.isStringLiteral()) ? ms.map((m) => m.value).sort() : null;
  };
  const isArrayLike = (t) => checker.isArrayType(t) || checker.isTupleType(t);
  const elementType = (t) => {
    const args = checker.getTypeArguments(t);
    return args.length === 1 ? args[0] : checker.getUnionType(args);
  };

  function kindMatches(t, kind) {
    const ms = members(t);
    switch (kind) {
      case 'string': return ms.every((m) => m.flags & F.StringLike);
      case 'integer': case 'number': return ms.every((m) => m.flags & F.NumberLike);
      case 'boolean': return ms.every((m) => m.flags & F.BooleanLike);
      case 'array': return ms.every(isArrayLike);
      case 'object': return ms.every((m) => (m.flags & F.Object) && !isArrayLike(m));
      default: return true;
    }
  }

  // errs: where to report; returns nothing
  function check(type, schemaIn, where, errs) {
    const schema = resolve(schemaIn);
    if (schema.oneOf) {
      checkOneOf(type, schema.oneOf, where, errs);
      return;
    }
    const types = schema.type === undefined ? [] : [].concat(schema.type);
    const nullable = types.includes('null') || schema.const === null;
    if (types.length && nullable !== hasNull(type)) {
      errs.push(`${where}: ${nullable ? 'nullable in the document' : 'not nullable in the document'}, ${show(type)} in index.d.ts`);
    }
    const t = nonNull(type);
    if (schema.const !== undefined && schema.const !== null) {
      const v = literalValues(t);
      if (!v || v.length !== 1 || v[0] !== schema.const) errs.push(`${where}: const ${JSON.stringify(schema.const)}, ${show(t)} in index.d.ts`);
      return;
    }
    const base = types.filter((x) => x !== 'null');
    if (base.length === 1 && !kindMatches(t, base[0])) {
      errs.push(`${where}: ${base[0]} in the document, ${show(t)} in index.d.ts`);
      return;
    }
    if (schema.enum) {
      const want = schema.enum.filter((x) => x !== null).map(String).sort();
      const got = literalValues(t);
      if (!got || JSON.stringify(got) !== JSON.stringify(want)) {
        errs.push(`${where}: enum ${JSON.stringify(want)} in the document, ${show(t)} in index.d.ts`);
      }
    }
    if (base[0] === 'array' && schema.items) {
      for (const m of members(t)) {
        if (isArrayLike(m)) check(elementType(m), schema.items, `${where}[]`, errs);
      }
    }
    if (schema.properties) checkObject(t, schema, where, errs);
  }

  function checkObject(t, schema, where, errs) {
    const required = new Set(schema.required ?? []);
    const props = new Map(checker.getPropertiesOfType(t).map((p) => [p.name, p]));
    for (const [name, sub] of Object.entries(schema.properties)) {
      const p = props.get(name);
      if (!p) {
        errs.push(`${where}.${name}: in the document${required.has(name) ? ' (required)' : ''}, missing in index.d.ts`);
        continue;
      }
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
      if (required.has(name) === optional) {
        errs.push(`${where}.${name}: ${required.has(name) ? 'required' : 'optional'} in the document, ${optional ? 'optional' : 'required'} in index.d.ts`);
      }
      let pt = checker.getTypeOfSymbol(p);
      if (optional) pt = checker.getUnionType(members(pt).filter((m) => !(m.flags & F.Undefined)));
      check(pt, sub, `${where}.${name}`, errs);
    }
    if (schema.additionalProperties === false) {
      for (const name of props.keys()) {
        if (!(name in schema.properties)) errs.push(`${where}.${name}: in index.d.ts, not in the document`);
      }
    }
  }

  function checkOneOf(type, alternatives, where, errs) {
    const ms = members(nonNull(type));
    alternatives.forEach((alt, i) => {
      let best = null;
      for (const m of ms) {
        const e = [];
        check(m, alt, where, e);
        if (!best || e.length < best.length) best = e;
        if (e.length === 0) break;
      }
      if (best && best.length) {
        errs.push(`${where}: no member of ${show(type)} matches oneOf[${i}]${refName(alt) ? ` (${refName(alt)})` : ''}: ${best[0]}`);
      }
    });
  }

  const typeNamed = (name) => {
    const sym = exported.get(name);
    return sym ? checker.getDeclaredTypeOfSymbol(sym) : null;
  };

  // 1. the schemas the .d.ts has an interface or type for
  for (const name of Object.keys(schemas)) {
    const t = typeNamed(name);
    if (t) check(t, { $ref: `#/components/schemas/${name}` }, name, errors);
  }

  // 2. the operations
  const clientType = typeNamed('FeedbackdClient');
  const opsType = exported.get('OPERATIONS') && checker.getTypeOfSymbol(exported.get('OPERATIONS'));
  const declaredOps = new Set(opsType ? checker.getPropertiesOfType(opsType).map((p) => p.name) : []);
  for (const [method, op] of Object.entries(operations)) {
    const where = `${method} (${op.method} ${op.path})`;
    if (!declaredOps.has(method)) errors.push(`${where}: not in the OPERATIONS type of index.d.ts`);
    const docOp = doc.paths[op.path]?.[op.method.toLowerCase()];
    if (!docOp) {
      errors.push(`${where}: no such operation in docs/openapi.json`);
      continue;
    }
    if (docOp.operationId !== op.operationId) {
      errors.push(`${where}: operationId ${docOp.operationId} in the document, ${op.operationId} in the client`);
    }
    const sym = clientType && checker.getPropertyOfType(clientType, method);
    if (!sym) {
      errors.push(`${where}: FeedbackdClient has no method ${method}`);
      continue;
    }
    const sig = checker.getSignaturesOfType(checker.getTypeOfSymbol(sym), ts.SignatureKind.Call)[0];
    // the answer
    const ok = Object.entries(docOp.responses).find(([s]) => s.startsWith('2'))?.[1];
    const okSchema = ok?.content?.['application/json']?.schema;
    if (okSchema) {
      const ret = sig.getReturnType();
      const awaited = checker.getAwaitedType(ret) ?? ret;
      const got = awaited.aliasSymbol?.name ?? awaited.symbol?.name;
      if (got !== refName(okSchema)) errors.push(`${where}: answers ${refName(okSchema)} in the document, ${show(ret)} in index.d.ts`);
    }
    // the body
    const bodySchema = docOp.requestBody?.content?.['application/json']?.schema;
    const params = sig.getParameters();
    if (bodySchema) {
      // the body follows the path parameters (putConsent(user, consent)), as the query does
      const at = (op.path.match(/\{/g) ?? []).length;
      const pt = params[at] && checker.getTypeOfSymbol(params[at]);
      const want = BODY_ITEM[method] ?? refName(bodySchema);
      const t = pt && (BODY_ITEM[method] ? checker.getTypeArguments(pt)[0] : pt);
      const got = t && (t.aliasSymbol?.name ?? t.symbol?.name);
      if (got !== want) errors.push(`${where}: takes ${want} in the document, ${pt ? show(pt) : 'nothing'} in index.d.ts`);
    }
    // the query
    const query = (docOp.parameters ?? []).map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p))
      .filter((p) => p.in === 'query');
    if (query.length) {
      // the query object follows the path parameters (listWebhookDeliveries(id, query))
      const at = (op.path.match(/\{/g) ?? []).length;
      const pt = params[at] && nonNull(checker.getTypeOfSymbol(params[at]));
      if (!pt) {
        errors.push(`${where}: takes no query in index.d.ts`);
      } else {
        check(pt, {
          type: 'object', additionalProperties: false,
          properties: Object.fromEntries(query.map((p) => [p.name, p.schema])),
        }, `${method}(query)`, errors);
      }
    }
  }
  return errors;
}
