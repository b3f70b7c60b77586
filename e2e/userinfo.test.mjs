// End-to-end: `provider.userinfo: true` (docs/reference.md#access-policy-and-identity) against the
// real gateway binary and the real OpenID provider (demo/provider.mjs). The provider gives every
// user a claim that only its userinfo endpoint answers (`--userinfo-claim`), never the ID token;
// the login has no audience, so its access token is the one the userinfo endpoint accepts (as
// with Auth0). A route's `require:` on that claim passes only when the gateway read userinfo.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { login, sleep, startStack, stopAll, tail } from './harness.mjs';

const USERINFO_ONLY = { department: 'research' };

function routes({ profile }) {
  return [`
  - name: research
    path_prefix: /api/research
    upstream: "${profile.url}"
    strip_prefix: true
    require:
      department: research
    identity_headers:
      X-User-Department: department
`];
}

let withUserinfo;
let withoutUserinfo;

before(async () => {
  const common = { extraRoutes: routes, userinfoClaims: USERINFO_ONLY, loginAudience: null };
  // One after the other: two stacks starting at once on a busy machine can miss the harness's
  // startup bound.
  // Short-lived login tokens, so that a test can make the gateway refresh (and get a new ID token,
  // which never carries the userinfo-only claim).
  withUserinfo = await startStack({
    ...common, providerExtra: '  userinfo: true\n', accessTtl: 3, leeway: '1s',
  });
  withoutUserinfo = await startStack(common);
});
after(stopAll);

const log = (stack) => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

test('with provider.userinfo: true, a require: on a userinfo-only claim passes', async () => {
  const gw = withUserinfo.gateway.url;
  const jar = await login(gw, 'ursula');
  const r = await jar.fetch(`${gw}/api/research/x`);
  assert.equal(r.status, 200, r.body + log(withUserinfo));
  assert.equal(r.json().headers['x-user-department'], 'research');
  assert.ok(!withUserinfo.gateway.stderr().includes('research"'), 'a claim value in the log');
});

test('without it, the same claim is unknown to the gateway: 403 naming the claim', async () => {
  const gw = withoutUserinfo.gateway.url;
  const jar = await login(gw, 'ursula');
  const r = await jar.fetch(`${gw}/api/research/x`);
  assert.equal(r.status, 403, r.body + log(withoutUserinfo));
  assert.equal(r.json().error, 'forbidden');
  assert.equal(r.json().detail, 'department');
});

test('a refresh that brings a new ID token keeps the claim only userinfo gave', async () => {
  const gw = withUserinfo.gateway.url;
  const jar = await login(gw, 'ursula');
  assert.equal((await jar.fetch(`${gw}/api/research/x`)).status, 200, log(withUserinfo));
  await sleep(2200); // the login token is now inside the 1 s leeway: the next request refreshes
  const refreshed = await jar.fetch(`${gw}/api/research/x`);
  assert.equal(refreshed.status, 200, refreshed.body + log(withUserinfo));
  assert.ok(refreshed.headers.get('set-cookie'), 'the refresh changed the session');
  const after = await jar.fetch(`${gw}/api/research/x`);
  assert.equal(after.status, 200, after.body + log(withUserinfo));
  assert.equal(after.json().headers['x-user-department'], 'research');
});
