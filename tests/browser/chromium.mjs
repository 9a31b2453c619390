/*
 * What every browser test shares: Debian's Chromium, headless; pages that
 * record their console errors; and screenshots that check for them. The
 * screenshots go to GALLERY_SCREENSHOT_DIR.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const SHOTS = process.env.GALLERY_SCREENSHOT_DIR ||
  path.join(process.env.GALLERY_TEST_TMP || '.', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

/*
 * Every wait in the tests is for a state of the page; this is only how long one
 * may take before it fails, generous because a loaded 2-core machine may run
 * Chromium many times slower than an idle one.
 */
export const STATE_WAIT_MS = 60000;

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/* A new page whose console errors and uncaught exceptions collect in page.problems. */
export async function watchedPage(browser, options = {}) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, ...options });
  page.setDefaultTimeout(STATE_WAIT_MS);
  page.problems = [];
  page.on('console', m => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('pageerror', e => page.problems.push(`page error: ${e.message}`));
  return page;
}

/*
 * Saves the page as name.png and checks that it had no console errors but
 * those allowed; the errors seen so far are then forgotten.
 */
export async function screenshotChecked(page, name, { allow = [] } = {}) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const unexpected = page.problems.filter(p => !allow.some(a => p.includes(a)));
  page.problems.length = 0;
  assert.deepEqual(unexpected, [], `console errors on ${page.url()}`);
}
