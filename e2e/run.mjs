// Browser end-to-end tests of Onramp's user-integration feature: the demo
// shop's "Sign up with …" popup, consent, the account pages, developer keys
// and the pages' security properties.
//
// Each test starts its own `onramp serve --demo` on a free loopback port with
// a fresh data directory, drives Debian's /usr/bin/chromium through
// playwright-core, saves a screenshot of its final state under
// e2e/output/<test-name>.png and stops the server.
//
//   cd e2e && npm ci && node --test --test-concurrency=1 run.mjs
//
// Environment: ONRAMP_BIN (default $CARGO_TARGET_DIR/debug/onramp, or
// ../target/debug/onramp), CHROMIUM (default /usr/bin/chromium), E2E_OUTPUT
// (default e2e/output).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setDefaultResultOrder } from 'node:dns';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { consoleTests } from './console.mjs';

// Node's fetch must reach `localhost` on 127.0.0.1, where the server listens.
setDefaultResultOrder('ipv4first');

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
const BIN = process.env.ONRAMP_BIN || join(TARGET, 'debug', 'onramp');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUTPUT = process.env.E2E_OUTPUT || join(HERE, 'output');
const STEP_MS = 15_000; // every wait, click and navigation
const TEST_MS = 60_000; // a whole test
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// A small phone (iPhone 12-class): pages must work without zooming or scrolling sideways.
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let browser;
const servers = new Set();

before(async () => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run \`cargo build -p onramp\` first`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
});

// Never leave a server behind, even when the runner is interrupted.
process.on('exit', () => {
  for (const s of servers) s.child.kill('SIGKILL');
});

// ---------------------------------------------------------------- the server

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function parseEnv(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

/** `onramp serve --demo` on a free port with a fresh data dir; ready when /healthz answers. */
async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'onramp-e2e-'));
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(BIN, ['serve', '--demo', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const server = {
    child,
    port,
    dataDir,
    platform: `http://localhost:${port}`, // the platform's pages (demo/staging)
    shop: `http://127.0.0.1:${port}`, // the demo shop's origin
    console: `http://127.0.0.1:${adminPort}`, // the operator console
    log: () => log,
    async stop() {
      servers.delete(server);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  servers.add(server);
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`onramp exited with ${child.exitCode}:\n${log}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`onramp did not answer /healthz within ${STEP_MS} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const env = parseEnv(readFileSync(join(dataDir, 'demo.env'), 'utf8'));
  server.person = { email: env.ONRAMP_DEMO_PERSON_EMAIL, password: env.ONRAMP_DEMO_PERSON_PASSWORD };
  server.serviceUser = { username: env.ONRAMP_DEMO_USERNAME, password: env.ONRAMP_DEMO_PASSWORD };
  assert.ok(server.person.email && server.person.password, 'demo.env names the demo person');
  assert.ok(server.serviceUser.username && server.serviceUser.password, 'demo.env names the service user');
  server.operator = { email: env.ONRAMP_DEMO_OPERATOR_EMAIL, password: env.ONRAMP_DEMO_OPERATOR_PASSWORD };
  assert.ok(server.operator.email && server.operator.password, 'demo.env names the demo operator');
  return server;
}

/**
 * Runs `body` with a fresh server and browser context; always saves a
 * screenshot of `ctx.shot` (the page whose state ends the test) and stops
 * the server. On failure the server's log is printed.
 */
function e2e(name, body, { phone = false } = {}) {
  test(name, { timeout: TEST_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext(phone ? PHONE : { viewport: { width: 1000, height: 760 } });
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    const page = await context.newPage();
    const ctx = { server, context, page, shot: page };
    try {
      await body(ctx);
    } catch (error) {
      process.stderr.write(`\n--- onramp log (${name}) ---\n${server.log()}\n---\n`);
      throw error;
    } finally {
      const target = ctx.shot && !ctx.shot.isClosed() ? ctx.shot : page;
      await target
        .screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true, timeout: STEP_MS })
        .catch((e) => process.stderr.write(`screenshot ${name} failed: ${e.message}\n`));
      await context.close().catch(() => {});
      await server.stop();
    }
  });
}

// ---------------------------------------------------------------- helpers

/** Clicks the shop's button and returns the popup it opened. */
async function openPopup(page) {
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#connect').click()]);
  popup.setDefaultTimeout(STEP_MS);
  popup.setDefaultNavigationTimeout(STEP_MS);
  return popup;
}

/** Signs in through the popup's login form; the consent screen follows. */
async function popupLogin(popup, person) {
  await popup.waitForURL((u) => u.pathname === '/connect');
  await popup.locator('form[action="/connect/login"]').waitFor();
  await popup.locator('#email').fill(person.email);
  await popup.locator('#password').fill(person.password);
  await popup.getByRole('button', { name: 'Sign in' }).click();
}

/** Checks the consent screen and clicks Allow or Deny; the popup closes itself. */
async function decide(popup, button) {
  await popup.locator('form[action="/connect/decision"]').waitFor();
  const heading = await popup.locator('h1').innerText();
  assert.match(heading, /Demo shop wants to sign you up/);
  const shared = await popup.locator('main li').allInnerTexts();
  assert.deepEqual(shared, ['your email address', 'your first name', 'your last name']);
  const closed = popup.waitForEvent('close', { timeout: STEP_MS });
  await popup.getByRole('button', { name: button, exact: true }).click();
  await closed;
}

/** The shop's result once the SDK has settled: `data-state` and the text. */
async function shopResult(page) {
  const output = page.locator('#output[data-state]');
  await output.waitFor();
  return { state: await output.getAttribute('data-state'), text: await output.innerText() };
}

function assertProfile(result, person, firstName = 'Dana') {
  assert.equal(result.state, 'profile', `the shop shows a profile, not: ${result.text}`);
  const profile = JSON.parse(result.text);
  assert.equal(profile.user.email, person.email);
  assert.equal(profile.user.name.first_name, firstName);
  assert.equal(profile.user.name.last_name, 'Demo');
  assert.match(profile.user.id, /\S/);
  assert.match(profile.granted_at, /^\d{4}-\d\d-\d\dT/);
  return profile;
}

/** Signs in on the platform's own login page; returns the login POST's 303 response. */
async function accountLogin(page, server, next = '/account') {
  await page.goto(`${server.platform}/account/login?next=${encodeURIComponent(next)}`);
  await page.locator('#email').fill(server.person.email);
  await page.locator('#password').fill(server.person.password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/account/login') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForURL(`${server.platform}${next}`);
  return response;
}

/** GET /v1/integration/users/{id} with a vendor key, from Node. */
async function integrationUser(server, key, id = randomUUID()) {
  const r = await fetch(`${server.platform}/v1/integration/users/${id}`, {
    headers: { 'x-api-key': key },
    signal: AbortSignal.timeout(STEP_MS),
  });
  await r.arrayBuffer();
  return r.status;
}

/**
 * Clicks Generate/Reset key: the POST answers 303 and the page it leads to
 * shows the key once. Returns the key.
 */
async function generateKey(page, app, button) {
  // Marks this document, so the key is read from the page the redirect leads to.
  await page.evaluate(() => {
    document.body.dataset.stale = '1';
  });
  const [post] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/key') && r.request().method() === 'POST'),
    app.getByRole('button', { name: button }).click(),
  ]);
  assert.equal(post.status(), 303, 'the POST redirects');
  const key = (await page.locator('body:not([data-stale]) #new-key').innerText()).trim();
  assert.match(key, /^onr_app_test_\w+$/);
  return key;
}

/** Fails when the page is wider than the viewport (a phone would scroll sideways). */
async function assertFits(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `${page.url()} is ${scroll}px wide in a ${width}px viewport`);
}

function assertCsp(csp, where) {
  assert.ok(csp, `${where} has a Content-Security-Policy`);
  assert.match(csp, /frame-ancestors 'none'/, `${where}: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline/, `${where}: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-eval/, `${where}: ${csp}`);
}

// ---------------------------------------------------------------- the tests

e2e('signup-allow', async ({ server, context, page }) => {
  // Every HTML page of the flow, the popup's included, forbids framing and inline scripts.
  const pages = [];
  context.on('response', (r) => {
    if ((r.headers()['content-type'] ?? '').startsWith('text/html')) pages.push(r);
  });
  const response = await page.goto(`${server.shop}/demo/vendor`);
  assert.equal(response.status(), 200);
  await page.getByRole('button', { name: 'Sign up with Demo platform' }).waitFor();

  const popup = await openPopup(page);
  await popupLogin(popup, server.person);
  assert.match(await popup.locator('main').innerText(), new RegExp(`Signed in as ${server.person.email.replace(/\./g, '\\.')}`));
  await decide(popup, 'Allow');

  assertProfile(await shopResult(page), server.person);
  const paths = pages.map((r) => new URL(r.url()).pathname);
  assert.ok(paths.includes('/demo/vendor') && paths.includes('/connect'), `HTML pages seen: ${paths}`);
  for (const r of pages) {
    assertCsp(r.headers()['content-security-policy'], r.url());
    assert.equal(r.headers()['x-frame-options'], 'DENY', r.url());
  }
});

e2e('signup-deny', async ({ server, page }) => {
  await page.goto(`${server.shop}/demo/vendor`);
  const popup = await openPopup(page);
  await popupLogin(popup, server.person);
  await decide(popup, 'Deny');

  const result = await shopResult(page);
  assert.equal(result.state, 'access_denied');
  assert.match(result.text, /access_denied/);
  assert.doesNotMatch(result.text, /@/, 'no profile data reached the shop');
});

e2e('popup-closed', async ({ server, page }) => {
  await page.goto(`${server.shop}/demo/vendor`);
  const popup = await openPopup(page);
  await popup.waitForURL((u) => u.pathname === '/connect');
  await popup.locator('#email').waitFor();
  await popup.close();

  const result = await shopResult(page);
  assert.equal(result.state, 'popup_closed');
  assert.match(result.text, /popup_closed/);
});

e2e('consent-remembered', async ({ server, context, page }) => {
  await page.goto(`${server.shop}/demo/vendor`);
  const first = await openPopup(page);
  await popupLogin(first, server.person);
  await decide(first, 'Allow');
  const profile = assertProfile(await shopResult(page), server.person);

  // The second connect: the popup is still signed in and the grant stands,
  // so it must finish by itself, with no login form and no consent screen.
  await page.evaluate(() => {
    const o = document.getElementById('output');
    o.textContent = 'again';
    delete o.dataset.state;
  });
  const requests = [];
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === server.platform && u.pathname.startsWith('/connect')) requests.push(`${r.method()} ${u.pathname}`);
  });
  const second = await openPopup(page);
  // The remembered grant can close the popup before we start waiting for it.
  if (!second.isClosed()) await second.waitForEvent('close', { timeout: STEP_MS });
  const again = assertProfile(await shopResult(page), server.person);
  assert.equal(again.user.id, profile.user.id);
  assert.equal(again.granted_at, profile.granted_at, 'the first grant is kept');
  assert.deepEqual(requests, ['GET /connect'], 'only the popup page itself: no login, no decision');
});

e2e('key-reset', async ({ server, page }) => {
  await accountLogin(page, server, '/account/developers');
  await page.locator('#name').fill('E2E shop');
  await page.locator('#origins').fill('https://shop.example.com');
  await page.getByRole('button', { name: 'Register app' }).click();

  const app = page.locator('ul.cards > li').filter({ has: page.locator('h3', { hasText: /^E2E shop$/ }) });
  await app.waitFor();
  assert.match(await app.innerText(), /Allowed origins: https:\/\/shop\.example\.com/);
  assert.match(await app.innerText(), /Key id: no key yet/);
  const oldKey = await generateKey(page, app, 'Generate key');
  assert.match(await page.locator('.notice').innerText(), /The new key of E2E shop/);
  assert.match(await app.innerText(), /Key id: key_\w+/, 'the card names the key id, not the key');
  assert.doesNotMatch(await app.innerText(), /onr_app_/);
  assert.equal(await integrationUser(server, oldKey), 404, 'a valid key, no such user: 404');
  // A reload shows no key and resets nothing.
  await page.reload();
  await app.waitFor();
  assert.equal(await page.locator('#new-key').count(), 0, 'the key is shown once');
  assert.equal(await integrationUser(server, oldKey), 404, 'the reload did not replace the key');

  const newKey = await generateKey(page, app, 'Reset key');
  assert.notEqual(newKey, oldKey);
  assert.equal(await integrationUser(server, oldKey), 401, 'the old key is refused after the reset');
  assert.equal(await integrationUser(server, newKey), 404, 'the new key works');
});

e2e('account-pages', async ({ server, context, page }) => {
  // Security headers and the session cookie, on the platform's own pages.
  const loginPage = await page.goto(`${server.platform}/account/login`);
  assertCsp(loginPage.headers()['content-security-policy'], '/account/login');
  const loginPost = await accountLogin(page, server);
  assert.equal(loginPost.status(), 303);
  const setCookies = (await loginPost.headersArray())
    .filter((h) => h.name.toLowerCase() === 'set-cookie')
    .map((h) => h.value);
  const sessionHeader = setCookies.find((c) => c.startsWith('onramp_session='));
  assert.ok(sessionHeader, `the login sets the session cookie: ${setCookies}`);
  assert.match(sessionHeader, /;\s*HttpOnly/i);
  assert.match(sessionHeader, /;\s*SameSite=Lax/i);
  const cookie = (await context.cookies(server.platform)).find((c) => c.name === 'onramp_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(await page.evaluate(() => document.cookie.includes('onramp_session')), false, 'scripts cannot read it');

  // The profile: change the first name.
  assert.equal(await page.locator('#account-email').innerText(), server.person.email);
  assert.equal(await page.locator('#first_name').inputValue(), 'Dana');
  await page.locator('#first_name').fill('Danielle');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.locator('.notice', { hasText: 'Your name was saved.' }).waitFor();
  await page.goto(`${server.platform}/account`);
  assert.equal(await page.locator('#first_name').inputValue(), 'Danielle', 'the name was stored');

  // Connect from the shop: already signed in, so the popup goes straight to consent.
  const shop = await context.newPage();
  await shop.goto(`${server.shop}/demo/vendor`);
  const popup = await openPopup(shop);
  await decide(popup, 'Allow');
  assertProfile(await shopResult(shop), server.person, 'Danielle');
  await shop.close();

  // Connections lists the shop; revoking removes it.
  await page.goto(`${server.platform}/account/connections`);
  const card = page.locator('ul.cards > li').filter({ has: page.locator('h3', { hasText: /^Demo shop$/ }) });
  await card.waitFor();
  assert.match(await card.innerText(), /Can see: email, first name, last name/);
  await card.getByRole('button', { name: 'Revoke access' }).click();
  await page.locator('.notice', { hasText: 'Access revoked.' }).waitFor();
  assert.equal(await card.count(), 0, 'Demo shop is gone from the list');
  assert.match(await page.locator('main').innerText(), /No app has access to your profile\./);

  // The grant is gone: connecting again asks for consent again.
  const again = await context.newPage();
  await again.goto(`${server.shop}/demo/vendor`);
  const asked = await openPopup(again);
  await asked.locator('form[action="/connect/decision"]').waitFor();
  assert.match(await asked.locator('h1').innerText(), /Demo shop wants to sign you up/);
  await asked.close();
  assert.equal((await shopResult(again)).state, 'popup_closed');
  await again.close();
  await page.bringToFront();
});

e2e('csrf', async ({ server, context, page }) => {
  await accountLogin(page, server);
  const form = { first_name: 'Mallory', last_name: 'Demo' };

  // The session cookie alone does not make a form valid.
  const missing = await context.request.post(`${server.platform}/account/profile`, { form, maxRedirects: 0 });
  assert.equal(missing.status(), 403, 'no csrf field: 403');
  assert.match(await missing.text(), /Expired form/);

  const wrong = await context.request.post(`${server.platform}/account/profile`, {
    form: { ...form, csrf: 'A'.repeat(32) },
    maxRedirects: 0,
  });
  assert.equal(wrong.status(), 403, 'a wrong csrf value: 403');
  assert.match(await wrong.text(), /Expired form/);

  // Show the refusal in the browser too: submit the real form without its token.
  await page.evaluate(() => {
    const f = document.querySelector('form[action="/account/profile"]');
    f.querySelector('input[name="csrf"]').remove();
    document.getElementById('first_name').value = 'Mallory';
  });
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/account/profile') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Save name' }).click(),
  ]);
  assert.equal(refused.status(), 403);
  await page.locator('h1', { hasText: 'Expired form' }).waitFor();
  assert.match(await page.locator('[role="alert"]').innerText(), /not sent from this site/);

  // Nothing was changed.
  const profile = await context.request.get(`${server.platform}/account`);
  assert.match(await profile.text(), /id="first_name"[^>]*value="Dana"/);
});

e2e('origin-mismatch', async ({ server, page }) => {
  await page.goto(`${server.shop}/demo/vendor`);
  const clientId = await page.locator('#main').getAttribute('data-client-id');
  assert.match(clientId ?? '', /\S/);

  const challenge = 'A'.repeat(43);
  const url =
    `${server.platform}/connect?client_id=${encodeURIComponent(clientId)}` +
    `&origin=${encodeURIComponent('https://evil.example')}&state=x&code_challenge=${challenge}&code_challenge_method=S256`;
  const response = await page.goto(url);
  assert.equal(response.status(), 400);
  assert.equal(await page.locator('h1').innerText(), 'Cannot connect');
  // The person learns which origin is missing for which app; the opener learns nothing.
  assert.match(
    await page.locator('main').innerText(),
    /The site https:\/\/evil\.example is not registered for the app “Demo shop”; nothing was shared\./,
  );
  assert.equal(await page.locator('#connect-result').count(), 0, 'no connect-result element');
  assert.equal(await page.locator('form').count(), 0, 'no login or consent form');
  assert.equal(await page.locator('script').count(), 0, 'no script that could post to the opener');
});

// Developer pages on a phone: register, a key shown once after its
// redirect, edit, and delete after a confirmation.
e2e(
  'developers-phone',
  async ({ server, page }) => {
    await accountLogin(page, server, '/account/developers');
    await assertFits(page);
    await page.locator('#name').fill('Phone shop');
    await page.locator('#origins').fill('https://phone.example.com');
    await page.getByRole('button', { name: 'Register app' }).click();
    const card = (name) => page.locator('ul.cards > li').filter({ has: page.locator('h3', { hasText: name }) });
    await card(/^Phone shop$/).waitFor();
    const key = await generateKey(page, card(/^Phone shop$/), 'Generate key');
    await assertFits(page);
    await page.reload();
    assert.equal(await page.locator('#new-key').count(), 0, 'a reload shows no key');
    assert.equal(await integrationUser(server, key), 404, 'and the key still works');

    await card(/^Phone shop$/).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(/\/account\/developers\/[^/]+\/edit$/);
    await assertFits(page);
    assert.equal(await page.locator('#origins').inputValue(), 'https://phone.example.com');
    await page.locator('#name').fill('Phone shop 2');
    await page.locator('#origins').fill('https://phone2.example.com\nhttps://m.phone2.example.com');
    await page.getByRole('button', { name: 'Save app' }).click();
    await page.locator('.notice', { hasText: 'Saved “Phone shop 2”.' }).waitFor();
    assert.match(await card(/^Phone shop 2$/).innerText(), /https:\/\/phone2\.example\.com, https:\/\/m\.phone2\.example\.com/);

    await card(/^Phone shop 2$/).getByRole('link', { name: 'Delete' }).click();
    await page.locator('h1', { hasText: 'Delete “Phone shop 2”?' }).waitFor();
    await assertFits(page);
    await page.getByRole('link', { name: 'Keep it' }).click();
    await card(/^Phone shop 2$/).waitFor();
    assert.equal(await integrationUser(server, key), 404, 'keeping it changed nothing');
    await card(/^Phone shop 2$/).getByRole('link', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete app' }).click();
    await page.locator('.notice', { hasText: 'Deleted “Phone shop 2”' }).waitFor();
    assert.equal(await card(/^Phone shop 2$/).count(), 0);
    assert.equal(await integrationUser(server, key), 401, 'the deleted app\'s key stopped');
    await assertFits(page);
  },
  { phone: true },
);

// Deleting one's own account on a phone: reached from the profile, refused
// with a wrong password, then the account, its session and its cookie are gone.
e2e(
  'delete-account-phone',
  async ({ server, context, page }) => {
    await accountLogin(page, server);
    await assertFits(page);
    await page.getByRole('link', { name: 'Delete your account…' }).click();
    await page.waitForURL(`${server.platform}/account/delete`);
    await assertFits(page);
    assert.match(await page.locator('main').innerText(), new RegExp(server.person.email.replace(/\./g, '\\.')));

    await page.locator('#current_password').fill('not-the-password');
    const [wrong] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/account/delete') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Delete my account' }).click(),
    ]);
    assert.equal(wrong.status(), 400);
    await page.locator('.error', { hasText: 'The password is wrong.' }).waitFor();
    await assertFits(page);

    await page.locator('#current_password').fill(server.person.password);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.waitForURL(`${server.platform}/account/deleted`);
    await page.locator('h1', { hasText: 'Account deleted' }).waitFor();
    await assertFits(page);
    const cookies = await context.cookies(server.platform);
    assert.ok(!cookies.some((c) => c.name === 'onramp_session'), 'the session cookie is cleared');

    await page.goto(`${server.platform}/account`);
    await page.waitForURL(/\/account\/login/);
    await page.locator('#email').fill(server.person.email);
    await page.locator('#password').fill(server.person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.error', { hasText: 'Wrong email or password.' }).waitFor();
  },
  { phone: true },
);

// Clicking the button a second time while the popup is open (a double click,
// or a click on a popup hidden behind the window) reuses the named popup. After
// Allow, the shop must end up with the profile, not with a stale failure of
// the first call.
e2e('second-click', async ({ server, page }) => {
  await page.goto(`${server.shop}/demo/vendor`);
  // Records every data-state the shop writes, in order.
  await page.evaluate(() => {
    window.__states = [];
    const o = document.getElementById('output');
    new MutationObserver(() => window.__states.push(o.dataset.state)).observe(o, {
      attributes: true,
      attributeFilter: ['data-state'],
    });
  });
  const popup = await openPopup(page);
  await popupLogin(popup, server.person);
  await popup.locator('form[action="/connect/decision"]').waitFor();

  await page.locator('#connect').click(); // brings the open popup to the front; one flow
  await popup.waitForURL((u) => u.pathname === '/connect');
  await decide(popup, 'Allow');

  await page.waitForFunction(() => window.__states.includes('profile'), null, { timeout: STEP_MS });
  await page.waitForTimeout(1_000); // the SDK polls popup.closed every 300 ms
  const states = await page.evaluate(() => window.__states);
  const result = await shopResult(page);
  assert.equal(result.state, 'profile', `the shop ends with the profile; states written: ${states.join(' -> ')}; shown: ${result.text}`);
  assert.ok(!states.includes('popup_closed'), `nobody closed the popup, yet the shop was told so: ${states.join(' -> ')}`);
});

// The operator console's tests.
consoleTests(e2e);

// "Sign up with …" through OpenID Connect: a vendor page served by this test
// registers its redirect URI on the developers page, sends the person to
// /oauth/authorize, and gets the code back at its redirect URI after the
// platform's sign-in and consent pages.
e2e('oidc-authorize', async (ctx) => {
  const { server, page, context } = ctx;
  const { createServer: createHttpServer } = await import('node:http');
  const { createHash, randomBytes } = await import('node:crypto');
  const vendorPort = await freePort();
  const vendor = `http://127.0.0.1:${vendorPort}`;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  let authorizeUrl = '';
  const http = createHttpServer((req, res) => {
    const url = new URL(req.url, vendor);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (url.pathname === '/callback') {
      const q = JSON.stringify(Object.fromEntries(url.searchParams));
      res.end(`<!doctype html><title>Callback</title><pre id="result">${q.replace(/</g, '&lt;')}</pre>`);
    } else {
      res.end(`<!doctype html><title>Vendor</title><a id="signup" href="${authorizeUrl}">Sign up with Demo platform</a>`);
    }
  });
  await new Promise((ok) => http.listen(vendorPort, '127.0.0.1', ok));
  try {
    await accountLogin(page, server, '/account/developers');
    await page.locator('#name').fill('Oidc vendor');
    await page.locator('#origins').fill(vendor);
    await page.locator('#redirect_uris').fill(`${vendor}/callback`);
    await page.locator('#id_token_alg').selectOption('ES256');
    await page.getByRole('button', { name: 'Register app' }).click();
    const card = page.locator('ul.cards > li').filter({ has: page.locator('h3', { hasText: /^Oidc vendor$/ }) });
    await card.waitFor();
    assert.match(await card.innerText(), new RegExp(`Redirect URIs: ${vendor}/callback`));
    const clientId = (await card.locator('code').first().innerText()).trim();
    await context.clearCookies();

    const params = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: `${vendor}/callback`,
      scope: 'openid email profile',
      state: 'e2e-state',
      nonce: 'e2e-nonce',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    authorizeUrl = `${server.platform}/oauth/authorize?${params}`;
    await page.goto(vendor);
    await page.locator('#signup').click();
    await page.locator('form[action="/oauth/authorize/login"]').waitFor();
    await page.locator('#email').fill(server.person.email);
    await page.locator('#password').fill(server.person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('form[action="/oauth/authorize/decision"]').waitFor();
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.waitForURL((u) => u.href.startsWith(`${vendor}/callback`));
    const result = JSON.parse(await page.locator('#result').innerText());
    assert.equal(result.state, 'e2e-state');
    assert.match(result.code, /^onr_code_/);
    assert.equal(result.error, undefined);
    // RFC 9207: the answer names its issuer, the one discovery advertises.
    const meta = await (await fetch(`${server.platform}/.well-known/openid-configuration`)).json();
    assert.equal(result.iss, meta.issuer);
  } finally {
    await new Promise((ok) => http.close(ok));
  }
});
