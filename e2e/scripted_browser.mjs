// The scripted browser of the end-to-end tests: a cookie jar keyed by origin that records every
// response it received (so tests can check what a client ever saw), and the authorization-code
// login driven by hand over plain HTTP (`redirect: 'manual'`): gateway `/auth/login`, the
// provider's devInteractions login form, back to the gateway's `/auth/callback`.
//
// Real browsers key cookies by host only, not port; the provider and the gateway both run on
// 127.0.0.1 with cookie names that do not collide, so a per-origin jar sees the same exchanges.

/** The session cookie name the end-to-end configs use (plain http: no `__Host-` prefix). */
export const COOKIE = 'tokengate';

/** `Set-Cookie` lines of a response that set or clear cookie `name` (exactly that name). */
export function setCookiesFor(headers, name) {
  return headers.getSetCookie().filter((line) => line.split('=')[0].trim() === name);
}

/** True when a `Set-Cookie` line clears its cookie (empty value, Max-Age<=0 or an old Expires). */
export function clearsCookie(line) {
  const [pair, ...attrs] = line.split(';');
  const value = pair.slice(pair.indexOf('=') + 1).trim();
  if (value === '') return true;
  return attrs.some((attr) => {
    const [k, v = ''] = attr.split('=').map((s) => s.trim());
    if (/^max-age$/i.test(k)) return Number(v) <= 0;
    if (/^expires$/i.test(k)) return Date.parse(v) <= Date.now();
    return false;
  });
}

/**
 * Cookies per origin, plus a record of every response the "browser" received (status, headers,
 * body), so tests can check what a client ever saw.
 */
export class CookieJar {
  /** origin → Map(`name;path` → { name, value, path }) */
  #cookies = new Map();

  /** Every response received through `fetch`: { url, method, status, headers, body }. */
  responses = [];

  #bucket(origin) {
    let bucket = this.#cookies.get(origin);
    if (!bucket) {
      bucket = new Map();
      this.#cookies.set(origin, bucket);
    }
    return bucket;
  }

  /** Applies one `Set-Cookie` line received from `url`. */
  apply(url, line) {
    const { origin, pathname } = new URL(url);
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = pathname.replace(/\/[^/]*$/, '') || '/';
    for (const attr of attrs) {
      const [k, v = ''] = attr.split('=').map((s) => s.trim());
      if (/^path$/i.test(k) && v.startsWith('/')) path = v;
    }
    const bucket = this.#bucket(origin);
    if (clearsCookie(line)) bucket.delete(`${name};${path}`);
    else bucket.set(`${name};${path}`, { name, value, path });
  }

  /** Applies every `Set-Cookie` of a response from `url`, in order. */
  store(url, response) {
    for (const line of response.headers.getSetCookie()) this.apply(url, line);
  }

  /** The `Cookie` header a browser would send to `url` (empty string when none). */
  header(url) {
    const { origin, pathname } = new URL(url);
    const bucket = this.#cookies.get(origin);
    if (!bucket) return '';
    return [...bucket.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The value of cookie `name` for `url`'s origin, or undefined. */
  get(url, name) {
    const bucket = this.#cookies.get(new URL(url).origin);
    return bucket ? [...bucket.values()].find((c) => c.name === name)?.value : undefined;
  }

  /** The cookies of `url`'s origin whose name is `name` or a chunk `name.N`. */
  sessionCookies(url, name = COOKIE) {
    const bucket = this.#cookies.get(new URL(url).origin);
    if (!bucket) return [];
    return [...bucket.values()].filter((c) => c.name === name || new RegExp(`^${name}\\.\\d+$`).test(c.name));
  }

  /** An independent copy (same cookies, empty response record): a cookie "kept aside". */
  clone() {
    const copy = new CookieJar();
    for (const [origin, bucket] of this.#cookies) {
      copy.#cookies.set(origin, new Map([...bucket].map(([k, c]) => [k, { ...c }])));
    }
    return copy;
  }

  /**
   * One HTTP request with this jar's cookies and no redirect following; stores the response's
   * cookies (unless `storeCookies` is false) and records it. Bounded to 15 s.
   */
  async fetch(url, { method = 'GET', headers = {}, body, storeCookies = true } = {}) {
    const cookie = this.header(url);
    const response = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (storeCookies) this.store(url, response);
    const record = {
      url, method, status: response.status, headers: response.headers, body: text,
      location: response.headers.get('location'),
      json() { return JSON.parse(text); },
    };
    this.responses.push(record);
    return record;
  }
}

/** The action URL and fields of the first `<form>` in `html` (hidden inputs included). */
export function parseForm(html, baseUrl) {
  const form = html.match(/<form\b[^>]*>([\s\S]*?)<\/form>/i);
  if (!form) return null;
  const action = form[0].match(/\baction="([^"]*)"/i)?.[1] ?? '';
  const fields = {};
  for (const input of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const name = input[0].match(/\bname="([^"]*)"/i)?.[1];
    const value = input[0].match(/\bvalue="([^"]*)"/i)?.[1] ?? '';
    if (name) fields[name] = value;
  }
  return { action: new URL(action.replace(/&amp;/g, '&'), baseUrl).href, fields };
}

/** Follows redirects by hand from `url` until a response is not a redirect or leaves for `stopAt`. */
async function follow(jar, url, init, stopAt) {
  let next = url;
  let request = init;
  for (let hop = 0; hop < 15; hop += 1) {
    const response = await jar.fetch(next, request);
    if (![301, 302, 303, 307, 308].includes(response.status) || !response.location) {
      return { response, url: next };
    }
    next = new URL(response.location, next).href;
    if (stopAt && next.startsWith(stopAt)) return { response, url: next, stopped: true };
    request = {};
  }
  throw new Error(`too many redirects from ${url}`);
}

/**
 * Starts a login: `GET /auth/login?returnTo=…` and follows the provider's redirects up to its
 * login form (or straight back to the callback when the provider already has a session).
 * Returns `{ callbackUrl }` or `{ form }` for `finishLogin`. `headers` go with `/auth/login`
 * only (e.g. the `Sec-Fetch-Site` of a link on another site).
 */
export async function beginLogin(jar, gatewayUrl, { returnTo, params = {}, headers = {} } = {}) {
  const login = new URL('/auth/login', gatewayUrl);
  if (returnTo !== undefined) login.searchParams.set('returnTo', returnTo);
  for (const [name, value] of Object.entries(params)) login.searchParams.set(name, value);
  const start = await jar.fetch(login.href, { headers });
  if (start.status !== 302 || !start.location) {
    throw new Error(`/auth/login answered ${start.status} ${start.body.slice(0, 300)}`);
  }
  const authorize = new URL(start.location, login).href;
  const callbackPrefix = new URL('/auth/callback', gatewayUrl).href;
  const reached = await follow(jar, authorize, {}, callbackPrefix);
  if (reached.stopped) return { authorize, callbackUrl: reached.url };
  const form = parseForm(reached.response.body, reached.url);
  if (reached.response.status !== 200 || !form) {
    throw new Error(`the provider did not show a login form: ${reached.response.status} at ${reached.url}`);
  }
  return { authorize, form, callbackPrefix };
}

/** Fills and submits the provider's login form; returns the gateway callback URL it leads to. */
export async function submitLoginForm(jar, begun, user, password = 'any-password') {
  if (begun.callbackUrl) return begun.callbackUrl;
  const fields = { ...begun.form.fields, login: user, password };
  const submitted = await follow(jar, begun.form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }, begun.callbackPrefix);
  if (!submitted.stopped) {
    throw new Error(`the login form did not lead back to the gateway: ${submitted.response.status} at ${submitted.url}`);
  }
  return submitted.url;
}

/** Calls the gateway's callback; resolves with its response (302 on success). */
export async function callGatewayCallback(jar, callbackUrl) {
  return jar.fetch(callbackUrl);
}

/**
 * A scripted browser login against the gateway and the real provider: `/auth/login`, the
 * provider's login form, back to `/auth/callback`. Resolves with the jar, which then holds the
 * gateway's session cookie; throws when the callback does not answer 302 with a session cookie.
 * `jar.lastLogin` keeps the callback URL and response for tests that need them.
 */
export async function login(gatewayUrl, user, {
  jar = new CookieJar(), returnTo, params, headers,
} = {}) {
  const begun = await beginLogin(jar, gatewayUrl, { returnTo, params, headers });
  const callbackUrl = await submitLoginForm(jar, begun, user);
  const callback = await callGatewayCallback(jar, callbackUrl);
  if (callback.status !== 302 || jar.sessionCookies(gatewayUrl).length === 0) {
    throw new Error(`/auth/callback answered ${callback.status} ${callback.body.slice(0, 300)} `
      + `(session cookie ${jar.sessionCookies(gatewayUrl).length ? 'set' : 'missing'})`);
  }
  jar.lastLogin = { callbackUrl, callback };
  return jar;
}

/** Decodes a JWT's payload without verifying it (for assertions only). */
export function jwtPayload(jwt) {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** A compact JWT anywhere in a string: two base64url JSON objects and a signature. */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/;

/** The last `n` lines of a log, for failure messages. */
export function tail(text, n = 40) {
  return text.split('\n').slice(-n).join('\n');
}
