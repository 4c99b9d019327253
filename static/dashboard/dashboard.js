/* dashboard.js — the feedbackd ops dashboard (static/dashboard/index.html).
 *
 * Reads GET /v1/stats (totals, series, per-model groups, top tags), GET /v1/feedback (latest
 * comments and edits), GET /v1/leaderboard (Bradley–Terry ratings from A/B picks) and
 * GET /v1/agreement (Krippendorff's alpha, per-rater agreement) with a read key kept in
 * localStorage, draws the charts with the vendored
 * Chart.js (window.Chart; every chart also has a table with its numbers) and downloads
 * GET /v1/export with a separate export key. No framework, no build step.
 *
 * More panels live in their own files (signals.js: reactions, signals, span labels and the
 * recent answers with their labelled passages). They register with
 * window.feedbackdDashboard.addPanel({charts, fetch, render}) before init runs (DOMContentLoaded
 * fires after every deferred script) and use the helpers in window.feedbackdDashboard.kit.
 *
 * User text (comments, edits, tags, model names) is only ever inserted with textContent /
 * createTextNode, never as HTML: it comes from end users of a chat frontend. */
'use strict';

(function () {
  var READ_KEY = 'feedbackd.dashboard.readKey';
  var EXPORT_KEY = 'feedbackd.dashboard.exportKey';
  var HOUR = 3600 * 1000;
  var DAY = 24 * HOUR;
  var RANGES = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };
  var BUCKET_MS = { hour: HOUR, day: DAY, week: 7 * DAY };
  var FEED_LIMIT = 10;        /* items shown in "latest comments" / "latest edits" */
  var RATING_SCAN = 100;      /* recent ratings scanned for ones that carry a comment */
  var TOP_TAGS = 15;
  var DIFF_MAX_CELLS = 1500000; /* LCS table cap; larger middles are shown as replaced */

  var COLORS = {
    events: '#5b6470', up: '#1a7f37', down: '#cf222e', edits: '#0969da', comments: '#bf8700',
    rate: '#54aeff', ci: 'rgba(110, 119, 129, 0.75)', ciLine: '#1f2328', tag: '#cf222e',
    rating: '#0969da', ratingCi: 'rgba(84, 174, 255, 0.45)', wins: '#1a7f37', ties: '#8c959f',
    bothBad: '#bf8700', losses: '#cf222e'
  };
  /* Krippendorff's own thresholds for drawing conclusions from coded data. */
  var ALPHA_RELIABLE = 0.8;
  var ALPHA_TENTATIVE = 0.667;

  var state = {
    key: null,
    models: [],           /* every model name seen in a group_by=model answer */
    statsHasModel: null,  /* null: not yet known; false: /v1/stats rejected ?model= */
    generation: 0         /* discards answers of superseded loads */
  };

  function $(id) { return document.getElementById(id); }

  /* Panels of other files: {charts: [canvas ids], fetch(f, key) -> promise (optional),
   * render(stats, f, fetched) where stats is null when /v1/stats failed and fetched is
   * {value} or {error} of fetch}. */
  var panels = [];

  /* ---- storage (localStorage may be disabled: then keys live for the page only) ---- */
  var memoryStore = {};
  function storeGet(name) {
    try { return window.localStorage.getItem(name); } catch (e) { return memoryStore[name] || null; }
  }
  function storeSet(name, value) {
    try { window.localStorage.setItem(name, value); } catch (e) { memoryStore[name] = value; }
  }
  function storeDel(name) {
    try { window.localStorage.removeItem(name); } catch (e) { /* ignore */ }
    delete memoryStore[name];
  }

  /* ---- formatting ---- */
  function fmtInt(n) {
    return (n === null || n === undefined || !isFinite(n)) ? '—' : Number(n).toLocaleString('en-US');
  }
  function fmtPct(x) {
    return (x === null || x === undefined || !isFinite(x)) ? '—' : (x * 100).toFixed(1) + ' %';
  }
  function fmtCI(ci) {
    if (!Array.isArray(ci) || ci.length !== 2 || ci[0] === null || ci[1] === null) return '—';
    return '[' + fmtPct(ci[0]) + ', ' + fmtPct(ci[1]) + ']';
  }
  /* RFC 3339 without milliseconds: the plainest form any server parses. */
  function isoSeconds(d) { return d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }
  function fmtTime(s) {
    var d = new Date(s);
    if (isNaN(d.getTime())) return String(s || '');
    return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }
  function fmtBucket(t, bucket) {
    var d = new Date(t);
    if (isNaN(d.getTime())) return String(t);
    var iso = d.toISOString();
    if (bucket === 'hour') return iso.slice(5, 10) + ' ' + iso.slice(11, 16);
    if (bucket === 'week') return 'week of ' + iso.slice(0, 10);
    return iso.slice(0, 10);
  }

  /* ---- alerts and status ---- */
  function showAlert(text) {
    var el = $('alert');
    el.textContent = text;
    el.hidden = false;
  }
  function hideAlert() {
    var el = $('alert');
    el.hidden = true;
    el.textContent = '';
  }

  /* ---- HTTP ---- */
  function ApiError(status, code, message, field, retryAfter) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.field = field;
    this.retryAfter = retryAfter;
  }

  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null && params[k] !== '') q.set(k, params[k]);
    });
    var s = q.toString();
    return s ? '?' + s : '';
  }

  /* fetch with the key; resolves to the Response when 2xx, else rejects with an ApiError built
   * from the contract's {"error": {code, message, field}} body. */
  function request(path, key) {
    return fetch(path, {
      headers: { 'Authorization': 'Bearer ' + key, 'Accept': 'application/json' },
      cache: 'no-store',
      credentials: 'omit'
    }).then(function (res) {
      if (res.ok) return res;
      return res.text().then(function (text) {
        var err = {};
        try { err = (JSON.parse(text) || {}).error || {}; } catch (e) { /* not JSON */ }
        throw new ApiError(res.status, err.code || ('http_' + res.status),
          err.message || res.statusText || 'request failed', err.field || null,
          res.headers.get('Retry-After'));
      });
    }, function (e) {
      throw new ApiError(0, 'network', 'feedbackd did not answer (' + (e && e.message || e) + ')', null, null);
    });
  }
  function getJSON(path, key) {
    return request(path, key).then(function (res) { return res.json(); });
  }

  /* A sentence for the alert region: what happened and what to do. */
  function explain(err, what, scope) {
    if (!(err instanceof ApiError)) return what + ' failed: ' + (err && err.message || err);
    var said = err.message ? ' The server said: “' + err.message + '”' : '';
    switch (err.status) {
      case 0: return what + ' failed: ' + err.message + '. Is feedbackd running?';
      case 401: return 'The ' + scope + ' key was not accepted (401 unauthorized): it is unknown or has been revoked. Enter a valid key.' + said;
      case 403: return 'This key may not do that (403 forbidden): it lacks the “' + scope + '” scope. Use a key with the ' + scope + ' (or admin) scope.' + said;
      case 429: return what + ' was rate limited (429); try again' + (err.retryAfter ? ' in ' + err.retryAfter + ' s' : ' shortly') + '.';
      case 503: return 'feedbackd is unavailable (503): the database may be unreachable; try again' + (err.retryAfter ? ' in ' + err.retryAfter + ' s' : ' shortly') + '.';
      default: return what + ' failed (' + err.status + ' ' + err.code + (err.field ? ', ' + err.field : '') + ').' + said;
    }
  }

  /* ---- filters ---- */
  function selectedRange() {
    var r = document.querySelector('input[name="range"]:checked');
    return r ? r.value : '30d';
  }
  function parseUtcInput(value) {
    if (!value) return null;
    var d = new Date(value + (value.length === 16 ? ':00Z' : 'Z'));
    return isNaN(d.getTime()) ? null : d;
  }
  function readFilters() {
    var range = selectedRange();
    var until = new Date();
    var since;
    if (range === 'custom') {
      since = parseUtcInput($('since').value);
      if (!since) return { error: 'Enter the start of the custom time range (“Since”).' };
      if ($('until').value) {
        until = parseUtcInput($('until').value);
        if (!until) return { error: 'The end of the custom time range (“Until”) is not a valid time.' };
      }
      if (until <= since) return { error: 'The custom time range ends before it starts.' };
    } else {
      since = new Date(until.getTime() - RANGES[range]);
    }
    return {
      range: range, since: isoSeconds(since), until: isoSeconds(until),
      bucket: $('bucket').value, model: $('model').value
    };
  }

  /* The view (not the key) lives in the URL fragment so a reload or a bookmark keeps it. */
  function saveViewToHash(f) {
    var p = new URLSearchParams();
    p.set('range', f.range);
    if (f.range === 'custom') {
      p.set('since', $('since').value);
      if ($('until').value) p.set('until', $('until').value);
    }
    p.set('bucket', f.bucket);
    if (f.model) p.set('model', f.model);
    var hash = '#' + p.toString();
    if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
  }
  function loadViewFromHash() {
    var p = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    var range = p.get('range');
    if (range && (RANGES[range] || range === 'custom')) {
      var radio = document.querySelector('input[name="range"][value="' + range + '"]');
      if (radio) radio.checked = true;
    }
    if (p.get('since')) $('since').value = p.get('since');
    if (p.get('until')) $('until').value = p.get('until');
    if (BUCKET_MS[p.get('bucket')]) $('bucket').value = p.get('bucket');
    if (p.get('model')) setModelOptions([p.get('model')], p.get('model'));
    $('custom-range').hidden = selectedRange() !== 'custom';
  }

  function setModelOptions(models, selected) {
    models.forEach(function (m) { if (state.models.indexOf(m) < 0) state.models.push(m); });
    state.models.sort();
    var sel = $('model');
    var current = selected !== undefined ? selected : sel.value;
    while (sel.options.length > 1) sel.remove(1);
    state.models.forEach(function (m) {
      var o = document.createElement('option');
      o.value = m;
      o.textContent = m;
      sel.appendChild(o);
    });
    sel.value = current;
  }

  /* ---- series: fill the buckets the server left out with zeros so lines do not lie ---- */
  function bucketStart(ms, bucket) {
    var d = new Date(ms);
    if (bucket === 'hour') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    var day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    if (bucket === 'day') return day;
    return day - ((d.getUTCDay() + 6) % 7) * DAY; /* ISO weeks start on Monday (date_trunc) */
  }
  function denseSeries(series, since, until, bucket) {
    var step = BUCKET_MS[bucket];
    var byT = {};
    var aligned = true;
    series.forEach(function (s) {
      var ms = Date.parse(s.t);
      if (isNaN(ms) || bucketStart(ms, bucket) !== ms) aligned = false;
      byT[ms] = s;
    });
    /* A server with another bucket grid: show its series exactly as sent. */
    if (!aligned || !step) return series.slice();
    var first = bucketStart(Date.parse(since), bucket);
    var end = Date.parse(until);
    if (series.length) {
      first = Math.min(first, Date.parse(series[0].t));
      end = Math.max(end, Date.parse(series[series.length - 1].t) + 1);
    }
    if ((end - first) / step > 5000) return series.slice(); /* absurd range: do not invent rows */
    var out = [];
    for (var t = first; t < end; t += step) {
      out.push(byT[t] || { t: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'), events: 0, up: 0, down: 0, edits: 0, comments: 0, filled: true });
    }
    return out;
  }

  /* ---- charts (all optional: without Chart.js the tables still carry every number) ---- */
  function chartReady() { return typeof window.Chart === 'function'; }
  /* Axis text and grid lines follow the page's (light or dark) palette from dashboard.css. */
  function themeCharts() {
    if (!chartReady()) return;
    var css = window.getComputedStyle(document.documentElement);
    var muted = css.getPropertyValue('--muted').trim(), line = css.getPropertyValue('--line').trim();
    if (muted) window.Chart.defaults.color = muted;
    if (line) window.Chart.defaults.borderColor = line;
    var fg = css.getPropertyValue('--fg').trim();
    if (fg) { COLORS.ciLine = fg; }
  }
  function drawChart(canvasId, config) {
    if (!chartReady()) return null;
    var canvas = $(canvasId);
    var old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign({
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: 'bottom' } }
    }, config.options || {});
    return new window.Chart(canvas, config);
  }
  function destroyCharts() {
    if (!chartReady()) return;
    var ids = ['volume-chart', 'models-chart', 'leaderboard-chart', 'battles-chart', 'tags-chart'];
    panels.forEach(function (p) { ids = ids.concat(p.charts || []); });
    ids.forEach(function (id) {
      var c = window.Chart.getChart($(id));
      if (c) c.destroy();
    });
  }

  function cell(tr, text, header) {
    var c = document.createElement(header ? 'th' : 'td');
    if (header) c.scope = 'row';
    c.textContent = text;
    tr.appendChild(c);
    return c;
  }
  function clearBody(tableId) {
    var tb = $(tableId).tBodies[0];
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    return tb;
  }
  function emptyRow(tb, cols, text) {
    var tr = document.createElement('tr');
    var td = document.createElement('td');
    td.colSpan = cols;
    td.className = 'muted';
    td.textContent = text;
    tr.appendChild(td);
    tb.appendChild(tr);
  }

  function renderTotals(t) {
    t = t || {};
    $('total-events').textContent = fmtInt(t.events);
    $('total-ratings').textContent = fmtInt(t.ratings);
    $('total-up').textContent = fmtInt(t.up);
    $('total-down').textContent = fmtInt(t.down);
    $('total-comments').textContent = fmtInt(t.comments);
    $('total-edits').textContent = fmtInt(t.edits);
    $('total-comparisons').textContent = fmtInt(t.comparisons);
    $('total-rate').textContent = fmtPct(t.positive_rate);
    $('total-ci').textContent = fmtCI(t.positive_rate_ci95);
  }

  function renderVolume(stats, f) {
    var rows = denseSeries(Array.isArray(stats.series) ? stats.series : [], f.since, f.until, f.bucket);
    $('volume-bucket').textContent = f.bucket;
    var tb = clearBody('volume-table');
    rows.forEach(function (s) {
      var tr = document.createElement('tr');
      tr.dataset.t = s.t;
      cell(tr, fmtBucket(s.t, f.bucket), true);
      ['events', 'up', 'down', 'edits', 'comments'].forEach(function (k) { cell(tr, fmtInt(s[k] || 0)); });
      tb.appendChild(tr);
    });
    if (!rows.length) emptyRow(tb, 6, 'No events in this range.');
    var labels = rows.map(function (s) { return fmtBucket(s.t, f.bucket); });
    var names = { events: 'All events', up: 'Up', down: 'Down', edits: 'Edits', comments: 'Comments' };
    drawChart('volume-chart', {
      type: 'line',
      data: {
        labels: labels,
        datasets: Object.keys(names).map(function (k) {
          return {
            label: names[k], data: rows.map(function (s) { return s[k] || 0; }),
            borderColor: COLORS[k], backgroundColor: COLORS[k], borderWidth: k === 'events' ? 3 : 2,
            pointRadius: rows.length > 60 ? 0 : 3, cubicInterpolationMode: 'monotone', fill: false
          };
        })
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  function modelName(key) { return key === null || key === undefined || key === '' ? '(no model)' : String(key); }
  /* a rate (0..1) as a percentage rounded to 0.01 for charts, or null */
  function percentOrNull(x) { return (x === null || x === undefined || !isFinite(x)) ? null : Math.round(x * 10000) / 100; }
  /* a Wilson interval as a floating bar [low %, high %], or null */
  function intervalBar(ci) {
    return Array.isArray(ci) && ci.length === 2 && ci[0] !== null && ci[1] !== null ? [percentOrNull(ci[0]), percentOrNull(ci[1])] : null;
  }

  function renderModels(stats, f) {
    var groups = Array.isArray(stats.groups) ? stats.groups.slice() : [];
    if (f.model) groups = groups.filter(function (g) { return g.key === f.model; });
    groups.sort(function (a, b) {
      return (b.ratings || 0) - (a.ratings || 0) || String(a.key).localeCompare(String(b.key));
    });
    var tb = clearBody('models-table');
    groups.forEach(function (g) {
      var tr = document.createElement('tr');
      tr.dataset.model = g.key === null ? '' : g.key;
      cell(tr, modelName(g.key), true);
      cell(tr, fmtInt(g.ratings));
      cell(tr, fmtInt(g.up));
      cell(tr, fmtInt(g.down));
      cell(tr, fmtPct(g.positive_rate));
      cell(tr, fmtCI(g.ci95));
      tb.appendChild(tr);
    });
    if (!groups.length) emptyRow(tb, 6, 'No ratings in this range.');
    drawRateChart('models-chart', groups.map(function (g) { return modelName(g.key); }),
      groups.map(function (g) { return g.positive_rate; }), groups.map(function (g) { return g.ci95; }), 'Positive rate (%)');
  }

  /* A bar per label with its rate (0..1) and, drawn over it like an error bar, its interval. */
  function drawRateChart(canvasId, labels, rates, intervals, rateLabel) {
    return drawChart(canvasId, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          /* the interval is a thin floating bar drawn over the rate's bar, like an error bar */
          { label: '95% interval (%)', data: intervals.map(intervalBar),
            backgroundColor: COLORS.ci, borderColor: COLORS.ciLine, borderWidth: 1, borderSkipped: false,
            grouped: false, barPercentage: 0.08, order: 0 },
          { label: rateLabel, data: rates.map(percentOrNull),
            backgroundColor: COLORS.rate, grouped: false, barPercentage: 0.55, order: 1 }
        ]
      },
      options: { scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + ' %'; } } } } }
    });
  }

  function renderTags(stats) {
    var tags = (Array.isArray(stats.top_tags) ? stats.top_tags : []).slice(0, TOP_TAGS);
    var tb = clearBody('tags-table');
    tags.forEach(function (t) {
      var tr = document.createElement('tr');
      cell(tr, t.tag, true);
      cell(tr, fmtInt(t.count));
      tb.appendChild(tr);
    });
    if (!tags.length) emptyRow(tb, 2, 'No tags in this range.');
    $('tags-chart').parentNode.style.height = Math.max(120, 28 * tags.length + 60) + 'px';
    drawChart('tags-chart', {
      type: 'bar',
      data: {
        labels: tags.map(function (t) { return t.tag; }),
        datasets: [{ label: 'Events with this tag', data: tags.map(function (t) { return t.count; }), backgroundColor: COLORS.tag }]
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  /* ---- model leaderboard (GET /v1/leaderboard) ---- */
  function fmtRating(x) {
    return (x === null || x === undefined || !isFinite(x)) ? '—' : Number(x).toFixed(1);
  }
  function validInterval(ci) {
    return Array.isArray(ci) && ci.length === 2 && isFinite(ci[0]) && isFinite(ci[1]) && ci[0] !== null && ci[1] !== null;
  }
  function fmtRatingCI(ci) {
    return validInterval(ci) ? '[' + fmtRating(ci[0]) + ', ' + fmtRating(ci[1]) + ']' : '—';
  }
  function dropChart(canvasId) {
    if (!chartReady()) return;
    var c = window.Chart.getChart($(canvasId));
    if (c) c.destroy();
  }
  /* note: null hides the panel's note; otherwise it replaces the charts (nothing to draw). */
  function leaderboardNote(text) {
    var note = $('leaderboard-note');
    note.hidden = text === null;
    note.textContent = text || '';
    $('leaderboard-charts').hidden = text !== null;
    if (text !== null) { dropChart('leaderboard-chart'); dropChart('battles-chart'); }
  }
  function renderLeaderboard(lb) {
    var models = Array.isArray(lb && lb.models) ? lb.models : [];
    $('leaderboard-battles').textContent = fmtInt(lb ? lb.battles : null);
    var tb = clearBody('leaderboard-table');
    /* kept in the server's order: by rating, highest first (docs/api.md "Model leaderboard") */
    models.forEach(function (m) {
      var tr = document.createElement('tr');
      tr.dataset.model = m.model;
      cell(tr, fmtInt(m.rank)).className = 'rank';
      cell(tr, m.model, true);
      cell(tr, fmtRating(m.rating));
      cell(tr, fmtRatingCI(m.ci95));
      ['battles', 'wins', 'losses', 'ties', 'both_bad'].forEach(function (k) { cell(tr, fmtInt(m[k])); });
      tb.appendChild(tr);
    });
    if (!models.length) {
      emptyRow(tb, 9, 'No comparisons yet.');
      leaderboardNote('No comparisons yet in this range: the leaderboard needs users’ A/B picks between answers of two different models.');
      return;
    }
    leaderboardNote(null);
    var labels = models.map(function (m) { return m.model; });
    var height = Math.max(160, 34 * models.length + 80) + 'px';
    $('leaderboard-box').style.height = height;
    $('battles-box').style.height = height;

    /* x range: every point and interval end, padded so that the extremes are not on the edge */
    var lo = Infinity, hi = -Infinity;
    models.forEach(function (m) {
      [m.rating].concat(validInterval(m.ci95) ? m.ci95 : []).forEach(function (v) {
        if (isFinite(v) && v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      });
    });
    var pad = Math.max(10, (hi - lo) * 0.08);
    var round1 = function (x) { return Math.round(x * 10) / 10; };
    drawChart('leaderboard-chart', {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [
          /* the point is drawn over its interval: a floating bar [low, high] */
          { type: 'line', label: 'Rating', data: models.map(function (m) { return isFinite(m.rating) ? round1(m.rating) : null; }),
            showLine: false, pointRadius: 6, pointHoverRadius: 8, pointStyle: 'circle',
            backgroundColor: COLORS.rating, borderColor: COLORS.ciLine, borderWidth: 1.5, order: 0 },
          { label: '95% interval', data: models.map(function (m) {
              return validInterval(m.ci95) ? [round1(m.ci95[0]), round1(m.ci95[1])] : null;
            }), backgroundColor: COLORS.ratingCi, borderColor: COLORS.rating, borderWidth: 1, borderSkipped: false,
            barPercentage: 0.45, order: 1 }
        ]
      },
      options: {
        indexAxis: 'y',
        interaction: { mode: 'index', intersect: false },
        scales: { x: { beginAtZero: false, suggestedMin: lo - pad, suggestedMax: hi + pad,
          title: { display: true, text: 'Rating (Elo scale, mean 1000)' } } }
      }
    });
    var parts = [['wins', 'Wins', COLORS.wins], ['ties', 'Ties', COLORS.ties],
      ['both_bad', 'Both bad', COLORS.bothBad], ['losses', 'Losses', COLORS.losses]];
    drawChart('battles-chart', {
      type: 'bar',
      data: {
        labels: labels,
        datasets: parts.map(function (p) {
          return { label: p[1], data: models.map(function (m) { return m[p[0]] || 0; }), backgroundColor: p[2], barPercentage: 0.6 };
        })
      },
      options: {
        indexAxis: 'y',
        interaction: { mode: 'index', intersect: false },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Battles' } },
          y: { stacked: true } }
      }
    });
  }

  /* ---- rater agreement (GET /v1/agreement) ---- */
  function fmtAlpha(a) {
    return (a === null || a === undefined || !isFinite(a)) ? '—' : Number(a).toFixed(3);
  }
  function alphaVerdict(a) {
    if (a === null || a === undefined || !isFinite(a)) return ['none', 'not enough data: needs two items with two raters each'];
    if (a >= ALPHA_RELIABLE) return ['good', 'reliable'];
    if (a >= ALPHA_TENTATIVE) return ['warn', 'tentative'];
    return ['bad', 'unreliable: do not train on these labels'];
  }
  function renderAlpha(name, part) {
    part = part || {};
    $('alpha-' + name).textContent = fmtAlpha(part.alpha);
    var v = alphaVerdict(part.alpha);
    var el = $('alpha-' + name + '-verdict');
    el.className = 'verdict ' + v[0];
    el.textContent = v[1];
    $('alpha-' + name + '-detail').textContent = fmtInt(part.items || 0) + ' items with two or more raters, ' +
      fmtInt(part.raters || 0) + ' raters';
  }
  /* emptyText: what the raters table says when there are none (default: no votes yet). */
  function renderAgreement(ag, emptyText) {
    ag = ag || {};
    renderAlpha('ratings', ag.ratings);
    renderAlpha('comparisons', ag.comparisons);
    var raters = (Array.isArray(ag.raters) ? ag.raters : []).slice();
    /* lowest agreement first: the raters worth a look come first; those without a shared item
     * (agreement null) last. The sort is stable, so ties keep the server's order (by user). */
    var key = function (r) { return (r.agreement === null || r.agreement === undefined || !isFinite(r.agreement)) ? Infinity : r.agreement; };
    raters.sort(function (a, b) { var x = key(a), y = key(b); return x < y ? -1 : x > y ? 1 : 0; });
    var tb = clearBody('raters-table');
    raters.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.dataset.user = r.user;
      cell(tr, r.user, true);
      cell(tr, r.agreement === null || r.agreement === undefined ? '— (no shared item)' : fmtPct(r.agreement));
      cell(tr, fmtInt(r.events));
      cell(tr, fmtInt(r.flip_flops));
      tb.appendChild(tr);
    });
    if (!raters.length) emptyRow(tb, 4, emptyText || 'No ratings or comparisons by identified users yet.');
  }
  /* An older server without the endpoint: say so in the panel, not in the alert. */
  function notProvided(e) {
    return e instanceof ApiError && (e.status === 404 || e.status === 405);
  }

  /* ---- word-level diff (LCS over words, whitespace runs and single punctuation marks) ---- */
  function tokens(s) {
    return String(s).match(/\s+|[\p{L}\p{N}\p{M}_'’-]+|[^\s\p{L}\p{N}\p{M}_'’-]/gu) || [];
  }
  function diffWords(a, b) {
    var x = tokens(a), y = tokens(b);
    var pre = 0;
    while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
    var suf = 0;
    while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
    var xm = x.slice(pre, x.length - suf), ym = y.slice(pre, y.length - suf);
    var ops = [];
    x.slice(0, pre).forEach(function (t) { ops.push(['eq', t]); });
    var n = xm.length, m = ym.length;
    if (n && m && (n + 1) * (m + 1) <= DIFF_MAX_CELLS) {
      /* lcs[i][j] = LCS length of xm[i:] and ym[j:], in one flat array */
      var w = m + 1, lcs = new Uint32Array((n + 1) * w);
      for (var i = n - 1; i >= 0; i--) {
        for (var j = m - 1; j >= 0; j--) {
          lcs[i * w + j] = xm[i] === ym[j] ? lcs[(i + 1) * w + j + 1] + 1
            : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
        }
      }
      var p = 0, q = 0;
      while (p < n && q < m) {
        if (xm[p] === ym[q]) { ops.push(['eq', xm[p]]); p++; q++; }
        else if (lcs[(p + 1) * w + q] >= lcs[p * w + q + 1]) { ops.push(['del', xm[p]]); p++; }
        else { ops.push(['ins', ym[q]]); q++; }
      }
      for (; p < n; p++) ops.push(['del', xm[p]]);
      for (; q < m; q++) ops.push(['ins', ym[q]]);
    } else {
      xm.forEach(function (t) { ops.push(['del', t]); });
      ym.forEach(function (t) { ops.push(['ins', t]); });
    }
    x.slice(x.length - suf).forEach(function (t) { ops.push(['eq', t]); });
    /* A lone space between two changes reads better as part of the change. */
    for (var k = 1; k < ops.length - 1; k++) {
      if (ops[k][0] === 'eq' && /^\s+$/.test(ops[k][1]) && ops[k - 1][0] !== 'eq' && ops[k + 1][0] !== 'eq') {
        ops.splice(k, 1, ['del', ops[k][1]], ['ins', ops[k][1]]);
        k++;
      }
    }
    return ops;
  }
  /* One side of the diff: 'del' shows the original with deletions, 'ins' the edit with insertions. */
  function diffSide(ops, side) {
    var frag = document.createDocumentFragment();
    var runType = null, runText = '';
    function flush() {
      if (!runText) return;
      if (runType === 'eq') frag.appendChild(document.createTextNode(runText));
      else {
        var el = document.createElement(runType);
        el.textContent = runText;
        frag.appendChild(el);
      }
      runText = '';
    }
    ops.forEach(function (op) {
      if (op[0] !== 'eq' && op[0] !== side) return;
      if (op[0] !== runType) { flush(); runType = op[0]; }
      runText += op[1];
    });
    flush();
    return frag;
  }

  /* ---- latest comments and edits ---- */
  function ratingText(it) {
    if (it.kind !== 'rating') return null;
    if (!it.scale || it.scale === 2) return it.value > 0 ? 'Thumbs up' : 'Thumbs down';
    return it.value + ' / ' + it.scale;
  }
  function metaLine(it) {
    var div = document.createElement('div');
    div.className = 'meta';
    var badge = document.createElement('span');
    badge.className = 'badge kind-' + String(it.kind).replace(/[^a-z]/g, '');
    var rt = ratingText(it);
    badge.textContent = rt ? rt : it.kind;
    if (it.kind === 'rating') {
      /* up/down as /v1/stats counts them: above/below the scale's midpoint */
      var mid = (!it.scale || it.scale === 2) ? 0 : (it.scale + 1) / 2;
      if (it.value > mid) badge.classList.add('pos');
      else if (it.value < mid) badge.classList.add('neg');
    }
    div.appendChild(badge);
    function add(label, value, code) {
      if (value === null || value === undefined || value === '') return;
      div.appendChild(document.createTextNode(' · ' + label + ' '));
      var el = document.createElement(code ? 'code' : 'span');
      el.textContent = value;
      div.appendChild(el);
    }
    var time = document.createElement('time');
    time.dateTime = it.created_at || it.received_at || '';
    time.textContent = fmtTime(it.created_at || it.received_at);
    div.appendChild(document.createTextNode(' '));
    div.appendChild(time);
    add('model', it.model || (it.message && it.message.model), true);
    add('message', it.message_id, true);
    add('user', it.user, true);
    if (Array.isArray(it.tags) && it.tags.length) add('tags', it.tags.join(', '), false);
    return div;
  }
  function byNewest(a, b) {
    return (Date.parse(b.received_at) || 0) - (Date.parse(a.received_at) || 0);
  }
  function renderComments(lists) {
    var ol = $('comments');
    ol.textContent = '';
    var items = [];
    lists.forEach(function (l) { items = items.concat(l); });
    items = items.filter(function (it) { return !it.retracted_at && typeof it.comment === 'string' && it.comment.trim() !== ''; });
    items.sort(byNewest);
    items.slice(0, FEED_LIMIT).forEach(function (it) {
      var li = document.createElement('li');
      li.className = 'item';
      li.dataset.id = it.id;
      li.appendChild(metaLine(it));
      var q = document.createElement('blockquote');
      q.className = 'comment';
      q.textContent = it.comment;
      li.appendChild(q);
      ol.appendChild(li);
    });
    if (!ol.children.length) feedNote(ol, 'No comments in this range.');
  }
  function renderEdits(items) {
    var ol = $('edits');
    ol.textContent = '';
    items.filter(function (it) { return !it.retracted_at; }).sort(byNewest).slice(0, FEED_LIMIT).forEach(function (it) {
      var li = document.createElement('li');
      li.className = 'item edit';
      li.dataset.id = it.id;
      li.appendChild(metaLine(it));
      var grid = document.createElement('div');
      grid.className = 'diff';
      var hasOriginal = typeof it.original_content === 'string';
      var ops = hasOriginal ? diffWords(it.original_content, it.edited_content || '') : null;
      [['Original', 'del'], ['Edited', 'ins']].forEach(function (s) {
        var fig = document.createElement('figure');
        fig.className = 'side side-' + s[1];
        var cap = document.createElement('figcaption');
        cap.textContent = s[0];
        fig.appendChild(cap);
        var body = document.createElement('div');
        body.className = 'text';
        if (ops) body.appendChild(diffSide(ops, s[1]));
        else if (s[1] === 'ins') body.textContent = it.edited_content || '';
        else { body.className = 'text muted'; body.textContent = 'The original message has not been logged (yet).'; }
        fig.appendChild(body);
        grid.appendChild(fig);
      });
      li.appendChild(grid);
      if (it.comment) {
        var q = document.createElement('blockquote');
        q.className = 'comment';
        q.textContent = it.comment;
        li.appendChild(q);
      }
      ol.appendChild(li);
    });
    if (!ol.children.length) feedNote(ol, 'No edits in this range.');
  }
  function feedNote(ol, text) {
    var li = document.createElement('li');
    li.className = 'muted empty';
    li.textContent = text;
    ol.appendChild(li);
  }

  /* ---- loading ---- */
  function isAuthError(e) { return e instanceof ApiError && (e.status === 401 || e.status === 403); }

  function fetchStats(f, key) {
    var base = { since: f.since, until: f.until, bucket: f.bucket, group_by: 'model' };
    if (!f.model || state.statsHasModel === false) return getJSON('/v1/stats' + query(base), key);
    /* The contract's /v1/stats has no model filter; servers that add one get ?model=, others
     * answer 400 invalid_parameter and we fall back to all models (and say so). */
    return getJSON('/v1/stats' + query(Object.assign({ model: f.model }, base)), key).then(function (s) {
      /* A server that ignores ?model= answers with every model's group: then it did not filter. */
      var ignored = (s.groups || []).some(function (g) { return g.key !== f.model; });
      state.statsHasModel = !ignored;
      return s;
    }, function (e) {
      if (e instanceof ApiError && e.status === 400 && e.code === 'invalid_parameter' && e.field === 'model') {
        state.statsHasModel = false;
        return getJSON('/v1/stats' + query(base), key);
      }
      throw e;
    });
  }

  function feedbackList(kind, limit, f, key) {
    return getJSON('/v1/feedback' + query({ kind: kind, limit: limit, since: f.since, until: f.until, model: f.model }), key)
      .then(function (r) { return Array.isArray(r.items) ? r.items : []; });
  }

  function load() {
    var f = readFilters();
    if (f.error) { showAlert(f.error); return Promise.resolve(); }
    saveViewToHash(f);
    var key = state.key;
    var gen = ++state.generation;
    var main = $('main');
    main.setAttribute('aria-busy', 'true');
    $('range-text').textContent = 'Loading ' + fmtTime(f.since) + ' – ' + fmtTime(f.until) + '…';
    $('range-text').dataset.since = f.since;
    $('range-text').dataset.until = f.until;

    var jobs = [
      fetchStats(f, key),
      feedbackList('comment', FEED_LIMIT, f, key),
      feedbackList('rating', RATING_SCAN, f, key),
      feedbackList('edit', FEED_LIMIT, f, key),
      getJSON('/v1/leaderboard' + query({ since: f.since, until: f.until }), key),
      getJSON('/v1/agreement' + query({ since: f.since, until: f.until }), key)
    ];
    var firstPanelJob = jobs.length;
    panels.forEach(function (p) { jobs.push(p.fetch ? p.fetch(f, key) : Promise.resolve(null)); });
    return Promise.allSettled(jobs).then(function (res) {
      if (gen !== state.generation) return; /* a newer load is on its way */
      main.removeAttribute('aria-busy');
      var auth = res.filter(function (r) { return r.status === 'rejected' && isAuthError(r.reason); })[0];
      if (auth) { signedOut(explain(auth.reason, 'Loading the dashboard', 'read')); return; }
      $('key-section').hidden = true;
      $('dash').hidden = false;
      $('key-actions').hidden = false;
      var problems = [];
      if (res[0].status === 'fulfilled') {
        var stats = res[0].value || {};
        setModelOptions((stats.groups || []).map(function (g) { return g.key; }).filter(function (k) { return typeof k === 'string' && k; }));
        renderTotals(stats.totals);
        renderVolume(stats, f);
        renderModels(stats, f);
        renderTags(stats);
        var note = $('model-note');
        note.hidden = !(f.model && state.statsHasModel === false);
        note.textContent = 'This server’s /v1/stats has no model filter: totals, volume and tags cover all models; the per-model table, comments and edits show ' + f.model + ' only.';
        $('range-text').textContent = 'Showing ' + fmtTime(stats.since || f.since) + ' – ' + fmtTime(stats.until || f.until) +
          ', by ' + (stats.bucket || f.bucket) + (f.model ? ', model ' + f.model : ', all models') + '.' +
          (chartReady() ? '' : ' (Charts are unavailable: /vendor/chart.js did not load; the tables have every number.)');
      } else {
        renderTotals(null);
        problems.push(explain(res[0].reason, 'Loading /v1/stats', 'read'));
        $('range-text').textContent = '';
      }
      if (res[1].status === 'fulfilled' && res[2].status === 'fulfilled') renderComments([res[1].value, res[2].value]);
      else {
        var bad = res[1].status === 'rejected' ? res[1] : res[2];
        problems.push(explain(bad.reason, 'Loading the latest comments', 'read'));
        $('comments').textContent = '';
        feedNote($('comments'), 'Comments could not be loaded.');
      }
      if (res[3].status === 'fulfilled') renderEdits(res[3].value);
      else {
        problems.push(explain(res[3].reason, 'Loading the latest edits', 'read'));
        $('edits').textContent = '';
        feedNote($('edits'), 'Edits could not be loaded.');
      }
      if (res[4].status === 'fulfilled') renderLeaderboard(res[4].value);
      else {
        renderLeaderboard(null);
        leaderboardNote(notProvided(res[4].reason) ? 'This server has no /v1/leaderboard.' : 'The leaderboard could not be loaded.');
        if (!notProvided(res[4].reason)) problems.push(explain(res[4].reason, 'Loading /v1/leaderboard', 'read'));
      }
      if (res[5].status === 'fulfilled') renderAgreement(res[5].value);
      else {
        renderAgreement(null, notProvided(res[5].reason) ? 'This server has no /v1/agreement.' : 'Rater agreement could not be loaded.');
        if (!notProvided(res[5].reason)) problems.push(explain(res[5].reason, 'Loading /v1/agreement', 'read'));
      }
      panels.forEach(function (p, i) {
        var r = res[firstPanelJob + i];
        var fetched = r.status === 'fulfilled' ? { value: r.value } : { error: r.reason };
        var problem = p.render(res[0].status === 'fulfilled' ? (res[0].value || {}) : null, f, fetched);
        if (problem) problems.push(problem);
      });
      if (problems.length) showAlert(problems.join(' '));
      else hideAlert();
    });
  }

  /* ---- key handling ---- */
  function keyHint(key) { return 'Read key …' + key.slice(-4); }

  function signedOut(message) {
    storeDel(READ_KEY);
    state.key = null;
    state.generation++;
    $('main').removeAttribute('aria-busy');
    destroyCharts();
    $('dash').hidden = true;
    $('key-actions').hidden = true;
    $('key-section').hidden = false;
    $('key-input').value = '';
    if (message) showAlert(message);
    else hideAlert();
    $('key-input').focus();
  }

  function signIn(key) {
    state.key = key;
    storeSet(READ_KEY, key);
    $('key-hint').textContent = keyHint(key);
    return load();
  }

  /* ---- export ---- */
  function exportFilename(format, id) {
    var stamp = isoSeconds(new Date()).replace(/[:]/g, '').replace(/-/g, '');
    return 'feedbackd-' + format + '-' + (id ? String(id).replace(/[^A-Za-z0-9._-]/g, '') : stamp) + '.jsonl';
  }
  /* The reactions=true / signals=true boxes are enabled only for the formats that take them;
   * format=reward always counts reactions, so its box is shown ticked and fixed. */
  var REACTIONS_FORMATS = ['trl', 'trl-text', 'openai', 'hh', 'kto'];
  var SIGNALS_FORMATS = ['kto', 'reward'];
  function exportOptionsFor() {
    var format = $('export-format').value;
    var r = $('export-reactions'), sig = $('export-signals');
    if (format === 'reward') {
      if (r.dataset.before === undefined) r.dataset.before = String(r.checked); /* restored after reward */
      r.checked = true;
      r.disabled = true;
    } else {
      if (r.dataset.before !== undefined) { r.checked = r.dataset.before === 'true'; delete r.dataset.before; }
      r.disabled = REACTIONS_FORMATS.indexOf(format) < 0;
    }
    sig.disabled = SIGNALS_FORMATS.indexOf(format) < 0;
  }
  function runExport(ev) {
    ev.preventDefault();
    var key = $('export-key').value.trim();
    var format = $('export-format').value;
    var status = $('export-status');
    if (!key) { $('export-key').focus(); return; }
    storeSet(EXPORT_KEY, key);
    var params = { format: format };
    /* only where the format takes them (docs/export.md "Reactions and signals"): elsewhere 400 */
    if ($('export-reactions').checked && REACTIONS_FORMATS.indexOf(format) >= 0) params.reactions = 'true';
    if ($('export-signals').checked && SIGNALS_FORMATS.indexOf(format) >= 0) params.signals = 'true';
    if ($('export-filtered').checked) {
      var f = readFilters();
      if (f.error) { showAlert(f.error); return; }
      params.since = f.since;
      params.until = f.until;
      params.model = f.model;
    }
    var button = $('export-go');
    button.disabled = true;
    status.textContent = 'Exporting ' + format + '…';
    var exportId = null;
    request('/v1/export' + query(params), key).then(function (res) {
      exportId = res.headers.get('X-Export-Id');
      return res.blob();
    }).then(function (blob) {
      var name = exportFilename(format, exportId);
      var url = URL.createObjectURL(blob);
      var a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.hidden = true;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      status.textContent = '';
      status.appendChild(document.createTextNode('Saved ' + name + ' (' + fmtInt(blob.size) + ' bytes). Export id: '));
      var code = document.createElement('code');
      code.id = 'export-id';
      code.textContent = exportId || '(none sent)';
      status.appendChild(code);
      hideAlert();
    }).catch(function (e) {
      status.textContent = 'Export failed.';
      if (e instanceof ApiError && e.status === 401) storeDel(EXPORT_KEY);
      showAlert(explain(e, 'The export', 'export'));
    }).then(function () { button.disabled = false; });
  }

  /* ---- wiring ---- */
  function init() {
    themeCharts();
    loadViewFromHash();
    $('key-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var key = $('key-input').value.trim();
      if (!key) { $('key-input').focus(); return; }
      hideAlert();
      signIn(key);
    });
    $('forget-key').addEventListener('click', function () { signedOut(null); });
    $('refresh').addEventListener('click', function () { load(); });
    $('filters').addEventListener('submit', function (ev) { ev.preventDefault(); load(); });
    Array.prototype.forEach.call(document.querySelectorAll('input[name="range"]'), function (r) {
      r.addEventListener('change', function () {
        var custom = r.value === 'custom';
        $('custom-range').hidden = !custom;
        if (custom) {
          if (!$('since').value) {
            var f = readFiltersFor('30d');
            $('since').value = f.since.slice(0, 19);
            $('until').value = f.until.slice(0, 19);
          }
          $('since').focus();
          return; /* wait for Apply */
        }
        $('bucket').value = r.value === '24h' ? 'hour' : 'day';
        load();
      });
    });
    $('model').addEventListener('change', function () { load(); });
    $('bucket').addEventListener('change', function () { load(); });

    $('export-open').addEventListener('click', function () {
      var form = $('export-form');
      form.hidden = !form.hidden;
      this.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) {
        $('export-key').value = storeGet(EXPORT_KEY) || '';
        ($('export-key').value ? $('export-format') : $('export-key')).focus();
      }
    });
    $('export-form').addEventListener('submit', runExport);
    $('export-format').addEventListener('change', exportOptionsFor);
    exportOptionsFor();
    $('export-forget').addEventListener('click', function () {
      storeDel(EXPORT_KEY);
      $('export-key').value = '';
      $('export-status').textContent = 'Export key forgotten.';
      $('export-key').focus();
    });

    var stored = storeGet(READ_KEY);
    if (stored) {
      $('key-actions').hidden = false;
      signIn(stored);
    } else {
      $('key-section').hidden = false;
      $('key-input').focus();
    }
  }
  function readFiltersFor(range) {
    var until = new Date();
    return { since: isoSeconds(new Date(until.getTime() - RANGES[range])), until: isoSeconds(until) };
  }

  /* Exposed for the browser test and for the curious; not an API. */
  window.feedbackdDashboard = {
    diffWords: diffWords, reload: load,
    addPanel: function (p) { panels.push(p); },
    kit: {
      $: $, COLORS: COLORS, fmtInt: fmtInt, fmtPct: fmtPct, fmtCI: fmtCI, fmtTime: fmtTime,
      fmtBucket: fmtBucket, query: query, getJSON: getJSON, explain: explain, notProvided: notProvided,
      cell: cell, clearBody: clearBody, emptyRow: emptyRow, feedNote: feedNote, chartReady: chartReady,
      drawChart: drawChart, dropChart: dropChart, denseSeries: denseSeries, byNewest: byNewest,
      modelName: modelName, percentOrNull: percentOrNull, drawRateChart: drawRateChart
    }
  };

  /* DOMContentLoaded comes after every deferred script, so the other files' panels are in. */
  if (document.readyState === 'complete') init();
  else document.addEventListener('DOMContentLoaded', init);
})();
