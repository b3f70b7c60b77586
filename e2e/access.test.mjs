// End-to-end: the access policy and identity of docs/reference.md#access-policy-and-identity
// against the real gateway binary and the real OpenID provider (demo/provider.mjs, whose users
// differ by login name: `admin*` is in `admins`; a login asked for the MFA level reaches it,
// except `nomfa*`). Checked here: who passes `require:`, identity headers and spoofed copies of
// them on every route kind, the signed assertion verified with the published JWKS by an
// independent library (`jose`), the step-up round trip (RFC 9470), and a reload that changes a
// policy for the sessions that exist.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import {
  CookieJar, ORDERS, PROFILE, ROOT, beginLogin, callGatewayCallback, login, sleep,
  startStack, stopAll, submitLoginForm, tail, tempDir,
} from './harness.mjs';

const MFA = 'urn:tokengate:demo:mfa';
const SPOOF = {
  'X-User': 'mallory',
  'X-User-Groups': 'admins',
  'X-Tokengate-Assertion': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.',
};

/** `jose`, from the demo's dependencies (an implementation independent of the gateway's). */
async function jose() {
  const require = createRequire(join(ROOT, 'demo', 'package.json'));
  return import(pathToFileURL(require.resolve('jose')).href);
}

function routes(adminGroups) {
  return ({ orders, profile }) => [`
  - name: admin
    path_prefix: /api/admin
    upstream: "${orders.url}"
    strip_prefix: true
    audience: "${ORDERS}"
    scope: "read:orders"
    require:
      groups: ${adminGroups}
      email: "*@example.com"
    identity_headers:
      X-User: sub
      X-User-Email: email
      X-User-Groups: groups
    identity_assertion: true
`, `
  - name: mfa
    path_prefix: /api/mfa
    upstream: "${profile.url}"
    strip_prefix: true
    audience: "${PROFILE}"
    scope: "read:profile"
    require:
      acr: "${MFA}"
    identity_headers:
      X-User-Acr: acr
`, `
  - name: me
    path_prefix: /api/me
    upstream: "${profile.url}"
    strip_prefix: true
    audience: "${PROFILE}"
`, `
  - name: open
    path_prefix: /open
    upstream: "${orders.url}"
    auth: optional
    identity_headers:
      X-User: sub
`, `
  - name: hooks
    path_prefix: /hooks
    upstream: "${orders.url}"
    auth: none
    csrf: false
`];
}

let stack;
let gw;

before(async () => {
  const dir = tempDir('tokengate-e2e-key-');
  const keyFile = join(dir, 'assertion.pem');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  stack = await startStack({
    extraRoutes: routes('admins'),
    serverExtra: `  assertion_key: "${keyFile}"\n`,
  });
  gw = stack.gateway.url;
});
after(stopAll);

const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

async function get(jar, path, headers = {}) {
  return jar.fetch(`${gw}${path}`, { headers });
}

test('an admin passes require:, the upstream gets identity headers and a verifiable assertion', async () => {
  const jar = await login(gw, 'admin-ann');
  const r = await get(jar, '/api/admin/x', SPOOF);
  assert.equal(r.status, 200, r.body + log());
  const seen = r.json().headers;
  assert.equal(seen['x-user'], 'admin-ann');
  assert.equal(seen['x-user-email'], 'admin-ann@example.com');
  assert.equal(seen['x-user-groups'], 'admins,staff');

  const { createRemoteJWKSet, jwtVerify } = await jose();
  const jwks = createRemoteJWKSet(new URL(`${gw}/.well-known/tokengate/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(seen['x-tokengate-assertion'], jwks, {
    issuer: gw, audience: new URL(stack.orders.url).origin, algorithms: ['ES256'], maxTokenAge: 60,
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.ok(protectedHeader.kid);
  assert.equal(payload.sub, 'admin-ann');
  assert.equal(payload.email, 'admin-ann@example.com');
  assert.deepEqual(payload.groups, ['admins', 'staff']);
  assert.ok(payload.exp - payload.iat <= 60);
  // Made for this upstream: another audience is refused.
  await assert.rejects(jwtVerify(seen['x-tokengate-assertion'], jwks, { audience: 'http://other.example' }));

  const keys = await fetch(`${gw}/.well-known/tokengate/jwks.json`);
  assert.equal(keys.headers.get('cache-control'), 'public, max-age=300');
});

test('another user is refused by name of the claim, never its value', async () => {
  const jar = await login(gw, 'bob');
  const r = await get(jar, '/api/admin/x');
  assert.equal(r.status, 403, r.body + log());
  assert.deepEqual(r.json(), { error: 'forbidden', detail: 'groups' });
  assert.ok(!stack.gateway.stderr().includes('"staff"'), 'a claim value in the log');
});

test('spoofed identity headers are removed on every route kind', async () => {
  const anonymous = new CookieJar();
  const bob = await login(gw, 'bob');
  for (const [jar, path] of [[anonymous, '/hooks/x'], [anonymous, '/open/x'], [bob, '/open/x'], [bob, '/hooks/x']]) {
    const r = await get(jar, path, SPOOF);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    const seen = r.json().headers;
    assert.ok([undefined, 'bob'].includes(seen['x-user']), `${path}: x-user ${seen['x-user']}`);
    assert.equal(seen['x-user-groups'], undefined, path);
    assert.equal(seen['x-tokengate-assertion'], undefined, path);
  }
});

test('step-up: 401 with acr_values, then a login at that level passes', async () => {
  const jar = await login(gw, 'carol');
  const first = await get(jar, '/api/mfa/x');
  assert.equal(first.status, 401, first.body + log());
  assert.deepEqual(first.json(), { error: 'insufficient_user_authentication', acr_values: MFA });
  assert.equal(first.headers.get('www-authenticate'),
    `Bearer error="insufficient_user_authentication", acr_values="${MFA}"`);

  await login(gw, 'carol', { jar, params: { acr_values: MFA, max_age: '0' } });
  const second = await get(jar, '/api/mfa/x');
  assert.equal(second.status, 200, second.body + log());
  assert.equal(second.json().headers['x-user-acr'], MFA);
});

test('a step-up the provider did not perform is refused at the callback', async () => {
  const jar = new CookieJar();
  const begun = await beginLogin(jar, gw, { params: { acr_values: MFA, max_age: '0' } });
  const callback = await callGatewayCallback(jar, await submitLoginForm(jar, begun, 'nomfa-dan'));
  assert.equal(callback.status, 403, callback.body);
  assert.deepEqual(callback.json(), { error: 'step_up_failed', detail: 'acr' });
  assert.equal(jar.sessionCookies(gw).length, 0);

  const bad = await jar.fetch(`${gw}/auth/login?acr_values=${encodeURIComponent('a"b')}`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json(), { error: 'invalid_parameter', detail: 'acr_values' });
  const badAge = await jar.fetch(`${gw}/auth/login?max_age=-1`);
  assert.deepEqual(badAge.json(), { error: 'invalid_parameter', detail: 'max_age' });
});

test('a refresh that brings a new ID token updates the claims the policy sees', async () => {
  const jar = await login(gw, 'frank');
  assert.equal((await get(jar, '/api/admin/x')).status, 403);
  await stack.provider.setGroups('frank', ['admins']);
  // Another audience, no scope: the gateway refreshes with the refresh token's whole scope
  // (openid included), so the provider's answer has a new ID token.
  const refreshed = await get(jar, '/api/me/x');
  assert.equal(refreshed.status, 200, refreshed.body + log());
  const r = await get(jar, '/api/admin/x');
  assert.equal(r.status, 200, r.body + log());
  assert.equal(r.json().headers['x-user-groups'], 'admins');
});

test('a reload that changes require: applies to existing sessions at once', async () => {
  const jar = await login(gw, 'erin');
  assert.equal((await get(jar, '/api/admin/x')).status, 403);
  const yaml = readFileSync(stack.gateway.config, 'utf8');
  writeFileSync(stack.gateway.config, yaml.replace('groups: admins', 'groups: [admins, staff]'));
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i += 1) {
    await sleep(100);
    status = (await get(jar, '/api/admin/x')).status;
  }
  assert.equal(status, 200, `the reload did not apply${log()}`);
});
