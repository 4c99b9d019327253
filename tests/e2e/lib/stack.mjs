// stack.mjs — the real stack for browser tests: a private PostgreSQL 15 (initdb + pg_ctl in a
// temp dir, run as the `postgres` user, unix socket only) and the real feedbackd binary, set up
// through its CLI (migrate, projects create, keys create) exactly as an operator would.
//
//   const s = await startStack({ name: 'widget' });
//   s.baseUrl                      'http://127.0.0.1:<port>'
//   s.project                      'e2e' (allowed_origins = [s.baseUrl])
//   s.keys.{admin,ingest,read,export}
//   await s.api('GET', '/v1/feedback', { key: s.keys.read })  -> { status, json, text, headers }
//   await s.stopServer()            SIGTERM, waits; -> { code, signal }
//   await s.startServer()           same port, same database
//   await s.stop()                  everything down, temp dir removed (kept if E2E_KEEP=1)
//   s.stopDatabase() / s.startDatabase()   PostgreSQL down and up again (feedbackd keeps running)
//   startStack({ env: { FEEDBACKD_RATE_LIMIT_RPS: '1' } })   extra environment of feedbackd
// Extras: s.dir, s.databaseUrl, s.psql(sql) -> stdout (unaligned, tab-separated), s.serverLog().
//
// Env: FEEDBACKD_BIN (default <repo>/build/feedbackd), E2E_KEEP=1 keeps the temp dir.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const live = new Set(); // stacks to tear down if the test process dies without stop()

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeout || 120000, ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

function asPostgres(args, opts) {
  return run('runuser', ['-u', 'postgres', '--', ...args], opts);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function headersObject(h) {
  // a plain object of lower-case names (res.headers['retry-after']) that also has .get(name)
  const o = {};
  h.forEach((v, k) => { o[k] = v; });
  Object.defineProperty(o, 'get', { value: (name) => o[String(name).toLowerCase()] ?? null });
  return o;
}

export async function startStack({ name = 'e2e', env: extraEnv = {} } = {}) {
  const bin = path.resolve(REPO, process.env.FEEDBACKD_BIN || 'build/feedbackd');
  if (!fs.existsSync(bin)) throw new Error(`feedbackd binary not found at ${bin} (set FEEDBACKD_BIN)`);

  const safe = String(name).replace(/[^A-Za-z0-9_-]/g, '_');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `feedbackd-${safe}-`));
  fs.chmodSync(dir, 0o755);
  const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  fs.chownSync(dir, pgUid, pgGid);

  const pgdata = path.join(dir, 'pgdata');
  const pgPort = await freePort();
  const httpPort = await freePort();
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const databaseUrl = `host=${dir} port=${pgPort} dbname=postgres user=postgres`;
  const serverLogPath = path.join(dir, 'feedbackd.log');
  const dataDir = path.join(dir, 'var');
  fs.mkdirSync(dataDir);

  const env = {
    ...process.env,
    FEEDBACKD_DATABASE_URL: databaseUrl,
    FEEDBACKD_LISTEN: `127.0.0.1:${httpPort}`,
    FEEDBACKD_DATA_DIR: dataDir,
    ...extraEnv,
  };
  delete env.FEEDBACKD_THREADS;

  let pgStarted = false;
  let child = null;
  let exited = null; // promise of {code, signal} for the current child
  let stopped = false;

  const stack = {
    name, dir, baseUrl, databaseUrl, project: 'e2e', keys: {}, bin,
    serverLog: () => { try { return fs.readFileSync(serverLogPath, 'utf8'); } catch { return ''; } },
  };

  function cli(args) {
    return run(bin, args, { env, timeout: 60000 });
  }

  function killSync() {
    // process exit hook: only synchronous calls work here
    if (child && child.exitCode === null) { try { child.kill('SIGKILL'); } catch { /* gone */ } }
    if (pgStarted) {
      spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', pgdata, '-m', 'immediate', 'stop'], { timeout: 20000 });
      pgStarted = false;
    }
    if (!process.env.E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
  live.add(killSync);

  async function waitReady(timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    let healthy = false;
    let last = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`feedbackd serve exited early (${child.exitCode ?? child.signalCode}):\n${stack.serverLog().slice(-4000)}`);
      }
      try {
        const path_ = healthy ? '/readyz' : '/healthz';
        const r = await fetch(baseUrl + path_, { signal: AbortSignal.timeout(2000) });
        last = `${path_} ${r.status}`;
        await r.arrayBuffer();
        if (r.status === 200) {
          if (healthy) return;
          healthy = true;
          continue;
        }
      } catch (e) {
        last = String(e.cause?.code || e.message);
      }
      await sleep(100);
    }
    throw new Error(`feedbackd not ready within ${timeoutMs} ms (last: ${last}):\n${stack.serverLog().slice(-4000)}`);
  }

  stack.startServer = async function startServer() {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('feedbackd is already running');
    const log = fs.openSync(serverLogPath, 'a');
    fs.writeSync(log, `--- feedbackd serve (${new Date().toISOString()})\n`);
    child = spawn(bin, ['serve'], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const c = child;
    exited = new Promise((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })));
    await waitReady();
  };

  stack.stopServer = async function stopServer(timeoutMs = 15000) {
    if (!child) return { code: null, signal: null };
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const t = sleep(timeoutMs).then(() => null);
    let res = await Promise.race([exited, t]);
    if (res === null) {
      child.kill('SIGKILL');
      res = { ...(await exited), timedOut: true };
    }
    child = null;
    stack.lastExit = res;
    return res;
  };

  stack.stop = async function stop() {
    if (stopped) return stack.lastExit;
    stopped = true;
    let res = null;
    try { res = await stack.stopServer(); } catch { /* keep tearing down */ }
    if (pgStarted) {
      try { asPostgres([`${PG_BIN}/pg_ctl`, '-D', pgdata, '-m', 'fast', '-w', '-t', '30', 'stop']); } catch { /* below */ }
      pgStarted = false;
    }
    live.delete(killSync);
    if (!process.env.E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    return res;
  };

  stack.api = async function api(method, p, { key, body, headers = {} } = {}) {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    let payload;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
    const r = await fetch(baseUrl + p, { method, headers: h, body: payload, signal: AbortSignal.timeout(30000) });
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: r.status, json, text, headers: headersObject(r.headers) };
  };

  stack.psql = function psql(sql) {
    return asPostgres([`${PG_BIN}/psql`, '-h', dir, '-p', String(pgPort), '-U', 'postgres', '-d', 'postgres',
      '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  };

  let pgOpts = '';
  stack.stopDatabase = function stopDatabase() {
    asPostgres([`${PG_BIN}/pg_ctl`, '-D', pgdata, '-m', 'fast', '-w', '-t', '30', 'stop']);
    pgStarted = false;
  };
  stack.startDatabase = function startDatabase() {
    asPostgres([`${PG_BIN}/pg_ctl`, '-D', pgdata, '-l', path.join(dir, 'postgres.log'), '-o', pgOpts,
      '-w', '-t', '60', 'start'], { cwd: dir });
    pgStarted = true;
  };

  try {
    asPostgres([`${PG_BIN}/initdb`, '-D', pgdata, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
      '--locale=C', '--no-instructions'], { cwd: dir });
    pgOpts = `-c listen_addresses='' -k ${dir} -p ${pgPort}`;
    stack.startDatabase();

    cli(['migrate']);
    cli(['projects', 'create', stack.project, '--name', 'E2E', '--origins', baseUrl]);
    for (const scope of ['ingest', 'read', 'export', 'admin']) {
      const out = cli(['keys', 'create', '--project', stack.project, '--scopes', scope, '--label', `e2e-${scope}`]);
      const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
      if (lines.length !== 1 || /\s/.test(lines[0])) {
        throw new Error(`feedbackd keys create must print the key alone on one line, got:\n${out}`);
      }
      stack.keys[scope] = lines[0];
    }
    await stack.startServer();
  } catch (e) {
    await stack.stop().catch(() => {});
    throw e;
  }
  return stack;
}

process.once('exit', () => { for (const f of live) f(); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { for (const f of live) f(); process.exit(130); });
}
