// Browser tests of the operator console: an operator signs in with a TOTP
// code (enrolling an authenticator at the first sign-in), creates an
// instance, approves a partner application, issues a key; the key's calls
// show in the partner's usage chart and the audit log shows every step.
// Screenshots of each screen go to e2e/output/console-*.png.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';

const BIN = process.env.ONRAMP_BIN || join(process.env.CARGO_TARGET_DIR || new URL('../target', import.meta.url).pathname, 'debug', 'onramp');
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

async function shot(page, name) {
  await page.screenshot({ path: join(OUTPUT, `console-${name}.png`), fullPage: true, timeout: STEP_MS });
}

/** Registers the console's tests with the runner's `e2e`. */
export function consoleTests(e2e) {
  e2e('console', async ({ server, page }) => {
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

  // A partner applies (here with the CLI), the operator approves it and issues a key.
  const applied = JSON.parse(
    execFileSync(BIN, ['--data-dir', server.dataDir, '--json', 'partner', 'create', 'shopco', 'staging', 'Reseller Ltd']).toString(),
  );
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Partners' }).click();
  await page.getByRole('link', { name: 'Reseller Ltd' }).click();
  await shot(page, 'application');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Approved').first().waitFor();
  await page.getByLabel('Expires after (days, empty for never)').fill('90');
  await page.getByRole('button', { name: 'Issue key' }).click();
  const key = (await page.locator('#new-key').innerText()).trim();
  assert.match(key, /\S{20,}/, 'the key is shown once');
  await shot(page, 'key-issued');

  // The key works, and its calls show in the partner's usage.
  for (let i = 0; i < 3; i++) {
    const status = await postJson(server.port, `api.staging.shopco.localhost:${server.port}`, '/v1/partners/create', { 'x-api-key': key }, {
      primaryEmail: `buyer${i}@example.com`,
      password: 'Partner-made-pw-1',
    });
    assert.equal(status, 201, 'the issued key creates accounts');
  }
  const usage = `${server.console}/partners/${applied.id}?period=24h`;
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    await page.goto(usage);
    const total = await page.locator('tfoot td.num').last().innerText();
    if (total.trim() === '3') break;
    assert.ok(Date.now() < deadline, `the 3 calls show in the usage table (total ${total})`);
    await page.waitForTimeout(500);
  }
  assert.equal(await page.locator('figure.chart svg[role="img"]').count(), 1, 'a chart of the calls');
  await shot(page, 'usage');

  // The audit log shows each step, with the operator as actor.
  await page.goto(`${server.console}/audit?instance=shopco`);
  const log = await page.locator('main table').innerText();
  for (const action of ['instance.created', 'partner.approved', 'api_key.issued']) assert.ok(log.includes(action), action);
  assert.ok(log.includes('operator:'), 'the operator is the actor');
  await shot(page, 'audit');
  const csv = await page.request.get(`${server.console}/audit.csv?instance=shopco`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /partner\.approved/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${server.console}/sign-in`);
});
}
