// Accessibility checks against a real `parley serve`: axe-core with the WCAG 2.2 AA rules on every
// state of the visitor widget (closed, pre-chat, chatting, the secure card form with its errors,
// the post-chat survey, ended, the offline form) and on every console page, a keyboard-only pass
// at a phone's width (Tab and Shift+Tab stay in the open widget, whose panel covers the page, and
// the focus is always visible), and reflow at 390 CSS pixels (no page scrolls sideways).
//
// axe-core is analysis tooling: it is evaluated into each page and frame (page.evaluate, which the
// pages' strict CSP does not govern) only to inspect them; every flow goes through links, buttons
// and forms. Run: cd web/e2e && node --test browser/a11y.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { artifacts, hostPage, freePort, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// The WCAG 2.0, 2.1 and 2.2 A and AA rules.
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const TENANT = 'A11y Bank';
const PHONE = { width: 390, height: 844 };

const env = {};
const problems = [];

function sri(file) {
  return `sha384-${createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;
}

function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, `a11y-${name}.png`) }).catch(() => {});
}

// watch collects a page's script errors and CSP violations. What axe-core itself does while it
// inspects a page (it is evaluated without a script URL) is not the page's doing; nor are the 401
// of a sign-in with a wrong password and the 404 of an invitation link that is not valid.
function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url || '';
    if (/favicon/i.test(where) || (env.auditing && where === '')) return;
    if (/\/login$/.test(where) && /status of 401/.test(m.text())) return;
    if (where.endsWith('/invite?token=not-a-valid-token') && /status of 404/.test(m.text())) return;
    problems.push(`${label} console: ${m.text()} ${where}`);
  });
}

/**
 * axe runs axe-core's WCAG 2.2 AA rules in one page or frame (not in its child frames: each frame is
 * checked on its own) and fails on any violation, naming the rule and the elements.
 */
async function axe(target, label) {
  const loaded = await target.evaluate(() => typeof window.axe === 'object').catch(() => false);
  if (!loaded) await target.evaluate(axeSource);
  env.auditing = true;
  const violations = await target.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, iframes: false, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join('\n')}`);
  }, TAGS).finally(() => { env.auditing = false; });
  env.checked.push(label);
  assert.deepEqual(violations, [], `${label}: WCAG 2.2 AA violations`);
  // axe-core does not measure non-text contrast (WCAG 1.4.11): the borders of text fields, lists
  // and rating stars are measured here against what they are drawn on.
  assert.deepEqual(await target.evaluate(`(${weakControls})(${contrastKit})`), [], `${label}: form controls under 3:1 (WCAG 1.4.11)`);
}

// contrastKit is evaluated in a page: WCAG contrast of computed colours, and the opaque background
// an element is drawn on.
function contrastKit() {
  const rgb = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => [r, g, b].map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (x, y) => { const a = lum(x); const b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a === 1) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  return { rgb, ratio, background };
}

// weakControls lists the visible text fields, lists and rating stars whose border (or outline of a
// star) is under 3:1 against the background around them.
function weakControls(kit) {
  const { rgb, ratio, background } = kit();
  const out = [];
  const controls = document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea');
  for (const el of controls) {
    if (!el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    const border = rgb(cs.borderTopColor);
    if (parseFloat(cs.borderTopWidth) === 0 || !border) continue;
    const r = ratio(border, background(el.parentElement));
    if (r < 3) out.push(`${el.tagName.toLowerCase()}#${el.id || el.name}: border ${cs.borderTopColor} at ${r.toFixed(2)}:1`);
  }
  for (const el of document.querySelectorAll('.star-label')) {
    const cs = getComputedStyle(el);
    const stroke = rgb(cs.webkitTextStrokeColor);
    const r = stroke ? ratio(stroke, background(el.parentElement)) : 0;
    if (r < 3) out.push(`star ${el.htmlFor}: outline ${cs.webkitTextStrokeColor} at ${r.toFixed(2)}:1`);
  }
  return out;
}

/** chatFrame returns the widget's chat frame of page. */
async function chatFrame(page) {
  const handle = await page.locator('iframe.pw-frame').elementHandle();
  return handle.contentFrame();
}

async function cardFrame(page) {
  const chat = await chatFrame(page);
  const handle = await chat.locator('iframe.card-frame').elementHandle();
  return handle.contentFrame();
}

async function setUp() {
  fs.mkdirSync(artifacts, { recursive: true });
  env.checked = [];
  env.parley = await startParley();
  env.setupLink = env.parley.printed('setup');
  env.browser = await launchChromium();

  // The one-time setup page exists only while there is no organisation: checked first.
  if (env.setupLink) {
    const ctx = await env.browser.newContext();
    const page = await ctx.newPage();
    watch(page, 'setup');
    await page.goto(env.setupLink);
    await page.getByRole('heading', { name: /set up parley/i }).waitFor();
    await axe(page, 'setup page');
    await ctx.close();
  }

  env.owner = await env.parley.createUser(TENANT, 'owner@a11y.test', 'owner');
  env.agent = await env.parley.createUser(TENANT, 'agent@a11y.test', 'agent');
  const hostPort = await freePort();
  env.hostOrigin = `http://127.0.0.1:${hostPort}`;
  env.siteKey = await env.parley.createSite(env.owner.tenant, 'Acme Insurance', [env.hostOrigin, env.parley.base]);
  env.host = await hostPage(env.parley.base, env.siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')), hostPort);

  // The agent signs in through the sign-in page and keeps the workspace open: the widget is online.
  const actx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  env.desk = await actx.newPage();
  watch(env.desk, 'agent');
  await signIn(env.desk, env.parley.base, env.agent);
  await openWorkspace(env.desk, env.parley.base);
  await env.desk.locator('.cw-conn', { hasText: /connected/i }).waitFor();
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

describe('accessibility (WCAG 2.2 AA)', { timeout: 900000 }, () => {
  before((t) => guarded(t, setUp), { timeout: 900000 });
  after(tearDown, { timeout: 60000 });
  it('every widget state passes axe-core, and the card form closes when the chat ends', { timeout: 300000 }, (t) => guarded(t, widgetStates));
  it('at a phone width the open widget holds the focus and shows it', { timeout: 180000 }, (t) => guarded(t, keyboardOnPhone));
  it('every console page passes axe-core and reflows at 390 px', { timeout: 300000 }, (t) => guarded(t, consolePages));
  it('with no agent online the offline form passes axe-core', { timeout: 120000 }, (t) => guarded(t, offlineForm));
});

async function widgetStates(t) {
  const { browser, desk, host } = env;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, 'visitor');
  await page.goto(host.url('/'));
  const launcher = page.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await axe(page, 'widget closed (launcher)');

  await launcher.click();
  const frame = page.frameLocator('iframe.pw-frame');
  const start = frame.getByRole('button', { name: /start/i });
  await start.waitFor();
  // On a wide screen the panel covers part of the page only: the page stays usable.
  assert.equal(await page.locator('h1').evaluate((el) => el.inert), false, 'the page is not inert beside a small panel');
  assert.equal(await page.locator('.pw-panel').getAttribute('aria-modal'), null);
  await axe(page, 'widget open (host page)');
  await axe(await chatFrame(page), 'widget pre-chat form');
  const name = frame.getByLabel(/name/i);
  if (await name.count()) await name.fill('Ada Lovelace');
  const email = frame.getByLabel(/e-mail/i);
  await email.fill('ada@'); // not an address: the field is flagged
  await start.click();
  await frame.locator('[aria-invalid=true]').first().waitFor();
  await axe(await chatFrame(page), 'widget pre-chat form with errors');
  await email.fill('ada@example.com');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await start.click();
  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.fill('Hello, I have a question about my policy.');
  await composer.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  await axe(await chatFrame(page), 'widget chat, waiting for an agent');

  await desk.locator('.cw-offer', { hasText: 'Ada Lovelace' }).getByRole('button', { name: /accept/i }).click();
  const reply = desk.getByRole('textbox', { name: /message/i });
  await reply.fill('Hello Ada, how can I help?');
  await reply.press('Enter');
  await frame.locator('.msg-agent .text', { hasText: 'how can I help' }).waitFor();
  await axe(await chatFrame(page), 'widget chatting');

  // The secure card form, empty and sent with errors.
  await desk.getByRole('button', { name: /request card details/i }).click();
  await frame.locator('.card-request').getByRole('button', { name: /secure card form/i }).click();
  const card = frame.frameLocator('iframe.card-frame');
  const send = card.getByRole('button', { name: /send securely/i });
  await send.waitFor();
  await axe(await chatFrame(page), 'widget chat with the card form');
  await axe(await cardFrame(page), 'card form');
  await card.getByLabel(/card number/i).fill('4111 1111 1111 1112');
  await send.click();
  await card.locator('[aria-invalid=true]').first().waitFor();
  await shot(page, 'card-form-errors');
  await axe(await cardFrame(page), 'card form with errors');

  // The visitor ends the chat with the form still open: the form closes before the survey.
  await frame.getByRole('button', { name: /end chat/i }).click();
  await frame.getByRole('button', { name: /yes/i }).click();
  await frame.getByText(/how was your chat|how did we do/i).waitFor();
  await frame.locator('iframe.card-frame').waitFor({ state: 'detached' });
  await frame.locator('.card-request .card-note').waitFor();
  await shot(page, 'survey');
  await axe(await chatFrame(page), 'widget post-chat survey');
  await frame.getByRole('button', { name: /send feedback/i }).click(); // no rating: flagged
  await frame.locator('.rating .field-error:not([hidden])').waitFor();
  await axe(await chatFrame(page), 'widget post-chat survey with errors');
  await frame.locator('label[for=rating-4]').click();
  await frame.getByRole('button', { name: /send feedback/i }).click();
  await frame.getByText(/thank you for your feedback/i).waitFor();
  await axe(await chatFrame(page), 'widget chat ended');
  await ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
  t.diagnostic(`checked: ${env.checked.join('; ')}`);
}

// focusState describes where the focus is: on the host page (which must be the widget) and in the
// chat frame, with whether a focus indicator of at least 2 px is drawn.
async function focusState(page) {
  const onHost = await page.evaluate(() => {
    const a = document.activeElement;
    const inWidget = !!(a && a.id && a.id.startsWith('parley-widget-'));
    return { inWidget, inner: inWidget && a.shadowRoot.activeElement ? a.shadowRoot.activeElement.className : (a ? a.tagName : '') };
  });
  if (!onHost.inWidget || onHost.inner !== 'pw-frame') return { ...onHost, where: `host page: ${onHost.inner}` };
  const chat = await chatFrame(page);
  const inFrame = await chat.evaluate(`(${focusInFrame})(${contrastKit})`);
  return { ...onHost, ...inFrame };
}

// focusInFrame is evaluated in the chat frame: where the focus is and whether its ring shows.
function focusInFrame(kit) {
  const el = document.activeElement;
  if (!el || el === document.body) return { where: 'body', visible: false };
  // A rating star's radio button is drawn by its label.
  const shown = el.matches('.star-input') ? el.nextElementSibling : el;
  const cs = getComputedStyle(shown);
  const r = shown.getBoundingClientRect();
  // The ring is drawn around the element (inside it when the offset is negative): 3:1 at least
  // against what it is drawn on (WCAG 1.4.11).
  const { rgb, ratio, background } = kit();
  const drawnOn = parseFloat(cs.outlineOffset) < 0 ? background(shown) : background(shown.parentElement);
  const ring = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 && rgb(cs.outlineColor) && ratio(rgb(cs.outlineColor), drawnOn) >= 3;
  const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
  const label = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.name || el.id;
  return { where: `${el.tagName.toLowerCase()}${el.className ? `.${el.className.split(' ').join('.')}` : ''} "${label}"`, visible: !!ring && onScreen && el.matches(':focus-visible') };
}

// cycle presses key n times and returns where the focus went each time; every stop must be in the
// widget with a visible focus indicator.
async function cycle(page, key, n) {
  const stops = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press(key);
    const s = await focusState(page);
    assert.ok(s.inWidget && s.inner === 'pw-frame', `${key} #${i + 1} left the widget: focus on ${s.where}`);
    assert.ok(s.visible, `${key} #${i + 1}: no visible focus indicator on ${s.where}`);
    stops.push(s.where);
  }
  return stops;
}

// assertCycles checks that the stops went round: the Tab order within the widget repeats.
function assertCycles(stops, what) {
  const firstAgain = stops.indexOf(stops[0], 1);
  assert.ok(firstAgain > 1, `${what}: the focus did not come round again: ${stops.join(' → ')}`);
}

async function keyboardOnPhone(t) {
  const { browser, host } = env;
  const ctx = await browser.newContext({ viewport: PHONE, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  watch(page, 'phone-keyboard');
  await page.goto(host.url('/'));
  const launcher = page.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.shadowRoot?.activeElement?.className), 'pw-launcher', 'Tab reaches the launcher');
  await page.keyboard.press('Enter');
  const frame = page.frameLocator('iframe.pw-frame');
  await frame.getByRole('button', { name: /start/i }).waitFor();
  const panel = await page.locator('.pw-panel').boundingBox();
  assert.deepEqual([panel.x, panel.y, panel.width, panel.height].map(Math.round), [0, 0, PHONE.width, PHONE.height], 'the panel covers the screen');
  assert.equal(await page.locator('.pw-panel').getAttribute('aria-modal'), 'true');
  assert.deepEqual(await page.evaluate(() => [...document.body.children].filter((el) => !el.id.startsWith('parley-widget-')).map((el) => el.inert)),
    [true, true, true], 'the host page behind the panel is inert');
  await frame.locator(':focus').waitFor();
  await axe(page, 'phone: host page behind the open widget');
  await axe(await chatFrame(page), 'phone: pre-chat form');

  // The pre-chat form: round and round with Tab, then with Shift+Tab (from Minimise backwards).
  const count = await (await chatFrame(page)).evaluate(() => document.querySelectorAll('button:not([hidden]), input, select, textarea, [tabindex="0"]').length);
  const forward = await cycle(page, 'Tab', count * 2 + 1);
  assertCycles(forward, 'Tab on the pre-chat form');
  const backward = await cycle(page, 'Shift+Tab', count * 2 + 1);
  assertCycles(backward, 'Shift+Tab on the pre-chat form');
  assert.ok(backward.some((w) => /minimise/i.test(w)), `Shift+Tab passes Minimise: ${backward.join(' → ')}`);
  t.diagnostic(`pre-chat Tab order: ${forward.slice(0, count + 1).join(' → ')}`);

  // The chat itself: fill the form with the keyboard and start.
  const chat = await chatFrame(page);
  const name = frame.getByLabel(/name/i);
  if (await name.count()) await name.fill('Keyboard Visitor');
  const email = frame.getByLabel(/e-mail/i);
  if (await email.count()) await email.fill('keys@example.com');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) {
    await consent.focus();
    await page.keyboard.press('Space');
  }
  await frame.getByRole('button', { name: /start/i }).focus();
  await page.keyboard.press('Enter');
  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.waitFor();
  await composer.focus();
  await page.keyboard.type('Hello from the keyboard');
  await page.keyboard.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  await shot(page, 'phone-chat');
  const inChat = await chat.evaluate(() => document.querySelectorAll('button:not([hidden]), textarea, [tabindex="0"]').length);
  assertCycles(await cycle(page, 'Tab', inChat * 2 + 1), 'Tab in the chat');
  assertCycles(await cycle(page, 'Shift+Tab', inChat * 2 + 1), 'Shift+Tab in the chat');

  // Minimise gives the page back and the focus to the launcher.
  await page.keyboard.press('Escape');
  await page.locator('.pw-panel').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('.pw-panel').getAttribute('aria-modal'), null);
  assert.deepEqual(await page.evaluate(() => [...document.body.children].map((el) => el.inert)), [false, false, false, false], 'the host page is no longer inert');
  assert.equal(await page.evaluate(() => document.activeElement.shadowRoot?.activeElement?.className), 'pw-launcher');
  await ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}

// openAll opens every <details> of the page through its summary, so axe sees the forms inside.
async function openAll(page) {
  const summaries = page.locator('details:not([open]) > summary');
  while (await summaries.count()) await summaries.first().click();
}

async function consolePages(t) {
  const { browser, parley } = env;
  const base = parley.base;
  // Pages without a session.
  const anon = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await anon.newPage();
  watch(visitor, 'console-anonymous');
  await visitor.goto(`${base}/`);
  await axe(visitor, 'start page');
  await visitor.getByRole('link', { name: /sign in/i }).click();
  await visitor.getByRole('heading', { name: /sign in/i }).waitFor();
  await axe(visitor, 'sign-in page');
  await visitor.getByLabel(/organisation sign-in id/i).fill(env.owner.tenant);
  await visitor.getByLabel(/e-mail/i).fill(env.owner.email);
  await visitor.getByLabel(/^password/i).fill('not the password');
  await visitor.getByRole('button', { name: /sign in/i }).click();
  await visitor.locator('.alert').waitFor();
  await axe(visitor, 'sign-in page with an error');
  await visitor.goto(`${base}/demo?site=${env.siteKey}`);
  await visitor.locator('button.pw-launcher').waitFor({ state: 'visible' });
  await axe(visitor, 'demo visitor page');
  await visitor.goto(`${base}/invite?token=not-a-valid-token`);
  await axe(visitor, 'invitation page, link not valid');

  // The owner's console, on a wide screen.
  const octx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await octx.newPage();
  watch(page, 'console-owner');
  await signIn(page, env.parley.base, env.owner);
  await page.goto(`${base}/account`);
  const csrf = await page.locator('input[name=csrf_token]').first().getAttribute('value');
  // An invitation (set-up, through the API) for the invitation page.
  const inv = await page.request.post(`${base}/api/v1/users/invitations`, {
    headers: { 'X-CSRF-Token': csrf || '' }, data: { email: 'new@a11y.test', name: 'New Colleague', role: 'agent' },
  });
  if (inv.status() === 201) {
    await visitor.goto((await inv.json()).invitation_url);
    await visitor.getByLabel(/^password/i).waitFor();
    await axe(visitor, 'invitation page');
  } else {
    t.diagnostic(`invitation page not checked: POST /api/v1/users/invitations answered ${inv.status()}`);
  }
  await anon.close();

  const pages = [
    ['/account', 'account page'],
    ['/account/password', 'password change page'],
    ['/account/mfa', 'two-step verification page'],
    ['/roles', 'roles page'],
    ['/access-review', 'access review page'],
    ['/audit', 'audit log page'],
    ['/redaction', 'redaction page'],
    ['/workspace', 'agent workspace'],
    ['/live', 'live chats page'],
    ['/setup/demo-site', 'demo site page'],
  ];
  for (const [p, label] of pages) {
    await page.goto(base + p);
    assert.ok(new URL(page.url()).pathname === p, `${p}: redirected to ${page.url()}`);
    await openAll(page);
    await axe(page, label);
  }
  // Pages reached through the console's own links and forms.
  await page.goto(`${base}/roles`);
  await page.getByRole('row').filter({ hasText: env.agent.email }).getByRole('link').first().click();
  await page.getByRole('heading', { name: /effective permissions/i }).waitFor();
  await axe(page, "roles page with a user's permissions");
  await page.goto(`${base}/account/mfa`);
  await page.getByRole('button', { name: /set up two-step verification/i }).click();
  await page.getByLabel(/code from the app/i).waitFor();
  await axe(page, 'two-step verification enrolment');
  await page.goto(`${base}/redaction`);
  await page.locator('#try-pattern').fill('ACCT-[0-9]{6}');
  await page.getByLabel(/sample text/i).fill('Account ACCT-123456 and card 4111 1111 1111 1111.');
  await page.getByRole('button', { name: /^test$/i }).click();
  await page.locator('#trial-output').waitFor();
  await openAll(page);
  await axe(page, 'redaction page with a trial result');

  // At a phone's width no console page scrolls sideways: wide tables scroll in their own box.
  await page.setViewportSize(PHONE);
  for (const p of ['/audit', '/access-review', '/redaction', '/roles', '/account', '/account/password', '/account/mfa', '/']) {
    await page.goto(base + p);
    await openAll(page);
    const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    await shot(page, `390${p.replace(/\//g, '-')}`);
    assert.ok(scroll <= inner, `${p} at ${PHONE.width} px: scrollWidth ${scroll} > innerWidth ${inner}`);
  }
  await page.goto(`${base}/audit`);
  await axe(page, 'audit log page at 390 px');

  // The focus ring shows on every stop of the keyboard's path, checkboxes and radio buttons too.
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const p of ['/redaction', '/roles', '/login']) {
    await page.goto(base + p);
    await openAll(page);
    await page.locator('body').focus();
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      const s = await page.evaluate(`(${focusInFrame})(${contrastKit})`);
      if (s.where === 'body' && i > 0) break; // past the page's last control
      assert.ok(s.visible, `${p}, Tab #${i + 1}: no visible focus indicator of 3:1 on ${s.where}`);
    }
  }
  await octx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
  t.diagnostic(`checked: ${env.checked.join('; ')}`);
}

async function offlineForm() {
  const { browser, desk, host } = env;
  await desk.close(); // nobody online: the widget offers the offline form
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, 'offline-visitor');
  await page.goto(host.url('/'));
  await page.locator('button.pw-launcher').click();
  const frame = page.frameLocator('iframe.pw-frame');
  const send = frame.getByRole('button', { name: /send message/i });
  await send.waitFor();
  await axe(await chatFrame(page), 'widget offline form');
  await send.click();
  await frame.locator('[aria-invalid=true]').first().waitFor();
  await axe(await chatFrame(page), 'widget offline form with errors');
  await frame.getByLabel(/name/i).fill('Katherine Johnson');
  await frame.getByLabel(/e-mail/i).fill('katherine@example.com');
  await frame.getByLabel(/your message/i).fill('Please call me back.');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await send.click();
  await frame.getByText(/message has been sent|message was sent/i).waitFor();
  await axe(await chatFrame(page), 'widget offline message sent');
  await ctx.close();
  assert.deepEqual(problems, [], 'no script errors or CSP violations');
}
