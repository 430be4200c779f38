// Where a page's load time goes before DOMContentLoaded (issue 11): one tab that stays
// open, CPU slowed down RATE times, cache off, loads URL RUNS times with Chromium's trace on
// and sums, per kind of work on the page's main thread, the time spent between the start
// of the navigation and DOMContentLoaded, with the moments each file's request was sent,
// answered and finished; prints the medians over the runs, largest first (milliseconds
// from the start of the navigation; "@" rows are moments, the others durations). A
// diagnosis, not a benchmark: tracing itself slows the page a little. NIDAN_BENCH_NO_JS=1
// loads it with JavaScript off; NIDAN_TRACE_PER_RUN=1 also prints each run's main moments.
//
//   node end2end/bench/trace-load.mjs URL [RUNS] [RATE]
import { launchChromium } from './browser.mjs';

const [url, runsArg = '7', rateArg = '4'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node end2end/bench/trace-load.mjs URL [RUNS] [RATE]');
  process.exit(2);
}
const runs = Number(runsArg);
const rate = Number(rateArg);
const withJs = process.env.NIDAN_BENCH_NO_JS !== '1';
const browser = await launchChromium();
const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: withJs });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate });
await cdp.send('Network.enable');
await page.goto(url, { waitUntil: 'load' });
await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
const perRun = [];
for (let i = 0; i < runs; i++) {
  await cdp.send('Network.clearBrowserCache');
  await new Promise((r) => setTimeout(r, 300));
  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'blink.user_timing', 'loading', 'v8', 'disabled-by-default-devtools.timeline'],
  });
  await page.goto(url, { waitUntil: 'load' });
  const buf = await browser.stopTracing();
  const dcl = await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd);
  const events = JSON.parse(buf.toString()).traceEvents;
  // The page's main thread: every thread named CrRendererMain (one renderer per site here).
  const names = new Map();
  for (const e of events) if (e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  const nav = events.find((e) => e.name === 'navigationStart' && e.args?.data?.isLoadingMainFrame && e.args?.data?.documentLoaderURL === url)
    ?? events.filter((e) => e.name === 'navigationStart').at(-1);
  const dclEv = events.filter((e) => e.name === 'domContentLoadedEventEnd' || e.name === 'MarkDOMContent').at(-1);
  const start = nav.ts;
  const end = dclEv ? dclEv.ts : start + dcl * 1000;
  const main = events.filter((e) => names.get(`${e.pid}:${e.tid}`) === 'CrRendererMain' && e.ph === 'X' && e.ts < end && e.ts + (e.dur ?? 0) > start);
  const sums = {};
  const add = (key, e) => {
    const ms = (Math.min(e.ts + e.dur, end) - Math.max(e.ts, start)) / 1000;
    sums[key] = (sums[key] ?? 0) + ms;
  };
  // The thread's tasks (depth 0) add up to how long it was busy; the slices directly in a
  // task (depth 1) say what it was busy with. Deeper slices are inside those.
  main.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const byThread = new Map();
  for (const e of main) {
    const key = `${e.pid}:${e.tid}`;
    const stack = byThread.get(key) ?? [];
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    const depth = stack.length;
    stack.push(e);
    byThread.set(key, stack);
    if (depth === 0) add('(busy, any task)', e);
    if (depth === 1) add(e.name, e);
  }
  sums['DOMContentLoaded'] = (end - start) / 1000;
  sums['DCL (navigation timing)'] = dcl;
  const net = events.filter((e) => e.name === 'ResourceReceiveResponse' || e.name === 'ResourceFinish' || e.name === 'ResourceSendRequest');
  const urls = new Map();
  for (const e of net) if (e.name === 'ResourceSendRequest') urls.set(e.args.data.requestId, e.args.data.url);
  for (const e of net) {
    const u = urls.get(e.args?.data?.requestId);
    if (!u) continue;
    const short = u.replace(/^https?:\/\/[^/]+/, '').replace(/\.[A-Za-z0-9_-]{22}\./, '.').slice(0, 40);
    if (e.ts >= start && e.ts <= end + 50000) sums[`@${e.name} ${short}`] = (e.ts - start) / 1000;
  }
  perRun.push(sums);
  if (process.env.NIDAN_TRACE_PER_RUN === '1') console.log(['DOMContentLoaded', '@ResourceSendRequest /pkg/nidan.js', '@ResourceFinish /pkg/nidan.js', '@ResourceFinish /pkg/nidan.css', '@ResourceSendRequest /login'].map((k) => `${k.split(' ').at(-1)}=${sums[k]?.toFixed(0)}`).join(' '));
}
await browser.close();
const keys = [...new Set(perRun.flatMap((r) => Object.keys(r)))];
const median = (xs) => { const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const rows = keys.map((k) => [k, median(perRun.map((r) => r[k]))]).sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows) if (v >= 0.5) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
