import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A fresh address per test, so tests never collide on one database. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.jp`;
}

/** Waits until the wasm has hydrated the page (the app marks <body> from an Effect). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export async function signUp(page: Page, email: string, opts: { js: boolean } = { js: true }): Promise<void> {
  await page.goto('/signup');
  if (opts.js) await hydrated(page);
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '登録する' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'アカウントの設定' })).toBeVisible();
}

export async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
}

/** A fresh Japanese mobile number in national form, e.g. `090-4821-7734`. */
export function uniqueMobile(): { national: string; e164: string } {
  const part = () => String(1000 + Math.floor(Math.random() * 9000));
  const [a, b] = [part(), part()];
  return { national: `090-${a}-${b}`, e164: `+8190${a}${b}` };
}

type OutboxMessage = { to: string; body: string; sent_at: string };

/** Every SMS the development outbox holds for `e164`, newest first. */
export async function messagesTo(page: Page, e164: string): Promise<OutboxMessage[]> {
  const res = await page.request.get('/dev/sms.json');
  expect(res.ok()).toBeTruthy();
  const all = (await res.json()) as OutboxMessage[];
  return all.filter((m) => m.to === e164);
}

/** The code of the newest SMS to `e164` (from its WebOTP line, `@host #123456`). */
export async function latestCode(page: Page, e164: string): Promise<string> {
  // The send may still be in flight when a test asks: wait for the message to arrive.
  await expect
    .poll(async () => (await messagesTo(page, e164)).length, { message: `an SMS to ${e164}` })
    .toBeGreaterThan(0);
  const [newest] = await messagesTo(page, e164);
  const match = newest.body.match(/#(\d{6})\s*$/);
  expect(match).not.toBeNull();
  return match![1];
}
