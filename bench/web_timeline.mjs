// The page's timeline in headless Chromium on a big library (made by bench/make_library): the time until the first
// thumbnails are painted, and how smoothly it scrolls (frames dropped while the page scrolls itself at a steady
// speed, loading pages of the photo list as it goes), with how many cells the page holds meanwhile.
//
//   build/bench/make_library --library /tmp/lib100k --photos 100000
//   node bench/web_timeline.mjs --darkroom build/darkroom --library /tmp/lib100k [--runs 5] [--seconds 10]
//
// First paint: a fresh browser context per run (nothing cached), navigation to the timeline, then Element Timing
// (each grid thumbnail carries elementtiming="thumb") gives when each thumbnail on the first screen was painted,
// from the start of the navigation. Scrolling: a requestAnimationFrame loop scrolls by speed x elapsed time each
// frame; a frame interval of k vsyncs (16.7 ms at 60 Hz) counts k - 1 frames dropped. "deep" repeats the scroll
// after every photo of the library has been loaded (the layout then holds all of them).
import path from 'node:path';
import { Darkroom, launchBrowser, parseArgs, ROOT } from '../tests/web/lib.mjs';

const args = parseArgs(process.argv.slice(2), {
  darkroom: path.join(ROOT, 'build/darkroom'),
  models: path.join(ROOT, '.models'),
  runs: '5',
  seconds: '10',
  speeds: '3000,12000',
  deep: true,
});
if (!args.library) {
  console.error('usage: node bench/web_timeline.mjs --library DIR [--darkroom BIN] [--runs N] [--seconds S] [--speeds PX_PER_S,...] [--deep false]');
  process.exit(2);
}
const VIEWPORT = { width: 1280, height: 800 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
};

async function firstPaint(browser, url) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.thumbPaints = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.identifier === 'thumb') window.thumbPaints.push({ t: e.renderTime || e.loadTime, el: e.element });
    }).observe({ type: 'element', buffered: true });
  });
  await page.goto(url);
  // Every thumbnail whose cell is on the first screen painted.
  await page.waitForFunction(() => {
    const onScreen = [...document.querySelectorAll('.grid a.cell img')].filter((i) => {
      const r = i.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight;
    });
    if (!onScreen.length) return false;
    const painted = new Set(window.thumbPaints.map((p) => p.el));
    return onScreen.every((i) => painted.has(i));
  }, null, { timeout: 60000, polling: 20 });
  const r = await page.evaluate(() => {
    const onScreen = new Set(
      [...document.querySelectorAll('.grid a.cell img')].filter((i) => {
        const b = i.getBoundingClientRect();
        return b.bottom > 0 && b.top < window.innerHeight;
      })
    );
    const times = window.thumbPaints.filter((p) => onScreen.has(p.el)).map((p) => p.t);
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const list = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/photos?'));
    return {
      first: Math.min(...times),
      all: Math.max(...times),
      count: times.length,
      fcp: fcp ? fcp.startTime : null,
      domContentLoaded: nav.domContentLoadedEventEnd,
      listRequest: list ? list.responseEnd - list.startTime : null,
    };
  });
  await context.close();
  return r;
}

// Scrolls at `speed` px/s for `seconds`, from where the page is; returns frame statistics.
async function scroll(page, speed, seconds) {
  return page.evaluate(
    ({ speed, seconds }) =>
      new Promise((resolve) => {
        const longTasks = [];
        const obs = new PerformanceObserver((l) => longTasks.push(...l.getEntries().map((e) => e.duration)));
        obs.observe({ type: 'longtask' });
        const intervals = [];
        let maxCells = 0;
        let last = null;
        let start = null;
        const startY = window.scrollY;
        const frame = (t) => {
          if (start === null) start = t;
          if (last !== null) intervals.push(t - last);
          const dt = last === null ? 0 : t - last;
          last = t;
          window.scrollBy(0, (speed * dt) / 1000);
          maxCells = Math.max(maxCells, document.querySelectorAll('.grid a.cell').length);
          if (t - start < seconds * 1000) requestAnimationFrame(frame);
          else {
            obs.disconnect();
            const vsync = 1000 / 60;
            let dropped = 0;
            for (const i of intervals) dropped += Math.max(0, Math.round(i / vsync) - 1);
            const sorted = [...intervals].sort((a, b) => a - b);
            resolve({
              frames: intervals.length,
              dropped,
              expected: Math.round((t - start) / vsync),
              p50: sorted[sorted.length >> 1],
              p95: sorted[Math.floor(sorted.length * 0.95)],
              p99: sorted[Math.floor(sorted.length * 0.99)],
              worst: sorted[sorted.length - 1],
              longTasks: longTasks.length,
              longestTask: longTasks.length ? Math.max(...longTasks) : 0,
              maxCells,
              scrolled: Math.round(window.scrollY - startY),
            });
          }
        };
        requestAnimationFrame(frame);
      }),
    { speed, seconds }
  );
}

async function main() {
  const dr = new Darkroom({ bin: path.resolve(args.darkroom), models: path.resolve(args.models), library: path.resolve(args.library) });
  const status = dr.json(['status']);
  const server = await dr.serve(['--no-work']);
  const browser = await launchBrowser();
  const out = { photos: status.photos, chromium: browser.version(), firstPaint: [], scroll: [] };
  try {
    // A first visit warms the server's caches (the page, SQLite's pages); it is not counted.
    await firstPaint(browser, server.url);
    for (let r = 0; r < Number(args.runs); r++) out.firstPaint.push(await firstPaint(browser, server.url));

    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('.grid a.cell img');
    await page.waitForTimeout(500);
    for (const speed of args.speeds.split(',').map(Number)) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      const s = await scroll(page, speed, Number(args.seconds));
      s.where = 'top';
      s.speed = speed;
      s.photosLoaded = await page.evaluate(() => Number(document.querySelector('.grid').dataset.loaded));
      out.scroll.push(s);
    }
    if (args.deep !== 'false') {
      // Load the whole library by jumping to the end until nothing more comes.
      const t0 = Date.now();
      await page.evaluate(async () => {
        for (;;) {
          window.scrollTo(0, document.documentElement.scrollHeight);
          await new Promise((r) => setTimeout(r, 30));
          if (!document.querySelector('.more')) break;
        }
      });
      out.loadAll = {
        seconds: (Date.now() - t0) / 1000,
        photos: await page.evaluate(() => Number(document.querySelector('.grid').dataset.loaded)),
        heapMB: await page.evaluate(() => (performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) : null)),
        domNodes: await page.evaluate(() => document.getElementsByTagName('*').length),
      };
      for (const speed of args.speeds.split(',').map(Number)) {
        // From the middle of the library, downwards.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
        await page.waitForTimeout(500);
        const s = await scroll(page, speed, Number(args.seconds));
        s.where = 'middle, all loaded';
        s.speed = speed;
        out.scroll.push(s);
      }
    }
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
  const f = out.firstPaint;
  console.log(JSON.stringify(out));
  console.log(`\n${out.photos.toLocaleString()} photos, Chromium ${out.chromium}, viewport ${VIEWPORT.width}x${VIEWPORT.height}, ${f.length} cold runs (median):`);
  console.log(`  first contentful paint ${median(f.map((x) => x.fcp)).toFixed(0)} ms; first thumbnail painted ${median(f.map((x) => x.first)).toFixed(0)} ms; ` +
    `all ${median(f.map((x) => x.count))} on the first screen ${median(f.map((x) => x.all)).toFixed(0)} ms; first page of the list ${median(f.map((x) => x.listRequest)).toFixed(0)} ms`);
  for (const s of out.scroll) {
    console.log(`  scroll ${s.speed} px/s for ${args.seconds} s from the ${s.where}: ${s.frames} frames, ${s.dropped} dropped ` +
      `(${((100 * s.dropped) / Math.max(1, s.expected)).toFixed(1)}%), frame p50 ${s.p50.toFixed(1)} / p95 ${s.p95.toFixed(1)} / p99 ${s.p99.toFixed(1)} / worst ${s.worst.toFixed(1)} ms, ` +
      `${s.longTasks} long tasks (longest ${s.longestTask.toFixed(0)} ms), at most ${s.maxCells} cells in the page`);
  }
  if (out.loadAll) console.log(`  every photo loaded by jumping to the end: ${out.loadAll.photos.toLocaleString()} in ${out.loadAll.seconds.toFixed(1)} s; JS heap ${out.loadAll.heapMB} MB, ${out.loadAll.domNodes} elements in the page`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
