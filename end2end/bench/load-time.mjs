// How long a page takes to load on a slow phone, for scripts/bench.sh (issue 11): Debian's
// Chromium opens the page with the CPU slowed down RATE times (DevTools' CPU throttling) and
// a cold HTTP cache, RUNS times, in two ways taken in turn:
//
// - new tab: a new browser context each time, as on a first visit in a fresh tab. Chromium
//   starts a renderer process for it, and that start (slowed down too) falls inside the
//   page's DOMContentLoaded: an almost empty page costs 60–170 ms this way here.
// - open tab: one tab that stays open, with DevTools' "disable cache" on (no HTTP or memory
//   cache) and the HTTP cache cleared before each load, as for a person whose browser is
//   already running: what the page itself costs.
//
// It prints the median of DOMContentLoaded and of the moment the wasm has hydrated (the app
// sets body[data-hydrated]) for each way, in milliseconds; with JavaScript off (no
// hydration), also the median DOMContentLoaded of an almost empty page (a title and a line
// of Japanese, served by this script over HTTP on 127.0.0.1) opened both ways: what the
// browser itself costs before any page of ours is read, for reading the first figures
// against.
//
//   new_tab_dcl_ms <m> new_tab_hydrated_ms <m|-> open_tab_dcl_ms <m> open_tab_hydrated_ms <m|->
//   empty_new_tab_dcl_ms <m|-> empty_open_tab_dcl_ms <m|-> runs <n> rate <r>
//
//   node end2end/bench/load-time.mjs URL [RUNS] [RATE]
import { launchChromium } from './browser.mjs';
import { createServer } from 'node:http';

const [url, runsArg = '5', rateArg = '4'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node end2end/bench/load-time.mjs URL [RUNS] [RATE]');
  process.exit(2);
}
const runs = Number(runsArg);
const rate = Number(rateArg);
// NIDAN_BENCH_NO_JS=1: the same page with JavaScript off (what the HTML and CSS alone cost).
const withJs = process.env.NIDAN_BENCH_NO_JS !== '1';

const browser = await launchChromium();
const figures = {
  new_tab_dcl_ms: [],
  new_tab_hydrated_ms: [],
  open_tab_dcl_ms: [],
  open_tab_hydrated_ms: [],
  empty_new_tab_dcl_ms: [],
  empty_open_tab_dcl_ms: [],
};
const slowed = async (context, page) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return cdp;
};
// A new context: nothing cached, a renderer process of its own; the CPU slowed down.
const newTab = async (js) => {
  const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: js });
  const page = await context.newPage();
  await slowed(context, page);
  return { context, page };
};
// The moment the app marks the body as hydrated, taken by the page itself.
const watchHydration = (page) =>
  page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
// Loads `target` in `page` (to its `load` event) and returns its DOMContentLoaded and, with JavaScript, the
// moment it hydrated.
const load = async (page, target, hydrates) => {
  // The machine settles first (the last run's processes closing, its page idle): each
  // figure is of one page load, not of two overlapping.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await page.goto(target, { waitUntil: 'load' });
  if (hydrates) {
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  }
  return page.evaluate(() => ({
    dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    hydrated: window.__hydratedAt ?? null,
  }));
};
const emptyPage =
  '<!DOCTYPE html><html lang="ja"><meta charset="utf-8"><title>空</title><p>ログイン</p></html>';
const emptyServer = createServer((_, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(emptyPage);
});
await new Promise((resolve) => emptyServer.listen(0, '127.0.0.1', resolve));
const emptyUrl = `http://127.0.0.1:${emptyServer.address().port}/`;
try {
  // One way at a time, each page on its own: a tab being opened or closed beside a load
  // (a renderer process starting or ending) slows that load down.
  // The open tab: shown the page once before the runs (a renderer for the site is up),
  // its cache cleared before each load.
  const openTab = async (target, hydrates, figure, hydratedFigure) => {
    const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: hydrates });
    const page = await context.newPage();
    await watchHydration(page);
    const cdp = await slowed(context, page);
    await cdp.send('Network.enable');
    await load(page, target, hydrates);
    // Not only the HTTP cache: the renderer keeps the files of the last page in memory, and
    // ours are served `immutable`, so without this the tab would not load them again.
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    for (let i = 0; i < runs; i++) {
      await cdp.send('Network.clearBrowserCache');
      const t = await load(page, target, hydrates);
      figure.push(t.dcl);
      if (hydrates) hydratedFigure.push(t.hydrated);
    }
    await context.close();
  };
  const newTabs = async (target, hydrates, figure, hydratedFigure) => {
    for (let i = 0; i < runs; i++) {
      const fresh = await newTab(hydrates);
      await watchHydration(fresh.page);
      const t = await load(fresh.page, target, hydrates);
      figure.push(t.dcl);
      if (hydrates) hydratedFigure.push(t.hydrated);
      await fresh.context.close();
    }
  };
  await openTab(url, withJs, figures.open_tab_dcl_ms, figures.open_tab_hydrated_ms);
  await newTabs(url, withJs, figures.new_tab_dcl_ms, figures.new_tab_hydrated_ms);
  if (!withJs) {
    await openTab(emptyUrl, false, figures.empty_open_tab_dcl_ms, []);
    await newTabs(emptyUrl, false, figures.empty_new_tab_dcl_ms, []);
  }
} finally {
  await browser.close();
  emptyServer.close();
}
const median = (all) => {
  // A load whose hydration the observer missed has no time; it is left out.
  const xs = all.filter((x) => typeof x === 'number');
  if (xs.length === 0) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)].toFixed(0);
};
console.log(
  [...Object.entries(figures).map(([name, xs]) => `${name} ${median(xs)}`), `runs ${runs}`, `rate ${rate}`].join(' '),
);
