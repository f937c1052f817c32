// WarehouseHybrid site dashboard: no framework, no build step. Fetches the map once, polls the snapshot
// (/api/dashboard/sites/{site}/snapshot), and draws everything on canvases: one batched path per colour, so
// thousands of robots cost a few draw calls, never a DOM node each.
'use strict';

(function () {
  const MODE_NAMES = ['no telemetry', 'learned', 'rule', 'shield stop', 'escalated'];
  const MODE_COLOURS = ['#6b7280', '#34d399', '#60a5fa', '#f87171', '#fbbf24'];
  const VERSION_COLOURS = ['#a78bfa', '#34d399', '#f472b6', '#60a5fa', '#fbbf24', '#2dd4bf', '#fb923c', '#e879f9'];
  const HELD = 1, BLOCKED = 2;

  const state = { site: null, map: null, snapshot: null, pollMs: 500, colourBy: 'mode', drawn: 0, frames: 0, errors: 0 };
  window.whDashboard = state; // for operators' consoles and the browser test

  const $ = (id) => document.getElementById(id);
  const mapCanvas = $('map');
  const background = document.createElement('canvas');

  // Access token: from the URL fragment (#token=...), kept for the tab's session; sent as a bearer token.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) { sessionStorage.setItem('wh-token', fragment.get('token')); }
  const token = sessionStorage.getItem('wh-token');

  async function getJson(path) {
    const headers = { Accept: 'application/json' };
    if (token) { headers.Authorization = 'Bearer ' + token; }
    const response = await fetch(path, { headers, cache: 'no-store' });
    if (!response.ok) {
      let detail = response.statusText;
      try { const p = await response.json(); detail = p.detail || p.title || detail; } catch (e) { /* not JSON */ }
      throw new Error(path + ': HTTP ' + response.status + ' ' + detail);
    }
    return response.json();
  }

  function bytes(base64) {
    const s = atob(base64 || '');
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }

  function banner(text) {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text || '';
  }

  // The grid is drawn once, one pixel per cell, and scaled up without smoothing.
  function renderBackground(map) {
    const cells = bytes(map.cells);
    background.width = map.width;
    background.height = map.height;
    const ctx = background.getContext('2d');
    const image = ctx.createImageData(map.width, map.height);
    // CellKind: 0 free floor, 1 obstacle, 2 emitter (delivery), 3 service (pick-up); 2 and 3 are traversable.
    const shades = [[36, 41, 50], [88, 94, 106], [38, 60, 72], [58, 48, 72]];
    for (let i = 0; i < cells.length; i++) {
      const rgb = shades[cells[i]] || shades[1];
      const o = i * 4;
      image.data[o] = rgb[0]; image.data[o + 1] = rgb[1]; image.data[o + 2] = rgb[2]; image.data[o + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    map.cellBytes = cells;
  }

  function layout() {
    const rect = mapCanvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    mapCanvas.width = Math.max(1, Math.floor(rect.width * dpr));
    mapCanvas.height = Math.max(1, Math.floor(rect.height * dpr));
    const m = state.map;
    if (!m) { return; }
    state.scale = Math.min(mapCanvas.width / m.width, mapCanvas.height / m.height);
    state.ox = (mapCanvas.width - m.width * state.scale) / 2;
    state.oy = (mapCanvas.height - m.height * state.scale) / 2;
  }

  function colourOf(i, s) {
    if (state.colourBy === 'version') {
      const v = s.versionIndex[i];
      return v < 0 ? MODE_COLOURS[0] : VERSION_COLOURS[v % VERSION_COLOURS.length];
    }
    if (state.colourBy === 'drift') {
      const z = s.drift[i];
      return z >= 3 ? '#f87171' : z >= 1.5 ? '#fbbf24' : '#34d399';
    }
    return MODE_COLOURS[s.modes[i]] || MODE_COLOURS[0];
  }

  function drawMap() {
    const started = performance.now();
    const m = state.map, s = state.snapshot;
    const ctx = mapCanvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#14171c';
    ctx.fillRect(0, 0, mapCanvas.width, mapCanvas.height);
    if (!m) { return; }
    const k = state.scale, ox = state.ox, oy = state.oy, w = m.width;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(background, ox, oy, w * k, m.height * k);
    if (!s) { return; }
    const n = s.cells.length;
    const x = (c) => ox + (c % w) * k, y = (c) => oy + Math.floor(c / w) * k;

    // Held cells (robot has not confirmed) filled, blocked cells (waiting for a grant) outlined: one path each.
    const held = new Path2D(), blocked = new Path2D();
    let heldCount = 0, blockedCount = 0;
    for (let i = 0; i < n; i++) {
      if (s.flags[i] & HELD) { held.rect(x(s.targets[i]), y(s.targets[i]), k, k); heldCount++; }
      if (s.flags[i] & BLOCKED) { blocked.rect(x(s.targets[i]) + 0.5, y(s.targets[i]) + 0.5, k - 1, k - 1); blockedCount++; }
    }
    ctx.fillStyle = 'rgba(251, 191, 36, 0.28)';
    ctx.fill(held);
    ctx.strokeStyle = 'rgba(248, 113, 113, 0.9)';
    ctx.lineWidth = Math.max(1, k / 8);
    ctx.stroke(blocked);
    $('held-blocked').textContent = heldCount + ' / ' + blockedCount;

    // Goals: a small square at each robot's current errand, and a faint line to it for small fleets.
    const goals = new Path2D(), lines = new Path2D();
    const drawLines = n <= 400;
    for (let i = 0; i < n; i++) {
      const g = s.goals[i];
      if (g < 0) { continue; }
      goals.rect(x(g) + k * 0.3, y(g) + k * 0.3, Math.max(1, k * 0.4), Math.max(1, k * 0.4));
      if (drawLines) { lines.moveTo(x(s.cells[i]) + k / 2, y(s.cells[i]) + k / 2); lines.lineTo(x(g) + k / 2, y(g) + k / 2); }
    }
    if (drawLines) { ctx.strokeStyle = 'rgba(167, 139, 250, 0.25)'; ctx.lineWidth = 1; ctx.stroke(lines); }
    ctx.fillStyle = '#a78bfa';
    ctx.fill(goals);

    // Robots: a triangle pointing along the heading when cells are large enough, else a filled cell.
    const paths = new Map();
    const r = k * 0.45;
    const dx = [1, 0, -1, 0], dy = [0, 1, 0, -1];
    for (let i = 0; i < n; i++) {
      const c = s.cells[i];
      if (c < 0) { continue; }
      const colour = colourOf(i, s);
      let p = paths.get(colour);
      if (!p) { p = new Path2D(); paths.set(colour, p); }
      if (k >= 5) {
        const cx = x(c) + k / 2, cy = y(c) + k / 2, h = s.headings[i] & 3;
        const fx = dx[h], fy = dy[h];
        p.moveTo(cx + fx * r, cy + fy * r);
        p.lineTo(cx - fx * r * 0.8 - fy * r * 0.75, cy - fy * r * 0.8 + fx * r * 0.75);
        p.lineTo(cx - fx * r * 0.8 + fy * r * 0.75, cy - fy * r * 0.8 - fx * r * 0.75);
        p.closePath();
      } else {
        p.rect(x(c), y(c), Math.max(1, k), Math.max(1, k));
      }
    }
    for (const [colour, p] of paths) { ctx.fillStyle = colour; ctx.fill(p); }
    state.drawn = n;
    state.frames++;
    state.drawMs = performance.now() - started;
    state.drawMsMax = Math.max(state.drawMsMax || 0, state.drawMs);
    document.body.dataset.robotsDrawn = String(n);
  }

  function drawChart(canvas, series, lines) {
    const ctx = canvas.getContext('2d');
    const W = canvas.width, H = canvas.height, pad = 4;
    ctx.clearRect(0, 0, W, H);
    if (!series.length) { return; }
    let max = 0;
    for (const p of series) { for (const l of lines) { max = Math.max(max, p[l.key] * (l.scale || 1)); } }
    max = max > 0 ? max * 1.1 : 1;
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#8a93a3';
    ctx.fillText(max.toPrecision(3), pad, 10);
    lines.forEach((l, j) => {
      ctx.strokeStyle = l.colour;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      series.forEach((p, i) => {
        const px = pad + (W - 2 * pad) * (series.length === 1 ? 1 : i / (series.length - 1));
        const py = H - pad - (H - 2 * pad - 10) * (p[l.key] * (l.scale || 1)) / max;
        if (i === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
      });
      ctx.stroke();
      ctx.fillStyle = l.colour;
      ctx.fillText(l.label, W - 92, 10 + j * 11);
    });
  }

  function fillTable(id, rows) {
    const body = $(id).tBodies[0];
    body.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); }
      return tr;
    }));
  }

  function legend() {
    const items = state.colourBy === 'version' && state.snapshot
      ? state.snapshot.versions.map((v, i) => [v.version || '(no model)', VERSION_COLOURS[i % VERSION_COLOURS.length]])
      : state.colourBy === 'drift'
        ? [['z < 1.5', '#34d399'], ['1.5 <= z < 3', '#fbbf24'], ['z >= 3', '#f87171']]
        : MODE_NAMES.map((name, i) => [name, MODE_COLOURS[i]]);
    items.push(['goal', '#a78bfa'], ['held', 'rgba(251, 191, 36, 0.6)'], ['blocked', '#f87171'], ['shelf / obstacle', '#585e6a'], ['delivery', '#263c48'], ['pick-up', '#3a3048']);
    $('legend').replaceChildren(...items.map(([name, colour]) => {
      const li = document.createElement('li');
      const swatch = document.createElement('i');
      swatch.style.background = colour;
      li.append(swatch, name);
      return li;
    }));
  }

  function render() {
    const s = state.snapshot;
    drawMap();
    if (!s) { return; }
    const st = s.stats;
    $('robot-count').textContent = String(s.robotCount);
    $('robots-reporting').textContent = String(s.robotsReporting);
    $('step').textContent = String(st.step);
    $('tasks-finished').textContent = String(st.tasksFinished);
    $('open-tasks').textContent = String(st.openTasks);
    $('plan-latency').textContent = st.planTimeP50Ms.toFixed(1) + ' / ' + st.planTimeP99Ms.toFixed(1) + ' ms';
    document.body.dataset.step = String(st.step);
    drawChart($('chart-throughput'), s.series, [{ key: 'tasksPerMinute', colour: '#34d399', label: 'tasks/min' }]);
    drawChart($('chart-latency'), s.series, [
      { key: 'planP50Ms', colour: '#60a5fa', label: 'p50' },
      { key: 'planP99Ms', colour: '#f87171', label: 'p99' }]);
    drawChart($('chart-fallback'), s.series, [
      { key: 'fallbackShare', colour: '#60a5fa', label: 'fallback %', scale: 100 },
      { key: 'escalatingShare', colour: '#fbbf24', label: 'escalating %', scale: 100 },
      { key: 'escalationsPerMinute', colour: '#f472b6', label: 'escalations/min' }]);
    fillTable('versions', s.versions.map((v) => [v.version || '(no model)', v.robots, v.fallback, v.drifting, v.meanDriftZ.toFixed(2)]));
    fillTable('drift', s.topDrift.map((d) => [d.robotId, d.version || '-', d.z.toFixed(2) + (d.drifting ? ' !' : ''), d.feature || '-']));
    legend();
  }

  function decode(s) {
    s.headings = bytes(s.headings);
    s.flags = bytes(s.flags);
    s.modes = bytes(s.modes);
    // Cell -> robot index, for the tooltip.
    const cellCount = state.map.width * state.map.height;
    const at = new Int32Array(cellCount).fill(-1);
    for (let i = 0; i < s.cells.length; i++) { if (s.cells[i] >= 0 && s.cells[i] < cellCount) { at[s.cells[i]] = i; } }
    s.robotAt = at;
    return s;
  }

  async function poll() {
    try {
      state.snapshot = decode(await getJson('/api/dashboard/sites/' + encodeURIComponent(state.site) + '/snapshot'));
      banner(null);
      document.body.dataset.state = 'live';
      render();
    } catch (e) {
      state.errors++;
      banner(String(e.message || e));
      document.body.dataset.state = 'error';
    }
    setTimeout(poll, state.pollMs);
  }

  function tooltip(event) {
    const tip = $('tooltip'), s = state.snapshot, m = state.map;
    if (!s || !m) { tip.hidden = true; return; }
    const rect = mapCanvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const col = Math.floor(((event.clientX - rect.left) * dpr - state.ox) / state.scale);
    const row = Math.floor(((event.clientY - rect.top) * dpr - state.oy) / state.scale);
    if (col < 0 || row < 0 || col >= m.width || row >= m.height) { tip.hidden = true; return; }
    const i = s.robotAt[row * m.width + col];
    if (i < 0) { tip.hidden = true; return; }
    const v = s.versionIndex[i] >= 0 ? s.versions[s.versionIndex[i]].version || '(no model)' : '-';
    const flags = [(s.flags[i] & HELD) ? 'held' : '', (s.flags[i] & BLOCKED) ? 'blocked' : ''].filter(Boolean).join(', ');
    tip.textContent = m.robotIds[i] + '\ncell ' + s.cells[i] + ' heading ' + 'ESWN'[s.headings[i] & 3]
      + '\ntask ' + (s.taskIds[i] < 0 ? '-' : s.taskIds[i]) + ' goal ' + (s.goals[i] < 0 ? '-' : s.goals[i])
      + '\nmode ' + MODE_NAMES[s.modes[i]] + '\nmodel ' + v + ' drift z ' + s.drift[i].toFixed(2) + (flags ? '\n' + flags : '');
    tip.style.left = (event.clientX - rect.left + 14) + 'px';
    tip.style.top = (event.clientY - rect.top + 14) + 'px';
    tip.hidden = false;
  }

  async function start() {
    try {
      const config = await getJson('/api/dashboard/config');
      state.site = new URLSearchParams(location.search).get('site') || config.siteId;
      state.pollMs = config.pollMs;
      $('site-name').textContent = state.site;
      state.map = await getJson('/api/dashboard/sites/' + encodeURIComponent(state.site) + '/map');
      renderBackground(state.map);
      layout();
      legend();
      poll();
    } catch (e) {
      banner(String(e.message || e));
      document.body.dataset.state = 'error';
      setTimeout(start, 2000);
    }
  }

  $('colour-by').addEventListener('change', (e) => { state.colourBy = e.target.value; render(); });
  mapCanvas.addEventListener('mousemove', tooltip);
  mapCanvas.addEventListener('mouseleave', () => { $('tooltip').hidden = true; });
  window.addEventListener('resize', () => { layout(); drawMap(); });
  start();
})();
