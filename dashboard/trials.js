// caviar dashboard: a study's trials in columns (typed arrays), as
// GET /api/v1/studies/{name}/columns sends them, merged by id with the
// protobuf-JSON trials of /changes. Charts read the columns by row index
// (rows are in id order: columns come by id, new trials have larger ids).
'use strict';
const STATES = ['TRIAL_STATE_UNSPECIFIED', 'PENDING', 'ACTIVE', 'SUCCEEDED', 'FAILED', 'STOPPED', 'PAUSED'];
const STATE_CODE = new Map(STATES.map((s, i) => [s, i]));
const FAILURES = ['FAILURE_KIND_UNSPECIFIED', 'CRASHED', 'DIVERGED', 'INFEASIBLE', 'LEASE_EXPIRED'];
const FAILURE_CODE = new Map(FAILURES.map((s, i) => [s, i]));

class TrialStore {
  constructor(study) {
    this.setStudy(study);
    this.n = 0;              // Rows held.
    this.cap = 0;
    this.byId = new Map();   // id -> row.
    this.curves = new Map(); // id -> [[step, value], ...] of the objective.
    this.workers = [];       // Worker names; `worker` holds their index (-1: none).
    this.workerIndex = new Map();
    this.reason = [];        // Failure or stop reason (strings).
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
  // The row of `id`, a new one at the end if it is not held.
  row(id) {
    let i = this.byId.get(id);
    if (i === undefined) {
      this.grow(this.n + 1);
      i = this.n++;
      this.byId.set(id, i);
      this.id[i] = id;
      if (id > this.maxId) this.maxId = id;
    }
    return i;
  }
  workerOf(name) {
    if (!name) return -1;
    let w = this.workerIndex.get(name);
    if (w === undefined) { w = this.workers.length; this.workers.push(name); this.workerIndex.set(name, w); }
    return w;
  }
  // A page of /columns.
  addColumns(c) {
    const count = c.id.length;
    this.grow(this.n + count);
    const state = c.state_names.map(s => STATE_CODE.get(s) ?? 0);
    const failure = c.failure_names.map(s => FAILURE_CODE.get(s) ?? 0);
    const worker = c.workers.map(w => this.workerOf(w));
    const params = this.axes.map(ax => (c.parameters || {})[ax.name] || []);
    const nan = v => v === null || v === undefined ? NaN : v;
    for (let j = 0; j < count; j++) {
      const i = this.row(c.id[j]);
      this.value[i] = nan(c.objective[j]);
      this.finalStep[i] = nan(c.final_step[j]);
      this.state[i] = state[c.state[j]];
      this.failure[i] = failure[c.failure[j]];
      this.worker[i] = c.worker[j] < 0 ? -1 : worker[c.worker[j]];
      this.start[i] = nan(c.start_ms[j]) / 1000;
      this.end[i] = nan(c.end_ms[j]) / 1000;
      this.reason[i] = c.reason[j];
      for (let k = 0; k < params.length; k++) {
        const v = params[k][j];
        this.params[k][i] = v === null || v === undefined ? NaN : this.axes[k].code(v);
      }
    }
    this.version++;
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
    this.reason[i] = t.failure_reason || t.stop_reason || '';
    this.axes.forEach((ax, k) => { this.params[k][i] = ax.code(paramValue((t.parameters || {})[ax.name])); });
    if (t.measurements)
      this.curves.set(id, t.measurements.map(m => [num(m.step), num((m.metrics || {})[this.metric])]));
    this.version++;
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
