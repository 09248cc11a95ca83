// node profile.js HTTP_URL STUDY: loads the study page once under Chrome's
// sampling profiler (CDP Profiler) and prints where the main thread's time
// went until every chart is drawn: self time by function (top 25), and the
// page's requests (Resource Timing: request start, first byte, last byte).
'use strict';
const {launchSettled} = require('./browser.js');
const [url, study] = process.argv.slice(2);

(async () => {
  const {browser, page, settleMs} = await launchSettled();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', {interval: 500});
  await cdp.send('Profiler.start');
  const t0 = Date.now();
  await page.goto(`${url}/#/study/${study}`);
  await page.waitForSelector('body[data-curves-ready]', {timeout: 300000});
  const wall = Date.now() - t0;
  const {profile} = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) || 0) + (dt[i] || 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`browser settled in ${settleMs} ms; wall ${wall} ms; profiled ${Math.round(total)} ms`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${Math.round(v).toString().padStart(6)} ms  ${k}`);
  const res = await page.evaluate(() => performance.getEntriesByType('resource').map(e =>
    ({name: e.name.replace(location.origin, ''), start: Math.round(e.startTime), firstByte: Math.round(e.responseStart), end: Math.round(e.responseEnd), bytes: e.transferSize})));
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return {domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd)}; });
  const own = await page.$eval('body', b => ({fetched: b.dataset.studyFetched, drawn: b.dataset.studyInteractive, curves: b.dataset.curvesReady, draw: b.dataset.drawMs}));
  console.log(JSON.stringify({nav, own}));
  for (const r of res) console.log(JSON.stringify(r));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
