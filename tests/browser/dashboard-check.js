// Opens the silo's dashboard in Debian's headless Chromium and reports what a person would see, as JSON on stdout:
// the robot count shown, robots drawn on the map canvas, how much of the canvas is not background, the page's
// state, and console errors. Writes a full-page screenshot.
// Usage: node dashboard-check.js URL SCREENSHOT.png EXPECTED_ROBOTS [TIMEOUT_MS]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

async function main() {
  const [url, screenshot, expectedText, timeoutText] = process.argv.slice(2);
  if (!url || !screenshot || !expectedText) {
    throw new Error('usage: node dashboard-check.js URL SCREENSHOT.png EXPECTED_ROBOTS [TIMEOUT_MS]');
  }
  const expected = Number(expectedText);
  const timeout = Number(timeoutText || 30000);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wh-chromium-'));
  // Without the background-networking flags Chromium dials out at start, which a closed network refuses.
  // A fresh profile directory each run (Playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') { errors.push('console: ' + m.text()); } });
    await page.goto(url, { timeout });
    await page.waitForFunction((n) => document.body.dataset.state === 'live'
      && Number(document.getElementById('robot-count').textContent) === n
      && Number(document.body.dataset.robotsDrawn || 0) === n
      && Number(document.getElementById('robots-reporting').textContent) === n
      && window.whDashboard.frames >= 3, expected, { timeout });
    const seen = await page.evaluate(() => {
      const canvas = document.getElementById('map');
      const ctx = canvas.getContext('2d');
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let nonBackground = 0;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        if (key !== 0x14171c) { nonBackground++; }
        colours.add(key);
      }
      const s = window.whDashboard.snapshot;
      return {
        title: document.title,
        state: document.body.dataset.state,
        robotCount: Number(document.getElementById('robot-count').textContent),
        robotsDrawn: Number(document.body.dataset.robotsDrawn),
        step: Number(document.body.dataset.step),
        canvasPixels: data.length / 4,
        nonBackgroundPixels: nonBackground,
        colours: colours.size,
        versionRows: document.querySelectorAll('#versions tbody tr').length,
        driftRows: document.querySelectorAll('#drift tbody tr').length,
        seriesPoints: s.series.length,
        learnedDrawn: Array.from(s.modes).filter((m) => m === 1).length,
        drawMs: window.whDashboard.drawMs,
        drawMsMax: window.whDashboard.drawMsMax,
        frames: window.whDashboard.frames,
        banner: document.getElementById('banner').hidden ? '' : document.getElementById('banner').textContent,
      };
    });
    await page.screenshot({ path: screenshot, fullPage: true });
    seen.errors = errors;
    process.stdout.write(JSON.stringify(seen));
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
