// node page_time.js HTTP_URL STUDY TRIALS: loads the study page in chromium
// three times and prints the time to interactive (every trial fetched, every
// chart and the table drawn: body[data-study-ready]), then a brush and a
// sort on that page. Prints one JSON line.
'use strict';
const {chromium} = require('playwright-core');
const [url, study, trials] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--no-sandbox']});
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  const loads = [];
  for (let i = 0; i < 3; i++) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(`${url}/#/study/${study}`);
    await page.waitForSelector('body[data-study-ready]', {timeout: 60000});
    loads.push(Date.now() - t0);
  }
  const rows = Number(await page.$eval('#trial-table', e => e.dataset.rows));
  const points = Number(await page.$eval('#history canvas', e => e.dataset.points));
  // A brush on the objective axis: mouse down to the table redrawn.
  const box = await page.$eval('#parcoords canvas', e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; });
  const x = box.x + box.w - 60;
  let t0 = Date.now();
  await page.mouse.move(x, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(x, box.y + box.h * 0.4, {steps: 2});
  await page.mouse.up();
  await page.waitForFunction(n => Number(document.querySelector('#trial-table').dataset.rows) < n, rows);
  const brushMs = Date.now() - t0;
  t0 = Date.now();
  await page.click('#trial-table th[data-key="value"]');
  await page.waitForSelector('#trial-table th[data-key="value"]:text("▲")');
  const sortMs = Date.now() - t0;
  await page.waitForSelector('body[data-curves-ready]', {timeout: 60000});
  console.log(JSON.stringify({trials: Number(trials), table_rows: rows, history_points: points,
    interactive_ms: loads, brush_ms: brushMs, sort_ms: sortMs}));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
