// Smoke test of the demo provider, speaking to it directly as tokengate would: log in with the
// authorization code flow and PKCE, exchange the refresh token for the second API, then present
// the consumed refresh token again and check that the provider treats it as a reuse.
// It prints decoded claims (never a token) and exits 1 when a check fails, so it doubles as a
// check that provider.mjs still behaves the way the gateway's end-to-end tests rely on.
//
// Usage: node smoke.mjs [--spawn] [--issuer http://127.0.0.1:9400] [--gateway http://127.0.0.1:8080]
//          [--client-id tokengate-demo] [--client-secret demo-secret] [--login alice]
// --spawn starts its own provider.mjs (free port, --test-hooks) and stops it afterwards;
// without it, the provider at --issuer must run with --test-hooks.

import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const ORDERS = 'https://orders.demo';
const PROFILE = 'https://profile.demo';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function decodeJwt(jwt) {
  const [header, payload, signature] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url')),
    payload: JSON.parse(Buffer.from(payload, 'base64url')),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

let failures = 0;
function check(label, ok, detail = '') {
  if (!ok) failures += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${detail ? ` — ${detail}` : ''}`);
}

/** Just enough of a cookie jar for one provider origin. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(pair.slice(0, eq));
      else this.#cookies.set(pair.slice(0, eq), value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Follows redirects inside the provider until one leaves for the gateway's callback. */
async function browse(url, jar, init = {}, callbackPrefix) {
  let next = url;
  let request = init;
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await fetch(next, {
      ...request,
      redirect: 'manual',
      headers: { ...request.headers, cookie: jar.header() },
    });
    jar.store(response);
    const location = response.headers.get('location');
    if (!location) return { response, url: next };
    next = new URL(location, next).href;
    if (next.startsWith(callbackPrefix)) return { callback: new URL(next) };
    request = {};
  }
  throw new Error('too many redirects');
}

async function tokenRequest(config, opts, params) {
  const body = new URLSearchParams({
    ...params,
    client_id: opts['client-id'],
    client_secret: opts['client-secret'],
  });
  const response = await fetch(config.token_endpoint, { method: 'POST', body });
  return { status: response.status, json: await response.json() };
}

function verifySignature(jwt, jwks) {
  const { header, signingInput, signature } = decodeJwt(jwt);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'RS256') return false;
  return verify('sha256', Buffer.from(signingInput), createPublicKey({ key: jwk, format: 'jwk' }), signature);
}

function showClaims(label, jwt) {
  const { payload } = decodeJwt(jwt);
  const keep = ['iss', 'sub', 'aud', 'scope', 'client_id', 'exp', 'iat', 'sid', 'nonce', 'name', 'email'];
  console.log(`  ${label}: ${JSON.stringify(Object.fromEntries(keep.filter((k) => k in payload).map((k) => [k, payload[k]])))}`);
  return payload;
}

async function login(config, opts) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const redirectUri = `${opts.gateway}/auth/callback`;
  const authorize = new URL(config.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: opts['client-id'],
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    resource: ORDERS,
    state,
    nonce,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();

  const jar = new CookieJar();
  const form = await browse(authorize.href, jar, {}, redirectUri);
  const html = await form.response.text();
  const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1];
  check('authorization request shows the login form', form.response.status === 200 && !!action);
  if (!action) throw new Error('no login form');

  const submitted = await browse(new URL(action, form.url).href, jar, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login: opts.login, password: 'any' }).toString(),
  }, redirectUri);
  const callback = submitted.callback;
  check('login redirects to the gateway callback without a consent page', !!callback,
    callback ? '' : `stopped at ${submitted.url} with ${submitted.response.status}`);
  if (!callback) throw new Error('no callback');
  check('callback carries the same state', callback.searchParams.get('state') === state);
  return {
    code: callback.searchParams.get('code'), verifier, nonce, redirectUri,
  };
}

async function startProvider(opts) {
  const child = spawn(process.execPath, [new URL('provider.mjs', import.meta.url).pathname,
    '--port', '0', '--test-hooks', '--gateway', opts.gateway,
    '--client-id', opts['client-id'], '--client-secret', opts['client-secret']],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout })) {
    const ready = line.match(/^provider ready (\S+)$/);
    if (ready) return { child, issuer: ready[1] };
  }
  throw new Error('provider exited before it was ready');
}

async function run(opts, issuer) {
  const config = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const jwks = await (await fetch(config.jwks_uri)).json();
  console.log(`provider ${config.issuer}: token endpoint ${config.token_endpoint}`);

  const { code, verifier, nonce, redirectUri } = await login(config, opts);

  console.log('code exchange (no resource parameter, as at login time)');
  const first = await tokenRequest(config, opts, {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
  });
  check('code exchange answers 200', first.status === 200, JSON.stringify(first.status === 200 ? first.json.scope : first.json));
  if (first.status !== 200) return;
  const at = showClaims('access token', first.json.access_token);
  const idt = showClaims('id token', first.json.id_token);
  console.log(`  response scope: ${first.json.scope}, expires_in: ${first.json.expires_in}`);
  check('access token is a signed JWT for the orders API', verifySignature(first.json.access_token, jwks) && at.aud === ORDERS, `aud=${at.aud}`);
  check('access token scope is the orders scopes', at.scope === 'read:orders write:orders', at.scope);
  check('id token is signed, names the client, carries nonce and sid',
    verifySignature(first.json.id_token, jwks) && idt.aud === opts['client-id'] && idt.nonce === nonce && !!idt.sid);
  check('id token carries name and email', idt.name === `Demo User ${opts.login}` && idt.email === `${opts.login}@example.com`);
  check('a refresh token is issued', typeof first.json.refresh_token === 'string');

  console.log(`refresh for ${PROFILE} with scope read:profile`);
  const second = await tokenRequest(config, opts, {
    grant_type: 'refresh_token', refresh_token: first.json.refresh_token, resource: PROFILE, scope: 'read:profile',
  });
  check('refresh answers 200', second.status === 200, JSON.stringify(second.status === 200 ? second.json.scope : second.json));
  if (second.status !== 200) return;
  const profileAt = showClaims('access token', second.json.access_token);
  console.log(`  response scope: ${second.json.scope}, id_token: ${second.json.id_token ? 'yes' : 'no'}`);
  check('access token is for the profile API with read:profile', profileAt.aud === PROFILE && profileAt.scope === 'read:profile');
  check('the refresh token was rotated', typeof second.json.refresh_token === 'string' && second.json.refresh_token !== first.json.refresh_token);

  console.log('presenting the consumed refresh token again');
  const reuse = await tokenRequest(config, opts, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
  console.log(`  ${reuse.status} error=${reuse.json.error} error_description=${reuse.json.error_description}`);
  check('reuse answers invalid_grant', reuse.status === 400 && reuse.json.error === 'invalid_grant');
  const after = await tokenRequest(config, opts, { grant_type: 'refresh_token', refresh_token: second.json.refresh_token });
  check('the reuse revoked the grant: the newest refresh token is dead too', after.json.error === 'invalid_grant');

  const stats = await fetch(`${issuer}/__test/stats`);
  const counts = stats.status === 200 ? await stats.json() : null;
  console.log(`  /__test/stats: ${JSON.stringify(counts)}`);
  check('stats show the reuse and the revoked grant', counts?.reuse_detected >= 1 && counts?.revoked_grants >= 1);
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      spawn: { type: 'boolean', default: false },
      issuer: { type: 'string', default: 'http://127.0.0.1:9400' },
      gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
      'client-id': { type: 'string', default: 'tokengate-demo' },
      'client-secret': { type: 'string', default: 'demo-secret' },
      login: { type: 'string', default: 'alice' },
    },
    strict: true,
  });
  const spawned = opts.spawn ? await startProvider(opts) : undefined;
  try {
    await run(opts, spawned?.issuer ?? opts.issuer);
  } finally {
    if (spawned) {
      spawned.child.kill('SIGTERM');
      await once(spawned.child, 'exit');
    }
  }
  console.log(failures === 0 ? 'smoke: all checks passed' : `smoke: ${failures} check(s) failed`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`smoke: ${err.message}`);
  process.exitCode = 1;
});
