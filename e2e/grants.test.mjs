// End-to-end: token grants per route (docs/reference.md#token-grants) against the real gateway
// binary and the real OpenID provider (demo/provider.mjs). `grant: client_credentials`: the
// gateway's own token, for an `auth: none` route and instead of the user's on a session route,
// as the upstream sees it; `grant: token_exchange` with the provider's minimal RFC 8693 grant.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  CLIENT_ID, ORDERS, PROFILE, login, startStack, stopAll, tail,
} from './harness.mjs';

const routes = ({ orders, profile }) => [`
  - name: machine
    path_prefix: /machine
    upstream: "${orders.url}"
    strip_prefix: true
    auth: none
    grant: client_credentials
    audience: "${ORDERS}"
    scope: "read:orders"
`, `
  - name: machine-user
    path_prefix: /machine-user
    upstream: "${orders.url}"
    strip_prefix: true
    grant: client_credentials
    audience: "${ORDERS}"
    scope: "read:orders"
    identity_headers:
      X-User: sub
`, `
  - name: exchanged
    path_prefix: /exchanged
    upstream: "${profile.url}"
    strip_prefix: true
    grant: token_exchange
    audience: "${PROFILE}"
    scope: "read:profile"
`];

let stack;
let gw;

before(async () => {
  stack = await startStack({ extraRoutes: routes });
  gw = stack.gateway.url;
});
after(stopAll);

const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

/** The claims of the token the upstream received (the echo decodes it; it never shows it). */
function tokenClaims(r) {
  const seen = r.json();
  assert.equal(seen.authorization_present, true, r.body);
  return seen.token;
}

async function fetchJson(url, init) {
  const r = await fetch(url, init);
  const body = await r.text();
  return { status: r.status, body, json: () => JSON.parse(body) };
}

test('client_credentials: the gateway\'s own token on an auth: none route, shared', async () => {
  const r = await fetchJson(`${gw}/machine/x`);
  assert.equal(r.status, 200, r.body + log());
  const claims = tokenClaims(r);
  assert.equal(claims.iss, stack.provider.url);
  assert.equal(claims.aud, ORDERS);
  assert.equal(claims.client_id, CLIENT_ID);
  assert.equal(claims.sub, CLIENT_ID, 'the client itself, no user');
  assert.equal(claims.scope, 'read:orders');
  const again = await fetchJson(`${gw}/machine/y`);
  assert.equal(tokenClaims(again).jti, claims.jti, 'cached: one token for the process');
});

test('client_credentials: sent instead of the user\'s token, identity from the session', async () => {
  const jar = await login(gw, 'ann');
  const r = await jar.fetch(`${gw}/machine-user/x`);
  assert.equal(r.status, 200, r.body + log());
  const claims = tokenClaims(r);
  assert.equal(claims.aud, ORDERS);
  assert.equal(claims.sub, CLIENT_ID, 'the gateway\'s token, not ann\'s');
  assert.equal(r.json().headers['x-user'], 'ann');
});

test('token_exchange: the login token is exchanged for the route\'s API, the refresh token untouched', async () => {
  const jar = await login(gw, 'bea');
  const before = await stack.provider.stats();
  const r = await jar.fetch(`${gw}/exchanged/x`);
  assert.equal(r.status, 200, r.body + log());
  const claims = tokenClaims(r);
  assert.equal(claims.iss, stack.provider.url);
  assert.equal(claims.aud, PROFILE);
  assert.equal(claims.sub, 'bea');
  assert.equal(claims.client_id, CLIENT_ID);
  assert.equal(claims.scope, 'read:profile');
  const again = await jar.fetch(`${gw}/exchanged/y`);
  assert.equal(tokenClaims(again).jti, claims.jti, 'cached in the session');
  const after = await stack.provider.stats();
  assert.equal(after.refresh_grants, before.refresh_grants, 'no refresh token presented');
  assert.equal(after.reuse_detected, 0);
});
