// How long a page takes to load on a slow phone, for scripts/bench.sh (issue 11): Debian's
// Chromium opens the page with the CPU slowed down RATE times (DevTools' CPU throttling) and
// a cold cache (a new browser context each time, as on a first visit), RUNS times; prints
// the median of DOMContentLoaded and of the moment the wasm has hydrated (the app sets
// body[data-hydrated]; without JavaScript, the time the page was read), in milliseconds;
// then (with JavaScript off) the median DOMContentLoaded of an almost empty page (a title
// and a line of Japanese, served by this script over HTTP on 127.0.0.1) opened the same
// way: what the browser itself costs here before any page of ours is read, for reading the
// first figure against.
//
//   dcl_ms <median> hydrated_ms <median> runs <n> rate <r> empty_dcl_ms <median>
//
//   node end2end/bench/load-time.mjs URL [RUNS] [RATE]
import { chromium } from '@playwright/test';
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

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const dcl = [];
const hydrated = [];
const emptyDcl = [];
// A new context each time: nothing cached, as on a first visit; the CPU slowed down.
const openSlowed = async (js) => {
  const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: js });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return { context, page };
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
  for (let i = 0; i < runs; i++) {
    const { context, page } = await openSlowed(withJs);
    // The moment the app marks the body as hydrated, taken by the page itself.
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === 'true') {
          window.__hydratedAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    if (withJs) {
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
    }
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { dcl: nav.domContentLoadedEventEnd, now: window.__hydratedAt ?? performance.now() };
    });
    dcl.push(t.dcl);
    hydrated.push(t.now);
    await context.close();

    if (withJs) continue;
    const empty = await openSlowed(false);
    await empty.page.goto(emptyUrl, { waitUntil: 'domcontentloaded' });
    emptyDcl.push(
      await empty.page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),
    );
    await empty.context.close();
  }
} finally {
  await browser.close();
  emptyServer.close();
}
console.log(
  `dcl_ms ${median(dcl).toFixed(0)} hydrated_ms ${median(hydrated).toFixed(0)} runs ${runs} rate ${rate} empty_dcl_ms ${emptyDcl.length ? median(emptyDcl).toFixed(0) : '-'}`,
);
