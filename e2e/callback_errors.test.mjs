// End-to-end: every way `/auth/callback` can fail answers its JSON error (400 for a bad or missing
// state or code, 502 for a provider failure) and never leaves a session behind
// (docs/reference.md#gateway-endpoints, #errors). Runs against the real gateway binary and the real
// OpenID provider; the invalid ID tokens come from the provider's `--test-hooks` switch
// `POST /__test/corrupt-id-token`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  COOKIE, CookieJar, beginLogin, callGatewayCallback, clearsCookie, login, startStack, stopAll,
  submitLoginForm, tail,
} from './harness.mjs';

let stack;
let gw;

before(async () => {
  stack = await startStack();
  gw = stack.gateway.url;
});
after(stopAll);

const log = (s = stack) => `\n--- gateway log ---\n${tail(s.gateway.stderr())}`;

/** Runs a login up to the provider's redirect back to the gateway; the callback is not called. */
async function reachCallback(gatewayUrl, user = 'erin') {
  const jar = new CookieJar();
  const begun = await beginLogin(jar, gatewayUrl);
  const callbackUrl = await submitLoginForm(jar, begun, user);
  return { jar, callbackUrl: new URL(callbackUrl) };
}

/**
 * Asserts the exact JSON error, that no `Set-Cookie` sets the session cookie (or a chunk of it)
 * to a value, and that the jar holds no session afterwards.
 */
async function assertFailure(jar, response, status, body, { gatewayUrl = gw, s = stack } = {}) {
  assert.equal(response.status, status, `status; body ${response.body}${log(s)}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(response.json(), body);
  const sessionSets = response.headers.getSetCookie()
    .filter((line) => new RegExp(`^${COOKIE}(\\.\\d+)?=`).test(line.trim()));
  for (const line of sessionSets) {
    assert.ok(clearsCookie(line), `a failed callback must not set a session: ${line.split('=')[0]}=…`);
  }
  assert.deepEqual(jar.sessionCookies(gatewayUrl), []);
  const session = await jar.fetch(`${gatewayUrl}/auth/session`);
  assert.equal(session.status, 401, 'no session after a failed callback');
}

test('missing state: 400 invalid_state', async () => {
  const { jar, callbackUrl } = await reachCallback(gw);
  callbackUrl.searchParams.delete('state');
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 400, { error: 'invalid_state' });
});

test('wrong state (well-formed, no matching transaction): 400 invalid_state', async () => {
  const { jar, callbackUrl } = await reachCallback(gw);
  callbackUrl.searchParams.set('state', 'AAAAAAAAAAAAAAAAAAAAAA');
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 400, { error: 'invalid_state' });
});

test('malformed state: 400 invalid_state', async () => {
  const { jar, callbackUrl } = await reachCallback(gw);
  callbackUrl.searchParams.set('state', 'x;y=z');
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 400, { error: 'invalid_state' });
});

test('no transaction cookie: 400 invalid_state', async () => {
  const { callbackUrl } = await reachCallback(gw);
  const fresh = new CookieJar();
  const response = await callGatewayCallback(fresh, callbackUrl.href);
  await assertFailure(fresh, response, 400, { error: 'invalid_state' });
});

test('missing code: 400 missing_code', async () => {
  const { jar, callbackUrl } = await reachCallback(gw);
  callbackUrl.searchParams.delete('code');
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 400, { error: 'missing_code' });
});

test('the provider reports an error: 400 login_failed with its code', async () => {
  const { jar, callbackUrl } = await reachCallback(gw);
  callbackUrl.searchParams.delete('code');
  callbackUrl.searchParams.set('error', 'access_denied');
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 400, { error: 'login_failed', detail: 'access_denied' });
});

test('replayed code with the same transaction cookie: 400 invalid_code, no session', async () => {
  const jar = new CookieJar();
  const begun = await beginLogin(jar, gw);
  const callbackUrl = await submitLoginForm(jar, begun, 'frank');
  const replayer = jar.clone(); // still holds the transaction cookie
  const first = await callGatewayCallback(jar, callbackUrl);
  assert.equal(first.status, 302, `first callback: ${first.body}${log()}`);
  const replay = await callGatewayCallback(replayer, callbackUrl);
  await assertFailure(replayer, replay, 400, { error: 'invalid_code' });
});

test('a login after a failed one still works (no leftover state)', async () => {
  const jar = await login(gw, 'gina');
  const session = await jar.fetch(`${gw}/auth/session`);
  assert.equal(session.status, 200);
  assert.equal(session.json().user.sub, 'gina');
});

test('ID token with a broken signature: 502 invalid_id_token', async (t) => {
  await stack.provider.corruptIdToken('signature');
  t.after(() => stack.provider.corruptIdToken('off'));
  const { jar, callbackUrl } = await reachCallback(gw);
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 502, { error: 'invalid_id_token', detail: 'invalid' });
});

test('ID token with another nonce (validly signed): 502 invalid_id_token', async (t) => {
  await stack.provider.corruptIdToken('nonce');
  t.after(() => stack.provider.corruptIdToken('off'));
  const { jar, callbackUrl } = await reachCallback(gw);
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 502, { error: 'invalid_id_token', detail: 'nonce' });
});

test('provider down at the callback: 502 provider_unavailable', async () => {
  // A stack of its own: this test stops its provider.
  const own = await startStack();
  const { jar, callbackUrl } = await reachCallback(own.gateway.url);
  await own.provider.stop();
  const response = await callGatewayCallback(jar, callbackUrl.href);
  await assertFailure(jar, response, 502, { error: 'provider_unavailable' },
    { gatewayUrl: own.gateway.url, s: own });
});
