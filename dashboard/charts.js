// caviar dashboard: small canvas chart helpers (no library). Every chart is
// one <canvas>; drawing functions record how many marks they drew in the
// canvas's data-points attribute (the browser tests read it).
'use strict';
const Charts = (() => {
  const PAD = {l: 52, r: 12, t: 8, b: 28};
  const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2',
                  '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
  const STATE_COLOR = {SUCCEEDED: '#2563eb', STOPPED: '#ea580c', FAILED: '#dc2626',
                       ACTIVE: '#16a34a', PENDING: '#9ca3af'};

  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
    return Number(v.toPrecision(4)).toString();
  }

  // Parents' widths read at once (one layout of the page) before many
  // canvases are drawn: canvas() takes a parent's width from here when it
  // is in. Read one by one, each read after a canvas was resized would lay
  // the page out again. measure(null) forgets them.
  let widths = null;
  function measure(parents) { widths = parents && new Map(parents.map(p => [p, p.clientWidth])); }

  // A canvas sized to its parent's width (and `height` CSS pixels), drawn at
  // the screen's pixel ratio. Returns {cv, ctx, w, h, area}.
  function canvas(parent, height, cv) {
    cv = cv || document.createElement('canvas');
    if (!cv.parentNode) parent.appendChild(cv);
    const w = Math.max(200, (widths && widths.has(parent) ? widths.get(parent) : parent.clientWidth) - 2);
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(height * dpr);
    cv.style.height = height + 'px';
    const ctx = cv.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, height);
    ctx.font = '11px system-ui, sans-serif';
    const area = {x0: PAD.l, x1: w - PAD.r, y0: PAD.t, y1: height - PAD.b};
    return {cv, ctx, w, h: height, area};
  }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const step0 = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= step0);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  // Scales map a value to [0, 1] (unit) and back, with labelled ticks.
  function linearScale(lo, hi) {
    if (!(hi > lo)) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    return {unit: v => (v - lo) / (hi - lo), value: u => lo + u * (hi - lo),
            ticks: () => niceTicks(lo, hi, 5).map(v => ({u: (v - lo) / (hi - lo), label: fmt(v)}))};
  }
  function logScale(lo, hi) {
    lo = Math.max(lo, 1e-300);
    if (!(hi > lo)) { lo /= 2; hi = lo * 4; }
    const a = Math.log10(lo), b = Math.log10(hi);
    return {log: true, unit: v => v > 0 ? (Math.log10(v) - a) / (b - a) : NaN,
            value: u => Math.pow(10, a + u * (b - a)),
            ticks: () => {
              const t = [];
              for (let e = Math.ceil(a); e <= Math.floor(b); e++) t.push(e);
              if (t.length < 2) return [0, 0.5, 1].map(u => ({u, label: fmt(Math.pow(10, a + u * (b - a)))}));
              return t.map(e => ({u: (e - a) / (b - a), label: fmt(Math.pow(10, e))}));
            }};
  }
  // The scale of values[] (finite ones), log when asked and possible.
  function fitScale(values, log) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(v - v === 0) || (log && v <= 0)) continue;  // Finite only.
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === Infinity) { lo = 0; hi = 1; }
    return log ? logScale(lo, hi) : linearScale(lo, hi);
  }

  const px = (a, u) => a.x0 + u * (a.x1 - a.x0);
  const py = (a, u) => a.y1 - u * (a.y1 - a.y0);

  function axes(c, xs, ys, xlabel, ylabel) {
    const {ctx, area: a} = c;
    ctx.strokeStyle = '#d1d5db';
    ctx.fillStyle = '#6b7280';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ys.ticks()) {
      if (t.u < -1e-9 || t.u > 1 + 1e-9) continue;
      const y = Math.round(py(a, t.u)) + 0.5;
      ctx.beginPath(); ctx.moveTo(a.x0, y); ctx.lineTo(a.x1, y); ctx.stroke();
      ctx.fillText(t.label, a.x0 - 4, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xs.ticks()) {
      if (t.u < -1e-9 || t.u > 1 + 1e-9) continue;
      const x = Math.round(px(a, t.u)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, a.y1); ctx.lineTo(x, a.y1 + 4); ctx.stroke();
      ctx.fillText(t.label, x, a.y1 + 5);
    }
    ctx.strokeStyle = '#6b7280';
    ctx.strokeRect(a.x0 + 0.5, a.y0 + 0.5, a.x1 - a.x0, a.y1 - a.y0);
    ctx.fillStyle = '#374151';
    if (xlabel) { ctx.textAlign = 'right'; ctx.fillText(xlabel, a.x1, a.y1 + 16); }
    if (ylabel) {
      ctx.save(); ctx.translate(10, (a.y0 + a.y1) / 2); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center'; ctx.textBaseline = 'middle'; ctx.fillText(ylabel, 0, 0);
      ctx.restore();
    }
  }

  // Points: xv/yv are arrays of values on the scales xs/ys, color(i) a CSS
  // color or null to skip.
  // Returns how many were drawn (finite, inside the area).
  function points(c, xv, yv, xs, ys, color, size) {
    const {ctx, area: a} = c;
    const s = size || 3;
    // Grouped by color: switching fillStyle per point costs more than the
    // points themselves at 100,000 of them.
    const groups = new Map();
    let drawn = 0;
    for (let i = 0; i < xv.length; i++) {
      const col = color(i);
      if (col === null) continue;
      const ux = xs.unit(xv[i]), uy = ys.unit(yv[i]);
      if (!(ux >= -1e-9 && ux <= 1 + 1e-9 && uy >= -1e-9 && uy <= 1 + 1e-9)) continue;
      let g = groups.get(col);
      if (!g) groups.set(col, g = []);
      g.push(px(a, ux) - s / 2, py(a, uy) - s / 2);
      drawn++;
    }
    for (const [col, g] of groups) {
      ctx.fillStyle = col;
      for (let k = 0; k < g.length; k += 2) ctx.fillRect(g[k], g[k + 1], s, s);
    }
    return drawn;
  }

  // raster()'s steps. pointCorners: each point's square's top-left pixel
  // in at[] (-1: not drawn), per class its count in start[k + 1] and the
  // rows its corners span; returns how many are drawn.
  function pointCorners(xu, yu, n, cls, P, W, H, s, at, start, top, bottom) {
    const half = s / 2;
    let drawn = 0;
    for (let i = 0; i < n; i++) {
      const k = cls[i], ux = xu[i], uy = yu[i];
      if (!(k < P) || !(ux >= -1e-9 && ux <= 1 + 1e-9 && uy >= -1e-9 && uy <= 1 + 1e-9)) { at[i] = -1; continue; }
      const X = Math.min(W - s, Math.max(0, Math.round(ux * (W - 1) - half)));
      const Y = Math.min(H - s, Math.max(0, Math.round((1 - uy) * (H - 1) - half)));
      at[i] = Y * W + X;
      start[k + 1]++;
      if (Y < top[k]) top[k] = Y;
      if (Y > bottom[k]) bottom[k] = Y;
      drawn++;
    }
    return drawn;
  }
  // The drawn corners sorted by class (a counting sort; start[k]: class k's first).
  function byClass(at, cls, n, start, drawn) {
    const out = new Int32Array(drawn), fill = start.slice(0, start.length - 1);
    for (let i = 0; i < n; i++) if (at[i] >= 0) out[fill[cls[i]]++] = at[i];
    return out;
  }
  function countSquares(corner, from, to, hits, W, s) {
    for (let o = from; o < to; o++) {
      const c0 = corner[o];
      if (c0 < 0) continue;
      for (let dy = 0, row = c0; dy < s; dy++, row += W)
        for (let q = row, e = row + s; q < e; q++) hits[q]++;
    }
  }
  // h points of a class over pixel q: blended in at once.
  function blendPixel(px, q, h, color) {
    const keepA = h < 256 ? color.lut[h] : Math.exp(color.log1m * h), cover = 1 - keepA, o4 = q * 4;
    px[o4] = px[o4] * keepA + color.r * cover;
    px[o4 + 1] = px[o4 + 1] * keepA + color.g * cover;
    px[o4 + 2] = px[o4 + 2] * keepA + color.b * cover;
    px[o4 + 3] = px[o4 + 3] * keepA + cover;
  }
  // Each counted pixel of the squares blended once (its count cleared).
  function blendSquares(corner, from, to, hits, W, s, px, color) {
    for (let o = from; o < to; o++) {
      const c0 = corner[o];
      if (c0 < 0) continue;
      for (let dy = 0, row = c0; dy < s; dy++, row += W) {
        for (let q = row, e = row + s; q < e; q++) {
          const h = hits[q];
          if (!h) continue;
          hits[q] = 0;
          blendPixel(px, q, h, color);
        }
      }
    }
  }
  function countCorners(corner, from, to, hits) {
    for (let o = from; o < to; o++) { const c0 = corner[o]; if (c0 >= 0) hits[c0]++; }
  }
  // rowSums[q]: the corners in the s pixels of q's row ending at q.
  function rowWindows(hits, rowSums, W, s, y0, y1) {
    for (let y = y0; y <= y1; y++) {
      const base = y * W;
      let sum = 0;
      for (let x = 0; x < W; x++) {
        sum += hits[base + x];
        if (x >= s) sum -= hits[base + x - s];
        rowSums[base + x] = sum;
      }
    }
  }
  // cover[q]: the points covering pixel q, rows y0 to yEnd - 1 (corners in
  // rows y0..y1): down each column, the row sums of the last s rows (a
  // running sum from the row above).
  function columnWindows(rowSums, cover, W, s, y0, y1, yEnd) {
    for (let y = y0; y < yEnd; y++) {
      const base = y * W, add = y <= y1, sub = y - s >= y0;
      for (let x = 0; x < W; x++) {
        let h = y > y0 ? cover[base - W + x] : 0;
        if (add) h += rowSums[base + x];
        if (sub) h -= rowSums[base - s * W + x];
        cover[base + x] = h;
      }
    }
  }
  // Pixels from..to - 1 blended with their cover counts.
  function blendCovered(cover, from, to, px, color) {
    for (let q = from; q < to; q++) if (cover[q]) blendPixel(px, q, cover[q], color);
  }

  // Points as pixels, for charts of up to hundreds of thousands of points:
  // xu/yu are unit coordinates (typed arrays, n entries), cls[i] an index
  // into palette ([r, g, b, alpha 0..1]; out of range: not drawn). Points
  // are painted in palette order (the last class on top), alpha-blended in
  // premultiplied floats, into one ImageData drawn into the chart area with
  // one drawImage: tens of milliseconds for 100,000 points, where a
  // fillRect each takes hundreds. Returns how many were drawn (inside the
  // area). With `keep`, nothing is drawn: the pixels come back as a canvas
  // of their own ({drawn, canvas}) for drawLayer (a chart's cached layer).
  //
  // A point blends its class's color in as p = p * (1 - a) + color * a; h
  // points of one class on a pixel, one after another, make
  // p * (1 - a)^h + color * (1 - (1 - a)^h). So each class counts how many
  // of its points cover each pixel, then blends each covered pixel once.
  // The count comes one of two ways, whichever touches fewer pixels: per
  // point (its s x s square), or per pixel (each point counted at its
  // square's corner, then summed over an s x s window: a running sum along
  // the row, then down the column, over the rows the class's points span).
  // (Each loop is a small function of its own: the engine optimizes each
  // one on its own, early, and a chart's first raster is not left running
  // unoptimized code.)
  let scratch = null;
  // The rasters' working arrays, kept from one chart to the next (grown
  // when a chart needs more): ~10 MB per 100,000-point chart, which
  // allocated anew each time cost the first draw collections. `hits` is
  // all zeros between rasters (each clears what it counted).
  const pool = {};
  function pooled(name, Type, size) {
    if (!pool[name] || pool[name].length < size) pool[name] = new Type(size);
    return pool[name].subarray(0, size);
  }
  function raster(c, xu, yu, n, cls, palette, size, keep) {
    const {W, H, s} = rasterSize(c, size);
    const P = palette.length;
    // Each point's corner pixel (or -1), its class's row span, then the
    // corners in class order (one class: `at` itself, -1s skipped).
    const at = pooled('at', Int32Array, n), start = new Int32Array(P + 1);
    const top = new Int32Array(P).fill(H), bottom = new Int32Array(P).fill(-1);
    const drawn = pointCorners(xu, yu, n, cls, P, W, H, s, at, start, top, bottom);
    for (let k = 0; k < P; k++) start[k + 1] += start[k];
    const corner = P > 1 ? byClass(at, cls, n, start, drawn) : at;
    const WH = W * H, hits = pooled('hits', Uint32Array, WH);
    let px = null;  // Premultiplied pixels, when more than one class is blended.
    let rowSums = null, cover = null;
    const lut = new Float32Array(256);
    for (let k = 0; k < P; k++) {
      const count = start[k + 1] - start[k];
      if (!count) continue;
      const color = blendColor(palette[k], lut);
      const from = P > 1 ? start[k] : 0, to = P > 1 ? start[k + 1] : n;
      const y0 = top[k], y1 = bottom[k], yEnd = Math.min(H, y1 + s);
      if (count * s * s * 2 <= (yEnd - y0) * W * (s + 3)) {
        px = px || pooled('px', Float32Array, WH * 4).fill(0);
        countSquares(corner, from, to, hits, W, s);
        blendSquares(corner, from, to, hits, W, s, px, color);
      } else {
        rowSums = rowSums || pooled('rowSums', Uint32Array, WH);
        cover = cover || pooled('cover', Uint32Array, WH);
        countCorners(corner, from, to, hits);
        rowWindows(hits, rowSums, W, s, y0, y1);
        columnWindows(rowSums, cover, W, s, y0, y1, yEnd);
        hits.fill(0, y0 * W, (y1 + 1) * W);
        if (P === 1) {
          // One class over nothing: its pixels straight into the image.
          const out = coverCanvas(cover, y0 * W, yEnd * W, W, H, color, keep);
          if (keep) return {drawn, canvas: out};
          drawLayer(c, out);
          return drawn;
        }
        px = px || pooled('px', Float32Array, WH * 4).fill(0);
        blendCovered(cover, y0 * W, yEnd * W, px, color);
      }
    }
    const out = pixelsCanvas(px || pooled('px', Float32Array, WH * 4).fill(0), W, H, keep);
    if (keep) return {drawn, canvas: out};
    drawLayer(c, out);
    return drawn;
  }
  // raster() of one class (every point) in several colors at once, as
  // layers ([{drawn, canvas}, ...] for drawLayer): the points are counted
  // once, each color blends the counts.
  function rasterLayers(c, xu, yu, n, colors, size) {
    const {W, H, s} = rasterSize(c, size), WH = W * H;
    const at = pooled('at', Int32Array, n), start = new Int32Array(2), top = Int32Array.of(H), bottom = Int32Array.of(-1);
    const drawn = pointCorners(xu, yu, n, pooled('cls', Uint8Array, n).fill(0), 1, W, H, s, at, start, top, bottom);
    const hits = pooled('hits', Uint32Array, WH), rowSums = pooled('rowSums', Uint32Array, WH);
    const cover = pooled('cover', Uint32Array, WH).fill(0);  // Read whole below.
    countCorners(at, 0, n, hits);
    rowWindows(hits, rowSums, W, s, top[0], bottom[0]);
    columnWindows(rowSums, cover, W, s, top[0], bottom[0], Math.min(H, bottom[0] + s));
    hits.fill(0, top[0] * W, (bottom[0] + 1) * W);
    return colors.map(color =>
      ({drawn, canvas: coverCanvas(cover, 0, WH, W, H, blendColor(color, new Float32Array(256)), true)}));
  }
  // The chart area in device pixels, and a point's size there.
  function rasterSize(c, size) {
    const {area: a, cv} = c;
    const dpr = cv.width / c.w;
    const W = Math.max(1, Math.round((a.x1 - a.x0) * dpr)), H = Math.max(1, Math.round((a.y1 - a.y0) * dpr));
    return {W, H, s: Math.max(1, Math.min(W, H, Math.round((size || 3) * dpr)))};
  }
  // A palette entry as blendPixel takes it: (1 - alpha)^h for h < 256 in `lut`.
  function blendColor([r, g, b, alpha], lut) {
    const log1m = Math.log(1 - alpha);
    for (let h = 0; h < 256; h++) lut[h] = Math.exp(log1m * h);
    return {r, g, b, log1m, lut};
  }
  // One color's cover counts of pixels from..to - 1 as a canvas: what
  // blendCovered then pixelsCanvas make of them over transparent pixels
  // (the same bytes), with no float pixels in between.
  function coverCanvas(cover, from, to, W, H, color, keep) {
    const image = new ImageData(W, H), d = image.data, {r, g, b, lut, log1m} = color;
    for (let q = from; q < to; q++) {
      const h = cover[q];
      if (!h) continue;
      const o4 = q * 4;
      d[o4] = r; d[o4 + 1] = g; d[o4 + 2] = b;
      d[o4 + 3] = Math.fround(1 - (h < 256 ? lut[h] : Math.exp(log1m * h))) * 255;
    }
    return imageCanvas(image, keep);
  }
  // Premultiplied pixels as a canvas (the shared scratch one unless `keep`).
  function pixelsCanvas(px, W, H, keep) {
    const image = new ImageData(W, H), d = image.data;
    for (let q = 0; q < px.length; q += 4) {
      const A = px[q + 3];
      if (!A) continue;
      d[q] = px[q] / A; d[q + 1] = px[q + 1] / A; d[q + 2] = px[q + 2] / A; d[q + 3] = A * 255;
    }
    return imageCanvas(image, keep);
  }
  function imageCanvas(image, keep) {
    const {width: W, height: H} = image;
    const out = keep ? document.createElement('canvas') : (scratch = scratch || document.createElement('canvas'));
    out.width = W; out.height = H;
    out.getContext('2d').putImageData(image, 0, 0);
    return out;
  }
  // A layer of raster()'s pixels drawn again into the chart area.
  function drawLayer(c, layer) {
    const {area: a} = c;
    c.ctx.drawImage(layer, a.x0, a.y0, a.x1 - a.x0, a.y1 - a.y0);
  }

  function polyline(c, xs, ys, pts, color, width) {
    const {ctx, area: a} = c;
    ctx.strokeStyle = color;
    ctx.lineWidth = width || 1;
    ctx.beginPath();
    let started = false;
    for (const [x, y] of pts) {
      const ux = xs.unit(x), uy = ys.unit(y);
      if (!Number.isFinite(ux) || !Number.isFinite(uy)) continue;
      const X = px(a, ux), Y = py(a, Math.min(1.02, Math.max(-0.02, uy)));
      if (started) ctx.lineTo(X, Y); else { ctx.moveTo(X, Y); started = true; }
    }
    ctx.stroke();
  }

  function cross(c, xs, ys, x, y, color) {
    const {ctx, area: a} = c;
    const X = px(a, xs.unit(x)), Y = py(a, ys.unit(y));
    if (!Number.isFinite(X) || !Number.isFinite(Y)) return;
    ctx.strokeStyle = color; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(X - 3, Y - 3); ctx.lineTo(X + 3, Y + 3);
    ctx.moveTo(X + 3, Y - 3); ctx.lineTo(X - 3, Y + 3); ctx.stroke();
  }

  // A vertical mark at x; its label in text row `row` (0, 1, ...) from the
  // top, so marks at one step stay readable. Returns whether it was drawn.
  function vline(c, xs, x, color, label, dash, row) {
    const {ctx, area: a} = c;
    const X = px(a, xs.unit(x));
    if (!Number.isFinite(X)) return false;
    ctx.save();
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 1.5;
    if (dash) ctx.setLineDash(dash);
    ctx.beginPath(); ctx.moveTo(X, a.y0); ctx.lineTo(X, a.y1); ctx.stroke();
    // Labels read rightwards, or leftwards near the right edge.
    const right = X > a.x1 - 60;
    ctx.textAlign = right ? 'right' : 'left'; ctx.textBaseline = 'top';
    if (label) ctx.fillText(label, right ? X - 3 : X + 3, a.y0 + 2 + 12 * (row || 0));
    ctx.restore();
    return true;
  }

  return {PAD, COLORS, STATE_COLOR, fmt, measure, canvas, niceTicks, linearScale, logScale,
          fitScale, axes, points, raster, rasterLayers, drawLayer, polyline, cross, vline, px, py};
})();
