// End-to-end in a real browser: headless Chromium (driven by playwright-core from demo/) opens
// the demo page through the gateway, logs in at the real provider, sees both APIs answer with a
// token of their own audience, and logs out. It checks what the scripted HTTP tests cannot: real
// cookie handling (browsers key cookies by host, not port), the page's same-origin fetches, the
// Origin header of a real form POST, and the provider's logout round trip.
//
// Skipped only when /usr/bin/chromium is missing and CI is not set; in CI it always runs.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, test } from 'node:test';

import {
  COOKIE, JWT_PATTERN, ORDERS, PROFILE, ROOT, startStack, stopAll, tail, tempDir,
} from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = join(ROOT, 'test-artifacts', 'logged-in.png');

/** playwright-core is a dependency of demo/ (demo/package.json), not of the repository root. */
function loadChromium() {
  const require = createRequire(join(ROOT, 'demo', 'package.json'));
  return require('playwright-core').chromium;
}

let context;
after(async () => {
  await context?.close().catch(() => {});
  await stopAll();
});

/** The text of `[data-field=field]` in section `#section`. */
const field = (page, section, name) => page.locator(`#${section} [data-field="${name}"]`);

/** Waits until `locator`'s text equals `text`; the message shows what it was instead. */
async function waitForText(locator, text, what) {
  try {
    await locator.filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
      .waitFor({ timeout: 15_000 });
  } catch {
    assert.fail(`${what}: expected "${text}", the page shows "${await locator.textContent().catch(() => '?')}"`);
  }
}

test('log in and out in headless Chromium through the demo page', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM) && !process.env.CI) {
    t.skip(`${CHROMIUM} is missing (install Debian's chromium to run this test; it always runs when CI is set)`);
    return;
  }
  const chromium = loadChromium();
  const stack = await startStack({ withPage: true });
  const gw = stack.gateway.url;
  const log = () => `\n--- gateway log ---\n${tail(stack.gateway.stderr())}`;

  context = await chromium.launchPersistentContext(tempDir('tokengate-chromium-'), {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000,
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15_000);

  await page.goto(`${gw}/`);
  await waitForText(field(page, 'session', 'status'), 'not logged in (401)', 'before login');
  assert.equal(await page.locator('#login').isVisible(), true, 'the Log in link is shown');

  await page.click('#login');
  await page.waitForURL((url) => url.href.startsWith(stack.provider.url));
  await page.fill('input[name="login"]', 'pat');
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  await page.waitForURL(`${gw}/`);

  await waitForText(field(page, 'session', 'status'), 'logged in', `session after login${log()}`);
  await waitForText(field(page, 'session', 'user'), 'Demo User pat', 'user name');
  await waitForText(field(page, 'session', 'email'), 'pat@example.com', 'user email');
  await waitForText(field(page, 'orders', 'status'), '200', `orders call${log()}`);
  await waitForText(field(page, 'orders', 'upstream'), 'orders', 'orders upstream');
  await waitForText(field(page, 'orders', 'aud'), ORDERS, 'orders token audience');
  await waitForText(field(page, 'profile', 'status'), '200', `profile call${log()}`);
  await waitForText(field(page, 'profile', 'upstream'), 'profile', 'profile upstream');
  await waitForText(field(page, 'profile', 'aud'), PROFILE, 'profile token audience');
  assert.match(await field(page, 'orders', 'scope').textContent(), /(^| )read:orders( |$)/);
  assert.match(await field(page, 'profile', 'scope').textContent(), /(^| )read:profile( |$)/);

  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  // The session cookie is HttpOnly: the page's script cannot read it, and nothing on the page
  // (raw JSON of every answer included) is a token.
  assert.ok(!(await page.evaluate(() => document.cookie)).split('; ').some((c) => c.startsWith(`${COOKIE}=`)),
    'document.cookie does not expose the session cookie');
  const cookies = await context.cookies(gw);
  const session = cookies.find((c) => c.name === COOKIE);
  assert.ok(session, 'the browser holds the session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.ok(!JWT_PATTERN.test(await page.content()), 'the page holds no JWT');

  // Gateway → provider's end_session (auto-submitted confirmation) → back to the page. The page
  // is already at `${gw}/`, so the round trip is recorded from the frame's navigations.
  const visited = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); });
  // The page put the session's logout id (from /auth/session) in the form's action.
  const action = await page.locator('#logout').getAttribute('action');
  assert.match(action ?? '', /^\/auth\/logout\?sid=[A-Za-z0-9_-]{22}$/, `logout form action: ${action}`);
  await page.click('#logout button[type="submit"]');
  await waitForText(field(page, 'session', 'status'), 'not logged in (401)', `after logout${log()}`);
  assert.equal(page.url(), `${gw}/`);
  assert.ok(visited.some((url) => url.startsWith(`${stack.provider.url}/session/end`)),
    `the logout went through the provider's end_session: ${visited.join(' → ')}`);
  assert.equal(await page.locator('#login').isVisible(), true, 'the Log in link is back');
  assert.equal(await page.locator('#logout').isVisible(), false, 'the Log out button is hidden');
  assert.equal((await context.cookies(gw)).find((c) => c.name === COOKIE), undefined,
    'the session cookie is gone');
});
