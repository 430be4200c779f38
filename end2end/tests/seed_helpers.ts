// Helpers for seed_steps.spec.ts: the steps of the help page (seed/000_59d257657d2c9e2a.txt)
// that no other spec walks, each with JavaScript on and off.
import { expect, type Browser, type Locator, type Page, type TestInfo } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import { PASSWORD, hydrated, latestCode, logIn, messagesTo, signUp, uniqueEmail, uniqueMobile } from './helpers';

export type Mobile = { national: string; e164: string };

export const modeName = (js: boolean) => `JavaScript ${js ? 'on' : 'off'}`;

/** Waits for the wasm when the page runs it; a page without JavaScript is ready as served. */
export async function settle(page: Page, js: boolean): Promise<void> {
  if (js) await hydrated(page);
}

/** Another browser: its own cookies, so it is neither signed in nor remembered. */
export async function otherBrowser(browser: Browser, js: boolean, userAgent?: string): Promise<Page> {
  const context = await browser.newContext({
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    javaScriptEnabled: js,
    ...(userAgent ? { userAgent } : {}),
  });
  return context.newPage();
}

/** The phone dialog, named by its title. */
export function phoneDialog(page: Page): Locator {
  return page.getByRole('dialog', { name: '電話番号を設定する' });
}

export async function openPhoneDialog(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  const dialog = phoneDialog(page);
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Number step → code step: types `number` and presses 送信する. */
export async function sendCodeTo(page: Page, number: Mobile, enableTwoFactor = false): Promise<Locator> {
  const dialog = await openPhoneDialog(page);
  await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
  if (enableTwoFactor) await dialog.getByRole('checkbox', { name: '二段階認証も有効にする' }).check();
  await dialog.getByRole('button', { name: '送信する' }).click();
  await expect(phoneDialog(page).getByLabel('認証コード')).toBeVisible();
  return phoneDialog(page);
}

/** The whole phone dialog with the code from the SMS; leaves the success step open. */
export async function registerNumber(page: Page, number: Mobile, enableTwoFactor = false): Promise<void> {
  const dialog = await sendCodeTo(page, number, enableTwoFactor);
  await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await dialog.getByRole('button', { name: '認証する' }).click();
  await expect(phoneDialog(page).getByText('電話番号を設定しました。')).toBeVisible();
}

/** The ten codes of the open recovery-code list. */
export async function readCodes(page: Page): Promise<string[]> {
  const list = page.getByRole('dialog').getByRole('list', { name: 'リカバリーコード一覧' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  return (await list.locator('code').allTextContents()).map((c) => c.trim());
}

export async function closeDialog(page: Page, js: boolean): Promise<void> {
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).first().click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await settle(page, js);
}

/**
 * A fresh account whose number is verified. With `twoFactor`, `二段階認証も有効にする` was
 * ticked and the codes shown on the success step are returned. The dialog is closed.
 */
export async function accountWithPhone(
  page: Page,
  js: boolean,
  prefix: string,
  twoFactor: boolean,
): Promise<{ email: string; number: Mobile; codes: string[] }> {
  const email = uniqueEmail(prefix);
  await signUp(page, email, { js });
  await settle(page, js);
  const number = uniqueMobile();
  await registerNumber(page, number, twoFactor);
  const codes = twoFactor ? await readCodes(page) : [];
  await closeDialog(page, js);
  await expect(page.getByTestId('phone-value')).toHaveText(number.national);
  return { email, number, codes };
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** /login with email and password; lands on the code page or the settings, as the server says. */
export async function signInFromLoginPage(page: Page, js: boolean, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await settle(page, js);
  await logIn(page, email, password);
}

/** How many SMS the outbox holds for `number`. */
export async function smsCount(page: Page, number: Mobile): Promise<number> {
  return (await messagesTo(page, number.e164)).length;
}

/**
 * Signs in with the password and the SMS code, so that this browser is remembered (LG-4),
 * then signs out again.
 */
export async function rememberThisBrowser(
  page: Page,
  js: boolean,
  email: string,
  number: Mobile,
  password = PASSWORD,
): Promise<void> {
  const before = await smsCount(page, number);
  await signInFromLoginPage(page, js, email, password);
  await expect(page).toHaveURL(/\/login\/verify$/);
  await expect.poll(() => smsCount(page, number), { message: 'the sign-in code' }).toBe(before + 1);
  await page.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await page.getByRole('button', { name: '認証する' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await settle(page, js);
  await signOut(page);
}

/** A sign-in from `page` skips the SMS code: the browser is remembered. Signs out again. */
export async function expectStraightIn(page: Page, js: boolean, email: string, password = PASSWORD): Promise<void> {
  await signInFromLoginPage(page, js, email, password);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'アカウントの設定' })).toBeVisible();
  await settle(page, js);
  await signOut(page);
}

/** A sign-in from `page` is asked for the SMS code: the browser is not remembered. */
export async function expectAskedForCode(page: Page, js: boolean, email: string, password = PASSWORD): Promise<void> {
  await signInFromLoginPage(page, js, email, password);
  await expect(page).toHaveURL(/\/login\/verify$/);
  await expect(page.getByRole('heading', { name: '二段階認証' })).toBeVisible();
  await expect(page.getByLabel('認証コード')).toBeVisible();
  await expect(page.getByRole('button', { name: '認証する' })).toBeVisible();
}

/** From the code page, the recovery-code input and one code; returns nothing, checks nothing. */
export async function enterRecoveryCode(page: Page, code: string): Promise<void> {
  await page.getByRole('link', { name: '認証コードを受け取れない方' }).click();
  await expect(page.getByLabel('リカバリーコード')).toBeVisible();
  await page.getByLabel('リカバリーコード').fill(code);
  await page.getByRole('button', { name: '認証する' }).click();
}

/** The remembered browsers section of the settings page. */
export function browsersSection(page: Page): Locator {
  return page.getByRole('region', { name: '記憶しているブラウザ' });
}

/** The settings page, loaded afresh (what the person sees after coming back to it). */
export async function reloadSettings(page: Page, js: boolean): Promise<void> {
  await page.goto('/settings');
  await expect(page.getByRole('heading', { name: 'アカウントの設定' })).toBeVisible();
  await settle(page, js);
}

/** A full-page screenshot for the tour, saved under end2end/screenshots/<dir>/ and attached. */
export async function tourShot(page: Page, testInfo: TestInfo, dir: string, step: number, name: string): Promise<void> {
  const file = `${String(step).padStart(2, '0')}-${name}.png`;
  const target = path.join(__dirname, '..', 'screenshots', dir, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await page.screenshot({ path: target, fullPage: true });
  await testInfo.attach(`${dir}/${file}`, { path: target, contentType: 'image/png' });
}
