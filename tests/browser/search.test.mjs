/*
 * Search as a person uses it: the box in the navigation, the results page and
 * its next page, in Debian's Chromium against the real daemons. Screenshots go
 * to GALLERY_SCREENSHOT_DIR.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

let gallery, browser, page;

before(async () => {
  gallery = await startGallery({ name: 'search' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gallery?.stop();
});

beforeEach(async () => {
  page = await watchedPage(browser);
});

afterEach(async () => {
  await page.close();
});

/* Saves the page as name.png and checks it had no console errors. */
const done = name => screenshotChecked(page, name);

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
