// caviar dashboard: a study's trials in columns (typed arrays), as
// GET /api/v1/studies/{name}/columns?format=binary sends them (typed arrays
// themselves: parseColumns), merged by id with the
// protobuf-JSON trials of /changes. Charts read the columns by row index
// (rows are in id order: columns come by id, new trials have larger ids).
'use strict';
const STATES = ['TRIAL_STATE_UNSPECIFIED', 'PENDING', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'STOPPED', 'PAUSED'];
const STATE_CODE = new Map(STATES.map((s, i) => [s, i]));
const FAILURES = ['FAILURE_KIND_UNSPECIFIED', 'CRASHED', 'DIVERGED', 'INFEASIBLE', 'LEASE_EXPIRED'];
const FAILURE_CODE = new Map(FAILURES.map((s, i) => [s, i]));

// An answer of /columns?format=binary (server/http/trial_columns.h): a
// little-endian uint32 N, N bytes of JSON (envelope, dictionaries, the
// columns' types and offsets), then the columns. Each column becomes a
// typed array over the answer's bytes (little-endian, as every machine a
// browser runs on). Returns the JSON with `arrays`: name -> typed array.
function parseColumns(buffer) {
  const n = new DataView(buffer).getUint32(0, true);
  const c = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
  const Types = {f64: Float64Array, i32: Int32Array, u8: Uint8Array};
  c.arrays = {};
  c.whole = {};  // An i32 column with a base or a none: {raw, base, none}.
  for (const col of c.columns) {
    const a = new Types[col.type](buffer, col.offset, c.count);
    if (col.base === undefined && col.none === undefined) { c.arrays[col.name] = a; continue; }
    const w = c.whole[col.name] = {raw: a, base: col.base || 0, none: col.none};
    // As numbers when asked for (TrialStore.copyAppended reads `raw` instead).
    Object.defineProperty(c.arrays, col.name, {enumerable: true, configurable: true, get() {
      const out = wholeNumbers(w.raw, w.base, w.none, 1);
      Object.defineProperty(c.arrays, col.name, {value: out});
      return out;
    }});
  }
  return c;
}
// An i32 column of offsets from `base` (`none`: NaN) as numbers, divided
// by `unit`, into `out` from `at` (a new array by default).
function wholeNumbers(a, base, none, unit, out = new Float64Array(a.length), at = 0) {
  for (let i = 0; i < a.length; i++) { const v = a[i]; out[at + i] = v === none ? NaN : (base + v) / unit; }
  return out;
}
// Column `name` of answer `c` (parseColumns) divided by `unit` into `out`
// from `at`, in one pass.
function copyColumn(c, name, unit, out, at) {
  const w = c.whole[name];
  if (w) return wholeNumbers(w.raw, w.base, w.none, unit, out, at);
  const a = c.arrays[name];
  if (unit === 1) out.set(a, at);
  else for (let i = 0; i < a.length; i++) out[at + i] = a[i] / unit;
  return out;
}

class TrialStore {
  constructor(study) {
    this.setStudy(study);
    this.n = 0;              // Rows held.
    this.cap = 0;
    // Rows are found by id with a binary search over `id` while ids came
    // in increasing order (a Map of 100,000 ids costs ~50 ms to fill);
    // rows added out of order after that are in `late` (id -> row).
    this.sortedRows = 0;
    this.late = new Map();
    this.curves = new Map(); // id -> [[step, value], ...] of the objective.
    this.workers = [];       // Worker names; `worker` holds their index (-1: none).
    this.workerIndex = new Map();
    this.reasons = new Map(); // row -> failure or stop reason (non-empty only).
    this.maxId = 0;
    this.version = 0;        // Bumped by every change (charts cache by it).
    this.grow(1024);
  }
  setStudy(study) {
    this.study = study;
    this.spec = study.spec;
    this.metric = study.spec.objective.metric;
    this.minimize = study.spec.objective.goal === 'MINIMIZE';
    if (!this.axes) this.axes = (study.spec.parameters || []).map(paramAxis);
  }
  grow(need) {
    if (need <= this.cap) return;
    const cap = Math.max(need, this.cap * 2);
    const more = (Type, old) => { const a = new Type(cap); if (old) a.set(old.subarray(0, this.n)); return a; };
    this.id = more(Float64Array, this.id);
    this.value = more(Float64Array, this.value);
    this.finalStep = more(Float64Array, this.finalStep);
    this.state = more(Uint8Array, this.state);
    this.failure = more(Uint8Array, this.failure);
    this.worker = more(Int32Array, this.worker);
    this.start = more(Float64Array, this.start);  // Seconds since 1970 (NaN: none).
    this.end = more(Float64Array, this.end);
    // Each parameter as its axis codes it: the value, or a category's index.
    this.params = this.axes.map((ax, k) => more(Float64Array, this.params && this.params[k]));
    this.cap = cap;
  }
  // The row of trial `id`, or undefined.
  indexOf(id) {
    let lo = 0, hi = this.sortedRows;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.id[mid] < id) lo = mid + 1; else hi = mid;
    }
    return lo < this.sortedRows && this.id[lo] === id ? lo : this.late.get(id);
  }
  // The row of `id`, a new one at the end if it is not held.
  row(id) {
    let i = this.indexOf(id);
    if (i === undefined) {
      this.grow(this.n + 1);
      i = this.n++;
      this.id[i] = id;
      if (id > this.maxId && this.sortedRows === i) this.sortedRows++; else this.late.set(id, i);
      if (id > this.maxId) this.maxId = id;
    }
    return i;
  }
  reason(i) { return this.reasons.get(i) || ''; }
  setReason(i, text) { if (text) this.reasons.set(i, text); else this.reasons.delete(i); }
  workerOf(name) {
    if (!name) return -1;
    let w = this.workerIndex.get(name);
    if (w === undefined) { w = this.workers.length; this.workers.push(name); this.workerIndex.set(name, w); }
    return w;
  }
  // A page of /columns?format=binary, as parseColumns returns it: typed
  // arrays copied straight into the columns (no per-value parsing).
  addColumns(c) {
    const count = c.count, A = c.arrays;
    this.grow(this.n + count);
    const state = Uint8Array.from(c.state_names, s => STATE_CODE.get(s) ?? 0);
    const failure = Uint8Array.from(c.failure_names, s => FAILURE_CODE.get(s) ?? 0);
    const worker = Int32Array.from(c.workers, w => this.workerOf(w));
    // Each axis's codes from the answer's: a category's index in the
    // answer's list -> its index on the axis.
    const params = this.axes.map(ax => {
      const p = (c.parameters || []).find(q => q.name === ax.name);
      if (!p) return null;
      return {values: A[p.column], codes: p.categories ? Float64Array.from(p.categories, v => ax.code(v)) : null};
    });
    // New trials after every one held (a first load, and any page after
    // it): their rows are the next ones, and whole columns copy at once.
    const appended = count > 0 && A.id[0] > this.maxId;
    if (appended) {
      const n0 = this.n;
      this.id.set(A.id, n0);
      this.value.set(A.objective, n0);
      if (this.sortedRows === n0) this.sortedRows += count;
      else for (let j = 0; j < count; j++) this.late.set(A.id[j], n0 + j);
      this.n += count;
      this.maxId = A.id[count - 1];
    }
    if (appended) this.copyAppended(c, this.n - count, count, state, failure, worker, params);
    for (let j = 0; !appended && j < count; j++) {
      const i = this.row(A.id[j]);
      this.value[i] = A.objective[j];
      this.finalStep[i] = A.final_step[j];
      this.state[i] = state[A.state[j]];
      this.failure[i] = failure[A.failure[j]];
      this.worker[i] = A.worker[j] < 0 ? -1 : worker[A.worker[j]];
      this.start[i] = A.start_ms[j] / 1000;
      this.end[i] = A.end_ms[j] / 1000;
      this.reasons.delete(i);
      for (let k = 0; k < params.length; k++) {
        const p = params[k];
        if (!p) { this.params[k][i] = NaN; continue; }
        const v = p.values[j];
        this.params[k][i] = p.codes ? (v === v ? p.codes[v] : NaN) : v;
      }
    }
    const {row, text} = c.reasons;
    for (let r = 0; r < row.length; r++) this.setReason(this.indexOf(A.id[row[r]]), text[r]);
    this.version++;
  }
  // addColumns' new rows n0.. as whole columns, one loop each (what its
  // row-by-row loop does for rows it held already).
  copyAppended(c, n0, count, state, failure, worker, params) {
    const A = c.arrays, st = A.state, fa = A.failure, wo = A.worker;
    for (let j = 0; j < count; j++) this.state[n0 + j] = state[st[j]];
    for (let j = 0; j < count; j++) this.failure[n0 + j] = failure[fa[j]];
    for (let j = 0; j < count; j++) this.worker[n0 + j] = wo[j] < 0 ? -1 : worker[wo[j]];
    copyColumn(c, 'final_step', 1, this.finalStep, n0);
    copyColumn(c, 'start_ms', 1000, this.start, n0);
    copyColumn(c, 'end_ms', 1000, this.end, n0);
    params.forEach((p, k) => {
      const out = this.params[k];
      if (!p) out.fill(NaN, n0, n0 + count);
      else if (!p.codes) out.set(p.values, n0);
      else for (let j = 0; j < count; j++) { const v = p.values[j]; out[n0 + j] = v === v ? p.codes[v] : NaN; }
    });
  }
  // One trial in protobuf's JSON mapping (/changes).
  upsert(t) {
    const id = num(t.id), i = this.row(id);
    this.value[i] = objectiveOf(t);
    this.finalStep[i] = t.final_measurement ? num(t.final_measurement.step || 0) : NaN;
    this.state[i] = STATE_CODE.get(t.state || 'PENDING') ?? 0;
    this.failure[i] = FAILURE_CODE.get(t.failure_kind || '') ?? 0;
    this.worker[i] = this.workerOf(t.worker_id);
    this.start[i] = time(t.start_time);
    this.end[i] = time(t.end_time);
    this.setReason(i, t.failure_reason || t.stop_reason || '');
    this.axes.forEach((ax, k) => { this.params[k][i] = ax.code(paramValue((t.parameters || {})[ax.name])); });
    this.setCurve(t);
    this.version++;
  }
  // A trial's learning curve (the objective by step); its columns untouched.
  setCurve(t) {
    if (t.measurements)
      this.curves.set(num(t.id), t.measurements.map(m => [num(m.step), num((m.metrics || {})[this.metric])]));
  }
  stateName(i) { return STATES[this.state[i]]; }
  // A parameter's value as the user wrote it (a category's name).
  paramValue(k, i) {
    const ax = this.axes[k], v = this.params[k][i];
    return ax.categorical ? (Number.isFinite(v) ? ax.values[v] : '') : v;
  }
  open() {
    const out = [];
    for (let i = 0; i < this.n; i++) if (this.state[i] === 1 || this.state[i] === 2) out.push(this.id[i]);
    return out;
  }
}
