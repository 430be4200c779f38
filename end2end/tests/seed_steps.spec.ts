// The steps of the help page (seed/000_59d257657d2c9e2a.txt) and of SPEC.md that no other
// spec walks end to end: a number already in use (PH-4), five wrong codes in the phone dialog
// (PH-6), the sign-in throttle (SEC-1) and the SMS limit (SEC-2) as a person meets them, the
// warning when few recovery codes are left (RC-4), old codes after regeneration (RC-3),
// remembered browsers forgotten (LG-4, LG-5), × on the code step (PH-9), and a screenshot
// tour of every step of the page. Every form is tried with JavaScript on and off.
//
// This file runs against the suite's main server (scripts/test.sh start_server): per-IP
// limits raised, NIDAN_SMS_RESEND_COOLDOWN_SECS=3, and the ten-minute password window
// (NIDAN_REAUTH_WINDOW_SECS default): every test acts within minutes of signing up, so no
// password prompt (TF-4) comes up.
import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, latestCode, logIn, signUp, uniqueEmail, uniqueMobile } from './helpers';
import {
  accountWithPhone,
  browsersSection,
  closeDialog,
  enterRecoveryCode,
  expectAskedForCode,
  expectStraightIn,
  modeName,
  openPhoneDialog,
  otherBrowser,
  phoneDialog,
  readCodes,
  registerNumber,
  reloadSettings,
  rememberThisBrowser,
  sendCodeTo,
  settle,
  signInFromLoginPage,
  signOut,
  smsCount,
  tourShot,
  type Mobile,
} from './seed_helpers';

const PHONE_TAKEN = 'この電話番号は別のアカウントで使用されているため設定できません。';
const CODE_EXHAUSTED = '認証コードの入力回数が上限に達しました。しばらく時間をおいてから、もう一度送信してください。';
const RATE_LIMITED = /^試行回数が多すぎます。(\d+)(秒|分|時間)後にもう一度お試しください。$/;
const SMS_LIMITED = /^SMSの送信回数が上限に達しました。\d+(秒|分|時間)後にもう一度お試しください。$/;
const WRONG_CREDENTIALS = 'メールアドレスまたはパスワードが正しくありません。';
const RECOVERY_INVALID = 'リカバリーコードが正しくないか、既に使用されています。';
const NO_BROWSERS = '記憶しているブラウザはありません。';

/** A code that is surely not `code`. */
const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

/** Seconds to wait, from a rate-limit message. */
function waitSecs(message: string): number {
  const m = message.match(RATE_LIMITED);
  expect(m, message).not.toBeNull();
  const n = Number(m![1]);
  return m![2] === '秒' ? n : m![2] === '分' ? n * 60 : n * 3600;
}

for (const js of [true, false]) {
  const mode = modeName(js);

  test.describe(mode, () => {
    test.use({ javaScriptEnabled: js });

    // PH-4: the check is made when the code is verified, after the person has shown they
    // hold the phone; the message says nothing of whose account has the number.
    test(`a number verified on another account is refused after the right code, naming nobody (${mode})`, async ({ page, browser }) => {
      const first = await accountWithPhone(page, js, js ? 'ph4-first-js' : 'ph4-first-nojs', false);

      const second = await otherBrowser(browser, js);
      const secondEmail = uniqueEmail(js ? 'ph4-second-js' : 'ph4-second-nojs');
      await signUp(second, secondEmail, { js });
      await settle(second, js);
      const before = await smsCount(second, first.number);
      // The send step looks like any other: nothing says the number is in use.
      const dialog = await sendCodeTo(second, first.number);
      await expect(dialog).toContainText(`${first.number.national} に認証コードを送信しました。`);
      await expect.poll(() => smsCount(second, first.number)).toBe(before + 1);
      await dialog.getByLabel('認証コード').fill(await latestCode(second, first.number.e164));
      await dialog.getByRole('button', { name: '認証する' }).click();

      await expect(phoneDialog(second).getByRole('alert')).toHaveText(PHONE_TAKEN);
      await expect(phoneDialog(second).getByText('電話番号を設定しました。')).toHaveCount(0);
      // Back to the number step.
      await expect(phoneDialog(second).getByLabel('電話番号', { exact: true })).toBeVisible();
      await expect(phoneDialog(second).getByLabel('認証コード')).toHaveCount(0);
      // Nothing on the page says whose account has it.
      const body = second.locator('body');
      await expect(body).not.toContainText(first.email);
      await expect(body).not.toContainText(first.email.split('@')[0]);

      await closeDialog(second, js);
      await expect(second.getByTestId('phone-value')).toHaveText('未設定');
      await second.context().close();

      // The first account keeps its number.
      await reloadSettings(page, js);
      await expect(page.getByTestId('phone-value')).toHaveText(first.number.national);
    });

    // PH-6 at registration: the fifth wrong code ends the attempt.
    test(`five wrong codes in the phone dialog end the attempt and go back to the number (${mode})`, async ({ page }) => {
      await signUp(page, uniqueEmail(js ? 'ph6-js' : 'ph6-nojs'), { js });
      await settle(page, js);
      const number = uniqueMobile();
      const dialog = await sendCodeTo(page, number);
      const code = await latestCode(page, number.e164);
      for (let i = 0; i < 5; i++) {
        await phoneDialog(page).getByLabel('認証コード').fill(wrongFor(code));
        await phoneDialog(page).getByRole('button', { name: '認証する' }).click();
        if (i < 4) {
          await expect(phoneDialog(page).getByRole('alert')).toHaveText(`認証コードが正しくありません。あと${4 - i}回入力できます。`);
        }
      }
      await expect(dialog.getByRole('alert')).toHaveText(CODE_EXHAUSTED);
      await expect(dialog.getByLabel('電話番号', { exact: true })).toBeVisible();
      await expect(dialog.getByLabel('認証コード')).toHaveCount(0);
      await expect(dialog.getByRole('button', { name: '送信する' })).toBeVisible();
      await closeDialog(page, js);
      await expect(page.getByTestId('phone-value')).toHaveText('未設定');
    });

    // PH-6, what the exhausted message invites: sending again to the same number within the
    // code's ten minutes is refused (the wrong entries carry over), says when to try again,
    // sends nothing, and does not ask for the password, which was entered minutes ago.
    test(`sending again after five wrong codes says when to try again and asks no password (${mode})`, async ({ page }) => {
      await signUp(page, uniqueEmail(js ? 'ph6-again-js' : 'ph6-again-nojs'), { js });
      await settle(page, js);
      const number = uniqueMobile();
      const dialog = await sendCodeTo(page, number);
      const code = await latestCode(page, number.e164);
      for (let i = 0; i < 5; i++) {
        await phoneDialog(page).getByLabel('認証コード').fill(wrongFor(code));
        await phoneDialog(page).getByRole('button', { name: '認証する' }).click();
        await expect(phoneDialog(page).getByRole('alert')).toHaveText(i < 4 ? `認証コードが正しくありません。あと${4 - i}回入力できます。` : CODE_EXHAUSTED);
      }
      await settle(page, js);
      await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
      await dialog.getByRole('button', { name: '送信する' }).click();
      await expect(dialog.getByText(RATE_LIMITED)).toBeVisible();
      await expect(dialog.getByText('安全のため、パスワードをもう一度入力してください。')).toHaveCount(0);
      await expect(dialog.getByLabel('パスワード', { exact: true })).toHaveCount(0);
      await expect(dialog.getByLabel('電話番号', { exact: true })).toBeVisible();
      await expect(dialog.getByLabel('認証コード')).toHaveCount(0);
      await page.waitForTimeout(1_000);
      expect(await smsCount(page, number)).toBe(1);
    });

    // SEC-1: a stranger's wrong passwords (one account, one address) slow that address down;
    // the page says when to try again, and the account stays usable: at once from the
    // owner's own browser, and from the stranger's once the wait is over.
    test(`repeated wrong passwords get the rate-limit message, and the account stays usable (${mode})`, async ({ page, browser }) => {
      test.setTimeout(120_000);
      const email = uniqueEmail(js ? 'sec1-js' : 'sec1-nojs');
      await signUp(page, email, { js });
      await settle(page, js);
      await signOut(page);

      const stranger = await otherBrowser(browser, js);
      await stranger.goto('/login');
      await settle(stranger, js);
      const alert = stranger.getByRole('alert');
      let limited = '';
      let tries = 0;
      // The e2e server keeps the per-(account, address) scope at its default, 5 free
      // failures (NIDAN_LOGIN_FREE_FAILURES_PER_ACCOUNT); then each failure doubles the wait.
      while (!limited && tries < 30) {
        tries++;
        const answered = stranger.waitForResponse((r) => r.url().includes('/api/log_in') && r.request().method() === 'POST');
        const loaded = js ? null : stranger.waitForEvent('domcontentloaded');
        await logIn(stranger, email, `not the password ${tries}`);
        await answered;
        if (loaded) await loaded;
        await expect(alert).toBeVisible();
        const text = ((await alert.textContent()) ?? '').trim();
        if (RATE_LIMITED.test(text)) limited = text;
        else expect(text).toBe(WRONG_CREDENTIALS);
      }
      expect(limited, 'the rate-limit message within 30 wrong passwords').toMatch(RATE_LIMITED);
      expect(tries).toBeGreaterThan(5);
      test.info().annotations.push({ type: 'throttled', description: `after ${tries} tries: ${limited}` });
      // The page did not break: still the sign-in form, with the message beside it.
      await expect(stranger).toHaveURL(/\/login(\?.*)?$/);
      await expect(stranger.getByRole('heading', { name: 'ログイン' })).toBeVisible();
      await expect(stranger.getByLabel('メールアドレス')).toBeVisible();
      await expect(stranger.getByRole('button', { name: 'ログイン', exact: true })).toBeEnabled();
      await expect(stranger.getByText('エラーが発生しました')).toHaveCount(0);

      // The owner's browser (where the password was right before) is not slowed.
      await settle(page, js);
      await logIn(page, email);
      await expect(page).toHaveURL(/\/settings$/);
      await expect(page.getByRole('main').getByText(email)).toBeVisible();

      // The stranger's browser, once the wait is over, signs in with the right password.
      const wait = waitSecs(limited);
      expect(wait, limited).toBeLessThanOrEqual(60);
      await stranger.waitForTimeout(wait * 1000 + 1000);
      await signInFromLoginPage(stranger, js, email);
      await expect(stranger).toHaveURL(/\/settings$/);
      await expect(stranger.getByRole('main').getByText(email)).toBeVisible();
      await stranger.context().close();
    });

    // SEC-2: at most 5 codes to one number within an hour; the sixth is refused with when
    // to try again, and no SMS goes out.
    test(`a sixth code to one number within the hour is refused and no SMS is sent (${mode})`, async ({ page }) => {
      test.setTimeout(120_000);
      await signUp(page, uniqueEmail(js ? 'sec2-js' : 'sec2-nojs'), { js });
      await settle(page, js);
      const number = uniqueMobile();
      const dialog = await sendCodeTo(page, number);
      await expect.poll(() => smsCount(page, number)).toBe(1);
      const resend = () => phoneDialog(page).getByRole('button', { name: /^再送する/ });
      const pressResend = async () => {
        // The suite's server waits 3 s between codes (NIDAN_SMS_RESEND_COOLDOWN_SECS=3);
        // hydrated, the button counts it down; without JavaScript the person waits.
        if (js) await expect(resend()).toBeEnabled({ timeout: 10_000 });
        else await page.waitForTimeout(3_500);
        await resend().click();
      };
      for (let sent = 2; sent <= 5; sent++) {
        await pressResend();
        await expect(phoneDialog(page).getByRole('status')).toHaveText('新しいコードを送信しました。以前のコードは使えません。');
        await expect.poll(() => smsCount(page, number)).toBe(sent);
      }
      await pressResend();
      await expect(phoneDialog(page).getByRole('alert')).toHaveText(SMS_LIMITED);
      await expect(phoneDialog(page).getByText('新しいコードを送信しました。')).toHaveCount(0);
      // Give a stray send time to land, then count: still five.
      await page.waitForTimeout(1_500);
      expect(await smsCount(page, number)).toBe(5);
      // The fifth code, the last one sent, still sets the number.
      await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
      await dialog.getByRole('button', { name: '認証する' }).click();
      await expect(phoneDialog(page).getByText('電話番号を設定しました。')).toBeVisible();
    });

    // RC-4: with three or fewer codes left, the settings page warns.
    test(`seven recovery-code sign-ins leave three codes and the settings page warns (${mode})`, async ({ page, browser }) => {
      test.setTimeout(180_000);
      const { email, codes } = await accountWithPhone(page, js, js ? 'rc4-js' : 'rc4-nojs', true);
      const warning = (p: Page) => p.getByText(/リカバリーコードの残りが\d+個です。/);
      for (let i = 0; i < 7; i++) {
        const left = 9 - i;
        // A fresh browser each time, so that none is remembered.
        const other = await otherBrowser(browser, js);
        await signInFromLoginPage(other, js, email);
        await expect(other).toHaveURL(/\/login\/verify$/);
        await enterRecoveryCode(other, codes[i]);
        await expect(other).toHaveURL(new RegExp(`/settings\\?recovery_left=${left}$`));
        await expect(other.getByText(`未使用のリカバリーコードは残り${left}個です。`, { exact: false })).toBeVisible();
        await expect(other.getByText(`未使用のコード: ${left}個`)).toBeVisible();
        if (left > 3) await expect(warning(other)).toHaveCount(0);
        else {
          await expect(warning(other)).toHaveText(
            'リカバリーコードの残りが3個です。[リカバリーコードを表示する]から再生成して、新しいコードを保管してください。',
          );
        }
        await other.context().close();
      }
      // The owner's own settings page says so too.
      await reloadSettings(page, js);
      await expect(warning(page)).toHaveText(
        'リカバリーコードの残りが3個です。[リカバリーコードを表示する]から再生成して、新しいコードを保管してください。',
      );
      await expect(page.getByText('未使用のコード: 3個')).toBeVisible();
    });

    // RC-3: 再生成する kills every earlier code at once; the new ones work.
    test(`after regenerating, an old recovery code is refused and a new one signs in (${mode})`, async ({ page, browser }) => {
      const { email, codes: old } = await accountWithPhone(page, js, js ? 'rc3-js' : 'rc3-nojs', true);
      await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
      const dialog = page.getByRole('dialog', { name: 'リカバリーコード' });
      expect(await readCodes(page)).toEqual(old);
      await dialog.getByRole('button', { name: '再生成する' }).click();
      await expect(dialog.getByText('リカバリーコードを再生成しました。', { exact: false })).toBeVisible();
      await expect.poll(async () => (await readCodes(page)).join(' ')).not.toBe(old.join(' '));
      const fresh = await readCodes(page);
      expect(fresh.filter((c) => old.includes(c))).toEqual([]);
      await closeDialog(page, js);

      const other = await otherBrowser(browser, js);
      await signInFromLoginPage(other, js, email);
      await expect(other).toHaveURL(/\/login\/verify$/);
      await enterRecoveryCode(other, old[0]);
      await expect(other.getByRole('alert')).toHaveText(RECOVERY_INVALID);
      await expect(other).toHaveURL(/\/login\/verify/);
      await expect(other.getByLabel('リカバリーコード')).toBeVisible();
      await other.getByLabel('リカバリーコード').fill(fresh[0]);
      await other.getByRole('button', { name: '認証する' }).click();
      await expect(other).toHaveURL(/\/settings\?recovery_left=9$/);
      await expect(other.getByText('未使用のリカバリーコードは残り9個です。', { exact: false })).toBeVisible();
      await other.context().close();
    });

    // LG-5: remembered browsers forgotten one by one, then all at once. Each browser is
    // told apart by its label (from its User-Agent).
    test(`remembered browsers are forgotten one by one and all at once (${mode})`, async ({ page, browser }) => {
      test.setTimeout(150_000);
      const { email, number } = await accountWithPhone(page, js, js ? 'lg5-js' : 'lg5-nojs', true);
      const firefox = await otherBrowser(browser, js, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0');
      const safari = await otherBrowser(
        browser,
        js,
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      );
      await rememberThisBrowser(firefox, js, email, number);
      await rememberThisBrowser(safari, js, email, number);

      await reloadSettings(page, js);
      const section = browsersSection(page);
      const forgetFirefox = section.getByRole('button', { name: 'Firefox (Windows)の記憶を解除', exact: true });
      const forgetSafari = section.getByRole('button', { name: 'Safari (Mac)の記憶を解除', exact: true });
      await expect(section.getByText('Firefox (Windows)', { exact: true })).toBeVisible();
      await expect(section.getByText('Safari (Mac)', { exact: true })).toBeVisible();
      await expect(forgetFirefox).toBeVisible();
      await expect(forgetSafari).toBeVisible();

      // One: the Firefox goes, the Safari stays.
      await forgetFirefox.click();
      await expect(forgetFirefox).toHaveCount(0);
      await expect(forgetSafari).toBeVisible();
      await reloadSettings(page, js);
      await expect(browsersSection(page).getByRole('button', { name: 'Firefox (Windows)の記憶を解除' })).toHaveCount(0);
      await expect(browsersSection(page).getByRole('button', { name: 'Safari (Mac)の記憶を解除' })).toBeVisible();
      await expectAskedForCode(firefox, js, email);
      await expectStraightIn(safari, js, email);

      // All.
      await browsersSection(page).getByRole('button', { name: 'すべてのブラウザの記憶を解除' }).click();
      await expect(browsersSection(page).getByText(NO_BROWSERS)).toBeVisible();
      await expect(browsersSection(page).getByRole('button', { name: /の記憶を解除$/ })).toHaveCount(0);
      await reloadSettings(page, js);
      await expect(browsersSection(page).getByText(NO_BROWSERS)).toBeVisible();
      await expectAskedForCode(safari, js, email);

      await firefox.context().close();
      await safari.context().close();
    });

    // LG-4: four events forget every remembered browser.
    const events: {
      name: string;
      /** Does the event; returns the password to sign in with afterwards. */
      run: (page: Page, account: { email: string; number: Mobile }) => Promise<string>;
    }[] = [
      {
        name: 'turning two-factor off',
        run: async (page) => {
          const toggle = page.getByRole('switch', { name: '二段階認証(SMS)' });
          await expect(toggle).toBeChecked();
          await toggle.uncheck();
          await page.getByRole('button', { name: '保存する' }).click();
          await expect(page.getByText('設定を保存しました。')).toBeVisible();
          await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).not.toBeChecked();
          await expect(browsersSection(page).getByText(NO_BROWSERS)).toBeVisible();
          // On again, so that the sign-in below can be asked for the code at all.
          await settle(page, js);
          await page.getByRole('switch', { name: '二段階認証(SMS)' }).check();
          await page.getByRole('button', { name: '保存する' }).click();
          await readCodes(page);
          await closeDialog(page, js);
          await expect(page.getByRole('switch', { name: '二段階認証(SMS)' })).toBeChecked();
          return PASSWORD;
        },
      },
      {
        name: 'changing the phone number',
        run: async (page) => {
          const next = uniqueMobile();
          await registerNumber(page, next);
          await closeDialog(page, js);
          await expect(page.getByTestId('phone-value')).toHaveText(next.national);
          return PASSWORD;
        },
      },
      {
        name: 'changing the password',
        run: async (page) => {
          const next = 'another long passphrase';
          await page.getByRole('link', { name: 'パスワードを変更する' }).click();
          await expect(page).toHaveURL(/\/settings\/password$/);
          await settle(page, js);
          await page.getByLabel('現在のパスワード').fill(PASSWORD);
          await page.getByLabel('新しいパスワード').fill(next);
          await page.getByRole('button', { name: '変更する' }).click();
          await expect(page.getByText('パスワードを変更しました。', { exact: false })).toBeVisible();
          return next;
        },
      },
      {
        name: 'regenerating the recovery codes',
        run: async (page) => {
          await page.getByRole('button', { name: 'リカバリーコードを表示する' }).click();
          const dialog = page.getByRole('dialog', { name: 'リカバリーコード' });
          await readCodes(page);
          await dialog.getByRole('button', { name: '再生成する' }).click();
          await expect(dialog.getByText('リカバリーコードを再生成しました。', { exact: false })).toBeVisible();
          await closeDialog(page, js);
          return PASSWORD;
        },
      },
    ];

    for (const event of events) {
      test(`${event.name} forgets the remembered browsers: the code is asked again (${mode})`, async ({ page, browser }) => {
        test.setTimeout(120_000);
        const account = await accountWithPhone(page, js, js ? 'lg4-js' : 'lg4-nojs', true);
        const remembered = await otherBrowser(browser, js);
        await rememberThisBrowser(remembered, js, account.email, account.number);
        // Remembered: straight in.
        await expectStraightIn(remembered, js, account.email);
        await reloadSettings(page, js);
        await expect(browsersSection(page).getByRole('button', { name: /\)の記憶を解除$/ })).toHaveCount(1);

        const password = await event.run(page, account);

        await reloadSettings(page, js);
        await expect(browsersSection(page).getByText(NO_BROWSERS)).toBeVisible();
        await expectAskedForCode(remembered, js, account.email, password);
        await remembered.context().close();
      });
    }

    // PH-9: × on the code step abandons the attempt. A second tab left on the code step
    // shows that the old code is dead.
    test(`× on the code step starts over from the number, and the old code no longer works (${mode})`, async ({ page }) => {
      await signUp(page, uniqueEmail(js ? 'ph9-js' : 'ph9-nojs'), { js });
      await settle(page, js);
      const number = uniqueMobile();
      await sendCodeTo(page, number);
      const code = await latestCode(page, number.e164);

      // The same person in a second tab, on the same step.
      const tab = await page.context().newPage();
      await tab.goto('/settings?dialog=phone');
      await settle(tab, js);
      await expect(phoneDialog(tab).getByLabel('認証コード')).toBeVisible();
      await phoneDialog(tab).getByRole('button', { name: '閉じる' }).click();
      await expect(tab.getByRole('dialog')).toHaveCount(0);
      await settle(tab, js);
      // The next open starts from the number.
      const reopened = await openPhoneDialog(tab);
      await expect(reopened.getByLabel('電話番号', { exact: true })).toBeVisible();
      await expect(reopened.getByLabel('電話番号', { exact: true })).toHaveValue('');
      await expect(reopened.getByLabel('認証コード')).toHaveCount(0);
      await closeDialog(tab, js);

      // The first tab still shows the code step; the right code of the abandoned attempt fails.
      const stale = phoneDialog(page);
      await stale.getByLabel('認証コード').fill(code);
      await stale.getByRole('button', { name: '認証する' }).click();
      await expect(phoneDialog(page).getByRole('alert')).toHaveText('認証の手続きが見つかりません。はじめからやり直してください。');
      await expect(phoneDialog(page).getByText('電話番号を設定しました。')).toHaveCount(0);
      await expect(phoneDialog(page).getByLabel('電話番号', { exact: true })).toBeVisible();
      await reloadSettings(page, js);
      await expect(page.getByTestId('phone-value')).toHaveText('未設定');
      await tab.close();
    });
  });
}

// The help page, step by step, as a person sees it: a full-page screenshot of each step at a
// desktop and a phone size, in end2end/screenshots/<desktop|phone>/NN-name.png, also attached
// to the report.
const viewports = [
  { dir: 'desktop', use: { viewport: { width: 1280, height: 800 } } },
  {
    dir: 'phone',
    use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  },
];

for (const { dir, use } of viewports) {
  test.describe(`screenshot tour (${dir})`, () => {
    test.use(use);

    test(`every step of the help page (${dir})`, async ({ page }, testInfo) => {
      test.setTimeout(120_000);
      let step = 0;
      const shot = (name: string) => tourShot(page, testInfo, dir, ++step, name);
      const email = uniqueEmail(`tour-${dir}`);
      const number = uniqueMobile();

      // Sign up.
      await page.goto('/signup');
      await hydrated(page);
      await page.getByLabel('メールアドレス').fill(email);
      await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
      await shot('sign-up');
      await page.getByRole('button', { name: '登録する' }).click();
      await expect(page).toHaveURL(/\/settings$/);
      await hydrated(page);

      // 電話番号を設定する: the settings page, reached from the user menu.
      await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
      await expect(page.getByRole('link', { name: 'アカウントの設定', exact: true })).toBeVisible();
      await page.getByRole('link', { name: 'アカウントの設定', exact: true }).click();
      await expect(page.getByTestId('phone-value')).toHaveText('未設定');
      await shot('settings');

      const dialog = await openPhoneDialog(page);
      await dialog.getByLabel('電話番号', { exact: true }).fill(number.national);
      await shot('phone-number-step');
      await dialog.getByRole('button', { name: '送信する' }).click();
      await expect(dialog.getByLabel('認証コード')).toBeVisible();
      await dialog.getByLabel('認証コード').fill(await latestCode(page, number.e164));
      await shot('phone-code-step');
      await dialog.getByRole('button', { name: '認証する' }).click();
      await expect(dialog.getByText('電話番号を設定しました。')).toBeVisible();
      await shot('phone-success');
      await closeDialog(page, true);
      await expect(page.getByTestId('phone-value')).toHaveText(number.national);

      // 二段階認証を設定する: the switch, then 保存する.
      await page.getByRole('switch', { name: '二段階認証(SMS)' }).check();
      await expect(page.getByText('未保存の変更があります')).toBeVisible();
      await shot('two-factor-switch');
      await page.getByRole('button', { name: '保存する' }).click();

      // リカバリーコードのメモをとる.
      const codes = await readCodes(page);
      await shot('recovery-codes');
      await closeDialog(page, true);

      // Sign out, then 二段階認証でログインする.
      await page.getByRole('button', { name: 'ユーザーメニュー' }).click();
      await expect(page.getByRole('button', { name: 'ログアウト' })).toBeVisible();
      await shot('sign-out');
      await page.getByRole('button', { name: 'ログアウト' }).click();
      await expect(page).toHaveURL(/\/login$/);
      await hydrated(page);
      await page.getByLabel('メールアドレス').fill(email);
      await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
      await shot('sign-in');
      await page.getByRole('button', { name: 'ログイン', exact: true }).click();
      await expect(page).toHaveURL(/\/login\/verify$/);
      await expect(page.getByLabel('認証コード')).toBeVisible();
      await shot('code-page');

      // リカバリーコードでログインする.
      await page.getByRole('link', { name: '認証コードを受け取れない方' }).click();
      await expect(page.getByLabel('リカバリーコード')).toBeVisible();
      await page.getByLabel('リカバリーコード').fill(codes[0]);
      await shot('recovery-code-input');
      await page.getByRole('button', { name: '認証する' }).click();
      await expect(page).toHaveURL(/\/settings\?recovery_left=9$/);
      await expect(page.getByText('未使用のリカバリーコードは残り9個です。', { exact: false })).toBeVisible();
      await hydrated(page);
      await shot('settings-after-recovery');
      expect(step).toBe(12);
    });
  });
}
