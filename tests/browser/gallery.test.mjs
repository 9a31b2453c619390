/*
 * The gallery as a person uses it: Debian's Chromium, headless, driven by
 * playwright-core against the real daemons and MariaDB. Each test saves a
 * screenshot of the page it checked into GALLERY_SCREENSHOT_DIR.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

let gallery, browser, page;

before(async () => {
  gallery = await startGallery();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gallery?.stop();
});

/* Every test watches for console errors and failed requests on its pages. */
beforeEach(async () => {
  page = await watchedPage(browser);
});

afterEach(async () => {
  await page.close();
});

/* Saves the page as name.png and checks it had no console errors. */
const done = (name, options) => screenshotChecked(page, name, options);

const go = p => page.goto(gallery.url + p);
const message = () => page.locator('main .message').first();

/* The width of the image once the browser is done loading it (0 when it could not). */
async function loadedWidth(img) {
  await img.waitFor();
  const element = await img.elementHandle();
  await page.waitForFunction(i => i.complete, element);
  return element.evaluate(i => i.naturalWidth);
}

async function memcacheStats() {
  return (await fetch(`${gallery.memcacheUrl}/stats`)).json();
}

async function uploadByApi(key, bytes) {
  const form = new FormData();
  form.append('key', key);
  form.append('file', new Blob([bytes], { type: 'image/png' }), `${key}.png`);
  const answer = await (await fetch(`${gallery.url}/api/upload`, { method: 'POST', body: form })).json();
  assert.equal(answer.success, 'true');
}

async function uploadThroughForm(key, file) {
  await go('/upload_image');
  await page.fill('input[name=key]', key);
  await page.setInputFiles('input[type=file]', file);
}

test('uploading through the form shows the image on its page and in the gallery', async () => {
  const png = makePng(320, 200, 1);
  await uploadThroughForm('sunset over the bay', { name: 'sunset.png', mimeType: 'image/png', buffer: png });
  await assert.doesNotReject(page.locator('#preview').waitFor({ state: 'visible' }));
  await page.click('button[type=submit]');
  await assert.doesNotReject(message().waitFor());
  assert.equal(await message().textContent(), 'Uploaded.');
  await done('upload-success');

  await page.click('#uploaded-link');
  await page.waitForURL(/\/image\?key=sunset%20over%20the%20bay$/);
  assert.equal(await loadedWidth(page.locator('figure.image img')), 320);
  const details = await page.locator('figure.image dl').textContent();
  assert.match(details, /image\/png/);
  assert.match(details, /320 × 200/);
  assert.equal(await page.locator('a[download]').getAttribute('href'), '/raw/sunset%20over%20the%20bay?download=1');
  await done('image');

  await go('/');
  const tile = page.locator('ul.grid li', { hasText: 'sunset over the bay' });
  await assert.doesNotReject(tile.waitFor());
  assert.equal(await tile.locator('img').getAttribute('loading'), 'lazy');
  await page.waitForFunction(() => [...document.querySelectorAll('ul.grid img')].every(i => i.complete && i.naturalWidth > 0));
  await done('home');
});

test('a large upload shows its progress and ends on the image', async () => {
  const big = makePng(1200, 900, 2, true); /* about 3 MB of noise */
  assert.ok(big.length > 2_000_000);
  await uploadThroughForm('noise', { name: 'noise.png', mimeType: 'image/png', buffer: big });
  /* Record what the progress bar is given while the file is sent. */
  await page.evaluate(() => {
    window.progressSeen = [];
    const bar = document.getElementById('progress');
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (body) {
      this.upload.addEventListener('progress', () => window.progressSeen.push([bar.hidden, bar.value]));
      return send.call(this, body);
    };
  });
  await page.click('button[type=submit]');
  await message().waitFor();
  assert.equal(await message().textContent(), 'Uploaded.');
  const seen = await page.evaluate(() => window.progressSeen);
  assert.ok(seen.length > 0, 'no progress events');
  assert.ok(seen.every(([hidden]) => !hidden), 'the progress bar was hidden while sending');
  assert.equal(await page.locator('#progress').isHidden(), true);
  const back = await (await fetch(`${gallery.url}/raw/noise`)).arrayBuffer();
  assert.ok(Buffer.from(back).equals(big), 'the stored bytes differ from the file');
  await done('upload-large');
});

test('dropping a file on the page selects it and previews it', async () => {
  await go('/upload_image');
  const png = makePng(64, 64, 3);
  await page.evaluate(bytes => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
    document.querySelector('main').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, [...png]);
  await page.locator('#preview').waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('input[name=key]'), 'dropped.png');
  assert.equal(await page.locator('input[type=file]').evaluate(i => i.files[0]?.name), 'dropped.png');
  await done('upload-dropped');
});

test('the find form shows an image by its key, and says when there is none', async () => {
  await uploadByApi('cat/with a hat', makePng(150, 100, 4));
  await go('/image');
  await page.fill('input[name=key]', 'cat/with a hat');
  await page.click('button[type=submit]');
  assert.equal(await loadedWidth(page.locator('figure.image img')), 150);
  assert.equal(await page.locator('figure.image strong').textContent(), 'cat/with a hat');
  await done('find');

  await page.fill('input[name=key]', 'no such cat');
  await page.click('button[type=submit]');
  await message().waitFor();
  assert.match(await message().textContent(), /no image with key 'no such cat'/);
  assert.equal(await page.inputValue('input[name=key]'), 'no such cat');
  /* The page is a 404, which the browser reports as a failed resource. */
  await done('find-missing', { allow: ['404'] });
});

test('uploading a text file says it is not an image and stores nothing', async () => {
  await uploadThroughForm('notes', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('just some words\n') });
  await page.click('button[type=submit]');
  await message().waitFor();
  assert.match(await message().getAttribute('class'), /error/);
  assert.match(await message().textContent(), /JPEG, PNG, GIF or WebP/);
  const answer = await fetch(`${gallery.url}/api/key/notes`);
  assert.equal(answer.status, 404);
  /* The XHR's 415 shows up as a failed resource in the console. */
  await done('upload-not-an-image', { allow: ['415'] });
});

test('a new policy and capacity are in force on the page and in memcache', async () => {
  await go('/cache_properties');
  await page.fill('input[name=capacity]', '7');
  await page.check('input[name=policy][value=RR]');
  await page.click('button[value=save]');
  await message().waitFor();
  assert.equal(await message().textContent(), 'Saved; the cache uses it now.');
  const inForce = await page.locator('#in-force').textContent();
  assert.match(inForce, /In force: 7 MB, Random Replacement, set /);
  assert.equal(await page.isChecked('input[name=policy][value=RR]'), true);
  const stats = await memcacheStats();
  assert.equal(stats.policy, 'RR');
  assert.equal(stats.capacity_bytes, 7 * 1048576);
  await done('cache-properties');

  await page.fill('input[name=capacity]', '5000');
  await page.evaluate(() => document.querySelector('input[name=capacity]').removeAttribute('max'));
  await page.click('button[value=save]');
  await message().waitFor();
  assert.match(await message().textContent(), /whole number of MB from 0 to 4096/);
  assert.equal(await page.inputValue('input[name=capacity]'), '5000');
  assert.equal((await memcacheStats()).capacity_bytes, 7 * 1048576);
  await done('cache-properties-refused', { allow: ['400'] });
});

test('clearing the cache asks first, then says how many items were dropped', async () => {
  await uploadByApi('to be cached 1', makePng(40, 40, 5));
  await uploadByApi('to be cached 2', makePng(40, 40, 6));
  for (const key of ['to be cached 1', 'to be cached 2'])
    assert.equal((await fetch(`${gallery.url}/api/key/${encodeURIComponent(key)}`)).status, 200);
  const items = (await memcacheStats()).items;
  assert.ok(items >= 2);

  await go('/cache_properties');
  const yes = page.locator('button[value=clear]');
  assert.equal(await yes.isVisible(), false, 'the clear button shows before it is asked for');
  await page.click('#clear summary');
  await yes.click();
  await message().waitFor();
  assert.equal(await message().textContent(), `Cleared the cache: ${items} items dropped.`);
  assert.equal((await memcacheStats()).items, 0);
  await done('cache-cleared');
});

test('the statistics page draws five charts and updates them', async () => {
  await go('/cache_stats');
  const canvases = page.locator('#charts canvas');
  await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length === 5 &&
    [...document.querySelectorAll('#charts canvas')].every(c => Chart.getChart(c)?.data.datasets[0].data.length > 0));
  assert.equal(await canvases.count(), 5);
  const drawn = await canvases.evaluateAll(list => list.map(c => {
    const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
    return painted;
  }));
  drawn.forEach((painted, i) => assert.ok(painted > 500, `chart ${i + 1} is blank`));
  /* Not just axes: every chart has a value to show (the uploads above made gets). */
  const values = await canvases.evaluateAll(list => list.map(c =>
    Chart.getChart(c).data.datasets[0].data.filter(p => p.y !== null).length));
  values.forEach((n, i) => assert.ok(n > 0, `chart ${i + 1} has no values`));

  const requestsNow = () => page.evaluate(() => {
    const data = Chart.getChart(document.getElementById('chart-requests')).data.datasets[0].data;
    return data.reduce((sum, p) => sum + (p.y || 0), 0);
  });
  const before = await requestsNow();
  for (let i = 0; i < 20; i++) await fetch(`${gallery.url}/api/key/sunset%20over%20the%20bay`);
  await page.waitForFunction(b => {
    const data = Chart.getChart(document.getElementById('chart-requests')).data.datasets[0].data;
    return data.reduce((sum, p) => sum + (p.y || 0), 0) >= b + 20;
  }, before);
  assert.match(await page.locator('#cache-line').textContent(), /Policy Random Replacement, capacity 7 MB/);
  assert.ok(await page.locator('#stats-table tbody tr').count() > 0);
  await done('cache-stats');
});

test('every page opens without console errors', async () => {
  const pages = ['/', '/upload_image', '/image', '/image?key=cat%2Fwith%20a%20hat', '/keys_list',
    '/keys_list?q=cat', '/cache_properties', '/cache_stats'];
  for (const p of pages) {
    const answer = await go(p);
    assert.equal(answer.status(), 200, p);
    assert.equal(await page.locator('nav a[aria-current=page]').count(), 1, `${p} marks no current page`);
  }
  await go('/keys_list');
  const row = page.locator('table tbody tr', { hasText: 'cat/with a hat' });
  assert.match(await row.textContent(), /image\/png/);
  await done('keys');

  await go('/');
  await page.waitForFunction(() => [...document.querySelectorAll('ul.grid img')].every(i => i.complete && i.naturalWidth > 0));
  await done('gallery');

  await page.setViewportSize({ width: 390, height: 844 });
  await go('/');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the home page is ${overflow}px wider than a phone`);
  await done('home-phone');
});
