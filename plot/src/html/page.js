// ktrdr chart page: decodes the embedded columns, builds one lightweight-charts chart with a pane
// per series group (panes share the time scale and the crosshair), keeps a legend of the bar under
// the crosshair, and swaps resolution levels as the visible range changes.
(async function () {
  'use strict';
  const LC = window.LightweightCharts;
  const M = JSON.parse(document.getElementById('ktrdr-data').textContent);
  const legend = document.getElementById('legend');
  const status = document.getElementById('status');
  const root = document.getElementById('chart');
  // Points visible at once: about one per pixel of the plot's width.
  const VISIBLE_MAX = Math.max(400, Math.round(M.width * 1.2));

  async function inflate(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // Inverse of plot/src/html/codec.rs: per column, zigzag varint deltas of v * 10^decimals, 0 = missing.
  function decode(bytes, n) {
    let p = 0;
    return M.columns.map((c) => {
      const out = new Float64Array(n);
      const d = c.decimals;
      const div = d >= 0 ? Math.pow(10, d) : 1;
      const mul = d < 0 ? Math.pow(10, -d) : 1;
      let prev = 0;
      for (let i = 0; i < n; i++) {
        let u = 0, scale = 1, b;
        do { b = bytes[p++]; u += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80);
        if (u === 0) { out[i] = NaN; continue; }
        u -= 1;
        prev += (u % 2 === 0) ? u / 2 : -(u + 1) / 2;
        out[i] = d >= 0 ? prev / div : prev * mul;
      }
      return out;
    });
  }

  const levels = [];
  for (const lv of M.levels) {
    levels.push({ factor: lv.factor, n: lv.n, cols: decode(await inflate(lv.data), lv.n) });
  }
  const base = levels[0];
  const T = (L) => L.cols[0];
  const dec = (col) => Math.max(0, Math.min(8, M.columns[col].decimals));
  const fmt = (v, col) => (Number.isFinite(v) ? v.toFixed(dec(col)) : '–');
  const UP = '#26a69a', DOWN = '#ef5350';

  const chart = LC.createChart(root, {
    width: M.width,
    height: M.height,
    layout: { background: { type: 'solid', color: '#ffffff' }, textColor: '#333', fontSize: 11,
              panes: { separatorColor: '#cfd3d8', enableResize: true } },
    grid: { vertLines: { color: '#f0f1f3' }, horzLines: { color: '#f0f1f3' } },
    crosshair: { mode: LC.CrosshairMode.Normal },
    rightPriceScale: { borderColor: '#cfd3d8' },
    timeScale: { borderColor: '#cfd3d8', timeVisible: true, secondsVisible: false },
  });

  // Every series with how to build its data from a slice of a level.
  const series = [];
  function add(type, options, pane, data) {
    const api = chart.addSeries(type, Object.assign({ priceLineVisible: false, lastValueVisible: false }, options), pane);
    series.push({ api, data });
    return api;
  }
  const priceFormat = { type: 'price', precision: dec(4), minMove: Math.pow(10, -dec(4)) };
  const candleType = M.style === 'ohlc' ? LC.BarSeries : LC.CandlestickSeries;
  const candleOpts = M.style === 'ohlc'
    ? { upColor: UP, downColor: DOWN, priceFormat, lastValueVisible: true }
    : { upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN, priceFormat, lastValueVisible: true };
  const priceSeries = add(candleType, candleOpts, 0, (L, a, b) => {
    const [t, o, h, l, c] = L.cols;
    const out = new Array(b - a);
    for (let i = a; i < b; i++) out[i - a] = { time: t[i], open: o[i], high: h[i], low: l[i], close: c[i] };
    return out;
  });
  const lineData = (col) => (L, a, b) => {
    const t = T(L), v = L.cols[col];
    const out = new Array(b - a);
    for (let i = a; i < b; i++) out[i - a] = Number.isFinite(v[i]) ? { time: t[i], value: v[i] } : { time: t[i] };
    return out;
  };
  let colour = 0;
  const nextColour = () => M.palette[colour++ % M.palette.length];
  const legendRows = [];
  M.overlays.forEach((s) => {
    const color = nextColour();
    add(LC.LineSeries, { color, lineWidth: 1, priceFormat: { type: 'price', precision: dec(s.col), minMove: Math.pow(10, -dec(s.col)) } }, 0, lineData(s.col));
    legendRows.push({ pane: 'price', name: s.name, col: s.col, color });
  });

  let pane = 1;
  const stretch = [5];
  if (M.volume !== null) {
    const vc = M.volume;
    add(LC.HistogramSeries, { priceFormat: { type: 'volume' } }, pane, (L, a, b) => {
      const [t, o, , , c] = L.cols, v = L.cols[vc];
      const out = new Array(b - a);
      for (let i = a; i < b; i++) out[i - a] = { time: t[i], value: v[i], color: c[i] >= o[i] ? 'rgba(38,166,154,0.55)' : 'rgba(239,83,80,0.55)' };
      return out;
    });
    legendRows.push({ pane: 'volume', name: 'volume', col: vc });
    stretch.push(1.1);
    pane++;
  }
  const mix = (hue, d) => {
    const c = (h) => Math.round(255 - (255 - h) * Math.min(1, Math.max(0, d)));
    return `rgb(${c(hue[0])},${c(hue[1])},${c(hue[2])})`;
  };
  M.panes.forEach((p) => {
    if (p.kind === 'lines') {
      colour = 0;
      p.series.forEach((s) => {
        const color = nextColour();
        add(LC.LineSeries, { color, lineWidth: 1, priceFormat: { type: 'price', precision: dec(s.col), minMove: Math.pow(10, -dec(s.col)) } }, pane, lineData(s.col));
        legendRows.push({ pane: p.title, name: s.name, col: s.col, color });
      });
      stretch.push(1.8);
    } else if (p.kind === 'heat') {
      // Stacked bars: row r of k reaches k - r; drawn top row first so each lower row covers the
      // part of the bars above it, leaving one band per set.
      const k = p.series.length;
      p.series.forEach((s, r) => {
        add(LC.HistogramSeries, { base: 0, priceFormat: { type: 'price', precision: 0, minMove: 1 } }, pane, (L, a, b) => {
          const t = T(L), v = L.cols[s.col];
          const out = new Array(b - a);
          for (let i = a; i < b; i++) out[i - a] = { time: t[i], value: k - r, color: Number.isFinite(v[i]) ? mix(s.hue, v[i]) : '#e1e1e1' };
          return out;
        });
        legendRows.push({ pane: p.title, name: s.name, col: s.col, color: mix(s.hue, 1) });
      });
      stretch.push(0.22 * k + 0.1);
    } else if (p.kind === 'position') {
      const s = p.series[0];
      add(LC.HistogramSeries, { priceFormat: { type: 'price', precision: 0, minMove: 1 } }, pane, (L, a, b) => {
        const t = T(L), v = L.cols[s.col];
        const out = new Array(b - a);
        for (let i = a; i < b; i++) out[i - a] = { time: t[i], value: 1, color: v[i] > 0 ? 'rgba(0,140,60,0.55)' : v[i] < 0 ? 'rgba(200,30,30,0.55)' : 'rgba(0,0,0,0)' };
        return out;
      });
      legendRows.push({ pane: 'position', name: 'position', col: s.col, position: true });
      stretch.push(0.3);
    } else if (p.kind === 'drawdown') {
      const s = p.series[0];
      add(LC.BaselineSeries, { baseValue: { type: 'price', price: 0 }, topLineColor: 'rgba(0,0,0,0)', topFillColor1: 'rgba(0,0,0,0)', topFillColor2: 'rgba(0,0,0,0)',
                               bottomLineColor: 'rgb(190,50,50)', bottomFillColor1: 'rgba(190,50,50,0.15)', bottomFillColor2: 'rgba(190,50,50,0.4)', lineWidth: 1,
                               priceFormat: { type: 'price', precision: 2, minMove: 0.01 } }, pane, lineData(s.col));
      legendRows.push({ pane: p.title, name: s.name, col: s.col, color: 'rgb(190,50,50)' });
      stretch.push(1.3);
    }
    pane++;
  });
  chart.panes().forEach((p, i) => p.setStretchFactor(stretch[i] || 1));

  const markersApi = LC.createSeriesMarkers(priceSeries, []);
  const markers = M.markers.slice().sort((x, y) => x.i - y.i);

  // What is on the chart now: level k, its points a..b.
  let cur = { k: -1, a: 0, b: 0 };
  function apply(k, a, b) {
    const L = levels[k];
    cur = { k, a, b };
    for (const s of series) s.api.setData(s.data(L, a, b));
    const f = L.factor, t = T(L);
    const shown = [];
    for (const m of markers) {
      const j = Math.floor(m.i / f);
      if (j < a || j >= b) continue;
      shown.push(m.entry
        ? { time: t[j], position: m.long ? 'belowBar' : 'aboveBar', shape: m.long ? 'arrowUp' : 'arrowDown', color: m.long ? '#008c3c' : '#c81e1e',
            text: (m.long ? 'L' : 'S') + (m.conf === null ? '' : ' ' + m.conf.toFixed(2)) }
        : { time: t[j], position: m.long ? 'aboveBar' : 'belowBar', shape: 'circle', color: '#141414', size: 0.8,
            text: 'exit' + (m.conf === null ? '' : ' ' + m.conf.toFixed(2)) });
    }
    markersApi.setMarkers(shown.length <= 400 ? shown : shown.map((m) => Object.assign({}, m, { text: '' })));
    status.textContent = f === 1
      ? `every bar (${b - a} of ${base.n} loaded)`
      : `zoomed out: one point per ${f} bars (${b - a} of ${L.n} points loaded); zoom in for every bar`;
  }

  function refresh() {
    const r = chart.timeScale().getVisibleLogicalRange();
    if (!r || cur.k < 0) return;
    const L = levels[cur.k], f = L.factor;
    // The visible range in bars of the finest level (whitespace beyond the data counts, clamped).
    const v0 = Math.max(0, Math.floor((cur.a + r.from) * f));
    const v1 = Math.min(base.n, Math.ceil((cur.a + r.to + 1) * f));
    const span = Math.max(1, v1 - v0);
    let k = 0;
    while (k < levels.length - 1 && span / levels[k].factor > VISIBLE_MAX) k++;
    const K = levels[k], fk = K.factor;
    const spanK = Math.max(1, Math.ceil(span / fk));
    const a = Math.max(0, Math.floor(v0 / fk) - spanK), b = Math.min(K.n, Math.ceil(v1 / fk) + spanK);
    const margin = spanK / 4;
    const nearEdge = (Math.floor(v0 / fk) - cur.a < margin && cur.a > 0) || (cur.b - Math.ceil(v1 / fk) < margin && cur.b < K.n);
    if (k === cur.k && !nearEdge) return;
    apply(k, a, b);
    chart.timeScale().setVisibleLogicalRange({ from: v0 / fk - a, to: v1 / fk - a - 1 });
  }
  let pending = null;
  chart.timeScale().subscribeVisibleLogicalRangeChange(() => {
    if (pending !== null) clearTimeout(pending);
    pending = setTimeout(() => { pending = null; refresh(); }, 60);
  });

  const pad2 = (x) => String(x).padStart(2, '0');
  function when(secs) {
    const d = new Date(secs * 1000);
    return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
  }
  function describe(L, i) {
    const [t, o, h, l, c] = L.cols;
    const lines = [];
    const grouped = L.factor > 1 ? `  (${L.factor} bars)` : '';
    lines.push(`${when(t[i])}${grouped}  O ${fmt(o[i], 1)}  H ${fmt(h[i], 2)}  L ${fmt(l[i], 3)}  C ${fmt(c[i], 4)}`);
    let last = null, parts = [];
    for (const row of legendRows) {
      if (row.pane !== last) {
        if (parts.length) lines.push(parts.join('  '));
        parts = [];
        last = row.pane;
      }
      const v = L.cols[row.col][i];
      parts.push(row.position ? `position ${v > 0 ? 'long' : v < 0 ? 'short' : 'flat'}` : `${row.name} ${fmt(v, row.col)}`);
    }
    if (parts.length) lines.push(parts.join('  '));
    return lines.join('\n');
  }
  const idle = () => describe(base, base.n - 1);
  chart.subscribeCrosshairMove((p) => {
    if (!p || p.logical === undefined || p.logical === null || cur.k < 0) { legend.textContent = idle(); return; }
    const i = cur.a + Math.round(p.logical);
    legend.textContent = i >= cur.a && i < cur.b ? describe(levels[cur.k], i) : idle();
  });

  // Start with the whole series at the coarsest level (the only level for short series).
  const top = levels.length - 1;
  apply(top, 0, levels[top].n);
  chart.timeScale().fitContent();
  legend.textContent = idle();

  // Sortable tables: click a header to sort by that column (numbers numerically).
  document.querySelectorAll('table.sortable').forEach((table) => {
    table.querySelectorAll('thead th').forEach((th, col) => {
      th.addEventListener('click', () => {
        const body = table.tBodies[0];
        const asc = !th.classList.contains('asc');
        table.querySelectorAll('thead th').forEach((x) => x.classList.remove('asc', 'desc'));
        th.classList.add(asc ? 'asc' : 'desc');
        const key = (tr) => {
          const s = tr.cells[col].textContent.trim();
          const n = Number(s.replace(/[,%+]/g, ''));
          return s !== '' && Number.isFinite(n) ? n : s;
        };
        const rows = Array.from(body.rows);
        rows.sort((x, y) => {
          const a = key(x), b = key(y);
          const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
          return asc ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  });

  // For scripted checks (tests, a person's console).
  window.ktrdr = { chart, levels, current: () => Object.assign({}, cur), ready: true };
})().catch((e) => {
  console.error('ktrdr chart failed: ' + (e && e.stack ? e.stack : e));
  const s = document.getElementById('status');
  if (s) s.textContent = 'chart failed: ' + e;
});
