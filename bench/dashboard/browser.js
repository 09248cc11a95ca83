// The benchmark's browser: Debian's chromium started and left to finish
// its own start-up before a page is timed. Chromium 156 loads its omnibox
// popup's WebUI (chrome://omnibox-popup.top-chrome, a renderer of its own)
// for 3 to 4 s after it starts, about one core of CPU on this 2-core
// machine, from its first window on; a page timed meanwhile shares the
// CPU with it. A user's browser has done this long before they open a
// dashboard. BROWSER_SETTLE=0: no wait (how the figures before 2026-12-01
// 05:30 UTC were measured).
'use strict';
const fs = require('fs');
const {chromium} = require('playwright-core');

// CPU seconds (user + system) of this process's descendants (chromium's).
function descendantsCpu() {
  const parent = new Map(), ticks = new Map();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');  // f[0]: state, f[1]: ppid, f[11]/f[12]: utime/stime.
      parent.set(Number(p), Number(f[1]));
      ticks.set(Number(p), Number(f[11]) + Number(f[12]));
    } catch (e) { /* gone */ }
  }
  let sum = 0;
  for (const [p, t] of ticks) {
    for (let q = parent.get(p); q; q = parent.get(q)) if (q === process.pid) { sum += t; break; }
  }
  return sum / 100;  // USER_HZ.
}

// Chromium launched with a page open (1400 x 1000), then waited for until
// its processes use under 5% of a core over half a second (at most
// `maxMs`). Returns {browser, page, settleMs}.
async function launchSettled(maxMs = 15000) {
  const t0 = Date.now();
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--no-sandbox']});
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  if (process.env.BROWSER_SETTLE === '0') return {browser, page, settleMs: 0};
  let last = descendantsCpu();
  while (Date.now() - t0 < maxMs) {
    await new Promise(r => setTimeout(r, 500));
    const now = descendantsCpu();
    if (now - last < 0.025) break;
    last = now;
  }
  return {browser, page, settleMs: Date.now() - t0};
}

module.exports = {launchSettled, descendantsCpu};
