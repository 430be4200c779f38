// Experiment (not kept): DOMContentLoaded of variants of /login served through a proxy.
import { chromium } from '@playwright/test';
import { createServer } from 'node:http';

const [upstream, runsArg = '15', rateArg = '4', jsArg = '1'] = process.argv.slice(2);
const runs = Number(runsArg), rate = Number(rateArg), withJs = jsArg === '1';
const base = new URL(upstream);
const fetchText = async (path) => (await fetch(new URL(path, base))).text();
const html = await fetchText('/login');
const cssHref = html.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
const css = cssHref ? await fetchText(cssHref) : '';
const variants = {
  asis: (h) => h,
  nowasmpreload: (h) => h.replace(/<link rel="preload"[^>]*\.wasm[^>]*>/, ''),
  nohints: (h) => h.replace(/<link rel="preload"[^>]*>/g, '').replace(/<link rel="modulepreload"[^>]*>/g, ''),
  inlinecss: (h) => h.replace(/<link rel="stylesheet" href="[^"]+"[^>]*>/, `<style>${css}</style>`),
};
const names = Object.keys(variants);
console.log('html bytes', html.length, 'css', cssHref, css.length);
console.log(html.slice(0, 3000));
const proxy = createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/login') {
    const r = await fetch(new URL('/login', base), { headers: { 'accept-encoding': 'identity' } });
    const body = variants[u.searchParams.get('v') ?? 'asis'](await r.text());
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
    return;
  }
  const r = await fetch(new URL(u.pathname + u.search, base), { headers: { 'accept-encoding': req.headers['accept-encoding'] ?? '' } });
  const headers = {};
  for (const [k, v] of r.headers) if (!['content-length', 'transfer-encoding', 'connection', 'content-security-policy'].includes(k)) headers[k] = v;
  const buf = Buffer.from(await r.arrayBuffer());
  // fetch decodes content-encoding; send it plain
  delete headers['content-encoding'];
  res.writeHead(r.status, headers);
  res.end(buf);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${proxy.address().port}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: withJs });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate });
await cdp.send('Network.enable');
await page.goto(`${origin}/login`, { waitUntil: 'load' });
await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
const figs = Object.fromEntries(names.map((n) => [n, []]));
for (let i = 0; i < runs; i++) {
  for (const n of names) {
    await cdp.send('Network.clearBrowserCache');
    await new Promise((r) => setTimeout(r, 300));
    await page.goto(`${origin}/login?v=${n}`, { waitUntil: 'load' });
    figs[n].push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
  }
}
await browser.close();
proxy.close();
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0);
for (const n of names) console.log(n, 'median', med(figs[n]), 'all', figs[n].map((x) => x.toFixed(0)).join(' '));
