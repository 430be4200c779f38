import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, logIn, signUp, uniqueEmail } from './helpers';

test.describe('with JavaScript', () => {
  test('sign up, open the user menu, go to the settings, sign out and back in', async ({ page }) => {
    const email = uniqueEmail('js');
    await signUp(page, email);

    // The user menu (ACC-2) leads to the account settings.
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
    await page.getByRole('link', { name: 'アカウントの設定', exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByText('未設定')).toBeVisible();
    await expect(page.getByRole('button', { name: '電話番号を設定する' })).toBeVisible();
    await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'リカバリーコードを表示する' })).toBeDisabled();

    // Sign out from the menu: the session is gone, the settings page sends us to sign in.
    await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/settings');
    await expect(page).toHaveURL(/\/login$/);

    await hydrated(page);
    await logIn(page, email);
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole('main').getByText(email)).toBeVisible();
    await expect(page.getByRole('button', { name: 'ユーザーメニュー' })).toBeVisible();
  });

  test('the hydrated sign-up form counts the password as it is typed', async ({ page }) => {
    await page.goto('/signup');
    await hydrated(page);
    await expect(page.getByText('(現在0文字)')).toBeVisible();
    await page.getByLabel('パスワード', { exact: true }).pressSequentially('にだんかい');
    await expect(page.getByText('(現在5文字)')).toBeVisible();
  });

  test('a wrong password and an unknown address get the same message', async ({ page }) => {
    const email = uniqueEmail('same');
    await signUp(page, email);
    await page.context().clearCookies();

    await page.goto('/login');
    await hydrated(page);
    await logIn(page, email, 'not the password');
    const alert = page.getByRole('alert');
    await expect(alert).toHaveText('メールアドレスまたはパスワードが正しくありません。');
    // The page comes back with the address as typed, and without the password.
    await expect(page.getByLabel('メールアドレス')).toHaveValue(email);
    await expect(page.getByLabel('パスワード', { exact: true })).toHaveValue('');
    await logIn(page, uniqueEmail('nobody'), PASSWORD);
    await expect(alert).toHaveText('メールアドレスまたはパスワードが正しくありません。');
    await expect(page).toHaveURL(/\/login$/);
  });

  test('sign-up errors are shown next to their field', async ({ page }) => {
    await page.goto('/signup');
    await hydrated(page);
    await page.getByLabel('メールアドレス').fill('not-an-address');
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: '登録する' }).click();
    await expect(page.getByRole('alert')).toHaveText('メールアドレスの形式が正しくありません。');
    await expect(page.getByLabel('メールアドレス')).toHaveAttribute('aria-invalid', 'true');

    await page.getByLabel('メールアドレス').fill(uniqueEmail('weak'));
    await page.getByLabel('パスワード', { exact: true }).fill('password1');
    await page.getByRole('button', { name: '登録する' }).click();
    await expect(page.getByRole('alert')).toContainText('よく使われているパスワード');
    await expect(page).toHaveURL(/\/signup$/);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up, user menu, settings, sign out and sign in all work as plain forms', async ({ page }) => {
    const email = uniqueEmail('nojs');
    await signUp(page, email, { js: false });
    await expect(page.locator('body[data-hydrated]')).toHaveCount(0);

    await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
    await page.getByRole('link', { name: 'アカウントの設定', exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByText('未設定')).toBeVisible();

    await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await expect(page).toHaveURL(/\/login$/);

    await logIn(page, email, 'not the password');
    await expect(page.getByRole('alert')).toHaveText('メールアドレスまたはパスワードが正しくありません。');

    await logIn(page, email);
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole('main').getByText(email)).toBeVisible();
  });
});

test('the password can be changed, and the new one signs in', async ({ page }) => {
  const email = uniqueEmail('pw');
  await signUp(page, email);
  await hydrated(page);
  await page.getByRole('link', { name: 'パスワードを変更する' }).click();
  await expect(page).toHaveURL(/\/settings\/password$/);
  await page.getByLabel('現在のパスワード').fill(PASSWORD);
  await page.getByLabel('新しいパスワード').fill('a brand new passphrase');
  await page.getByRole('button', { name: '変更する' }).click();
  await expect(page.getByText('パスワードを変更しました。', { exact: false })).toBeVisible();
  await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
  await page.getByRole('button', { name: 'ログアウト' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await logIn(page, email, 'a brand new passphrase');
  await expect(page).toHaveURL(/\/settings$/);
});
