// node page_time.js HTTP_URL STUDY TRIALS: loads the study page in chromium
// and prints the time to interactive: every chart drawn with every trial,
// then a brush round trip (below), and a sort after it. One JSON line.
'use strict';
const {launchSettled} = require('./browser.js');
const fs = require('fs');
const [urlArg, study, trials] = process.argv.slice(2);

// URL `@`: once the browser has settled, PAGE_READY_FILE is created and the
// URL read from PAGE_URL_FILE when it appears (run.sh's cold run starts the
// coordinator then).
async function serverUrl() {
  if (urlArg !== '@') return urlArg;
  fs.writeFileSync(process.env.PAGE_READY_FILE, '');
  for (;;) {
    try { return fs.readFileSync(process.env.PAGE_URL_FILE, 'utf8').trim(); } catch (e) { /* not yet */ }
    await new Promise(r => setTimeout(r, 10));
  }
}

(async () => {
  const {browser, page, settleMs} = await launchSettled();
  const url = await serverUrl();
  page.on('pageerror', e => console.error('page error:', String(e)));
  page.on('console', m => { if (m.type() === 'error') console.error('console:', m.text()); });
  // Interactive: every chart drawn with every trial (the learning curves
  // too: body[data-curves-ready]) and then a brush round trip (mouse down
  // on the objective axis to the table filtered and the slices' selection
  // painted), timed from the navigation. The page's own clock says where
  // the time went: data-study-fetched (the study and its columns fetched
  // and read), data-study-interactive (first full draw done),
  // data-curves-ready (curves fetched and drawn).
  const t0 = Date.now();
  await page.goto(`${url}/#/study/${study}`);
  await page.waitForSelector('body[data-curves-ready]', {timeout: 300000});
  const drawnMs = Date.now() - t0;
  // What the page drew and where the objective's axis is, in one call
  // (each call waits for the page's main thread).
  const {own, rows, points, box} = await page.evaluate(() => {
    const b = document.body, r = document.querySelector('#parcoords canvas').getBoundingClientRect();
    delete b.dataset.filterMs;  // Set again by the brush's redraw.
    return {own: {start: b.dataset.studyStart, fetched: b.dataset.studyFetched, stored: b.dataset.studyStored, curvesWaited: b.dataset.curvesWaited,
                  drawn: b.dataset.studyInteractive, curves: b.dataset.curvesReady, draw: b.dataset.drawMs},
            rows: Number(document.querySelector('#trial-table').dataset.rows),
            points: Number(document.querySelector('#history canvas').dataset.points),
            box: {x: r.left, y: r.top, w: r.width, h: r.height}};
  });
  const x = box.x + box.w - 60;
  let t1 = Date.now();
  await page.mouse.move(x, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(x, box.y + box.h * 0.4, {steps: 2});
  await page.mouse.up();
  await page.waitForFunction(n => Number(document.querySelector('#trial-table').dataset.rows) < n, rows);
  const brushMs = Date.now() - t1;
  await page.waitForSelector('body[data-filter-ms]');
  const brushSlicesMs = Date.now() - t1;
  const interactiveMs = Date.now() - t0;
  const filterMs = JSON.parse(await page.$eval('body', b => b.dataset.filterMs));
  const filteredRows = Number(await page.$eval('#trial-table', e => e.dataset.rows));
  t1 = Date.now();
  await page.click('#trial-table th[data-key="value"]');
  await page.waitForSelector('#trial-table th[data-key="value"]:text("▲")');
  const sortMs = Date.now() - t1;
  // Every row is in the table: scrolled to its end, the rows drawn are the
  // last of the order (no spacer after them; rows are drawn only in view).
  t1 = Date.now();
  await page.$eval('#trial-table', e => { const w = e.parentNode; w.scrollTop = w.scrollHeight; });
  await page.waitForFunction(() => {
    const w = document.querySelector('#trial-table').parentNode, rows = w.querySelectorAll('tr[data-id]');
    return rows.length && w.querySelector('tr.spacer:last-child td').style.height === '0px';
  });
  const scrollMs = Date.now() - t1;
  // The page's last request (the importance, asked once every chart is
  // drawn) answered before the browser closes: otherwise the server is
  // still computing it (~3 s of CPU for 100,000 trials) during the next load.
  await page.waitForSelector('#importance[data-points]', {timeout: 120000});
  const r = v => Math.round(Number(v));
  console.log(JSON.stringify({trials: Number(trials), browser_settle_ms: settleMs, table_rows: rows, history_points: points, brushed_rows: filteredRows,
    interactive_ms: interactiveMs, all_drawn_ms: drawnMs, page_start_ms: r(own.start), page_fetched_ms: r(own.fetched), page_stored_ms: r(own.stored),
    page_curves_waited_ms: r(own.curvesWaited), page_drawn_ms: r(own.drawn),
    page_curves_ms: r(own.curves), draw_ms: JSON.parse(own.draw), brush_ms: brushMs, brush_slices_ms: brushSlicesMs,
    brush_redraw_ms: filterMs, sort_ms: sortMs, scroll_to_end_ms: scrollMs}));
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
