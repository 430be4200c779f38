import { test, expect, type Page } from '@playwright/test';
import { hydrated, latestCode, messagesTo, signUp, uniqueEmail, uniqueMobile } from './helpers';
import { sendCodeTo } from './seed_helpers';

async function openPhoneDialog(page: Page) {
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  return dialog;
}

async function registerNumber(page: Page, number: { national: string; e164: string }) {
  const dialog = await openPhoneDialog(page);
  await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
  await dialog.getByRole('button', { name: '送信する' }).click();
  await expect(dialog.getByLabel('認証コード')).toBeVisible();
  await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await dialog.getByRole('button', { name: '認証する' }).click();
  await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

test.describe('phone number, with JavaScript', () => {
  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail('phone'));
    await hydrated(page);
  });

  test('the whole dialog: number, code from the SMS, success, close', async ({ page }) => {
    const number = uniqueMobile();
    await expect(page.getByTestId('phone-value')).toHaveText('未設定');
    const dialog = await openPhoneDialog(page);
    const phoneInput = dialog.getByLabel('電話番号', { exact: true });
    await expect(phoneInput).toBeFocused();
    await expect(dialog.getByRole('checkbox', { name: '二段階認証も有効にする' })).toBeVisible();
    // Its accessible name is its visible title (issue 9).
    await expect(page.getByRole('dialog', { name: '電話番号を設定する', exact: true })).toBeVisible();
    await expect(dialog).toContainText('SMSの受信には2、3分かかる場合があります。');

    await phoneInput.fill(number.national.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))));
    await dialog.getByRole('button', { name: '送信する' }).click();
    const codeInput = dialog.getByLabel('認証コード');
    await expect(codeInput).toBeVisible();
    await expect(codeInput).toHaveAttribute('autocomplete', 'one-time-code');
    await expect(codeInput).toHaveAttribute('inputmode', 'numeric');
    await expect(dialog).toContainText(`${number.national} に認証コードを送信しました。`);
    // The resend button counts down before it can be used.
    await expect(dialog.getByRole('button', { name: /再送する\(\d+秒\)/ })).toBeDisabled();

    const code = await latestCode(page, number.e164);
    await codeInput.fill(code === '000000' ? '111111' : '000000');
    await dialog.getByRole('button', { name: '認証する' }).click();
    await expect(dialog.getByRole('alert')).toHaveText('認証コードが正しくありません。あと4回入力できます。');

    await codeInput.fill(code);
    await dialog.getByRole('button', { name: '認証する' }).click();
    await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
    await dialog.getByRole('button', { name: '閉じる' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('phone-value')).toHaveText(number.national);
    await expect(page.getByRole('button', { name: '電話番号を設定する' })).toBeFocused();
  });

  test('foreign and landline numbers are refused and no SMS is sent', async ({ page }) => {
    const dialog = await openPhoneDialog(page);
    const input = dialog.getByLabel('電話番号', { exact: true });
    const alsoTwoFactor = dialog.getByRole('checkbox', { name: '二段階認証も有効にする' });
    await input.fill('+1 212 555 0100');
    await alsoTwoFactor.check();
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(dialog.getByRole('alert')).toHaveText('海外発行の電話番号は設定できません。');
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    // The refused step comes back as the person left it: the number to correct, the box
    // still ticked.
    await hydrated(page);
    await expect(input).toHaveValue('+1 212 555 0100');
    await expect(alsoTwoFactor).toBeChecked();

    await input.fill('03-1234-5678');
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(dialog.getByRole('alert')).toContainText('固定電話の番号はSMSを受信できないため設定できません。');

    await input.fill('050-1234-5678');
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(dialog.getByRole('alert')).toContainText('IP電話(050)');

    expect(await messagesTo(page, '+12125550100')).toHaveLength(0);
    expect(await messagesTo(page, '+81312345678')).toHaveLength(0);
    expect(await messagesTo(page, '+815012345678')).toHaveLength(0);
    await expect(dialog.getByLabel('認証コード')).toHaveCount(0);
  });

  test('a double press of 認証する verifies once, without an error', async ({ page }) => {
    const number = uniqueMobile();
    const dialog = await sendCodeTo(page, number);
    await hydrated(page);
    await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
    await dialog.getByRole('button', { name: '認証する' }).dblclick();
    await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
    await expect(dialog.getByRole('alert')).toHaveCount(0);
  });

  test('cancel midway, or Escape, starts over from the number', async ({ page }) => {
    const number = uniqueMobile();
    let dialog = await openPhoneDialog(page);
    await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(dialog.getByLabel('認証コード')).toBeVisible();
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);

    dialog = await openPhoneDialog(page);
    await expect(dialog.getByLabel('電話番号', { exact: true })).toBeVisible();
    await expect(dialog.getByLabel('認証コード')).toHaveCount(0);

    await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(dialog.getByLabel('認証コード')).toBeVisible();
    // Each step is a page of its own; Escape works once its dialog has hydrated.
    await hydrated(page);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);
    dialog = await openPhoneDialog(page);
    await expect(dialog.getByLabel('電話番号', { exact: true })).toBeVisible();
    await dialog.getByRole('button', { name: '閉じる' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('phone-value')).toHaveText('未設定');
  });

  test('resend sends a new code and the new one works', async ({ page }) => {
    const number = uniqueMobile();
    const dialog = await openPhoneDialog(page);
    await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
    await dialog.getByRole('button', { name: '送信する' }).click();
    const resend = dialog.getByRole('button', { name: /^再送する/ });
    await expect(resend).toBeDisabled();
    // The suite's server waits 3 s between codes (NIDAN_SMS_RESEND_COOLDOWN_SECS).
    await expect(resend).toBeEnabled({ timeout: 10_000 });
    await resend.click();
    await expect(dialog.getByRole('status')).toHaveText('新しいコードを送信しました。以前のコードは使えません。');
    await expect.poll(async () => (await messagesTo(page, number.e164)).length).toBe(2);
    await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
    await dialog.getByRole('button', { name: '認証する' }).click();
    await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
  });

  test('a registered number can be changed with the same steps', async ({ page }) => {
    const first = uniqueMobile();
    const second = uniqueMobile();
    await registerNumber(page, first);
    await expect(page.getByTestId('phone-value')).toHaveText(first.national);
    await registerNumber(page, second);
    await expect(page.getByTestId('phone-value')).toHaveText(second.national);
  });
});

test.describe('phone number, without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('every step works as a plain form', async ({ page }) => {
    await signUp(page, uniqueEmail('phone-nojs'), { js: false });
    const number = uniqueMobile();
    const dialog = await openPhoneDialog(page);
    await dialog.getByLabel('電話番号', { exact: true }).fill('0120-123-456');
    await dialog.getByRole('button', { name: '送信する' }).click();
    await expect(page.getByRole('dialog').getByRole('alert')).toContainText('フリーダイヤル');

    await page.getByRole('dialog').getByLabel('電話番号', { exact: true }).fill(number.national);
    await page.getByRole('dialog').getByRole('button', { name: '送信する' }).click();
    await page.getByRole('dialog').getByLabel('認証コード').fill(await latestCode(page, number.e164));
    await page.getByRole('dialog').getByRole('button', { name: '認証する' }).click();
    await expect(page.getByText('電話番号を設定しました。')).toBeVisible();
    await page.getByRole('button', { name: '閉じる' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByTestId('phone-value')).toHaveText(number.national);
  });
});
