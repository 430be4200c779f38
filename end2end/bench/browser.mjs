// Debian's Chromium as the bench scripts launch it: the same binary and flags as the
// end-to-end suite (end2end/chromium.json, read by playwright.config.ts too).
import { readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';

const debian = JSON.parse(readFileSync(new URL('../chromium.json', import.meta.url), 'utf8'));

export const launchChromium = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? debian.executablePath,
    args: debian.args,
  });
