/*
 * Search as a person uses it: the box in the navigation, the results page and
 * its next page, in Debian's Chromium against the real daemons. Screenshots go
 * to GALLERY_SCREENSHOT_DIR.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, afterEach, test } from 'node:test';
import { chromium } from 'playwright-core';

import { startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

const SHOTS = process.env.GALLERY_SCREENSHOT_DIR || path.join(process.env.GALLERY_TEST_TMP || '.', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

let gallery, browser, page, problems;
const STATE_WAIT_MS = 60000;

before(async () => {
  gallery = await startGallery({ name: 'search' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await gallery?.stop();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  /* Only how long a wait for a state may take before it fails: a loaded machine is slow. */
  page.setDefaultTimeout(STATE_WAIT_MS);
  problems = [];
  page.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', e => problems.push(`page error: ${e.message}`));
});

afterEach(async () => {
  await page.close();
});

async function done(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  assert.deepEqual(problems, [], `console errors on ${page.url()}`);
}

async function upload(key, caption, seed) {
  const form = new FormData();
  form.append('key', key);
  form.append('caption', caption);
  form.append('file', new Blob([makePng(240, 160, seed)], { type: 'image/png' }), `${key}.png`);
  const answer = await (await fetch(`${gallery.url}/api/upload`, { method: 'POST', body: form })).json();
  assert.equal(answer.success, 'true');
}

test('the navigation box searches captions by word beginnings, accents and CJK included', async () => {
  await upload('harbour-dawn', 'Boats in the harbour at dawn #sea', 1);
  await upload('cafe-corner', 'A quiet Café on the corner', 2);
  await upload('tokyo-tower', '東京タワーの夜景 #夜景', 3);
  await upload('kyoto-temple', '京都の寺', 4);

  await page.goto(`${gallery.url}/`);
  await page.fill('#nav-search', 'harb');
  await page.press('#nav-search', 'Enter');
  await page.waitForURL(/\/search\?q=harb/);
  const results = page.locator('#search-results li');
  await results.first().waitFor();
  assert.equal(await results.count(), 1);
  assert.match(await results.first().innerText(), /harbour-dawn/);
  assert.match(await results.first().innerText(), /Boats in the harbour at dawn/);
  assert.equal(await page.inputValue('#search-q'), 'harb');
  await done('search');

  await page.fill('#nav-search', 'cafe');
  await page.press('#nav-search', 'Enter');
  await page.waitForURL(/\/search\?q=cafe/);
  await page.locator('#search-results li', { hasText: 'cafe-corner' }).waitFor();

  await page.fill('#nav-search', '東京');
  await page.press('#nav-search', 'Enter');
  await page.waitForURL(/\/search\?q=/);
  await page.locator('#search-results li', { hasText: 'tokyo-tower' }).waitFor();
  assert.equal(await page.locator('#search-results li').count(), 1);
  await done('search-cjk');

  await page.fill('#nav-search', 'zebra');
  await page.press('#nav-search', 'Enter');
  await page.locator('#search-none').waitFor();
});

test('a search of more than one page offers the older ones, each image once', async () => {
  for (let i = 0; i < 23; i++) await upload(`paged-${String(i).padStart(2, '0')}`, 'lighthouse study', 10 + i);
  await page.goto(`${gallery.url}/search?q=lighthouse`);
  const first = await page.locator('#search-results li a span').allInnerTexts();
  assert.equal(first.length, 20);
  assert.equal(first[0], 'paged-22');
  await page.click('#search-next');
  await page.waitForURL(/cursor=/);
  const second = await page.locator('#search-results li a span').allInnerTexts();
  assert.deepEqual(second, ['paged-02', 'paged-01', 'paged-00']);
  assert.equal(await page.locator('#search-next').count(), 0);
  await done('search-older');
});
