// Browser test of co-browsing against a real `parley serve`, with two Chromium pages reached
// through the UI only: the owner turns co-browsing on for the site (Sites → the site →
// Co-browsing settings, idle limit 10 s), opens the workspace and takes a visitor's chat from the
// demo page; the Co-browse button asks the visitor, who shares the page from the widget. The
// agent sees the page change live (the basket); the balance (parley-nosync), the private note
// (data-parley-private) and the card fields never reach the agent's DOM, nor the typed name;
// the hostile markup the demo page carries (handlers, script URLs, an onerror image) runs
// nowhere in the console (no window.__pwned, no dialog). A click on the viewer does nothing in
// view mode; after the agent requests control and the visitor allows it, the same click presses
// the visitor's button. The visitor's banner Stop ends the session (the agent sees why); a second
// session ends by itself when the agent leaves the viewer untouched past the site's idle limit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, launchChromium, openWorkspace, signIn, startParley } from '../lib/parley.mjs';
import { followLink, guarded, startVisitorChat, stopAll, watchPage } from '../lib/checks.mjs';

const TENANT = 'Cobrowse Bank';
const SITE = 'Acme Cobrowse';
const env = {};
const problems = [];
const pages = new Map();
const dialogs = [];

// watch records a page's script and console errors. On the visitor's page, the demo page's own
// policy refusing its hostile markup (inline handlers) is expected, and skipped.
function watch(page, label, hostile = false) {
  watchPage(page, label, hostile
    ? { problems, pages, state: { expectRefusal: true }, refusal: /inline event handler/ }
    : { problems, pages, state: env });
  page.on('dialog', (d) => { dialogs.push(`${label}: ${d.message()}`); d.dismiss().catch(() => {}); });
}

describe('co-browsing: consent, live view, private fields, control, stop, idle', { timeout: 900000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.owner = await env.parley.createUser(TENANT, 'owner@cb.test', 'owner', 'Olivia Owner');
    env.siteKey = await env.parley.createSite(env.owner.tenant, SITE, [env.parley.base]);
    const dept = await env.parley.command(['department', 'create', '--tenant', env.owner.tenant, '--name', 'Cards']);
    assert.equal(dept.code, 0, `parley department create: ${dept.stderr}`);
    env.browser = await launchChromium();
  }, { timeout: 900000 });
  after(() => stopAll(env), { timeout: 60000 });
  it('shares a page with consent, never its private parts, and ends it', { timeout: 600000 }, (t) => guarded(t, session, { problems, pages, prefix: 'cobrowse' }));
});

// viewerHTML is the replayed page's markup in the agent's viewer ('' when none).
function viewerHTML(agent) {
  return agent.evaluate(() => {
    const f = document.querySelector('iframe.cb-frame');
    return f && f.contentDocument ? f.contentDocument.documentElement.outerHTML : '';
  });
}

// pwned reports whether any hostile payload ran in the agent's console or its viewer.
function pwned(agent) {
  return agent.evaluate(() => {
    const f = document.querySelector('iframe.cb-frame');
    let inner = false;
    try { inner = !!(f && f.contentWindow && f.contentWindow.__pwned); } catch { inner = false; }
    return !!window.__pwned || inner;
  });
}

async function session() {
  // --- the owner turns co-browsing on for the site, from the console -------------------------
  const agentCtx = await env.browser.newContext({ viewport: { width: 1440, height: 1200 } });
  const agent = await agentCtx.newPage();
  watch(agent, 'agent');
  await signIn(agent, env.parley.base, env.owner);
  await followLink(agent, agent.locator('nav a[href="/sites"]').first(), '/sites');
  await Promise.all([agent.waitForURL((u) => /^\/sites\/[^/]+$/.test(u.pathname)), agent.getByRole('link', { name: SITE }).first().click()]);
  await Promise.all([agent.waitForURL((u) => u.pathname.endsWith('/cobrowse')), agent.getByRole('link', { name: /co-browsing settings/i }).click()]);
  await agent.getByLabel(/agents may ask visitors to share/i).check();
  await agent.getByLabel(/has not touched the shared page/i).fill('120');
  await Promise.all([agent.waitForURL((u) => u.search.includes('notice=saved')), agent.getByRole('button', { name: /save co-browsing settings/i }).click()]);
  assert.ok(await agent.getByLabel(/agents may ask visitors to share/i).isChecked(), 'co-browsing is on');
  await openWorkspace(agent, env.parley.base);
  await agent.locator('.cw-conn', { hasText: /connected/i }).waitFor();

  // --- a visitor chats from the demo page; the agent takes the chat ---------------------------
  const visitorCtx = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const visitor = await visitorCtx.newPage();
  watch(visitor, 'visitor', true);
  await visitor.goto(`${env.parley.base}/demo?site=${env.siteKey}`);
  const launcher = visitor.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await launcher.click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  const composer = await startVisitorChat(frame, { name: 'Ada Lovelace', email: 'ada@example.com', department: 'Cards' });
  await composer.fill('Can you show me where to pay?');
  await composer.press('Enter');
  const offer = agent.locator('.cw-offer', { hasText: 'Ada Lovelace' });
  const tab = agent.getByRole('tab', { name: /Ada Lovelace/ });
  await Promise.race([offer.waitFor(), tab.waitFor()]);
  if (await offer.count()) await offer.getByRole('button', { name: /accept/i }).click();
  await tab.waitFor();
  await agent.locator('.cw-log').getByText('where to pay').waitFor();

  // The visitor's page takes on hostile markup, and the visitor types into it, before anything
  // is shared.
  await visitor.getByRole('button', { name: 'Add hostile markup' }).click();
  await visitor.locator('#demo-fineprint a.demo-terms').waitFor();
  await visitor.getByLabel('Name on the order').fill('Ada Lovelace');
  await visitor.getByLabel('Card number').fill('4111 1111 1111 1111');
  await visitor.getByLabel('Security code').fill('737');

  // --- the agent asks; the visitor agrees ---------------------------------------------------------
  await agent.getByRole('button', { name: /^co-browse$/i }).click();
  await agent.locator('.cb-status', { hasText: /waiting for the visitor/i }).waitFor();
  await frame.getByText(/asks to see this page with you/i).waitFor();
  await frame.getByRole('button', { name: /share this page/i }).click();
  const banner = visitor.locator('.pw-cobrowse');
  await banner.getByText(/your screen is being shared/i).waitFor();
  await agent.locator('.cb-status', { hasText: /viewing the visitor's page/i }).waitFor();
  const viewer = agent.frameLocator('iframe.cb-frame');
  await viewer.getByRole('heading', { name: /banking that answers back/i }).waitFor();
  await viewer.locator('#demo-basket', { hasText: 'Basket: 0 items' }).waitFor();
  await agent.screenshot({ path: path.join(artifacts, 'cobrowse-agent-view.png') });
  await visitor.screenshot({ path: path.join(artifacts, 'cobrowse-visitor-banner.png') });

  // --- live: the visitor's page changes, the agent sees it ---------------------------------------
  await visitor.getByRole('button', { name: /add to basket/i }).click();
  await viewer.locator('#demo-basket', { hasText: 'Basket: 1 item' }).waitFor();
  await visitor.getByLabel('Name on the order').fill('Ada King');
  await visitor.getByLabel('Card number').fill('4111 1111 1111 1112');

  // --- nothing private in the agent's DOM ----------------------------------------------------------
  await agent.waitForTimeout(500); // the recorder batches for 100 ms
  const html = await viewerHTML(agent);
  for (const secret of ['12,345.67', 'Private note', '9876-5432', '4111 1111 1111 111', '4111111111111111', 'Ada King', 'Ada Lovelace']) {
    assert.ok(!html.includes(secret), `the agent's viewer holds ${secret}`);
    assert.ok(!(await agent.content()).includes(secret) || secret === 'Ada Lovelace', `the agent's console holds ${secret}`);
  }
  assert.ok(html.includes('parley-private-placeholder'), 'private elements show as placeholders');
  assert.equal(await viewer.locator('.parley-nosync, [data-parley-private], [onclick], [onerror], [srcset]').count(), 0, 'no private element or handler in the viewer');
  assert.equal(await viewer.locator('a[href^="javascript"]').count(), 0, 'no script URL in the viewer');
  assert.equal(await viewer.locator('#demo-card, #demo-cvc, [autocomplete^="cc-"]').count(), 0, 'the card fields are not in the viewer');
  assert.equal(await viewer.locator('script').count(), 0, 'no script element in the viewer');
  assert.equal(await pwned(agent), false, 'no payload ran in the console');
  assert.deepEqual(dialogs, [], 'no dialog opened');

  // --- control: a click does nothing before the visitor's second consent --------------------------
  const button = viewer.locator('#demo-add');
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  assert.ok(box, 'the button is visible in the viewer');
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await agent.mouse.click(at.x, at.y);
  await agent.getByRole('button', { name: /request control/i }).click();
  await frame.getByText(/asks to guide you on this page/i).waitFor();
  // The control request reached the page after the click: the click changed nothing.
  assert.equal(await visitor.locator('#demo-basket').textContent(), 'Basket: 1 item', 'a click in view mode reached the page');
  await frame.getByRole('button', { name: /^allow$/i }).click();
  await agent.locator('.cb-status', { hasText: /in control/i }).waitFor();
  await banner.getByText(/agent can click and type/i).waitFor();
  await button.scrollIntoViewIfNeeded();
  const box2 = await button.boundingBox();
  await agent.mouse.click(box2.x + box2.width / 2, box2.y + box2.height / 2);
  await visitor.locator('#demo-basket', { hasText: 'Basket: 2 items' }).waitFor();
  await viewer.locator('#demo-basket', { hasText: 'Basket: 2 items' }).waitFor();
  assert.equal(await pwned(agent), false, 'no payload ran in the console');

  // --- the visitor stops; the agent sees why --------------------------------------------------------
  await banner.getByRole('button', { name: /^stop$/i }).click();
  await agent.locator('.cb-status', { hasText: /ended: the visitor stopped it/i }).waitFor();
  await banner.waitFor({ state: 'detached' });
  assert.ok(!(await viewerHTML(agent)).includes('Basket'), 'the page does not stay on screen after the end');

  // --- a second session ends when the agent stays idle past the site's limit, set to 10 s ----------
  const settings = await agentCtx.newPage();
  watch(settings, 'settings');
  await settings.goto(`${env.parley.base}/sites`);
  await Promise.all([settings.waitForURL((u) => /^\/sites\/[^/]+$/.test(u.pathname)), settings.getByRole('link', { name: SITE }).first().click()]);
  await Promise.all([settings.waitForURL((u) => u.pathname.endsWith('/cobrowse')), settings.getByRole('link', { name: /co-browsing settings/i }).click()]);
  await settings.getByLabel(/has not touched the shared page/i).fill('10');
  await Promise.all([settings.waitForURL((u) => u.search.includes('notice=saved')), settings.getByRole('button', { name: /save co-browsing settings/i }).click()]);
  await settings.close();
  pages.delete('settings');
  await agent.bringToFront();
  await agent.mouse.move(5, 5);
  await agent.getByRole('button', { name: /^co-browse$/i }).click();
  await frame.getByRole('button', { name: /share this page/i }).last().click();
  await banner.getByText(/your screen is being shared/i).waitFor();
  await agent.locator('.cb-status', { hasText: /viewing the visitor's page/i }).waitFor();
  await agent.locator('.cb-status', { hasText: /idle too long/i }).waitFor({ timeout: 60000 });
  await banner.waitFor({ state: 'detached' });
  await frame.getByText(/page sharing has ended/i).last().waitFor();
  await agent.screenshot({ path: path.join(artifacts, 'cobrowse-idle-ended.png') });
  assert.equal(await pwned(agent), false, 'no payload ran in the console');
  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.deepEqual(problems, [], 'no script or console errors');
}
