import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Debian's Chromium and its flags, shared with the bench scripts (bench/browser.mjs): no
// sandbox and no GPU in a container, and nothing fetched from the network on its own.
const chromium: { executablePath: string; args: string[] } = JSON.parse(
  readFileSync(path.join(__dirname, 'chromium.json'), 'utf8'),
);

// The server is started by scripts/test.sh (a real build of this tree, on a fresh database);
// global-setup waits until it answers. Chromium is Debian's: Playwright's own download does
// not work on these machines.
const baseURL = process.env.NIDAN_E2E_URL ?? 'http://127.0.0.1:3100';
// A second server with short windows (NIDAN_REAUTH_WINDOW_SECS=5, NIDAN_CODE_TTL_SECS=8), for
// the tests of the password prompt and of expired codes. scripts/test.sh starts both.
const shortURL = process.env.NIDAN_E2E_SHORT_URL;

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  projects: [
    { name: 'default', testIgnore: /short_windows\.spec\.ts/, use: { baseURL } },
    ...(shortURL
      ? [{ name: 'short-windows', testMatch: /short_windows\.spec\.ts/, use: { baseURL: shortURL } }]
      : []),
  ],
  use: {
    baseURL,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? chromium.executablePath,
      args: chromium.args,
    },
  },
});
