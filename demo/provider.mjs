// The demo's OpenID provider: oidc-provider 9.x configured to behave like Auth0 with
// multi-resource refresh tokens (MRRT), so that tokengate can be shown and tested against a
// real provider on this machine.
//
// What matters for tokengate, and why it is configured this way:
// - Two APIs are resource indicators (RFC 8707) with JWT access tokens, so the gateway must
//   exchange its refresh token per audience, exactly as with Auth0.
// - oidc-provider only lets a refresh name a resource (and scopes) that the *authorization*
//   request named; Auth0's MRRT policy has no such limit. A middleware in front of the
//   authorization endpoint therefore widens every authorization request to every API and scope.
// - Refresh tokens rotate on every use and a reused one revokes the whole grant: the behaviour
//   that punishes a gateway which presents the same refresh token twice.
// - The client may also use client_credentials (the gateway's own token for a route with
//   `grant: client_credentials`), with a resource indicator naming the API, and a minimal RFC
//   8693 token exchange (`registerTokenExchange`) for routes with `grant: token_exchange`.
// - With --test-hooks, GET /__test/stats counts refresh grants, errors, reuse and revocations,
//   so end-to-end tests can assert that the gateway never reused a token; and
//   POST /__test/groups?sub=&groups=a,b changes a user's groups for the ID tokens to come; and
//   POST /__test/corrupt-id-token?mode=signature|nonce|off makes the token endpoint answer with
//   an ID token that a correct relying party must reject (broken signature, or a validly signed
//   token with a wrong nonce) until mode=off, so tests can check the gateway refuses the login.
//
// - A token request that names no resource (a login without audience) gets an access token for
//   the userinfo endpoint, as with Auth0; --userinfo-claim NAME=VALUE (repeatable) gives every
//   user a claim that only the userinfo endpoint answers (never the ID token), so that a relying
//   party's use of userinfo can be told apart from its use of the ID token.
//
// - Users differ by login name (`findAccount`): `admin*` is in the `admins` group; a login asked
//   for acr_values=urn:tokengate:demo:mfa reaches that level (`loginWithAcr`), except `nomfa*`.
//   That is what the gateway's access policy and step-up are shown and tested with.
//
// Usage: node provider.mjs [--port 9400] [--gateway http://127.0.0.1:8080]
//          [--client-id tokengate-demo] [--client-secret demo-secret]
//          [--access-ttl 300] [--no-rotation | --rotation always|every-2nd]
//          [--test-hooks [--latency-ms 0]] [--userinfo-claim NAME=VALUE ...]
// --rotation every-2nd rotates on every second refresh of a grant only, like a provider that
// rotates conditionally (oidc-provider's default rotates late in a token's life).
// --port 0 picks a free port; the ready line on stdout names the one in use.

import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

/** The APIs the demo protects, keyed by resource indicator; the value is its scopes. */
const APIS = {
  'https://orders.demo': 'read:orders write:orders',
  'https://profile.demo': 'read:profile',
};

/** What every login is widened to, so the refresh token can later serve every API. */
const LOGIN_OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

const HOST = '127.0.0.1';

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '9400' },
      gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
      'client-id': { type: 'string', default: 'tokengate-demo' },
      'client-secret': { type: 'string', default: 'demo-secret' },
      'access-ttl': { type: 'string', default: '300' },
      'no-rotation': { type: 'boolean', default: false },
      rotation: { type: 'string', default: 'always' },
      'test-hooks': { type: 'boolean', default: false },
      'latency-ms': { type: 'string', default: '0' },
      'userinfo-claim': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const port = Number(values.port);
  const accessTtl = Number(values['access-ttl']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}`);
  }
  if (!Number.isInteger(accessTtl) || accessTtl <= 0) {
    throw new Error(`--access-ttl must be a positive number of seconds, got ${values['access-ttl']}`);
  }
  const latencyMs = Number(values['latency-ms']);
  if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    throw new Error(`--latency-ms must be an integer 0..60000, got ${values['latency-ms']}`);
  }
  if (!['always', 'every-2nd'].includes(values.rotation)) {
    throw new Error(`--rotation must be always or every-2nd, got ${values.rotation}`);
  }
  if (latencyMs > 0 && !values['test-hooks']) {
    throw new Error('--latency-ms is a test hook: it needs --test-hooks');
  }
  return {
    userinfoClaims: parseUserinfoClaims(values['userinfo-claim']),
    port,
    gateway: values.gateway.replace(/\/+$/, ''),
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    accessTtl,
    rotation: values['no-rotation'] ? 'never' : values.rotation,
    testHooks: values['test-hooks'],
    latencyMs,
  };
}

/** `--userinfo-claim NAME=VALUE` values as an object of claims. */
function parseUserinfoClaims(pairs) {
  const claims = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--userinfo-claim must be NAME=VALUE, got ${pair}`);
    claims[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return claims;
}

/** A fresh RS256 signing key per start: tokens from an earlier run must not verify. */
function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `demo-${Date.now().toString(36)}`, use: 'sig', alg: 'RS256' }] };
}

/** The authentication levels the demo's login can reach (`acr`); see `loginWithAcr`. */
const ACR_PASSWORD = 'urn:tokengate:demo:pwd';
const ACR_MFA = 'urn:tokengate:demo:mfa';

/**
 * The demo's users are whatever login name is typed; their claims follow from it, so that two
 * users differ in what a route's `require:` sees: a name starting with `admin` is in the
 * `admins` group, everyone is in `staff`.
 */
/** Test hook: groups set by POST /__test/groups?sub=..&groups=a,b, over the name's defaults. */
const groupOverrides = new Map();

function findAccount(_ctx, sub) {
  const groups = groupOverrides.get(sub) ?? (sub.startsWith('admin') ? ['admins', 'staff'] : ['staff']);
  return {
    accountId: sub,
    async claims() {
      return { sub, name: `Demo User ${sub}`, email: `${sub}@example.com`, groups };
    },
  };
}

/** `findAccount` whose userinfo answers (`use` "userinfo", not "id_token") add `userinfoClaims`. */
function accountsWithUserinfoClaims(userinfoClaims) {
  return async function find(ctx, sub) {
    const account = findAccount(ctx, sub);
    return {
      ...account,
      async claims(use, scope) {
        const claims = await account.claims(use, scope);
        return use === 'userinfo' ? { ...claims, ...userinfoClaims } : claims;
      },
    };
  };
}

/**
 * The login form's submission with an authentication level: a login the client asked to reach
 * `ACR_MFA` (`acr_values`) gets it, as if a second factor had been checked, unless the login name
 * starts with `nomfa` (a user without a second factor); every other login is `ACR_PASSWORD`.
 * This replaces the devInteractions submit for the login prompt only.
 */
function loginWithAcr(provider) {
  return async function login(ctx, next) {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) {
      await next();
      return;
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login') {
      await next();
      return;
    }
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const accountId = form.get('login') || 'user';
    const asked = splitList(details.params.acr_values);
    const mfa = asked.includes(ACR_MFA) && !accountId.startsWith('nomfa');
    const acr = mfa ? ACR_MFA : ACR_PASSWORD;
    const amr = mfa ? ['pwd', 'otp'] : ['pwd'];
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId, acr, amr } }, {
      mergeWithLastSubmission: false,
    });
  };
}

/**
 * Consent is never asked: the demo's user has already agreed to everything the client may
 * request. A grant that no longer exists (revoked after a refresh-token reuse) or belongs to
 * another account is replaced by a fresh full one.
 */
async function loadExistingGrant(ctx) {
  const { Grant } = ctx.oidc.provider;
  const { clientId } = ctx.oidc.client;
  const { accountId } = ctx.oidc.session;
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
  const existing = grantId ? await Grant.find(grantId) : undefined;
  if (existing && existing.accountId === accountId) {
    return existing;
  }
  const grant = new Grant({ clientId, accountId });
  grant.addOIDCScope(LOGIN_OIDC_SCOPES.join(' '));
  for (const [resource, scope] of Object.entries(APIS)) {
    grant.addResourceScope(resource, scope);
  }
  await grant.save();
  return grant;
}

/** RP-initiated logout without a confirmation page: the confirmation form submits itself. */
async function logoutSource(ctx, form) {
  const autoForm = form.replace(
    '</form>',
    '<input type="hidden" name="logout" value="yes"/></form>',
  );
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signing out</title></head>
<body>${autoForm}<p>Signing out…</p>
<script>document.getElementById('op.logoutForm').submit();</script></body></html>`;
}

function splitList(value) {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(' ')).filter(Boolean);
}

/**
 * Auth0-like MRRT: widen every authorization request to every API and API scope, plus
 * offline_access. The resources the client asked for stay first, so `defaultResource` keeps
 * answering the code exchange with the client's own login audience.
 */
function widenAuthorizationRequests(authorizationPath) {
  return async function widen(ctx, next) {
    if (ctx.method === 'GET' && ctx.path === authorizationPath) {
      const query = { ...ctx.query };
      const resources = new Set(Array.isArray(query.resource) ? query.resource : [query.resource].filter(Boolean));
      const scopes = new Set(splitList(query.scope));
      scopes.add('offline_access');
      for (const [resource, scope] of Object.entries(APIS)) {
        resources.add(resource);
        splitList(scope).forEach((s) => scopes.add(s));
      }
      query.resource = [...resources];
      query.scope = [...scopes].join(' ');
      ctx.query = query;
    }
    await next();
  };
}

const TAMPER_MODES = new Set(['off', 'signature', 'nonce']);

/**
 * Returns `idToken` made invalid the way `mode` says. `nonce` re-signs with the provider's own
 * key, so only the nonce check can catch it; `signature` keeps the claims and breaks the signature.
 */
function tamperIdToken(idToken, mode, signingJwk) {
  const [header, payload, signature] = idToken.split('.');
  if (mode === 'signature') {
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] ^= 0xff;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  claims.nonce = `${claims.nonce ?? ''}-tampered`;
  const newPayload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = Buffer.from(`${header}.${newPayload}`);
  const newSignature = sign('sha256', input, { key: signingJwk, format: 'jwk' }).toString('base64url');
  return `${header}.${newPayload}.${newSignature}`;
}

/**
 * Test hook (see the file header): a switch for tampering with the ID tokens of token-endpoint
 * responses. It rewrites the JSON body after the provider built it, so the provider's own state
 * (codes, grants, refresh tokens) is exactly what an untampered exchange would leave.
 */
function idTokenTampering(tokenPath, signingJwk) {
  let mode = 'off';
  return async function tamper(ctx, next) {
    if (ctx.method === 'POST' && ctx.path === '/__test/corrupt-id-token') {
      const wanted = ctx.query.mode ?? 'signature';
      ctx.set('Cache-Control', 'no-store');
      if (!TAMPER_MODES.has(wanted)) {
        ctx.status = 400;
        ctx.body = { error: `mode must be one of ${[...TAMPER_MODES].join(', ')}` };
        return;
      }
      mode = wanted;
      log(`test hook: id token tampering ${mode}`);
      ctx.body = { mode };
      return;
    }
    await next();
    const body = ctx.body;
    if (mode !== 'off' && ctx.method === 'POST' && ctx.path === tokenPath && ctx.status === 200
      && body !== null && typeof body === 'object' && typeof body.id_token === 'string') {
      ctx.body = { ...body, id_token: tamperIdToken(body.id_token, mode, signingJwk) };
    }
  };
}

/**
 * `rotateRefreshToken` for `--rotation`: always, never, or on every second refresh of a grant
 * (counted per grant; a demo provider's grants are few).
 */
function rotationPolicy(mode) {
  if (mode !== 'every-2nd') return mode === 'always';
  const refreshes = new Map();
  return (ctx) => {
    const grantId = ctx.oidc.entities.RefreshToken?.grantId;
    const n = (refreshes.get(grantId) ?? 0) + 1;
    refreshes.set(grantId, n);
    return n % 2 === 0;
  };
}

/** Counters for end-to-end tests; see the file header. */
function trackRefreshEvents(provider) {
  const stats = { refresh_grants: 0, refresh_errors: 0, reuse_detected: 0, revoked_grants: 0 };
  const isRefresh = (ctx) => ctx.oidc?.params?.grant_type === 'refresh_token';
  provider.on('grant.success', (ctx) => {
    if (isRefresh(ctx)) stats.refresh_grants += 1;
  });
  provider.on('grant.error', (ctx, err) => {
    // The client only sees a generic "grant request is invalid"; the reason is in error_detail.
    log(`grant.error grant_type=${ctx.oidc?.params?.grant_type} error=${err.error} detail=${err.error_detail ?? err.error_description}`);
    if (!isRefresh(ctx)) return;
    stats.refresh_errors += 1;
    if (err.error_detail === 'refresh token already used') stats.reuse_detected += 1;
  });
  provider.on('grant.revoked', () => {
    stats.revoked_grants += 1;
    log('grant.revoked');
  });
  provider.on('backchannel.error', (_ctx, err, client) => {
    log(`backchannel.error client=${client.clientId} ${err.message}`);
  });
  provider.on('server_error', (_ctx, err) => log(`server_error ${err.stack}`));
  return stats;
}

/**
 * Test hook (see the file header): every token-endpoint answer waits `ms` first, so that the
 * exchanges a gateway makes concurrently overlap as they would against a distant provider.
 */
function tokenLatency(tokenPath, ms) {
  return async function delay(ctx, next) {
    if (ctx.method === 'POST' && ctx.path === tokenPath) {
      await new Promise((resolve) => { setTimeout(resolve, ms); });
    }
    await next();
  };
}

/** Test hook: changes a user's groups at the provider (the next ID token carries them). */
async function setGroups(ctx, next) {
  if (ctx.method === 'POST' && ctx.path === '/__test/groups') {
    ctx.set('Cache-Control', 'no-store');
    const groups = String(ctx.query.groups ?? '').split(',').filter(Boolean);
    groupOverrides.set(String(ctx.query.sub), groups);
    ctx.body = { sub: ctx.query.sub, groups };
    return;
  }
  await next();
}

/** Served before the provider's own routes; only mounted with --test-hooks. */
function statsEndpoint(stats) {
  return async function serveStats(ctx, next) {
    if (ctx.method === 'GET' && ctx.path === '/__test/stats') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { ...stats };
      return;
    }
    await next();
  };
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The claims of a JWT access token this provider signed, or `undefined` (bad, expired, other). */
function ownAccessToken(token, publicKey, issuer) {
  const [header, payload, signature] = String(token ?? '').split('.');
  if (!header || !payload || !signature) return undefined;
  const signed = verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'));
  if (!signed) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const live = typeof claims.exp === 'number' && claims.exp > Date.now() / 1000;
  return live && claims.iss === issuer && claims.sub ? claims : undefined;
}

/**
 * A minimal RFC 8693 token exchange (`grant: token_exchange` routes): the subject must be a live
 * access token this provider issued to a user; the answer is an access token for the same user
 * and client, for the requested API (`resource`) and the scopes of it that were asked for.
 */
function registerTokenExchange(provider, issuer, jwks) {
  const publicKey = createPublicKey({ key: jwks.keys[0], format: 'jwk' });
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const { params, client } = ctx.oidc;
    const types = [params.subject_token_type, params.requested_token_type ?? ACCESS_TOKEN_TYPE];
    if (types.some((t) => t !== ACCESS_TOKEN_TYPE)) {
      throw new errors.InvalidRequest('only access tokens are exchanged');
    }
    const subject = ownAccessToken(params.subject_token, publicKey, issuer);
    if (!subject) throw new errors.InvalidGrant('subject_token is invalid or expired');
    const resource = [params.resource].flat().filter(Boolean);
    if (resource.length !== 1 || !Object.hasOwn(APIS, resource[0])) throw new errors.InvalidTarget();
    const allowed = new Set(splitList(APIS[resource[0]]));
    const scope = splitList(params.scope).filter((s) => allowed.has(s)).join(' ') || undefined;
    const info = {
      scope: APIS[resource[0]], audience: resource[0], accessTokenTTL: 300,
      accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
    };
    const token = new provider.AccessToken({
      accountId: subject.sub, client, scope, resourceServer: new provider.ResourceServer(resource[0], info),
    });
    ctx.body = {
      access_token: await token.save(),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  }, ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'resource', 'audience'], ['resource']);
}

function log(message) {
  process.stderr.write(`provider: ${message}\n`);
}

function buildProvider(issuer, opts) {
  const client = {
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
    // oidc-provider 9 accepts client_secret_basic too for a client registered with either.
    token_endpoint_auth_method: 'client_secret_post',
    // client_credentials: the client as a machine caller of a `bearer: accept` route, and the
    // gateway's own tokens for `grant: client_credentials` routes.
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE],
    response_types: ['code'],
    redirect_uris: [`${opts.gateway}/auth/callback`],
    post_logout_redirect_uris: [`${opts.gateway}/`],
    backchannel_logout_uri: `${opts.gateway}/auth/backchannel-logout`,
    backchannel_logout_session_required: true,
  };

  const jwks = signingKeys();
  const provider = new Provider(issuer, {
    clients: [client],
    jwks,
    cookies: { keys: ['tokengate-demo-cookie-key-1', 'tokengate-demo-cookie-key-0'] },
    findAccount: accountsWithUserinfoClaims(opts.userinfoClaims),
    loadExistingGrant,
    scopes: LOGIN_OIDC_SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'groups', ...Object.keys(opts.userinfoClaims)],
      email: ['email'],
    },
    acrValues: [ACR_PASSWORD, ACR_MFA],
    // The gateway reads the user from the ID token (userinfo only with provider.userinfo: true).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    rotateRefreshToken: rotationPolicy(opts.rotation),
    issueRefreshToken: async (_ctx, c) => c.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? opts.accessTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Grant: 24 * 3600,
      Session: 24 * 3600,
      Interaction: 3600,
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => (oneOf ? oneOf[0] : undefined),
        // A request naming no resource is for the userinfo endpoint (Auth0: no audience).
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx, resource) => {
          if (!Object.hasOwn(APIS, resource)) throw new errors.InvalidTarget();
          return {
            scope: APIS[resource],
            audience: resource,
            accessTokenTTL: opts.accessTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });

  registerTokenExchange(provider, issuer, jwks);
  const stats = trackRefreshEvents(provider);
  if (opts.testHooks) {
    provider.use(statsEndpoint(stats));
    provider.use(setGroups);
    provider.use(idTokenTampering('/token', jwks.keys[0]));
    if (opts.latencyMs > 0) provider.use(tokenLatency('/token', opts.latencyMs));
  }
  provider.use(widenAuthorizationRequests('/auth'));
  provider.use(loginWithAcr(provider));
  return provider;
}

function main() {
  const opts = parseOptions(process.argv.slice(2));
  // Listen first so that --port 0 works: the issuer must name the port actually bound.
  const server = createServer();
  server.listen(opts.port, HOST, () => {
    const issuer = `http://${HOST}:${server.address().port}`;
    const provider = buildProvider(issuer, opts);
    server.on('request', provider.callback());
    process.stdout.write(`provider ready ${issuer}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`provider: ${err.message}\n`);
  process.exit(2);
}
