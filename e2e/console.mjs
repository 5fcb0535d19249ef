// Browser tests of the operator console and the partner portal: an operator
// signs in with a TOTP code (enrolling an authenticator at the first
// sign-in), creates an instance, approves a partner application submitted
// through /partners/apply and issues a key; the partner signs in, creates
// and rotates a key, calls the API with it and sees the calls in its usage
// chart; the audit log shows every step. Screenshots of each screen go to
// e2e/output/console-*.png and e2e/output/portal-*.png.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';

const STEP_MS = 15_000;
const OUTPUT = process.env.E2E_OUTPUT || new URL('./output', import.meta.url).pathname;

/** RFC 4648 base32 to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` at `ms`. */
function totp(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[19] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** POSTs JSON to the server with a `Host` of our choice (fetch cannot set one); resolves to the status. */
function postJson(port, host, path, headers, body) {
  return new Promise((ok, fail) => {
    const data = JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode));
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

async function shot(page, name, prefix = 'console') {
  await page.screenshot({ path: join(OUTPUT, `${prefix}-${name}.png`), fullPage: true, timeout: STEP_MS });
}

/** Reloads `url` until the last cell of its usage table's total row reads `total` (usage is written every 5 s). */
async function awaitUsageTotal(page, url, total) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    await page.goto(url);
    const shown = (await page.locator('tfoot td.num').last().innerText()).trim();
    if (shown === String(total)) return;
    assert.ok(Date.now() < deadline, `the usage table shows ${total} calls (it shows ${shown})`);
    await page.waitForTimeout(500);
  }
}

/** Registers the console's tests with the runner's `e2e`. */
export function consoleTests(e2e) {
  e2e('console', async ({ server, context, page }) => {
  // Sign in: email and password, then enrol the authenticator.
  await page.goto(`${server.console}/`);
  await page.waitForURL(`${server.console}/sign-in`);
  await page.getByLabel('Email').fill(server.operator.email);
  await page.getByLabel('Password').fill(server.operator.password);
  await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.console}/sign-in/enrol`);
  assert.equal(await page.locator('figure.qr svg').count(), 1, 'the QR code is inline SVG');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await shot(page, 'enrol');
  await page.getByLabel('Authentication code').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  const codes = (await page.locator('#recovery-codes').innerText()).trim().split('\n');
  assert.equal(codes.length, 10, 'ten recovery codes, shown once');
  await shot(page, 'recovery-codes');
  await page.getByRole('link', { name: 'Continue to the console' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await shot(page, 'overview');

  // Create an instance with the partners feature.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Instances' }).click();
  await page.getByLabel('Platform id').fill('shopco');
  await page.getByLabel('Name').fill('Shop Co Learning');
  await page.getByLabel('Region').fill('eu');
  await page.getByLabel('App URL').fill('https://app.shopco.example');
  await page.getByLabel('client-accounts').check();
  await page.getByLabel('partners').check();
  await shot(page, 'instances');
  await page.getByRole('button', { name: 'Create instance' }).click();
  await page.getByText('Instance created.').waitFor();
  await shot(page, 'instance');

  // A partner applies through the portal of the new instance's staging environment.
  const portalOrigin = `http://api.staging.shopco.localhost:${server.port}`;
  const partner = await context.newPage();
  await partner.goto(`${portalOrigin}/partners/apply`);
  await partner.getByLabel('Company').fill('Reseller Ltd');
  await partner.getByLabel('Contact name').fill('Rae Seller');
  await partner.getByLabel('Email').fill('rae@reseller.example');
  await partner.getByLabel('Intended use').fill('Create accounts for our customers');
  await partner.getByLabel('Password').fill('Reseller-portal-pw-1');
  await shot(partner, 'apply', 'portal');
  await partner.getByRole('button', { name: /apply/i }).click();
  await partner.waitForURL(`${portalOrigin}/partners/status`);
  assert.match(await partner.locator('main').innerText(), /awaiting approval/i);
  await shot(partner, 'awaiting-approval', 'portal');

  // The operator approves it and issues a key.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Partners' }).click();
  await page.getByRole('link', { name: 'Reseller Ltd' }).click();
  assert.match(await page.locator('main').innerText(), /Create accounts for our customers/);
  await shot(page, 'application');
  const partnerUrl = page.url();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Approved').first().waitFor();
  await page.getByLabel('Expires after (days, empty for never)').fill('90');
  await page.getByRole('button', { name: 'Issue key' }).click();
  const issued = (await page.locator('#new-key').innerText()).trim();
  assert.match(issued, /\S{20,}/, 'the key is shown once');
  await shot(page, 'key-issued');

  // The partner, now approved, creates a key, rotates it and calls the API with the new one.
  await partner.goto(`${portalOrigin}/partners/keys`);
  await partner.getByRole('button', { name: 'Create key' }).click();
  const created = (await partner.locator('#new-key').innerText()).trim();
  assert.match(created, /\S{20,}/, 'the portal shows the new key once');
  await shot(partner, 'key-created', 'portal');
  await partner.getByRole('button', { name: 'Rotate' }).first().click();
  const key = (await partner.locator('#new-key').innerText()).trim();
  assert.notEqual(key, created, 'rotation makes a new key');
  await shot(partner, 'key-rotated', 'portal');
  for (let i = 0; i < 3; i++) {
    const status = await postJson(server.port, `api.staging.shopco.localhost:${server.port}`, '/v1/partners/create', { 'x-api-key': key }, {
      primaryEmail: `buyer${i}@example.com`,
      password: 'Partner-made-pw-1',
    });
    assert.equal(status, 201, 'the rotated key creates accounts');
  }
  await awaitUsageTotal(partner, `${portalOrigin}/partners/usage?period=24h`, 3);
  assert.equal(await partner.locator('figure.chart svg[role="img"]').count(), 1, 'a chart of the calls');
  await shot(partner, 'usage', 'portal');

  // The operator sees the same calls in the partner's usage.
  await awaitUsageTotal(page, `${partnerUrl}?period=24h`, 3);
  assert.equal(await page.locator('figure.chart svg[role="img"]').count(), 1, 'a chart of the calls');
  await shot(page, 'usage');

  // The audit log shows each step, with the operator as actor.
  await page.goto(`${server.console}/audit?instance=shopco`);
  const log = await page.locator('main table').innerText();
  for (const action of ['instance.created', 'partner.approved', 'api_key.issued', 'api_key.rotated']) assert.ok(log.includes(action), action);
  assert.ok(log.includes('operator:'), 'the operator is the actor');
  await shot(page, 'audit');
  const csv = await page.request.get(`${server.console}/audit.csv?instance=shopco`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /partner\.approved/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${server.console}/sign-in`);
});

  // On a phone: sign-in, enrolment and the main screens fit the width (tables scroll in place).
  e2e(
    'console-phone',
    async ({ server, page }) => {
      await page.goto(`${server.console}/sign-in`);
      await page.getByLabel('Email').fill(server.operator.email);
      await page.getByLabel('Password').fill(server.operator.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.console}/sign-in/enrol`);
      const secret = (await page.locator('#totp-secret').innerText()).trim();
      await page.getByLabel('Authentication code').fill(totp(secret));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('link', { name: 'Continue to the console' }).click();
      for (const [path, name] of [['/', 'overview'], ['/instances', 'instances'], ['/instances/demo/staging', 'environment'], ['/partners', 'partners'], ['/audit', 'audit']]) {
        await page.goto(`${server.console}${path}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${path} fits a phone's width (${overflow}px too wide)`);
        await shot(page, `phone-${name}`);
      }
    },
    { phone: true },
  );
}
