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
async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem('caviar-token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch(path, {headers});
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 || r.status === 403) { askToken(body); throw new Error('unauthorized'); }
  if (!r.ok) {
    const e = new Error(body.error ? body.error.code + ': ' + body.error.message : 'HTTP ' + r.status);
    e.status = r.status;
    throw e;
  }
  return body;
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
const when = t => t ? new Date(t).toLocaleString() : '';
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
// All trials of the study in columns, by id order; merged by id.
class TrialStore {
  constructor(study) {
    this.setStudy(study);
    this.rows = [];       // Trial objects without curves.
    this.byId = new Map();  // id -> row index.
    this.curves = new Map();  // id -> [[step, value], ...] of the objective.
    this.maxId = 0;
  }
  setStudy(study) {
    this.study = study;
    this.spec = study.spec;
    this.metric = study.spec.objective.metric;
    this.minimize = study.spec.objective.goal === 'MINIMIZE';
    this.axes = (study.spec.parameters || []).map(paramAxis);
  }
  upsert(t) {
    const id = num(t.id);
    const row = {
      id, state: t.state || 'PENDING', value: objectiveOf(t),
      params: this.axes.map(a => { const v = paramValue((t.parameters || {})[a.name]); return a.code(v); }),
      raw: this.axes.map(a => paramValue((t.parameters || {})[a.name])),
      worker: t.worker_id || '', start: time(t.start_time), end: time(t.end_time),
      failure: t.failure_kind || '', reason: t.failure_reason || t.stop_reason || '',
    };
    if (t.measurements) {
      this.curves.set(id, t.measurements.map(m => [num(m.step), num((m.metrics || {})[this.metric])]));
    }
    const at = this.byId.get(id);
    if (at === undefined) {
      this.byId.set(id, this.rows.length);
      this.rows.push(row);
      if (id > this.maxId) this.maxId = id;
    } else {
      this.rows[at] = row;
    }
  }
  open() { return this.rows.filter(r => r.state === 'PENDING' || r.state === 'ACTIVE').map(r => r.id); }
}

// Pages of trials by id after `first` (already fetched): pages of 10,000,
// onPage after each.
async function loadRest(store, path, token, first, onPage) {
  let r = first;
  for (;;) {
    for (const t of r.trials) store.upsert(t);
    onPage(r);
    if (!r.more) return;
    const after = r.next_after;
    r = await api(`${path}?limit=10000&after=${after}`);
    if (token !== pageToken) return;
  }
}

// ---- Study page: view -------------------------------------------------------
async function studyPage(name) {
  const token = pageToken;
  const t0 = performance.now();
  crumbs('/ ', $('a', {href: '#/study/' + encodeURIComponent(name)}, name));
  const base = '/api/v1/studies/' + encodeURIComponent(name);
  // The study and a small first page of trials at once, so the charts
  // appear early; the rest follows in pages of 10,000.
  const [study, first] = await Promise.all([api(base), api(base + '/trials?limit=2000&after=0')]);
  if (token !== pageToken) return;
  const store = new TrialStore(study);
  const view = new StudyView(store, name);
  // Drawn from the first page on, and again as each page arrives: a large
  // study is usable while the rest of its trials load.
  await loadRest(store, base + '/trials', token, first, r => {
    // Drawn at the first page and the last: each draw of a large study
    // costs a few hundred milliseconds the loading would wait for.
    if (!view.head) view.render(); else if (!r.more) view.draw();
    if (!document.body.dataset.studyInteractive)
      document.body.dataset.studyInteractive = String(performance.now() - t0);
    setLive(r.more ? `loading ${store.rows.length} / ${r.total}` : '');
  });
  if (token !== pageToken) return;
  if (!view.head) view.render();
  document.body.dataset.studyReady = String(performance.now() - t0);
  setLive('live · ' + store.rows.length + ' trials');
  // Curves after the page is up: all of them for a small study, the latest
  // 2,000 trials' of a large one.
  const n = store.rows.length, keep = 2000;
  const from = n > keep ? store.rows[n - keep - 1].id : 0;
  view.curvesNote = n > keep ? ` (latest ${keep} of ${n})` : '';
  let after = from;
  for (;;) {
    const r = await api(`${base}/trials?limit=1000&measurements=true&after=${after}`);
    if (token !== pageToken) return;
    for (const t of r.trials) store.upsert(t);
    after = r.next_after;
    if (!r.more) break;
  }
  view.draw();
  document.body.dataset.curvesReady = '1';
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
      setLive('live · ' + store.rows.length + ' trials · ' + new Date().toLocaleTimeString());
    } catch (e) { if (token === pageToken) setLive('offline: ' + e.message); }
    if (token === pageToken) pollTimer = setTimeout(poll, 1500);
  };
  pollTimer = setTimeout(poll, 1500);
}

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
  }
  card(title, id, wide, ...extra) {
    const body = $('div', {id});
    const c = $('div', {class: 'card' + (wide ? ' wide' : '')}, $('h3', {}, title), ...extra, body);
    return [c, body];
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
        `${(sp.algorithm || {}).name || 'random'} · ${this.store.rows.length} trials: ` +
        `${c('pending_trials')} pending, ${c('active_trials')} active, ${c('succeeded_trials')} succeeded, ` +
        `${c('failed_trials')} failed, ${c('stopped_trials')} stopped · created ${when(st.create_time)}` +
        (st.state_reason ? ' · ' + st.state_reason : '')));
  }
  draw() {
    if (!this.head) return;
    // Each step's milliseconds in data-draw-ms (bench/dashboard reads them).
    const ms = {};
    for (const step of ['header', 'computeFilter', 'drawHistory', 'drawCurves', 'drawParcoords',
                        'drawSlices', 'drawScatter', 'drawTimeline', 'drawTable']) {
      const t = performance.now();
      this[step]();
      ms[step] = Math.round(performance.now() - t);
    }
    document.body.dataset.drawMs = JSON.stringify(ms);
  }
  // What the brushes and the top-k% filter change: the charts that grey
  // out filtered trials, and the table.
  drawFiltered() {
    this.computeFilter();
    this.drawParcoords();
    this.drawSlices();
    this.drawTable();
  }
  // Rows passing the top-k% filter and the brushes.
  computeFilter() {
    const s = this.store, rows = s.rows;
    let cut = null;
    if (this.topK < 100) {
      const vals = rows.map(r => r.value).filter(Number.isFinite).sort((a, b) => s.minimize ? a - b : b - a);
      cut = vals.length ? vals[Math.max(0, Math.ceil(vals.length * this.topK / 100) - 1)] : null;
    }
    this.objScale = Charts.fitScale(rows.map(r => r.value), false);
    const pass = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      let ok = true;
      if (cut !== null) ok = Number.isFinite(r.value) && (s.minimize ? r.value <= cut : r.value >= cut);
      for (const [axis, [lo, hi]] of this.brush) {
        if (!ok) break;
        const u = axis < s.axes.length ? s.axes[axis].unit(r.params[axis]) : this.objScale.unit(r.value);
        ok = u >= lo && u <= hi;
      }
      pass[i] = ok ? 1 : 0;
    }
    this.pass = pass;
    this.filtered = this.brush.size > 0 || cut !== null;
  }
  drawHistory() {
    const s = this.store, rows = s.rows;
    const c = Charts.canvas(this.el.histBody, 240, this.histCv);
    this.histCv = c.cv;
    const xsv = [], ysv = [], st = [];
    for (const r of rows) if (Number.isFinite(r.value)) { xsv.push(xsv.length + 1); ysv.push(r.value); st.push(r.state); }
    const ys = Charts.fitScale(ysv, this.logY);
    const xs = Charts.linearScale(1, Math.max(2, xsv.length));
    Charts.axes(c, xs, ys, 'trial (finished, in id order)', s.metric);
    const drawn = Charts.points(c, xsv, ysv, xs, ys,
      i => st[i] === 'SUCCEEDED' ? 'rgba(37,99,235,0.55)' : 'rgba(234,88,12,0.6)', 3);
    const best = [];
    let b = NaN;
    for (let i = 0; i < ysv.length; i++) {
      if (st[i] !== 'SUCCEEDED') continue;
      if (!(b === b) || (s.minimize ? ysv[i] < b : ysv[i] > b)) b = ysv[i];
      best.push([xsv[i], b]);
    }
    if (best.length) best.push([xsv.length, b]);
    Charts.polyline(c, xs, ys, best, '#111', 1.5);
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
      const r = s.rows[s.byId.get(id)];
      if (!r || !curve.length) continue;
      const diverged = r.failure === 'DIVERGED';
      const col = diverged || r.state === 'FAILED' ? 'rgba(220,38,38,0.7)' : color[r.state] || '#999';
      Charts.polyline(c, xScale, yScale, curve, col, 1);
      drawn++;
      if (r.state === 'STOPPED' || diverged) {
        const fin = curve.filter(([, y]) => Number.isFinite(y));
        const last = fin.length ? fin[fin.length - 1] : null;
        if (last) { Charts.cross(c, xScale, yScale, last[0], last[1], col); marked++; }
      }
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.marked = marked;
    this.curvesLabel.textContent = `${drawn} curves${this.curvesNote}`;
  }
  // Axes: the parameters on their own scales, then the objective.
  drawParcoords() {
    const s = this.store, rows = s.rows;
    const c = Charts.canvas(this.el.parBody, 280, this.parCv);
    const fresh = !this.parCv;
    this.parCv = c.cv;
    const {ctx} = c;
    const a = {x0: 60, x1: c.w - 60, y0: 18, y1: c.h - 22};
    const axes = [...s.axes.map(ax => ({name: ax.name, unit: v => ax.unit(v), ticks: ax.ticks, col: i => rows[i].params[s.axes.indexOf(ax)]})),
      {name: s.metric, unit: v => this.objScale.unit(v), ticks: this.objScale.ticks, col: i => rows[i].value}];
    const n = axes.length;
    const ax = k => a.x0 + (n === 1 ? 0.5 : k / (n - 1)) * (a.x1 - a.x0);
    const ay = u => a.y1 - u * (a.y1 - a.y0);
    this.parGeom = {a, n, ax, ay};
    // Lines: filtered-out ones grey, the others colored by objective.
    const units = axes.map((axis, k) => rows.map((r, i) => axis.unit(axis.col(i))));
    let drawn = 0;
    const draw = (want, style) => {
      ctx.strokeStyle = style;
      ctx.beginPath();
      let inPath = 0;
      for (let i = 0; i < rows.length; i++) {
        if (this.pass[i] !== want || !Number.isFinite(rows[i].value)) continue;
        // Stroked in batches: one path of 100,000 polylines is far slower
        // to rasterize than 100 paths of 1,000.
        if (++inPath === 1000) { ctx.stroke(); ctx.beginPath(); inPath = 0; }
        let moved = false;
        for (let k = 0; k < n; k++) {
          const u = units[k][i];
          if (!Number.isFinite(u)) { moved = false; continue; }
          if (moved) ctx.lineTo(ax(k), ay(u)); else { ctx.moveTo(ax(k), ay(u)); moved = true; }
        }
        if (want) drawn++;
      }
      ctx.stroke();
    };
    const alpha = Math.max(0.03, Math.min(0.5, 30 / Math.max(1, rows.length)));
    ctx.lineWidth = 1;
    if (this.filtered) draw(0, `rgba(156,163,175,${alpha})`);
    draw(1, `rgba(37,99,235,${Math.min(0.8, alpha * 2)})`);
    ctx.fillStyle = '#374151';
    for (let k = 0; k < n; k++) {
      const x = Math.round(ax(k)) + 0.5;
      ctx.strokeStyle = '#374151'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, a.y0); ctx.lineTo(x, a.y1); ctx.stroke();
      ctx.textAlign = 'center'; ctx.textBaseline = 'bottom'; ctx.fillStyle = '#111';
      ctx.fillText(axes[k].name, x, a.y0 - 4);
      ctx.textAlign = 'right'; ctx.textBaseline = 'middle'; ctx.fillStyle = '#6b7280';
      for (const t of axes[k].ticks()) if (t.u >= 0 && t.u <= 1) ctx.fillText(t.label, x - 4, ay(t.u));
      const b = this.brush.get(k);
      if (b) { ctx.fillStyle = 'rgba(234,88,12,0.25)'; ctx.fillRect(x - 7, ay(b[1]), 14, ay(b[0]) - ay(b[1])); }
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.brush = JSON.stringify([...this.brush]);
    this.brushLabel.textContent = this.brush.size ? ` · ${drawn} of ${rows.length} trials selected` : '';
    if (fresh) this.brushEvents(c.cv);
  }
  brushEvents(cv) {
    let drag = null;
    const at = ev => { const r = cv.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };
    const unitOf = y => { const {a} = this.parGeom; return Math.max(0, Math.min(1, (a.y1 - y) / (a.y1 - a.y0))); };
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
      const u0 = unitOf(drag.y0), u1 = unitOf(y);
      this.brush.set(drag.k, [Math.min(u0, u1), Math.max(u0, u1)]);
      if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = null; this.computeFilter(); this.drawParcoords(); });
    });
    window.addEventListener('mouseup', () => {
      if (!drag) return;
      if (!drag.moved) this.brush.delete(drag.k);
      drag = null;
      this.drawFiltered();
    });
  }
  drawSlices() {
    const s = this.store, rows = s.rows, body = this.el.slicesBody;
    if (!this.sliceDivs) {
      this.sliceDivs = s.axes.map(ax => $('div', {'data-param': ax.name}, $('div', {class: 'muted'}, ax.name + (ax.scale && ax.scale !== 'LINEAR' ? ` (${ax.scale})` : ''))));
      body.replaceChildren($('div', {class: 'slices'}, ...this.sliceDivs));
      this.sliceCvs = [];
    }
    const ys = Charts.fitScale(rows.map(r => r.value), this.logY);
    s.axes.forEach((ax, k) => {
      const c = Charts.canvas(this.sliceDivs[k], 200, this.sliceCvs[k]);
      this.sliceCvs[k] = c.cv;
      c.cv.dataset.param = ax.name;
      Charts.axes(c, ax, ys, ax.name, k === 0 ? s.metric : '');
      const jitter = ax.categorical ? 0.6 / Math.max(1, ax.values.length) : 0;
      const xv = rows.map(r => r.params[k]);
      const xScale = jitter ? {unit: (v, i) => ax.unit(v)} : ax;
      let drawn;
      if (jitter) {
        // Categories: a little deterministic spread around each category.
        const jv = rows.map((r, i) => ((r.id * 2654435761) % 1000) / 1000 - 0.5);
        drawn = Charts.points(c, xv.map((v, i) => i), rows.map(r => r.value),
          {unit: i => ax.unit(xv[i]) + jitter * jv[i]}, ys, i => this.pass[i] ? 'rgba(37,99,235,0.45)' : 'rgba(156,163,175,0.3)', 3);
      } else {
        drawn = Charts.points(c, xv, rows.map(r => r.value), xScale, ys,
          i => this.pass[i] ? 'rgba(37,99,235,0.45)' : 'rgba(156,163,175,0.3)', 3);
      }
      c.cv.dataset.points = drawn;
    });
  }
  drawScatter() {
    const s = this.store, rows = s.rows;
    const c = Charts.canvas(this.el.scatterBody, 300, this.scatterCv);
    this.scatterCv = c.cv;
    if (!s.axes.length) return;
    const X = s.axes[this.scatterX], Y = s.axes[this.scatterY];
    Charts.axes(c, X, Y, X.name, Y.name);
    // Color by objective: better is darker.
    const os = this.objScale;
    const palette = Array.from({length: 16}, (_, k) => { const u = k / 15; return `hsla(${220 - 200 * u}, 80%, ${60 - 25 * u}%, 0.7)`; });
    const shade = i => {
      let u = os.unit(rows[i].value);
      if (!Number.isFinite(u)) return null;
      if (s.minimize) u = 1 - u;
      return palette[Math.max(0, Math.min(15, Math.round(u * 15)))];
    };
    const drawn = Charts.points(c, rows.map(r => r.params[this.scatterX]), rows.map(r => r.params[this.scatterY]), X, Y, shade, 4);
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
  drawTimeline() {
    const s = this.store, rows = s.rows;
    const workers = [...new Set(rows.filter(r => r.worker && Number.isFinite(r.start)).map(r => r.worker))].sort();
    const height = Math.max(120, Math.min(400, 30 + workers.length * 16));
    const c = Charts.canvas(this.el.tlBody, height, this.tlCv);
    this.tlCv = c.cv;
    const now = Date.now() / 1000;
    let t0 = Infinity, t1 = -Infinity;
    for (const r of rows) if (Number.isFinite(r.start)) { t0 = Math.min(t0, r.start); t1 = Math.max(t1, Number.isFinite(r.end) ? r.end : now); }
    if (t0 === Infinity) { t0 = 0; t1 = 1; }
    const xs = Charts.linearScale(0, Math.max(1e-3, t1 - t0));
    const idx = new Map(workers.map((w, i) => [w, i]));
    const ys = {unit: v => 1 - (v + 0.5) / Math.max(1, workers.length),
                ticks: () => workers.length > 20 ? [] : workers.map((w, i) => ({u: 1 - (i + 0.5) / workers.length, label: w.slice(-10)}))};
    Charts.axes(c, xs, ys, 'seconds since the first start', '');
    const {ctx, area: a} = c;
    const rowH = Math.max(2, (a.y1 - a.y0) / Math.max(1, workers.length) - 2);
    let drawn = 0;
    for (const r of rows) {
      if (!Number.isFinite(r.start) || !idx.has(r.worker)) continue;
      const e = Number.isFinite(r.end) ? r.end : now;
      const x0 = Charts.px(a, xs.unit(r.start - t0)), x1 = Charts.px(a, xs.unit(e - t0));
      const y = Charts.py(a, ys.unit(idx.get(r.worker))) - rowH / 2;
      ctx.fillStyle = Charts.STATE_COLOR[r.state] || '#999';
      ctx.fillRect(x0, y, Math.max(1, x1 - x0 - 0.5), rowH);
      drawn++;
    }
    c.cv.dataset.points = drawn;
    c.cv.dataset.workers = workers.length;
  }
  columns() {
    const s = this.store;
    return [{key: 'id', label: 'id', num: true, get: r => r.id},
      {key: 'state', label: 'state', get: r => r.state},
      {key: 'value', label: s.metric, num: true, get: r => r.value},
      ...s.axes.map((ax, k) => ({key: 'p' + k, label: ax.name, num: !ax.categorical, get: r => r.raw[k]})),
      {key: 'worker', label: 'worker', get: r => r.worker},
      {key: 'dur', label: 'seconds', num: true, get: r => r.end - r.start},
      {key: 'reason', label: 'reason', get: r => r.failure ? r.failure + ': ' + r.reason : r.reason}];
  }
  // Rows of the table: brushes and top-k, the text filter, the sort.
  tableRows() {
    const s = this.store, cols = this.columns();
    const text = this.text;
    let out = [];
    for (let i = 0; i < s.rows.length; i++) {
      if (!this.pass[i]) continue;
      const r = s.rows[i];
      if (text && !(r.state.toLowerCase() === text || cols.some(c => String(c.get(r)).toLowerCase().includes(text)))) continue;
      out.push(r);
    }
    const col = cols.find(c => c.key === this.sort.key) || cols[0], dir = this.sort.dir;
    const key = r => { const v = col.get(r); return col.num ? (Number.isFinite(v) ? v : -Infinity) : String(v ?? ''); };
    out.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; });
    return out;
  }
  drawTable() {
    const cols = this.columns(), rows = this.tableRows(), shown = rows.slice(0, 200);
    const cell = (c, r) => {
      const v = c.get(r);
      if (c.key === 'id') return $('td', {class: 'num'}, $('a', {href: '#/trial/' + v}, v));
      if (c.key === 'state') return $('td', {}, $('span', {class: 'state ' + v}, v));
      return $('td', {class: c.num ? 'num' : ''}, typeof v === 'number' ? (Number.isFinite(v) ? fmt(v) : '') : (v ?? ''));
    };
    const head = $('tr', {}, ...cols.map(c => $('th', {class: c.num ? 'num' : '', 'data-key': c.key,
      onclick: () => { this.sort = {key: c.key, dir: this.sort.key === c.key ? -this.sort.dir : 1}; this.drawTable(); }},
      c.label + (this.sort.key === c.key ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : ''))));
    const table = $('table', {id: 'trial-table', 'data-rows': rows.length}, head,
      ...shown.map(r => $('tr', {'data-id': r.id}, ...cols.map(c => cell(c, r)))));
    this.el.tabBody.replaceChildren($('div', {class: 'tablewrap'}, table));
    this.tableLabel.textContent = ` ${rows.length} of ${this.store.rows.length} trials` + (rows.length > 200 ? ' (first 200 shown; CSV has all)' : '');
  }
  downloadCsv() {
    const cols = this.columns(), rows = this.tableRows();
    const q = v => { const t = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v ?? ''); return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t; };
    const text = [cols.map(c => q(c.label)).join(','), ...rows.map(r => cols.map(c => q(c.get(r))).join(','))].join('\n') + '\n';
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
        kv('nudges', (t.nudges || []).map(n => `after step ${n.delivered_after_step ?? '(not yet delivered)'}: ` +
          Object.entries(n.parameters || {}).map(([k, v]) => k + '=' + paramValue(v)).join(', ')).join('; ') || undefined)))));
  const draw = () => {
    const c = Charts.canvas(chart, 300, chart.querySelector('canvas'));
    const pts = ms.map(m => [num(m.step), num((m.metrics || {})[metric])]);
    const xs = Charts.linearScale(0, Math.max(1, ...pts.map(p => p[0])));
    const ys = Charts.fitScale(pts.map(p => p[1]), false);
    Charts.axes(c, xs, ys, 'step', metric);
    // Rollbacks: the step goes back or a new attempt starts; each run of
    // the curve is drawn on its own.
    let run = [], marks = 0, lastAttempt = ms.length ? (ms[0].attempt || 1) : 1, drawn = 0;
    for (let i = 0; i < ms.length; i++) {
      const attempt = ms[i].attempt || 1;
      if (i > 0 && (pts[i][0] <= pts[i - 1][0] || attempt !== lastAttempt)) {
        Charts.polyline(c, xs, ys, run, '#2563eb', 1.5);
        Charts.vline(c, xs, pts[i][0], '#dc2626', attempt !== lastAttempt ? 'attempt ' + attempt : 'rollback', [4, 3]);
        marks++;
        run = [];
      }
      run.push(pts[i]);
      lastAttempt = attempt;
    }
    Charts.polyline(c, xs, ys, run, '#2563eb', 1.5);
    drawn = Charts.points(c, pts.map(p => p[0]), pts.map(p => p[1]), xs, ys, () => '#1d4ed8', 4);
    for (const n of t.nudges || []) {
      if (n.delivered_after_step === undefined) continue;
      Charts.vline(c, xs, num(n.delivered_after_step), '#9333ea', 'nudge');
      marks++;
    }
    for (const cp of t.checkpoints || []) { Charts.vline(c, xs, num(cp.step), '#0891b2', 'ckpt', [2, 2]); marks++; }
    c.cv.dataset.points = drawn;
    c.cv.dataset.marks = marks;
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
