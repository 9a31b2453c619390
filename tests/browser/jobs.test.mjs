/*
 * Browser tests of the jobs pages against the real front end and worker: the
 * calc page, the queue page and the image page's Enhance button, each showing
 * a job's progress and then its result without a reload. Screenshots as in
 * gallery.test.mjs.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { startGallery, sql } from './daemons.mjs';
import { makePng } from './images.mjs';

/* A job's whole round trip on a loaded machine, with room to spare. */
const JOB_MS = 20000;

let gallery, browser, page;

before(async () => {
  gallery = await startGallery({ worker: true, name: 'jobs' });
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
  gallery.resumeWorker();
  await page.close();
});

const done = (name, options) => screenshotChecked(page, name, options);

const go = p => page.goto(gallery.url + p);
/* A mark that a reload would wipe out. */
const mark = () => page.evaluate(() => { window.stillHere = true; });
const marked = () => page.evaluate(() => window.stillHere === true);

test('the calc page shows the job waiting, then its results without a reload', async () => {
  await go('/calc');
  gallery.pauseWorker();
  await page.fill('textarea[name=numbers]', '4, 1 3\n2 -7');
  await page.click('#calc-form button[type=submit]');
  const state = page.locator('#job-state');
  await state.waitFor();
  assert.equal(await state.textContent(), 'queued');
  assert.ok(await page.locator('#job-live progress').isVisible());
  assert.ok(await page.locator('#job-live a.refresh').isVisible());
  assert.match(page.url(), /\/calc\?job=\d+$/);
  await mark();
  gallery.resumeWorker();
  await page.locator('#calc-median').waitFor({ timeout: JOB_MS });
  assert.equal(await page.textContent('#calc-median'), '2');
  assert.equal(await page.textContent('#calc-mean'), '0.6');
  assert.equal(await page.textContent('#calc-min'), '-7');
  assert.equal(await page.textContent('#calc-sum'), '3');
  assert.equal(await state.textContent(), 'done');
  assert.ok(await marked(), 'the page was reloaded');
  const log = await (await fetch(gallery.url + await page.getAttribute('#calc-log', 'href'))).text();
  assert.match(log, /sorted:\n-7 1 2 3 4\n/);
  await done('calc');
});

test('a bad number is named on the calc page and keeps what was typed', async () => {
  await go('/calc');
  await page.fill('textarea[name=numbers]', '1 2 0.5');
  await page.click('#calc-form button[type=submit]');
  await page.locator('main .message.error').waitFor();
  assert.match(await page.textContent('main .message.error'), /entry 3 \(0\.5\)/);
  assert.equal(await page.inputValue('textarea[name=numbers]'), '1 2 0.5');
  /* The form's fetch of the page answered 400, which the console reports as a failed resource. */
  await done('calc-error', { allow: ['status of 400'] });
});

test('the jobs page updates by itself as jobs are queued and done', async () => {
  await go('/jobs');
  await mark();
  const before = Number(await page.textContent('#jobs-done'));
  const answer = await (await fetch(`${gallery.url}/api/calc`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"numbers":[10,20]}',
  })).json();
  const id = answer.job.id;
  await page.locator(`[data-job-row="${id}"] .state-done`).waitFor({ timeout: JOB_MS });
  await page.waitForFunction(n => Number(document.getElementById('jobs-done').textContent) > n, before);
  assert.ok(await marked(), 'the page was reloaded');
  await done('jobs');
});

test('a dead job has a Retry button that runs it again', async () => {
  sql("INSERT INTO jobs (kind, payload, max_attempts, state, attempts, error) " +
      "VALUES ('calc', '[1, 2, 3]', 5, 'dead', 5, 'a failure of the past')");
  const id = sql('SELECT MAX(id) FROM jobs');
  await go(`/jobs/${id}`);
  assert.equal(await page.textContent('#job-state'), 'dead');
  await page.click('#retry-form button');
  await page.locator('#calc-median').waitFor({ timeout: JOB_MS });
  assert.equal(await page.textContent('#job-state'), 'done');
  await done('job-retried');
});

test('Enhance shows the job waiting, then before and after with their numbers', async t => {
  const form = new FormData();
  form.append('key', 'harbour');
  form.append('file', new Blob([makePng(320, 240, 7)], { type: 'image/png' }), 'harbour.png');
  assert.equal((await (await fetch(`${gallery.url}/api/upload`, { method: 'POST', body: form })).json()).success, 'true');
  await go('/image?key=harbour');
  gallery.pauseWorker();
  await page.fill('#enhance-form input[name=strength]', '0.3');
  await page.click('#enhance-form button[type=submit]');
  const state = page.locator('#job-state');
  await state.waitFor();
  assert.equal(await state.textContent(), 'queued');
  assert.ok(await page.locator('#job-live progress').isVisible());
  await mark();
  gallery.resumeWorker();
  await page.waitForFunction(() => ['done', 'dead'].includes(document.getElementById('job-state')?.textContent),
    null, { timeout: JOB_MS });
  assert.ok(await marked(), 'the page was reloaded');
  const error = await page.locator('#job-live .message.error').textContent().catch(() => '');
  if (/cannot run enhance jobs/.test(error)) {
    await done('enhance-no-runner');
    t.skip('this build of the worker has no enhance runner');
    return;
  }
  assert.equal(await state.textContent(), 'done');
  const images = page.locator('#before-after img');
  assert.equal(await images.count(), 2);
  for (const img of await images.elementHandles()) {
    await page.waitForFunction(i => i.complete, img);
    assert.ok(await img.evaluate(i => i.naturalWidth) > 0);
  }
  for (const cell of await page.locator('#before-after .m-contrast').allTextContents())
    assert.match(cell, /^\d/);
  await done('enhance');
});
