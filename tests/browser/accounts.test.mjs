/*
 * Accounts as a person meets them: sign-up, the link from the mail a real SMTP
 * server received, verification, login, the navigation, a profile, logout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchChromium, screenshotChecked, watchedPage } from './chromium.mjs';
import { mailedLink, sql, startGallery } from './daemons.mjs';
import { makePng } from './images.mjs';

let gallery, browser, page;

before(async () => {
  gallery = await startGallery({ mail: true });
  browser = await launchChromium();
  /* One page for the whole story: its cookies are the person's session. */
  page = await watchedPage(browser);
});

after(async () => {
  await browser?.close();
  await gallery?.stop();
  /* The tests after these expect a gallery without accounts. */
  sql('DELETE FROM users; DELETE FROM images; DELETE FROM jobs');
});

/* Saves the page as name.png and checks there were no console errors but those allowed. */
const shot = (name, options) => screenshotChecked(page, name, options);

const go = p => page.goto(gallery.url + p);
const message = () => page.locator('main .message').first();

test('sign-up, the mailed link, verification and login', async () => {
  await go('/');
  await assert.doesNotReject(page.locator('#nav-login').waitFor());
  await shot('nav-logged-out');
  await page.click('#nav-signup');
  await page.fill('input[name=username]', 'Grace.H');
  await page.fill('input[name=email]', 'grace@example.org');
  await page.fill('input[name=password]', 'password123');
  await page.click('#signup-form button[type=submit]');
  assert.match(await message().textContent(), /too easy to guess/);
  assert.equal(await page.inputValue('input[name=username]'), 'Grace.H');
  await page.fill('input[name=password]', 'cobol compilers dream in moths');
  await page.click('#signup-form button[type=submit]');
  assert.match(await message().textContent(), /Check your mail/);
  /* The refused sign-up's page came with its 400. */
  await shot('signup-done', { allow: ['status of 400'] });

  const link = await mailedLink(gallery.maildir, 'grace@example.org', 'verify');
  assert.ok(link.startsWith(`${gallery.url}/verify?token=`), link);
  await page.goto(link);
  await shot('verify');
  await page.click('#verify-form button[type=submit]');
  assert.match(await message().textContent(), /verified/);

  await go('/login');
  await page.fill('input[name=username]', 'grace.h');
  await page.fill('input[name=password]', 'cobol compilers dream in moths');
  await page.click('#login-form button[type=submit]');
  await page.waitForURL(`${gallery.url}/`);
  assert.equal(await page.locator('#nav-user').textContent(), 'grace.h');
  assert.equal(await page.locator('#nav-login').count(), 0);
  await shot('nav-logged-in');
});

test('an upload is the user\'s and shows on the profile', async () => {
  await go('/upload_image');
  await page.fill('input[name=key]', 'moth.png');
  await page.setInputFiles('input[type=file]', { name: 'moth.png', mimeType: 'image/png', buffer: makePng(64, 48) });
  await page.click('#upload-form button[type=submit]');
  await page.locator('#uploaded-link').waitFor();
  await go('/u/grace.h');
  assert.equal(await page.locator('#profile-count').textContent(), '1');
  assert.equal(await page.locator('#profile-images li').count(), 1);
  await shot('profile');
  await go('/image?key=moth.png');
  assert.equal(await page.locator('#owner').textContent(), 'grace.h');
  await go('/account');
  await shot('account');
});

test('logging out ends the session', async () => {
  await go('/');
  await page.click('#nav-logout');
  await page.waitForURL(`${gallery.url}/`);
  await page.locator('#nav-login').waitFor();
  assert.equal(await page.locator('#nav-user').count(), 0);
  const me = await page.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(me, 401);
});
