// The authenticator app (MFA-1) and `別の方法を使う` (MFA-3), with JavaScript on and off:
// set up from the key the dialog shows, sign in with the app's code (computed here the way
// every authenticator app does, RFC 6238), fall back to SMS and to a recovery code, remove.
import { test, expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { latestCode } from './helpers';
import { accountWithPhone, modeName, otherBrowser, settle, signInFromLoginPage, signOut, smsCount } from './seed_helpers';

/** RFC 4648 base32, as the dialog shows the key (spaces between groups are ignored). */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The six digits an authenticator app holding `key` shows at `at` (HMAC-SHA1, 30 s). */
function appCode(key: string, at = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', base32Decode(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

test('the RFC 6238 test vector gives the code the RFC says', () => {
  // Appendix B, SHA-1 key "12345678901234567890", T = 59 s: 94287082, last six digits.
  expect(appCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toBe('287082');
});

for (const js of [true, false]) {
  test.describe(modeName(js), () => {
    test.use({ javaScriptEnabled: js });

    test('an authenticator app is set from the key shown, asked for first, with SMS and a recovery code behind 別の方法を使う', async ({ page, browser }) => {
      const { email, number, codes } = await accountWithPhone(page, js, 'totp', true);
      await expect(page.getByTestId('app-value')).toHaveText('設定されていません');
      await page.getByRole('button', { name: '認証アプリを設定する' }).click();
      const dialog = page.getByRole('dialog', { name: '認証アプリを設定する' });
      await expect(dialog.getByRole('img', { name: '認証アプリ用のQRコード' })).toBeVisible();
      const key = ((await dialog.getByTestId('setup-key').textContent()) ?? '').trim();
      expect(key.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);

      // A wrong code sets nothing.
      const right = appCode(key);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      await dialog.getByLabel('認証コード').fill(wrong);
      await dialog.getByRole('button', { name: '設定する' }).click();
      await expect(page.getByRole('dialog', { name: '認証アプリを設定する' }).getByText('認証コードが正しくありません。', { exact: false })).toBeVisible();
      await page.getByRole('dialog', { name: '認証アプリを設定する' }).getByLabel('認証コード').fill(appCode(key));
      await page.getByRole('dialog', { name: '認証アプリを設定する' }).getByRole('button', { name: '設定する' }).click();
      await expect(page.getByText('認証アプリを設定しました。', { exact: false })).toBeVisible();
      await expect(page.getByTestId('app-value')).toContainText('設定済み');
      await settle(page, js);
      await signOut(page);

      // The next sign-in asks for the app's code, and no SMS goes out.
      const sent = await smsCount(page, number);
      await signInFromLoginPage(page, js, email);
      await expect(page).toHaveURL(/\/login\/verify$/);
      await expect(page.getByText('認証アプリに表示されている6桁のコードを入力してください。')).toBeVisible();
      // The phone's clock a little ahead: the next step's code (the one that confirmed the
      // app is never taken twice).
      await page.getByLabel('認証コード').fill(appCode(key, Date.now() + 30_000));
      await page.getByRole('button', { name: '認証する' }).click();
      await expect(page).toHaveURL(/\/settings$/);
      await expect(page.getByRole('region', { name: 'セキュリティ履歴' })).toContainText('ログイン(認証アプリ)');
      expect(await smsCount(page, number)).toBe(sent);
      await settle(page, js);

      // Another browser: 別の方法を使う → SMS.
      const second = await otherBrowser(browser, js);
      await signInFromLoginPage(second, js, email);
      await expect(second).toHaveURL(/\/login\/verify$/);
      await second.getByRole('link', { name: '別の方法を使う' }).click();
      await second.getByRole('button', { name: 'SMSで認証コードを受け取る' }).click();
      await expect(second.getByText('SMSの受信には2、3分かかる場合があります。', { exact: false })).toBeVisible();
      await expect.poll(() => smsCount(second, number), { message: 'the sign-in code' }).toBe(sent + 1);
      await second.getByLabel('認証コード').fill(await latestCode(second, number.e164));
      await second.getByRole('button', { name: '認証する' }).click();
      await expect(second).toHaveURL(/\/settings$/);
      await second.context().close();

      // And a third: 別の方法を使う → a recovery code, which covers every factor.
      const third = await otherBrowser(browser, js);
      await signInFromLoginPage(third, js, email);
      await expect(third).toHaveURL(/\/login\/verify$/);
      await third.getByRole('link', { name: '別の方法を使う' }).click();
      await third.getByRole('link', { name: 'リカバリーコードを使う' }).click();
      await third.getByLabel('リカバリーコード').fill(codes[0]);
      await third.getByRole('button', { name: '認証する' }).click();
      await expect(third).toHaveURL(/\/settings\?recovery_left=9$/);
      await third.context().close();

      // Removing it (the password was entered moments ago, so it is not asked again).
      await page.getByRole('button', { name: '認証アプリを削除する' }).click();
      await expect(page.getByText('認証アプリを削除しました。', { exact: false })).toBeVisible();
      await expect(page.getByTestId('app-value')).toHaveText('設定されていません');
      await expect(page.getByRole('region', { name: 'セキュリティ履歴' })).toContainText('認証アプリを削除');
    });
  });
}
