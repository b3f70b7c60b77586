// End-to-end: a provider that rotates refresh tokens only sometimes (every second refresh of a
// grant, `--rotation every-2nd`), the case a gateway cannot learn from what it observes
// (docs/reference.md#concurrency-and-rotation). Tokens live ~2 s, so every wave of parallel
// requests needs new tokens for both audiences at once; the provider revokes the grant on any
// refresh-token reuse, so every answer must stay 200 and its stats must count no reuse.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ORDERS, PROFILE, login, sleep, startStack, stopAll, tail } from './harness.mjs';

const ROUTES = [
  { path: '/api/orders/list', aud: ORDERS },
  { path: '/api/profile/me', aud: PROFILE },
];
const WAVES = 5;
const PER_WAVE = 20;

let stack;

before(async () => {
  stack = await startStack({ rotation: 'every-2nd', accessTtl: 3, leeway: '1s' });
});
after(stopAll);

test('conditional rotation: parallel waves needing new tokens for two audiences stay 200 with no refresh token reuse', async () => {
  const gw = stack.gateway.url;
  const jar = await login(gw, 'rotation');
  const before0 = await stack.provider.stats();
  for (let wave = 0; wave < WAVES; wave += 1) {
    await sleep(2200); // every token of the session is now inside the leeway
    const responses = await Promise.all(Array.from({ length: PER_WAVE }, (_, i) => {
      const route = ROUTES[i % ROUTES.length];
      return jar.fetch(`${gw}${route.path}`, { storeCookies: false }).then((response) => ({ route, response }));
    }));
    const failed = responses.filter((r) => r.response.status !== 200);
    assert.equal(failed.length, 0,
      `wave ${wave}: ${failed.map((f) => `${f.route.path} → ${f.response.status} ${f.response.body}`).slice(0, 3).join('; ')}\n${tail(stack.gateway.stderr(), 40)}`);
    for (const { route, response } of responses) {
      assert.deepEqual([response.json().token?.aud].flat(), [route.aud], route.path);
    }
    // The browser keeps the cookie of the last response to arrive.
    for (const { response } of responses) {
      for (const line of response.headers.getSetCookie()) jar.apply(gw, line);
    }
  }
  const stats = await stack.provider.stats();
  assert.equal(stats.reuse_detected, 0, JSON.stringify(stats));
  assert.equal(stats.revoked_grants, 0, JSON.stringify(stats));
  assert.equal(stats.refresh_errors, before0.refresh_errors, JSON.stringify(stats));
  // Two audiences per wave, each exchanged once: rotated and not-rotated answers both occurred.
  assert.ok(stats.refresh_grants - before0.refresh_grants >= 2 * WAVES, JSON.stringify(stats));
});
