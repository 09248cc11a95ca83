// caviar dashboard: the pages (#/ studies, #/study/NAME, #/trial/ID) over the
// coordinator's read-only JSON API (server/http/README.md). Plain JS, no
// build step; charts are canvases (charts.js) so a 100,000-trial study stays
// interactive. Live: the studies list polls /studies, a study polls
// /changes with after=<largest id held> and watch=<open trials>.
'use strict';
const $ = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
};
const main = document.getElementById('main');
const fmt = Charts.fmt;
let pollTimer = null;
let pageToken = 0;  // Bumped on navigation: stale async work stops.

// ---- API ----------------------------------------------------------------
// The answer's JSON; with `binary`, a /columns?format=binary answer as
// parseColumns (trials.js) reads it. `early`: the response of this same
// request made already (index.html's).
async function api(path, binary, early) {
  const headers = {};
  const token = sessionStorage.getItem('caviar-token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await (early || fetch(path, {headers}));
  if (binary && r.ok) return parseColumns(await bodyBytes(r));
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 || r.status === 403) { askToken(body); throw new Error('unauthorized'); }
  if (!r.ok) {
    const e = new Error(body.error ? body.error.code + ': ' + body.error.message : 'HTTP ' + r.status);
    e.status = r.status;
    throw e;
  }
  return body;
}
// A response's bytes, copied into one buffer chunk by chunk as they come
// (while the rest is on its way) instead of all at once at the end, as
// arrayBuffer() does: ~0.1 to 0.2 s for a 100,000-trial study's 5 MB.
async function bodyBytes(r) {
  const told = Number(r.headers.get('Content-Length'));  // Before decoding when gzip'd.
  if (!r.body || !(told > 0)) return r.arrayBuffer();
  let out = new Uint8Array(told), at = 0;
  const reader = r.body.getReader();
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    if (at + value.length > out.length) {
      const more = new Uint8Array(Math.max(out.length * 2, at + value.length));
      more.set(out.subarray(0, at));
      out = more;
    }
    out.set(value, at);
    at += value.length;
  }
  return at === out.length ? out.buffer : out.slice(0, at).buffer;
}
function askToken(body) {
  stopPolling();
  const input = $('input', {type: 'password', size: 40, placeholder: 'viewer token'});
  main.replaceChildren($('h2', {}, 'This coordinator needs a token'),
    $('p', {class: 'error'}, body.error ? body.error.message : ''),
    $('form', {onsubmit: ev => { ev.preventDefault(); sessionStorage.setItem('caviar-token', input.value); route(); }},
      input, ' ', $('button', {}, 'Use token')));
}
function showError(e) {
  if (e.message !== 'unauthorized') main.replaceChildren($('p', {class: 'error'}, String(e.message || e)));
}
function stopPolling() { if (pollTimer) clearTimeout(pollTimer); pollTimer = null; }
function setLive(text) { document.getElementById('live').textContent = text; }
function crumbs(...parts) { document.getElementById('crumbs').replaceChildren(...parts); }

// ---- Values -------------------------------------------------------------
const num = v => (v === undefined || v === null) ? NaN : Number(v);
function paramValue(p) {
  if (!p) return undefined;
  if ('double_value' in p) return num(p.double_value);
  if ('int_value' in p) return num(p.int_value);
  if ('string_value' in p) return p.string_value;
  return 0;  // A default value is left out of the JSON.
}
const time = t => t ? Date.parse(t) / 1000 : NaN;
// Local time as 2026-11-30 17:38:12 (toLocaleString's first call loads
// the locale's data: ~30 ms before a study page's first draw).
const when = t => {
  if (!t) return '';
  const d = new Date(t), p = v => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
function objectiveOf(trial) {
  if (trial.objective_value !== undefined) return num(trial.objective_value);
  return NaN;
}

// A parameter's own scale as a map to the unit interval (the coordinator's
// regions live there): LINEAR, LOG, LOG1M; categories at equal steps.
function paramAxis(spec) {
  const name = spec.name;
  if (spec.categorical) {
    const values = spec.categorical.values || [];
    const index = new Map(values.map((v, i) => [v, i]));
    const n = Math.max(1, values.length);
    return {name, categorical: true, values, code: v => index.has(v) ? index.get(v) : NaN,
            unit: c => (c + 0.5) / n, value: u => values[Math.min(n - 1, Math.floor(u * n))],
            ticks: () => values.map((v, i) => ({u: (i + 0.5) / n, label: v}))};
  }
  let lo, hi, integer = false;
  if (spec.double) { lo = num(spec.double.min || 0); hi = num(spec.double.max || 0); }
  else if (spec.integer) { lo = num(spec.integer.min || 0); hi = num(spec.integer.max || 0); integer = true; }
  else if (spec.discrete) { const vs = (spec.discrete.values || []).map(num); lo = Math.min(...vs); hi = Math.max(...vs); }
  else { lo = 0; hi = 1; }
  const scale = spec.scale || 'LINEAR';
  let f, g;
  if (scale === 'LOG' && lo > 0) { f = Math.log; g = Math.exp; }
  else if (scale === 'LOG1M' && hi < 1) { f = v => -Math.log(1 - v); g = y => 1 - Math.exp(-y); }
  else { f = v => v; g = v => v; }
  const a = f(lo), b = f(hi), span = (b - a) || 1;
  const s = {name, scale, lo, hi, integer, code: v => v, unit: v => (f(v) - a) / span,
             value: u => g(a + u * span)};
  s.ticks = () => [0, 0.25, 0.5, 0.75, 1].map(u => ({u, label: fmt(integer ? Math.round(s.value(u)) : s.value(u))}));
  return s;
}

// ---- Studies list ---------------------------------------------------------
async function studiesPage() {
  crumbs();
  const token = pageToken;
  const table = $('table', {id: 'studies'});
  main.replaceChildren($('h2', {}, 'Studies'), table);
  const draw = list => {
    const head = $('tr', {}, ...['study', 'state', 'progress', 'best', 'trials (pend/act/ok/fail/stop)', 'created']
      .map(h => $('th', {}, h)));
    const rows = list.map(s => {
      const name = s.spec.name, best = s.best_trial;
      const bar = s.progress === undefined ? $('span', {class: 'muted'}, 'no budget')
        : $('span', {}, $('span', {class: 'bar'}, $('span', {style: `width:${Math.round(100 * s.progress)}%`})),
          ' ' + Math.round(100 * s.progress) + '%');
      const counts = [s.pending_trials, s.active_trials, s.succeeded_trials, s.failed_trials, s.stopped_trials]
        .map(c => c || 0);
      return $('tr', {'data-study': name},
        $('td', {}, $('a', {href: '#/study/' + encodeURIComponent(name)}, name)),
        $('td', {}, $('span', {class: 'state ' + s.state}, s.state)),
        $('td', {}, bar),
        $('td', {class: 'num'}, best ? fmt(objectiveOf(best)) : '–',
          best ? $('span', {class: 'muted'}, ' (' + s.spec.objective.metric + ', #' + best.id + ')') : null),
        $('td', {class: 'num', title: 'pending / active / succeeded / failed / stopped'},
          counts.reduce((a, b) => a + b, 0) + '  (' + counts.join(' / ') + ')'),
        $('td', {}, when(s.create_time)));
    });
    table.replaceChildren(head, ...rows);
    if (!list.length) table.append($('tr', {}, $('td', {colspan: 6, class: 'muted'}, 'No studies yet: caviar submit SPEC.yaml')));
    table.dataset.rows = list.length;
  };
  const poll = async () => {
    try {
      const r = await api('/api/v1/studies');
      if (token !== pageToken) return;
      draw(r.studies || []);
      setLive('live · ' + new Date().toLocaleTimeString());
    } catch (e) { if (token === pageToken) setLive('offline: ' + e.message); }
    if (token === pageToken) pollTimer = setTimeout(poll, 3000);
  };
  await poll();
}

// ---- Study page: data ------------------------------------------------------
// TrialStore (trials.js) holds the trials in columns. Pages of /columns
// (binary) by id after `first` (already fetched), onPage after each.
const COLUMNS_PAGE = 100000;
const TABLE_FIRST = 200;  // Rows of the table ordered at once (trials may be 100,000).
async function loadColumns(store, path, token, first, onPage) {
  let r = first;
  for (;;) {
    store.addColumns(r);
    onPage(r);
    if (!r.more) return;
    r = await api(`${path}&after=${r.next_after}`, true);
    if (token !== pageToken) return;
  }
}
// The learning curves of the latest `keep` trials (all of a small study),
// in one request (more only if trials arrived meanwhile); they change no
// column, so no chart's cached coordinates are lost.
const CURVES_KEPT = 2000, CURVES_WAIT_MS = 500;
const PREVIEW_MS = 120;  // A brush's lines redrawn once the pointer rests this long.
// `first`: the answer of /trials?last=CURVES_KEPT (asked for with the
// columns: index.html).
async function loadCurves(store, base, token, first) {
  let r = await first;
  for (;;) {
    if (token !== pageToken) return;
    for (const t of r.trials) store.setCurve(t);
    if (!r.more) return;
    r = await api(`${base}/trials?limit=${CURVES_KEPT}&measurements=true&after=${r.next_after}`);
  }
}

// ---- Study page: view -------------------------------------------------------
async function studyPage(name) {
  const token = pageToken;
  const t0 = performance.now();
  document.body.dataset.studyStart = String(t0);  // From the navigation (bench/dashboard).
  crumbs('/ ', $('a', {href: '#/study/' + encodeURIComponent(name)}, name));
  const base = '/api/v1/studies/' + encodeURIComponent(name);
  // The study and its trials as binary columns at once: a 100,000-trial
  // study is one request of ~2 MB (gzip'd), read into typed arrays with no
  // parsing and drawn in one pass per chart.
  const columns = `${base}/columns?format=binary&limit=${COLUMNS_PAGE}`;
  // index.html asked for these (and the curves) already when the page opened on this study.
  const early = window.caviarEarly && window.caviarEarly.base === base ? window.caviarEarly : {};
  window.caviarEarly = null;
  // The learning curves of the latest CURVES_KEPT trials, asked for at
  // once too (read once the store is built; a refusal is shown by the
  // study's and the columns' answers).
  const curvesFirst = api(`${base}/trials?last=${CURVES_KEPT}&measurements=true`, false, early.curves);
  curvesFirst.catch(() => {});
  const [study, first] = await Promise.all([api(base, false, early.study),
                                            api(columns + '&after=0', true, early.columns)]);
  if (token !== pageToken) return;
  document.body.dataset.studyFetched = String(performance.now() - t0);  // For bench/dashboard.
  const store = new TrialStore(study);
  const view = new StudyView(store, name);
  // A study larger than a page is drawn at its first page and again when
  // all are in. The curves were asked for with the columns; waiting for
  // them up to CURVES_WAIT_MS draws the page once, curves included, instead
  // of drawing, painting, then drawing the curves again.
  let curves = null;
  await loadColumns(store, columns, token, first, r => {
    if (r.more) {
      if (!view.head) view.render();
      setLive(`loading ${store.n} / ${r.total}`);
      return;
    }
    curves = loadCurves(store, base, token, curvesFirst);
    view.curvesNote = store.n > CURVES_KEPT ? ` (latest ${CURVES_KEPT} of ${store.n})` : '';
  });
  if (token !== pageToken) return;
  document.body.dataset.studyStored = String(performance.now() - t0);  // For bench/dashboard.
  const curvesIn = await Promise.race([curves.then(() => true),
                                       new Promise(done => setTimeout(() => done(false), CURVES_WAIT_MS))]);
  if (token !== pageToken) return;
  document.body.dataset.curvesWaited = String(performance.now() - t0);
  if (!view.head) view.render(); else view.draw();
  document.body.dataset.studyInteractive = String(performance.now() - t0);
  document.body.dataset.studyReady = document.body.dataset.studyInteractive;
  setLive('live · ' + store.n + ' trials');
  if (!curvesIn) {
    await curves;
    if (token !== pageToken) return;
    view.drawCurves();
  }
  // Every chart drawn with every trial (bench/dashboard reads it).
  document.body.dataset.curvesReady = String(performance.now() - t0);
  view.loadImportance();
  let wasActive = study.state === 'STUDY_ACTIVE';
  const poll = async () => {
    try {
      const watch = store.open().slice(0, 1000).join(',');
      const r = await api(`${base}/changes?measurements=true&after=${store.maxId}` + (watch ? '&watch=' + watch : ''));
      if (token !== pageToken) return;
      store.setStudy(r.study);
      for (const t of r.trials) store.upsert(t);
      if (r.trials.length) view.draw(); else view.header();
      // Importance once more when the study ends (it is asked once per view).
      if (wasActive && r.study.state !== 'STUDY_ACTIVE') view.loadImportance();
      wasActive = r.study.state === 'STUDY_ACTIVE';
      setLive('live · ' + store.n + ' trials · ' + new Date().toLocaleTimeString());
    } catch (e) { if (token === pageToken) setLive('offline: ' + e.message); }
    if (token === pageToken) pollTimer = setTimeout(poll, 1500);
  };
  pollTimer = setTimeout(poll, 1500);
}

// RGBA palettes of the point charts (Charts.raster), and point sizes: a
// few points large and strong, many small and light so density shows.
const GREY = [156, 163, 175, 0.3], BLUE = [37, 99, 235, 0.45], ORANGE = [234, 88, 12, 0.6];
const strong = (color, n) => n > 2000 ? color : [color[0], color[1], color[2], Math.max(color[3], 0.8)];
const pointSize = n => n > 20000 ? 3 : n > 2000 ? 4 : 5;
const SHADES = Array.from({length: 16}, (_, k) => {
  // hsl(220 - 200u, 80%, 60 - 25u%) at alpha 0.7: better is darker.
  const u = k / 15, h = (220 - 200 * u) / 360, s = 0.8, l = (60 - 25 * u) / 100;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;
  const ch = t => { t = (t + 1) % 1; const v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p; return Math.round(255 * v); };
  return [ch(h + 1 / 3), ch(h), ch(h - 1 / 3), 0.7];
});

class StudyView {
  constructor(store, name) {
    this.store = store;
    this.name = name;
    this.logY = false;
    this.brush = new Map();  // parallel-coordinates axis index -> [lo, hi] unit.
    this.topK = 100;
    this.sort = {key: 'id', dir: 1};
    this.text = '';
    this.curvesNote = '';
    this.scatterX = 0;
    this.scatterY = Math.min(1, store.axes.length - 1);
    this.cache = {};  // Unit coordinates per chart, by store.version.
    this.rowHeight = 24;  // The table's, measured when first drawn.
  }
  card(title, id, wide, ...extra) {
    const body = $('div', {id});
    const c = $('div', {class: 'card' + (wide ? ' wide' : '')}, $('h3', {}, title), ...extra, body);
    return [c, body];
  }
  // `make()` once per store version and `key` (a chart's coordinates).
  cached(key, make) {
    const hit = this.cache[key];
    if (hit && hit.version === this.store.version) return hit.value;
    const value = make();
    this.cache[key] = {version: this.store.version, value};
    return value;
  }
  // Unit coordinates of a column on a scale, as a Float32Array.
  units(key, column, scale) {
    return this.cached(key, () => {
      const n = this.store.n, out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = scale.unit(column[i]);
      return out;
    });
  }
  render() {
    const s = this.store;
    this.head = $('div', {id: 'study-head'});
    const logBox = $('input', {type: 'checkbox', id: 'logy', onchange: e => { this.logY = e.target.checked; this.draw(); }});
    const [hist, histBody] = this.card('Optimization history', 'history', false,
      $('div', {class: 'toolbar legend'}, $('label', {}, logBox, ' log y'),
        $('span', {}, $('i', {style: 'background:#2563eb'}), 'succeeded'),
        $('span', {}, $('i', {style: 'background:#ea580c'}), 'stopped'),
        $('span', {}, $('i', {style: 'background:#111'}), 'best so far')));
    const [curves, curvesBody] = this.card('Learning curves', 'curves', false,
      $('div', {class: 'toolbar legend'}, $('span', {}, $('i', {style: 'background:#2563eb'}), 'succeeded'),
        $('span', {}, $('i', {style: 'background:#ea580c'}), 'pruned (×)'),
        $('span', {}, $('i', {style: 'background:#dc2626'}), 'diverged (×)'),
        $('span', {}, $('i', {style: 'background:#16a34a'}), 'running'),
        this.curvesLabel = $('span', {class: 'muted'})));
    const topk = $('select', {id: 'topk', onchange: e => { this.topK = Number(e.target.value); this.drawFiltered(); }},
      ...[100, 50, 10, 1].map(k => $('option', {value: k}, k === 100 ? 'all trials' : `top ${k}%`)));
    const [par, parBody] = this.card('Parallel coordinates', 'parcoords', true,
      $('div', {class: 'toolbar'}, topk, $('span', {class: 'muted'},
        'drag along an axis to brush (filters the table); click an axis to clear it'),
        this.brushLabel = $('span', {id: 'brush-label'})));
    const [slices, slicesBody] = this.card('Slices: objective by parameter (on its own scale)', 'slices', true);
    const numeric = s.axes.map((a, i) => [a, i]).filter(([a]) => !a.categorical);
    const pick = (cur, set) => $('select', {onchange: e => { set(Number(e.target.value)); this.draw(); }},
      ...s.axes.map((a, i) => { const o = $('option', {value: i}, a.name); if (i === cur) o.selected = true; return o; }));
    const [scatter, scatterBody] = this.card('Two parameters, with the coarse-to-fine regions', 'scatter', false,
      $('div', {class: 'toolbar'}, 'x ', pick(this.scatterX, v => { this.scatterX = v; }),
        ' y ', pick(this.scatterY, v => { this.scatterY = v; }),
        $('span', {class: 'muted'}, `${(s.study.regions || []).length} region(s)`)));
    void numeric;
    const [imp, impBody] = this.card('Parameter importance', 'importance', false);
    const [tl, tlBody] = this.card('Trials per worker', 'timeline', false);
    const filter = $('input', {id: 'filter', placeholder: 'filter: text or state (e.g. FAILED)', size: 32,
      oninput: e => { this.text = e.target.value.trim().toLowerCase(); this.drawTable(); }});
    const csv = $('button', {id: 'csv', onclick: () => this.downloadCsv()}, 'Download CSV');
    const [tab, tabBody] = this.card('Trials', 'trials', true,
      $('div', {class: 'toolbar'}, filter, csv, this.tableLabel = $('span', {id: 'table-label', class: 'muted'})));
    this.el = {histBody, curvesBody, parBody, slicesBody, scatterBody, impBody, tlBody, tabBody};
    // The charts' canvases at their heights before the first draw, so that
    // the page is laid out once for all of them (Charts.measure).
    const sized = (body, height) => body.appendChild($('canvas', {style: `height:${height}px`}));
    this.histCv = sized(histBody, 240);
    this.curvesCv = sized(curvesBody, 240);
    this.parCv = sized(parBody, 280);
    this.scatterCv = sized(scatterBody, 300);
    this.sliceDivs = s.axes.map(ax => $('div', {'data-param': ax.name}, $('div', {class: 'muted'}, ax.name + (ax.scale && ax.scale !== 'LINEAR' ? ` (${ax.scale})` : ''))));
    slicesBody.replaceChildren($('div', {class: 'slices'}, ...this.sliceDivs));
    this.sliceCvs = this.sliceDivs.map(d => sized(d, 200));
    main.replaceChildren(this.head, $('div', {class: 'grid'}, hist, curves, par, slices, scatter, imp, tl, tab));
    this.draw();
    let resize = null;
    window.onresize = () => { clearTimeout(resize); resize = setTimeout(() => this.draw(), 150); };
  }
  header() {
    const st = this.store.study, sp = st.spec;
    const c = k => st[k] || 0;
    this.head.replaceChildren($('h2', {}, sp.name, ' ', $('span', {class: 'state ' + st.state}, st.state)),
      $('p', {class: 'muted'},
        `${sp.objective.goal === 'MINIMIZE' ? 'minimize' : 'maximize'} ${sp.objective.metric} · ` +
        `${(sp.algorithm || {}).name || 'random'} · ${this.store.n} trials: ` +
        `${c('pending_trials')} pending, ${c('active_trials')} active, ${c('succeeded_trials')} succeeded, ` +
        `${c('failed_trials')} failed, ${c('stopped_trials')} stopped · created ${when(st.create_time)}` +
        (st.state_reason ? ' · ' + st.state_reason : '')));
  }
  // The chart bodies whose widths the canvases take (Charts.measure).
  measure() {
    const e = this.el;
    Charts.measure([e.histBody, e.curvesBody, e.parBody, e.scatterBody, e.tlBody, ...this.sliceDivs]);
  }
  draw() {
    if (!this.head) return;
    // Each step's milliseconds in data-draw-ms (bench/dashboard reads them).
    const ms = {};
    this.measure();
    for (const step of ['header', 'computeFilter', 'drawHistory', 'drawCurves', 'drawParcoords',
                        'drawSlices', 'drawScatter', 'drawTimeline', 'drawTable']) {
      const t = performance.now();
      this[step]();
      ms[step] = Math.round(performance.now() - t);
    }
    Charts.measure(null);
    document.body.dataset.drawMs = JSON.stringify(ms);
  }
  // What the brushes and the top-k% filter change: the table and the
  // parallel coordinates at once, the slices (grey under the selection)
  // right after, so the table follows a brush without waiting for them.
  drawFiltered() {
    const ms = {};
    const run = step => { const t = performance.now(); this[step](); ms[step] = Math.round(performance.now() - t); };
    this.measure();
    for (const step of ['computeFilter', 'drawTable', 'drawParcoords']) run(step);
    Charts.measure(null);
    clearTimeout(this.slicesLater);
    this.slicesLater = setTimeout(() => {
      this.measure();
      run('drawSlices');
      Charts.measure(null);
      document.body.dataset.filterMs = JSON.stringify(ms);
    }, 0);
  }
  // Rows passing the top-k% filter and the brushes: this.pass[i] is 1 or 0.
  computeFilter() {
    const s = this.store, n = s.n, value = s.value;
    let cut = null;
    if (this.topK < 100) {
      const vals = Float64Array.from(value.subarray(0, n)).filter(Number.isFinite).sort();
      if (vals.length) {
        const k = Math.max(0, Math.ceil(vals.length * this.topK / 100) - 1);
        cut = s.minimize ? vals[k] : vals[vals.length - 1 - k];
      }
    }
    this.objScale = this.cached('objScale', () => Charts.fitScale(value.subarray(0, n), false));
    const brushes = [...this.brush].map(([axis, [lo, hi]]) =>
      [axis < s.axes.length ? this.units('par' + axis, s.params[axis], s.axes[axis]) : this.units('parObj', value, this.objScale), lo, hi]);
    const pass = new Uint8Array(n);
    this.filtered = this.brush.size > 0 || cut !== null;
    if (!this.filtered) {
      this.pass = pass.fill(1);
      return;
    }
    for (let i = 0; i < n; i++) {
      let ok = true;
      if (cut !== null) ok = s.minimize ? value[i] <= cut : value[i] >= cut;
      for (let b = 0; ok && b < brushes.length; b++) {
        const u = brushes[b][0][i];
        ok = u >= brushes[b][1] && u <= brushes[b][2];
      }
      pass[i] = ok ? 1 : 0;
    }
    this.pass = pass;
  }
  drawHistory() {
    const s = this.store, n = s.n;
    const c = Charts.canvas(this.el.histBody, 240, this.histCv);
    this.histCv = c.cv;
    // The finished trials with a value, in id order.
    const rows = this.cached('historyRows', () => {
      const out = new Int32Array(n), value = s.value;
      let m = 0;
      for (let i = 0; i < n; i++) if (value[i] - value[i] === 0) out[m++] = i;  // Finite.
      return out.subarray(0, m);
    });
    const m = rows.length, ysv = new Float64Array(m);
    for (let j = 0; j < m; j++) ysv[j] = s.value[rows[j]];
    const ys = Charts.fitScale(ysv, this.logY);
    const xs = Charts.linearScale(1, Math.max(2, m));
    Charts.axes(c, xs, ys, 'trial (finished, in id order)', s.metric);
    const xu = new Float32Array(m), yu = new Float32Array(m), cls = new Uint8Array(m);
    const best = [];
    let b = NaN;
    for (let j = 0; j < m; j++) {
      xu[j] = xs.unit(j + 1); yu[j] = ys.unit(ysv[j]);
      const succeeded = s.state[rows[j]] === 3;
      cls[j] = succeeded ? 0 : 1;
      if (!succeeded) continue;
      if (!(b === b) || (s.minimize ? ysv[j] < b : ysv[j] > b)) { b = ysv[j]; best.push([j + 1, b]); }
    }
    const drawn = Charts.raster(c, xu, yu, m, cls, [strong([37, 99, 235, 0.55], m), strong(ORANGE, m)], pointSize(m));
    if (best.length) best.push([m, b]);
    // Best so far as steps: flat until the next improvement.
    const steps = [];
    for (let k = 0; k < best.length; k++) { if (k) steps.push([best[k][0], best[k - 1][1]]); steps.push(best[k]); }
    Charts.polyline(c, xs, ys, steps, '#111', 1.5);
    c.cv.dataset.points = drawn;
  }
  drawCurves() {
    const s = this.store;
    const c = Charts.canvas(this.el.curvesBody, 240, this.curvesCv);
    this.curvesCv = c.cv;
    let maxStep = 1;
    const ys = [];
    for (const curve of s.curves.values()) for (const [x, y] of curve) { if (x > maxStep) maxStep = x; ys.push(y); }
    const yScale = Charts.fitScale(ys, this.logY), xScale = Charts.linearScale(0, maxStep);
    Charts.axes(c, xScale, yScale, 'step', s.metric);
    let drawn = 0, marked = 0;
    const color = {SUCCEEDED: 'rgba(37,99,235,0.35)', STOPPED: 'rgba(234,88,12,0.6)',
                   ACTIVE: 'rgba(22,163,74,0.8)', PENDING: 'rgba(22,163,74,0.8)'};
    for (const [id, curve] of s.curves) {
      const i = s.indexOf(id);
      if (i === undefined || !curve.length) continue;
      const state = s.stateName(i), diverged = FAILURES[s.failure[i]] === 'DIVERGED';
      const col = diverged || state === 'FAILED' ? 'rgba(220,38,38,0.7)' : color[state] || '#999';
      Charts.polyline(c, xScale, yScale, curve, col, 1);
      drawn++;
      if (state === 'STOPPED' || diverged) {
        const fin = curve.filter(([, y]) => Number.isFinite(y));
        const last = fin.length ? fin[fin.length - 1] : null;
        if (last) { Charts.cross(c, xScale, yScale, last[0], last[1], col); marked++; }
      }
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.marked = marked;
    this.curvesLabel.textContent = `${drawn} curves${this.curvesNote}`;
  }
  // Axes: the parameters on their own scales, then the objective. Lines are
  // binned: between two adjacent axes, the trials going from bin i to bin j
  // (B bins of about 2 px per axis) are one segment whose opacity grows with
  // their number. 100,000 polylines would take seconds to rasterize; the
  // binned segments, a few thousand per pair of axes, take milliseconds and
  // look the same at this size.
  drawParcoords() {
    const s = this.store, n = s.n;
    const c = Charts.canvas(this.el.parBody, 280, this.parCv);
    const fresh = !this.parEvents;
    this.parEvents = true;
    const {ctx} = c;
    const a = {x0: 60, x1: c.w - 60, y0: 18, y1: c.h - 22};
    const axes = [...s.axes.map((ax, k) => ({name: ax.name, ticks: ax.ticks, units: this.units('par' + k, s.params[k], ax)})),
      {name: s.metric, ticks: this.objScale.ticks, units: this.units('parObj', s.value, this.objScale)}];
    const m = axes.length;
    const ax = k => a.x0 + (m === 1 ? 0.5 : k / (m - 1)) * (a.x1 - a.x0);
    const ay = u => a.y1 - u * (a.y1 - a.y0);
    this.parGeom = {a, n: m, ax, ay};
    const B = Math.max(16, Math.min(160, Math.round((a.y1 - a.y0) / 2)));
    // Counts of trials per (bin on axis k, bin on axis k + 1); `want`: only
    // rows whose pass is that (null: all). Returns how many trials.
    const lines = (want, [r, g, b], alpha) => {
      const counts = Array.from({length: Math.max(0, m - 1)}, () => new Uint32Array(B * B));
      let drawn = 0;
      for (let i = 0; i < n; i++) {
        if ((want !== null && this.pass[i] !== want) || !Number.isFinite(s.value[i])) continue;
        drawn++;
        for (let k = 0; k + 1 < m; k++) {
          const u0 = axes[k].units[i], u1 = axes[k + 1].units[i];
          if (!(u0 >= 0 && u0 <= 1 && u1 >= 0 && u1 <= 1)) continue;
          counts[k][Math.min(B - 1, Math.floor(u0 * B)) * B + Math.min(B - 1, Math.floor(u1 * B))]++;
        }
      }
      // One path per opacity level (16), per pair of axes.
      const levels = 16, log1m = Math.log(1 - alpha);
      for (let k = 0; k + 1 < m; k++) {
        const paths = Array.from({length: levels}, () => []);
        const cnt = counts[k];
        for (let j = 0; j < B * B; j++) {
          if (!cnt[j]) continue;
          const opacity = 1 - Math.exp(log1m * cnt[j]);
          paths[Math.min(levels - 1, Math.floor(opacity * levels))].push(j);
        }
        const x0 = ax(k), x1 = ax(k + 1);
        paths.forEach((bins, l) => {
          if (!bins.length) return;
          ctx.strokeStyle = `rgba(${r},${g},${b},${(l + 1) / levels})`;
          ctx.lineWidth = 1;
          ctx.beginPath();
          for (const j of bins) {
            ctx.moveTo(x0, ay((Math.floor(j / B) + 0.5) / B));
            ctx.lineTo(x1, ay((j % B + 0.5) / B));
          }
          ctx.stroke();
        });
      }
      return drawn;
    };
    const alpha = Math.max(0.03, Math.min(0.5, 30 / Math.max(1, n)));
    if (this.filtered) lines(0, [156, 163, 175], alpha);
    const drawn = lines(this.filtered ? 1 : null, [37, 99, 235], Math.min(0.8, alpha * 2));
    for (let k = 0; k < m; k++) {
      const x = Math.round(ax(k)) + 0.5;
      ctx.strokeStyle = '#374151'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, a.y0); ctx.lineTo(x, a.y1); ctx.stroke();
      ctx.textAlign = 'center'; ctx.textBaseline = 'bottom'; ctx.fillStyle = '#111';
      ctx.fillText(axes[k].name, x, a.y0 - 4);
      ctx.textAlign = 'right'; ctx.textBaseline = 'middle'; ctx.fillStyle = '#6b7280';
      for (const t of axes[k].ticks()) if (t.u >= 0 && t.u <= 1) ctx.fillText(t.label, x - 4, ay(t.u));
      const b = k === this.dragAxis ? null : this.brush.get(k);  // Dragged: its band is a div (brushEvents).
      if (b) { ctx.fillStyle = 'rgba(234,88,12,0.25)'; ctx.fillRect(x - 7, ay(b[1]), 14, ay(b[0]) - ay(b[1])); }
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.brush = JSON.stringify([...this.brush]);
    this.brushLabel.textContent = this.brush.size ? ` · ${drawn} of ${n} trials selected` : '';
    if (fresh) this.brushEvents(c.cv);
  }
  // A drag along an axis moves its band (a div over the canvas) at once;
  // the lines follow when the pointer rests (PREVIEW_MS), the table and the
  // slices when it is released. Input is never kept waiting for a redraw of
  // 100,000 trials.
  brushEvents(cv) {
    let drag = null;
    const band = $('div', {class: 'brush-band'});
    cv.parentNode.append(band);
    const at = ev => { const r = cv.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };
    const unitOf = y => { const {a} = this.parGeom; return Math.max(0, Math.min(1, (a.y1 - y) / (a.y1 - a.y0))); };
    const showBand = (k, [lo, hi]) => {
      const {ax, ay} = this.parGeom, x = Math.round(ax(k)) + 0.5;
      band.style.cssText = `display:block;left:${cv.offsetLeft + x - 7}px;top:${cv.offsetTop + ay(hi)}px;height:${ay(lo) - ay(hi)}px`;
    };
    cv.addEventListener('mousedown', ev => {
      const [x, y] = at(ev);
      const {n, ax} = this.parGeom;
      for (let k = 0; k < n; k++) if (Math.abs(ax(k) - x) < 16) { drag = {k, y0: y, moved: false}; ev.preventDefault(); return; }
    });
    window.addEventListener('mousemove', ev => {
      if (!drag) return;
      const [, y] = at(ev);
      if (Math.abs(y - drag.y0) < 3) return;
      drag.moved = true;
      this.dragAxis = drag.k;
      const u0 = unitOf(drag.y0), u1 = unitOf(y), b = [Math.min(u0, u1), Math.max(u0, u1)];
      this.brush.set(drag.k, b);
      showBand(drag.k, b);
      clearTimeout(this.preview);
      this.preview = setTimeout(() => { this.computeFilter(); this.drawParcoords(); }, PREVIEW_MS);
    });
    window.addEventListener('mouseup', () => {
      if (!drag) return;
      if (!drag.moved) this.brush.delete(drag.k);
      drag = null;
      this.dragAxis = null;
      clearTimeout(this.preview);
      this.drawFiltered();
      band.style.display = 'none';
    });
  }
  // One canvas per parameter; points rasterized from cached coordinates.
  // Filtered: every point grey (a layer drawn once per data change), the
  // selected ones blue over it, so a brush paints only its selection.
  drawSlices() {
    const s = this.store, n = s.n;
    // On a linear y the objective's units are the parallel coordinates'
    // (computed already), as are a numeric parameter's x units.
    const ys = this.logY ? this.cached('sliceYlog', () => Charts.fitScale(s.value.subarray(0, n), true)) : this.objScale;
    const yu = this.units(this.logY ? 'sliceYuLog' : 'parObj', s.value, ys);
    const all = this.cached('allRows', () => new Uint8Array(n));  // Class 0 for every row.
    s.axes.forEach((ax, k) => {
      const c = Charts.canvas(this.sliceDivs[k], 200, this.sliceCvs[k]);
      this.sliceCvs[k] = c.cv;
      c.cv.dataset.param = ax.name;
      Charts.axes(c, ax, ys, ax.name, k === 0 ? s.metric : '');
      // Categories: a little deterministic spread around each category.
      const jitter = ax.categorical ? 0.6 / Math.max(1, ax.values.length) : 0;
      const xu = !jitter ? this.units('par' + k, s.params[k], ax) : this.cached('sliceXu' + k, () => {
        const out = new Float32Array(n), p = s.params[k];
        for (let i = 0; i < n; i++)
          out[i] = ax.unit(p[i]) + (jitter ? jitter * (((s.id[i] * 2654435761) % 1000) / 1000 - 0.5) : 0);
        return out;
      });
      // Unfiltered: every point blue, and the grey layer a brush draws
      // under its selection made at once (the points counted once).
      const grey = n > 2000 ? GREY : [156, 163, 175, 0.55];
      const greyKey = `sliceGrey ${k} ${this.logY} ${c.cv.width}x${c.cv.height}`;
      if (!this.filtered) {
        const [blue, base] = Charts.rasterLayers(c, xu, yu, n, [strong(BLUE, n), grey], pointSize(n));
        Charts.drawLayer(c, blue.canvas);
        this.cache[greyKey] = {version: s.version, value: base};
        c.cv.dataset.points = blue.drawn;
        return;
      }
      const base = this.cached(greyKey, () => Charts.raster(c, xu, yu, n, all, [grey], pointSize(n), true));
      Charts.drawLayer(c, base.canvas);
      // pass[i] 1 -> class 0 (blue); 0 -> class 1 (not drawn).
      const selected = this.filteredOut();
      c.cv.dataset.points = base.drawn;
      c.cv.dataset.selected = Charts.raster(c, xu, yu, n, selected, [strong(BLUE, n)], pointSize(n));
    });
  }
  // Per row: 0 if it passes the filters, 1 if not (raster's classes).
  filteredOut() {
    if (this.outFor !== this.pass) {
      this.out = this.pass.map(p => 1 - p);
      this.outFor = this.pass;
    }
    return this.out;
  }
  drawScatter() {
    const s = this.store, n = s.n;
    const c = Charts.canvas(this.el.scatterBody, 300, this.scatterCv);
    this.scatterCv = c.cv;
    if (!s.axes.length) return;
    const X = s.axes[this.scatterX], Y = s.axes[this.scatterY];
    Charts.axes(c, X, Y, X.name, Y.name);
    // Color by objective: better is darker (16 shades).
    const os = this.objScale, shade = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let u = os.unit(s.value[i]);
      if (!Number.isFinite(u)) { shade[i] = 255; continue; }
      if (s.minimize) u = 1 - u;
      shade[i] = Math.max(0, Math.min(15, Math.round(u * 15)));
    }
    const drawn = Charts.raster(c, this.units('par' + this.scatterX, s.params[this.scatterX], X),
      this.units('par' + this.scatterY, s.params[this.scatterY], Y), n, shade, n > 2000 ? SHADES : SHADES.map(c => strong(c, n)), pointSize(n) + 1);
    const {ctx, area: a} = c;
    let regions = 0;
    for (const reg of s.study.regions || []) {
      const lo = reg.lo || {}, hi = reg.hi || {};
      const x0 = lo[X.name] ?? 0, x1 = hi[X.name] ?? 1, y0 = lo[Y.name] ?? 0, y1 = hi[Y.name] ?? 1;
      const col = Charts.COLORS[(reg.round || 0) % Charts.COLORS.length];
      ctx.strokeStyle = col; ctx.lineWidth = 2; ctx.fillStyle = col;
      const px0 = Charts.px(a, x0), px1 = Charts.px(a, x1), py0 = Charts.py(a, y0), py1 = Charts.py(a, y1);
      ctx.strokeRect(px0, py1, px1 - px0, py0 - py1);
      ctx.textAlign = 'left'; ctx.textBaseline = 'top';
      ctx.fillText('round ' + (reg.round || 0), px0 + 3, py1 + 3);
      regions++;
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.regions = regions;
  }
  async loadImportance() {
    const body = this.el.impBody;
    try {
      const r = await api('/api/v1/studies/' + encodeURIComponent(this.name) + '/importance');
      const ps = r.parameters || [];
      const max = Math.max(1e-9, ...ps.map(p => p.importance || 0));
      body.replaceChildren(...ps.map(p => $('div', {class: 'imp'}, $('span', {class: 'name'}, p.name),
        $('span', {class: 'b', style: `width:${Math.round(220 * (p.importance || 0) / max)}px`}),
        $('span', {class: 'muted'}, fmt(p.importance || 0) + ' ± ' + fmt(p.stddev || 0)))),
        $('p', {class: 'muted'}, `${r.method || ''}, ${r.trials_used || 0} trials`));
      body.dataset.points = ps.length;
    } catch (e) {
      body.replaceChildren($('p', {class: 'muted'}, e.status === 409 ? 'Not enough finished trials yet.' : String(e.message)));
      body.dataset.points = 0;
    }
  }
  // One row per worker; a worker runs one trial at a time, so each row is
  // painted as runs of pixels (a trial's state per pixel column) and drawn
  // as a few rectangles, not one per trial.
  drawTimeline() {
    const s = this.store, n = s.n;
    const used = new Uint8Array(s.workers.length);  // By worker index (no Set of 100,000 adds).
    for (let i = 0; i < n; i++) if (s.worker[i] >= 0 && Number.isFinite(s.start[i])) used[s.worker[i]] = 1;
    const workers = s.workers.filter((w, k) => used[k]).sort();
    const height = Math.max(120, Math.min(400, 30 + workers.length * 16));
    const c = Charts.canvas(this.el.tlBody, height, this.tlCv);
    this.tlCv = c.cv;
    const now = Date.now() / 1000;
    let t0 = Infinity, t1 = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(s.start[i])) continue;
      t0 = Math.min(t0, s.start[i]); t1 = Math.max(t1, Number.isFinite(s.end[i]) ? s.end[i] : now);
    }
    if (t0 === Infinity) { t0 = 0; t1 = 1; }
    const xs = Charts.linearScale(0, Math.max(1e-3, t1 - t0));
    const rowOf = new Int32Array(s.workers.length).fill(-1);
    workers.forEach((w, r) => { rowOf[s.workerIndex.get(w)] = r; });
    const ys = {unit: v => 1 - (v + 0.5) / Math.max(1, workers.length),
                ticks: () => workers.length > 20 ? [] : workers.map((w, i) => ({u: 1 - (i + 0.5) / workers.length, label: w.slice(-10)}))};
    Charts.axes(c, xs, ys, 'seconds since the first start', '');
    const {ctx, area: a} = c;
    const rowH = Math.max(2, (a.y1 - a.y0) / Math.max(1, workers.length) - 2);
    const W = Math.max(1, Math.ceil(a.x1 - a.x0));
    // pixels[row * W + x]: 1 + the state of the trial there (0: idle).
    const pixels = new Uint8Array(workers.length * W);
    let drawn = 0;
    for (let i = 0; i < n; i++) {
      const r = s.worker[i] >= 0 ? rowOf[s.worker[i]] : -1;
      if (!Number.isFinite(s.start[i]) || r < 0) continue;
      const e = Number.isFinite(s.end[i]) ? s.end[i] : now;
      const x0 = Math.max(0, Math.floor(xs.unit(s.start[i] - t0) * W));
      const x1 = Math.min(W, Math.max(x0 + 1, Math.floor(xs.unit(e - t0) * W)));
      // A trial spans a pixel or two: a loop, not a call to fill() each.
      for (let q = r * W + x0, e = r * W + x1, v = 1 + s.state[i]; q < e; q++) pixels[q] = v;
      drawn++;
    }
    for (let r = 0; r < workers.length; r++) {
      const y = Charts.py(a, ys.unit(r)) - rowH / 2;
      for (let x = 0; x < W;) {
        const v = pixels[r * W + x];
        let e = x + 1;
        while (e < W && pixels[r * W + e] === v) e++;
        if (v) { ctx.fillStyle = Charts.STATE_COLOR[STATES[v - 1]] || '#999'; ctx.fillRect(a.x0 + x, y, e - x, rowH); }
        x = e;
      }
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.workers = workers.length;
  }
  // The table's columns: get(i) of row i.
  columns() {
    const s = this.store;
    return [{key: 'id', label: 'id', num: true, get: i => s.id[i]},
      {key: 'state', label: 'state', get: i => s.stateName(i)},
      {key: 'value', label: s.metric, num: true, get: i => s.value[i]},
      ...s.axes.map((ax, k) => ({key: 'p' + k, label: ax.name, num: !ax.categorical, get: i => s.paramValue(k, i)})),
      {key: 'worker', label: 'worker', get: i => s.worker[i] < 0 ? '' : s.workers[s.worker[i]]},
      {key: 'dur', label: 'seconds', num: true, get: i => s.end[i] - s.start[i]},
      {key: 'reason', label: 'reason', get: i => s.failure[i] ? FAILURES[s.failure[i]] + ': ' + s.reason(i) : s.reason(i)}];
  }
  // Rows of the table (indices): brushes and top-k, the text filter, the
  // sort; {count, rows}: how many pass, and the first `limit` of them in
  // order (a numeric sort picks them with the engine's native sort of the
  // keys, then orders only those: 100,000 rows sort in tens of ms).
  tableRows(limit) {
    const s = this.store, n = s.n, cols = this.columns();
    const text = this.text;
    let out = new Int32Array(n), m = 0;
    for (let i = 0; i < n; i++) {
      if (!this.pass[i]) continue;
      if (text && !(s.stateName(i).toLowerCase() === text || cols.some(c => String(c.get(i) ?? '').toLowerCase().includes(text)))) continue;
      out[m++] = i;
    }
    out = out.subarray(0, m);
    const take = Math.min(m, limit === undefined ? m : limit);
    const col = cols.find(c => c.key === this.sort.key) || cols[0], dir = this.sort.dir;
    // Rows are in id order already.
    if (col.key === 'id') return {count: m, rows: (dir > 0 ? out.slice(0, take) : out.slice().reverse().subarray(0, take))};
    if (col.num) {
      // Ascending keys of the wanted order; NaN (no value) last either way.
      const key = new Float64Array(m);
      for (let j = 0; j < m; j++) { const v = col.get(out[j]); key[j] = Number.isFinite(v) ? dir * v : Infinity; }
      const cut = take ? Float64Array.from(key).sort()[take - 1] : -Infinity;
      const pick = [];
      for (let j = 0; j < m; j++) if (key[j] <= cut) pick.push(j);
      pick.sort((x, y) => key[x] - key[y] || x - y);
      return {count: m, rows: Int32Array.from(pick.slice(0, take), j => out[j])};
    }
    const key = new Array(n);
    for (let j = 0; j < m; j++) key[out[j]] = String(col.get(out[j]) ?? '');
    out.sort((x, y) => (key[x] < key[y] ? -dir : key[x] > key[y] ? dir : x - y));
    return {count: m, rows: out.subarray(0, take)};
  }
  // The table holds every trial that passes the filters, in order, but
  // only the rows in view (and a few around them) are in the DOM, between
  // two spacer rows; scrolling draws the others. The order of the first
  // TABLE_FIRST rows is picked at once, the whole order the first time the
  // view scrolls past them.
  drawTable() {
    const s = this.store, cols = this.columns(), {count, rows} = this.tableRows(TABLE_FIRST);
    this.tableView = {count, rows, all: rows.length === count, cols};
    const head = $('tr', {}, ...cols.map(c => $('th', {class: c.num ? 'num' : '', 'data-key': c.key,
      onclick: () => { this.sort = {key: c.key, dir: this.sort.key === c.key ? -this.sort.dir : 1}; this.drawTable(); }},
      c.label + (this.sort.key === c.key ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : ''))));
    this.tbody = $('tbody');
    const table = $('table', {id: 'trial-table', 'data-rows': count}, $('thead', {}, head), this.tbody);
    this.tableWrap = $('div', {class: 'tablewrap', onscroll: () => this.tableWindow()}, table);
    this.el.tabBody.replaceChildren(this.tableWrap);
    this.tableWindow();
    // Rows are drawn at an assumed height: measure it once, then redraw.
    const row = this.tbody.querySelector('tr[data-id]');
    const h = row ? row.getBoundingClientRect().height : 0;
    if (h > 0 && Math.abs(h - this.rowHeight) > 0.5) { this.rowHeight = h; this.tableWindow(); }
    this.tableLabel.textContent = ` ${count} of ${s.n} trials`;
  }
  tableWindow() {
    const v = this.tableView, wrap = this.tableWrap, H = this.rowHeight;
    const top = wrap.scrollTop, height = wrap.clientHeight || 420;
    const from = Math.min(v.count, Math.max(0, Math.floor(top / H) - 10));
    const to = Math.min(v.count, Math.ceil((top + height) / H) + 10);
    if (to > v.rows.length && !v.all) { v.rows = this.tableRows().rows; v.all = true; }
    const s = this.store, cols = v.cols;
    const cell = (c, i) => {
      const val = c.get(i);
      if (c.key === 'id') return $('td', {class: 'num'}, $('a', {href: '#/trial/' + val}, val));
      if (c.key === 'state') return $('td', {}, $('span', {class: 'state ' + val}, val));
      return $('td', {class: c.num ? 'num' : ''}, typeof val === 'number' ? (Number.isFinite(val) ? fmt(val) : '') : (val ?? ''));
    };
    const spacer = px => $('tr', {class: 'spacer'}, $('td', {colspan: cols.length, style: `height:${px}px`}));
    const rows = [];
    for (let r = from; r < to; r++) { const i = v.rows[r]; rows.push($('tr', {'data-id': s.id[i]}, ...cols.map(c => cell(c, i)))); }
    this.tbody.replaceChildren(spacer(from * H), ...rows, spacer((v.count - to) * H));
  }
  downloadCsv() {
    const cols = this.columns(), {rows} = this.tableRows();
    const q = v => { const t = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v ?? ''); return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t; };
    const text = [cols.map(c => q(c.label)).join(','), ...Array.from(rows, i => cols.map(c => q(c.get(i))).join(','))].join('\n') + '\n';
    const a = $('a', {href: URL.createObjectURL(new Blob([text], {type: 'text/csv'})), download: this.name + '-trials.csv'});
    document.body.append(a); a.click(); a.remove();
  }
}

// ---- Trial page -------------------------------------------------------------
async function trialPage(id) {
  const token = pageToken;
  const t = await api('/api/v1/trials/' + encodeURIComponent(id));
  if (token !== pageToken) return;
  let study = null;
  try { study = await api('/api/v1/studies/' + encodeURIComponent(t.study)); } catch (e) { /* deleted study */ }
  if (token !== pageToken) return;
  crumbs('/ ', $('a', {href: '#/study/' + encodeURIComponent(t.study)}, t.study), ' / trial ' + t.id);
  const ms = t.measurements || [];
  const metrics = [...new Set(ms.flatMap(m => Object.keys(m.metrics || {})))];
  let metric = study && metrics.includes(study.spec.objective.metric) ? study.spec.objective.metric : metrics[0];
  const chart = $('div', {id: 'trial-curve'});
  const select = $('select', {onchange: e => { metric = e.target.value; draw(); }},
    ...metrics.map(m => { const o = $('option', {value: m}, m); if (m === metric) o.selected = true; return o; }));
  const kv = (k, v) => v === undefined || v === '' ? null : $('tr', {}, $('td', {}, k), $('td', {}, v));
  const params = Object.entries(t.parameters || {}).map(([k, v]) => kv(k, String(paramValue(v))));
  main.replaceChildren(
    $('h2', {}, `Trial ${t.id} `, $('span', {class: 'state ' + (t.state || '')}, t.state || ''), ' ',
      $('span', {class: 'muted'}, 'of ', $('a', {href: '#/study/' + encodeURIComponent(t.study)}, t.study))),
    $('div', {class: 'grid'},
      $('div', {class: 'card wide'}, $('h3', {}, 'Learning curve'),
        $('div', {class: 'toolbar legend'}, select,
          $('span', {}, $('i', {style: 'background:#9333ea'}), 'nudge'),
          $('span', {}, $('i', {style: 'background:#dc2626'}), 'rollback / new attempt'),
          $('span', {}, $('i', {style: 'background:#0891b2'}), 'checkpoint')), chart),
      $('div', {class: 'card'}, $('h3', {}, 'Parameters'), $('table', {class: 'kv', id: 'trial-params'}, ...params)),
      $('div', {class: 'card'}, $('h3', {}, 'Outcome'), $('table', {class: 'kv', id: 'trial-outcome'},
        kv('objective', t.objective_value !== undefined ? fmt(num(t.objective_value)) : undefined),
        kv('failure', t.failure_kind ? t.failure_kind + (t.failure_reason ? ': ' + t.failure_reason : '') : t.failure_reason),
        kv('stop reason', t.stop_reason), kv('worker', t.worker_id), kv('attempt', t.attempt),
        kv('round', t.round), kv('origin', t.origin), kv('retest of', t.retest_of),
        kv('created', when(t.create_time)), kv('started', when(t.start_time)), kv('ended', when(t.end_time)),
        kv('nudges', (t.nudges || []).map(n => `#${n.id || ''} ` + (n.applied_at_step !== undefined ? `from step ${n.applied_at_step}`
          : n.delivered_after_step !== undefined ? `delivered after step ${n.delivered_after_step}` : '(not yet delivered)') + ': ' +
          Object.entries(n.parameters || {}).map(([k, v]) => k + '=' + paramValue(v)).join(', ')).join('; ') || undefined),
        kv('rollbacks', (t.branches || []).map(b => `branch ${b.number} from branch ${b.parent || 0} at step ${b.from_step || 0}`).join('; ') || undefined),
        kv('checkpoints', (t.checkpoints || []).map(cp => `step ${cp.step || 0}`).join(', ') || undefined)))));
  const draw = () => {
    const c = Charts.canvas(chart, 300, chart.querySelector('canvas'));
    const pts = ms.map(m => [num(m.step), num((m.metrics || {})[metric])]);
    const xs = Charts.linearScale(0, Math.max(1, ...pts.map(p => p[0])));
    const ys = Charts.fitScale(pts.map(p => p[1]), false);
    Charts.axes(c, xs, ys, 'step', metric);
    // Each rollback branch (Measurement.branch) is its own polyline,
    // labelled at its last point; a new attempt within a branch starts a
    // new run of it.
    const branches = new Map();
    ms.forEach((m, i) => {
      const b = m.branch || 0;
      if (!branches.has(b)) branches.set(b, []);
      branches.get(b).push(i);
    });
    const labelled = branches.size > 1 || (t.branches || []).length > 0;
    let marks = 0;
    // Per branch, the points its polyline went through, and the labels
    // drawn (the browser test reads both).
    const branchPoints = {}, labels = [];
    for (const [b, idx] of branches) {
      branchPoints[b] = idx.filter(i => Number.isFinite(pts[i][1])).length;
      const color = Charts.COLORS[b % Charts.COLORS.length];
      let run = [];
      idx.forEach((i, j) => {
        if (j > 0 && (ms[i].attempt || 1) !== (ms[idx[j - 1]].attempt || 1)) {
          Charts.polyline(c, xs, ys, run, color, 1.5);
          Charts.vline(c, xs, pts[i][0], '#dc2626', 'attempt ' + ms[i].attempt, [4, 3], 2);
          marks++;
          run = [];
        }
        run.push(pts[i]);
      });
      Charts.polyline(c, xs, ys, run, color, 1.5);
      const last = run.filter(p => Number.isFinite(p[1])).pop();
      if (labelled && last) {
        const {ctx, area: a} = c;
        // Rightwards of its last point, or leftwards near the right edge.
        const label = b ? 'branch ' + b : 'first run', X = Charts.px(a, xs.unit(last[0]));
        const right = X > a.x1 - 60;
        ctx.fillStyle = color; ctx.textAlign = right ? 'right' : 'left'; ctx.textBaseline = 'bottom';
        ctx.fillText(label, right ? X - 4 : X + 4, Charts.py(a, ys.unit(last[1])) - 2);
        labels.push(label);
      }
    }
    c.cv.dataset.branches = branches.size;
    c.cv.dataset.branchPoints = JSON.stringify(branchPoints);
    c.cv.dataset.labels = JSON.stringify(labels);
    const drawn = Charts.points(c, pts.map(p => p[0]), pts.map(p => p[1]), xs, ys, i => Charts.COLORS[(ms[i].branch || 0) % Charts.COLORS.length], 4);
    // Where each branch left its parent: the checkpoint it continues from.
    const rollbackMarks = [];
    for (const br of t.branches || []) {
      const label = `rollback → branch ${br.number}`;
      if (!Charts.vline(c, xs, num(br.from_step || 0), '#dc2626', label, [4, 3], 0)) continue;
      rollbackMarks.push({step: num(br.from_step || 0), label});
      marks++;
    }
    // Nudges at the first step trained with them; one delivered but not
    // acknowledged yet after the step it was delivered at.
    let nudges = 0;
    for (const n of t.nudges || []) {
      const applied = n.applied_at_step !== undefined;
      if (!applied && n.delivered_after_step === undefined) continue;
      Charts.vline(c, xs, num(applied ? n.applied_at_step : n.delivered_after_step), '#9333ea',
        `nudge ${n.id || ''}` + (applied ? '' : ' (not applied yet)'), applied ? null : [2, 3], 1);
      marks++; nudges++;
    }
    const checkpoints = t.checkpoints || [];
    for (const cp of checkpoints) { Charts.vline(c, xs, num(cp.step), '#0891b2', 'ckpt', [2, 2], 3); marks++; }
    c.cv.dataset.points = drawn;
    c.cv.dataset.marks = marks;
    c.cv.dataset.nudges = nudges;
    c.cv.dataset.checkpoints = checkpoints.length;
    c.cv.dataset.rollbacks = JSON.stringify(rollbackMarks);
  };
  if (!ms.length) chart.append($('p', {class: 'muted'}, 'No measurements reported.'));
  else draw();
  document.body.dataset.trialReady = '1';
}

// ---- Router ------------------------------------------------------------------
async function route() {
  pageToken++;
  stopPolling();
  window.onresize = null;
  delete document.body.dataset.studyReady;
  delete document.body.dataset.studyInteractive;
  delete document.body.dataset.studyFetched;
  delete document.body.dataset.studyStored;
  delete document.body.dataset.curvesWaited;
  delete document.body.dataset.curvesReady;
  delete document.body.dataset.trialReady;
  const h = location.hash.replace(/^#\/?/, '');
  const [page, ...rest] = h.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  try {
    if (page === 'study' && arg) await studyPage(arg);
    else if (page === 'trial' && arg) await trialPage(arg);
    else await studiesPage();
  } catch (e) { showError(e); }
}
window.addEventListener('hashchange', route);
route();
