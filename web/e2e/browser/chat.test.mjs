// Browser tests of the visitor widget and the agent workspace against a real `parley serve`:
// a newcomer's first chat — the setup link, sign-in, "Create a demo site", the workspace and the
// demo visitor page side by side; then a customer's page on another origin embeds the loader
// (pinned with SRI); a visitor opens the chat, fills the pre-chat survey and writes; an agent
// signed in through the sign-in page opens the workspace (/workspace), takes the chat in a second
// browser context and answers; the visitor sees the answer, typing and read
// receipts travel both ways, the visitor ends the chat and rates it. A second visitor whose
// network blocks WebSocket chats over long polling. Screenshots go to artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { artifacts, hostPage, freePort, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';

const CARD = '4111 1111 1111 1111';
const TENANT = 'E2E Bank';

function sri(file) {
  return `sha384-${createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;
}

// open pages, for screenshots when the test fails, and what went wrong in them
const pages = new Map();
const problems = [];

async function failureShots() {
  for (const [label, page] of pages) {
    await page.screenshot({ path: path.join(artifacts, `failure-${label}.png`) }).catch(() => {});
  }
}

function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, name), fullPage: false });
}

// watch collects page errors, failed requests to Parley and CSP violations of page and frames.
function watch(page, problems, label) {
  pages.set(label, page);
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = (m.location() && m.location().url) || '';
    if (/favicon/i.test(where)) return;
    problems.push(`${label} console: ${m.text()} ${where}`);
  });
}

// env is what the tests share: one server, one customer site, one browser, one signed-in agent.
const env = {};

async function setUp() {
  fs.mkdirSync(artifacts, { recursive: true });
  env.parley = await startParley();
  const owner = await env.parley.createUser(TENANT, 'owner@e2e.test', 'owner');
  env.agent = await env.parley.createUser(TENANT, 'alice@e2e.test', 'agent');
  assert.ok(owner.password && env.agent.tenant, 'accounts created');

  // The customer's site runs on its own origin; Parley allows it to frame the chat.
  const hostPort = await freePort();
  env.hostOrigin = `http://127.0.0.1:${hostPort}`;
  const siteKey = await env.parley.createSite(owner.tenant, 'Acme Insurance', [env.hostOrigin]);
  assert.match(siteKey, /^site_[a-z2-7]{10,64}$/);
  env.host = await hostPage(env.parley.base, siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')), hostPort);
  env.browser = await launchChromium();

  // The agent signs in first (with nobody online the widget offers the offline form) through the
  // sign-in page, and opens the workspace from the console.
  const actx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  env.desk = await actx.newPage();
  watch(env.desk, problems, 'agent');
  await signIn(env.desk, env.parley.base, env.agent);
  await openWorkspace(env.desk, env.parley.base);
  await env.desk.locator('.cw-conn', { hasText: /connected/i }).waitFor();
}

async function tearDown() {
  if (env.browser) await env.browser.close();
  if (env.host) await env.host.close();
  if (env.parley) await env.parley.stop();
}

// guarded runs a test body; when it fails, every open page is photographed and the problems seen
// on the pages are reported with the failure.
async function guarded(t, body) {
  try {
    await body(t);
  } catch (err) {
    await failureShots();
    const say = typeof t.diagnostic === 'function' ? (m) => t.diagnostic(m) : (m) => console.error(m);
    for (const p of problems) say(p);
    throw err;
  }
}

// The newcomer's path, as `parley serve` prints it: open the setup link, sign in, click "Create a
// demo site", open the workspace and the visitor page side by side, and chat. Every step is a link
// or a button of Parley's own pages, on a fresh installation of its own.
describe("a newcomer's first chat", { timeout: 900000 }, () => {
  const own = {};
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    own.parley = await startParley();
    own.browser = await launchChromium();
  }, { timeout: 900000 });
  after(async () => {
    if (own.browser) await own.browser.close();
    if (own.parley) await own.parley.stop();
  }, { timeout: 60000 });
  it('setup link, sign-in, demo site, then the visitor chats with the owner', { timeout: 300000 }, (t) => guarded(t, () => firstChat(own)));
});

async function firstChat({ parley, browser }) {
  const base = parley.base;
  const printed = parley.output.join('\n');
  assert.match(printed, /Create a demo site/, 'serve prints the demo path');
  const link = parley.setupLink();
  assert.ok(link && link.startsWith(`${base}/setup?token=`), `serve printed the setup link: ${printed}`);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, problems, 'newcomer');
  const owner = { email: 'owner@first.test', password: `Harbour-${Date.now()}-Lantern` };
  await page.goto(link);
  await page.getByLabel(/organisation name/i).fill('First Bank');
  await page.getByLabel(/your e-mail address/i).fill(owner.email);
  await page.getByLabel(/^password$/i).fill(owner.password);
  await page.getByLabel(/repeat the password/i).fill(owner.password);
  await page.getByRole('button', { name: /create organisation/i }).click();
  await page.getByRole('heading', { name: /parley is set up/i }).waitFor();
  owner.tenant = (await page.locator('main code').first().textContent()).trim();
  assert.equal(owner.tenant, 'first-bank');
  await shot(page, '00a-set-up.png');

  // Sign in from the setup page's button.
  await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('link', { name: /sign in/i }).click()]);
  await signIn(page, base, owner);

  // "Create a demo site": the button of the page the owner lands on (the overview) when it shows
  // one, else the demo site page's own.
  if (!(await page.getByRole('button', { name: /create a demo site/i }).count())) {
    await page.goto(`${base}/setup/demo-site`);
    await page.getByText(/you can take chats/i).waitFor();
  }
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/setup/demo-site'),
    page.getByRole('button', { name: /create a demo site/i }).first().click(),
  ]);
  await page.getByText(/the demo site was created/i).waitFor();
  await page.getByText(/you can take chats/i).waitFor();
  await shot(page, '00b-demo-site.png');
  // A second visit shows the same site: no button to create another.
  assert.equal(await page.getByRole('button', { name: /create a demo site/i }).count(), 0);

  // The workspace first, so an agent is online; then the visitor page next to it.
  const [desk] = await Promise.all([ctx.waitForEvent('page'), page.getByRole('link', { name: /open the agent workspace/i }).click()]);
  watch(desk, problems, 'newcomer-agent');
  await desk.waitForURL((u) => u.pathname === '/workspace');
  await desk.locator('.cw-conn', { hasText: /connected/i }).waitFor();
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitorHref = await page.getByRole('link', { name: /open the visitor page/i }).getAttribute('href');
  assert.match(visitorHref, /^\/demo\?site=site_[a-z2-7]+$/);
  assert.equal(await page.getByRole('link', { name: /open the visitor page/i }).getAttribute('target'), '_blank');
  // The visitor is someone else: their own browser, not the owner's session.
  const visitor = await vctx.newPage();
  watch(visitor, problems, 'newcomer-visitor');
  await visitor.goto(base + visitorHref);
  const launcher = visitor.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await launcher.click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  const name = frame.getByLabel(/name/i);
  await frame.getByRole('button', { name: /start/i }).waitFor();
  if (await name.count()) await name.fill('Newcomer Visitor');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await frame.getByRole('button', { name: /start/i }).click();
  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.fill('Hello from the demo page');
  await composer.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();

  const offer = desk.locator('.cw-offer', { hasText: 'Newcomer Visitor' });
  await offer.getByRole('button', { name: /accept/i }).click();
  await desk.locator('.cw-log').getByText('Hello from the demo page').waitFor();
  const reply = desk.getByRole('textbox', { name: /message/i });
  await reply.fill('Hello, this is the owner.');
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: 'Hello, this is the owner.' }).waitFor();
  await shot(desk, '00c-first-chat-agent.png');
  await shot(visitor, '00d-first-chat-visitor.png');

  // The supervisor's live chats list it, in progress, with the owner as its agent.
  await page.goto(`${base}/live`);
  const row = page.locator('tbody tr', { hasText: 'Demo site' });
  await row.filter({ hasText: /in progress/ }).waitFor();
  assert.match(await row.textContent(), /owner@first\.test/);
  await desk.getByRole('button', { name: /end chat/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
}

describe('visitor widget and agent workspace', { timeout: 900000 }, () => {
  // Building the binary on a cold cache can take minutes on a small machine.
  before((t) => guarded(t, setUp), { timeout: 900000 });
  after(tearDown, { timeout: 60000 });
  it('a visitor chats with an agent through the widget', { timeout: 300000 }, (t) => guarded(t, conversation));
  it('a visitor whose network blocks WebSocket chats over long polling', { timeout: 180000 }, (t) => guarded(t, longPolling));
  it('with no agent online the widget takes an offline message', { timeout: 120000 }, (t) => guarded(t, offlineMessage));
});

async function conversation(t) {
  const { browser, desk, host, hostOrigin } = env;

  // --- the visitor -----------------------------------------------------------------------------
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await vctx.newPage();
  watch(visitor, problems, 'visitor');
  const pageview = visitor.waitForRequest((r) => r.url().endsWith('/pageviews') && r.method() === 'POST');
  await visitor.goto(host.url('/account?utm_source=e2e&token=secret-session-token#private'));
  const reported = (await pageview).postDataJSON();
  assert.equal(reported.url, `${hostOrigin}/account?utm_source=e2e`, 'page view URL without the token parameter and fragment');
  assert.equal(reported.title, 'Acme Insurance · My account');

  const launcher = visitor.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await shot(visitor, '01-host-page.png');
  await launcher.click();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  const frame = visitor.frameLocator('iframe.pw-frame');
  const start = frame.getByRole('button', { name: /start/i });
  await start.waitFor();
  // The host page cannot reach into the chat: another origin.
  const peek = await visitor.evaluate(() => {
    const f = document.querySelector('[id^=parley-widget-]').shadowRoot.querySelector('iframe');
    try { return f.contentDocument ? 'readable' : 'blocked'; } catch { return 'blocked'; }
  });
  assert.equal(peek, 'blocked', 'the host page cannot read the chat frame');

  const name = frame.getByLabel(/name/i);
  if (await name.count()) await name.fill('Ada Lovelace');
  const email = frame.getByLabel(/e-mail/i);
  if (await email.count()) await email.fill('ada@example.com');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await shot(visitor, '02-prechat.png');
  await start.click();

  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.waitFor();
  await composer.fill(`Hello, my card ${CARD} was declined`);
  await composer.press('Enter');
  const mine = frame.locator('.msg-own .text').last();
  await assert.doesNotReject(() => mine.filter({ hasText: /declined/ }).waitFor());
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  assert.ok(!(await mine.textContent()).includes(CARD), 'the stored (shown) text has the card number masked');
  await shot(visitor, '03-visitor-waiting.png');

  // --- the agent takes the chat ---------------------------------------------------------------
  const offer = desk.locator('.cw-offer', { hasText: 'Ada Lovelace' });
  await offer.waitFor();
  await shot(desk, '04-agent-queue.png');
  await offer.getByRole('button', { name: /accept/i }).click();

  const deskLog = desk.locator('.cw-log');
  await deskLog.getByText(/declined/).waitFor();
  assert.ok(!(await deskLog.textContent()).includes(CARD), 'the agent never sees the card number');
  await frame.getByText(/joined/i).waitFor();

  // Typing travels to the visitor before the message does. Typing signals are ephemeral (the
  // server may drop one), so the agent types for a few seconds, long enough to send it twice.
  const reply = desk.getByRole('textbox', { name: /message/i });
  const typingShown = frame.locator('.typing:not([hidden])', { hasText: /typing/i }).waitFor();
  await reply.pressSequentially('Hello Ada, I can help with that.', { delay: 130 });
  await typingShown;
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: 'Hello Ada, I can help with that.' }).waitFor();
  await frame.locator('.typing').waitFor({ state: 'hidden' });
  await shot(visitor, '05-visitor-sees-answer.png');

  // The visitor has the chat open: the agent's message is marked read on the agent's side; the
  // agent reads the visitor's message: the visitor sees it read.
  await desk.locator('.cw-mine .cw-read:not([hidden])').first().waitFor();
  await frame.locator('.msg-own .st', { hasText: /read/i }).waitFor();
  await shot(desk, '06-agent-chat.png');

  // The agent asks for the card through the secure form: the visitor fills a form on Parley's
  // origin inside the chat frame; the card never enters the chat; the agent sees it masked.
  await desk.getByRole('button', { name: /request card details/i }).click();
  const cardRequest = frame.locator('.card-request');
  await cardRequest.getByRole('button', { name: /secure card form/i }).click();
  const cardForm = frame.frameLocator('iframe.card-frame');
  await cardForm.getByLabel(/name on card/i).fill('Ada Lovelace');
  await cardForm.getByLabel(/card number/i).fill(CARD);
  await cardForm.getByLabel(/expiry/i).fill('12/39');
  await cardForm.getByLabel(/security code/i).fill('123');
  await shot(visitor, '06a-card-form.png');
  await cardForm.getByRole('button', { name: /send securely/i }).click();
  await cardRequest.getByText(/sent securely/i).waitFor();
  const held = desk.locator('.cw-card-held .cw-card-masked');
  await held.waitFor();
  assert.ok(!(await held.textContent()).includes('4111 1111 1111 1111') && /1111/.test(await held.textContent()), 'the agent sees the card masked');
  await shot(desk, '06b-agent-card-held.png');
  await desk.getByRole('button', { name: /done, wipe/i }).click();
  await deskLog.getByText(/wiped/i).waitFor();
  for (const text of [await deskLog.textContent(), await frame.locator('.log').textContent()]) {
    assert.ok(!text.replace(/\s/g, '').includes('4111111111111111'), 'no full card number in either transcript');
  }

  // New messages are announced: the transcript is a polite live region.
  assert.equal(await frame.locator('[role=log]').getAttribute('aria-live'), 'polite');

  // Escape minimises the chat and gives the focus back to the launcher; a new message then raises
  // the unread badge; opening clears it and puts the focus in the composer.
  await composer.press('Escape');
  await visitor.locator('.pw-panel').waitFor({ state: 'hidden' });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  assert.equal(await visitor.evaluate(() => document.querySelector('[id^=parley-widget-]').shadowRoot.activeElement?.className), 'pw-launcher');
  await reply.fill('Are you still there?');
  await reply.press('Enter');
  const badge = visitor.locator('.pw-badge');
  await badge.waitFor({ state: 'visible' });
  assert.equal(await badge.textContent(), '1');
  assert.match(await launcher.getAttribute('aria-label'), /1 unread/);
  await shot(visitor, '07-unread-badge.png');
  await visitor.keyboard.press('Enter');
  await badge.waitFor({ state: 'hidden' });
  await frame.locator('textarea:focus').waitFor();

  // A reload keeps the conversation: the transcript is replayed, nothing twice.
  await visitor.reload();
  await launcher.waitFor({ state: 'visible' });
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  await frame.locator('.msg-agent .text', { hasText: 'Are you still there?' }).waitFor();
  assert.equal(await frame.locator('.msg-agent .text', { hasText: 'Hello Ada, I can help with that.' }).count(), 1);
  assert.equal(await frame.locator('.msg-own .text').count(), 1);

  // The visitor ends the chat and answers the survey.
  await frame.getByRole('button', { name: /end chat/i }).click();
  await frame.getByRole('button', { name: /yes/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  await deskLog.getByText(/ended/i).waitFor();
  await frame.locator('label[for=rating-5]').click();
  await frame.getByLabel(/comment/i).fill('Quick and friendly.');
  await shot(visitor, '08-survey.png');
  await frame.getByRole('button', { name: /send feedback/i }).click();
  await frame.getByText(/thank you for your feedback/i).waitFor();
  await shot(visitor, '09-thanks.png');
  await shot(desk, '10-agent-ended.png');

  // The same page at a phone's width: the panel takes the whole screen.
  const mctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
  const phone = await mctx.newPage();
  watch(phone, problems, 'phone');
  await phone.goto(host.url('/'));
  await phone.locator('button.pw-launcher').click();
  const panel = await phone.locator('.pw-panel').boundingBox();
  assert.deepEqual([panel.x, panel.y, panel.width, panel.height].map(Math.round), [0, 0, 390, 844], 'full-screen panel on a phone');
  const pframe = phone.frameLocator('iframe.pw-frame');
  await pframe.getByRole('button', { name: /start/i }).waitFor();
  await shot(phone, '11-phone.png');
  const pname = pframe.getByLabel(/name/i);
  if (await pname.count()) await pname.fill('Phone Visitor');
  const pconsent = pframe.locator('input[type=checkbox]');
  if (await pconsent.count()) await pconsent.check();
  await pframe.getByRole('button', { name: /start/i }).click();
  const pcomposer = pframe.getByRole('textbox', { name: /message/i });
  await pcomposer.fill('Hi from my phone');
  await pcomposer.press('Enter');
  await pframe.locator('.msg-own .st', { hasText: /sent/i }).waitFor();
  const box = await pframe.locator('.composer').boundingBox();
  assert.ok(box.y + box.height <= 844 && box.width >= 380, `composer on screen at the bottom, got ${JSON.stringify(box)}`);
  await shot(phone, '11-phone-chat.png');

  assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
}

async function longPolling() {
  const { browser, desk, host } = env;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // As a proxy that refuses WebSocket upgrades would: every socket fails before it opens.
  let blocked = 0;
  await ctx.routeWebSocket(/\/ws$/, (ws) => {
    blocked++;
    ws.close({ code: 1006, reason: '' });
  });
  const page = await ctx.newPage();
  watch(page, problems, 'polling-visitor');
  const polls = [];
  page.on('request', (r) => { if (/\/events\?after=\d+/.test(r.url())) polls.push(r.url()); });
  await page.goto(host.url('/'));
  await page.locator('button.pw-launcher').click();
  const frame = page.frameLocator('iframe.pw-frame');
  const name = frame.getByLabel(/name/i);
  if (await name.count()) await name.fill('Grace Hopper');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await frame.getByRole('button', { name: /start/i }).click();
  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.fill('Hello over plain HTTPS');
  await composer.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  assert.ok(blocked >= 2, `WebSocket tried before falling back, got ${blocked} attempts`);
  assert.ok(polls.length >= 1, 'the widget polls for events');

  const offer = desk.locator('.cw-offer', { hasText: 'Grace Hopper' });
  await offer.getByRole('button', { name: /accept/i }).click();
  await desk.locator('.cw-log').getByText('Hello over plain HTTPS').waitFor();
  const reply = desk.getByRole('textbox', { name: /message/i });
  await reply.fill('Long polling works too.');
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: 'Long polling works too.' }).waitFor();
  await shot(page, '12-long-polling.png');

  // The agent ends this one: the visitor is offered the survey.
  await desk.getByRole('button', { name: /end chat/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  assert.ok(polls.every((u) => !u.includes('token')), 'the visitor token travels in a header, never in a URL');
  assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
}

async function offlineMessage() {
  const { browser, desk, host } = env;
  // The agent leaves: nobody is online for the site any more.
  await desk.close();
  pages.delete('agent');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, problems, 'offline-visitor');
  await page.goto(host.url('/'));
  await page.locator('button.pw-launcher').click();
  const frame = page.frameLocator('iframe.pw-frame');
  const send = frame.getByRole('button', { name: /send message/i });
  await send.waitFor();
  await send.click();
  await frame.locator('[aria-invalid=true]').first().waitFor();
  await frame.getByLabel(/name/i).fill('Katherine Johnson');
  await frame.getByLabel(/e-mail/i).fill('katherine@example.com');
  await frame.getByLabel(/your message/i).fill(`Please call me back about card ${CARD}.`);
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await shot(page, '13-offline-form.png');
  const posted = page.waitForResponse((r) => r.url().endsWith('/offline') && r.request().method() === 'POST');
  await send.click();
  assert.equal((await posted).status(), 201);
  await frame.getByText(/message has been sent|message was sent/i).waitFor();
  await shot(page, '14-offline-sent.png');
  assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
}
