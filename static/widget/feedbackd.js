/*! feedbackd.js 0.1.0 — drop-in feedback widget for chat pages. MIT. No dependencies.
 *
 *   <script src="https://feedback.example.com/widget/feedbackd.js"></script>
 *   <script>FeedbackD.attach(answerEl, {key: 'INGEST_KEY', messageId: 'm3', user: 'u42'});</script>
 *
 * Speaks feedbackd HTTP API v1: POST /v1/feedback, DELETE /v1/feedback/{id}, POST /v1/messages.
 * Every event gets its id when it is created and goes through a queue kept in localStorage, so
 * a retry (after a network error, a 429/503 or a page reload) re-sends the same id and the
 * server stores it exactly once (201 stored / 200 duplicate both mean delivered).
 */
(function (root) {
  'use strict';
  if (root.FeedbackD && root.FeedbackD.version) return; // loaded twice: one queue per page

  var VERSION = '0.1.0';
  var doc = root.document;
  var NS = 'feedbackd.';
  var Q_PREFIX = NS + 'q.';   // one localStorage entry per queued request (tabs don't clobber)
  var S_PREFIX = NS + 's.';   // remembered widget state (which thumb is pressed, ...)

  var DEFAULT_TAGS = [
    { id: 'inaccurate', label: 'Inaccurate' },
    { id: 'unhelpful', label: 'Unhelpful' },
    { id: 'unsafe', label: 'Unsafe' },
    { id: 'off_topic', label: 'Off topic' },
    { id: 'too_long', label: 'Too long' }
  ];

  var DEFAULT_LABELS = {
    group: 'Feedback on this answer', up: 'Good answer', down: 'Bad answer', edit: 'Edit', editAria: 'Edit this answer',
    reasonsTitle: 'What was wrong?', comment: 'Comment (optional)', send: 'Send', skip: 'Skip',
    save: 'Save edit', cancel: 'Cancel', editArea: 'Edited answer',
    compareTitle: 'Which answer is better?', a: 'A is better', b: 'B is better', tie: 'Tie',
    bothBad: 'Both bad', thanks: 'Thanks for the feedback', retracted: 'Feedback removed',
    edited: 'Edit saved', queued: 'Saved; will send when the server is reachable',
    failed: 'Could not send feedback'
  };

  // The script's own origin is the natural default endpoint (the widget is served by feedbackd).
  var scriptOrigin = (function () {
    try {
      var s = doc && doc.currentScript;
      if (s && s.src) return new URL(s.src, root.location.href).origin;
    } catch (e) { /* fall through */ }
    return root.location ? root.location.origin : '';
  })();

  var globalCfg = {
    endpoint: scriptOrigin, key: null, user: undefined, tags: DEFAULT_TAGS, labels: {},
    onEvent: null, onError: null, injectStyles: true, styleNonce: undefined, persistState: true,
    retry: { baseMs: 1000, maxMs: 300000, flushIntervalMs: 30000, timeoutMs: 15000,
             maxAgeMs: 7 * 24 * 3600 * 1000 }
  };

  // ---------------------------------------------------------------- ids, time, storage

  function uuid() {
    var c = root.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
    }
    var b = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    var h = '';
    for (var j = 0; j < 16; j++) {
      h += (b[j] + 0x100).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) h += '-';
    }
    return h;
  }

  var ls = (function () {
    try {
      var s = root.localStorage, t = NS + 'probe';
      s.setItem(t, '1'); s.removeItem(t);
      return s;
    } catch (e) { return null; } // private mode, sandboxed iframe, cookies blocked
  })();
  var mem = {}; // used when localStorage is missing or full

  function sGet(k) {
    if (Object.prototype.hasOwnProperty.call(mem, k)) return mem[k];
    try { return ls ? ls.getItem(k) : null; } catch (e) { return null; }
  }
  function sSet(k, v) {
    try { if (ls) { ls.setItem(k, v); delete mem[k]; return; } } catch (e) { /* quota */ }
    mem[k] = v;
  }
  function sDel(k) {
    delete mem[k];
    try { if (ls) ls.removeItem(k); } catch (e) { /* ignore */ }
  }
  function sKeys(prefix) {
    var out = [], k, i;
    for (k in mem) if (k.indexOf(prefix) === 0) out.push(k);
    if (ls) {
      try {
        for (i = 0; i < ls.length; i++) {
          k = ls.key(i);
          if (k && k.indexOf(prefix) === 0 && out.indexOf(k) < 0) out.push(k);
        }
      } catch (e) { /* ignore */ }
    }
    return out;
  }
  function loadJSON(k) {
    var v = sGet(k);
    if (v == null) return null;
    try { return JSON.parse(v); } catch (e) { return null; }
  }

  // ---------------------------------------------------------------- listeners

  var idListeners = {}; // request id -> [fn]: widgets created in this page life
  function emit(info) {
    var fns = idListeners[info.id] || [];
    for (var i = 0; i < fns.length; i++) safeCall(fns[i], info);
    if (info.type === 'failed') safeCall(globalCfg.onError, info);
    else safeCall(globalCfg.onEvent, info);
    if (info.type === 'delivered' || info.type === 'failed') delete idListeners[info.id];
  }
  function listen(id, fn) { (idListeners[id] = idListeners[id] || []).push(fn); }
  function safeCall(fn, arg) {
    if (typeof fn !== 'function') return;
    try { fn(arg); } catch (e) { if (root.console) root.console.error('feedbackd:', e); }
  }

  // ---------------------------------------------------------------- the delivery queue

  var seqCounter = 0;
  function joinUrl(base, path) { return String(base || '').replace(/\/+$/, '') + path; }

  // op: 'post' (one feedback event), 'delete' (retract event id), 'messages' (log turns)
  function enqueue(op, id, body, o, fn) {
    if (!o.key) throw new TypeError('feedbackd: an ingest key is required (option "key")');
    var now = Date.now();
    var item = {
      v: 1, op: op, id: id, body: body || null, endpoint: o.endpoint || globalCfg.endpoint,
      key: o.key, seq: now * 1000 + (seqCounter++ % 1000), createdMs: now, attempts: 0,
      nextAt: 0, notBefore: 0
    };
    item.k = Q_PREFIX + item.seq + '.' + Math.random().toString(36).slice(2, 8);
    sSet(item.k, JSON.stringify(item)); // persisted before the first attempt
    if (fn) listen(id, fn);
    emit({ type: 'queued', op: op, id: id, event: item.body });
    flushSoon();
    return id;
  }

  function queueItems() {
    var keys = sKeys(Q_PREFIX), items = [];
    for (var i = 0; i < keys.length; i++) {
      var it = loadJSON(keys[i]);
      if (it && it.v === 1 && it.op && it.id) { it.k = keys[i]; items.push(it); }
      else sDel(keys[i]);
    }
    items.sort(function (a, b) { return a.seq - b.seq; });
    return items;
  }

  function parseRetryAfter(v) {
    if (!v) return null;
    if (/^\s*\d+\s*$/.test(v)) return parseInt(v, 10) * 1000;
    var t = Date.parse(v);
    return isNaN(t) ? null : Math.max(0, t - Date.now());
  }

  function backoff(attempts) {
    var r = globalCfg.retry;
    var d = Math.min(r.maxMs, r.baseMs * Math.pow(2, Math.max(0, attempts - 1)));
    return Math.round(d / 2 + Math.random() * d / 2); // "equal jitter": spread, never zero
  }

  function deliver(item) {
    var headers = { Authorization: 'Bearer ' + item.key };
    var url, init;
    if (item.op === 'delete') {
      url = joinUrl(item.endpoint, '/v1/feedback/' + encodeURIComponent(item.id));
      init = { method: 'DELETE', headers: headers };
    } else {
      headers['Content-Type'] = 'application/json';
      url = joinUrl(item.endpoint, item.op === 'messages' ? '/v1/messages' : '/v1/feedback');
      init = { method: 'POST', headers: headers, body: JSON.stringify(item.body) };
    }
    init.mode = 'cors';
    init.credentials = 'omit';
    init.cache = 'no-store';
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = null;
    if (ctl) {
      init.signal = ctl.signal;
      timer = setTimeout(function () { ctl.abort(); }, globalCfg.retry.timeoutMs);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (res.ok) return { ok: true, status: res.status, body: body };
        var s = res.status;
        if (s === 408 || s === 429 || s >= 500) {
          // Retry-After is readable cross-origin only if the server exposes it
          return { retry: true, status: s, body: body,
                   retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
        }
        return { permanent: true, status: s, body: body };
      });
    }).catch(function (err) {
      // network error, timeout, CORS refusal, or the body cut off: the outcome is unknown, so
      // send again under the same id (the server answers "duplicate" if it had stored it)
      return { retry: true, status: 0, error: String(err && err.message || err) };
    }).then(function (r) {
      if (timer) clearTimeout(timer);
      return r;
    });
  }

  var flushing = null, again = false, timer = null;

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; flush(); }, Math.max(0, Math.min(ms, 2147483647)));
  }
  function flushSoon() { schedule(0); }

  function flush() {
    if (flushing) { again = true; return flushing; }
    flushing = runQueue().then(function () {
      flushing = null;
      if (again) { again = false; return flush(); }
    }, function (e) {
      flushing = null;
      if (root.console) root.console.error('feedbackd: queue', e);
    });
    return flushing;
  }

  // Strictly in order: a retraction must not overtake the event it retracts, and the turns
  // logged by logMessages() go before the feedback about them.
  function runQueue() {
    var items = queueItems();
    if (!items.length) return Promise.resolve();
    var it = items[0], now = Date.now();
    if (now - it.createdMs > globalCfg.retry.maxAgeMs) {
      sDel(it.k);
      emit({ type: 'failed', op: it.op, id: it.id, event: it.body, status: it.lastStatus || 0,
             error: { code: 'expired', message: 'not delivered within maxAgeMs' }, permanent: true });
      return runQueue();
    }
    var due = Math.max(it.nextAt || 0, it.notBefore || 0);
    if (due > now) { schedule(due - now); return Promise.resolve(); }
    return deliver(it).then(function (r) {
      if (sGet(it.k) == null) return runQueue(); // another tab finished it meanwhile
      if (r.ok) {
        sDel(it.k);
        if (it.op === 'messages' && r.body && Array.isArray(r.body.results)) {
          r.body.results.forEach(function (x) {
            if (x && x.status === 'error') {
              emit({ type: 'failed', op: 'messages', id: it.id, event: it.body, status: r.status,
                     error: x.error || null, item: x, permanent: true });
            }
          });
        }
        emit({ type: 'delivered', op: it.op, id: it.id, event: it.body, status: r.status,
               duplicate: !!(r.body && r.body.status === 'duplicate') });
        return runQueue();
      }
      if (r.permanent) {
        sDel(it.k);
        emit({ type: 'failed', op: it.op, id: it.id, event: it.body, status: r.status,
               error: r.body && r.body.error ? r.body.error : null, permanent: true });
        return runQueue();
      }
      it.attempts = (it.attempts || 0) + 1;
      it.lastStatus = r.status;
      var delay = backoff(it.attempts);
      it.nextAt = Date.now() + delay;
      if (r.retryAfter != null) it.notBefore = Date.now() + r.retryAfter;
      var k = it.k;
      delete it.k;
      sSet(k, JSON.stringify(it));
      emit({ type: 'retrying', op: it.op, id: it.id, event: it.body, status: r.status,
             attempts: it.attempts, delayMs: Math.max(it.nextAt, it.notBefore) - Date.now() });
      schedule(Math.max(it.nextAt, it.notBefore) - Date.now());
    });
  }

  function onOnline() {
    // the network is back: no reason to sit out the rest of a backoff (Retry-After still holds)
    queueItems().forEach(function (it) {
      if (it.nextAt) { var k = it.k; delete it.k; it.nextAt = 0; sSet(k, JSON.stringify(it)); }
    });
    flush();
  }

  var started = false;
  function start() {
    if (started || !root.addEventListener) return;
    started = true;
    root.addEventListener('online', onOnline);
    if (doc) {
      doc.addEventListener('visibilitychange', function () {
        if (doc.visibilityState === 'visible') flush();
      });
    }
    (function tick() { // re-reads the interval, so configure() can change it later
      setTimeout(function () { flush(); tick(); }, globalCfg.retry.flushIntervalMs);
    })();
    flushSoon(); // whatever an earlier page left behind
  }

  // ---------------------------------------------------------------- events

  function opts(o) {
    var out = {}, k;
    for (k in globalCfg) out[k] = globalCfg[k];
    for (k in (o || {})) if (o[k] !== undefined) out[k] = o[k];
    out.labels = {};
    for (k in DEFAULT_LABELS) out.labels[k] = DEFAULT_LABELS[k];
    for (k in (globalCfg.labels || {})) out.labels[k] = globalCfg.labels[k];
    for (k in ((o && o.labels) || {})) out.labels[k] = o.labels[k];
    return out;
  }

  function makeEvent(kind, o, fields) {
    var ev = { id: uuid(), kind: kind, message_id: String(o.messageId) };
    for (var k in fields) if (fields[k] !== undefined) ev[k] = fields[k];
    if (o.user != null && o.user !== '') ev.user = String(o.user);
    if (o.metadata) ev.metadata = o.metadata;
    if (o.message) ev.message = o.message;           // inline turn (docs/api.md), when not logged
    if (o.context) ev.context = o.context;
    ev.created_at = new Date().toISOString();          // the vote's time, kept across retries
    return ev;
  }

  function send(event, o) {
    o = opts(o);
    var ev = {}, k;
    for (k in event) ev[k] = event[k];
    if (!ev.id) ev.id = uuid();
    if (!ev.created_at) ev.created_at = new Date().toISOString();
    if (ev.user == null && o.user != null && o.user !== '') ev.user = String(o.user);
    return enqueue('post', ev.id, ev, o, o.onEvent || o.onError ? perCall(o) : null);
  }
  function retract(id, o) {
    o = opts(o);
    return enqueue('delete', String(id), null, o, o.onEvent || o.onError ? perCall(o) : null);
  }
  function logMessages(messages, o) {
    o = opts(o);
    var list = Array.isArray(messages) ? messages : [messages];
    var id = 'messages-' + uuid();
    enqueue('messages', id, { messages: list }, o, o.onEvent || o.onError ? perCall(o) : null);
    return id;
  }
  function perCall(o) {
    return function (info) {
      if (info.type === 'failed') safeCall(o.onError !== globalCfg.onError && o.onError, info);
      else safeCall(o.onEvent !== globalCfg.onEvent && o.onEvent, info);
    };
  }

  // ---------------------------------------------------------------- DOM helpers

  var STYLE_ID = 'feedbackd-style';
  var CSS = [
    '.fbd-root{font:inherit;font-size:var(--fbd-font-size,13px);color:var(--fbd-fg,#374151)}',
    '.fbd-bar{display:flex;flex-direction:column;gap:6px;margin-top:6px}',
    '.fbd-actions,.fbd-compare,.fbd-tags,.fbd-row{display:flex;flex-wrap:wrap;align-items:center;gap:4px}',
    '.fbd-compare{margin-top:8px}',
    '.fbd-btn{display:inline-flex;align-items:center;gap:4px;min-height:28px;padding:2px 8px;margin:0;' +
      'border:1px solid var(--fbd-border,#d1d5db);border-radius:var(--fbd-radius,6px);' +
      'background:var(--fbd-bg,#fff);color:inherit;font:inherit;line-height:1.2;cursor:pointer}',
    '.fbd-btn:hover{background:var(--fbd-hover-bg,#f3f4f6)}',
    '.fbd-btn:focus-visible,.fbd-root textarea:focus-visible{outline:2px solid var(--fbd-focus,#2563eb);outline-offset:2px}',
    '.fbd-btn[aria-pressed="true"]{background:var(--fbd-active-bg,#dbeafe);border-color:var(--fbd-accent,#2563eb);color:var(--fbd-active-fg,#1e3a8a)}',
    '.fbd-down[aria-pressed="true"]{background:var(--fbd-negative-bg,#fee2e2);border-color:var(--fbd-negative,#dc2626);color:var(--fbd-negative-fg,#7f1d1d)}',
    '.fbd-btn svg{width:16px;height:16px;fill:currentColor;flex:none}',
    '.fbd-down svg{transform:rotate(180deg)}',
    '.fbd-primary,.fbd-primary:hover{background:var(--fbd-accent,#2563eb);border-color:var(--fbd-accent,#2563eb);color:var(--fbd-accent-fg,#fff)}',
    '.fbd-panel{display:flex;flex-direction:column;gap:6px;max-width:36rem;padding:8px;' +
      'border:1px solid var(--fbd-border,#d1d5db);border-radius:var(--fbd-radius,6px);background:var(--fbd-panel-bg,#f9fafb)}',
    '.fbd-root [hidden],.fbd-panel[hidden],.fbd-editor[hidden]{display:none!important}',
    '.fbd-title{font-weight:600}',
    '.fbd-root textarea{box-sizing:border-box;width:100%;padding:6px;font:inherit;color:inherit;resize:vertical;' +
      'border:1px solid var(--fbd-border,#d1d5db);border-radius:var(--fbd-radius,6px);background:var(--fbd-bg,#fff)}',
    '.fbd-editor{display:flex;flex-direction:column;gap:6px}',
    '.fbd-edit-area{min-height:6em}',
    '.fbd-status{color:var(--fbd-muted,#6b7280);font-size:.92em;margin-left:4px}',
    '.fbd-status.fbd-error{color:var(--fbd-negative,#dc2626)}'
  ].join('\n');

  function injectStyles(o) {
    if (!o.injectStyles || !doc || doc.getElementById(STYLE_ID)) return;
    var st = doc.createElement('style');
    st.id = STYLE_ID;
    if (o.styleNonce) st.setAttribute('nonce', o.styleNonce);
    st.textContent = CSS;
    (doc.head || doc.documentElement).insertBefore(st, (doc.head || doc.documentElement).firstChild);
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var THUMB = 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06' +
    'L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05' +
    'c.09-.23.14-.47.14-.73v-2z';
  var PENCIL = 'M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34' +
    'a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z';
  function icon(d) {
    var s = doc.createElementNS(SVG_NS, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    var p = doc.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    s.appendChild(p);
    return s;
  }

  function el(tag, cls, attrs, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function button(cls, label, attrs) {
    var a = { type: 'button' };
    for (var k in (attrs || {})) a[k] = attrs[k];
    return el('button', 'fbd-btn ' + cls, a, label);
  }

  var uid = 0;
  function stateKey(kind, user, id) { return S_PREFIX + kind + '.' + (user || '') + '.' + id; }

  function normTags(list) {
    return (list || []).map(function (t) {
      return typeof t === 'string' ? { id: t, label: t.replace(/_/g, ' ') } : { id: String(t.id), label: t.label || String(t.id) };
    });
  }

  function statusSetter(node, labels) {
    return function (info) {
      node.classList.remove('fbd-error');
      if (info.type === 'failed') {
        node.classList.add('fbd-error');
        node.textContent = labels.failed + (info.error && info.error.message ? ': ' + info.error.message : '');
      } else if (info.type === 'retrying') node.textContent = labels.queued;
      else if (info.type === 'delivered') {
        node.textContent = info.op === 'delete' ? labels.retracted
          : (info.event && info.event.kind === 'edit' ? labels.edited : labels.thanks);
      }
    };
  }

  // ---------------------------------------------------------------- attach(): one answer

  function attach(element, options) {
    if (!element || element.nodeType !== 1) throw new TypeError('FeedbackD.attach: an element is required');
    var o = opts(options);
    if (o.messageId == null) o.messageId = element.getAttribute('data-message-id');
    if (o.messageId == null || o.messageId === '') throw new TypeError('FeedbackD.attach: messageId is required');
    o.messageId = String(o.messageId);
    if (!o.key) throw new TypeError('FeedbackD.attach: key (an ingest key) is required');
    if (element.__feedbackd) element.__feedbackd.destroy();
    injectStyles(o);
    start();

    var L = o.labels, n = ++uid;
    var skey = stateKey('t', o.user, o.messageId);
    var st = (o.persistState && loadJSON(skey)) || { vote: 0, voteId: null, edited: false };
    var pendingDown = null; // the thumbs-down waiting for its reasons: {prevVote}

    var bar = el('div', 'fbd-root fbd-bar', { 'data-fbd-message-id': o.messageId });
    var actions = el('div', 'fbd-actions', { role: 'group', 'aria-label': L.group });
    var up = button('fbd-thumb fbd-up', null, { 'aria-pressed': 'false', 'aria-label': L.up, title: L.up });
    var down = button('fbd-thumb fbd-down', null, { 'aria-pressed': 'false', 'aria-label': L.down, title: L.down });
    up.appendChild(icon(THUMB));
    down.appendChild(icon(THUMB));
    var editBtn = button('fbd-edit', null, { 'aria-label': L.editAria, title: L.editAria });
    editBtn.appendChild(icon(PENCIL));
    editBtn.appendChild(doc.createTextNode(L.edit));
    var status = el('span', 'fbd-status', { role: 'status', 'aria-live': 'polite' });
    if (o.thumbs !== false) { actions.appendChild(up); actions.appendChild(down); }
    if (o.edit !== false) actions.appendChild(editBtn);
    actions.appendChild(status);
    bar.appendChild(actions);
    var showStatus = statusSetter(status, L);
    function track(info) {
      showStatus(info);
      if (info.type === 'failed' && info.op === 'post' && info.id === st.voteId) {
        // refused for good: show the vote the server still counts (the previous one, if any)
        st.vote = st.prev ? st.prev.vote : 0;
        st.voteId = st.prev ? st.prev.voteId : null;
        st.prev = null;
        save();
        render();
      }
      if (info.type === 'failed') safeCall(o.onError !== globalCfg.onError && o.onError, info);
      else safeCall(o.onEvent !== globalCfg.onEvent && o.onEvent, info);
    }

    // reasons panel (thumbs-down)
    var tags = normTags(o.tags);
    var panel = el('div', 'fbd-panel fbd-reasons', { role: 'group', 'aria-labelledby': 'fbd-' + n + '-t' });
    panel.hidden = true;
    panel.appendChild(el('div', 'fbd-title', { id: 'fbd-' + n + '-t' }, L.reasonsTitle));
    var tagBox = el('div', 'fbd-tags');
    var tagBtns = tags.map(function (t) {
      var b = button('fbd-tag', t.label, { 'aria-pressed': 'false', 'data-tag': t.id });
      b.addEventListener('click', function () {
        b.setAttribute('aria-pressed', b.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
      });
      tagBox.appendChild(b);
      return b;
    });
    if (tags.length) panel.appendChild(tagBox);
    var cLabel = el('label', 'fbd-label', { for: 'fbd-' + n + '-c' }, L.comment);
    var comment = el('textarea', 'fbd-comment', { id: 'fbd-' + n + '-c', rows: '2', maxlength: '20000' });
    if (o.comment !== false) { panel.appendChild(cLabel); panel.appendChild(comment); }
    var row = el('div', 'fbd-row');
    var sendBtn = button('fbd-primary fbd-send', L.send);
    var skipBtn = button('fbd-skip', L.skip);
    row.appendChild(sendBtn);
    row.appendChild(skipBtn);
    panel.appendChild(row);
    bar.appendChild(panel);

    // editor
    var editor = el('div', 'fbd-root fbd-editor');
    editor.hidden = true;
    var area = el('textarea', 'fbd-edit-area', { 'aria-label': L.editArea });
    var eRow = el('div', 'fbd-row');
    var saveBtn = button('fbd-primary fbd-save', L.save);
    var cancelBtn = button('fbd-cancel', L.cancel);
    eRow.appendChild(saveBtn);
    eRow.appendChild(cancelBtn);
    editor.appendChild(area);
    editor.appendChild(eRow);

    var container = o.container || null;
    if (container) container.appendChild(bar);
    else element.insertAdjacentElement('afterend', bar);
    bar.insertAdjacentElement('beforebegin', editor); // right where the answer is

    function save() { if (o.persistState) sSet(skey, JSON.stringify(st)); }
    function render() {
      var shown = pendingDown ? -1 : st.vote;
      up.setAttribute('aria-pressed', shown === 1 ? 'true' : 'false');
      down.setAttribute('aria-pressed', shown === -1 ? 'true' : 'false');
      bar.setAttribute('data-fbd-vote', String(shown));
    }
    function postRating(value, extra) {
      // with a user id the newest vote counts (docs/api.md); without one every event counts on its
      // own, so the earlier vote is retracted to keep one vote per answer
      var hasUser = o.user != null && o.user !== '';
      if (st.vote !== 0 && st.voteId && !hasUser) retract(st.voteId, { endpoint: o.endpoint, key: o.key });
      st.prev = hasUser ? { vote: st.vote, voteId: st.voteId } : null;
      var ev = makeEvent('rating', o, { value: value, tags: extra && extra.tags, comment: extra && extra.comment });
      enqueue('post', ev.id, ev, o, track);
      st.vote = value;
      st.voteId = ev.id;
      save();
      render();
    }
    function retractVote() {
      if (st.voteId) enqueue('delete', st.voteId, null, o, track);
      st.prev = null;
      st.vote = 0;
      st.voteId = null;
      save();
      render();
    }
    function openReasons() {
      pendingDown = { prev: st.vote };
      tagBtns.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
      comment.value = '';
      panel.hidden = false;
      render();
      (tagBtns[0] || comment).focus();
    }
    function closeReasons(commit) {
      if (!pendingDown) return;
      var picked = tagBtns.filter(function (b) { return b.getAttribute('aria-pressed') === 'true'; })
        .map(function (b) { return b.getAttribute('data-tag'); });
      var text = comment.value.trim();
      pendingDown = null;
      panel.hidden = true;
      if (commit) postRating(-1, { tags: picked.length ? picked : undefined, comment: text || undefined });
      else render();
      down.focus();
    }

    up.addEventListener('click', function () {
      if (pendingDown) { pendingDown = null; panel.hidden = true; }
      if (st.vote === 1) retractVote();
      else postRating(1);
    });
    down.addEventListener('click', function () {
      if (pendingDown) { closeReasons(false); return; }   // second click while asking: cancel
      if (st.vote === -1) retractVote();
      else if (o.reasons === false) postRating(-1);
      else openReasons();
    });
    sendBtn.addEventListener('click', function () { closeReasons(true); });
    skipBtn.addEventListener('click', function () { closeReasons(true); });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeReasons(true); }
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); closeReasons(true); }
    });

    // editing in place
    var prevDisplay = '';
    function currentText() {
      if (typeof o.getContent === 'function') return String(o.getContent(element));
      return element.innerText != null && element.offsetParent !== null ? element.innerText : element.textContent;
    }
    function openEditor() {
      area.value = currentText();
      var h = element.getBoundingClientRect().height;
      if (h > 0) area.style.height = Math.max(96, Math.ceil(h) + 24) + 'px';
      prevDisplay = element.style.display;
      element.style.display = 'none';
      editor.hidden = false;
      editBtn.setAttribute('aria-expanded', 'true');
      area.focus();
    }
    function closeEditor(commit) {
      if (editor.hidden) return;
      var before = currentText(), after = area.value;
      editor.hidden = true;
      element.style.display = prevDisplay;
      editBtn.setAttribute('aria-expanded', 'false');
      if (commit && after !== before && after.trim() !== '') {
        var ev = makeEvent('edit', o, { edited_content: after });
        enqueue('post', ev.id, ev, o, track);
        if (typeof o.renderEdited === 'function') o.renderEdited(element, after);
        else element.textContent = after;
        st.edited = true;
        save();
        bar.setAttribute('data-fbd-edited', 'true');
      }
      editBtn.focus();
    }
    editBtn.setAttribute('aria-expanded', 'false');
    editBtn.addEventListener('click', function () { if (editor.hidden) openEditor(); else closeEditor(false); });
    saveBtn.addEventListener('click', function () { closeEditor(true); });
    cancelBtn.addEventListener('click', function () { closeEditor(false); });
    editor.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeEditor(false); }
      else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); closeEditor(true); }
    });

    // leaving the page with the reasons panel open still records the thumbs-down
    function onHide() { if (pendingDown) closeReasons(true); }
    root.addEventListener('pagehide', onHide);

    if (st.edited) bar.setAttribute('data-fbd-edited', 'true');
    render();

    var api = {
      element: element, messageId: o.messageId, root: bar,
      state: function () { return { vote: pendingDown ? -1 : st.vote, voteId: st.voteId, pending: !!pendingDown, edited: !!st.edited }; },
      destroy: function () {
        root.removeEventListener('pagehide', onHide);
        if (!editor.hidden) element.style.display = prevDisplay;
        if (bar.parentNode) bar.parentNode.removeChild(bar);
        if (editor.parentNode) editor.parentNode.removeChild(editor);
        if (element.__feedbackd === api) delete element.__feedbackd;
      }
    };
    element.__feedbackd = api;
    return api;
  }

  // ---------------------------------------------------------------- compare(): A/B chooser

  function compare(elementA, elementB, options) {
    var o = opts(options);
    var ids = o.messageIds || [
      o.messageIdA != null ? o.messageIdA : elementA && elementA.getAttribute('data-message-id'),
      o.messageIdB != null ? o.messageIdB : elementB && elementB.getAttribute('data-message-id')
    ];
    var a = ids[0] != null ? String(ids[0]) : '', b = ids[1] != null ? String(ids[1]) : '';
    if (!a || !b || a === b) throw new TypeError('FeedbackD.compare: two different message ids are required');
    if (!o.key) throw new TypeError('FeedbackD.compare: key (an ingest key) is required');
    injectStyles(o);
    start();

    var L = o.labels, n = ++uid;
    var skey = stateKey('c', o.user, a + '|' + b);
    var st = (o.persistState && loadJSON(skey)) || { choice: null, eventId: null };
    var box = el('div', 'fbd-root fbd-compare', { role: 'group', 'aria-labelledby': 'fbd-' + n + '-ct',
                                                  'data-fbd-a': a, 'data-fbd-b': b });
    box.appendChild(el('span', 'fbd-title', { id: 'fbd-' + n + '-ct' }, L.compareTitle));
    var choices = [['a', L.a], ['b', L.b], ['tie', L.tie], ['both_bad', L.bothBad]];
    var btns = choices.map(function (c) {
      var btn = button('fbd-choice fbd-choice-' + c[0].replace('_', '-'), c[1], { 'aria-pressed': 'false', 'data-choice': c[0] });
      btn.addEventListener('click', function () { choose(c[0]); });
      box.appendChild(btn);
      return btn;
    });
    var status = el('span', 'fbd-status', { role: 'status', 'aria-live': 'polite' });
    box.appendChild(status);
    var showStatus = statusSetter(status, L);
    function track(info) {
      showStatus(info);
      if (info.type === 'failed' && info.op === 'post' && info.id === st.eventId) {
        st.choice = st.prev ? st.prev.choice : null;
        st.eventId = st.prev ? st.prev.eventId : null;
        st.prev = null;
        if (o.persistState) sSet(skey, JSON.stringify(st));
        render();
      }
      if (info.type === 'failed') safeCall(o.onError !== globalCfg.onError && o.onError, info);
      else safeCall(o.onEvent !== globalCfg.onEvent && o.onEvent, info);
    }
    if (o.container) o.container.appendChild(box);
    else elementB.insertAdjacentElement('afterend', box);

    function render() {
      btns.forEach(function (btn) { btn.setAttribute('aria-pressed', btn.getAttribute('data-choice') === st.choice ? 'true' : 'false'); });
      box.setAttribute('data-fbd-choice', st.choice || '');
    }
    function choose(c) {
      var hasUser = o.user != null && o.user !== '';
      if (st.choice === c) { // clicking the active choice takes it back
        if (st.eventId) enqueue('delete', st.eventId, null, o, track);
        st.prev = null;
        st.choice = null;
        st.eventId = null;
      } else {
        if (st.eventId && !hasUser) enqueue('delete', st.eventId, null, o, track);
        st.prev = hasUser ? { choice: st.choice, eventId: st.eventId } : null;
        // message_id is the preferred answer; for tie / both_bad it is A (docs/api.md)
        var ev = makeEvent('comparison', { messageId: c === 'b' ? b : a, user: o.user, metadata: o.metadata },
          { other_message_id: c === 'b' ? a : b, outcome: c === 'a' || c === 'b' ? 'preferred' : c });
        enqueue('post', ev.id, ev, o, track);
        st.choice = c;
        st.eventId = ev.id;
      }
      if (o.persistState) sSet(skey, JSON.stringify(st));
      render();
    }
    render();
    return {
      root: box, messageIds: [a, b],
      state: function () { return { choice: st.choice, eventId: st.eventId }; },
      destroy: function () { if (box.parentNode) box.parentNode.removeChild(box); }
    };
  }

  // ---------------------------------------------------------------- public API

  function configure(o) {
    for (var k in (o || {})) {
      if (k === 'retry') { for (var r in o.retry) globalCfg.retry[r] = o.retry[r]; }
      else if (o[k] !== undefined) globalCfg[k] = o[k];
    }
    return api;
  }

  var api = {
    version: VERSION,
    attach: attach,
    compare: compare,
    configure: configure,
    send: send,
    retract: retract,
    logMessages: logMessages,
    flush: flush,
    pending: function () { return queueItems().length; },
    uuid: uuid,
    defaultTags: DEFAULT_TAGS.map(function (t) { return t.id; })
  };
  root.FeedbackD = api;
  if (doc && doc.readyState !== 'loading') start();
  else if (doc) doc.addEventListener('DOMContentLoaded', start);
})(typeof window !== 'undefined' ? window : this);
