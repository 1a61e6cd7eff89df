// Browser test of transcripts against a real `parley serve`: a visitor chats with an agent through
// the widget (typing a card number), the visitor ends the chat and rates it; the agent then opens
// "Transcripts" from the console navigation, finds the chat in the list, opens it, adds a note and
// a tag; the owner turns on "require a reason" on the Transcript policy page (reached from the
// navigation), opens the transcript through the reason form and exports it as PDF, HTML and JSON.
// Every page passes axe-core's WCAG 2.2 AA rules; no page shows a card number. Screenshots of the
// list and the view go to docs/screenshots/. Run: cd web/e2e && node --test browser/transcripts.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, hostPage, freePort, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, sri, startVisitorChat, stopAll, watchPage } from '../lib/checks.mjs';
const CARD = '4111 1111 1111 1111';
const TENANT = 'Transcript Clinic';
const screenshots = path.join(repoRoot, 'docs/screenshots');

const env = {};
const problems = [];

function watch(page, label) {
  watchPage(page, label, { problems, state: env });
}

// axe runs axe-core's WCAG 2.2 AA rules in the page (analysis only; evaluated, not injected into
// Parley's pages) and fails on any violation.
// axe checks the page with axe-core's WCAG 2.2 AA rules, its frames included.
function axe(page, label) {
  return assertAccessible(page, label, env, { iframes: true });
}

function noCard(text, what) {
  assert.ok(!text.replace(/[\s-]/g, '').includes('4111111111111111'), `${what} shows a card number`);
}

async function setUp() {
  fs.mkdirSync(artifacts, { recursive: true });
  fs.mkdirSync(screenshots, { recursive: true });
  env.parley = await startParley();
  env.owner = await env.parley.createUser(TENANT, 'owner@clinic.test', 'owner');
  env.agent = await env.parley.createUser(TENANT, 'alice@clinic.test', 'agent');
  const hostPort = await freePort();
  const siteKey = await env.parley.createSite(env.owner.tenant, 'Clinic Portal', [`http://127.0.0.1:${hostPort}`]);
  env.host = await hostPage(env.parley.base, siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')), hostPort);
  env.browser = await launchChromium();
}

describe('transcripts', { timeout: 900000 }, () => {
  before(setUp, { timeout: 900000 });
  after(() => stopAll(env), { timeout: 60000 });
  it('a finished chat is found, read, annotated and exported through the console', { timeout: 400000 }, (t) => guarded(t, transcripts, { problems }));
});

async function transcripts() {
  const { browser, parley, host } = env;
  // The agent is online in the workspace.
  const actx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const desk = await actx.newPage();
  watch(desk, 'agent');
  await signIn(desk, parley.base, env.agent);
  await openWorkspace(desk, parley.base);
  await desk.locator('.cw-conn', { hasText: /connected/i }).waitFor();

  // A visitor chats, typing a card number, and the agent answers.
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await vctx.newPage();
  watch(visitor, 'visitor');
  await visitor.goto(host.url('/account'));
  await visitor.locator('button.pw-launcher').click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  const composer = await startVisitorChat(frame, { name: 'Grace Hopper' });
  await composer.fill(`My prescription refill was charged to ${CARD} twice`);
  await composer.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  await desk.locator('.cw-offer', { hasText: 'Grace Hopper' }).getByRole('button', { name: /accept/i }).click();
  await desk.locator('.cw-log').getByText(/charged to/).waitFor();
  const reply = desk.getByRole('textbox', { name: /message/i });
  await reply.fill('I see the duplicate refill charge; I will refund it today.');
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: /refund it today/ }).waitFor();
  // The visitor ends the chat and rates it.
  await frame.getByRole('button', { name: /end chat/i }).click();
  await frame.getByRole('button', { name: /yes/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  await frame.locator('label[for=rating-4]').click();
  await frame.getByRole('button', { name: /send feedback/i }).click();
  await frame.getByText(/thank you for your feedback/i).waitFor();

  // The agent opens Transcripts from the navigation and finds the chat.
  await followLink(desk, desk.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Transcripts' }), '/transcripts');
  const row = desk.locator('tbody tr', { hasText: 'Clinic Portal' });
  await row.waitFor();
  assert.match(await row.textContent(), /ended/);
  // A search finds it by a word of the chat.
  await desk.getByLabel(/search the messages/i).fill('refill');
  await Promise.all([desk.waitForURL((u) => u.searchParams.get('q') === 'refill'), desk.getByRole('button', { name: /show transcripts/i }).click()]);
  await desk.getByText(/searched 1 conversation/i).waitFor();
  await row.waitFor();
  await axe(desk, 'transcript list');
  await desk.screenshot({ path: path.join(screenshots, 'transcripts.png'), fullPage: true });

  // Open it, add a note (with a card number typed by mistake) and a tag.
  await Promise.all([desk.waitForURL((u) => /^\/transcripts\/[0-9a-f-]{36}$/.test(u.pathname)), row.getByRole('link').first().click()]);
  await desk.getByRole('heading', { name: 'Transcript', exact: true }).waitFor();
  await desk.getByText(/charged to/).waitFor();
  await desk.getByLabel('Add a note').fill(`Refund issued; customer repeated ${CARD} on the phone.`);
  await desk.getByRole('button', { name: 'Add note' }).click();
  await desk.getByText('The note was added.').waitFor();
  await desk.getByLabel('Add a tag').fill('Refund');
  await desk.getByRole('button', { name: 'Add tag' }).click();
  await desk.getByText('The tag was added.').waitFor();
  const viewText = await desk.locator('main').textContent();
  noCard(viewText, 'the transcript view');
  assert.match(viewText, /1111/, 'the card number shows masked');
  assert.match(viewText, /Rated 4 of 5/);
  assert.match(viewText, /G\*\*\* H\*\*\*/, "the agent sees the visitor's name masked");
  assert.equal(await desk.getByRole('button', { name: /export as/i }).count(), 0, 'an agent has no export');
  await axe(desk, 'transcript view');
  await desk.screenshot({ path: path.join(screenshots, 'transcript.png'), fullPage: true });
  // At a phone's width neither page scrolls sideways.
  const viewURL = desk.url();
  await desk.setViewportSize({ width: 390, height: 844 });
  for (const u of [viewURL, `${parley.base}/transcripts`]) {
    await desk.goto(u);
    const { scroll, inner } = await desk.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    assert.ok(scroll <= inner, `${u} at 390 px scrolls sideways (${scroll} > ${inner})`);
  }
  await desk.setViewportSize({ width: 1280, height: 800 });

  // The owner requires a reason (Transcript policy, from the navigation), then opens and exports.
  const octx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await octx.newPage();
  watch(page, 'owner');
  await signIn(page, parley.base, env.owner);
  const nav = page.getByRole('navigation', { name: 'Console' });
  await followLink(page, nav.getByRole('link', { name: 'Transcript policy' }), '/transcript-settings');
  await axe(page, 'transcript policy');
  await page.getByLabel(/require a reason/i).check();
  await page.getByRole('button', { name: /save the policy/i }).click();
  await page.getByText('The transcript policy was changed.').waitFor();
  await followLink(page, nav.getByRole('link', { name: 'Transcripts' }), '/transcripts');
  await page.locator('tbody tr', { hasText: 'refund' }).getByRole('link').first().click();
  await page.getByRole('heading', { name: /open a transcript/i }).waitFor();
  assert.equal(await page.getByText(/charged to/).count(), 0, 'no content before the reason');
  await axe(page, 'reason form');
  await page.getByLabel(/reason for opening/i).fill('Refund audit, ticket 1042');
  await page.getByRole('button', { name: /open the transcript/i }).click();
  await page.getByText(/charged to/).waitFor();
  assert.match(await page.locator('main').textContent(), /Grace Hopper/, 'the owner sees the visitor unmasked');
  for (const format of ['PDF', 'HTML', 'JSON']) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export as ${format}` }).click()]);
    const file = path.join(artifacts, `transcript-export.${format.toLowerCase()}`);
    await download.saveAs(file);
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.length > 200, `${format} export is not empty`);
    if (format !== 'PDF') {
      const text = bytes.toString('utf8');
      noCard(text, `the ${format} export`);
      assert.match(text, /owner@clinic\.test/, `the ${format} export names its exporter`);
    } else {
      assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    }
  }
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}
