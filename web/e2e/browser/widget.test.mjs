// Browser tests of the widget's language and of its read position, against a real `parley serve`:
// a site configured (through the settings API) with German texts is served them when the page or
// the browser asks for German, in the launcher, the pre-chat form, the chat and the post-chat
// survey, and in the offline form; a page in English keeps English. After a reload the widget
// knows what the visitor has already read: the unread badge counts only what is new and no read
// receipt is sent twice. The agent is a WebSocket client on the agent socket (the protocol the
// console's workspace speaks). Screenshots go to artifacts/.
//
// Run: cd web/e2e && node --test --test-concurrency=1 --test-timeout=900000 browser/widget.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { artifacts, freePort, launchChromium, repoRoot, startParley } from '../lib/parley.mjs';

const TENANT = 'E2E Sprachbank';
const exec = promisify(execFile);

const GERMAN = {
  greeting: 'Willkommen bei Acme! Wie können wir Ihnen helfen?',
  title: 'Acme-Kundenchat',
  launcher_label: 'Hilfe',
  consent_text: 'Ich stimme der Datenschutzerklärung zu.',
  question_contract: 'Vertragsnummer',
  offline_intro: 'Acme ist gerade nicht erreichbar. Schreiben Sie uns.',
};

const env = {};
const problems = [];

function sri(file) {
  return `sha384-${createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;
}

function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = (m.location() && m.location().url) || '';
    if (/favicon/i.test(where)) return;
    problems.push(`${label} console: ${m.text()} ${where}`);
  });
}

// hostPage is the customer's page on its own origin: /?lang=de gives it <html lang="de">,
// /?lang= none at all (the widget then follows the browser).
function hostPage(port, parleyBase, siteKey, integrity) {
  const origin = `http://127.0.0.1:${port}`;
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, origin);
    if (u.pathname !== '/') {
      res.writeHead(404).end();
      return;
    }
    const lang = (u.searchParams.get('lang') || '').replace(/[^a-zA-Z-]/g, '');
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'self'; script-src 'self' ${parleyBase}; style-src 'self' ${parleyBase}; frame-src ${parleyBase}; connect-src 'self'`,
    });
    res.end(`<!doctype html><html${lang ? ` lang="${lang}"` : ''}><head><meta charset="utf-8"><title>Acme</title></head>
<body><h1>Acme</h1>
<script src="${parleyBase}/widget/v1/widget.js" data-site="${siteKey}" integrity="${integrity}" crossorigin="anonymous" async></script>
</body></html>`);
  });
  return new Promise((resolve) => {
    srv.listen(port, '127.0.0.1', () => resolve({
      origin, url: (p) => origin + p, close: () => new Promise((r) => { srv.close(r); srv.closeAllConnections(); }),
    }));
  });
}

// agentDesk signs the owner in and connects the agent socket in a page of Parley's origin;
// window.agentFrames collects what the agent receives.
async function agentDesk(browser, base, owner) {
  const ctx = await browser.newContext();
  const signIn = await ctx.request.post(`${base}/api/v1/auth/login`, { data: { tenant: owner.tenant, email: owner.email, password: owner.password } });
  assert.equal(signIn.status(), 200, `sign-in: ${await signIn.text()}`);
  const csrf = (await signIn.json()).csrf_token;
  const page = await ctx.newPage();
  watch(page, 'agent');
  await page.goto(`${base}/`);
  await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/api/v1/chat/agent/ws`);
    window.agentFrames = [];
    window.agentSocket = ws;
    ws.onmessage = (m) => window.agentFrames.push(JSON.parse(m.data));
    ws.onopen = () => { ws.send(JSON.stringify({ type: 'hello', conversations: {} })); resolve(); };
    ws.onerror = () => reject(new Error('agent socket failed'));
  }));
  await page.waitForFunction(() => window.agentFrames.some((f) => f.type === 'welcome'));
  return { ctx, page, csrf };
}

async function setUp() {
  fs.mkdirSync(artifacts, { recursive: true });
  env.parley = await startParley();
  env.owner = await env.parley.createUser(TENANT, 'owner@sprache.test', 'owner');
  const hostPort = await freePort();
  const hostOrigin = `http://127.0.0.1:${hostPort}`;
  env.siteKey = await env.parley.createSite(env.owner.tenant, 'Acme', [hostOrigin]);
  env.host = await hostPage(hostPort, env.parley.base, env.siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')));
  env.browser = await launchChromium();
  env.desk = await agentDesk(env.browser, env.parley.base, env.owner);

  // The site speaks English by default and German too; its consent text and question are
  // English in the pre-chat settings and translated in the German texts. The site's id is read
  // from the database (set-up only); the settings go through the API.
  const db = path.join(env.parley.dataDir, 'parley.db');
  const siteID = (await exec('sqlite3', [db, `SELECT id FROM sites WHERE site_key = '${env.siteKey}'`])).stdout.trim();
  const settingsURL = `${env.parley.base}/api/v1/chat/sites/${siteID}/settings`;
  const req = env.desk.ctx.request;
  const cur = await req.get(settingsURL);
  assert.equal(cur.status(), 200, `settings: ${await cur.text()}`);
  const set = await cur.json();
  set.default_language = 'en';
  set.texts = { en: { greeting: 'Welcome to Acme! How can we help?' }, de: GERMAN };
  set.prechat = { ...set.prechat, enabled: true, ask_name: true, consent_required: true, consent_text: 'I agree to the privacy notice.',
    questions: [{ id: 'contract', label: 'Contract number', required: false, max_length: 40 }] };
  const put = await req.put(settingsURL, { data: set, headers: { 'X-CSRF-Token': env.desk.csrf } });
  assert.equal(put.status(), 200, `PUT settings: ${await put.text()}`);
  const check = await (await req.get(settingsURL)).json();
  assert.deepEqual(check.texts.de, GERMAN, 'the German texts are stored');
}

async function tearDown() {
  if (env.browser) await env.browser.close();
  if (env.host) await env.host.close();
  if (env.parley) await env.parley.stop();
}

async function guarded(t, body) {
  try {
    await body(t);
  } catch (err) {
    for (const p of problems) t.diagnostic(p);
    throw err;
  }
}

// visitorPage opens the host page in a new browser context (locale: the browser's language).
async function visitorPage(label, pagePath, locale) {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const page = await ctx.newPage();
  watch(page, label);
  await page.goto(env.host.url(pagePath));
  const launcher = page.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  return { ctx, page, launcher, frame: page.frameLocator('iframe.pw-frame') };
}

describe('widget language and read position', { timeout: 900000 }, () => {
  before((t) => guarded(t, setUp), { timeout: 900000 });
  after(tearDown, { timeout: 60000 });
  it('a German page gets the site\'s German texts, through the chat to the survey', { timeout: 180000 }, (t) => guarded(t, germanPage));
  it('a German browser gets German on a page without a language; an English page stays English', { timeout: 120000 }, (t) => guarded(t, browserLanguage));
  it('after a reload the widget keeps its read position', { timeout: 180000 }, (t) => guarded(t, readPosition));
  it('a read receipt that cannot go out while disconnected goes out after the reconnect', { timeout: 180000 }, (t) => guarded(t, readWhileDisconnected));
  it('the offline form is German too', { timeout: 120000 }, (t) => guarded(t, germanOffline));
});

async function germanPage(t) {
  const v = await visitorPage('german-visitor', '/?lang=de', 'en-US');
  const { page, launcher, frame } = v;
  await page.waitForFunction(() => document.querySelector('[id^=parley-widget-]').shadowRoot.querySelector('.pw-label').textContent === 'Hilfe');
  await launcher.click();
  await frame.getByRole('heading', { name: GERMAN.greeting }).waitFor();
  assert.equal(await frame.locator('html').getAttribute('lang'), 'de');
  assert.equal(await frame.locator('h1.title').textContent(), GERMAN.title);
  await frame.getByLabel('Ihr Name').fill('Anna Schmidt');
  await frame.getByLabel(GERMAN.question_contract).fill('A-123');
  await frame.getByLabel(GERMAN.consent_text).check();
  await page.screenshot({ path: path.join(artifacts, 'lang-01-german-prechat.png') });
  await frame.getByRole('button', { name: 'Chat starten' }).click();

  const composer = frame.getByRole('textbox', { name: 'Nachricht' });
  await composer.waitFor();
  await frame.getByText('Warten auf eine Mitarbeiterin oder einen Mitarbeiter…').waitFor();
  const conv = await accept(env.desk.page, 'Anna Schmidt');
  await frame.getByText(/ist dem Chat beigetreten/).waitFor();
  await agentSays(env.desk.page, conv, 'Guten Tag, Frau Schmidt.');
  await frame.locator('.msg-agent .text', { hasText: 'Guten Tag, Frau Schmidt.' }).waitFor();

  await frame.getByRole('button', { name: 'Chat beenden' }).click();
  await frame.getByRole('button', { name: 'Ja, beenden' }).click();
  await frame.getByRole('heading', { name: 'Wie war Ihr Chat?' }).waitFor();
  await frame.getByRole('button', { name: 'Bewertung senden' }).waitFor();
  await page.screenshot({ path: path.join(artifacts, 'lang-02-german-survey.png') });
  await v.ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

async function browserLanguage() {
  // No language on the page: the browser's (navigator.language, Accept-Language) decides.
  const de = await visitorPage('browser-de', '/', 'de-DE');
  await de.launcher.click();
  await de.frame.getByRole('heading', { name: GERMAN.greeting }).waitFor();
  await de.frame.getByRole('button', { name: 'Chat starten' }).waitFor();
  await de.ctx.close();

  // A page in English keeps English for a German browser; a language the site does not speak
  // falls back to its default (English).
  for (const [pagePath, locale] of [['/?lang=en', 'de-DE'], ['/?lang=ja', 'ja-JP']]) {
    const v = await visitorPage(`english-${locale}`, pagePath, locale);
    await v.launcher.click();
    await v.frame.getByRole('heading', { name: 'Welcome to Acme! How can we help?' }).waitFor();
    await v.frame.getByRole('button', { name: 'Start chat' }).waitFor();
    assert.equal(await v.frame.getByLabel('I agree to the privacy notice.').count(), 1, 'English consent text');
    assert.equal(await v.frame.getByLabel('Contract number').count(), 1, 'English question label');
    assert.equal(await v.frame.locator('html').getAttribute('lang'), 'en');
    await v.ctx.close();
  }
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

// accept waits for the offer of the visitor called name, accepts it and resolves its id.
async function accept(desk, name) {
  const conv = await desk.waitForFunction((n) => {
    const f = window.agentFrames.find((x) => x.type === 'offer' && x.offer.visitor && x.offer.visitor.name === n);
    return f && f.offer.conversation_id;
  }, name);
  const id = await conv.jsonValue();
  await desk.evaluate((c) => window.agentSocket.send(JSON.stringify({ type: 'accept', conversation_id: c })), id);
  await desk.waitForFunction((c) => window.agentFrames.some((f) => f.type === 'assigned' && f.conversation.conversation_id === c), id);
  return id;
}

async function agentSays(desk, conv, text) {
  await desk.evaluate(([c, t]) => window.agentSocket.send(JSON.stringify({ type: 'message', conversation_id: c, key: `a-${crypto.randomUUID()}`, text: t })), [conv, text]);
  await desk.waitForFunction(([c, t]) => window.agentFrames.some((f) => f.type === 'event' && f.conversation_id === c && f.text === t), [conv, text]);
}

// visitorReads lists the seqs of the read receipts the agent has received in conv.
function visitorReads(desk, conv) {
  return desk.evaluate((c) => window.agentFrames.filter((f) => f.type === 'read' && f.conversation_id === c && f.reader_kind === 'visitor').map((f) => f.seq), conv);
}

async function readPosition(t) {
  const v = await visitorPage('reload-visitor', '/?lang=en', 'en-US');
  const { page, launcher, frame } = v;
  // Every read receipt the chat frame sends, on the socket or (long polling) over HTTP.
  const sent = [];
  const track = (p) => {
    p.on('websocket', (ws) => ws.on('framesent', (f) => {
      try {
        const d = JSON.parse(f.payload);
        if (d.type === 'read') sent.push(d.seq);
      } catch { /* not JSON */ }
    }));
    p.on('request', (r) => { if (r.method() === 'POST' && /\/read$/.test(r.url())) sent.push(r.postDataJSON().seq); });
  };
  track(page);
  const badge = page.locator('.pw-badge');

  await launcher.click();
  await frame.getByLabel(/your name/i).fill('Rita Reload');
  await frame.locator('input[type=checkbox]').check();
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.getByRole('textbox', { name: 'Message' }).waitFor();
  const conv = await accept(env.desk.page, 'Rita Reload');

  // Read with the chat open: one receipt.
  await agentSays(env.desk.page, conv, 'First answer');
  await frame.locator('.msg-agent .text', { hasText: 'First answer' }).waitFor();
  await env.desk.page.waitForFunction(([c]) => window.agentFrames.some((f) => f.type === 'read' && f.conversation_id === c && f.reader_kind === 'visitor'), [conv]);
  const firstRead = (await visitorReads(env.desk.page, conv)).at(-1);

  // Two more while the chat is minimised: the badge says 2.
  await launcher.click();
  await page.locator('.pw-panel').waitFor({ state: 'hidden' });
  await agentSays(env.desk.page, conv, 'Second answer');
  await agentSays(env.desk.page, conv, 'Third answer');
  await page.waitForFunction(() => document.querySelector('[id^=parley-widget-]').shadowRoot.querySelector('.pw-badge').textContent === '2');
  const sentBefore = sent.length;

  // A reload replays the conversation: the badge still counts the two unread messages only, and
  // nothing is marked read.
  await page.reload();
  await launcher.waitFor({ state: 'visible' });
  await page.waitForFunction(() => {
    const b = document.querySelector('[id^=parley-widget-]').shadowRoot.querySelector('.pw-badge');
    return b && !b.hidden && b.textContent === '2';
  });
  await frame.locator('.msg-agent .text', { hasText: 'Third answer' }).waitFor({ state: 'attached' });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false', 'the chat stays minimised');
  await page.screenshot({ path: path.join(artifacts, 'read-01-after-reload.png') });
  assert.equal(await badge.textContent(), '2', 'the badge counts the unread messages once');

  // Opening reads them: one receipt for the last message, the badge clears.
  await launcher.click();
  await badge.waitFor({ state: 'hidden' });
  await env.desk.page.waitForFunction(([c, s]) => window.agentFrames.some((f) => f.type === 'read' && f.conversation_id === c && f.reader_kind === 'visitor' && f.seq > s), [conv, firstRead]);
  const lastRead = (await visitorReads(env.desk.page, conv)).at(-1);
  const afterOpen = sent.length;
  // (A receipt sent while the chat was minimised after the reload would show here too.)
  assert.deepEqual(sent.slice(sentBefore), [lastRead], 'one read receipt, for the last message');

  // Another reload with the chat open: everything is read already; no receipt, no badge.
  await page.reload();
  await launcher.waitFor({ state: 'visible' });
  await frame.locator('.msg-agent .text', { hasText: 'Third answer' }).waitFor();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true', 'the chat reopens as it was');
  // Absence takes a wait: four times the chat frame's 250 ms read-receipt delay.
  await page.waitForTimeout(1000);
  assert.deepEqual(sent.slice(afterOpen), [], 'no read receipt re-sent after a reload');
  assert.ok(await badge.isHidden(), 'no unread badge after a reload');
  const reads = await visitorReads(env.desk.page, conv);
  assert.deepEqual(reads, [...new Set(reads)], 'the agent got each read receipt once');
  t.diagnostic(`read receipts sent: ${JSON.stringify(sent)}; received by the agent: ${JSON.stringify(reads)}`);
  await env.desk.page.evaluate((c) => window.agentSocket.send(JSON.stringify({ type: 'end', conversation_id: c })), conv);
  await v.ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

async function readWhileDisconnected() {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  // Every chat socket goes through this route: connected to Parley, or held (open to the page,
  // connected to nothing, as a connection that has gone silent) while hold is set.
  let live = null;
  let hold = false;
  const held = [];
  await ctx.routeWebSocket(/\/ws$/, (ws) => {
    if (hold) {
      held.push(ws);
      return;
    }
    ws.connectToServer();
    live = ws;
  });
  const page = await ctx.newPage();
  watch(page, 'disconnected-visitor');
  await page.goto(env.host.url('/?lang=en'));
  const launcher = page.locator('button.pw-launcher');
  await launcher.click();
  const frame = page.frameLocator('iframe.pw-frame');
  await frame.getByLabel(/your name/i).fill('Dora Drop');
  await frame.locator('input[type=checkbox]').check();
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.getByRole('textbox', { name: 'Message' }).waitFor();
  const conv = await accept(env.desk.page, 'Dora Drop');
  await frame.getByText(/joined/).waitFor();

  // Minimised, the visitor gets a message; then the connection drops and stays down.
  await launcher.click();
  await agentSays(env.desk.page, conv, 'Are you there?');
  await page.locator('.pw-badge').waitFor({ state: 'visible' });
  const before = await visitorReads(env.desk.page, conv);
  hold = true;
  await live.close({ code: 1001, reason: 'going away' });
  // The frame reconnects (after its backoff) into the held route.
  while (held.length === 0) await new Promise((r) => { setTimeout(r, 50); });

  // The visitor opens the chat and sees the message while there is no connection.
  await launcher.click();
  await page.locator('.pw-badge').waitFor({ state: 'hidden' });
  await frame.locator('.msg-agent .text', { hasText: 'Are you there?' }).waitFor();
  // Longer than the frame's 250 ms receipt delay: the receipt has been tried and could not go out.
  await page.waitForTimeout(1000);
  assert.deepEqual(await visitorReads(env.desk.page, conv), before, 'no receipt while disconnected');

  // The connection comes back: the receipt goes out.
  hold = false;
  await held[0].close({ code: 1001, reason: 'going away' });
  await env.desk.page.waitForFunction(([c, n]) => window.agentFrames.filter((f) => f.type === 'read' && f.conversation_id === c && f.reader_kind === 'visitor').length > n, [conv, before.length]);
  await env.desk.page.evaluate((c) => window.agentSocket.send(JSON.stringify({ type: 'end', conversation_id: c })), conv);
  await ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

async function germanOffline() {
  // The agent leaves: the site is offline.
  await env.desk.page.evaluate(() => window.agentSocket.close());
  await env.desk.page.close();
  const v = await visitorPage('offline-de', '/?lang=de-DE', 'de-DE');
  await v.launcher.click();
  await v.frame.getByRole('heading', { name: 'Hinterlassen Sie eine Nachricht' }).waitFor();
  await v.frame.getByText(GERMAN.offline_intro).waitFor();
  await v.frame.getByLabel('Ihre Nachricht').waitFor();
  await v.frame.getByLabel(GERMAN.consent_text).waitFor();
  await v.frame.getByRole('button', { name: 'Nachricht senden' }).waitFor();
  await v.page.screenshot({ path: path.join(artifacts, 'lang-03-german-offline.png') });
  await v.ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}
