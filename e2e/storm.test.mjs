// End-to-end: concurrency and rotation (docs/reference.md#concurrency-and-rotation) against the
// real provider with refresh-token rotation ON. That provider revokes the whole grant when a
// consumed refresh token is presented again, so a gateway that ever reuses a refresh token turns
// these 200s into 401s, and the provider's /__test/stats counts the reuse.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  COOKIE, ORDERS, PROFILE, login, setCookiesFor, sleep, startStack, stopAll, tail,
} from './harness.mjs';

/** A third route: another scope of the orders API (`write:orders`), same upstream. */
const writeRoute = ({ orders }) => [`
  - name: orders_write
    path_prefix: /api/orders-write
    upstream: "${orders.url}"
    strip_prefix: true
    audience: "${ORDERS}"
    scope: "write:orders"
`];

/** The three routes a "page" calls, with what their upstream must see. */
const ROUTES = [
  { path: '/api/orders/list', upstream: 'orders', aud: ORDERS, scope: 'read:orders' },
  { path: '/api/profile/me', upstream: 'profile', aud: PROFILE, scope: 'read:profile' },
  { path: '/api/orders-write/new', upstream: 'orders', aud: ORDERS, scope: 'write:orders' },
];

let stack;
let gw;

before(async () => {
  stack = await startStack({ rotation: true, extraRoutes: writeRoute });
  gw = stack.gateway.url;
});
after(stopAll);

const log = (s = stack) => `\n--- gateway log ---\n${tail(s.gateway.stderr(), 60)}`;

/**
 * Sends every `(jar, route)` request at once, each with the cookie its jar holds *now* (cookies
 * from the responses are not applied), and resolves with the responses in arrival order.
 */
async function burst(requests, gatewayUrl = gw) {
  const arrivals = [];
  await Promise.all(requests.map(async (request) => {
    const response = await request.jar.fetch(`${gatewayUrl}${request.route.path}`, { storeCookies: false });
    arrivals.push({ ...request, response });
  }));
  return arrivals;
}

/** Asserts every response is 200 and reached the right upstream with the right token. */
function assertAllServed(arrivals, s = stack) {
  const failed = arrivals.filter((a) => a.response.status !== 200);
  assert.equal(failed.length, 0,
    `${failed.length}/${arrivals.length} not 200: ${failed.slice(0, 5).map((a) => `${a.route.path} → ${a.response.status} ${a.response.body}`).join('; ')}${log(s)}`);
  for (const { route, response } of arrivals) {
    const seen = response.json();
    assert.equal(seen.upstream, route.upstream, route.path);
    const aud = Array.isArray(seen.token?.aud) ? seen.token.aud : [seen.token?.aud];
    assert.deepEqual(aud, [route.aud], `${route.path}: token audience`);
    assert.ok(String(seen.token.scope).split(' ').includes(route.scope), `${route.path}: scope ${seen.token.scope}`);
  }
}

/** Applies every session `Set-Cookie` of the responses to their jars, in arrival order. */
function applyCookies(arrivals, gatewayUrl = gw) {
  let applied = 0;
  for (const { jar, response } of arrivals) {
    for (const line of response.headers.getSetCookie()) {
      jar.apply(gatewayUrl, line);
      applied += 1;
    }
  }
  return applied;
}

function assertNoReuse(stats, s = stack) {
  assert.equal(stats.reuse_detected, 0, `the provider saw a refresh token reused: ${JSON.stringify(stats)}${log(s)}`);
  assert.equal(stats.revoked_grants, 0, `the provider revoked a grant: ${JSON.stringify(stats)}${log(s)}`);
}

test('30 parallel requests over three routes with one cookie: all 200, one refresh, no reuse; the merged cookies need no new refresh', async () => {
  const jar = await login(gw, 'storm');
  const before0 = await stack.provider.stats();

  const round1 = await burst(Array.from({ length: 30 }, (_, i) => ({ jar, route: ROUTES[i % 3] })));
  assertAllServed(round1);
  const after1 = await stack.provider.stats();
  assertNoReuse(after1);
  // Only the profile audience is not covered by the login token (granted read:orders write:orders):
  // the fifteen requests that need it must share one token-endpoint call.
  assert.equal(after1.refresh_grants - before0.refresh_grants, 1,
    `refresh grants during the burst: ${JSON.stringify(after1)}${log()}`);
  assert.equal(after1.refresh_errors, before0.refresh_errors);

  const applied = applyCookies(round1);
  assert.ok(applied >= 1, 'the session changed (rotated refresh token, new token): some response set the cookie');
  assert.ok(jar.sessionCookies(gw).length >= 1, 'the jar still holds a session after applying every Set-Cookie');

  const round2 = await burst(Array.from({ length: 30 }, (_, i) => ({ jar, route: ROUTES[i % 3] })));
  assertAllServed(round2);
  const after2 = await stack.provider.stats();
  assertNoReuse(after2);
  assert.equal(after2.refresh_grants, after1.refresh_grants,
    'whatever cookie arrived last holds every token: no new refresh grant');
  const rewritten = round2.filter((a) => setCookiesFor(a.response.headers, COOKIE).length > 0);
  assert.equal(rewritten.length, 0, 'nothing changed in round 2: no response sets the session cookie');
});

test('4 sessions × 3 routes in parallel: all 200, one refresh per session, no reuse', async () => {
  const users = ['s1', 's2', 's3', 's4'];
  const jars = await Promise.all(users.map((user) => login(gw, user)));
  const before0 = await stack.provider.stats();
  const arrivals = await burst(jars.flatMap((jar, i) => ROUTES.map((route) => ({ jar, route, user: users[i] }))));
  assertAllServed(arrivals);
  const after1 = await stack.provider.stats();
  assertNoReuse(after1);
  assert.equal(after1.refresh_grants - before0.refresh_grants, 4, JSON.stringify(after1));
  for (const { user, route, response } of arrivals) {
    assert.equal(response.json().token.sub, user, `${route.path}: each session gets its own user's token`);
  }
});

test('a cookie made stale by a rotation is served from the newer state and gets the newer cookie', async () => {
  const jar = await login(gw, 'stale');
  const stale = jar.clone(); // the cookie before the rotation below
  const rotated = await jar.fetch(`${gw}/api/profile/me`);
  assert.equal(rotated.status, 200, rotated.body);
  assert.ok(setCookiesFor(rotated.headers, COOKIE).length >= 1, 'the rotation changed the session cookie');
  const before0 = await stack.provider.stats();

  const response = await stale.fetch(`${gw}/api/profile/me`);
  assert.equal(response.status, 200, `stale cookie: ${response.body}${log()}`);
  assert.deepEqual([response.json().token?.aud].flat(), [PROFILE]);
  const after1 = await stack.provider.stats();
  assertNoReuse(after1);
  assert.equal(after1.refresh_grants, before0.refresh_grants, 'served from the newer state: no refresh');
  assert.ok(setCookiesFor(response.headers, COOKIE).length >= 1,
    'the stale request gets the newer cookie (docs/reference.md#concurrency-and-rotation)');

  // With the newer cookie applied, the same request needs nothing new.
  const again = await stale.fetch(`${gw}/api/profile/me`);
  assert.equal(again.status, 200, again.body);
  assert.equal((await stack.provider.stats()).refresh_grants, before0.refresh_grants);
});

test('a stale cookie that needs a new token refreshes with the newest refresh token, not its own', async () => {
  // Tokens usable for ~3 s (63 s lifetime, 60 s leeway), so the stale request must refresh.
  const own = await startStack({ rotation: true, accessTtl: 63, leeway: '60s' });
  const url = own.gateway.url;
  const jar = await login(url, 'stale2');
  const stale = jar.clone(); // holds the login refresh token
  const rotated = await jar.fetch(`${url}/api/profile/me`);
  assert.equal(rotated.status, 200, `${rotated.body}${log(own)}`);
  const before0 = await own.provider.stats();
  assert.equal(before0.refresh_grants, 1);

  await sleep(4000); // every token of the session is now inside the leeway
  const response = await stale.fetch(`${url}/api/profile/me`);
  assert.equal(response.status, 200, `stale cookie needing a refresh: ${response.body}${log(own)}`);
  const after1 = await own.provider.stats();
  assertNoReuse(after1, own);
  assert.equal(after1.refresh_grants, 2, `one new refresh with the rotated token: ${JSON.stringify(after1)}`);

  const fresh = await jar.fetch(`${url}/api/orders/list`);
  assert.equal(fresh.status, 200, `the up-to-date cookie still works: ${fresh.body}${log(own)}`);
  assertNoReuse(await own.provider.stats(), own);
});
