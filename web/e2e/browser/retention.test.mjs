// Retention as an organisation's owner uses it, against a real `parley serve`, through links,
// buttons and forms only: the owner opens Administration → Retention from the navigation,
// shortens the transcript period (a period under the minimum is refused with the minimum named),
// gives a site its own period, places a legal hold on the whole organisation, sees the retention
// job's scheduled run suspended by it, and lifts it. The page is checked with
// axe-core's WCAG 2.2 AA rules, must not scroll sideways at 390 px, and is screenshotted into
// docs/screenshots/retention.png. Run: cd web/e2e && node --test browser/retention.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, launchChromium, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, stopAll } from '../lib/checks.mjs';
const TENANT = 'Retention Bank';

const env = { problems: [], pages: new Map() };

function watch(page, label) {
  page.on('pageerror', (e) => env.problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' || env.auditing || /favicon/i.test(m.location()?.url || '')) return;
    // A refused form answers 422 on purpose; the page shows why.
    if (/status of 422/.test(m.text())) return;
    env.problems.push(`${label} console: ${m.text()} ${m.location()?.url || ''}`);
  });
}

// axe checks the page with axe-core's WCAG 2.2 AA rules, its frames included.
function axe(page, label) {
  return assertAccessible(page, label, env, { iframes: true });
}

describe('retention', { timeout: 300000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.browser = await launchChromium();
  });

  after(() => stopAll(env));

  it('lets the owner set periods and legal holds from Administration → Retention', async (t) => {
    await guarded(t, flow, { problems: env.problems, pages: env.pages, prefix: 'retention', fullPage: true });
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

async function flow() {
  const owner = await env.parley.createUser(TENANT, 'owner@retention.test', 'owner');
  await env.parley.createSite(owner.tenant, 'Loans desk', ['https://loans.retention.test']);
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  env.pages.set('owner', page);
  watch(page, 'owner');
  await signIn(page, env.parley.base, owner);

  // Reached through the navigation only.
  const link = page.locator('nav.side a', { hasText: /^Retention$/ });
  await followLink(page, link, '/retention');
  await page.getByRole('heading', { level: 1, name: 'Retention' }).waitFor();
  assert.equal(await link.getAttribute('aria-current'), 'page');

  // Under the minimum: refused, naming it.
  const transcripts = page.getByLabel('Keep Chat transcripts for (days)');
  await transcripts.fill('7');
  await Promise.all([page.waitForLoadState('load'), transcripts.press('Enter')]);
  await page.getByText('Chat transcripts must be kept at least 30 days').waitFor();
  assert.equal(await page.getByLabel('Keep Chat transcripts for (days)').getAttribute('aria-invalid'), 'true');
  await axe(page, 'retention page with a field error');

  await page.getByLabel('Keep Chat transcripts for (days)').fill('365');
  await Promise.all([page.waitForURL(/notice=retention_changed/), page.getByLabel('Keep Chat transcripts for (days)').press('Enter')]);
  await page.getByText('Chat transcripts: kept for 365 days').waitFor();

  // A site's own period for files.
  await page.getByLabel('Site', { exact: true }).selectOption({ label: 'Loans desk' });
  await page.getByLabel('Data', { exact: true }).selectOption({ label: 'Files shared in chats' });
  await page.getByLabel('Kept for (days)', { exact: true }).fill('30');
  await Promise.all([page.waitForURL(/notice=site_changed/), page.getByRole('button', { name: 'Save site period' }).click()]);
  await page.locator('td', { hasText: 'Loans desk' }).waitFor();

  // A legal hold on the whole organisation: placed, listed, screenshotted, then lifted.
  await page.getByLabel('Covers').selectOption('organisation');
  await page.getByLabel('Reason', { exact: true }).fill('Litigation hold, matter 2026-14');
  await Promise.all([page.waitForURL(/notice=hold_placed/), page.getByRole('button', { name: 'Place hold' }).click()]);
  await page.locator('td', { hasText: 'Litigation hold, matter 2026-14' }).waitFor();
  // The server runs the retention job a minute after it starts: reopen the page from the
  // navigation until its last run shows, suspended by the hold.
  const deadline = Date.now() + 120000;
  while (!(await page.getByRole('table', { name: 'Removed by the last run' }).count())) {
    assert.ok(Date.now() < deadline, 'the retention job did not run within two minutes of the start');
    await new Promise((r) => { setTimeout(r, 3000); });
    await followLink(page, link, '/retention');
  }
  await page.getByText('suspended: the whole organisation is under legal hold').waitFor();
  await axe(page, 'retention page');
  await page.screenshot({ path: path.join(repoRoot, 'docs', 'screenshots', 'retention.png'), fullPage: true });

  await page.getByLabel('Reason for lifting').fill('Matter settled');
  await Promise.all([page.waitForURL(/notice=hold_released/), page.getByRole('button', { name: 'Lift hold' }).click()]);
  await page.getByText('No legal hold is in force.').waitFor();

  // Reflow: nothing scrolls sideways on a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
  assert.equal(wide, false, 'the retention page scrolls sideways at 390 px');
  await ctx.close();
}
