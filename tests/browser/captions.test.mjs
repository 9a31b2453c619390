/*
 * Browser tests of captions and hashtags: an upload with a caption, a click on
 * one of its hashtags, an edit of the caption on the image page, and the feed
 * on the home page. Screenshots as in gallery.test.mjs.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

let gallery, browser, page;

before(async () => {
  gallery = await startGallery({ name: 'captions' });
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

const done = (name, options) => screenshotChecked(page, name, options);

const go = p => page.goto(gallery.url + p);
const message = () => page.locator('main .message').first();

test('an upload with a caption shows it, and its hashtag leads to the tag page', async () => {
  await go('/upload_image');
  await page.fill('input[name=key]', 'maple in october');
  await page.setInputFiles('input[type=file]', { name: 'maple.png', mimeType: 'image/png', buffer: makePng(200, 150, 7) });
  await page.fill('textarea[name=caption]', 'Red and gold. #Autumn #Ísland #日本 #🍁');
  await page.click('button[type=submit]');
  await assert.doesNotReject(message().waitFor());
  assert.equal(await message().textContent(), 'Uploaded.');
  await page.click('#uploaded-link');
  await page.waitForURL(/\/image\?key=maple%20in%20october$/);
  const caption = page.locator('#caption');
  assert.equal(await caption.textContent(), 'Red and gold. #Autumn #Ísland #日本 #🍁');
  const tags = await caption.locator('a.tag').evaluateAll(as => as.map(a => [a.textContent, a.getAttribute('href')]));
  assert.deepEqual(tags, [['#Autumn', '/tags/autumn'], ['#Ísland', '/tags/%C3%ADsland'],
    ['#日本', '/tags/%E6%97%A5%E6%9C%AC'], ['#🍁', '/tags/%F0%9F%8D%81']]);
  await done('caption-on-image');

  await caption.locator('a.tag', { hasText: '#Autumn' }).click();
  await page.waitForURL(/\/tags\/autumn$/);
  assert.equal(await page.locator('h1').textContent(), '#autumn');
  assert.equal(await page.locator('#tag-title').textContent(), 'Images with the hashtag #autumn, newest first.');
  const tile = page.locator('#tag-images li', { hasText: 'maple in october' });
  await assert.doesNotReject(tile.waitFor());
  await done('tag-page');

  await go('/tags/island');
  assert.equal(await page.locator('#no-images').textContent(), 'No images carry the hashtag #island.');
  /* A tag nobody uses is a 404 page, as the browser reports. */
  await done('tag-page-empty', { allow: ['404'] });
});

test('the image page edits a caption in place, and the feed shows it', async () => {
  const form = new FormData();
  form.append('key', 'harbour');
  form.append('caption', 'boats #sea');
  form.append('file', new Blob([makePng(160, 120, 8)], { type: 'image/png' }), 'harbour.png');
  const answer = await (await fetch(`${gallery.url}/api/upload`, { method: 'POST', body: form })).json();
  assert.equal(answer.success, 'true');

  await go('/image?key=harbour');
  assert.equal(await page.locator('#caption-text').inputValue(), 'boats #sea');
  await page.fill('#caption-text', 'Boats at dawn #Sea #Harbour');
  await page.click('#caption-form button[type=submit]');
  await page.waitForURL(/\/image\?key=harbour&captioned=1$/);
  assert.equal(await message().textContent(), 'Caption saved.');
  assert.equal(await page.locator('#caption').textContent(), 'Boats at dawn #Sea #Harbour');
  assert.equal(await page.locator('#caption-text').inputValue(), 'Boats at dawn #Sea #Harbour');
  await done('caption-edited');

  /* What the page shows, the API says too, at once. */
  const image = (await (await fetch(`${gallery.url}/api/image/harbour`)).json()).image;
  assert.equal(image.caption, 'Boats at dawn #Sea #Harbour');
  assert.deepEqual(image.tags, ['sea', 'harbour']);

  await go('/');
  const tile = page.locator('#feed li', { hasText: 'harbour' });
  await assert.doesNotReject(tile.waitFor());
  assert.equal(await tile.locator('.caption').textContent(), 'Boats at dawn #Sea #Harbour');
  await tile.locator('a.tag', { hasText: '#Harbour' }).click();
  await page.waitForURL(/\/tags\/harbour$/);
  await assert.doesNotReject(page.locator('#tag-images li', { hasText: 'harbour' }).waitFor());
  await go('/');
  await done('feed-with-captions');
});
