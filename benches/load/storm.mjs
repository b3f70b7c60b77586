// The refresh-storm benchmark of benches/load/run.sh: N sessions, each needing K token sets it
// does not hold yet, all arriving at once against a provider whose token endpoint answers in
// 100 ms. What must hold: exactly N × K token-endpoint calls (no duplicate exchange, none
// skipped), every answer 200 with the right token; what is measured: the latency of those
// first requests, which is what a user sees when the page opens after login.
//
//   node storm.mjs <variant> <gateway URL> <provider URL> <sessions>
//
// The gateway runs with no `login.audience`, so the login token serves none of the K routes
// below and each one needs its own exchange. The upstream is demo/echo.mjs, which reports the
// claims of the token it received, so a wrong token is caught, not just counted as a 200.
// Prints one JSON line.

import { login } from '../../e2e/scripted_browser.mjs';

const ROUTES = [
  { path: '/api/orders/storm', aud: 'https://orders.demo', scope: 'read:orders' },
  { path: '/api/orders-write/storm', aud: 'https://orders.demo', scope: 'write:orders' },
  { path: '/api/profile/storm', aud: 'https://profile.demo', scope: 'read:profile' },
];
const REQUEST_TIMEOUT_MS = 30_000;

async function stats(providerUrl) {
  const response = await fetch(`${providerUrl}/__test/stats`, { signal: AbortSignal.timeout(5000) });
  if (response.status !== 200) throw new Error(`provider stats answered ${response.status}`);
  return response.json();
}

/** Nearest-rank percentile of sorted numbers. */
function percentile(sorted, p) {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Logs in `users` a few at a time; resolves with their Cookie headers in order. */
async function logins(gateway, users, parallel = 5) {
  const cookies = new Array(users.length);
  let next = 0;
  const worker = async () => {
    while (next < users.length) {
      const i = next;
      next += 1;
      cookies[i] = (await login(gateway, users[i])).header(`${gateway}/api/`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return cookies;
}

/** One request; resolves with status, latency and whether the upstream got the right token. */
async function timed(url, cookie, route) {
  const started = process.hrtime.bigint();
  const response = await fetch(url, {
    headers: { cookie },
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await response.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let rightToken = false;
  if (response.status === 200) {
    const token = JSON.parse(body).token ?? {};
    const aud = [token.aud].flat();
    rightToken = aud.length === 1 && aud[0] === route.aud
      && String(token.scope ?? '').split(' ').includes(route.scope);
  }
  return { status: response.status, ms, rightToken };
}

async function main([variant, gateway, providerUrl, sessionsArg]) {
  const n = Number(sessionsArg);
  if (!variant || !gateway || !providerUrl || !Number.isInteger(n) || n <= 0) {
    throw new Error('usage: storm.mjs <variant> <gateway URL> <provider URL> <sessions>');
  }
  const users = Array.from({ length: n }, (_, i) => `storm-${variant}-${i + 1}`);
  const [warm, ...cookies] = await logins(gateway, [`storm-${variant}-warmup`, ...users]);

  // A gateway that has been running has already seen the provider answer: one exchange of
  // another session first, so the storm measures the steady state, not the first call ever.
  const warmup = await timed(`${gateway}${ROUTES[2].path}`, warm, ROUTES[2]);
  if (warmup.status !== 200 || !warmup.rightToken) {
    throw new Error(`warm-up request answered ${warmup.status}`);
  }

  const before = await stats(providerUrl);
  const started = process.hrtime.bigint();
  const results = await Promise.all(cookies.flatMap((cookie) => ROUTES.map(
    (route) => timed(`${gateway}${route.path}`, cookie, route),
  )));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = await stats(providerUrl);

  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  process.stdout.write(`${JSON.stringify({
    variant,
    sessions: n,
    token_sets: ROUTES.length,
    expected_calls: n * ROUTES.length,
    calls: after.refresh_grants - before.refresh_grants,
    refresh_errors: after.refresh_errors - before.refresh_errors,
    reuse_detected: after.reuse_detected - before.reuse_detected,
    non200: results.filter((r) => r.status !== 200).length,
    wrong_token: results.filter((r) => r.status === 200 && !r.rightToken).length,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies[latencies.length - 1]),
    wall_ms: round(wallMs),
  })}\n`);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`storm: ${err.message}\n`);
  process.exit(1);
});
