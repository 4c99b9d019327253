/*! feedbackd.js 0.1.0 — drop-in feedback widget for chat pages. MIT. No dependencies.
 *
 *   <script src="https://feedback.example.com/widget/feedbackd.js"></script>
 *   <script>FeedbackD.attach(answerEl, {key: 'INGEST_KEY', messageId: 'm3', user: 'u42'});</script>
 *
 * Speaks feedbackd HTTP API v1: POST /v1/feedback, POST /v1/feedback/batch (implicit signals),
 * DELETE /v1/feedback/{id}, POST /v1/messages, GET /v1/reactions, GET /v1/span-labels,
 * PUT /v1/users/{user}/consent.
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
    failed: 'Could not send feedback', react: 'Add a reaction', reactionsTitle: 'Reactions',
    unreact: 'Remove this reaction', reactionsFailed: 'Could not load the reactions',
    optOut: 'Don\u2019t use my feedback for AI training', optedOut: 'Your feedback will not be used for AI training'
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
    signals: true, signalBatchMs: 1000, dwellMinMs: 1000,
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

  // op: 'post' (one feedback event), 'delete' (retract event id), 'messages' (log turns),
  // 'batch' (several events: the implicit signals), 'consent' (a rater's opt-out)
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
    } else if (item.op === 'consent') { // PUT is idempotent: a retry records the same opt-out
      headers['Content-Type'] = 'application/json';
      url = joinUrl(item.endpoint, '/v1/users/' + encodeURIComponent(item.body.user) + '/consent');
      init = { method: 'PUT', headers: headers, body: JSON.stringify({ train: item.body.train }) };
    } else {
      headers['Content-Type'] = 'application/json';
      url = joinUrl(item.endpoint, item.op === 'messages' ? '/v1/messages'
        : item.op === 'batch' ? '/v1/feedback/batch' : '/v1/feedback');
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
        if ((it.op === 'messages' || it.op === 'batch') && r.body && Array.isArray(r.body.results)) {
          r.body.results.forEach(function (x) { // per-item refusals: final, the rest is stored
            if (x && x.status === 'error') {
              emit({ type: 'failed', op: it.op, id: it.id, event: it.body, status: r.status,
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
        onVisibility();
        if (doc.visibilityState === 'visible') flush();
      });
      root.addEventListener('pagehide', dwellFlush);
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

  // ---------------------------------------------------------------- implicit signals, consent

  // What a page may send as kind "signal" (docs/api.md "Implicit signals"); the detected_*
  // names belong to the server. Only dwell carries a value (milliseconds on screen).
  var SIGNALS = ['copy', 'share', 'regenerate', 'continue', 'abandon', 'dwell', 'retry'];
  var BATCH_MAX = 1000; // POST /v1/feedback/batch's item limit

  // Signals are many and small: they wait here briefly (retry.signalBatchMs) and go out
  // together as one queued POST /v1/feedback/batch, with the ids they got when they happened.
  var sigBuf = [], sigTimer = null;
  function queueSignal(ev, o) {
    sigBuf.push({ ev: ev, endpoint: o.endpoint || globalCfg.endpoint, key: o.key });
    if (!sigTimer) sigTimer = setTimeout(flushSignals, globalCfg.signalBatchMs);
    return ev.id;
  }
  function flushSignals() { // also synchronously when the page is hidden: the queue persists
    if (sigTimer) { clearTimeout(sigTimer); sigTimer = null; }
    var groups = {}, order = [];
    sigBuf.splice(0).forEach(function (s) {
      var g = s.endpoint + '\n' + s.key;
      if (!groups[g]) { groups[g] = { o: { endpoint: s.endpoint, key: s.key }, events: [] }; order.push(g); }
      groups[g].events.push(s.ev);
    });
    order.forEach(function (g) {
      var evs = groups[g].events;
      for (var i = 0; i < evs.length; i += BATCH_MAX) {
        enqueue('batch', 'batch-' + uuid(), { events: evs.slice(i, i + BATCH_MAX) }, groups[g].o);
      }
    });
  }

  var answers = {}; // message id -> options of the widget attached to it (signal() uses them)

  function signal(messageId, name, value, options) {
    if (messageId == null || messageId === '') throw new TypeError('FeedbackD.signal: a message id is required');
    if (SIGNALS.indexOf(name) < 0) throw new TypeError('FeedbackD.signal: name must be one of ' + SIGNALS.join(', '));
    if (name === 'dwell' ? !(typeof value === 'number' && isFinite(value) && value >= 0) : value != null) {
      throw new TypeError('FeedbackD.signal: dwell needs a value (milliseconds >= 0), other signals none');
    }
    var m = {}, k, base = answers[String(messageId)] || {}; // the attached widget's options, if any
    for (k in base) m[k] = base[k];
    for (k in (options || {})) if (options[k] !== undefined) m[k] = options[k];
    var o = opts(m);
    if (!o.key) throw new TypeError('feedbackd: an ingest key is required (option "key")');
    o.messageId = String(messageId);
    return queueSignal(makeEvent('signal', o, { signal: name, value: name === 'dwell' ? Math.round(value) : undefined }), o);
  }

  // Dwell: how long each answer was on screen (at least half of it, or half the viewport for
  // a long one) while the page was visible. Sent when the page is hidden (tab switch, close,
  // navigation), as the time since the last dwell of that answer, so the values add up. Kept
  // by message, not element: a page that re-renders its answers keeps counting.
  var dwell = {}, io = null;
  function dwellTick(d, now) { if (d.since != null) { d.acc += now - d.since; d.since = null; } }
  function dwellResume(d, now) { if (d.onScreen && d.live && doc.visibilityState !== 'hidden') d.since = now; }
  function dwellFlush() {
    var now = Date.now();
    for (var id in dwell) {
      var d = dwell[id];
      dwellTick(d, now);
      if (d.acc >= globalCfg.dwellMinMs && d.o.signals !== false) {
        queueSignal(makeEvent('signal', d.o, { signal: 'dwell', value: Math.round(d.acc) }), d.o);
        d.acc = 0;
      }
      dwellResume(d, now);
    }
    flushSignals();
  }
  function onScreen(entry) {
    if (!entry.isIntersecting) return false;
    var vh = entry.rootBounds ? entry.rootBounds.height : (root.innerHeight || 0);
    return entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= vh / 2;
  }
  function trackAnswer(element, o) {
    var id = o.messageId;
    answers[id] = o;
    var onCopy = function () { // the copy event's target is where the selection starts
      var sel = root.getSelection && root.getSelection();
      if (o.signals === false || !sel || sel.isCollapsed || !String(sel).trim()) return;
      queueSignal(makeEvent('signal', o, { signal: 'copy' }), o);
    };
    element.addEventListener('copy', onCopy);
    var d = dwell[id] = dwell[id] || { acc: 0, since: null, onScreen: false };
    d.o = o;
    d.live = true;
    if (typeof IntersectionObserver === 'function') {
      if (!io) {
        io = new IntersectionObserver(function (entries) {
          var now = Date.now();
          entries.forEach(function (e) {
            var x = dwell[e.target.__fbdDwell];
            if (!x || !x.live) return;
            x.onScreen = onScreen(e);
            dwellTick(x, now);
            dwellResume(x, now);
          });
        }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
      }
      element.__fbdDwell = id;
      io.observe(element);
    }
    return function stop() {
      element.removeEventListener('copy', onCopy);
      if (io) io.unobserve(element);
      dwellTick(d, Date.now());
      d.live = false;
      d.onScreen = false;
      if (answers[id] === o) delete answers[id];
    };
  }
  function onVisibility() {
    var now = Date.now();
    if (doc.visibilityState === 'hidden') dwellFlush();
    else for (var id in dwell) dwellResume(dwell[id], now);
  }

  // Consent: a page may only opt its rater out (an ingest key cannot opt in: docs/api.md
  // "Consent and licence"). Remembered in this browser so the widget's link shows it.
  function consentKey(user) { return S_PREFIX + 'consent.' + user; }
  function optOut(user, options, fn) {
    var o = opts(options);
    if (user == null || user === '') user = o.user;
    if (user == null || user === '') throw new TypeError('FeedbackD.optOut: a user id is required');
    if (!o.key) throw new TypeError('feedbackd: an ingest key is required (option "key")');
    user = String(user);
    sSet(consentKey(user), 'out');
    refreshConsent();
    var each = o.onEvent || o.onError ? perCall(o) : null;
    return enqueue('consent', 'consent-' + uuid(), { user: user, train: false }, o, function (info) {
      if (info.type === 'failed') { sDel(consentKey(user)); refreshConsent(); } // refused: not opted out
      if (each) each(info);
      if (fn) fn(info);
    });
  }
  function optedOut(user) { return user != null && user !== '' && sGet(consentKey(String(user))) === 'out'; }

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
    '.fbd-status.fbd-error{color:var(--fbd-negative,#dc2626)}',
    '.fbd-reactions{position:relative;display:inline-flex;align-items:center;gap:4px}',
    '.fbd-reacted{display:inline-flex;gap:4px}',
    '.fbd-reacted:empty{display:none}',
    '.fbd-emoji{font-size:1.15em;line-height:1}',
    '.fbd-picker{position:absolute;z-index:20;top:100%;left:0;margin-top:4px;display:flex;gap:2px;padding:4px;' +
      'border:1px solid var(--fbd-border,#d1d5db);border-radius:var(--fbd-radius,6px);background:var(--fbd-bg,#fff);' +
      'box-shadow:0 4px 12px rgba(0,0,0,.12)}',
    '.fbd-pick{border-color:transparent;padding:2px 6px}',
    '.fbd-pick[aria-checked="true"]{background:var(--fbd-active-bg,#dbeafe);border-color:var(--fbd-accent,#2563eb)}',
    '.fbd-link,.fbd-link:hover{border:0;background:none;padding:0;min-height:0;color:var(--fbd-muted,#4b5563);' +
      'text-decoration:underline;font-size:.92em}',
    '.fbd-link[aria-disabled="true"]{text-decoration:none;cursor:default}'
  ].join('\n');

  function injectStyles(o) {
    if (!o.injectStyles || !doc || doc.getElementById(STYLE_ID)) return;
    var st = doc.createElement('style');
    st.id = STYLE_ID;
    if (o.styleNonce) st.setAttribute('nonce', o.styleNonce);
    st.textContent = CSS + '\n' + FINE_CSS;
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

  // ---------------------------------------------------------------- reactions, opt-out link

  // A project setting an ingest key may read (GET /v1/reactions -> reactions, GET
  // /v1/span-labels -> span_labels), fetched once per page (per endpoint and key) and shared by
  // every widget; a failed fetch is forgotten, so the next widget that needs it asks again.
  var settingFetches = {};
  function projectSetting(o, path, field) {
    if (!o.key) return Promise.reject(new TypeError('feedbackd: an ingest key is required (option "key")'));
    var k = path + '\n' + (o.endpoint || '') + '\n' + o.key;
    if (!settingFetches[k]) {
      var p = settingFetches[k] = fetch(joinUrl(o.endpoint, path), {
        headers: { Authorization: 'Bearer ' + o.key }, mode: 'cors', credentials: 'omit'
      }).then(function (res) {
        if (!res.ok) throw new Error('GET ' + path + ' answered ' + res.status);
        return res.json();
      }).then(function (b) {
        if (!b || !Array.isArray(b[field])) throw new Error('GET ' + path + ': no ' + field);
        return b[field];
      });
      p.catch(function () { if (settingFetches[k] === p) delete settingFetches[k]; });
    }
    return settingFetches[k];
  }

  // The project's reaction set (the page's own `reactions` option wins).
  function reactionSet(options) {
    var o = opts(options);
    if (Array.isArray(o.reactions)) return Promise.resolve(o.reactions);
    return projectSetting(o, '/v1/reactions', 'reactions');
  }

  var SMILE = 'M11.99 2C6.47 2 2 6.48 2 12s4.47 10 9.99 10C17.52 22 22 17.52 22 12S17.52 2 11.99 2zM12 20' +
    'c-4.42 0-8-3.58-8-8s3.58-8 8-8 8 3.58 8 8-3.58 8-8 8zm3.5-9c.83 0 1.5-.67 1.5-1.5S16.33 8 15.5 8 14 ' +
    '8.67 14 9.5s.67 1.5 1.5 1.5zm-7 0c.83 0 1.5-.67 1.5-1.5S9.33 8 8.5 8 7 8.67 7 9.5 7.67 11 8.5 11zm3.5 ' +
    '6.5c2.33 0 4.31-1.46 5.11-3.5H6.89c.8 2.04 2.78 3.5 5.11 3.5z';

  // A reaction button opening a menu of the set (menuitemcheckbox per reaction: arrow keys,
  // Home/End, Escape closes and gives focus back), and the reactions held shown as pressed
  // chips. Choosing a held reaction (in the menu or its chip) retracts its event.
  function reactionControl(o, n, actions, status, track) {
    var L = o.labels;
    var skey = stateKey('r', o.user, o.messageId);
    var held = (o.persistState && loadJSON(skey)) || {}; // reaction name -> its event id
    var set = null, items = [];
    var wrap = el('span', 'fbd-reactions');
    var chips = el('span', 'fbd-reacted');
    var trigger = button('fbd-react', null, { 'aria-haspopup': 'menu', 'aria-expanded': 'false',
                                              'aria-controls': 'fbd-' + n + '-rx', 'aria-label': L.react, title: L.react });
    trigger.appendChild(icon(SMILE));
    var menu = el('div', 'fbd-picker', { id: 'fbd-' + n + '-rx', role: 'menu', 'aria-label': L.reactionsTitle });
    menu.hidden = true;
    wrap.appendChild(chips);
    wrap.appendChild(trigger);
    wrap.appendChild(menu);
    actions.insertBefore(wrap, status);

    function labelOf(r) {
      return (o.reactionLabels && o.reactionLabels[r.name]) || r.name.charAt(0).toUpperCase() + r.name.slice(1).replace(/_/g, ' ');
    }
    function save() { if (o.persistState) sSet(skey, JSON.stringify(held)); }
    function render() {
      chips.textContent = '';
      var names = [];
      (set || []).forEach(function (r) {
        if (!held[r.name]) return;
        names.push(r.name);
        var c = button('fbd-chip', null, { 'aria-pressed': 'true', 'aria-label': labelOf(r), title: L.unreact,
                                           'data-reaction': r.name });
        c.appendChild(el('span', 'fbd-emoji', { 'aria-hidden': 'true' }, r.emoji));
        c.addEventListener('click', function () { toggle(r); trigger.focus(); });
        chips.appendChild(c);
      });
      items.forEach(function (b) { b.setAttribute('aria-checked', held[b.getAttribute('data-reaction')] ? 'true' : 'false'); });
      wrap.setAttribute('data-fbd-reactions', names.join(' '));
    }
    function trackR(info) {
      track(info);
      if (info.type === 'failed' && info.op === 'post') { // refused for good: not held after all
        for (var name in held) if (held[name] === info.id) delete held[name];
        save();
        render();
      }
    }
    function toggle(r) {
      if (held[r.name]) {
        enqueue('delete', held[r.name], null, o, trackR);
        delete held[r.name];
      } else {
        var ev = makeEvent('reaction', o, { emoji: r.name });
        enqueue('post', ev.id, ev, o, trackR);
        held[r.name] = ev.id;
      }
      save();
      render();
    }
    function build() {
      menu.textContent = '';
      items = set.map(function (r) {
        var b = el('button', 'fbd-btn fbd-pick', { type: 'button', role: 'menuitemcheckbox', tabindex: '-1',
                                                   'aria-label': labelOf(r), title: labelOf(r), 'data-reaction': r.name });
        b.appendChild(el('span', 'fbd-emoji', { 'aria-hidden': 'true' }, r.emoji));
        b.addEventListener('click', function () { toggle(r); close(true); });
        menu.appendChild(b);
        return b;
      });
      render();
    }
    function focusItem(i) {
      if (!items.length) return;
      i = (i + items.length) % items.length;
      items.forEach(function (b, j) { b.setAttribute('tabindex', j === i ? '0' : '-1'); });
      items[i].focus();
    }
    function outside(e) { if (!wrap.contains(e.target)) close(false); }
    function open() {
      reactionSet(o).then(function (s) {
        if (set !== s) { set = s; build(); }
        menu.hidden = false;
        trigger.setAttribute('aria-expanded', 'true');
        doc.addEventListener('mousedown', outside, true);
        var first = 0;
        items.some(function (b, i) { if (b.getAttribute('aria-checked') === 'true') { first = i; return true; } return false; });
        focusItem(first);
      }, function (err) {
        showError(L.reactionsFailed + (err && err.message ? ': ' + err.message : ''));
      });
    }
    function showError(text) { status.classList.add('fbd-error'); status.textContent = text; }
    function close(focusBack) {
      if (menu.hidden) return;
      menu.hidden = true;
      trigger.setAttribute('aria-expanded', 'false');
      doc.removeEventListener('mousedown', outside, true);
      if (focusBack) trigger.focus();
    }
    trigger.addEventListener('click', function () { if (menu.hidden) open(); else close(true); });
    trigger.addEventListener('keydown', function (e) {
      if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && menu.hidden) { e.preventDefault(); open(); }
    });
    menu.addEventListener('keydown', function (e) {
      var i = items.indexOf(doc.activeElement);
      if (e.key === 'ArrowRight' || e.key === 'ArrowDown') focusItem(i + 1);
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') focusItem(i - 1);
      else if (e.key === 'Home') focusItem(0);
      else if (e.key === 'End') focusItem(items.length - 1);
      else if (e.key === 'Escape') { e.stopPropagation(); close(true); }
      else if (e.key === 'Tab') { close(false); return; }
      else return;
      e.preventDefault();
    });
    if (Object.keys(held).length) { // show the reactions held since an earlier visit
      reactionSet(o).then(function (s) { if (!set) { set = s; build(); } }, function () { /* shown on open */ });
    }
    return {
      held: function () { var out = {}; for (var k in held) out[k] = held[k]; return out; },
      destroy: function () { close(false); }
    };
  }

  // "Don't use my feedback for training": opts the widget's rater out (FeedbackD.optOut); every
  // such link on the page then says so.
  var consentViews = [];
  function optOutControl(o, bar) {
    var L = o.labels, user = String(o.user);
    var box = el('div', 'fbd-consent');
    var btn = button('fbd-link fbd-opt-out', L.optOut);
    box.appendChild(btn);
    bar.appendChild(box);
    function render() {
      var out = optedOut(user);
      btn.textContent = out ? L.optedOut : L.optOut;
      btn.setAttribute('aria-disabled', out ? 'true' : 'false');
      box.setAttribute('data-fbd-opted-out', out ? 'true' : 'false');
    }
    btn.addEventListener('click', function () {
      if (optedOut(user)) return;
      optOut(user, { endpoint: o.endpoint, key: o.key, onEvent: o.onEvent, onError: o.onError });
    });
    consentViews.push(render);
    render();
    return function stop() { var i = consentViews.indexOf(render); if (i >= 0) consentViews.splice(i, 1); };
  }
  function refreshConsent() { consentViews.slice().forEach(function (f) { f(); }); }

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
    var reactions = o.reactions !== false ? reactionControl(o, n, actions, status, track) : null;
    var stopOptOut = o.optOutLink && o.user != null && o.user !== '' ? optOutControl(o, bar) : null;
    var stopTracking = trackAnswer(element, o);
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
        if (st.original == null) st.original = before; // what passages and steps keep counting in
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

    // passages (span) and steps
    var fine = attachFine(element, o, bar, actions, function (ev, also) {
      enqueue('post', ev.id, ev, o, also ? function (info) { track(info); also(info); } : track);
    }, function (id) { enqueue('delete', id, null, o, track); }, function () { return st.original; }, n);

    // leaving the page with the reasons panel open still records the thumbs-down
    function onHide() { if (pendingDown) closeReasons(true); }
    root.addEventListener('pagehide', onHide);

    if (st.edited) bar.setAttribute('data-fbd-edited', 'true');
    render();

    var api = {
      element: element, messageId: o.messageId, root: bar,
      state: function () {
        return { vote: pendingDown ? -1 : st.vote, voteId: st.voteId, pending: !!pendingDown, edited: !!st.edited,
                 reactions: reactions ? reactions.held() : {} };
      },
      destroy: function () {
        root.removeEventListener('pagehide', onHide);
        if (reactions) reactions.destroy();
        if (stopOptOut) stopOptOut();
        stopTracking();
        fine.destroy();
        if (!editor.hidden) element.style.display = prevDisplay;
        if (bar.parentNode) bar.parentNode.removeChild(bar);
        if (editor.parentNode) editor.parentNode.removeChild(editor);
        if (element.__feedbackd === api) delete element.__feedbackd;
      }
    };
    element.__feedbackd = api;
    return api;
  }

  // ---------------------------------------------------------------- passages (span) and steps

  // Labels a span may carry: the project's, read with the page's ingest key from
  // GET /v1/span-labels once per page (docs/api.md "Span feedback"), unless the page passes
  // `spanLabels` (a list, or a function the widget calls once per page); the default set of
  // docs/api.md when neither gives any (e.g. a server without that endpoint).
  var DEFAULT_SPAN_LABELS = [
    { name: 'incorrect', value: -1 }, { name: 'irrelevant', value: -1 }, { name: 'incomplete', value: -1 },
    { name: 'unsafe', value: -1 }, { name: 'well_said', value: 1 }
  ];
  var FINE_LABELS = {
    mark: 'Mark a passage', markAria: 'Mark a passage of this answer', spanTitle: 'Label this passage',
    spanLabels: 'Label', spanComment: 'Comment (optional)', spanSend: 'Send', spanCancel: 'Cancel',
    spanClose: 'Close', spanPick: 'Choose a label first.',
    spanUnmapped: 'This selection cannot be matched exactly to the answer\u2019s text (the page shows it ' +
      'differently). Select a passage without that part, or use \u201cMark a passage\u201d.',
    markHelp: 'Select the passage in the text below (Shift + arrow keys), then choose a label and send.',
    markArea: 'Text of the answer', markEmpty: 'Select a passage in the text first.',
    steps: 'Rate each step', stepGroup: 'Step {n}', stepUp: 'Good step', stepZero: 'Neutral step',
    stepDown: 'Bad step'
  };
  for (var fineKey in FINE_LABELS) DEFAULT_LABELS[fineKey] = FINE_LABELS[fineKey];

  var FINE_CSS = [
    '.fbd-popover{position:absolute;z-index:2147483000;width:max-content;max-width:min(26rem,calc(100vw - 16px));' +
      'box-shadow:0 4px 16px rgba(0,0,0,.18)}',
    '.fbd-popover[hidden],.fbd-marker[hidden],.fbd-steps[hidden]{display:none!important}',
    '.fbd-quote{margin:0;padding:2px 8px;border-left:3px solid var(--fbd-accent,#2563eb);white-space:pre-wrap;' +
      'max-height:4.5em;overflow:auto}',
    '.fbd-note{margin:0;color:var(--fbd-negative,#b91c1c)}',
    '.fbd-note:empty{display:none}',
    '.fbd-help{margin:0;color:var(--fbd-muted,#4b5563)}',
    '.fbd-root input.fbd-span-comment{box-sizing:border-box;width:100%;padding:4px 6px;font:inherit;color:inherit;' +
      'border:1px solid var(--fbd-border,#d1d5db);border-radius:var(--fbd-radius,6px);background:var(--fbd-bg,#fff)}',
    '.fbd-root input.fbd-span-comment:focus-visible{outline:2px solid var(--fbd-focus,#2563eb);outline-offset:2px}',
    '.fbd-mark-area{min-height:6em}',
    '.fbd-steps{margin:0;padding:0 0 0 1.8em;display:flex;flex-direction:column;gap:4px}',
    '.fbd-step-row{display:flex;align-items:flex-start;justify-content:space-between;gap:8px}',
    '.fbd-step-text{white-space:pre-wrap;overflow-wrap:anywhere;padding-top:4px}',
    '.fbd-step-votes{display:inline-flex;gap:2px;flex:none}',
    '.fbd-step-down svg{transform:rotate(180deg)}',
    '.fbd-step-down[aria-pressed="true"]{background:var(--fbd-negative-bg,#fee2e2);border-color:var(--fbd-negative,#dc2626);' +
      'color:var(--fbd-negative-fg,#7f1d1d)}'
  ].join('\n');
  var DASH = 'M5 11h14v2H5z';

  function normSpanLabels(list) {
    if (list && !Array.isArray(list) && Array.isArray(list.span_labels)) list = list.span_labels; // GET /v1/project
    if (!Array.isArray(list)) return null;
    var out = [];
    list.forEach(function (x) {
      var name = typeof x === 'string' ? x : x && x.name;
      if (typeof name !== 'string' || !name) return;
      var shown = x && typeof x === 'object' && x.label ? String(x.label)
        : (name.charAt(0).toUpperCase() + name.slice(1)).replace(/_/g, ' ');
      out.push({ name: name, label: shown, value: x && typeof x.value === 'number' ? x.value : null });
    });
    return out.length ? out : null;
  }
  var labelLoads = []; // [{fn, promise}]: a loader function runs once per page
  function spanLabelsOf(o) {
    var src = o.spanLabels;
    if (src == null) {
      return projectSetting(o, '/v1/span-labels', 'span_labels').then(function (list) {
        return normSpanLabels(list) || normSpanLabels(DEFAULT_SPAN_LABELS);
      }, function (e) {
        if (root.console) root.console.warn('feedbackd: span labels', e && e.message || e, '(offering the defaults)');
        return normSpanLabels(DEFAULT_SPAN_LABELS);
      });
    }
    if (typeof src !== 'function') return Promise.resolve(normSpanLabels(src) || normSpanLabels(DEFAULT_SPAN_LABELS));
    for (var i = 0; i < labelLoads.length; i++) if (labelLoads[i].fn === src) return labelLoads[i].promise;
    var p = new Promise(function (resolve) { resolve(src()); }).then(function (list) {
      return normSpanLabels(list) || normSpanLabels(DEFAULT_SPAN_LABELS);
    }, function (e) {
      if (root.console) root.console.error('feedbackd: spanLabels', e);
      return normSpanLabels(DEFAULT_SPAN_LABELS);
    });
    labelLoads.push({ fn: src, promise: p });
    return p;
  }

  // docs/api.md "Step feedback": lines of the content, without empty or whitespace-only ones
  function stepsOf(text) {
    return String(text).split('\n').filter(function (l) { return !/^[ \t\r\v\f]*$/.test(l); });
  }

  // A passage [a, b) (UTF-16 indexes of `s`) in code points, with its text as the quote.
  function cpSpan(s, a, b) {
    var start = Array.from(s.slice(0, a)).length, quote = s.slice(a, b);
    return { start: start, end: start + Array.from(quote).length, quote: quote };
  }

  // --- mapping a selection of the rendered answer back to its source text
  //
  // The page may render the answer (Markdown: **bold**, lists, links, entities), so the text on
  // screen is not the text the offsets count in. The selected text is searched in the source
  // allowing, between its characters, only what a renderer drops (markup characters,
  // whitespace, link targets, tags, list numbers, entities for & < > "). The same search runs on
  // the rendered text: if it finds as many occurrences in both, the selection's occurrence on
  // screen is the same-numbered one in the source; otherwise the passage is not mapped (no
  // offsets rather than wrong ones).
  var GAP = '(?:' + /[\s*_~`#>|+=\\[\]!-]|\]\([^)\s]*(?:\s+"[^"]*")?\)|<[^<>\n]*>|\d{1,9}[.)](?=\s)/.source + ')*?';
  var ENTITY = { '&': '(?:&|&amp;)', '<': '(?:<|&lt;)', '>': '(?:>|&gt;)', '"': '(?:"|&quot;)' };

  function passageRegex(text) {
    var cps = Array.from(text), out = '';
    for (var i = 0; i < cps.length; i++) {
      var c = cps[i];
      if (/\s/.test(c)) continue; // whitespace may differ freely: GAP covers it
      if (out) out += GAP;
      out += ENTITY[c] || c.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
    }
    return out ? new RegExp(out, 'g') : null;
  }
  function matchesOf(re, s) {
    var out = [], m;
    re.lastIndex = 0;
    while ((m = re.exec(s)) && out.length < 1000) {
      out.push({ index: m.index, length: m[0].length });
      re.lastIndex = m.index + 1; // overlapping occurrences count too
    }
    return out;
  }
  // source: the answer's text; shown: the text on screen; [a, b): the selection in `shown`
  // -> null (only whitespace), {text, start, end, quote} or {text, unmapped: true}
  function mapPassage(source, shown, a, b) {
    while (a < b && /\s/.test(shown.charAt(a))) a++;
    while (b > a && /\s/.test(shown.charAt(b - 1))) b--;
    if (a >= b) return null;
    var text = shown.slice(a, b), m;
    if (source === shown) m = cpSpan(source, a, b);
    else {
      var re = passageRegex(text), onScreen = matchesOf(re, shown), inSource = matchesOf(re, source), k = -1;
      for (var i = 0; i < onScreen.length; i++) if (onScreen[i].index === a) k = i;
      if (k < 0 || onScreen.length !== inSource.length) return { text: text, unmapped: true };
      m = cpSpan(source, inSource[k].index, inSource[k].index + inSource[k].length);
    }
    m.text = text;
    return m;
  }

  // The text nodes of an element (not the widget's own), their start in the concatenated text.
  function shownText(element) {
    var r = { nodes: [], starts: [], text: '' };
    var w = doc.createTreeWalker(element, 4 /* NodeFilter.SHOW_TEXT */, null);
    for (var t = w.nextNode(); t; t = w.nextNode()) {
      var p = t.parentNode;
      if (p && p.closest && p !== element && p.closest('script,style,template,.fbd-root') &&
          element.contains(p.closest('script,style,template,.fbd-root'))) continue;
      r.nodes.push(t);
      r.starts.push(r.text.length);
      r.text += t.data;
    }
    return r;
  }
  function pointIndex(r, node, offset) {
    if (node.nodeType === 3) {
      var i = r.nodes.indexOf(node);
      if (i >= 0) return r.starts[i] + Math.min(offset, node.data.length);
    }
    var at = doc.createRange();
    try { at.setStart(node, offset); } catch (e) { return -1; }
    for (var j = 0; j < r.nodes.length; j++) if (at.comparePoint(r.nodes[j], 0) >= 0) return r.starts[j];
    return r.text.length;
  }

  // Absolute position under a rectangle (viewport coordinates), kept inside the viewport.
  function placeBelow(box, rect) {
    var host = box.offsetParent || doc.documentElement;
    if (host === doc.body && root.getComputedStyle(host).position === 'static') host = doc.documentElement;
    var hr = host.getBoundingClientRect();
    var vw = doc.documentElement.clientWidth || root.innerWidth;
    var x = Math.max(8, Math.min(rect.left, vw - box.offsetWidth - 8));
    box.style.left = Math.round(x - hr.left - (host.clientLeft || 0) + (host === doc.documentElement ? 0 : host.scrollLeft)) + 'px';
    box.style.top = Math.round(rect.bottom + 6 - hr.top - (host.clientTop || 0) + (host === doc.documentElement ? 0 : host.scrollTop)) + 'px';
  }

  // Span popover, "Mark a passage" mode and step thumbs of one attached answer. post(ev) queues
  // an event, drop(id) a retraction, both reported to the answer's status line; original() is
  // the answer's text before the rater edited it in place (undefined if not edited).
  function attachFine(element, o, bar, actions, post, drop, original, n) {
    var L = o.labels, offs = [], built = [], idp = 'fbd-' + n;
    var hasUser = o.user != null && o.user !== '';
    function on(target, type, fn) {
      target.addEventListener(type, fn);
      offs.push(function () { target.removeEventListener(type, fn); });
    }
    function source() { // the text offsets count in (docs/api.md "Span feedback")
      // after an edit in place: the answer as logged, not the rater's rewrite on screen (a
      // selection in the rewrite maps only where the text is the same)
      var kept = original();
      if (kept != null) return kept;
      if (typeof o.getContent === 'function') return String(o.getContent(element));
      if (o.message && typeof o.message.content === 'string') return o.message.content;
      return element.innerText != null && element.offsetParent !== null ? element.innerText : element.textContent;
    }
    function addAction(b) { actions.insertBefore(b, actions.querySelector('.fbd-status')); built.push(b); }

    // a label chooser, comment and Send/Cancel: onSend(label, comment)
    function spanForm(id, onSend, onCancel) {
      var f = { box: el('div', 'fbd-span-form'), picked: null, buttons: [] };
      var group = el('div', 'fbd-tags fbd-span-labels', { role: 'group', 'aria-label': L.spanLabels });
      var cl = el('label', 'fbd-label', { for: id + '-c' }, L.spanComment);
      var c = el('input', 'fbd-span-comment', { id: id + '-c', type: 'text', maxlength: '20000', autocomplete: 'off' });
      var note = el('p', 'fbd-note', { role: 'alert' });
      var row = el('div', 'fbd-row');
      var sendB = button('fbd-primary fbd-span-send', L.spanSend);
      var cancelB = button('fbd-span-cancel', L.spanCancel);
      row.appendChild(sendB);
      row.appendChild(cancelB);
      [group, cl, c, note, row].forEach(function (x) { f.box.appendChild(x); });
      if (o.comment === false) { cl.hidden = true; c.hidden = true; }
      f.setLabels = function (list) {
        group.textContent = '';
        f.buttons = list.map(function (x) {
          var b = button('fbd-tag fbd-span-label', x.label, { 'aria-pressed': 'false', 'data-label': x.name });
          b.addEventListener('click', function () {
            f.picked = f.picked === x.name ? null : x.name;
            f.buttons.forEach(function (y) {
              y.setAttribute('aria-pressed', y.getAttribute('data-label') === f.picked ? 'true' : 'false');
            });
            if (f.picked) note.textContent = '';
          });
          group.appendChild(b);
          return b;
        });
      };
      f.reset = function () {
        f.picked = null;
        c.value = '';
        note.textContent = '';
        f.buttons.forEach(function (y) { y.setAttribute('aria-pressed', 'false'); });
      };
      f.say = function (text) { note.textContent = text; };
      f.first = function () { return f.buttons[0] || sendB; };
      sendB.addEventListener('click', function () {
        if (!f.picked) { f.say(L.spanPick); f.first().focus(); return; }
        onSend(f.picked, c.value.trim());
      });
      cancelB.addEventListener('click', onCancel);
      return f;
    }
    function sendSpan(m, label, comment) {
      post(makeEvent('span', o, { start: m.start, end: m.end, label: label, quote: m.quote, comment: comment || undefined }));
    }

    var markBtn = null;
    if (o.spans !== false) {
      // popover for a selection made with the mouse (or any other way) inside the answer
      var pop = el('div', 'fbd-root fbd-panel fbd-popover', { role: 'dialog', 'aria-labelledby': idp + '-pt',
                                                              'aria-describedby': idp + '-pq' });
      pop.hidden = true;
      pop.appendChild(el('div', 'fbd-title', { id: idp + '-pt' }, L.spanTitle));
      var quoteEl = el('blockquote', 'fbd-quote', { id: idp + '-pq' });
      pop.appendChild(quoteEl);
      var unmapped = el('p', 'fbd-note fbd-unmapped', { role: 'alert' });
      var closeB = button('fbd-span-close', L.spanClose);
      var form = spanForm(idp + '-pf', function (label, comment) {
        if (cur) sendSpan(cur, label, comment);
        var sel = root.getSelection && root.getSelection();
        if (sel) sel.removeAllRanges();
        closePop(true);
      }, function () { closePop(true); });
      pop.appendChild(form.box);
      pop.appendChild(unmapped);
      pop.appendChild(closeB);
      bar.appendChild(pop);
      built.push(pop);
      var cur = null, curKey = '', back = null;

      var openPop = function (m, rect) {
        back = doc.activeElement && doc.activeElement !== doc.body && !pop.contains(doc.activeElement) ? doc.activeElement : null;
        cur = m.unmapped ? null : m;
        quoteEl.textContent = m.text;
        form.reset();
        form.box.hidden = !!m.unmapped;
        unmapped.textContent = m.unmapped ? L.spanUnmapped : '';
        closeB.hidden = !m.unmapped;
        pop.setAttribute('data-fbd-mapped', m.unmapped ? 'false' : 'true');
        pop.hidden = false;
        placeBelow(pop, rect);
        (m.unmapped ? closeB : form.first()).focus();
      };
      var closePop = function (refocus) {
        if (pop.hidden) return;
        pop.hidden = true;
        cur = null;
        curKey = '';
        if (refocus) (back && doc.contains(back) ? back : markBtn || element).focus();
      };
      var fromSelection = function () {
        var sel = root.getSelection && root.getSelection();
        if (!sel || !sel.rangeCount || sel.isCollapsed) return;
        var r = sel.getRangeAt(0);
        if (!element.contains(r.startContainer) || !element.contains(r.endContainer)) return;
        var shown = shownText(element);
        var a = pointIndex(shown, r.startContainer, r.startOffset), b = pointIndex(shown, r.endContainer, r.endOffset);
        if (a < 0 || b <= a) return;
        if (!pop.hidden && curKey === a + ':' + b) return;
        var m = mapPassage(source(), shown.text, a, b);
        if (!m) return;
        curKey = a + ':' + b;
        openPop(m, r.getBoundingClientRect());
      };
      var inWidget = function (t) { return t && t.closest && t.closest('.fbd-root, input, textarea, select, [contenteditable]'); };
      on(doc, 'pointerup', function (e) { if (!inWidget(e.target)) setTimeout(fromSelection, 0); });
      on(doc, 'keyup', function (e) { // a selection made from the keyboard (caret browsing)
        if (e.shiftKey && /^(Arrow|Home|End|Page)/.test(e.key) && !inWidget(e.target)) setTimeout(fromSelection, 0);
      });
      on(doc, 'pointerdown', function (e) { if (!pop.hidden && !pop.contains(e.target)) closePop(false); });
      pop.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closePop(true); }
      });
      closeB.addEventListener('click', function () { closePop(true); });

      // "Mark a passage": the answer's text in a read-only text area, selected from the keyboard
      markBtn = button('fbd-mark', L.mark, { 'aria-expanded': 'false', 'aria-controls': idp + '-m', 'aria-label': L.markAria });
      addAction(markBtn);
      var marker = el('div', 'fbd-panel fbd-marker', { id: idp + '-m', role: 'group', 'aria-labelledby': idp + '-mt' });
      marker.hidden = true;
      marker.appendChild(el('div', 'fbd-title', { id: idp + '-mt' }, L.markAria));
      marker.appendChild(el('p', 'fbd-help', { id: idp + '-mh' }, L.markHelp));
      // not `readonly`: Chrome offers no caret (so no keyboard selection) in a read-only text
      // area; edits are refused instead, and it is announced as read-only
      var area = el('textarea', 'fbd-mark-area', { rows: '5', 'aria-label': L.markArea, 'aria-readonly': 'true',
                                                   'aria-describedby': idp + '-mh', spellcheck: 'false' });
      var areaText = '';
      area.addEventListener('beforeinput', function (e) { e.preventDefault(); });
      area.addEventListener('input', function () { // what beforeinput could not stop (IME)
        if (area.value !== areaText) { area.value = areaText; area.setSelectionRange(0, 0); }
      });
      marker.appendChild(area);
      var mform = spanForm(idp + '-mf', function (label, comment) {
        var text = source(), a = area.selectionStart, b = area.selectionEnd;
        // a text area turns \r\n into \n: map its selection like a rendered one then
        var m = a < b ? mapPassage(text, area.value, a, b) : null;
        if (!m) { mform.say(L.markEmpty); area.focus(); return; }
        if (m.unmapped) { mform.say(L.spanUnmapped); area.focus(); return; }
        sendSpan(m, label, comment);
        closeMark();
      }, function () { closeMark(); });
      marker.appendChild(mform.box);
      bar.appendChild(marker);
      built.push(marker);
      var openMark = function () {
        closePop(false);
        area.value = areaText = source();
        mform.reset();
        marker.hidden = false;
        markBtn.setAttribute('aria-expanded', 'true');
        area.focus();
        area.setSelectionRange(0, 0);
      };
      var closeMark = function () {
        if (marker.hidden) return;
        marker.hidden = true;
        markBtn.setAttribute('aria-expanded', 'false');
        markBtn.focus();
      };
      markBtn.addEventListener('click', function () { if (marker.hidden) openMark(); else closeMark(); });
      marker.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeMark(); }
      });
      spanLabelsOf(o).then(function (list) { form.setLabels(list); mform.setLabels(list); });
    }

    if (o.steps) {
      // per-step thumbs: one row per step of docs/api.md "Step feedback"
      var steps = stepsOf(source());
      var skey = stateKey('p', o.user, o.messageId);
      var votes = (o.persistState && loadJSON(skey)) || {}; // step index -> {value, id, prev}
      var toggle = button('fbd-steps-toggle', L.steps, { 'aria-expanded': 'false', 'aria-controls': idp + '-s' });
      var list = el('ol', 'fbd-steps', { id: idp + '-s' });
      list.hidden = true;
      var rows = steps.map(function (line, i) {
        var li = el('li', 'fbd-step', { 'data-fbd-step': String(i) });
        var rowEl = el('div', 'fbd-step-row');
        rowEl.appendChild(el('span', 'fbd-step-text', { id: idp + '-s' + i }, line.trim()));
        var g = el('span', 'fbd-step-votes', { role: 'group', 'aria-label': L.stepGroup.replace('{n}', String(i + 1)),
                                               'aria-describedby': idp + '-s' + i });
        var bs = [[1, 'up', L.stepUp, THUMB], [0, 'zero', L.stepZero, DASH], [-1, 'down', L.stepDown, THUMB]].map(function (d) {
          var b = button('fbd-step-vote fbd-step-' + d[1], null, { 'aria-pressed': 'false', 'aria-label': d[2],
                                                                   title: d[2], 'data-value': String(d[0]) });
          b.appendChild(icon(d[3]));
          b.addEventListener('click', function () { vote(i, d[0]); });
          g.appendChild(b);
          return b;
        });
        rowEl.appendChild(g);
        li.appendChild(rowEl);
        list.appendChild(li);
        return { li: li, buttons: bs };
      });
      var saveVotes = function () { if (o.persistState) sSet(skey, JSON.stringify(votes)); };
      var show = function (i) {
        var v = votes[i] ? votes[i].value : null;
        rows[i].li.setAttribute('data-fbd-value', v == null ? '' : String(v));
        rows[i].buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-value')) === v)); });
      };
      var refused = function (info) { // a step vote refused for good: show the one that still counts
        if (info.type !== 'failed' || info.op !== 'post') return;
        for (var i in votes) {
          if (votes[i] && votes[i].id === info.id) { votes[i] = votes[i].prev || null; saveVotes(); show(Number(i)); }
        }
      };
      var vote = function (i, value) {
        var was = votes[i] || null;
        if (was && was.value === value) { drop(was.id); votes[i] = null; } // the pressed one again: retract
        else {
          // without a user id every event counts on its own (docs/api.md): retract the earlier one
          if (was && !hasUser) drop(was.id);
          var ev = makeEvent('step', o, { step: i, value: value });
          post(ev, refused);
          votes[i] = { value: value, id: ev.id, prev: was && hasUser ? { value: was.value, id: was.id } : null };
        }
        saveVotes();
        show(i);
      };
      rows.forEach(function (r, i) { show(i); });
      toggle.addEventListener('click', function () {
        list.hidden = !list.hidden;
        toggle.setAttribute('aria-expanded', String(!list.hidden));
      });
      if (steps.length) {
        addAction(toggle);
        bar.appendChild(list);
        built.push(list);
      }
    }

    return {
      destroy: function () {
        offs.forEach(function (f) { f(); });
        built.forEach(function (x) { if (x.parentNode) x.parentNode.removeChild(x); });
      }
    };
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
    flush: function () { flushSignals(); return flush(); },
    // signals still waiting to be batched count as one request
    pending: function () { return queueItems().length + (sigBuf.length ? 1 : 0); },
    signal: signal,
    optOut: function (user, options) { return optOut(user, options); },
    optedOut: optedOut,
    reactionSet: function (options) { return reactionSet(options); },
    signals: SIGNALS.slice(),
    uuid: uuid,
    // for pages with their own passage UI: a selection [start, end) of the text on screen
    // mapped to code point offsets of the source (README "Marked passages and step thumbs")
    mapPassage: function (source, shown, start, end) { return mapPassage(String(source), String(shown), start, end); },
    defaultTags: DEFAULT_TAGS.map(function (t) { return t.id; })
  };
  root.FeedbackD = api;
  if (doc && doc.readyState !== 'loading') start();
  else if (doc) doc.addEventListener('DOMContentLoaded', start);
})(typeof window !== 'undefined' ? window : this);
