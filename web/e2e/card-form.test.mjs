// Browser test of the secure card form against a real `parley serve`: an agent takes a chat and
// asks for card data; the visitor's form, framed by the customer's page on another origin, checks
// the card as it is typed and sends it to Parley's own origin; the agent sees it masked, then in
// full (card.view_full), and marks it done. Afterwards the test number, code and name are looked
// for in the database files (with the WAL), in every file of the data directory, in the server's
// output and in what the browser could still read: zero hits.
//
// Run: cd web/e2e && node --test --test-timeout=900000 card-form.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Parley, artifacts, buildParley, freePort, launchChromium } from './lib/parley.mjs';
import { validate, luhn, brandOf, parseExpiry, group, MESSAGES } from '../static/card-form.js';

const PAN = '4111111111111111';
const PAN_TYPED = '4111 1111 1111 1111';
const CVC = '739';
const HOLDER = 'Ada Cardholder';
const TENANT = 'E2E Card Bank';

const exec = promisify(execFile);
const env = {};
const problems = [];

// cardLeaks returns the places in text where the test card appears: the number with or without
// spaces, the code as a number of its own, the cardholder's name.
function cardLeaks(text) {
  const res = [new RegExp(PAN), new RegExp(PAN_TYPED), new RegExp(`(^|[^0-9A-Za-z+/=_-])${CVC}([^0-9A-Za-z+/=_-]|$)`), /Cardholder/];
  const out = [];
  for (const re of res) {
    const m = re.exec(text);
    if (m) out.push(`${re} near …${text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/[^\x20-\x7e]/g, '?')}…`);
  }
  return out;
}

// hostPage is the customer's page on its own origin, with its own strict policy: it frames
// whatever Parley URL it is given in ?frame=, as the chat iframe frames the form.
function hostPage(port, parleyBase) {
  const origin = `http://127.0.0.1:${port}`;
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, origin);
    const frame = u.searchParams.get('frame') || '';
    if (u.pathname !== '/' || !frame.startsWith(parleyBase + '/card-form/')) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'self'; frame-src ${parleyBase}; script-src 'none'`,
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Card Shop · Checkout</title></head>
<body><h1>Checkout</h1><iframe id="card" title="Secure card form" width="480" height="560" src="${frame.replace(/"/g, '&quot;')}"></iframe></body></html>`);
  });
  return new Promise((resolve) => {
    srv.listen(port, '127.0.0.1', () => resolve({ origin, url: (frame) => `${origin}/?frame=${encodeURIComponent(frame)}`, close: () => new Promise((r) => { srv.close(r); srv.closeAllConnections(); }) }));
  });
}

// call fetches and resolves {status, text, json}.
async function call(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: res.status, text, json };
}

function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/i.test(m.location()?.url || '')) problems.push(`${label} console: ${m.text()}`);
  });
}

async function setUp() {
  fs.mkdirSync(artifacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-card-form-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const bin = await buildParley(dir);
  env.tmp = dir;
  env.parley = new Parley(bin, dataDir, await freePort());
  // Every request and every error the server logs is in its output, which the test searches.
  env.parley.env.PARLEY_LOG_LEVEL = 'debug';
  await env.parley.start();
  env.owner = await env.parley.createUser(TENANT, 'owner@cards.test', 'owner');
  const hostPort = await freePort();
  env.host = await hostPage(hostPort, env.parley.base);
  env.siteKey = await env.parley.createSite(env.owner.tenant, 'Card Shop', [env.host.origin]);
  env.browser = await launchChromium();
}

async function tearDown() {
  if (env.browser) await env.browser.close();
  if (env.host) await env.host.close();
  if (env.parley) await env.parley.stop();
  if (env.tmp) fs.rmSync(env.tmp, { recursive: true, force: true });
}

// The form's own checks, without a browser: the rules the server applies (compliance/secureform).
describe('card form checks', () => {
  const now = new Date(Date.UTC(2026, 0, 5));
  const valid = { number: PAN_TYPED, expiry: '12/28', cvc: CVC, name: HOLDER };
  const cases = [
    ['valid Visa', {}, {}],
    ['valid Amex with a 4-digit code', { number: '3782 822463 10005', cvc: '1234' }, {}],
    ['UnionPay without Luhn', { number: '6200000000000001' }, {}],
    ['this month', { expiry: '01/26' }, {}],
    ['MMYY', { expiry: '1228' }, {}],
    ['Luhn fails', { number: '4111 1111 1111 1112' }, { number: MESSAGES.numberInvalid }],
    ['unknown IIN', { number: '9111111111111111' }, { number: MESSAGES.numberInvalid }],
    ['too short', { number: '411111111111' }, { number: MESSAGES.numberShort }],
    ['letters', { number: '4111 1111 1111 111O' }, { number: MESSAGES.numberChars }],
    ['empty number', { number: '' }, { number: MESSAGES.number }],
    ['expired', { expiry: '12/25' }, { expiry: MESSAGES.expired }],
    ['month 13', { expiry: '13/28' }, { expiry: MESSAGES.expiry }],
    ['21 years ahead', { expiry: '02/47' }, { expiry: MESSAGES.expired }],
    ['code too short', { cvc: '12' }, { cvc: MESSAGES.cvc }],
    ['4-digit code on Visa', { cvc: '1234' }, { cvc: MESSAGES.cvc3 }],
    ['3-digit code on Amex', { number: '378282246310005', cvc: '123' }, { cvc: MESSAGES.cvc4 }],
    ['name with digits', { name: 'Ada 4111' }, { name: MESSAGES.nameDigits }],
    ['name with Arabic-Indic digits', { name: 'Ada ٤' }, { name: MESSAGES.nameDigits }],
    ['blank name', { name: '  ' }, { name: MESSAGES.name }],
  ];
  for (const [name, change, want] of cases) {
    it(name, () => assert.deepEqual(validate({ ...valid, ...change }, now), want));
  }
  it('Luhn, brands, expiry and grouping', () => {
    assert.ok(luhn(PAN) && !luhn('4111111111111112') && !luhn(''));
    assert.equal(brandOf('5555').brand, 'mastercard');
    assert.equal(brandOf('2221').brand, 'mastercard');
    assert.equal(brandOf('3530').brand, 'jcb');
    assert.equal(brandOf('9'), null);
    assert.deepEqual(parseExpiry('3 / 2029'), { month: 3, year: 2029 });
    assert.equal(parseExpiry('12/2/8'), null);
    assert.equal(group('378282246310005'), '3782 822463 10005');
    assert.equal(group(PAN), PAN_TYPED);
  });
});

describe('secure card form', { timeout: 900000 }, () => {
  before(setUp, { timeout: 900000 });
  after(tearDown, { timeout: 60000 });
  it('takes a card from the visitor to the agent and leaves it nowhere', { timeout: 300000 }, async (t) => {
    try {
      await cardForm(t);
    } catch (err) {
      for (const p of problems) t.diagnostic(p);
      throw err;
    }
  });
});

async function cardForm(t) {
  const { parley, browser, host, siteKey } = env;
  const base = parley.base;

  // --- the agent signs in and goes online on the agent socket -----------------------------------
  const actx = await browser.newContext();
  const signIn = await actx.request.post(`${base}/api/v1/auth/login`, {
    data: { tenant: env.owner.tenant, email: env.owner.email, password: env.owner.password },
  });
  assert.equal(signIn.status(), 200, `sign-in: ${await signIn.text()}`);
  const csrf = (await signIn.json()).csrf_token;
  const desk = await actx.newPage();
  watch(desk, 'agent');
  await desk.goto(`${base}/`);
  await desk.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/api/v1/chat/agent/ws`);
    window.agentFrames = [];
    window.agentSocket = ws;
    ws.onmessage = (m) => window.agentFrames.push(JSON.parse(m.data));
    ws.onopen = () => { ws.send(JSON.stringify({ type: 'hello', conversations: {} })); resolve(); };
    ws.onerror = () => reject(new Error('agent socket failed'));
  }));
  await desk.waitForFunction(() => window.agentFrames.some((f) => f.type === 'welcome'));

  // --- a visitor starts a chat; the agent accepts it ---------------------------------------------
  const widget = `${base}/api/v1/widget/sites/${siteKey}`;
  const pv = await call(`${widget}/pageviews`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: `${host.origin}/checkout`, title: 'Checkout', language: 'en' }) });
  assert.equal(pv.status, 200, `page view: ${pv.text}`);
  const visitorToken = pv.json.visitor_token;
  const vauth = { Authorization: `Bearer ${visitorToken}`, 'Content-Type': 'application/json' };
  const start = await call(`${widget}/chats`, { method: 'POST', headers: vauth, body: JSON.stringify({ name: 'Ada', consent: true }) });
  assert.equal(start.status, 201, `start chat: ${start.text}`);
  const conv = start.json.conversation_id;
  await desk.waitForFunction((c) => window.agentFrames.some((f) => f.type === 'offer' && f.offer.conversation_id === c), conv);
  await desk.evaluate((c) => window.agentSocket.send(JSON.stringify({ type: 'accept', conversation_id: c })), conv);
  await desk.waitForFunction((c) => window.agentFrames.some((f) => f.type === 'assigned' && f.conversation.conversation_id === c), conv);

  // --- the agent asks for the card; the chat announces it -----------------------------------------
  const agentAPI = `${base}/api/v1/chat/conversations/${conv}/card-forms`;
  const asked = await actx.request.post(agentAPI, { headers: { 'X-CSRF-Token': csrf } });
  assert.equal(asked.status(), 201, `request card: ${await asked.text()}`);
  const requestID = (await asked.json()).request_id;
  await desk.waitForFunction((r) => window.agentFrames.some((f) => f.type === 'event' && f.event === 'card_form_requested' && f.data && f.data.request_id === r), requestID);

  // --- the visitor opens the form in the customer's page -----------------------------------------
  const opened = await call(`${widget}/chats/${conv}/card-forms/${requestID}/open`, { method: 'POST', headers: vauth });
  assert.equal(opened.status, 200, `open form: ${opened.text}`);
  const formURL = base + opened.json.form_url;
  assert.match(formURL, /#cf_[A-Za-z0-9_-]{43}$/, 'the form token travels in the fragment');

  const vctx = await browser.newContext();
  const visitor = await vctx.newPage();
  watch(visitor, 'visitor');
  const violations = [];
  visitor.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  const sent = [];
  visitor.on('request', (r) => sent.push(r));
  await visitor.goto(host.url(formURL));
  const frameEl = await visitor.waitForSelector('#card');
  const form = await frameEl.contentFrame();
  await form.waitForSelector('#card-form:not([hidden])');
  // The customer's page cannot look into the form.
  const peek = await visitor.evaluate(() => { try { return document.getElementById('card').contentDocument === null; } catch { return true; } });
  assert.ok(peek, 'the host page can read the card form');
  assert.ok(!form.url().includes('#'), 'the form token stays in the address bar');
  for (const [id, ac] of [['cc-name', 'cc-name'], ['cc-number', 'cc-number'], ['cc-exp', 'cc-exp'], ['cc-csc', 'cc-csc']]) {
    assert.equal(await form.getAttribute(`#${id}`, 'autocomplete'), ac, `#${id} autocomplete`);
  }

  // Inline checks: a number that fails Luhn, an expired date, a code of the wrong length.
  await form.fill('#cc-name', HOLDER);
  await form.fill('#cc-number', '4111 1111 1111 1112');
  await form.fill('#cc-exp', '01/20');
  await form.fill('#cc-csc', '12');
  await form.click('#cf-submit');
  assert.match(await form.textContent('#cc-number-error'), /not valid/);
  assert.match(await form.textContent('#cc-exp-error'), /expired/);
  assert.match(await form.textContent('#cc-csc-error'), /3 or 4 digits/);
  assert.ok(!sent.some((r) => r.method() === 'POST'), 'an invalid form was sent');
  await form.fill('#cc-number', PAN_TYPED);
  assert.equal((await form.textContent('#cc-brand')).trim(), 'Visa');
  await form.fill('#cc-exp', '12/29');
  await form.fill('#cc-csc', CVC);
  await form.click('#cf-submit');
  await form.waitForSelector('#cf-status:not([hidden])');
  assert.match(await form.textContent('#cf-status'), /Sent securely: Visa ending 1111/);
  for (const id of ['cc-name', 'cc-number', 'cc-exp', 'cc-csc']) {
    assert.equal(await form.inputValue(`#${id}`), '', `#${id} was not cleared`);
  }
  const posts = sent.filter((r) => r.method() === 'POST');
  assert.equal(posts.length, 1, 'the form posts once');
  assert.ok(posts[0].url().startsWith(`${base}/api/v1/widget/sites/${siteKey}/chats/${conv}/card-forms/${requestID}`), `posted to ${posts[0].url()}`);
  assert.ok(!posts[0].url().includes(PAN) && !posts[0].url().includes('cf_'), 'card data or token in a URL');
  assert.ok(sent.every((r) => r.url().startsWith(base) || r.url().startsWith(host.origin)), 'a request left for a third party');
  await visitor.screenshot({ path: path.join(artifacts, 'card-form-sent.png') });
  const visitorStorage = await form.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
  assert.deepEqual(cardLeaks(visitorStorage), [], 'the browser kept card data');

  // --- the agent sees it masked, then in full, then marks it done --------------------------------
  await desk.waitForFunction((r) => window.agentFrames.some((f) => f.type === 'event' && f.event === 'card_form_submitted' && f.data.request_id === r), requestID);
  const masked = await actx.request.get(`${agentAPI}/${requestID}`);
  assert.equal(masked.status(), 200);
  const view = await masked.json();
  assert.equal(view.card.number, '411111••••••1111');
  assert.equal(view.card.cvc, '•••');
  const full = await actx.request.get(`${agentAPI}/${requestID}/full`);
  assert.equal(full.status(), 200);
  const card = (await full.json()).card;
  assert.deepEqual([card.number, card.cvc, card.expiry, card.name], [PAN, CVC, '12/29', HOLDER]);
  assert.equal(cardLeaks(JSON.stringify(card)).length, 3, 'the leak search does not find the card where it is');
  const done = await actx.request.post(`${agentAPI}/${requestID}/done`, { headers: { 'X-CSRF-Token': csrf } });
  assert.equal(done.status(), 200);
  assert.equal((await actx.request.get(`${agentAPI}/${requestID}/full`)).status(), 410, 'the card is still readable after done');
  await desk.close();
  await visitor.close();
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(problems, [], 'page errors');

  // --- the card is nowhere -------------------------------------------------------------------------
  await parley.stop(); // the WAL is folded into the database file at shutdown; both are searched
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) for (const l of cardLeaks(fs.readFileSync(p).toString('latin1'))) found.push(`${p}: ${l}`);
    }
  };
  walk(parley.dataDir);
  const dump = await exec('sqlite3', [path.join(parley.dataDir, 'parley.db'), '.dump'], { maxBuffer: 64 << 20 });
  for (const l of cardLeaks(dump.stdout)) found.push(`database dump: ${l}`);
  const output = parley.output.join('\n');
  for (const l of cardLeaks(output)) found.push(`server output: ${l}`);
  assert.ok(output.includes('/card-forms/'), 'the server output has no card form request at all: the search proves nothing');
  t.diagnostic(`searched ${parley.output.length} lines of server output and the data directory ${parley.dataDir}`);
  assert.deepEqual(found, [], 'the test card leaked');
}
