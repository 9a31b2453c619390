/*
 * The gallery for the browser tests: memcache and the front end from the test
 * build, on free loopback ports, against the suite's private MariaDB.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through tests/run.sh`);
  return v;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, log) {
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}; see ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer /healthz in 30 s; see ${log}`);
}

async function startOne(name, env, port) {
  const logs = path.join(need('GALLERY_TEST_TMP'), 'logs');
  mkdirSync(logs, { recursive: true });
  const log = path.join(logs, `browser-${name}.log`);
  const out = openSync(log, 'a');
  const child = spawn(path.join(need('GALLERY_TEST_BIN'), name), [], { env, stdio: ['ignore', out, out] });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, log);
  return { child, url };
}

/* SQL as the database's administrator, through the mariadb client. */
export function sql(query) {
  return execFileSync('mariadb', ['-S', need('GALLERY_DB_SOCKET'), '-u', need('GALLERY_TEST_DB_ADMIN'),
    '-N', '-B', need('GALLERY_DB_NAME'), '-e', query], { encoding: 'utf8' }).trim();
}

/* bin/worker with env, once its log says it started. */
async function startWorker(env) {
  const logs = path.join(need('GALLERY_TEST_TMP'), 'logs');
  const log = path.join(logs, 'browser-worker.log');
  const out = openSync(log, 'a');
  const child = spawn(path.join(need('GALLERY_TEST_BIN'), 'worker'), [], { env, stdio: ['ignore', out, out] });
  const until = Date.now() + 15000;
  while (!readFileSync(log, 'utf8').includes('worker started')) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}; see ${log}`);
    if (Date.now() > until) throw new Error(`the worker did not start in 15 s; see ${log}`);
    await new Promise(r => setTimeout(r, 50));
  }
  return { child };
}

/*
 * options.worker also starts bin/worker on the same database and data folder;
 * options.name keeps the data folder apart from other test files'.
 */
export async function startGallery(options = {}) {
  sql('DELETE FROM images; DELETE FROM cache_properties');
  if (options.worker) sql('DELETE FROM jobs');
  const memcachePort = await freePort();
  const frontendPort = await freePort();
  const dataDir = path.join(need('GALLERY_TEST_TMP'), options.name ? `browser-data-${options.name}` : 'browser-data');
  mkdirSync(dataDir, { recursive: true });
  const env = {
    ...process.env,
    GALLERY_MEMCACHE_BIND: '127.0.0.1',
    GALLERY_MEMCACHE_PORT: String(memcachePort),
    GALLERY_FRONTEND_BIND: '127.0.0.1',
    GALLERY_FRONTEND_PORT: String(frontendPort),
    GALLERY_MEMCACHE_URL: `http://127.0.0.1:${memcachePort}`,
    GALLERY_DATA_DIR: dataDir,
    GALLERY_TEMPLATE_STRICT: '1',
    /* Rows every second, so the charts have something new to show within one refresh. */
    GALLERY_STATS_INTERVAL_S: '1',
    /* Sanitizer builds are slow; the cache should still answer in time. */
    GALLERY_MEMCACHE_TIMEOUT_MS: '2000',
  };
  const memcache = await startOne('memcache', env, memcachePort);
  const frontend = await startOne('frontend', env, frontendPort);
  const worker = options.worker ? await startWorker({ ...env, GALLERY_WORKER_THREADS: '2' }) : null;
  return {
    url: frontend.url,
    memcacheUrl: memcache.url,
    /* Pausing the worker holds new jobs queued, so that a page shows them waiting. */
    pauseWorker: () => worker.child.kill('SIGSTOP'),
    resumeWorker: () => worker.child.kill('SIGCONT'),
    async stop() {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGCONT');
      for (const d of [worker, frontend, memcache].filter(Boolean)) {
        if (d.child.exitCode !== null) continue;
        const exited = new Promise(r => d.child.once('exit', r));
        d.child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
