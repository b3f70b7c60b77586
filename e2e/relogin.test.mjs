// End-to-end: a new login over an existing session (docs/reference.md#gateway-endpoints) against
// the real gateway binary and the real OpenID provider (oidc-provider, which keeps one grant per
// user and client and revokes it with a revoked refresh token). `/auth/login` ends the old
// session and revokes its refresh token before the provider sees the new authorization request,
// so the new login gets a grant of its own: the old refresh token is dead at the provider (the
// old cookie, at a second gateway sharing the session key, answers 401) and the new session
// keeps refreshing. A login link on another site (`Sec-Fetch-Site: cross-site`) revokes nothing
// at `/auth/login`; the callback still ends the old session here.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { freePort, login, startGateway, startStack, stopAll, tail } from './harness.mjs';

let stack;
let gw;
let twin;

before(async () => {
  // Every access token is inside the expiry leeway, so every token request is a refresh.
  stack = await startStack({ accessTtl: 30, leeway: '60s' });
  gw = stack.gateway.url;
  const port = await freePort();
  const yaml = stack.yaml.replaceAll(`127.0.0.1:${stack.gateway.port}`, `127.0.0.1:${port}`);
  twin = (await startGateway(yaml)).url;
});
after(stopAll);

const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

/** `GET path` at `base` with exactly the cookies `jar` holds for the first gateway. */
async function getWith(jar, base, path) {
  const response = await fetch(`${base}${path}`, {
    headers: { cookie: jar.header(`${gw}${path}`) },
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: await response.text() };
}

/** Several refreshes of the session in `jar` (each request refreshes), all answered 200. */
async function keepsRefreshing(jar, times) {
  const before = await stack.provider.stats();
  for (let i = 0; i < times; i += 1) {
    const r = await jar.fetch(`${gw}/api/profile/me`);
    assert.equal(r.status, 200, `refresh ${i + 1} of the new session: ${r.body}${log()}`);
  }
  const after = await stack.provider.stats();
  assert.ok(after.refresh_grants - before.refresh_grants >= times, JSON.stringify({ before, after }));
  assert.equal(after.refresh_errors, before.refresh_errors, JSON.stringify({ before, after }));
}

test('a new login revokes the old session\'s refresh token; the new session keeps refreshing', async () => {
  const jar = await login(gw, 'olga');
  assert.equal((await jar.fetch(`${gw}/api/orders/list`)).status, 200, log());
  const old = jar.clone();

  const revokedBefore = (await stack.provider.stats()).revoked_grants;
  await login(gw, 'olga', { jar, headers: { 'sec-fetch-site': 'same-origin' } });
  assert.ok((await stack.provider.stats()).revoked_grants > revokedBefore, 'the old grant was revoked');

  // The old session's refresh token is dead at the provider: the twin, which never heard of the
  // logout, presents it and gets invalid_grant.
  const stale = await getWith(old, twin, '/api/profile/me');
  assert.equal(stale.status, 401, `the old cookie at the twin: ${stale.body}`);
  assert.equal(JSON.parse(stale.body).error, 'session_expired');
  // And here, where the session was ended.
  const here = await getWith(old, gw, '/api/profile/me');
  assert.equal(here.status, 401, here.body);

  await keepsRefreshing(jar, 4);
});

test('a login from another site does not revoke at /auth/login; the callback still ends the old session', async () => {
  const jar = await login(gw, 'pavel');
  assert.equal((await jar.fetch(`${gw}/api/orders/list`)).status, 200, log());
  const old = jar.clone();
  const revokedBefore = (await stack.provider.stats()).revoked_grants;

  const start = await jar.fetch(`${gw}/auth/login`, {
    headers: { 'sec-fetch-site': 'cross-site' }, storeCookies: false,
  });
  assert.equal(start.status, 302, start.body);
  assert.ok(!start.headers.getSetCookie().some((c) => c.startsWith('tokengate=')),
    'the session cookie is not cleared by a cross-site /auth/login');
  assert.equal((await jar.fetch(`${gw}/api/orders/list`)).status, 200, 'the session still works');
  assert.equal((await stack.provider.stats()).revoked_grants, revokedBefore, 'nothing revoked');

  await login(gw, 'pavel', { jar, headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal((await stack.provider.stats()).revoked_grants, revokedBefore, 'nothing revoked');
  const here = await getWith(old, gw, '/api/profile/me');
  assert.equal(here.status, 401, `the old cookie after the new login: ${here.body}`);
  await keepsRefreshing(jar, 3);
});
