// End-to-end: login, token injection per route, the session endpoint and logout, against the
// real gateway binary and the real OpenID provider (docs/reference.md#gateway-endpoints,
// #proxying-a-request). A scripted browser (harness.mjs) drives the authorization code flow over
// plain HTTP.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  CLIENT_ID, COOKIE, JWT_PATTERN, ORDERS, PROFILE, CookieJar, beginLogin, callGatewayCallback,
  clearsCookie, freePort, jwtPayload, login, setCookiesFor, startGateway, startStack, stopAll,
  submitLoginForm, tail,
} from './harness.mjs';

let stack;
let gw;

before(async () => {
  stack = await startStack();
  gw = stack.gateway.url;
});
after(stopAll);

/** The gateway log's tail, appended to assertion messages so a failure shows what happened. */
const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

const audiences = (aud) => (Array.isArray(aud) ? aud : [aud]);
const scopes = (scope) => String(scope ?? '').split(' ').filter(Boolean);

/**
 * Asserts that no response the client received carries a token: no `access_token`,
 * `refresh_token` or `id_token` field names and no compact JWT, in any header or body.
 * `allowed(record, where)` exempts places where a token belongs on purpose (the logout
 * redirect's `id_token_hint`).
 */
function assertNoTokenSeen(jar, allowed = () => false) {
  for (const record of jar.responses) {
    const places = [['body', record.body], ...[...record.headers].map(([k, v]) => [`header ${k}`, v])];
    for (const [where, text] of places) {
      if (allowed(record, where)) continue;
      for (const needle of ['access_token', 'refresh_token', 'id_token']) {
        assert.ok(!text.includes(needle),
          `${record.method} ${record.url} → ${record.status}: ${where} contains "${needle}"`);
      }
      assert.ok(!JWT_PATTERN.test(text),
        `${record.method} ${record.url} → ${record.status}: ${where} contains a JWT`);
    }
  }
}

test('a full login: both routes get a token for their audience, the session names the user, no token reaches the client', async () => {
  const jar = await login(gw, 'alice');

  const { callback } = jar.lastLogin;
  assert.equal(new URL(callback.location, gw).href, `${gw}/`, 'no returnTo lands on /');
  const [sessionCookie] = setCookiesFor(callback.headers, COOKIE);
  assert.ok(sessionCookie, `the callback sets ${COOKIE}`);
  assert.match(sessionCookie, /;\s*HttpOnly/i);
  assert.match(sessionCookie, /;\s*SameSite=Lax/i);
  assert.match(sessionCookie, /;\s*Path=\//i);
  assert.doesNotMatch(sessionCookie, /;\s*Secure/i, 'public_url is http: no Secure attribute');

  const orders = await jar.fetch(`${gw}/api/orders/list`, {
    headers: { authorization: 'Bearer client-supplied', accept: 'application/json' },
  });
  assert.equal(orders.status, 200, `orders: ${orders.body}${log()}`);
  const seenByOrders = orders.json();
  assert.equal(seenByOrders.upstream, 'orders');
  assert.equal(seenByOrders.path, '/list', 'strip_prefix removes /api/orders');
  assert.ok(seenByOrders.token, 'the orders echo received a decodable Bearer JWT (the client\'s one was replaced)');
  assert.deepEqual(audiences(seenByOrders.token.aud), [ORDERS]);
  assert.ok(scopes(seenByOrders.token.scope).includes('read:orders'), seenByOrders.token.scope);
  assert.equal(seenByOrders.token.sub, 'alice');
  assert.equal(seenByOrders.token.client_id, CLIENT_ID);
  assert.ok(!/(^|;\s*)tokengate(\.\d+)?=/.test(seenByOrders.headers.cookie ?? ''),
    `the session cookie is not forwarded: ${seenByOrders.headers.cookie}`);
  assert.equal(seenByOrders.headers['x-forwarded-proto'], 'http');
  assert.equal(seenByOrders.headers['x-forwarded-host'], new URL(gw).host);
  assert.ok(seenByOrders.headers['x-forwarded-for'], 'X-Forwarded-For is set');

  const profile = await jar.fetch(`${gw}/api/profile/me`);
  assert.equal(profile.status, 200, `profile: ${profile.body}${log()}`);
  const seenByProfile = profile.json();
  assert.equal(seenByProfile.upstream, 'profile');
  assert.equal(seenByProfile.path, '/me');
  assert.deepEqual(audiences(seenByProfile.token?.aud), [PROFILE]);
  assert.ok(scopes(seenByProfile.token.scope).includes('read:profile'), seenByProfile.token.scope);
  assert.equal(seenByProfile.token.sub, 'alice');

  const session = await jar.fetch(`${gw}/auth/session`);
  assert.equal(session.status, 200, session.body);
  const info = session.json();
  assert.equal(info.authenticated, true);
  assert.deepEqual(info.user, { sub: 'alice', name: 'Demo User alice', email: 'alice@example.com' });
  assert.equal(typeof info.expires_at, 'number');
  assert.ok(info.expires_at > Date.now() / 1000, `expires_at ${info.expires_at} is in the future`);
  assert.deepEqual(Object.keys(info).sort(), ['authenticated', 'expires_at', 'sid', 'user']);
  assert.match(info.sid, /^[A-Za-z0-9_-]{22}$/, 'the logout sid (a derivation, not a token)');

  assertNoTokenSeen(jar);
});

test('logout clears the cookie, sends the browser to the provider\'s end_session, and revokes the refresh token', async () => {
  const jar = await login(gw, 'bob');
  const orders = await jar.fetch(`${gw}/api/orders/list`);
  assert.equal(orders.status, 200, `orders before logout: ${orders.body}${log()}`);
  const keptAside = jar.clone();

  const discovery = await (await fetch(`${stack.provider.url}/.well-known/openid-configuration`)).json();
  const logout = await jar.fetch(`${gw}/auth/logout`, { method: 'POST', headers: { origin: gw } });
  assert.equal(logout.status, 302, `logout: ${logout.body}${log()}`);
  const location = new URL(logout.location, gw);
  assert.equal(`${location.origin}${location.pathname}`, discovery.end_session_endpoint);
  const hint = location.searchParams.get('id_token_hint');
  assert.ok(hint, `id_token_hint in ${location.href.replace(JWT_PATTERN, '<jwt>')}`);
  const hintClaims = jwtPayload(hint);
  assert.equal(hintClaims.sub, 'bob');
  assert.equal(hintClaims.aud, CLIENT_ID);
  assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${gw}/`);

  const cleared = setCookiesFor(logout.headers, COOKIE);
  assert.equal(cleared.length, 1, `one Set-Cookie for ${COOKIE}: ${logout.headers.getSetCookie()}`);
  assert.ok(clearsCookie(cleared[0]), `the session cookie is cleared: ${cleared[0].split('=')[0]}=…`);
  assert.deepEqual(jar.sessionCookies(gw), []);

  const session = await jar.fetch(`${gw}/auth/session`);
  assert.equal(session.status, 401);
  assert.deepEqual(session.json(), { authenticated: false });

  // The old cookie still decrypts. This gateway process remembers that its session ended, so it
  // may refuse it outright (unauthenticated); either way it must not be served.
  const stale = await keptAside.fetch(`${gw}/api/profile/me`, { storeCookies: false });
  assert.equal(stale.status, 401, `old cookie after logout, new audience: ${stale.body}${log()}`);
  assert.ok(['unauthenticated', 'session_expired'].includes(stale.json().error), stale.body);

  // A gateway that never saw the logout (another replica, or this one after a restart) only has
  // the cookie: its refresh token must have been revoked at the provider by the logout.
  const twinPort = await freePort();
  const twin = await startGateway(stack.yaml.replaceAll(`127.0.0.1:${stack.gateway.port}`, `127.0.0.1:${twinPort}`));
  const revoked = await fetch(`${twin.url}/api/profile/me`, {
    headers: { cookie: keptAside.header(gw) }, redirect: 'manual', signal: AbortSignal.timeout(15_000),
  });
  const revokedBody = await revoked.text();
  assert.equal(revoked.status, 401,
    `old cookie at a gateway without the logout in memory: ${revokedBody}\n--- twin gateway log ---\n${tail(twin.stderr())}`);
  assert.deepEqual(JSON.parse(revokedBody), { error: 'session_expired' });
  const clearedByTwin = setCookiesFor(revoked.headers, COOKIE);
  assert.ok(clearedByTwin.length >= 1 && clearedByTwin.every(clearsCookie), 'the dead session\'s cookie is cleared');

  // The only token a client ever sees is the ID token in the logout redirect (id_token_hint).
  assertNoTokenSeen(jar, (record, where) => record.url === `${gw}/auth/logout` && where === 'header location');
  assertNoTokenSeen(keptAside);
});

for (const [returnTo, expected] of [['/x/y', '/x/y'], ['//evil.com', '/'], ['https://evil.com', '/'],
  ['/\\evil.com', '/']]) {
  test(`returnTo=${returnTo} lands on ${expected}`, async () => {
    const jar = await login(gw, 'carol', { returnTo });
    const { callback } = jar.lastLogin;
    assert.equal(callback.status, 302);
    assert.equal(new URL(callback.location, gw).href, `${gw}${expected}`,
      `callback Location: ${callback.location}`);
  });
}

test('two logins started in parallel in two tabs both complete', async () => {
  const jar = new CookieJar();
  const tabA = await beginLogin(jar, gw, { returnTo: '/tab-a' });
  const tabB = await beginLogin(jar, gw, { returnTo: '/tab-b' });
  assert.ok(tabA.form && tabB.form, 'both tabs show the provider\'s login form');
  const txCookies = jar.header(`${gw}/auth/callback`).split('; ').filter((c) => c.startsWith(`${COOKIE}-tx.`));
  assert.equal(txCookies.length, 2, 'each login has its own transaction cookie');

  const callbackA = await submitLoginForm(jar, tabA, 'dave');
  const callbackB = await submitLoginForm(jar, tabB, 'dave');
  const doneA = await callGatewayCallback(jar, callbackA);
  assert.equal(doneA.status, 302, `tab A callback: ${doneA.body}${log()}`);
  assert.equal(new URL(doneA.location, gw).pathname, '/tab-a');
  const doneB = await callGatewayCallback(jar, callbackB);
  assert.equal(doneB.status, 302, `tab B callback: ${doneB.body}${log()}`);
  assert.equal(new URL(doneB.location, gw).pathname, '/tab-b');

  const session = await jar.fetch(`${gw}/auth/session`);
  assert.equal(session.status, 200);
  assert.equal(session.json().user.sub, 'dave');
  const orders = await jar.fetch(`${gw}/api/orders/x`);
  assert.equal(orders.status, 200, orders.body);
  assert.deepEqual(audiences(orders.json().token?.aud), [ORDERS]);
});

test('a new login over an existing session ends the old one; the new one keeps refreshing', async () => {
  const jar = await login(gw, 'dave');
  const orders = await jar.fetch(`${gw}/api/orders/list`);
  assert.equal(orders.status, 200, `orders before the second login: ${orders.body}${log()}`);
  const keptAside = jar.clone();

  await login(gw, 'dave', { jar });
  const again = await jar.fetch(`${gw}/api/orders/list`);
  assert.equal(again.status, 200, `the new session works: ${again.body}${log()}`);
  // Another audience: the new session's refresh token must still be good at the provider (the
  // old one was revoked before the new login began; e2e/relogin.test.mjs checks both at length).
  const refreshed = await jar.fetch(`${gw}/api/profile/me`);
  assert.equal(refreshed.status, 200, `the new session refreshes: ${refreshed.body}${log()}`);

  const stale = await keptAside.fetch(`${gw}/api/profile/me`, { storeCookies: false });
  assert.equal(stale.status, 401, `old cookie after a new login: ${stale.body}${log()}`);
});
