// The dashboard in a real browser (Debian's chromium driven by
// playwright-core) against a real caviar-coordinator on loopback with real
// trials run by real caviar-workers: every page loads, the charts hold as
// many marks as the API has trials, a study page updates live while its
// trials run, brushing the parallel coordinates filters the trial table,
// sorting and CSV download work, a trainer trial's page marks its
// checkpoints, a trial rolled back with `caviar rollback` shows both
// branches and the rollback, and a token-protected coordinator asks for a
// token. Saves docs/screenshots/*.png.
//
// node dashboard_test.js BUILD_DIR SCREENSHOT_DIR   (exit 77: no chromium)
'use strict';
const {spawn, execFileSync} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('assert');

const [build, shotsArg] = process.argv.slice(2);
const CHROMIUM = process.env.CAVIAR_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) { console.log(`${CHROMIUM} not installed (bash tests/dashboard/setup.sh): skipped`); process.exit(77); }
let chromium;
try { ({chromium} = require('playwright-core')); } catch (e) {
  console.log('playwright-core not installed (bash tests/dashboard/setup.sh): skipped');
  process.exit(77);
}
const shots = path.resolve(shotsArg || 'screenshots');
fs.mkdirSync(shots, {recursive: true});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caviar-dash-'));
const children = [];
const sleep = ms => new Promise(r => setTimeout(r, ms));

function start(bin, args, log) {
  const out = fs.openSync(path.join(dir, log), 'w');
  const child = spawn(bin, args, {stdio: ['ignore', out, out]});
  children.push(child);
  return child;
}
async function waitFile(f) {
  for (let i = 0; i < 400; i++) { if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').trim()) return fs.readFileSync(f, 'utf8').trim(); await sleep(25); }
  throw new Error(f + ' never appeared');
}
async function coordinator(name, extra) {
  start(path.join(build, 'server/caviar-coordinator'), ['--db', path.join(dir, name + '.db'), '--listen', '127.0.0.1:0',
    '--port-file', path.join(dir, name + '.grpc'), '--http', '127.0.0.1:0', '--http-port-file', path.join(dir, name + '.http'), ...extra], name + '.log');
  return {grpc: '127.0.0.1:' + await waitFile(path.join(dir, name + '.grpc')), http: 'http://127.0.0.1:' + await waitFile(path.join(dir, name + '.http'))};
}
async function get(url, token) {
  const r = await fetch(url, {headers: token ? {Authorization: 'Bearer ' + token} : {}});
  assert.strictEqual(r.status, 200, url + ': ' + r.status);
  return r.json();
}
async function allTrials(http, study) {
  const out = [];
  let after = 0;
  for (;;) {
    const r = await get(`${http}/api/v1/studies/${study}/trials?limit=10000&measurements=true&after=${after}`);
    out.push(...r.trials);
    after = r.next_after;
    if (!r.more) return out;
  }
}
const attr = (page, sel, name) => page.$eval(sel, (e, n) => e.dataset[n], name);
const points = async (page, sel) => Number(await attr(page, sel, 'points'));
const pageErrors = [];
// Waits until the element's data-NAME is `want`; says what it was if not.
async function waitData(page, sel, name, want, timeout) {
  try {
    await page.waitForFunction(([s, n, w]) => { const e = document.querySelector(s); return e && Number(e.dataset[n]) === w; },
      [sel, name, want], {timeout: timeout || 15000});
  } catch (e) {
    const live = await page.$eval('#live', e => e.textContent).catch(() => '?');
    const got = await attr(page, sel, name).catch(() => '(none)');
    throw new Error(`${sel} data-${name} is ${got}, not ${want} (live: ${live}; page errors: ${pageErrors.join(' | ')})`);
  }
}

// A command that learns for 5 steps; trials 3 and 10 diverge (NaN).
// No braces: argv's {name} are placeholders.
const OBJECTIVE = `
import math, os, sys, time
lr = float(os.environ["CAVIAR_PARAM_LEARNING_RATE"]); units = int(os.environ["CAVIAR_PARAM_UNITS"])
bonus = 0.0 if os.environ["CAVIAR_PARAM_OPTIMIZER"] == "adam" else -0.05
peak = 0.5 + 0.45 * math.exp(-((math.log10(lr) + 2.5) ** 2) - ((units - 80) / 40.0) ** 2) + bonus
for step in range(1, 6):
    time.sleep(0.01)
    acc = 0.1 + (peak - 0.1) * (1 - math.exp(-0.7 * step))
    if int(os.environ["CAVIAR_TRIAL_ID"]) % 7 == 3 and step >= 2: acc = float("nan")
    print("caviar: step=%d accuracy=%.6f" % (step, acc), flush=True)
`;
const SPEC = `name: dash
objective: {metric: accuracy, goal: MAXIMIZE}
parameters:
  - {name: learning_rate, double: {min: 1e-4, max: 1}, scale: LOG}
  - {name: units, integer: {min: 16, max: 128}}
  - {name: optimizer, categorical: {values: [adam, sgd]}}
algorithm: {name: coarse_to_fine, options: {rounds: 2, trials_per_round: 8}}
pruner: {name: median, options: {warmup_steps: 2, min_trials: 4}}
budget: {max_trials: 16, max_parallel_trials: 4}
seed: 11
command: {argv: [python3, -c, ${JSON.stringify(OBJECTIVE)}]}
`;

// A built-in-trainer study of one 3-epoch trial on a tiny CSV (2 classes,
// 8 features): seconds, and a checkpoint every epoch.
function CKPT_SPEC(d) {
  for (const [name, rows] of [['train', 240], ['test', 60]]) {
    const lines = ['label,' + Array.from({length: 8}, (_, f) => 'f' + f).join(',')];
    for (let r = 0; r < rows; r++) {
      const y = r % 2;
      lines.push(y + ',' + Array.from({length: 8}, (_, f) => ((f % 2 === y ? 1 : 0) + Math.sin(r * 7 + f)).toFixed(3)).join(','));
    }
    fs.writeFileSync(path.join(d, name + '.csv'), lines.join('\n') + '\n');
  }
  return `name: ckpt
objective: {metric: dev_accuracy, goal: MAXIMIZE}
parameters:
  - {name: learning_rate, discrete: {values: [0.01]}}
budget: {max_trials: 1, max_parallel_trials: 1}
seed: 3
trainer:
  epochs: 3
  dataset:
    csv: {train_path: ${path.join(d, 'train.csv')}, test_path: ${path.join(d, 'test.csv')}, label_column: label, has_header: true}
    dev_size: 40
  settings: {seed: 1, layers: 1, hidden_units: 16, batch_size: 16, threads: 1}
`;
}

// A command with checkpoints (README "Your own training command") that
// waits before its step 3 until `gate` exists (at most 60 s), so the test
// rolls back a trial it knows is running at step 2; a resumed run (a
// rollback's branch) goes straight on, its loss 0.2 higher. No braces.
function ROLLBACK_SPEC(gate) {
  const code = `
import os, time
d = os.environ["CAVIAR_CHECKPOINT_DIR"]
start = int(os.environ.get("CAVIAR_RESUME_STEP", "0"))
for step in range(start + 1, 7):
    if step == 3 and start == 0:
        t = time.time()
        while not os.path.exists(${JSON.stringify(gate)}) and time.time() - t < 60: time.sleep(0.05)
    open(os.path.join(d, "state-%d" % step), "w").write(str(step))
    print("caviar: step=%d loss=%.6f" % (step, 1.0 / step + (0.2 if start else 0.0)), flush=True)
    print("caviar: checkpoint step=%d" % step, flush=True)
`;
  return `name: rb
objective: {metric: loss, goal: MINIMIZE}
parameters:
  - {name: lr, double: {min: 0.01, max: 1.0}, scale: LOG}
budget: {max_trials: 1, max_parallel_trials: 1}
trial_policy: {lease_seconds: 2, max_retries: 5}
checkpoint: {keep_latest: 100}
command: {argv: [/usr/bin/python3, -c, ${JSON.stringify(code)}]}
`;
}

async function main() {
  const t0 = Date.now();
  const c = await coordinator('open', []);
  fs.writeFileSync(path.join(dir, 'spec.yaml'), SPEC);
  execFileSync(path.join(build, 'client/caviar'), ['--coordinator', c.grpc, 'submit', path.join(dir, 'spec.yaml')], {stdio: 'pipe'});
  // Pages of trials travel gzip'd, never brotli (cpp-httplib's brotli is
  // its slowest quality: tens of seconds for a 100,000-trial study).
  for (const enc of ['gzip, deflate, br', 'br']) {
    const r = await fetch(`${c.http}/api/v1/studies/dash/trials`, {headers: {'Accept-Encoding': enc}});
    assert.strictEqual(r.headers.get('content-encoding'), enc === 'br' ? null : 'gzip', enc);
    assert.ok(Array.isArray((await r.json()).trials));
  }
  const browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox']});
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  const errors = pageErrors;
  page.on('pageerror', e => errors.push(String(e)));
  // The importance of a study with too few finished trials is a 409 the page
  // expects (it says so); any other failed load or error counts.
  page.on('console', m => { if (m.type() === 'error' && !m.text().includes('status of 409')) errors.push(m.text()); });

  // 1. The study page before any trial ran; it then fills in live.
  await page.goto(`${c.http}/#/study/dash`);
  await page.waitForSelector('body[data-study-ready]');
  assert.strictEqual(await points(page, '#history canvas'), 0);
  for (let w = 0; w < 4; w++)
    start(path.join(build, 'worker/caviar-worker'), ['--coordinator', c.grpc, '--study', 'dash', '--id', 'worker-' + w], `worker${w}.log`);
  for (let i = 0; ; i++) {
    const s = await get(`${c.http}/api/v1/studies/dash`);
    if (s.state !== 'STUDY_ACTIVE') break;
    assert.ok(i < 600, 'the study did not finish in 60 s: ' + JSON.stringify(s));
    await sleep(100);
  }
  const trials = await allTrials(c.http, 'dash');
  const study = await get(`${c.http}/api/v1/studies/dash`);
  const withValue = trials.filter(t => t.objective_value !== undefined && Number.isFinite(Number(t.objective_value)));
  // Live: the page catches up with no reload.
  await waitData(page, '#history canvas', 'points', withValue.length);
  await waitData(page, '#trial-table', 'rows', trials.length);
  console.log(`live: ${withValue.length} points appeared without a reload`);

  // 2. A fresh load: every chart holds one mark per trial it shows.
  await page.reload();
  await page.waitForSelector('body[data-curves-ready]');
  await page.waitForFunction(() => document.querySelector('#importance').dataset.points !== undefined);
  assert.strictEqual(await points(page, '#history canvas'), withValue.length);
  const curves = trials.filter(t => (t.measurements || []).length > 0);
  assert.strictEqual(await points(page, '#curves canvas'), curves.length);
  const pruned = trials.filter(t => t.state === 'STOPPED').length;
  const diverged = trials.filter(t => t.failure_kind === 'DIVERGED').length;
  assert.ok(diverged > 0, 'no diverged trial: the test study should have some');
  assert.strictEqual(Number(await attr(page, '#curves canvas', 'marked')), pruned + diverged);
  assert.strictEqual(await points(page, '#parcoords canvas'), withValue.length);
  for (const name of ['learning_rate', 'units', 'optimizer'])
    assert.strictEqual(await points(page, `#slices canvas[data-param="${name}"]`), withValue.length, name);
  assert.strictEqual(await points(page, '#scatter canvas'), withValue.length);
  assert.strictEqual(Number(await attr(page, '#scatter canvas', 'regions')), (study.regions || []).length);
  assert.ok((study.regions || []).length >= 2, 'coarse_to_fine made ' + (study.regions || []).length + ' regions');
  assert.strictEqual(await points(page, '#timeline canvas'), trials.filter(t => t.start_time).length);
  assert.strictEqual(Number(await attr(page, '#timeline canvas', 'workers')), new Set(trials.map(t => t.worker_id).filter(Boolean)).size);
  assert.strictEqual(Number(await attr(page, '#importance', 'points')), 3);
  assert.strictEqual(Number(await attr(page, '#trial-table', 'rows')), trials.length);
  await page.screenshot({path: path.join(shots, 'study.png'), fullPage: true});

  // 3. Brushing the objective axis (the last one) filters the table to the
  // trials whose value lies in the brushed band.
  const box = await page.$eval('#parcoords canvas', e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; });
  const axisX = box.x + box.w - 60;
  await page.mouse.move(axisX, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(axisX, box.y + box.h * 0.3, {steps: 4});
  await page.mouse.move(axisX, box.y + box.h * 0.5, {steps: 4});
  await page.mouse.up();
  const [[axis, [lo, hi]]] = JSON.parse(await attr(page, '#parcoords canvas', 'brush'));
  assert.strictEqual(axis, 3);
  const values = withValue.map(t => Number(t.objective_value));
  const vmin = Math.min(...values), vmax = Math.max(...values);
  const inBand = withValue.filter(t => { const u = (Number(t.objective_value) - vmin) / (vmax - vmin); return u >= lo && u <= hi; });
  assert.ok(inBand.length > 0 && inBand.length < withValue.length, `brush [${lo}, ${hi}] holds ${inBand.length}`);
  assert.strictEqual(Number(await attr(page, '#trial-table', 'rows')), inBand.length);
  assert.strictEqual(await points(page, '#parcoords canvas'), inBand.length);
  const shownIds = await page.$$eval('#trial-table tr[data-id]', rows => rows.map(r => Number(r.dataset.id)));
  assert.deepStrictEqual(shownIds.sort((a, b) => a - b), inBand.map(t => Number(t.id)).sort((a, b) => a - b));
  console.log(`brush: ${inBand.length} of ${withValue.length} trials in the table`);
  await page.screenshot({path: path.join(shots, 'study-brushed.png'), fullPage: true});
  // A click on the axis clears the brush.
  await page.mouse.click(axisX, box.y + box.h * 0.7);
  await waitData(page, '#trial-table', 'rows', trials.length);

  // 4. Table: the text filter, sort by the objective, CSV of what is shown.
  await page.fill('#filter', 'FAILED');
  const failed = trials.filter(t => t.state === 'FAILED').length;
  assert.strictEqual(Number(await attr(page, '#trial-table', 'rows')), failed);
  await page.fill('#filter', '');
  await page.click('#trial-table th[data-key="value"]');
  await page.click('#trial-table th[data-key="value"]');
  const first = await page.$eval('#trial-table tr[data-id]', r => Number(r.dataset.id));
  const best = withValue.filter(t => t.state === 'SUCCEEDED' || t.state === 'STOPPED')
    .sort((a, b) => Number(b.objective_value) - Number(a.objective_value))[0];
  assert.strictEqual(Number(withValue.find(t => Number(t.id) === first).objective_value), Number(best.objective_value));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.strictEqual(csv.length, trials.length + 1);
  assert.match(csv[0], /^id,state,accuracy,learning_rate,units,optimizer,worker/);

  // 5. The studies list.
  await page.goto(`${c.http}/#/`);
  await page.waitForSelector('#studies tr[data-study="dash"]');
  const row = await page.$eval('#studies tr[data-study="dash"]', r => r.textContent);
  assert.match(row, /STUDY_COMPLETED/);
  assert.ok(row.includes(Math.round(100 * study.progress) + '%'), row);
  assert.ok(row.includes(`${trials.length}  (`), row);
  await page.screenshot({path: path.join(shots, 'studies.png')});

  // 6. A trial page: its whole curve; a diverged one says why.
  const div = trials.find(t => t.failure_kind === 'DIVERGED');
  await page.goto(`${c.http}/#/trial/${div.id}`);
  await page.waitForSelector('body[data-trial-ready]');
  assert.strictEqual(await points(page, '#trial-curve canvas'), div.measurements.filter(m => Number.isFinite(Number(m.metrics.accuracy))).length);
  assert.match(await page.$eval('#trial-outcome', e => e.textContent), /DIVERGED/);
  assert.strictEqual(await page.$$eval('#trial-params tr', r => r.length), 3);
  await page.screenshot({path: path.join(shots, 'trial.png')});

  // 7. A built-in-trainer trial checkpoints every epoch: its page marks the
  // checkpoints the coordinator kept (GET /api/v1/trials/{id} lists them).
  fs.writeFileSync(path.join(dir, 'ckpt.yaml'), CKPT_SPEC(dir));
  execFileSync(path.join(build, 'client/caviar'), ['--coordinator', c.grpc, 'submit', path.join(dir, 'ckpt.yaml')], {stdio: 'pipe'});
  start(path.join(build, 'worker/caviar-worker'), ['--coordinator', c.grpc, '--study', 'ckpt', '--id', 'trainer', '--max-trials', '1'], 'trainer.log');
  let saved;
  for (let i = 0; ; i++) {
    const r = await get(`${c.http}/api/v1/studies/ckpt/trials?state=SUCCEEDED`);
    if (r.trials.length) { saved = await get(`${c.http}/api/v1/trials/${r.trials[0].id}`); break; }
    assert.ok(i < 300, 'the trainer trial did not finish in 30 s');
    await sleep(100);
  }
  assert.ok(saved.checkpoints.length >= 1, 'no checkpoint kept: ' + JSON.stringify(saved.checkpoints));
  await page.goto(`${c.http}/#/trial/${saved.id}`);
  await page.waitForSelector('body[data-trial-ready]');
  assert.strictEqual(Number(await attr(page, '#trial-curve canvas', 'checkpoints')), saved.checkpoints.length);
  assert.strictEqual(await points(page, '#trial-curve canvas'), saved.measurements.length);
  assert.match(await page.$eval('#trial-outcome', e => e.textContent),
    new RegExp('checkpoints' + saved.checkpoints.map(cp => 'step ' + cp.step).join(', ')));
  await page.screenshot({path: path.join(shots, 'trial-checkpoints.png')});

  // 8. A trial rolled back through the real CLI (`caviar rollback`) while
  // it runs: its page draws both branches, each its own labelled line with
  // every point the API has for it, and marks the rollback at the step the
  // new branch continues from.
  const gate = path.join(dir, 'rollback.gate');
  fs.writeFileSync(path.join(dir, 'rb.yaml'), ROLLBACK_SPEC(gate));
  execFileSync(path.join(build, 'client/caviar'), ['--coordinator', c.grpc, 'submit', path.join(dir, 'rb.yaml')], {stdio: 'pipe'});
  start(path.join(build, 'worker/caviar-worker'), ['--coordinator', c.grpc, '--study', 'rb', '--id', 'rb-1'], 'rb1.log');
  let running;
  for (let i = 0; ; i++) {
    const r = await get(`${c.http}/api/v1/studies/rb/trials?measurements=true`);
    running = r.trials[0];
    if (running && (running.measurements || []).some(m => Number(m.step) === 2)) {
      const t = await get(`${c.http}/api/v1/trials/${running.id}`);
      if (t.checkpoints.some(cp => Number(cp.step) === 1)) break;
    }
    assert.ok(i < 300, 'the rollback trial never reached step 2 with a checkpoint at step 1');
    await sleep(100);
  }
  const rolled = execFileSync(path.join(build, 'client/caviar'),
    ['--coordinator', c.grpc, 'rollback', String(running.id), '--to-step', '1'], {encoding: 'utf8'});
  assert.match(rolled, /branch 1 continues from the checkpoint at step 1/);
  fs.writeFileSync(gate, '');
  start(path.join(build, 'worker/caviar-worker'), ['--coordinator', c.grpc, '--study', 'rb', '--id', 'rb-2'], 'rb2.log');
  let rb;
  for (let i = 0; ; i++) {
    rb = await get(`${c.http}/api/v1/trials/${running.id}`);
    if (rb.state === 'SUCCEEDED') break;
    assert.ok(i < 600, 'the rolled-back trial did not finish in 60 s: ' + JSON.stringify(rb.state));
    await sleep(100);
  }
  assert.strictEqual(rb.branches.length, 1, JSON.stringify(rb.branches));
  assert.strictEqual(Number(rb.branches[0].from_step), 1);
  const perBranch = {};
  for (const m of rb.measurements) perBranch[m.branch || 0] = (perBranch[m.branch || 0] || 0) + 1;
  assert.ok(perBranch[0] >= 2 && perBranch[1] >= 5, 'points per branch: ' + JSON.stringify(perBranch));
  await page.goto(`${c.http}/#/trial/${rb.id}`);
  await page.waitForSelector('body[data-trial-ready]');
  const curve = '#trial-curve canvas';
  assert.strictEqual(Number(await attr(page, curve, 'branches')), 2);
  assert.deepStrictEqual(JSON.parse(await attr(page, curve, 'branchPoints')), perBranch);
  assert.deepStrictEqual(JSON.parse(await attr(page, curve, 'labels')).sort(), ['branch 1', 'first run']);
  assert.deepStrictEqual(JSON.parse(await attr(page, curve, 'rollbacks')), [{step: 1, label: 'rollback → branch 1'}]);
  assert.strictEqual(await points(page, curve), rb.measurements.length);
  assert.match(await page.$eval('#trial-outcome', e => e.textContent), /rollbacksbranch 1 from branch 0 at step 1/);
  await page.screenshot({path: path.join(shots, 'trial-rollback.png')});
  console.log(`rollback: trial ${rb.id}, points per branch ${JSON.stringify(perBranch)}`);
  assert.deepStrictEqual(errors, [], 'errors in the page');

  // 9. With tokens: the page loads, asks for a token, then shows the studies.
  const viewer = 'viewer-' + Math.random().toString(36).slice(2);
  fs.writeFileSync(path.join(dir, 'tokens'), `viewer me ${viewer}\n`, {mode: 0o600});
  const sec = await coordinator('secure', ['--tokens-file', path.join(dir, 'tokens')]);
  const p2 = await browser.newPage();
  await p2.goto(`${sec.http}/`);
  await p2.waitForSelector('input[type=password]');
  await p2.fill('input[type=password]', viewer);
  await p2.click('button');
  await p2.waitForSelector('#studies');
  assert.strictEqual(Number(await attr(p2, '#studies', 'rows')), 0);
  await browser.close();
  console.log(`dashboard_browser_test: OK in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().then(() => cleanup(0), e => {
  console.error('FAIL:', e.stack || e);
  for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.log')))
    console.error(`--- ${f}\n` + fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(-15).join('\n'));
  cleanup(1);
});
function cleanup(code) {
  for (const ch of children) ch.kill('SIGTERM');
  setTimeout(() => { fs.rmSync(dir, {recursive: true, force: true}); process.exit(code); }, 300);
}
