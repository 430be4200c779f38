// Dialogs that never trap and never lose what the person did (issue 9, items 3 and 6):
// Tab stays inside an open dialog, focus goes back to the control that opened it, and an
// unsaved switch asks before any way out of the page; Escape during an input method's
// composition belongs to the input method.
import { test, expect, type Page } from '@playwright/test';
import { hydrated, latestCode, signUp, uniqueEmail, uniqueMobile } from './helpers';

async function withPhone(page: Page) {
  await signUp(page, uniqueEmail('dialogs'));
  await hydrated(page);
  const number = uniqueMobile();
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
  await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
  await dialog.getByRole('button', { name: '送信する' }).click();
  await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
  await dialog.getByRole('button', { name: '認証する' }).click();
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

/** Whether the focused element is inside the open dialog. */
async function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const dialog = document.querySelector('[role="dialog"]');
    return !!dialog && dialog.contains(document.activeElement);
  });
}

test('Tab and Shift+Tab stay inside each dialog; closing gives focus back to its button', async ({ page }) => {
  await withPhone(page);
  await page.getByRole('switch', { name: '二段階認証(SMS)' }).check();
  await page.getByRole('button', { name: '保存する' }).click();
  const recovery = page.getByRole('dialog', { name: 'リカバリーコード' });
  await expect(recovery.getByRole('list', { name: 'リカバリーコード一覧' })).toBeVisible();
  // Every form loads the next page; its keys work once the dialog's island has hydrated.
  await hydrated(page);
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await focusInDialog(page), `Tab ${i + 1}`).toBe(true);
  }
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Shift+Tab');
    expect(await focusInDialog(page), `Shift+Tab ${i + 1}`).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // The phone dialog: in at once, kept in, and back to its button on ×.
  const opener = page.getByRole('button', { name: '電話番号を設定する' });
  await opener.click();
  const phone = page.getByRole('dialog', { name: '電話番号を設定する' });
  await expect(phone.getByLabel('電話番号', { exact: true })).toBeFocused();
  await hydrated(page);
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    expect(await focusInDialog(page), `Tab ${i + 1}`).toBe(true);
  }
  // The page behind takes no focus or clicks while the dialog is open.
  await expect(page.locator('[inert]')).toHaveCount(1);
  await phone.getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(opener).toBeFocused();
  await expect(page.locator('[inert]')).toHaveCount(0);

  // The recovery codes again, from their button: focus comes back to it on ×.
  const show = page.getByRole('button', { name: 'リカバリーコードを表示する' });
  await show.click();
  await expect(recovery.getByRole('list', { name: 'リカバリーコード一覧' })).toBeVisible();
  await recovery.getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(show).toBeFocused();
});

test('an unsaved switch asks before the app navigates away, and stays when the answer is no', async ({ page }) => {
  await withPhone(page);
  const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
  await toggle.check();
  await expect(page.getByText('未保存の変更があります')).toBeVisible();

  // A link inside the page (パスワードを変更する): No keeps the page and the change.
  const asked: string[] = [];
  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByRole('link', { name: 'パスワードを変更する' }).click();
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain('保存されていない変更があります');
  await expect(page).toHaveURL(/\/settings$/);
  await expect(toggle).toBeChecked();

  // The same link opened in another tab (Ctrl+click) leaves nothing behind: nothing is
  // asked, and this page keeps its change.
  const dismiss = (d: import('@playwright/test').Dialog) => {
    asked.push(d.message());
    void d.dismiss();
  };
  page.on('dialog', dismiss);
  const opened = page.context().waitForEvent('page', { timeout: 10_000 });
  await page.getByRole('link', { name: 'パスワードを変更する' }).click({ modifiers: ['Control'] });
  const other = await opened;
  await expect(other).toHaveURL(/\/settings\/password$/);
  await other.close();
  page.off('dialog', dismiss);
  expect(asked).toHaveLength(1);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(toggle).toBeChecked();

  // The change survives a dialog opening and closing (the settings are rebuilt).
  await page.getByRole('button', { name: '電話番号を設定する' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '閉じる' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(toggle).toBeChecked();
  await expect(page.getByText('未保存の変更があります')).toBeVisible();

  // The user menu's ログアウト: No keeps the person signed in here.
  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await expect.poll(() => asked.length).toBe(2);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'アカウントの設定' })).toBeVisible();

  // Yes leaves.
  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.accept();
  });
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'パスワードを変更する' }).click();
  await expect(page).toHaveURL(/\/settings\/password$/);
  expect(asked).toHaveLength(3);

  // Nothing was saved.
  await page.goto('/settings');
  await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).not.toBeChecked();
});

test('Escape while a Japanese input method is composing leaves the dialog open; Escape after it closes it', async ({ page }) => {
  await signUp(page, uniqueEmail('ime'));
  await hydrated(page);
  const opener = page.getByRole('button', { name: '電話番号を設定する' });
  await opener.click();
  const dialog = page.getByRole('dialog', { name: '電話番号を設定する' });
  const field = dialog.getByLabel('電話番号', { exact: true });
  await expect(field).toBeFocused();
  await hydrated(page);
  await field.fill('０９０');
  // What the browser sends when Escape cancels a kana-to-kanji conversion: a keydown whose
  // isComposing is true. It belongs to the input method: the dialog neither takes it (the
  // event is not cancelled, as the dialog's Escape is) nor closes.
  const notTaken = await field.evaluate((input) =>
    input.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', isComposing: true, bubbles: true, cancelable: true }),
    ),
  );
  expect(notTaken).toBe(true);
  await expect(dialog).toBeVisible();
  await expect(field).toHaveValue('０９０');
  // The composition over, Escape closes the dialog and focus goes back to its button.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(opener).toBeFocused();
});

test('the switch moved before the page has its script stays moved, and counts as unsaved once it has', async ({ page }) => {
  await withPhone(page);
  // The page again, its wasm held back until the switch has been moved: on a slow phone
  // the switch is there (a plain checkbox) before the script that watches it.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
  await toggle.check();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(0);
  release();
  await hydrated(page);
  await expect(toggle).toBeChecked();
  await expect(page.getByText('未保存の変更があります')).toBeVisible();
  await expect(page.getByRole('button', { name: '保存する' })).toBeEnabled();
});
