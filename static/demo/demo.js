/* demo.js — the demo chat at /demo: canned answers, regenerations (sibling answers of the same
 * prompt), turn logging with POST /v1/messages and the feedbackd widget on every answer, with
 * reactions, the page's own Copy / Share / Regenerate buttons sending implicit signals, and the
 * widget's opt-out link.
 * Settings (endpoint, ingest key, user id) come from the URL query or the form and are kept in
 * localStorage, as is the conversation, so a reload shows the same chat and votes. */
(function () {
  'use strict';
  var FD = window.FeedbackD;
  var LS_SETTINGS = 'feedbackd-demo.settings';
  var LS_CHAT = 'feedbackd-demo.chat';

  // --- canned assistant: a few prompts, each with alternative answers from two "models"
  var CANNED = [
    { match: /capital.*france|france.*capital/i, answers: [
      { model: 'demo-small-v1', content: 'The capital of France is Lyon.' },
      { model: 'demo-large-v1', content: 'The capital of France is Paris.' },
      { model: 'demo-small-v1', content: 'Paris has been the capital of France for most of its history; it is also its largest city.' }
    ] },
    { match: /recursion/i, answers: [
      { model: 'demo-large-v1', content: 'Recursion is when a function solves a problem by calling itself on a smaller piece of the same problem, until it reaches a case simple enough to answer directly.' },
      { model: 'demo-small-v1', content: 'Recursion: see recursion.' },
      { model: 'demo-large-v1', content: 'A recursive definition refers to itself: factorial(n) = n * factorial(n - 1), with factorial(0) = 1 as the base case that stops it.' }
    ] },
    { match: /haiku|autumn|poem/i, answers: [
      { model: 'demo-small-v1', content: 'Red leaves drift and fall\ncold wind hums through empty trees\nthe year breathes out slow' },
      { model: 'demo-large-v1', content: 'Autumn is a season that comes after summer and before winter. Leaves change colour and fall from trees, and the days get shorter.' },
      { model: 'demo-large-v1', content: 'Moon on the wet path\none maple leaf, then thousands\nthe garden lets go' }
    ] },
    { match: /reverse.*list|list.*reverse|python/i, answers: [
      { model: 'demo-large-v1', content: 'Use slicing for a reversed copy: items[::-1]. To reverse in place, call items.reverse().' },
      { model: 'demo-small-v1', content: 'Python lists cannot be reversed; copy the items into a new list by hand.' },
      { model: 'demo-large-v1', content: 'list(reversed(items)) gives a new reversed list; items.reverse() reverses the list itself and returns None.' }
    ] }
  ];
  // Two answers show passages and steps: one in Markdown with multi-byte text (emoji, a skin-tone
  // modifier, a combining accent), rendered by renderMarkdown() below, and one the page marks as
  // step-by-step (per-step thumbs: FeedbackD.attach(el, {steps: true})).
  CANNED.push(
    { match: /emoji|unicode/i, answers: [
      { model: 'demo-large-v1', markdown: true, content: '**Emoji** are ordinary *Unicode characters*: 😀 is one code point ' +
        '(U+1F600), but 👍🏽 is two — 👍 plus a skin-tone modifier.\n\nAccents can be *combining marks*: ' +
        'e\u0301 looks like é but is two code points -- and that is why offsets count code points, not bytes.\n\n' +
        '- `naïve` is 5 code points and 6 bytes in UTF-8\n- 👩‍💻 is three code points joined by a zero-width joiner' },
      { model: 'demo-small-v1', markdown: true, content: 'Emoji are **pictures** sent as images. 🙂' }
    ] },
    { match: /solve|equation|step/i, answers: [
      { model: 'demo-small-v1', steps: true, content: 'Subtract 3 from both sides: 2x = 8.\n\n' +
        'Divide both sides by 2: x = 3.\n   \nCheck: 2 · 3 + 3 = 9, so x = 3 is right.' },
      { model: 'demo-large-v1', steps: true, content: 'Subtract 3 from both sides: 2x = 8.\n' +
        'Divide both sides by 2: x = 4.\nCheck: 2 · 4 + 3 = 11 ✓' }
    ] }
  );
  var FALLBACK = [
    { model: 'demo-small-v1', content: 'I am a demo assistant and only know a few canned answers. Try one of the suggested questions below.' },
    { model: 'demo-large-v1', content: 'This demo has no real model behind it. Ask about the capital of France, recursion, a haiku about autumn or reversing a list in Python.' }
  ];
  var SUGGESTIONS = ['What is the capital of France?', 'Explain recursion in one sentence.',
    'Write a haiku about autumn.', 'How do I reverse a list in Python?', 'How do emoji work in Unicode?',
    'Solve 2x + 3 = 11 step by step.'];

  function cannedFor(prompt) {
    for (var i = 0; i < CANNED.length; i++) if (CANNED[i].match.test(prompt)) return CANNED[i].answers;
    return FALLBACK;
  }

  // --- settings
  function load(k) { try { return JSON.parse(localStorage.getItem(k)); } catch (e) { return null; } }
  function store(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode */ } }

  var settings = load(LS_SETTINGS) || {};
  var params = new URLSearchParams(location.search);
  ['endpoint', 'key', 'user'].forEach(function (p) { if (params.get(p)) settings[p] = params.get(p); });
  if (!settings.endpoint) settings.endpoint = location.origin;
  if (!settings.user) settings.user = 'demo-' + FD.uuid().slice(0, 8);
  store(LS_SETTINGS, settings);
  if (params.has('key')) { // keep the key out of the address bar and history
    params.delete('key');
    var q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
  }

  var chat = load(LS_CHAT);
  if (!chat || !Array.isArray(chat.turns)) chat = newChat();
  function newChat() { return { id: 'demo-' + FD.uuid(), turns: [] }; }
  function saveChat() { store(LS_CHAT, chat); }

  var $ = function (id) { return document.getElementById(id); };

  // --- what was sent (every queue event of the widget)
  function describe(info) {
    var ev = info.event || {};
    if (info.op === 'messages') return 'turns (' + ((ev.messages || []).length) + ' messages)';
    if (info.op === 'delete') return 'retraction of ' + info.id.slice(0, 8);
    if (info.op === 'consent') return 'opt-out of ' + ev.user + ' from training use';
    if (info.op === 'batch') {
      var evs = ev.events || [];
      if (info.item && evs[info.item.index]) evs = [evs[info.item.index]]; // the one refused
      return 'signals: ' + evs.map(function (e) {
        return e.signal + (e.signal === 'dwell' ? ' ' + (e.value / 1000).toFixed(1) + ' s' : '') +
          ' on ' + String(e.message_id).slice(0, 8);
      }).join(', ');
    }
    var what = ev.kind;
    if (ev.kind === 'reaction') what = 'reaction ' + ev.emoji;
    if (ev.kind === 'rating') what = ev.value > 0 ? 'thumbs up' : 'thumbs down';
    if (ev.kind === 'comparison') what = 'comparison (' + ev.outcome + ')';
    if (ev.kind === 'span') what = 'passage [' + ev.label + '] ' + ev.start + '–' + ev.end + ' “' + ev.quote + '”';
    if (ev.kind === 'step') what = 'step ' + (ev.step + 1) + ' ' + ({ 1: 'good', 0: 'neutral', '-1': 'bad' })[ev.value];
    if (ev.tags) what += ' [' + ev.tags.join(', ') + ']';
    if (ev.comment) what += ' “' + ev.comment + '”';
    return what + ' on ' + String(ev.message_id).slice(0, 8);
  }
  function log(info) {
    var li = document.createElement('li');
    li.className = 'log-' + info.type;
    var verb = { queued: 'queued', delivered: 'delivered', retrying: 'will retry', failed: 'FAILED' }[info.type] || info.type;
    var extra = info.type === 'delivered' ? ' (' + info.status + (info.duplicate ? ', duplicate' : '') + ')'
      : info.type === 'retrying' ? ' (' + (info.status || 'network error') + ', in ' + Math.round(info.delayMs / 1000) + ' s)'
      : info.type === 'failed' ? ' (' + info.status + (info.error && info.error.code ? ' ' + info.error.code : '') + ')' : '';
    li.textContent = new Date().toLocaleTimeString() + ' ' + verb + ': ' + describe(info) + extra;
    var ol = $('log');
    ol.insertBefore(li, ol.firstChild);
    while (ol.children.length > 40) ol.removeChild(ol.lastChild);
    updateQueue();
  }
  function updateQueue() {
    var n = FD.pending();
    $('queue-status').textContent = n ? n + ' waiting to be sent' : 'Everything delivered';
  }
  FD.configure({ onEvent: log, onError: log });

  // --- conversation
  function logTurns(msgs) { FD.logMessages(msgs, { endpoint: settings.endpoint, key: settings.key }); }

  function ask(prompt) {
    prompt = prompt.trim();
    if (!prompt || !settings.key) return;
    var prev = chat.turns[chat.turns.length - 1];
    var parentId = prev ? prev.answers[prev.answers.length - 1].id : null;
    var alt = cannedFor(prompt)[0];
    var now = new Date().toISOString();
    var turn = { user: { id: FD.uuid(), content: prompt }, parentId: parentId,
                 answers: [{ id: FD.uuid(), content: alt.content, model: alt.model, alt: 0,
                             markdown: !!alt.markdown, steps: !!alt.steps }] };
    var first = chat.turns.length === 0;
    chat.turns.push(turn);
    saveChat();
    var userMsg = { id: turn.user.id, conversation_id: chat.id, parent_id: parentId, role: 'user',
                    content: prompt, created_at: now };
    if (first) userMsg.user = settings.user;
    logTurns([userMsg, { id: turn.answers[0].id, conversation_id: chat.id, parent_id: turn.user.id,
                         role: 'assistant', content: alt.content, model: alt.model, created_at: now }]);
    render();
  }

  function regenerate(turn) {
    var alts = cannedFor(turn.user.content);
    var last = turn.answers[turn.answers.length - 1];
    FD.signal(last.id, 'regenerate'); // the answer the user asked to replace
    var i = (last.alt + 1) % alts.length;
    var ans = { id: FD.uuid(), content: alts[i].content, model: alts[i].model, alt: i,
                markdown: !!alts[i].markdown, steps: !!alts[i].steps };
    turn.answers.push(ans);
    saveChat();
    // a sibling: same parent (the user turn) as the earlier answers
    logTurns([{ id: ans.id, conversation_id: chat.id, parent_id: turn.user.id, role: 'assistant',
                content: ans.content, model: ans.model, created_at: new Date().toISOString() }]);
    render();
  }

  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // The page's own buttons: the widget cannot see them, so they tell it (FeedbackD.signal).
  function answerActions(ans, content) {
    var bar = node('div', 'answer-actions');
    var copy = node('button', 'copy-answer', 'Copy');
    copy.type = 'button';
    copy.setAttribute('aria-label', 'Copy this answer');
    copy.addEventListener('click', function () {
      var done = function () { copy.textContent = 'Copied'; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(content.textContent).then(done, function () { /* denied */ });
      }
      FD.signal(ans.id, 'copy'); // a clipboard write by script fires no copy event
    });
    var share = node('button', 'share-answer', 'Share');
    share.type = 'button';
    share.setAttribute('aria-label', 'Share this answer');
    share.addEventListener('click', function () {
      FD.signal(ans.id, 'share');
      share.textContent = 'Link ready';
    });
    bar.appendChild(copy);
    bar.appendChild(share);
    return bar;
  }

  // A tiny Markdown renderer (paragraphs, "- " lists, **bold**, *italic*, `code`, [text](url),
  // " -- " as an en dash), built with DOM nodes only: the answer text never becomes HTML.
  // Like real renderers it changes the text: the widget maps a selection back to the source.
  function renderMarkdown(box, src) {
    box.textContent = '';
    src.split(/\n[ \t]*\n/).forEach(function (block) {
      var lines = block.split('\n');
      if (lines.every(function (l) { return /^\s*[-*] /.test(l); })) {
        var ul = node('ul');
        lines.forEach(function (l) { var li = node('li'); inline(li, l.replace(/^\s*[-*] /, '')); ul.appendChild(li); });
        box.appendChild(ul);
      } else {
        var p = node('p');
        lines.forEach(function (l, i) { if (i) p.appendChild(node('br')); inline(p, l); });
        box.appendChild(p);
      }
    });
  }
  function inline(parent, text) {
    var re = /\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g, last = 0, m;
    function plain(t) { parent.appendChild(document.createTextNode(t.replace(/ -- /g, ' \u2013 '))); }
    while ((m = re.exec(text))) {
      if (m.index > last) plain(text.slice(last, m.index));
      var e;
      if (m[1] != null) e = node('strong', null, m[1]);
      else if (m[2] != null) e = node('em', null, m[2]);
      else if (m[3] != null) e = node('code', null, m[3]);
      else {
        e = node('a', null, m[4]);
        if (/^https?:\/\//.test(m[5])) e.href = m[5];
        e.rel = 'noopener noreferrer';
      }
      parent.appendChild(e);
      last = re.lastIndex;
    }
    if (last < text.length) plain(text.slice(last));
  }
  function showAnswer(el, ans) {
    if (ans.markdown) { el.classList.add('md'); renderMarkdown(el, ans.content); }
    else el.textContent = ans.content;
  }

  function render() {
    var box = $('chat');
    Array.prototype.forEach.call(box.querySelectorAll('.content'), function (c) {
      if (c.__feedbackd) c.__feedbackd.destroy();
    });
    box.textContent = '';
    var widgetOpts = { endpoint: settings.endpoint, key: settings.key, user: settings.user,
                       conversationId: chat.id };
    chat.turns.forEach(function (turn, ti) {
      var art = node('article', 'turn');
      art.setAttribute('data-turn', String(ti));
      var um = node('div', 'msg user');
      um.setAttribute('data-message-id', turn.user.id);
      um.appendChild(node('div', 'who', 'You'));
      um.appendChild(node('div', 'content', turn.user.content));
      art.appendChild(um);
      var contents = [];
      turn.answers.forEach(function (ans, ai) {
        var m = node('div', 'msg assistant');
        m.setAttribute('data-message-id', ans.id);
        m.setAttribute('data-answer', String(ai + 1));
        var who = 'Assistant · ' + ans.model + (turn.answers.length > 1 ? ' · answer ' + (ai + 1) : '');
        m.appendChild(node('div', 'who', who));
        var c = node('div', 'content');
        showAnswer(c, ans);
        m.appendChild(c);
        art.appendChild(m);
        contents.push(c);
        if (settings.key) {
          m.appendChild(answerActions(ans, c));
          var o = Object.assign({ messageId: ans.id }, widgetOpts);
          // the opt-out link once, under the newest answer
          o.optOutLink = ti === chat.turns.length - 1 && ai === turn.answers.length - 1;
          o.renderEdited = function (el, text) { ans.content = text; ans.edited = true; showAnswer(el, ans); saveChat(); };
          // offsets of marked passages count in the answer's source text, not in what is shown
          o.getContent = function () { return ans.content; };
          o.steps = !!ans.steps;
          FD.attach(c, o);
        }
      });
      if (turn.answers.length > 1 && settings.key) {
        var na = turn.answers.length;
        var cmp = node('div', 'compare');
        art.appendChild(cmp);
        FD.compare(contents[na - 2].parentNode, contents[na - 1].parentNode, Object.assign({
          messageIds: [turn.answers[na - 2].id, turn.answers[na - 1].id], container: cmp,
          labels: { compareTitle: 'Which is better, answer ' + (na - 1) + ' or ' + na + '?',
                    a: 'Answer ' + (na - 1) + ' is better', b: 'Answer ' + na + ' is better' }
        }, widgetOpts));
      }
      var acts = node('div', 'turn-actions');
      var regen = node('button', 'regenerate', 'Regenerate');
      regen.type = 'button';
      regen.setAttribute('aria-label', 'Regenerate the answer to “' + turn.user.content + '”');
      regen.addEventListener('click', function () { regenerate(turn); });
      acts.appendChild(regen);
      art.appendChild(acts);
      box.appendChild(art);
    });
    var hasKey = !!settings.key;
    $('no-key').hidden = hasKey;
    $('prompt').disabled = !hasKey;
    $('send').disabled = !hasKey;
    if (!hasKey) $('settings').open = true;
    updateQueue();
  }

  // --- wiring
  function init() {
    $('origin').textContent = location.origin;
    $('set-endpoint').value = settings.endpoint;
    $('set-key').value = settings.key || '';
    $('set-user').value = settings.user;
    $('settings-form').addEventListener('submit', function (e) {
      e.preventDefault();
      settings.endpoint = $('set-endpoint').value.trim();
      settings.key = $('set-key').value.trim();
      settings.user = $('set-user').value.trim();
      store(LS_SETTINGS, settings);
      $('settings').open = false;
      render();
    });
    $('new-chat').addEventListener('click', function () {
      chat = newChat();
      saveChat();
      render();
      $('prompt').focus();
    });
    $('composer').addEventListener('submit', function (e) {
      e.preventDefault();
      ask($('prompt').value);
      $('prompt').value = '';
    });
    SUGGESTIONS.forEach(function (s) {
      var b = node('button', 'suggestion', s);
      b.type = 'button';
      b.addEventListener('click', function () { ask(s); });
      $('suggestions').appendChild(b);
    });
    render();
    setInterval(updateQueue, 2000);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
