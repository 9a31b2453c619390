/*
 * Deleting an image from its page, as a person does it: the Delete link, the
 * confirm page (a plain form, so it works without JavaScript), and the image
 * gone from its key, the list and the home page. Screenshots as in gallery.test.mjs.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

let gallery, browser, page;

before(async () => {
  gallery = await startGallery({ name: 'delete' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gallery?.stop();
});

beforeEach(async () => {
  page = await watchedPage(browser, { javaScriptEnabled: false });
});

afterEach(async () => {
  await page.close();
});

const done = (name, options) => screenshotChecked(page, name, options);

const go = p => page.goto(gallery.url + p);
const message = () => page.locator('main .message').first();

async function uploadByApi(key, bytes) {
  const form = new FormData();
  form.append('key', key);
  form.append('file', new Blob([bytes], { type: 'image/png' }), 'image.png');
  const answer = await (await fetch(`${gallery.url}/api/upload`, { method: 'POST', body: form })).json();
  assert.equal(answer.success, 'true');
}

test('an image is deleted from its page through the confirm page, without JavaScript', async () => {
  await uploadByApi('old harbour & boats', makePng(240, 160, 21));
  await uploadByApi('stays here', makePng(200, 120, 22));
  await go('/image?key=' + encodeURIComponent('old harbour & boats'));
  await page.click('#delete-link');
  await page.waitForURL(/\/delete\?key=old%20harbour%20%26%20boats$/);
  assert.match(await page.locator('#delete-form').textContent(), /Delete the image old harbour & boats/);
  assert.equal(await page.locator('#delete-form img').getAttribute('alt'), 'old harbour & boats');
  await done('delete-confirm');

  /* Cancel goes back to the image, which is still there. */
  await page.click('#delete-cancel');
  await page.locator('figure.image').waitFor();
  await page.click('#delete-link');
  await page.click('#delete-confirm');
  await message().waitFor();
  assert.equal(await message().textContent(), 'Deleted.');
  await done('delete-done');

  assert.equal((await fetch(`${gallery.url}/api/key/${encodeURIComponent('old harbour & boats')}`)).status, 404);
  await go('/keys_list');
  assert.equal(await page.locator('main', { hasText: 'old harbour' }).count(), 0);
  assert.equal(await page.locator('main', { hasText: 'stays here' }).count(), 1);
  await go('/');
  assert.equal(await page.locator('ul.grid li', { hasText: 'old harbour' }).count(), 0);
  await go('/image?key=' + encodeURIComponent('old harbour & boats'));
  await message().waitFor();
  assert.match(await message().textContent(), /no image with key 'old harbour & boats'/);
  await done('delete-gone', { allow: ['404'] });
});
