/* signals.js — the dashboard's panels for the feedback beyond ratings (docs/api.md
 * "Reactions", "Implicit signals", "Span feedback", "Stats"):
 *   - Reactions: counts per emoji name, the positive-reaction rate with its interval per model
 *   - Signals: copy / regenerate / detected-complaint counts and rates over the assistant
 *     messages logged in the range, per model and per time bucket, and every signal's count
 *   - Span labels: the most frequent labels per model, the count per label
 *   - Recent answers with their labelled passages highlighted (GET /v1/feedback?kind=span; the
 *     items carry the answer's text as original_content)
 * All from the one GET /v1/stats?group_by=model the page already makes, plus the span list.
 * Registered with dashboard.js (window.feedbackdDashboard.addPanel), drawn with its helpers.
 *
 * Answers, labels, emoji names and model names come from end users and API clients: they are
 * only ever inserted with textContent / createTextNode, never as HTML. */
'use strict';

(function () {
  var D = window.feedbackdDashboard;
  if (!D || !D.addPanel) return; /* dashboard.js did not load: it says so itself */
  var K = D.kit;
  var $ = K.$;

  var SPAN_SCAN = 200;     /* recent span events read for the answers list */
  var SPAN_ANSWERS = 10;   /* answers shown */
  var TOP_LABELS = 3;      /* labels named per model */
  /* the three signals the panel follows per model and over time (docs/api.md "Implicit signals") */
  var KEY_SIGNALS = [
    { name: 'copy', count: 'Copies', rate: 'Copy rate', color: '#1a7f37' },
    { name: 'regenerate', count: 'Regenerations', rate: 'Regenerate rate', color: '#bf8700' },
    { name: 'detected_complaint', count: 'Detected complaints', rate: 'Complaint rate', color: '#cf222e' }
  ];
  var PALETTE = ['#cf222e', '#bf8700', '#8250df', '#0969da', '#1a7f37', '#bc4c00', '#6e7781', '#1b7c83',
    '#a475f9', '#d4a72c'];

  function isCounts(o) { return o !== null && typeof o === 'object' && !Array.isArray(o); }
  function sum(counts) {
    var n = 0;
    Object.keys(counts || {}).forEach(function (k) { n += Number(counts[k]) || 0; });
    return n;
  }
  /* count / answers, or null when no answer was logged */
  function rateOf(count, answers) {
    return (answers === null || answers === undefined || !(answers > 0)) ? null : (Number(count) || 0) / answers;
  }
  /* names of a {name: count} object, most frequent first, then by name (byte order) */
  function byCount(counts) {
    return Object.keys(counts).sort(function (a, b) {
      return (counts[b] - counts[a]) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }
  function modelGroups(stats, f) {
    var groups = Array.isArray(stats.groups) ? stats.groups.slice() : [];
    if (f.model) groups = groups.filter(function (g) { return g.key === f.model; });
    return groups;
  }
  function note(id, text) {
    var el = $(id);
    el.hidden = !text;
    el.textContent = text || '';
  }
  function showCharts(ids, boxId, visible) {
    $(boxId).hidden = !visible;
    if (!visible) ids.forEach(K.dropChart);
  }

  /* ---- reactions ---- */
  function renderReactions(stats, f) {
    var t = (stats && stats.totals) || {};
    var counts = isCounts(t.reactions) ? t.reactions : null;
    var byEmoji = K.clearBody('reaction-counts-table');
    var byModel = K.clearBody('reaction-models-table');
    var total = counts ? sum(counts) : null;
    $('total-reactions').textContent = K.fmtInt(total);
    $('total-reaction-rate').textContent = K.fmtPct(counts ? t.reaction_positive_rate : null);
    $('total-reaction-ci').textContent = K.fmtCI(counts ? t.reaction_positive_rate_ci95 : null);
    if (!counts || !total) {
      var why = !stats ? 'Reactions could not be loaded.' : !counts
        ? 'This server’s /v1/stats does not count reactions.' : 'No reactions in this range.';
      note('reactions-note', why);
      showCharts(['reaction-counts-chart', 'reaction-rate-chart'], 'reactions-charts', false);
      K.emptyRow(byEmoji, 3, why);
      K.emptyRow(byModel, 5, why);
      return;
    }
    note('reactions-note', null);
    showCharts([], 'reactions-charts', true);
    /* every name of the project's set, in the set's order as the server sends it */
    var names = Object.keys(counts);
    names.forEach(function (name) {
      var tr = document.createElement('tr');
      tr.dataset.emoji = name;
      K.cell(tr, name, true);
      K.cell(tr, K.fmtInt(counts[name]));
      K.cell(tr, K.fmtPct(counts[name] / total));
      byEmoji.appendChild(tr);
    });
    var groups = modelGroups(stats, f).filter(function (g) { return isCounts(g.reactions) && sum(g.reactions) > 0; });
    groups.sort(function (a, b) { return sum(b.reactions) - sum(a.reactions) || K.modelName(a.key).localeCompare(K.modelName(b.key)); });
    groups.forEach(function (g) {
      var tr = document.createElement('tr');
      tr.dataset.model = g.key === null ? '' : g.key;
      K.cell(tr, K.modelName(g.key), true);
      K.cell(tr, K.fmtInt(sum(g.reactions)));
      K.cell(tr, K.fmtPct(g.reaction_positive_rate));
      K.cell(tr, K.fmtCI(g.reaction_positive_rate_ci95));
      var top = byCount(g.reactions);
      var most = top.filter(function (n) { return g.reactions[n] === g.reactions[top[0]]; });
      K.cell(tr, most.join(', ') + ' (' + K.fmtInt(g.reactions[top[0]]) + ')');
      byModel.appendChild(tr);
    });
    if (!groups.length) K.emptyRow(byModel, 5, 'No reactions on messages of a logged model in this range.');
    K.drawChart('reaction-counts-chart', {
      type: 'bar',
      data: { labels: names, datasets: [{ label: 'Reactions', data: names.map(function (n) { return counts[n]; }), backgroundColor: K.COLORS.edits }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    K.drawRateChart('reaction-rate-chart', groups.map(function (g) { return K.modelName(g.key); }),
      groups.map(function (g) { return g.reaction_positive_rate; }),
      groups.map(function (g) { return g.reaction_positive_rate_ci95; }), 'Positive-reaction rate (%)');
  }

  /* ---- signals ---- */
  function signalRow(tb, label, answers, signals, data) {
    var tr = document.createElement('tr');
    Object.keys(data).forEach(function (k) { tr.dataset[k] = data[k]; });
    K.cell(tr, label, true);
    K.cell(tr, K.fmtInt(answers));
    KEY_SIGNALS.forEach(function (s) {
      K.cell(tr, K.fmtInt((signals && signals[s.name]) || 0));
      K.cell(tr, K.fmtPct(rateOf(signals && signals[s.name], answers)));
    });
    tb.appendChild(tr);
  }
  function renderSignals(stats, f) {
    var t = (stats && stats.totals) || {};
    var signals = isCounts(t.signals) ? t.signals : null;
    var answers = typeof t.assistant_messages === 'number' ? t.assistant_messages : null;
    var byModel = K.clearBody('signal-models-table');
    var overTime = K.clearBody('signal-series-table');
    var every = K.clearBody('signal-counts-table');
    $('signal-bucket').textContent = f.bucket;
    $('signal-answers').textContent = K.fmtInt(answers);
    if (!signals || (!sum(signals) && !answers)) {
      var why = !stats ? 'Signals could not be loaded.' : !signals
        ? 'This server’s /v1/stats does not count signals.' : 'No logged answers and no signals in this range.';
      note('signals-note', why);
      showCharts(['signal-rates-chart'], 'signal-rates-box', false);
      [[byModel, 8], [overTime, 8], [every, 3]].forEach(function (x) { K.emptyRow(x[0], x[1], why); });
      return;
    }
    note('signals-note', answers ? null : 'No assistant messages were logged in this range: the rates need them (POST /v1/messages).');
    signalRow(byModel, 'All models', answers, signals, { all: 'true' });
    var groups = modelGroups(stats, f).filter(function (g) {
      return (isCounts(g.signals) && sum(g.signals) > 0) || g.assistant_messages > 0;
    });
    groups.sort(function (a, b) { return (b.assistant_messages || 0) - (a.assistant_messages || 0) || K.modelName(a.key).localeCompare(K.modelName(b.key)); });
    groups.forEach(function (g) {
      signalRow(byModel, K.modelName(g.key), typeof g.assistant_messages === 'number' ? g.assistant_messages : null,
        isCounts(g.signals) ? g.signals : {}, { model: g.key === null ? '' : g.key });
    });
    Object.keys(signals).forEach(function (name) {
      var tr = document.createElement('tr');
      tr.dataset.signal = name;
      K.cell(tr, name, true);
      K.cell(tr, K.fmtInt(signals[name]));
      K.cell(tr, K.fmtPct(rateOf(signals[name], answers)));
      every.appendChild(tr);
    });
    var rows = K.denseSeries(Array.isArray(stats.series) ? stats.series : [], f.since, f.until, f.bucket);
    rows.forEach(function (s) {
      signalRow(overTime, K.fmtBucket(s.t, f.bucket), s.assistant_messages || 0, isCounts(s.signals) ? s.signals : {}, { t: s.t });
    });
    if (!rows.length) K.emptyRow(overTime, 8, 'No buckets in this range.');
    showCharts([], 'signal-rates-box', true);
    K.drawChart('signal-rates-chart', {
      type: 'line',
      data: {
        labels: rows.map(function (s) { return K.fmtBucket(s.t, f.bucket); }),
        datasets: KEY_SIGNALS.map(function (sig) {
          return {
            label: sig.rate + ' (%)', borderColor: sig.color, backgroundColor: sig.color, borderWidth: 2,
            pointRadius: rows.length > 60 ? 0 : 3, spanGaps: false, fill: false,
            data: rows.map(function (s) {
              return K.percentOrNull(rateOf(isCounts(s.signals) ? s.signals[sig.name] : 0, s.assistant_messages || 0));
            })
          };
        })
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + ' %'; } } } }
      }
    });
  }

  /* ---- span labels ---- */
  function renderSpanLabels(stats, f) {
    var t = (stats && stats.totals) || {};
    var counts = isCounts(t.spans) ? t.spans : null;
    var byModel = K.clearBody('span-models-table');
    var byLabel = K.clearBody('span-labels-table');
    if (!counts || !sum(counts)) {
      var why = !stats ? 'Span labels could not be loaded.' : !counts
        ? 'This server’s /v1/stats does not count span labels.' : 'No labelled passages in this range.';
      note('spans-note', why);
      showCharts(['spans-chart'], 'spans-box', false);
      K.emptyRow(byModel, 3, why);
      K.emptyRow(byLabel, 2, why);
      return;
    }
    note('spans-note', null);
    var labels = byCount(counts).filter(function (l) { return counts[l] > 0; });
    labels.forEach(function (l) {
      var tr = document.createElement('tr');
      tr.dataset.label = l;
      K.cell(tr, l, true);
      K.cell(tr, K.fmtInt(counts[l]));
      byLabel.appendChild(tr);
    });
    var groups = modelGroups(stats, f).filter(function (g) { return isCounts(g.spans) && sum(g.spans) > 0; });
    groups.sort(function (a, b) { return sum(b.spans) - sum(a.spans) || K.modelName(a.key).localeCompare(K.modelName(b.key)); });
    groups.forEach(function (g) {
      var tr = document.createElement('tr');
      tr.dataset.model = g.key === null ? '' : g.key;
      K.cell(tr, K.modelName(g.key), true);
      K.cell(tr, K.fmtInt(sum(g.spans)));
      var top = byCount(g.spans).filter(function (l) { return g.spans[l] > 0; }).slice(0, TOP_LABELS);
      var td = K.cell(tr, '');
      td.className = 'labels';
      top.forEach(function (l, i) {
        if (i) td.appendChild(document.createTextNode(' · '));
        var b = document.createElement('span');
        b.className = 'label-count';
        b.dataset.label = l;
        b.textContent = l + ' ' + K.fmtInt(g.spans[l]);
        td.appendChild(b);
      });
      byModel.appendChild(tr);
    });
    if (!groups.length) K.emptyRow(byModel, 3, 'No labelled passages on messages of a logged model in this range.');
    showCharts([], 'spans-box', true);
    $('spans-box').style.height = Math.max(160, 34 * groups.length + 100) + 'px';
    K.drawChart('spans-chart', {
      type: 'bar',
      data: {
        labels: groups.map(function (g) { return K.modelName(g.key); }),
        datasets: labels.map(function (l, i) {
          return { label: l, backgroundColor: PALETTE[i % PALETTE.length], barPercentage: 0.6,
            data: groups.map(function (g) { return g.spans[l] || 0; }) };
        })
      },
      options: {
        indexAxis: 'y',
        interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Labelled passages' } },
          y: { stacked: true } }
      }
    });
  }

  /* ---- recent answers with their labelled passages ---- */
  function fetchSpans(f, key) {
    return K.getJSON('/v1/feedback' + K.query({ kind: 'span', limit: SPAN_SCAN, since: f.since, until: f.until, model: f.model }), key)
      .then(function (r) { return Array.isArray(r.items) ? r.items : []; });
  }

  /* The counting span events (docs/api.md "Span feedback"): not retracted, and per rater only the
   * latest (created_at, then arrival) per (message, start, end, label); events without a user
   * each count. Returns answers, newest labelled first: {id, model, content, at, spans: [{start,
   * end, label, n, quote}]}. */
  function answersOf(items) {
    var sorted = items.filter(function (it) { return it && it.kind === 'span' && typeof it.message_id === 'string'; })
      .sort(function (a, b) {
        return (Date.parse(b.created_at) || 0) - (Date.parse(a.created_at) || 0) || K.byNewest(a, b);
      });
    var seen = {};
    var counting = sorted.filter(function (it) {
      if (!it.user) return !it.retracted_at;
      var slot = JSON.stringify([it.user, it.message_id, it.start, it.end, it.label]);
      if (seen[slot]) return false;
      seen[slot] = true;
      return !it.retracted_at;
    });
    var byMessage = {};
    var order = [];
    counting.slice().sort(K.byNewest).forEach(function (it) {
      var a = byMessage[it.message_id];
      if (!a) {
        a = byMessage[it.message_id] = { id: it.message_id, model: it.model, content: null, at: it.received_at, spans: {} };
        order.push(a);
      }
      if (typeof it.original_content === 'string') a.content = it.original_content;
      if (!a.model && it.model) a.model = it.model;
      var k = JSON.stringify([it.start, it.end, it.label]);
      var s = a.spans[k] || (a.spans[k] = { start: it.start, end: it.end, label: String(it.label), n: 0, quote: null });
      s.n++;
      if (typeof it.quote === 'string' && s.quote === null) s.quote = it.quote;
    });
    return order.map(function (a) {
      a.spans = Object.keys(a.spans).map(function (k) { return a.spans[k]; }).sort(function (x, y) {
        return x.start - y.start || x.end - y.end || (x.label < y.label ? -1 : x.label > y.label ? 1 : 0);
      });
      return a;
    });
  }

  function fits(s, length) {
    return Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start < s.end && s.end <= length;
  }

  /* The answer's text with every passage in a <mark>: offsets are Unicode code points
   * (Array.from splits a string into them); overlapping passages split into segments, each
   * marked with the labels of every passage covering it. */
  function highlighted(content, spans) {
    var cps = Array.from(content);
    var cuts = [0, cps.length];
    spans.forEach(function (s) { cuts.push(s.start, s.end); });
    cuts = cuts.filter(function (c, i) { return cuts.indexOf(c) === i; }).sort(function (a, b) { return a - b; });
    var box = document.createElement('div');
    box.className = 'text answer-text';
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1];
      var text = cps.slice(a, b).join('');
      var over = spans.filter(function (s) { return s.start <= a && s.end >= b; });
      if (!over.length) { box.appendChild(document.createTextNode(text)); continue; }
      var mark = document.createElement('mark');
      /* a passage inside another one is marked darker */
      mark.className = over.length > 1 ? 'span-mark multi' : 'span-mark';
      var names = over.map(function (s) { return s.label; }).filter(function (l, j, all) { return all.indexOf(l) === j; });
      mark.title = names.join(', ');
      mark.dataset.start = String(a);
      mark.dataset.end = String(b);
      mark.textContent = text;
      box.appendChild(mark);
    }
    return box;
  }

  function renderSpanAnswers(fetched) {
    var ol = $('span-answers');
    ol.textContent = '';
    if (fetched.error) {
      K.feedNote(ol, 'Labelled answers could not be loaded.');
      return K.notProvided(fetched.error) ? null : K.explain(fetched.error, 'Loading the labelled passages', 'read');
    }
    answersOf(fetched.value || []).slice(0, SPAN_ANSWERS).forEach(function (a) {
      var li = document.createElement('li');
      li.className = 'item span-answer';
      li.dataset.messageId = a.id;
      var meta = document.createElement('div');
      meta.className = 'meta';
      var time = document.createElement('time');
      time.dateTime = a.at || '';
      time.textContent = K.fmtTime(a.at);
      meta.appendChild(time);
      [['model', a.model], ['message', a.id]].forEach(function (x) {
        if (!x[1]) return;
        meta.appendChild(document.createTextNode(' · ' + x[0] + ' '));
        var c = document.createElement('code');
        c.textContent = x[1];
        meta.appendChild(c);
      });
      li.appendChild(meta);
      var known = typeof a.content === 'string';
      var length = known ? Array.from(a.content).length : 0;
      var ok = known ? a.spans.filter(function (s) { return fits(s, length); }) : [];
      if (known) li.appendChild(highlighted(a.content, ok));
      else {
        var p = document.createElement('p');
        p.className = 'muted';
        p.textContent = 'The answer has not been logged (yet); the passages are shown by their quotes where the rater sent one.';
        li.appendChild(p);
      }
      var list = document.createElement('ul');
      list.className = 'span-list';
      a.spans.forEach(function (s) {
        var item = document.createElement('li');
        item.dataset.start = String(s.start);
        item.dataset.end = String(s.end);
        item.dataset.label = s.label;
        var label = document.createElement('span');
        label.className = 'badge span-label';
        label.textContent = s.label;
        item.appendChild(label);
        var text = known && fits(s, length) ? Array.from(a.content).slice(s.start, s.end).join('') : s.quote;
        if (text !== null && text !== undefined) {
          item.appendChild(document.createTextNode(' '));
          var q = document.createElement('q');
          q.textContent = text;
          item.appendChild(q);
        }
        var where = ' (characters ' + s.start + '–' + s.end + (s.n > 1 ? ', ' + s.n + ' raters' : '') + ')';
        if (known && !fits(s, length)) where += ' — does not fit the logged answer';
        item.appendChild(document.createTextNode(where));
        list.appendChild(item);
      });
      li.appendChild(list);
      ol.appendChild(li);
    });
    if (!ol.children.length) K.feedNote(ol, 'No labelled passages in this range.');
    return null;
  }

  D.addPanel({
    charts: ['reaction-counts-chart', 'reaction-rate-chart', 'signal-rates-chart', 'spans-chart'],
    fetch: fetchSpans,
    render: function (stats, f, fetched) {
      renderReactions(stats, f);
      renderSignals(stats, f);
      renderSpanLabels(stats, f);
      return renderSpanAnswers(fetched);
    }
  });
})();
