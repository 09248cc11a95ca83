// node page_time.js HTTP_URL STUDY TRIALS: loads the study page in chromium
// and prints the time to interactive (the first page of /columns drawn, the
// controls live: body[data-study-interactive]; a study of up to 100,000
// trials is one page, so that is all of it), to every trial loaded and
// drawn (body[data-study-ready]), then a brush and a sort over all of them.
// Prints one JSON line.
'use strict';
const {chromium} = require('playwright-core');
const [url, study, trials] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--no-sandbox']});
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  page.on('pageerror', e => console.error('page error:', String(e)));
  page.on('console', m => { if (m.type() === 'error') console.error('console:', m.text()); });
  // Interactive: the first page of trials drawn, every control live;
  // loaded: all of them drawn. Both as the page measured them.
  const t0 = Date.now();
  await page.goto(`${url}/#/study/${study}`);
  await page.waitForSelector('body[data-study-interactive]', {timeout: 300000});
  const interactiveMs = Date.now() - t0;
  const firstDraw = await page.$eval('body', b => b.dataset.drawMs);
  // The page's own clock: its first /columns page fetched and parsed.
  const fetchedMs = Math.round(Number(await page.$eval('body', b => b.dataset.studyFetched)));
  console.error(`interactive after ${interactiveMs} ms; first draw: ${firstDraw}`);
  await page.waitForSelector('body[data-study-ready]', {timeout: 600000});
  const loadedMs = Date.now() - t0;
  const fullDraw = await page.$eval('body', b => b.dataset.drawMs);
  const rows = Number(await page.$eval('#trial-table', e => e.dataset.rows));
  const points = Number(await page.$eval('#history canvas', e => e.dataset.points));
  // A brush on the objective axis: mouse down to the table redrawn.
  const box = await page.$eval('#parcoords canvas', e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; });
  const x = box.x + box.w - 60;
  await page.$eval('body', b => { delete b.dataset.filterMs; });
  let t1 = Date.now();
  await page.mouse.move(x, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(x, box.y + box.h * 0.4, {steps: 2});
  await page.mouse.up();
  await page.waitForFunction(n => Number(document.querySelector('#trial-table').dataset.rows) < n, rows);
  const brushMs = Date.now() - t1;
  // The slices follow the table (their selection painted over a grey layer).
  await page.waitForSelector('body[data-filter-ms]');
  const brushSlicesMs = Date.now() - t1;
  const filterMs = JSON.parse(await page.$eval('body', b => b.dataset.filterMs));
  t1 = Date.now();
  await page.click('#trial-table th[data-key="value"]');
  await page.waitForSelector('#trial-table th[data-key="value"]:text("▲")');
  const sortMs = Date.now() - t1;
  await page.waitForSelector('body[data-curves-ready]', {timeout: 60000});
  console.log(JSON.stringify({trials: Number(trials), table_rows: rows, history_points: points,
    interactive_ms: interactiveMs, columns_fetched_ms: fetchedMs, loaded_ms: loadedMs, draw_ms: JSON.parse(fullDraw), brush_ms: brushMs, brush_slices_ms: brushSlicesMs, brush_redraw_ms: filterMs, sort_ms: sortMs}));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
