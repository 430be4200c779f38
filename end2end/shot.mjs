import { chromium } from '@playwright/test';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
for (const js of [true, false]) {
  const ctx = await browser.newContext({ javaScriptEnabled: js, locale: 'ja-JP', viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(String(e)));
  await page.goto('http://127.0.0.1:3200/signup');
  await page.getByLabel('メールアドレス').fill(`shot${js}${Date.now()}@example.jp`);
  await page.getByLabel('パスワード', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: '登録する' }).click();
  await page.waitForURL(/settings/);
  if (js) await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
  await page.screenshot({ path: `/tmp/exp/settings-${js}.png`, fullPage: false });
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  await page.getByRole('dialog').waitFor();
  if (js) await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
  await page.getByLabel('電話番号', { exact: true }).fill('03-1234-5678');
  await page.getByRole('button', { name: '送信する' }).click();
  await page.getByRole('alert').waitFor();
  if (js) await page.locator('body[data-hydrated]').waitFor({ state: 'attached' });
  await page.screenshot({ path: `/tmp/exp/dialog-${js}.png` });
  console.log(js, page.url(), 'focused:', await page.evaluate(() => document.activeElement?.id), errors);
  await ctx.close();
}
await browser.close();
