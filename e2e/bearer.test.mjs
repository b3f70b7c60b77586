// End-to-end: a machine client with its own access token (docs/reference.md#machine-clients)
// against the real gateway binary and the real OpenID provider (demo/provider.mjs), which issues
// JWT access tokens (RS256, its published JWKS) for a resource through client_credentials.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CLIENT_ID, CLIENT_SECRET, ORDERS, PROFILE, startStack, stopAll, tail } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({
    extraRoutes: ({ orders, profile }) => [`
  - name: machine-orders
    path_prefix: /m/orders
    upstream: "${orders.url}"
    strip_prefix: true
    audience: "${ORDERS}"
    scope: "read:orders"
    bearer: accept
`, `
  - name: machine-write
    path_prefix: /m/write
    upstream: "${orders.url}"
    strip_prefix: true
    audience: "${ORDERS}"
    scope: "write:orders"
    bearer: accept
`, `
  - name: machine-profile
    path_prefix: /m/profile
    upstream: "${profile.url}"
    strip_prefix: true
    audience: "${PROFILE}"
    scope: "read:profile"
    bearer: accept
`],
  });
});
after(stopAll);

const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

/** A client_credentials access token for `resource` with `scope`, from the provider. */
async function machineToken(resource, scope) {
  const meta = await (await fetch(`${stack.provider.url}/.well-known/openid-configuration`)).json();
  const response = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      resource,
      scope,
    }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.access_token.split('.').length, 3, 'a JWT access token');
  return body.access_token;
}

function call(path, token) {
  return fetch(`${stack.gateway.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10000),
  });
}

test('a provider-issued JWT access token is accepted, checked per route, and forwarded', async () => {
  const token = await machineToken(ORDERS, 'read:orders');
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

  const ok = await call('/m/orders/list', token);
  assert.equal(ok.status, 200, log());
  const seen = await ok.json();
  assert.deepEqual(seen.token, payload, 'the upstream received the client token unchanged');
  // A POST needs no CSRF proof with a client token.
  const post = await fetch(`${stack.gateway.url}/m/orders/list`, {
    method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}',
  });
  assert.equal(post.status, 200, log());

  // Scope short on another route of the same audience.
  const short = await call('/m/write/x', token);
  assert.equal(short.status, 403);
  assert.equal(short.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"');
  assert.deepEqual(await short.json(), { error: 'insufficient_scope', missing: 'write:orders' });

  // Another audience.
  const other = await call('/m/profile/x', token);
  assert.equal(other.status, 401);
  assert.equal(other.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  assert.deepEqual(await other.json(), { error: 'invalid_token' });

  // One byte of the signature changed.
  const [h, p, sig] = token.split('.');
  const flipped = `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  const forged = await call('/m/orders/x', flipped);
  assert.equal(forged.status, 401);
});
