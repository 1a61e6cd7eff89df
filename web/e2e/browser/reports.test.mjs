// The reports page as a supervisor or owner reaches it, against a real `parley serve`, through
// links and buttons only: the owner creates the demo site, takes three chats from visitors of the
// demo page in the workspace, each visitor ends the chat and rates it; then the owner opens
// "Reports" from the console navigation and finds the chats, the satisfaction ratings, the charts
// with their tables, picks a preset period, downloads the CSV and sees a wrong range refused.
// The page is checked with axe-core's WCAG 2.2 AA rules and photographed into
// docs/screenshots/reports.png. Run: cd web/e2e && node --test browser/reports.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, startVisitorChat, stopAll, watchPage } from '../lib/checks.mjs';
const VIEWPORT = { width: 1280, height: 800 };
const env = { problems: [], pages: new Map() };

function watch(page, label) {
  watchPage(page, label, { problems: env.problems, pages: env.pages, state: env, refusal: /status of 422/ });
}

// axe checks the page with axe-core's WCAG 2.2 AA rules.
function axe(page, label) {
  return assertAccessible(page, label, env);
}

// chat runs one visitor's chat on the demo page: the owner accepts and answers in the workspace,
// the visitor ends the chat and gives rating stars.
async function chat(desk, visitorURL, name, rating) {
  const vctx = await env.browser.newContext({ viewport: VIEWPORT });
  const visitor = await vctx.newPage();
  watch(visitor, `visitor-${name}`);
  await visitor.goto(visitorURL);
  const launcher = visitor.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await launcher.click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  const composer = await startVisitorChat(frame, { name });
  await composer.fill(`Hello, this is ${name}`);
  await composer.press('Enter');
  await desk.locator('.cw-offer', { hasText: name }).getByRole('button', { name: /accept/i }).click();
  await desk.locator('.cw-log').getByText(`Hello, this is ${name}`).waitFor();
  const reply = desk.getByRole('textbox', { name: /message/i });
  await reply.fill(`Hello ${name}, how can I help?`);
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: `Hello ${name}, how can I help?` }).waitFor();
  await frame.getByRole('button', { name: /end chat/i }).click();
  await frame.getByRole('button', { name: /yes/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  await frame.locator(`label[for=rating-${rating}]`).click();
  await frame.getByRole('button', { name: /send feedback/i }).click();
  await frame.getByText(/thank you for your feedback/i).waitFor();
  await vctx.close();
  env.pages.delete(`visitor-${name}`);
}

describe('reports', { timeout: 900000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.browser = await launchChromium();
  }, { timeout: 900000 });
  after(() => stopAll(env), { timeout: 60000 });

  it('shows the chats an owner took, reached from the navigation', { timeout: 600000 }, async (t) => {
    await guarded(t, flow, { problems: env.problems, pages: env.pages, prefix: 'reports' });
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

async function flow() {
  const base = env.parley.base;
  const owner = await env.parley.createUser('Report Bank', 'owner@reports.test', 'owner');
  const ctx = await env.browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  const page = await ctx.newPage();
  watch(page, 'owner');
  await signIn(page, base, owner);

  // The demo site, from the overview's button, and its visitor page.
  if (!(await page.getByRole('button', { name: /create a demo site/i }).count())) {
    await page.goto(`${base}/setup/demo-site`);
  }
  await page.getByRole('button', { name: /create a demo site/i }).first().click();
  await page.getByText(/the demo site was created/i).waitFor();
  const visitorURL = new URL(await page.getByRole('link', { name: /open the visitor page/i }).getAttribute('href'), base).href;

  // Three chats taken in the workspace, rated 5, 4 and 2.
  const desk = await (await env.browser.newContext({ viewport: VIEWPORT })).newPage();
  watch(desk, 'workspace');
  await signIn(desk, base, owner);
  await openWorkspace(desk, base);
  await desk.locator('.cw-conn', { hasText: /connected/i }).waitFor();
  for (const [name, rating] of [['Vera Visitor', 5], ['Walter Visitor', 4], ['Xena Visitor', 2]]) {
    await chat(desk, visitorURL, name, rating);
  }

  // Reports, from the navigation.
  await followLink(page, page.getByRole('link', { name: 'Reports', exact: true }), '/reports');
  await page.getByRole('heading', { name: 'Summary' }).waitFor();
  const kpi = (label) => page.locator('.kpis div', { hasText: label }).locator('dd').first().textContent();
  assert.equal((await kpi('Chats')).trim(), '3', 'three chats');
  assert.match(await kpi('Missed'), /^0/, 'none missed');
  assert.match(await kpi('CSAT mean'), /3\.67/, 'mean rating (5 + 4 + 2) / 3');
  assert.match(await page.locator('main').textContent(), /Times are in UTC\./);
  const csat = await page.locator('table', { has: page.locator('caption', { hasText: 'Chats by satisfaction rating' }) })
    .locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].slice(0, 2).map((c) => c.textContent.trim())));
  assert.deepEqual(csat, [['1', '0'], ['2', '1'], ['3', '0'], ['4', '1'], ['5', '1']], 'the CSAT table');
  assert.equal(await page.locator('svg.chart').count(), 3, 'three charts');
  await axe(page, 'reports');
  // The whole page (summary, charts and tables) at 1280 px wide.
  await page.screenshot({ path: path.join(repoRoot, 'docs/screenshots/reports.png'), fullPage: true });
  await page.screenshot({ path: path.join(artifacts, 'reports.png'), fullPage: true });

  // A preset period, then the CSV of what is shown.
  await page.getByRole('link', { name: 'Last 30 days' }).click();
  await page.waitForURL((u) => u.pathname === '/reports' && u.searchParams.has('from'));
  assert.equal(await page.getByRole('link', { name: 'Last 30 days' }).getAttribute('aria-current'), 'true');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /download csv/i }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^section,name,chats,missed,/);
  assert.match(csv, /\ntotal,[^,]+,3,0,/);

  // A reversed range is refused with the field marked.
  env.expectRefusal = true;
  await page.getByLabel('From', { exact: true }).fill('2026-02-10');
  await page.getByLabel('To', { exact: true }).fill('2026-02-01');
  await page.getByRole('button', { name: /show report/i }).click();
  await page.getByText('The end date must not be before the start date.').waitFor();
  assert.equal(await page.getByLabel('To', { exact: true }).getAttribute('aria-invalid'), 'true');
  env.expectRefusal = false;
  await axe(page, 'reports with an error');
}
