// The auditor's console and compliance evidence as an auditor uses them, against a real
// `parley serve`, through links, buttons and forms only: the auditor signs in (landing on the
// audit log) and sees exactly their five areas in the navigation (audit log, integrity, access
// review, evidence, key status), verifies the chain now, opens Compliance → Evidence from the
// navigation, generates a HIPAA report for a period, finds it in the history, downloads its
// bundle, and the downloaded bundle verifies offline with `parley evidence verify` under the
// published audit signing key; then opens Integrity, runs "Verify now" and follows its progress
// to the result, sees the signed checkpoints (each verifying) and the forwarding status, and
// opens Key status, read-only. The pages are checked with axe-core's WCAG 2.2 AA rules and must
// not scroll sideways at 390 px.
// Run: cd web/e2e && node --test browser/evidence.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { artifacts, launchChromium, signIn, startParley } from '../lib/parley.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const TENANT = 'Evidence Clinic';

const env = { problems: [] };

function watch(page, label) {
  page.on('pageerror', (e) => env.problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' || env.auditing || /favicon/i.test(m.location()?.url || '')) return;
    env.problems.push(`${label} console: ${m.text()} ${m.location()?.url || ''}`);
  });
}

async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  env.auditing = true;
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, TAGS).finally(() => { env.auditing = false; });
  assert.deepEqual(violations, [], `${label}: WCAG 2.2 AA violations`);
}

describe('evidence', { timeout: 300000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.browser = await launchChromium();
  });

  after(async () => {
    if (env.failed && env.page) await env.page.screenshot({ path: path.join(artifacts, 'evidence-failure.png'), fullPage: true }).catch(() => {});
    await env.browser?.close();
    await env.parley?.stop();
  });

  it('lets an auditor generate, download and verify an evidence report', async () => {
    try {
      await flow();
    } catch (e) {
      env.failed = true;
      throw e;
    }
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

async function flow() {
  const auditor = await env.parley.createUser(TENANT, 'auditor@clinic.test', 'auditor', 'Ada Auditor');
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await ctx.newPage();
  env.page = page;
  watch(page, 'auditor');
  await signIn(page, env.parley.base, auditor);
  assert.equal(new URL(page.url()).pathname, '/audit', 'the auditor lands on the audit log');
  const nav = await page.locator('nav.side a').evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
  assert.deepEqual(nav, ['/audit', '/integrity', '/access-review', '/evidence', '/keys'], 'the auditor sees exactly their five areas');

  // Integrity: verify the chain now.
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Verify the chain now' }).click()]);
  await page.getByText('The chain verifies.').waitFor();

  // Compliance → Evidence, reached through the navigation only.
  const link = page.locator('nav.side a', { hasText: /^Evidence$/ });
  await Promise.all([page.waitForURL((u) => u.pathname === '/evidence'), link.click()]);
  await page.getByRole('heading', { level: 1, name: 'Evidence' }).waitFor();
  assert.equal(await link.getAttribute('aria-current'), 'page');
  await page.getByText('No evidence report has been generated yet.').waitFor();
  await axe(page, 'evidence page');

  // Generate a HIPAA report for the period (the form offers the last twelve months).
  await page.getByLabel('HIPAA Security Rule').check();
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('Last day of the period').fill(today);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/evidence' && u.searchParams.get('notice') === 'generated'),
    page.getByRole('button', { name: 'Generate report' }).click(),
  ]);
  await page.getByRole('status').filter({ hasText: 'generated and signed' }).waitFor();
  const row = page.locator('table.evidence-table tbody tr').first();
  assert.match(await row.textContent(), /HIPAA Security Rule/);
  await axe(page, 'evidence page with a report');

  // Download the bundle and verify it offline under the published key.
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: /download bundle/i }).click()]);
  assert.match(download.suggestedFilename(), /^parley-evidence-hipaa-\d{8}-\d{8}\.tar$/);
  const file = path.join(env.parley.tmp, download.suggestedFilename());
  await download.saveAs(file);
  const key = path.join(env.parley.dataDir, 'audit-signing.pub'); // the published key
  const r = await env.parley.command(['evidence', 'verify', '--trusted-key', key, file]);
  assert.equal(r.code, 0, `evidence verify: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /intact — HIPAA Security Rule \(45 CFR 164\) evidence for Evidence Clinic/);
  assert.match(r.stdout, /signed with the trusted key/);

  // A changed byte in the report fails, naming the file.
  const raw = fs.readFileSync(file);
  const at = raw.indexOf(Buffer.from('<h1>'));
  assert.ok(at > 0, 'the bundle holds the HTML report');
  raw[at + 1] ^= 0x01;
  const bad = path.join(env.parley.tmp, 'tampered.tar');
  fs.writeFileSync(bad, raw);
  const t = await env.parley.command(['evidence', 'verify', '--trusted-key', key, bad]);
  assert.equal(t.code, 1);
  assert.match(t.stdout, /DAMAGED — file report\.html/);

  // Compliance → Integrity: verify now, with progress, to the result.
  const integrity = page.locator('nav.side a', { hasText: /^Integrity$/ });
  await Promise.all([page.waitForURL((u) => u.pathname === '/integrity'), integrity.click()]);
  await page.getByRole('heading', { level: 1, name: 'Integrity' }).waitFor();
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/integrity' && /^[0-9a-f]{32}$/.test(u.searchParams.get('job') || '')),
    page.getByRole('button', { name: 'Verify now' }).click(),
  ]);
  const verified = page.getByText('The chain verifies.');
  await verified.waitFor({ timeout: 60000 });
  assert.match(await page.locator('#verification').textContent(), /(\d+) of \1 events checked/);
  // Generating the report signed a checkpoint at the chain's head: it is listed and verifies.
  const cp = page.locator('section[aria-labelledby="checkpoints-heading"] tbody tr').first();
  await cp.waitFor();
  assert.match(await cp.textContent(), /verifies/);
  assert.doesNotMatch(await cp.textContent(), /does not verify/);
  await page.getByRole('heading', { level: 2, name: 'Forwarding' }).waitFor();
  await axe(page, 'integrity page');

  // Compliance → Key status: read-only for the auditor.
  const keys = page.locator('nav.side a', { hasText: /^Key status$/ });
  await Promise.all([page.waitForURL((u) => u.pathname === '/keys'), keys.click()]);
  await page.getByText('Rotation due').waitFor();
  await page.getByText('Minimum decryption version', { exact: true }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Rotate the key' }).count(), 0, 'the auditor is offered no rotation');
  await axe(page, 'key status page');

  // Narrow screens: no sideways scrolling.
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 390 px`);
  await ctx.close();
}
