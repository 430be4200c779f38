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
  await page.getByLabel('パスワード').fill(PASSWORD);
  await page.getByRole('button', { name: '登録する' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'アカウントの設定' })).toBeVisible();
}

export async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
}
