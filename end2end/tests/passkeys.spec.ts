// Passkeys (MFA-2, MFA-3) in Chromium with a virtual authenticator (the DevTools protocol's
// WebAuthn domain stands in for a phone's or laptop's): added from the settings, asked for
// first at sign-in, and, without JavaScript, the page says so and the other factors work.
// WebAuthn refuses IP addresses as a relying party, so this file talks to the server as
// `localhost`.
import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, latestCode } from './helpers';
import { accountWithPhone, otherBrowser, signInFromLoginPage, signOut, smsCount } from './seed_helpers';

const base = (process.env.NIDAN_E2E_URL ?? 'http://127.0.0.1:3100').replace('127.0.0.1', 'localhost');
test.use({ baseURL: base });

async function virtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

test('a passkey is added from the settings, signs in before every other factor, and alone', async ({ page, browser }) => {
  await virtualAuthenticator(page);
  const { email, number } = await accountWithPhone(page, true, 'passkey', true);
  const section = page.getByRole('region', { name: 'パスキー' });
  await expect(section).toContainText('登録しているパスキーはありません。');
  await section.getByLabel('パスキーの名前(任意)').fill('テスト端末');
  // The password is asked every time a passkey is added, even right after signing in.
  await section.getByRole('button', { name: 'パスキーを追加する' }).click();
  await expect(section.getByRole('alert')).toContainText('パスワード');
  await section.getByLabel('現在のパスワード').fill(PASSWORD);
  await section.getByRole('button', { name: 'パスキーを追加する' }).click();
  await expect(page.getByText('パスキーを追加しました。')).toBeVisible();
  await expect(section.getByRole('list', { name: '登録しているパスキー' })).toContainText('テスト端末');
  await signOut(page);

  const sent = await smsCount(page, number);
  await signInFromLoginPage(page, true, email);
  await expect(page).toHaveURL(/\/login\/verify$/);
  await page.getByRole('button', { name: 'パスキーでログイン' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('region', { name: 'セキュリティ履歴' })).toContainText('ログイン(パスキー)');
  expect(await smsCount(page, number), 'no SMS while a passkey is asked for').toBe(sent);

  // A passkey alone: no email, no password, from the sign-in page.
  await signOut(page);
  await hydrated(page);
  await page.getByRole('button', { name: 'パスキーでログイン' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('region', { name: 'セキュリティ履歴' })).toContainText('ログイン(パスキー)');

  // Without JavaScript the page says what a passkey needs, and SMS still works.
  const plain = await otherBrowser(browser, false);
  await signInFromLoginPage(plain, false, email);
  await expect(plain).toHaveURL(/\/login\/verify$/);
  await expect(plain.getByText('パスキーでのログインにはJavaScriptが必要です。', { exact: false })).toBeVisible();
  await expect(plain.getByRole('button', { name: 'パスキーでログイン' })).toBeDisabled();
  await plain.getByRole('link', { name: '別の方法を使う' }).click();
  await plain.getByRole('button', { name: 'SMSで認証コードを受け取る' }).click();
  await expect.poll(() => smsCount(plain, number), { message: 'the sign-in code' }).toBe(sent + 1);
  await plain.getByLabel('認証コード').fill(await latestCode(plain, number.e164));
  await plain.getByRole('button', { name: '認証する' }).click();
  await expect(plain).toHaveURL(/\/settings$/);
  // Renaming and removing are plain forms; removing needs no password this soon.
  const list = plain.getByRole('list', { name: '登録しているパスキー' });
  await list.getByLabel('名前').fill('古い端末');
  await list.getByRole('button', { name: '名前を変更' }).click();
  await expect(plain.getByText('パスキーの名前を変更しました。')).toBeVisible();
  await plain.getByRole('button', { name: '古い端末を削除' }).click();
  await expect(plain.getByText('パスキーを削除しました。', { exact: false })).toBeVisible();
  await expect(plain.getByRole('region', { name: 'パスキー' })).toContainText('登録しているパスキーはありません。');
  await plain.context().close();
});
