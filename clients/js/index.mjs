// feedbackd-client — a typed client for feedbackd's HTTP API (docs/api.md, docs/openapi.json)
// for chat backends and data pipelines. No dependencies: Node >= 18 (global fetch, Web
// Streams, Web Crypto). Types: index.d.ts.
//
// Writes are safe to retry because every event carries an id the server enforces unique:
// postFeedback/postFeedbackBatch give each event without an id a UUID *before* the first
// attempt, so every retry of that call re-sends the same ids and the server answers
// `duplicate` instead of storing a second row.

/**
 * The operations this client covers: method, path and the operationId they have in
 * docs/openapi.json (tests/e2e/client_js_drift.test.mjs fails when the two disagree).
 */
export const OPERATIONS = Object.freeze({
  logMessages: { method: 'POST', path: '/v1/messages', operationId: 'postMessages' },
  postFeedback: { method: 'POST', path: '/v1/feedback', operationId: 'postFeedback' },
  postFeedbackBatch: { method: 'POST', path: '/v1/feedback/batch', operationId: 'postFeedbackBatch' },
  retractFeedback: { method: 'DELETE', path: '/v1/feedback/{id}', operationId: 'retractFeedback' },
  getReactions: { method: 'GET', path: '/v1/reactions', operationId: 'getReactions' },
  getSpanLabels: { method: 'GET', path: '/v1/span-labels', operationId: 'getSpanLabels' },
  listFeedback: { method: 'GET', path: '/v1/feedback', operationId: 'listFeedback' },
  getStats: { method: 'GET', path: '/v1/stats', operationId: 'getStats' },
  getLeaderboard: { method: 'GET', path: '/v1/leaderboard', operationId: 'getLeaderboard' },
  getAgreement: { method: 'GET', path: '/v1/agreement', operationId: 'getAgreement' },
  export: { method: 'GET', path: '/v1/export', operationId: 'exportStream' },
  getExportManifest: { method: 'GET', path: '/v1/exports/{id}', operationId: 'getExportManifest' },
  getProject: { method: 'GET', path: '/v1/project', operationId: 'getProject' },
  updateProject: { method: 'PATCH', path: '/v1/project', operationId: 'patchProject' },
  createKey: { method: 'POST', path: '/v1/keys', operationId: 'createKey' },
  listKeys: { method: 'GET', path: '/v1/keys', operationId: 'listKeys' },
  revokeKey: { method: 'DELETE', path: '/v1/keys/{id}', operationId: 'revokeKey' },
  eraseUser: { method: 'DELETE', path: '/v1/users/{user}', operationId: 'eraseUser' },
  putConsent: { method: 'PUT', path: '/v1/users/{user}/consent', operationId: 'putConsent' },
  getConsent: { method: 'GET', path: '/v1/users/{user}/consent', operationId: 'getConsent' },
  createWebhook: { method: 'POST', path: '/v1/webhooks', operationId: 'createWebhook' },
  listWebhooks: { method: 'GET', path: '/v1/webhooks', operationId: 'listWebhooks' },
  deleteWebhook: { method: 'DELETE', path: '/v1/webhooks/{id}', operationId: 'deleteWebhook' },
  listWebhookDeliveries: { method: 'GET', path: '/v1/webhooks/{id}/deliveries', operationId: 'listWebhookDeliveries' },
});

// Creating a key (or a webhook) twice because a lost answer was retried would leave a live key
// nobody holds (a second endpoint getting every event): these POSTs are never retried. Every
// other operation is idempotent (ids, PATCH, DELETE, GET).
const NOT_RETRIED = new Set(['createKey', 'createWebhook']);

// 429 and 503 are the server's "try again later" (docs/api.md, with Retry-After); 502/504 are
// what a proxy in front of it answers while it restarts. Other statuses are final.
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

export const DEFAULT_RETRY = Object.freeze({ attempts: 5, baseDelayMs: 250, maxDelayMs: 30000 });

/** Any failed call: an error answer of the server, or no usable answer at all. */
export class FeedbackdError extends Error {
  constructor({ status, code, message, field = null, retryAfterMs = null, requestId = null, cause }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FeedbackdError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
    this.requestId = requestId;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry-After as milliseconds (delta-seconds or an HTTP date), or null. */
function retryAfterMs(headers) {
  const v = headers.get('retry-after');
  if (v == null) return null;
  if (/^\s*\d+\s*$/.test(v)) return Number.parseInt(v, 10) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

/** Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1). */
function backoffMs(retry, attempt) {
  const d = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(d / 2 + (Math.random() * d) / 2);
}

function queryString(query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null) q.append(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Web Crypto: global in browsers and Node >= 19; Node 18 (Debian 12's nodejs) has it only as
// node:crypto's webcrypto. Browsers outside a secure context (plain http:// other than
// localhost) have getRandomValues but no randomUUID.
const webCrypto =
  globalThis.crypto ??
  (typeof process === 'object' && process.versions?.node ? (await import('node:crypto')).webcrypto : undefined);

/** A random (version 4) UUID. */
function newId() {
  if (typeof webCrypto?.randomUUID === 'function') return webCrypto.randomUUID();
  const b = webCrypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A copy of the event with an id (the caller's, or a new UUID). */
function withId(event) {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return event;
  return event.id == null || event.id === '' ? { ...event, id: newId() } : { ...event };
}

// The body of a JSON answer read under the call's timeout, as a Response again.
async function bufferedResponse(res, timer) {
  try {
    const body = await res.arrayBuffer();
    return new Response(body.byteLength ? body : null, { status: res.status, headers: res.headers });
  } finally {
    clearTimeout(timer);
  }
}

async function errorFrom(res) {
  const text = await res.text().catch(() => '');
  let detail = null;
  try { detail = JSON.parse(text)?.error ?? null; } catch { /* not JSON: a proxy's page */ }
  return new FeedbackdError({
    status: res.status,
    code: typeof detail?.code === 'string' ? detail.code : 'http_error',
    message: typeof detail?.message === 'string' ? detail.message : `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    field: typeof detail?.field === 'string' ? detail.field : null,
    retryAfterMs: retryAfterMs(res.headers),
    requestId: res.headers.get('x-request-id'),
  });
}

export class FeedbackdClient {
  /**
   * @param {import('./index.d.ts').ClientOptions} options
   */
  constructor({ baseUrl, key, retry = {}, timeoutMs = 30000, maxRetryAfterMs = 60000, fetch: fetchImpl } = {}) {
    if (!baseUrl) throw new TypeError('FeedbackdClient: baseUrl is required');
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.key = key ?? null;
    this.retry = { ...DEFAULT_RETRY, ...retry };
    if (!(this.retry.attempts >= 1)) throw new TypeError('FeedbackdClient: retry.attempts must be >= 1');
    this.timeoutMs = timeoutMs;
    this.maxRetryAfterMs = maxRetryAfterMs;
    this.fetch = fetchImpl ?? globalThis.fetch;
  }

  // One HTTP call with the retry policy; resolves to the Response of a 2xx answer.
  async #send(op, { params = {}, query, body, stream = false } = {}) {
    const { method, path } = OPERATIONS[op];
    const url = this.baseUrl
      + path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(String(params[name])))
      + queryString(query);
    const headers = { Accept: stream ? 'application/x-ndjson' : 'application/json' };
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body); // serialised once: every attempt sends the same bytes
    }
    const attempts = NOT_RETRIED.has(op) ? 1 : this.retry.attempts;
    for (let attempt = 1; ; attempt++) {
      let res;
      // The timeout bounds a whole JSON call, but only the wait for an export's head: the
      // records of a large export may take far longer to arrive.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      try {
        res = await this.fetch(url, { method, headers, body: payload, signal: abort.signal });
        if (stream && res.ok) clearTimeout(timer);
        else res = await bufferedResponse(res, timer);
      } catch (e) {
        clearTimeout(timer);
        if (attempt >= attempts) {
          throw new FeedbackdError({ status: 0, code: 'network_error', message: `${method} ${path}: ${e?.message ?? e}`, cause: e });
        }
        await sleep(backoffMs(this.retry, attempt));
        continue;
      }
      if (res.ok) return res;
      const err = await errorFrom(res);
      if (!RETRY_STATUSES.has(res.status) || attempt >= attempts) throw err;
      // honour Retry-After; a wait longer than the caller accepts is their decision, not ours
      if (err.retryAfterMs != null && err.retryAfterMs > this.maxRetryAfterMs) throw err;
      await sleep(Math.max(err.retryAfterMs ?? 0, backoffMs(this.retry, attempt)));
    }
  }

  async #json(op, opts) {
    const res = await this.#send(op, opts);
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new FeedbackdError({ status: res.status, code: 'invalid_response', message: `not JSON: ${text.slice(0, 200)}`, cause: e });
    }
  }

  logMessages(messages) {
    return this.#json('logMessages', { body: { messages } });
  }

  postFeedback(event) {
    return this.#json('postFeedback', { body: withId(event) });
  }

  postFeedbackBatch(events) {
    return this.#json('postFeedbackBatch', { body: { events: Array.from(events, withId) } });
  }

  retractFeedback(id) {
    return this.#json('retractFeedback', { params: { id } });
  }

  getReactions() {
    return this.#json('getReactions');
  }

  getSpanLabels() {
    return this.#json('getSpanLabels');
  }

  listFeedback(query = {}) {
    return this.#json('listFeedback', { query });
  }

  /** Every feedback item matching query, page after page (newest first). */
  async *iterateFeedback(query = {}) {
    let cursor = query.cursor;
    do {
      const page = await this.listFeedback({ ...query, cursor });
      yield* page.items;
      cursor = page.next_cursor;
    } while (cursor);
  }

  getStats(query = {}) {
    return this.#json('getStats', { query });
  }

  getLeaderboard(query = {}) {
    return this.#json('getLeaderboard', { query });
  }

  getAgreement(query = {}) {
    return this.#json('getAgreement', { query });
  }

  /**
   * Starts an export. The answer's head is awaited (and retried like any call); the records
   * are then read line by line as they arrive, so memory stays constant however large it is.
   */
  async export(query = {}) {
    const res = await this.#send('export', { query, stream: true });
    return new ExportStream(res);
  }

  getExportManifest(id) {
    return this.#json('getExportManifest', { params: { id } });
  }

  getProject() {
    return this.#json('getProject');
  }

  updateProject(patch) {
    return this.#json('updateProject', { body: patch });
  }

  createKey(request) {
    return this.#json('createKey', { body: request });
  }

  listKeys() {
    return this.#json('listKeys');
  }

  revokeKey(id) {
    return this.#json('revokeKey', { params: { id } });
  }

  eraseUser(user) {
    return this.#json('eraseUser', { params: { user } });
  }

  putConsent(user, consent) {
    return this.#json('putConsent', { params: { user }, body: consent });
  }

  getConsent(user) {
    return this.#json('getConsent', { params: { user } });
  }

  createWebhook(request) {
    return this.#json('createWebhook', { body: request });
  }

  listWebhooks() {
    return this.#json('listWebhooks');
  }

  deleteWebhook(id) {
    return this.#json('deleteWebhook', { params: { id } });
  }

  listWebhookDeliveries(id, query = {}) {
    return this.#json('listWebhookDeliveries', { params: { id }, query });
  }
}

/** The records of one export (NDJSON), iterated once. */
export class ExportStream {
  #res;
  #used = false;

  constructor(res) {
    this.#res = res;
    this.id = res.headers.get('x-export-id');
    this.watermark = res.headers.get('x-export-watermark');
  }

  async *[Symbol.asyncIterator]() {
    if (this.#used) throw new TypeError('ExportStream: an export can be iterated only once');
    this.#used = true;
    const reader = this.#res.body.getReader();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let buf = '';
    let line = 0;
    const parse = (text) => {
      line++;
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new FeedbackdError({ status: this.#res.status, code: 'invalid_response', message: `export line ${line} is not JSON`, cause: e });
      }
    };
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (e) {
          // the server cuts the body short (no final chunk) when the export fails midway
          throw new FeedbackdError({ status: 0, code: 'network_error', message: `export interrupted after ${line} records: ${e?.message ?? e}`, cause: e });
        }
        if (chunk.done) break;
        buf += decoder.decode(chunk.value, { stream: true });
        let start = 0;
        let nl;
        while ((nl = buf.indexOf('\n', start)) >= 0) {
          const text = buf.slice(start, nl);
          start = nl + 1;
          if (text.trim() !== '') yield parse(text);
        }
        buf = buf.slice(start); // only the unfinished last line is kept
      }
      buf += decoder.decode();
      if (buf.trim() !== '') yield parse(buf);
    } finally {
      // a consumer that stops early (break) frees the connection
      await reader.cancel().catch(() => {});
    }
  }

  /** All records in an array (for small exports; iterate for large ones). */
  async toArray() {
    const out = [];
    for await (const r of this) out.push(r);
    return out;
  }
}
