import { test, expect, type Browser, type Page } from '@playwright/test';
import { PASSWORD, hydrated, latestCode, logIn, messagesTo, signUp, uniqueEmail, uniqueMobile } from './helpers';

/** Signs up and verifies a number from the phone dialog; returns the number. */
async function withPhone(page: Page, email: string, enableTwoFactor = false) {
  await signUp(page, email);
  await hydrated(page);
  const number = uniqueMobile();
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
  if (enableTwoFactor) await dialog.getByRole('checkbox', { name: '二段階認証も有効にする' }).check();
  await dialog.getByRole('button', { name: '送信する' }).click();
  await expect(dialog.getByLabel('認証コード')).toBeVisible();
  await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await dialog.getByRole('button', { name: '認証する' }).click();
  await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
  return number;
}

async function enableWithSwitch(page: Page): Promise<string[]> {
  const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
  const save = page.getByRole('button', { name: '保存する' });
  await expect(toggle).toBeEnabled();
  await expect(toggle).not.toBeChecked();
  await expect(save).toBeDisabled();
  await toggle.check();
  await expect(save).toBeEnabled();
  await expect(page.getByText('未保存の変更があります')).toBeVisible();
  await save.click();
  return readCodes(page);
}

async function readCodes(page: Page): Promise<string[]> {
  const dialog = page.getByRole('dialog');
  const list = dialog.getByRole('list', { name: 'リカバリーコード一覧' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  return (await list.locator('code').allTextContents()).map((c) => c.trim());
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ locale: 'ja-JP' });
  return context.newPage();
}

test('the switch does nothing until saved, then shows ten recovery codes; show again; regenerate', async ({ page }) => {
  await withPhone(page, uniqueEmail('tf'));
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('button', { name: 'リカバリーコードを表示する' })).toBeDisabled();

  // Flipping the switch alone changes nothing on the server.
  await page.getByRole('switch', { name: '二段階認証(SMS)' }).check();
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).not.toBeChecked();

  const codes = await enableWithSwitch(page);
  for (const code of codes) expect(code).toMatch(/^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/);
  expect(new Set(codes).size).toBe(10);
  await expect(page.getByRole('dialog')).toContainText('安全な場所に保管してください');
  await expect(page.getByRole('link', { name: 'ダウンロード' })).toHaveAttribute('download', '二段_リカバリーコード.txt');
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).toBeChecked();

  await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
  expect(await readCodes(page)).toEqual(codes);
  await page.getByRole('dialog').getByRole('button', { name: '再生成する' }).click();
  await expect(page.getByRole('dialog').getByRole('status').first()).toContainText('再生成しました');
  const fresh = await readCodes(page);
  expect(fresh).not.toEqual(codes);
});

test('sign in with the SMS code; the same browser skips it next time, a new one is asked', async ({ page, browser }) => {
  const email = uniqueEmail('login');
  const number = await withPhone(page, email, true);
  // The checkbox turned two-factor on with the number: the codes are shown at once.
  await expect(page.getByRole('dialog').getByRole('list', { name: 'リカバリーコード一覧' }).getByRole('listitem')).toHaveCount(10);
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();
  await signOut(page);

  await hydrated(page);
  await logIn(page, email);
  await expect(page).toHaveURL(/\/login\/verify$/);
  await expect(page.getByText('SMSの受信には2、3分かかる場合があります。', { exact: false })).toBeVisible();
  await expect(page.getByRole('link', { name: '認証コードを受け取れない方' })).toBeVisible();
  await page.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await page.getByRole('button', { name: '認証する' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: '記憶しているブラウザ' })).toBeVisible();
  await expect(page.getByRole('button', { name: /\)の記憶を解除$/ })).toHaveCount(1);

  // Same browser: straight in.
  await signOut(page);
  await hydrated(page);
  await logIn(page, email);
  await expect(page).toHaveURL(/\/settings$/);

  // Another browser: asked for the code.
  const other = await freshPage(browser);
  await other.goto('/login');
  await hydrated(other);
  await logIn(other, email);
  await expect(other).toHaveURL(/\/login\/verify$/);
  await expect(other.getByLabel('認証コード')).toBeVisible();
  await other.context().close();
});

test('sign in with a recovery code; the same code fails next time', async ({ page, browser }) => {
  const email = uniqueEmail('recovery');
  await withPhone(page, email, true);
  const codes = await readCodes(page);
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();

  const other = await freshPage(browser);
  await other.goto('/login');
  await hydrated(other);
  await logIn(other, email);
  await other.getByRole('link', { name: '認証コードを受け取れない方' }).click();
  await other.getByLabel('リカバリーコード').fill(codes[2].toUpperCase());
  await other.getByRole('button', { name: '認証する' }).click();
  await expect(other).toHaveURL(/\/settings\?recovery_left=9$/);
  await expect(other.getByText('未使用のリカバリーコードは残り9個です。')).toBeVisible();
  // The security history says so too (SEC-5).
  await expect(other.getByRole('heading', { name: 'セキュリティ履歴' })).toBeVisible();
  await expect(other.getByText('ログイン(リカバリーコードを使用)')).toBeVisible();
  // Regeneration is one click away (LG-3): the recovery dialog, with 再生成する.
  await other.getByRole('button', { name: 'リカバリーコードの画面を開く' }).click();
  const dialog = other.getByRole('dialog');
  await expect(dialog.getByRole('listitem').nth(2)).toContainText('使用済み');
  await expect(dialog.getByRole('button', { name: '再生成する', exact: true })).toBeVisible();
  await other.context().close();

  const third = await freshPage(browser);
  await third.goto('/login');
  await hydrated(third);
  await logIn(third, email);
  await third.getByRole('link', { name: '認証コードを受け取れない方' }).click();
  await third.getByLabel('リカバリーコード').fill(codes[2]);
  await third.getByRole('button', { name: '認証する' }).click();
  await expect(third.getByRole('alert')).toHaveText('リカバリーコードが正しくないか、既に使用されています。');
  await third.context().close();

  await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
  await expect(page.getByRole('dialog').getByRole('listitem').nth(2)).toContainText('使用済み');
});

test('off then on gives a new set of codes', async ({ page }) => {
  await withPhone(page, uniqueEmail('offon'), true);
  const first = await readCodes(page);
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();

  const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
  await toggle.uncheck();
  await page.getByRole('button', { name: '保存する' }).click();
  await expect(page.getByText('設定を保存しました。')).toBeVisible();
  await expect(toggle).not.toBeChecked();
  await expect(page.getByRole('button', { name: 'リカバリーコードを表示する' })).toBeDisabled();

  await toggle.check();
  await page.getByRole('button', { name: '保存する' }).click();
  const second = await readCodes(page);
  expect(second).not.toEqual(first);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('save, sign out, and sign in with the code', async ({ page }) => {
    const email = uniqueEmail('tf-nojs');
    await signUp(page, email, { js: false });
    const number = uniqueMobile();
    await page.getByRole('button', { name: '電話番号を設定する' }).click();
    await page.getByRole('dialog').getByLabel('電話番号', { exact: true }).fill(number.national);
    await page.getByRole('dialog').getByRole('button', { name: '送信する' }).click();
    await page.getByRole('dialog').getByLabel('認証コード').fill(await latestCode(page, number.e164));
    await page.getByRole('dialog').getByRole('button', { name: '認証する' }).click();
    await page.getByRole('button', { name: '閉じる' }).click();

    await page.getByRole('switch', { name: '二段階認証(SMS)' }).check();
    await page.getByRole('button', { name: '保存する' }).click();
    const codes = await readCodes(page);
    expect(codes).toHaveLength(10);

    // Showing them again is a plain POST form too; the history records it.
    await page.getByRole('button', { name: '閉じる' }).click();
    await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
    expect(await readCodes(page)).toEqual(codes);
    await page.getByRole('button', { name: '閉じる' }).click();
    await expect(page.getByRole('region', { name: 'セキュリティ履歴' }).getByText('リカバリーコードを表示')).toBeVisible();

    await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await logIn(page, email);
    await expect(page).toHaveURL(/\/login\/verify$/);
    await page.getByLabel('認証コード').fill(await latestCode(page, number.e164));
    await page.getByRole('button', { name: '認証する' }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole('main').getByText(email)).toBeVisible();
  });
});

for (const js of [true, false]) {
  test(`five wrong sign-in codes end the sign-in and offer only the way back (JavaScript ${js ? 'on' : 'off'})`, async ({ page, browser }) => {
    const email = uniqueEmail(js ? 'dead-js' : 'dead-nojs');
    const number = await withPhone(page, email, true);
    await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();

    const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: js });
    const other = await context.newPage();
    await other.goto('/login');
    if (js) await hydrated(other);
    await logIn(other, email);
    await expect(other).toHaveURL(/\/login\/verify$/);
    // Wait for the sign-in code, then enter one that is surely not it.
    await expect.poll(async () => (await messagesTo(other, number.e164)).length).toBe(2);
    const code = await latestCode(other, number.e164);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      await other.getByLabel('認証コード').fill(wrong);
      await other.getByRole('button', { name: '認証する' }).click();
      if (i < 4) await expect(other.getByText(`あと${4 - i}回入力できます。`)).toBeVisible();
    }
    await expect(other.getByText(/ログインをやり直してください。|もう一度メールアドレスとパスワードを入力してください。/)).toBeVisible();
    await expect(other.getByRole('link', { name: 'ログイン画面に戻る' })).toBeVisible();
    await expect(other.getByRole('button', { name: '再送する' })).toHaveCount(0);
    await expect(other.getByText('もう一度送信してください')).toHaveCount(0);
    await other.getByRole('link', { name: 'ログイン画面に戻る' }).click();
    await expect(other).toHaveURL(/\/login$/);
    await context.close();
  });
}
