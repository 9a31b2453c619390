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

async function waitFor(what, ready, child, log) {
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${log}`);
    if (await ready()) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start in 15 s; see ${log}`);
}

function logFile(name) {
  const logs = path.join(need('GALLERY_TEST_TMP'), 'logs');
  mkdirSync(logs, { recursive: true });
  const log = path.join(logs, `browser-${name}.log`);
  return { log, out: openSync(log, 'a') };
}

async function startSmtp(port, maildir) {
  const { log, out } = logFile('aiosmtpd');
  const child = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c',
    'aiosmtpd.handlers.Mailbox', maildir], { stdio: ['ignore', out, out] });
  const accepts = () => new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  await waitFor('aiosmtpd', accepts, child, log);
  return { child };
}

async function startWorker(env) {
  const { log, out } = logFile('worker');
  const child = spawn(path.join(need('GALLERY_TEST_BIN'), 'worker'), [], { env, stdio: ['ignore', out, out] });
  await waitFor('worker', async () => readFileSync(log, 'utf8').includes('worker started'), child, log);
  return { child };
}

/*
 * The first link containing what in the plain-text part of the newest message
 * to `to` that aiosmtpd received (the worker sends it base64-encoded); waits for it.
 */
export async function mailedLink(maildir, to, what) {
  const script = `import email,glob,os,re,sys
from email import policy
out=""
for f in sorted(glob.glob(sys.argv[1]+"/new/*"),key=os.path.getmtime):
  m=email.message_from_binary_file(open(f,"rb"),policy=policy.default)
  if m["To"]!=sys.argv[2]: continue
  x=re.search(r"http\\S*"+sys.argv[3]+r"\\S*",m.get_body(preferencelist=("plain",)).get_content())
  if x: out=x.group(0)
print(out)`;
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    const link = execFileSync('/usr/bin/python3', ['-c', script, maildir, to, what], { encoding: 'utf8' }).trim();
    if (link) return link;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} with a ${what} link`);
}

/* SQL as the database's administrator, through the mariadb client. */
export function sql(query) {
  return execFileSync('mariadb', ['-S', need('GALLERY_DB_SOCKET'), '-u', need('GALLERY_TEST_DB_ADMIN'),
    '-N', '-B', need('GALLERY_DB_NAME'), '-e', query], { encoding: 'utf8' }).trim();
}

/*
 * options.worker also starts bin/worker on the same database and data folder;
 * options.mail also starts Debian's aiosmtpd on a free port, keeping messages in
 * maildir/new, with a worker that sends the gallery's mail to it;
 * options.name keeps the data folder apart from other test files'.
 */
export async function startGallery(options = {}) {
  sql('DELETE FROM images; DELETE FROM cache_properties; DELETE FROM users; DELETE FROM jobs');
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
    /* Mailed links point here. */
    GALLERY_PUBLIC_URL: `http://127.0.0.1:${frontendPort}`,
  };
  const extra = [];
  let maildir = null;
  const workerEnv = { ...env, GALLERY_WORKER_THREADS: '2' };
  if (options.mail) {
    const smtpPort = await freePort();
    maildir = path.join(dataDir, 'maildir');
    extra.push(await startSmtp(smtpPort, maildir));
    workerEnv.GALLERY_SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
  }
  const memcache = await startOne('memcache', env, memcachePort);
  const frontend = await startOne('frontend', env, frontendPort);
  const worker = options.worker || options.mail ? await startWorker(workerEnv) : null;
  return {
    url: frontend.url,
    memcacheUrl: memcache.url,
    maildir,
    /* Pausing the worker holds new jobs queued, so that a page shows them waiting. */
    pauseWorker: () => worker.child.kill('SIGSTOP'),
    resumeWorker: () => worker.child.kill('SIGCONT'),
    async stop() {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGCONT');
      for (const d of [worker, frontend, memcache, ...extra].filter(Boolean)) {
        if (d.child.exitCode !== null) continue;
        const exited = new Promise(r => d.child.once('exit', r));
        d.child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
