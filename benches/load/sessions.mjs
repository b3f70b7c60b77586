// Real logins for the load benchmarks (benches/load/run.sh): each login goes through the demo's
// OpenID provider exactly as a browser would, so every system under load holds a session that
// its own relying-party code created, with real tokens in it.
//
//   node sessions.mjs tokengate <gateway URL> <user>...   one Cookie header per user, per line
//   node sessions.mjs generic <app URL> <path> <user>...  same, for any relying party (Apache
//                                                          mod_auth_openidc): GET <path>, follow
//                                                          every redirect, fill the login form
//
// The tokengate login reuses the end-to-end tests' scripted browser (e2e/scripted_browser.mjs);
// the generic one follows redirects across origins until the app answers 200 itself, because
// mod_auth_openidc's login starts from any protected URL and has its own callback path.

import { request as httpRequest } from 'node:http';

import { CookieJar, login, parseForm } from '../../e2e/scripted_browser.mjs';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 20;
/**
 * A top-level navigation. mod_auth_openidc answers 401 instead of redirecting to the login when a
 * request looks like a script's, and Node's fetch always sends `Sec-Fetch-Mode: cors`; so the
 * generic login speaks HTTP through node:http, with the scripted browser's cookie jar.
 */
const BROWSER_NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const REQUEST_TIMEOUT_MS = 15_000;

/** One plain-HTTP request with `jar`'s cookies; stores the response's cookies in `jar`. */
function navigate(jar, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const cookie = jar.header(url);
    const request = httpRequest(url, {
      method,
      headers: { ...BROWSER_NAVIGATION, ...headers, ...(cookie ? { cookie } : {}) },
      timeout: REQUEST_TIMEOUT_MS,
    }, (response) => {
      const chunks = [];
      response.on('data', (c) => chunks.push(c));
      response.on('end', () => {
        for (const line of response.headers['set-cookie'] ?? []) jar.apply(url, line);
        resolve({
          status: response.statusCode,
          location: response.headers.location,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** A login driven from a protected URL of any relying party; resolves with its Cookie header. */
async function genericLogin(appUrl, path, user) {
  const jar = new CookieJar();
  const appOrigin = new URL(appUrl).origin;
  const target = new URL(path, appUrl).href;
  let url = target;
  let init = {};
  let submitted = false;
  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    const response = await navigate(jar, url, init);
    if (REDIRECTS.has(response.status) && response.location) {
      url = new URL(response.location, url).href;
      init = {};
      continue;
    }
    if (response.status === 200 && new URL(url).origin === appOrigin) {
      if (!submitted) throw new Error(`${target} answered 200 without a login`);
      return jar.header(target);
    }
    const form = response.status === 200 ? parseForm(response.body, url) : null;
    if (!form || submitted) {
      throw new Error(`login for ${user} stopped at ${url}: ${response.status} ${response.body.slice(0, 300)}`);
    }
    submitted = true;
    url = form.action;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, login: user, password: 'any-password' }).toString(),
    };
  }
  throw new Error(`login for ${user}: more than ${MAX_HOPS} redirects from ${target}`);
}

async function main(argv) {
  const [kind, ...rest] = argv;
  let cookieFor;
  let users;
  if (kind === 'tokengate' && rest.length >= 2) {
    const [gateway, ...names] = rest;
    users = names;
    cookieFor = async (user) => (await login(gateway, user)).header(new URL('/api/', gateway).href);
  } else if (kind === 'generic' && rest.length >= 3) {
    const [app, path, ...names] = rest;
    users = names;
    cookieFor = (user) => genericLogin(app, path, user);
  } else {
    throw new Error('usage: sessions.mjs tokengate <gateway URL> <user>... | generic <app URL> <path> <user>...');
  }
  // One at a time: the provider is a single Node process, and the order of the output lines
  // must be the order of the users.
  for (const user of users) {
    const cookie = await cookieFor(user);
    if (!cookie) throw new Error(`login for ${user} left no cookie`);
    process.stdout.write(`${cookie}\n`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`sessions: ${err.message}\n`);
  process.exit(1);
});
