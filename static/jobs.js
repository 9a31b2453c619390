/*
 * Pages that show jobs: a job still queued or running (#job-live with
 * data-job) is followed through GET /api/jobs/<id>?wait=, and when its state
 * changes the section is taken from a fresh copy of this page, the same HTML
 * the server sends without JavaScript. #jobs-live (the queue) refreshes on a
 * timer while the tab is visible. The calc form is sent without leaving the page.
 */
'use strict';
(function () {
  const WAIT_S = 10;
  const RETRY_MS = 2000;
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

  async function freshPage(url) {
    const res = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
    return new DOMParser().parseFromString(await res.text(), 'text/html');
  }

  function swap(doc, id) {
    const fresh = doc.getElementById(id);
    const old = document.getElementById(id);
    if (fresh && old) old.replaceWith(document.importNode(fresh, true));
    return document.getElementById(id);
  }

  let following = null;
  async function follow(section) {
    const mine = {};
    following = mine;
    while (section && section.dataset.job && following === mine) {
      let state = section.dataset.state;
      try {
        const res = await fetch('/api/jobs/' + section.dataset.job + '?wait=' + WAIT_S);
        const body = await res.json();
        if (!res.ok) return;
        state = body.job.state;
      } catch (e) {
        await sleep(RETRY_MS);
        continue;
      }
      if (state === section.dataset.state) continue;
      try {
        section = swap(await freshPage(location.href), 'job-live');
      } catch (e) {
        await sleep(RETRY_MS);
      }
    }
  }

  const live = document.getElementById('job-live');
  if (live) follow(live);

  const queue = document.getElementById('jobs-live');
  if (queue) {
    const every = Number(queue.dataset.pollMs) || 2000;
    (async function poll() {
      for (;;) {
        await sleep(every);
        if (document.hidden) continue;
        try {
          swap(await freshPage(location.href), 'jobs-live');
        } catch (e) { /* the next round tries again */ }
      }
    })();
  }

  const form = document.getElementById('calc-form');
  if (form && window.FormData) {
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const res = await fetch(form.action, {
          method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin',
          headers: { Accept: 'text/html' },
        });
        const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
        if (res.redirected) history.replaceState(null, '', res.url);
        document.querySelectorAll('main > .message').forEach(m => m.remove());
        const message = doc.querySelector('main > .message');
        if (message) document.querySelector('main h1').after(document.importNode(message, true));
        const section = swap(doc, 'calc-live');
        const job = section && section.querySelector('#job-live');
        if (job) follow(job);
      } catch (e) {
        form.submit();
      } finally {
        button.disabled = false;
      }
    });
  }
})();
