// The end-to-end harness: starts the real pieces of a tokengate deployment on 127.0.0.1 —
// the demo's OpenID provider (oidc-provider, demo/provider.mjs), echo upstreams, the demo page,
// and the gateway binary — wired like demo/routes.yaml on free ports.
//
// Every child process is registered and stopped by `stopAll()` (each test file calls it from an
// `after` hook); every wait is bounded, so a hung gateway fails a test instead of hanging the run.
// `node --test` runs each test file in its own process, so the registry is per file.
//
// The scripted browser (a per-origin cookie jar and the login) lives in scripted_browser.mjs and
// is re-exported here, so tests import everything from this module.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { COOKIE } from './scripted_browser.mjs';

export * from './scripted_browser.mjs';

/** The repository root (this file lives in `<root>/e2e/`). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO = join(ROOT, 'demo');

/** The gateway binary under test. */
export const GATEWAY_BIN = process.env.TOKENGATE_BIN ?? join(ROOT, 'target', 'debug', 'tokengate');

export const CLIENT_ID = 'tokengate-demo';
export const CLIENT_SECRET = 'demo-secret';
export const ORDERS = 'https://orders.demo';
export const PROFILE = 'https://profile.demo';

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

const children = new Set();
const tempDirs = new Set();

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Rejects after `ms` with `message`, unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Spawns a child whose stdout and stderr are captured (bounded to the last 2 MB each).
 * Returns `{ child, output(), exited }`; the child is stopped by `stopAll()`.
 */
function spawnTracked(name, command, args, { stopSignal = 'SIGTERM', ...options } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const captured = { stdout: '', stderr: '' };
  const keep = (stream, key) => {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      captured[key] = (captured[key] + chunk).slice(-2_000_000);
      if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
    });
  };
  keep(child.stderr, 'stderr');
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const entry = { name, child, exited, stopSignal };
  children.add(entry);
  exited.then(() => children.delete(entry));
  return {
    child,
    exited,
    captured,
    stderr: () => captured.stderr,
    async stop() { await stopChild(entry); },
  };
}

async function stopChild({ child, exited, stopSignal }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(stopSignal);
  const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
  }
}

/** Stops every child this file started, and removes temporary files. For `after` hooks. */
export async function stopAll() {
  await Promise.all([...children].map(stopChild));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A fresh temporary directory, removed by `stopAll()`. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Resolves with the first stdout line matching `pattern` (its match), bounded. */
async function waitForLine(proc, pattern, what) {
  const lines = createInterface({ input: proc.child.stdout });
  const found = (async () => {
    for await (const line of lines) {
      proc.captured.stdout += `${line}\n`;
      const match = line.match(pattern);
      if (match) return match;
    }
    const { code, signal } = await proc.exited;
    throw new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready:\n${proc.stderr().slice(-2000)}`);
  })();
  try {
    return await withTimeout(found, STARTUP_TIMEOUT_MS, `${what} did not print its ready line`);
  } finally {
    // Keep draining stdout so the child never blocks on a full pipe.
    proc.child.stdout.resume();
  }
}

function tcpAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

/**
 * Starts demo/provider.mjs with its test hooks on a free port. `gateway` is the gateway's public
 * URL (the provider registers its callback and post-logout URL from it). `userinfoClaims`: claims
 * (name → string) only its userinfo endpoint answers, never its ID tokens.
 */
export async function startProvider({ gateway, rotation = true, accessTtl, userinfoClaims = {} } = {}) {
  if (!gateway) throw new Error('startProvider needs the gateway URL');
  const port = await freePort();
  const args = [join(DEMO, 'provider.mjs'), '--port', String(port), '--gateway', gateway,
    '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--test-hooks'];
  // `rotation`: true (always), false (never), or a `--rotation` mode such as 'every-2nd'.
  if (rotation === false) args.push('--no-rotation');
  else if (typeof rotation === 'string') args.push('--rotation', rotation);
  if (accessTtl !== undefined) args.push('--access-ttl', String(accessTtl));
  for (const [name, value] of Object.entries(userinfoClaims)) {
    args.push('--userinfo-claim', `${name}=${value}`);
  }
  const proc = spawnTracked('provider', process.execPath, args, { cwd: DEMO });
  const [, url] = await waitForLine(proc, /^provider ready (\S+)$/, 'provider');
  return {
    url,
    stderr: proc.stderr,
    stop: proc.stop,
    /** The provider's refresh-grant counters (GET /__test/stats). */
    async stats() {
      const response = await fetch(`${url}/__test/stats`, { signal: AbortSignal.timeout(5000) });
      if (response.status !== 200) throw new Error(`provider stats answered ${response.status}`);
      return response.json();
    },
    /** Changes `sub`'s groups at the provider (the ID tokens issued from now on carry them). */
    async setGroups(sub, groups) {
      const query = new URLSearchParams({ sub, groups: groups.join(',') });
      const response = await fetch(`${url}/__test/groups?${query}`, {
        method: 'POST', signal: AbortSignal.timeout(5000),
      });
      if (response.status !== 200) throw new Error(`groups answered ${response.status}`);
    },
    /** Makes the token endpoint's ID tokens invalid: 'signature', 'nonce', or 'off'. */
    async corruptIdToken(mode) {
      const response = await fetch(`${url}/__test/corrupt-id-token?mode=${mode}`, {
        method: 'POST', signal: AbortSignal.timeout(5000),
      });
      if (response.status !== 200) throw new Error(`corrupt-id-token answered ${response.status}`);
    },
  };
}

/** Starts demo/echo.mjs named `name` on a free port. */
export async function startEcho(name) {
  const port = await freePort();
  const proc = spawnTracked(`echo-${name}`, process.execPath,
    [join(DEMO, 'echo.mjs'), '--port', String(port), '--name', name], { cwd: DEMO });
  const [, url] = await waitForLine(proc, /^echo \S+ ready (\S+)$/, `echo ${name}`);
  return { name, url, stop: proc.stop };
}

/** Starts demo/static.mjs (the demo page) on a free port. */
export async function startStatic() {
  const port = await freePort();
  const proc = spawnTracked('static', process.execPath,
    [join(DEMO, 'static.mjs'), '--port', String(port)], { cwd: DEMO });
  const [, url] = await waitForLine(proc, /^static ready (\S+)$/, 'static');
  return { url, stop: proc.stop };
}

/** A fresh session key from `tokengate keygen`. */
export function keygen() {
  return new Promise((resolve, reject) => {
    execFile(GATEWAY_BIN, ['keygen'], { timeout: 10_000 }, (error, stdout) => {
      const key = stdout.trim();
      if (error) reject(new Error(`tokengate keygen failed: ${error.message}`));
      else if (!/^[A-Za-z0-9_-]{43}$/.test(key)) reject(new Error(`tokengate keygen printed ${JSON.stringify(key)}`));
      else resolve(key);
    });
  });
}

/**
 * Writes `yamlText` to a temporary file and runs `tokengate run --config` on it; resolves once
 * the `server.listen` port accepts connections (bounded to 20 s). `stderr()` is the gateway's log.
 */
export async function startGateway(yamlText) {
  const listen = yamlText.match(/^\s*listen:\s*"?127\.0\.0\.1:(\d+)"?\s*$/m);
  if (!listen) throw new Error('startGateway: the config needs server.listen on 127.0.0.1:<port>');
  const port = Number(listen[1]);
  const dir = tempDir('tokengate-e2e-');
  const config = join(dir, 'routes.yaml');
  writeFileSync(config, yamlText);
  // SIGINT: pingora's fast shutdown. On SIGTERM an idle pingora server still sleeps through its
  // whole grace period (30 s) before exiting, which would only slow the tests down.
  const proc = spawnTracked('gateway', GATEWAY_BIN, ['run', '--config', config], {
    stopSignal: 'SIGINT',
    cwd: dir,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });
  proc.child.stdout.resume();
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`gateway exited (code ${proc.child.exitCode}) before listening:\n${proc.stderr().slice(-3000)}`);
    }
    if (await tcpAnswers(port)) break;
    if (Date.now() > deadline) {
      throw new Error(`gateway did not listen on ${port} within ${STARTUP_TIMEOUT_MS} ms:\n${proc.stderr().slice(-3000)}`);
    }
    await sleep(100);
  }
  return { url: `http://127.0.0.1:${port}`, port, config, stderr: proc.stderr, stop: proc.stop };
}

/**
 * The demo's routes.yaml with ephemeral ports. `extraRoutes` are YAML route items (strings,
 * already indented as list items) inserted before the catch-all page route. `loginAudience`:
 * the login's audience (`null`: none, the login token then serves the userinfo endpoint);
 * `providerExtra`: lines added to `provider:` (indented).
 */
export function demoConfig({
  gatewayPort, providerUrl, sessionKey, orders, profile, page, extraRoutes = [], leeway = '60s',
  serverExtra = '', loginAudience = ORDERS, providerExtra = '',
}) {
  const pageRoute = page ? `
  - name: app
    path_prefix: /
    upstream: "${page}"
    auth: optional
` : '';
  return `server:
  listen: "127.0.0.1:${gatewayPort}"
  public_url: "http://127.0.0.1:${gatewayPort}"
  threads: 2
${serverExtra}
provider:
  issuer: "${providerUrl}"
  client_id: "${CLIENT_ID}"
  client_secret: "${CLIENT_SECRET}"
  client_auth: client_secret_post
  resource_param: resource
  login:
    scope: "openid profile email offline_access"
${loginAudience ? `    audience: "${loginAudience}"\n` : ''}  timeout: 5s
${providerExtra}
session:
  cookie_name: ${COOKIE}
  keys: ["${sessionKey}"]

tokens:
  expiry_leeway: ${leeway}

routes:
  - name: orders
    path_prefix: /api/orders
    upstream: "${orders}"
    strip_prefix: true
    audience: "${ORDERS}"
    scope: "read:orders"

  - name: profile
    path_prefix: /api/profile
    upstream: "${profile}"
    strip_prefix: true
    audience: "${PROFILE}"
    scope: "read:profile"
${extraRoutes.join('\n')}${pageRoute}`;
}

/**
 * Provider, two echo APIs (orders, profile), optionally the demo page, and the gateway, wired
 * like demo/routes.yaml on free ports. `extraRoutes` is an array of YAML route items or a
 * function of `{ orders, profile }` (the echoes, for their URLs) returning one.
 */
export async function startStack({
  rotation = true, accessTtl, withPage = false, extraRoutes, leeway, serverExtra,
  userinfoClaims, loginAudience, providerExtra,
} = {}) {
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const [provider, orders, profile, page, sessionKey] = await Promise.all([
    startProvider({ gateway: gatewayUrl, rotation, accessTtl, userinfoClaims }),
    startEcho('orders'),
    startEcho('profile'),
    withPage ? startStatic() : Promise.resolve(undefined),
    keygen(),
  ]);
  const yaml = demoConfig({
    gatewayPort,
    providerUrl: provider.url,
    sessionKey,
    orders: orders.url,
    profile: profile.url,
    page: page?.url,
    extraRoutes: typeof extraRoutes === 'function' ? extraRoutes({ orders, profile }) : extraRoutes,
    leeway,
    serverExtra,
    loginAudience,
    providerExtra,
  });
  const gateway = await startGateway(yaml);
  return { gateway, provider, orders, profile, page, yaml };
}
