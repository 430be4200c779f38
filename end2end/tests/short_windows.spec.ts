// Runs against the second server of scripts/test.sh, whose windows are short:
// NIDAN_REAUTH_WINDOW_SECS=5 (the password prompt, TF-4) and NIDAN_CODE_TTL_SECS=8 (a code
// expires, PH-6 and LG-2). Each test waits the window out before the step it looks at, so
// the prompt always shows there: nothing depends on how fast the machine is.
import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, latestCode, logIn, messagesTo, signUp, uniqueEmail, uniqueMobile } from './helpers';

const REAUTH_WINDOW_MS = 5_000;
const CODE_TTL_MS = 8_000;

/** Lets the password entered at sign-up (or at the last prompt) grow old. */
async function pastTheWindow(page: Page) {
  await page.waitForTimeout(REAUTH_WINDOW_MS + 700);
}

/** The prompt (TF-4): its field `パスワード` and `確認する`, inside `scope`. */
async function confirmPassword(scope: ReturnType<Page['getByRole']>, password = PASSWORD) {
  await scope.getByLabel('パスワード', { exact: true }).fill(password);
  await scope.getByRole('button', { name: '確認する' }).click();
}

async function settle(page: Page, js: boolean) {
  if (js) await hydrated(page);
}

/** Signs up and sets a number with two-factor on, past the prompt the dialog opens with. */
async function twoFactorAccount(page: Page, js: boolean, prefix: string) {
  const email = uniqueEmail(prefix);
  await signUp(page, email, { js });
  await settle(page, js);
  const number = uniqueMobile();
  await pastTheWindow(page);
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
  // Asked before anything is typed, so nothing typed can be lost.
  await expect(dialog.getByLabel('電話番号', { exact: true })).toHaveCount(0);
  await expect(dialog).toContainText('安全のため、パスワードをもう一度入力してください。');
  await confirmPassword(dialog);
  await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
  await dialog.getByRole('checkbox', { name: '二段階認証も有効にする' }).check();
  await dialog.getByRole('button', { name: '送信する' }).click();
  await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await dialog.getByRole('button', { name: '認証する' }).click();
  await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await settle(page, js);
  return { email, number };
}

async function readCodes(page: Page): Promise<string[]> {
  const list = page.getByRole('dialog').getByRole('list', { name: 'リカバリーコード一覧' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  return (await list.locator('code').allTextContents()).map((c) => c.trim());
}

for (const js of [true, false]) {
  const mode = `JavaScript ${js ? 'on' : 'off'}`;

  test.describe(mode, () => {
    test.use({ javaScriptEnabled: js });

    test(`turning two-factor off: the prompt saves the switch, a wrong password stays, × lets go (${mode})`, async ({ page }) => {
      await twoFactorAccount(page, js, js ? 'tf4-off-js' : 'tf4-off-nojs');
      const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
      await expect(toggle).toBeChecked();

      // × closes the prompt and leaves the page as it was.
      await pastTheWindow(page);
      await toggle.uncheck();
      await page.getByRole('button', { name: '保存する' }).click();
      let prompt = page.getByRole('dialog', { name: 'パスワードの確認' });
      await expect(prompt).toBeVisible();
      // The prompt is a page of its own; hydrated, it keeps the switch as it was set.
      await settle(page, js);
      await prompt.getByRole('button', { name: '閉じる' }).click();
      await expect(page.getByRole('dialog')).toHaveCount(0);
      if (js) {
        // Hydrated, the switch keeps what the person set, one click from saving.
        await expect(toggle).not.toBeChecked();
        await expect(page.getByText('未保存の変更があります')).toBeVisible();
        await expect(page.getByRole('button', { name: '保存する' })).toBeFocused();
      } else {
        await expect(toggle).toBeChecked();
        await toggle.uncheck();
      }

      await page.getByRole('button', { name: '保存する' }).click();
      prompt = page.getByRole('dialog', { name: 'パスワードの確認' });
      await confirmPassword(prompt, 'not the password');
      await expect(prompt.getByRole('alert')).toHaveText('現在のパスワードが正しくありません。');
      await confirmPassword(prompt);
      await expect(page.getByRole('dialog')).toHaveCount(0);
      await expect(page.getByRole('status').getByText('設定を保存しました。')).toBeVisible();
      await expect(toggle).not.toBeChecked();
      await expect(page.getByText('未保存の変更があります')).toHaveCount(0);
      // The change is real: a reload shows it.
      await page.reload();
      await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).not.toBeChecked();
    });

    test(`showing and regenerating recovery codes: the prompt in the dialog does what was asked (${mode})`, async ({ page }) => {
      await twoFactorAccount(page, js, js ? 'tf4-codes-js' : 'tf4-codes-nojs');
      await pastTheWindow(page);
      await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
      const dialog = page.getByRole('dialog', { name: 'リカバリーコード' });
      await expect(dialog.getByRole('list', { name: 'リカバリーコード一覧' })).toHaveCount(0);
      await confirmPassword(dialog);
      const first = await readCodes(page);

      await pastTheWindow(page);
      await dialog.getByRole('button', { name: '再生成する' }).click();
      await expect(dialog.getByLabel('パスワード', { exact: true })).toBeVisible();
      await confirmPassword(dialog);
      await expect(dialog.getByText('リカバリーコードを再生成しました。', { exact: false })).toBeVisible();
      await expect(dialog).toContainText('新しいリカバリーコードを安全な場所に保管してください。');
      const second = await readCodes(page);
      expect(second).not.toEqual(first);
      await dialog.getByRole('button', { name: '閉じる' }).click();
      await expect(page.getByRole('dialog')).toHaveCount(0);
    });

    test(`changing the number with two-factor on: asked first, then the number step (${mode})`, async ({ page }) => {
      await twoFactorAccount(page, js, js ? 'tf4-phone-js' : 'tf4-phone-nojs');
      const next = uniqueMobile();
      await pastTheWindow(page);
      await page.getByRole('button', { name: '電話番号を設定する' }).click();
      const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
      await confirmPassword(dialog, 'not the password');
      await expect(dialog.getByRole('alert')).toHaveText('現在のパスワードが正しくありません。');
      await confirmPassword(dialog);
      const field = dialog.getByLabel('電話番号', { exact: true });
      await expect(field).toBeVisible();
      await field.fill(next.national);
      await dialog.getByRole('button', { name: '送信する' }).click();
      await dialog.getByLabel('認証コード').fill(await latestCode(page, next.e164));
      await dialog.getByRole('button', { name: '認証する' }).click();
      await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
      await dialog.getByRole('button', { name: '閉じる' }).click();
      await expect(page.getByTestId('phone-value')).toHaveText(next.national);
    });

    test(`a code that expired at registration and at sign-in (${mode})`, async ({ page, browser }) => {
      const { email, number } = await twoFactorAccount(page, js, js ? 'ttl-js' : 'ttl-nojs');
      // Registration: the new number's code is left to expire.
      const next = uniqueMobile();
      await pastTheWindow(page);
      await page.getByRole('button', { name: '電話番号を設定する' }).click();
      const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
      await confirmPassword(dialog);
      await dialog.getByLabel('電話番号', { exact: true }).fill(next.national);
      await dialog.getByRole('button', { name: '送信する' }).click();
      const code = await latestCode(page, next.e164);
      await page.waitForTimeout(CODE_TTL_MS + 500);
      await dialog.getByLabel('認証コード').fill(code);
      await dialog.getByRole('button', { name: '認証する' }).click();
      await expect(dialog.getByRole('alert').first()).toHaveText('認証コードの有効期限が切れました。もう一度送信してください。');
      // Back to the start of the dialog, which (the window long past) asks for the password.
      await expect(dialog.getByLabel('パスワード', { exact: true })).toBeVisible();
      await expect(page.getByTestId('phone-value')).toHaveText(number.national);

      // Sign-in: the code page says to start again from the password, and offers only that.
      const context = await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: js });
      const other = await context.newPage();
      await other.goto('/login');
      await settle(other, js);
      const before = (await messagesTo(other, number.e164)).length;
      await logIn(other, email);
      await expect(other).toHaveURL(/\/login\/verify$/);
      await expect.poll(async () => (await messagesTo(other, number.e164)).length).toBe(before + 1);
      const signInCode = await latestCode(other, number.e164);
      await other.waitForTimeout(CODE_TTL_MS + 500);
      await other.getByLabel('認証コード').fill(signInCode);
      await other.getByRole('button', { name: '認証する' }).click();
      await expect(other.getByText('認証コードの有効期限が切れました。もう一度メールアドレスとパスワードを入力して、ログインをやり直してください。')).toBeVisible();
      await expect(other.getByRole('link', { name: 'ログイン画面に戻る' })).toBeVisible();
      await expect(other.getByRole('button', { name: '再送する' })).toHaveCount(0);
      await context.close();
    });
  });
}

for (const js of [true, false]) {
  test.describe(`typed number (JavaScript ${js ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled: js });

    test(`a number typed while the window closed is sent with the password (JavaScript ${js ? 'on' : 'off'})`, async ({ page }) => {
      const email = uniqueEmail(js ? 'tf4-typed-js' : 'tf4-typed-nojs');
      await signUp(page, email, { js });
      await settle(page, js);
      const number = uniqueMobile();
      await page.getByRole('button', { name: '電話番号を設定する' }).click();
      const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
      // Usually still inside the window; on a slow machine the dialog may ask first.
      const field = dialog.getByLabel('電話番号', { exact: true });
      const password = dialog.getByLabel('パスワード', { exact: true });
      await expect(field.or(password)).toBeVisible();
      if (await password.isVisible()) await confirmPassword(dialog);
      await field.fill(number.national);
      await dialog.getByRole('checkbox', { name: '二段階認証も有効にする' }).check();
      await pastTheWindow(page);
      await dialog.getByRole('button', { name: '送信する' }).click();
      await expect(password).toBeVisible();
      await expect(dialog).toContainText(`${number.national} に認証コードを送信します。`);
      expect(await messagesTo(page, number.e164)).toHaveLength(0);
      await confirmPassword(dialog);
      // The number typed was sent, and the checkbox was kept.
      await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
      await dialog.getByRole('button', { name: '認証する' }).click();
      await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
      await expect(dialog.getByRole('list', { name: 'リカバリーコード一覧' }).getByRole('listitem')).toHaveCount(10);
    });
  });
}
