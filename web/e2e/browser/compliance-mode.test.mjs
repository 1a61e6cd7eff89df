// The compliance mode as an organisation's administrator uses it, against a real `parley serve`,
// through links, buttons and forms only: the administrator opens Administration → Compliance mode
// from the navigation and turns PCI DSS on; the drift shows at once (the test server runs the
// development key provider and plain HTTP, so PCI DSS 3.5.1 and 4.2.1 drift); on the Security
// policy page, requiring two-step verification of everyone is accepted, and turning it off again
// is refused with the control named (PCI DSS 8.4.1-8.4.3); the overview lists the drift with a
// link to the setting. Pages are checked with axe-core's WCAG 2.2 AA rules and must not scroll
// sideways at 390 px. Run: cd web/e2e && node --test browser/compliance-mode.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { artifacts, launchChromium, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, stopAll, watchPage } from '../lib/checks.mjs';

const TENANT = 'Mode Bank';
const env = { problems: [], pages: new Map(), state: {} };

describe('compliance mode', { timeout: 300000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.browser = await launchChromium();
  });

  after(() => stopAll(env));

  it('refuses to turn MFA off under PCI DSS and shows the drift on the overview', async (t) => {
    await guarded(t, flow, { problems: env.problems, pages: env.pages, prefix: 'compliance-mode', fullPage: true });
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

// nav returns the link of the console's navigation named label.
function nav(page, label) {
  return page.locator('nav.side a', { hasText: new RegExp(`^${label}$`) });
}

// driftPanel reloads page until the drift panel lists its checks (the monitor computes them in the
// background, just after the change), and returns the panel.
async function driftPanel(page) {
  const panel = page.locator('#drift-panel');
  for (let i = 0; i < 40; i++) {
    if ((await panel.locator('li[data-check]').count()) > 0) return panel;
    await page.waitForTimeout(250);
    await page.reload();
  }
  assert.fail('the drift panel lists no check');
}

async function flow() {
  const admin = await env.parley.createUser(TENANT, 'admin@modebank.test', 'admin', 'Ada Admin');
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watchPage(page, 'admin', { problems: env.problems, pages: env.pages, state: env.state, refusal: /status of (409|422)/ });
  await signIn(page, env.parley.base, admin);
  assert.equal(new URL(page.url()).pathname, '/overview', 'the administrator lands on the overview');
  assert.equal(await page.locator('#drift-panel').count(), 0, 'no drift panel without a compliance mode');

  // Administration → Compliance mode, through the navigation.
  await followLink(page, nav(page, 'Compliance mode'), '/compliance-mode');
  await page.getByRole('heading', { level: 1, name: 'Compliance mode' }).waitFor();
  assert.equal(await page.locator('#current-mode').textContent(), 'none');
  await assertAccessible(page, 'compliance mode page', env.state);

  await page.getByLabel('PCI DSS v4.0.1').check();
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/compliance-mode' && u.searchParams.get('notice') === 'saved'),
    page.getByRole('button', { name: 'Save the compliance mode' }).click(),
  ]);
  assert.equal(await page.locator('#current-mode').textContent(), 'pci');
  let panel = await driftPanel(page);
  assert.match(await panel.textContent(), /PCI DSS 3\.5\.1/, 'the development key provider drifts');
  await assertAccessible(page, 'compliance mode page with drift', env.state);

  // Security policy: requiring MFA of everyone is accepted; turning it off again is refused.
  await followLink(page, nav(page, 'Security policy'), '/security');
  const mfa = page.locator('#mfa');
  await mfa.getByLabel('Everyone must use two-step verification').check();
  await Promise.all([page.waitForURL((u) => u.pathname === '/security' && u.searchParams.has('notice')),
    mfa.getByRole('button', { name: 'Save two-step verification' }).click()]);
  assert.ok(await page.locator('#mfa-required').isChecked(), 'MFA is now required of everyone');

  env.state.expectRefusal = true;
  await page.locator('#mfa').getByLabel('Everyone must use two-step verification').uncheck();
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/security/mfa')),
    page.locator('#mfa').getByRole('button', { name: 'Save two-step verification' }).click()]);
  await page.waitForLoadState('load');
  env.state.expectRefusal = false;
  assert.equal(resp.status(), 409);
  const alert = page.getByRole('alert').filter({ hasText: 'compliance mode refuses' }).first();
  await alert.waitFor();
  assert.match(await alert.textContent(), /PCI DSS 8\.4\.1-8\.4\.3/, 'the refusal names the control');
  await assertAccessible(page, 'security page with the refusal', env.state);

  // The overview lists the drift, each with its fix and a link to the setting.
  await followLink(page, nav(page, 'Overview'), '/overview');
  panel = await driftPanel(page);
  const text = await panel.textContent();
  assert.match(text, /Compliance mode: PCI DSS v4\.0\.1/);
  assert.match(text, /PCI DSS 3\.5\.1/);
  assert.match(text, /Fix:/);
  await panel.locator('li[data-check="key-provider"]').getByRole('link', { name: 'Open the setting' }).waitFor();
  await assertAccessible(page, 'overview with drift', env.state);

  // Narrow screens: no sideways scrolling.
  for (const [label, path] of [['Overview', '/overview'], ['Compliance mode', '/compliance-mode']]) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await followLink(page, nav(page, label), path);
    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 390 px`);
  }
  await ctx.close();
}
