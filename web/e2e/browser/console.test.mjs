// The console as its people use it, against a real `parley serve`, through links, buttons and
// forms only (no injected script, no database write, no command once set-up is done):
//   1. the newcomer opens the setup link, creates the organisation, signs in and creates the demo
//      site with one click;
//   2. the owner invites an agent, a supervisor and an auditor from the users page;
//   3. the agent accepts the invitation, turns on two-step verification and signs in again with a
//      code, landing in the workspace;
//   4. a visitor on the demo page chats with the agent;
//   5. the owner (an administrator) changes the password policy and bans an address;
//   6. the auditor signs in and sees the audit log and its integrity, and nothing else.
// Every console page the owner's navigation offers is screenshotted at 1280×800
// (artifacts/console-*.png), checked with axe-core's WCAG 2.2 AA rules, and must not scroll
// sideways at 390 px. Run: cd web/e2e && node --test browser/console.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { artifacts, launchChromium, startParley } from '../lib/parley.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ORG = 'Harbour Mutual';
const OWNER = { email: 'owner@harbour.test', password: 'Quiet-meadow-2026-lamp' };
const PEOPLE = {
  agent: { email: 'agent@harbour.test', name: 'Alice Agent', role: 'agent', password: 'Lantern-field-2031-oak' },
  supervisor: { email: 'supervisor@harbour.test', name: 'Sam Supervisor', role: 'supervisor', password: 'Copper-kettle-2032-elm' },
  auditor: { email: 'auditor@harbour.test', name: 'Ada Auditor', role: 'auditor', password: 'Silver-beacon-2033-ash' },
};

const env = { problems: [], pages: new Map(), usedStep: new Map() };

// totp computes the RFC 6238 code of a base32 secret at time t (what an authenticator app shows).
function totp(secret, t = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

function watch(page, label) {
  env.pages.set(label, page);
  page.on('pageerror', (e) => env.problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url || '';
    if (/favicon/i.test(where) || (env.auditing && where === '')) return;
    // A wrong code and a refused form answer 4xx on purpose; the page shows why.
    if (/status of 4\d\d/.test(m.text()) && env.expectRefusal) return;
    env.problems.push(`${label} console: ${m.text()} ${where}`);
  });
}

async function newPage(label, viewport = DESKTOP) {
  const ctx = await env.browser.newContext({ viewport });
  const page = await ctx.newPage();
  watch(page, label);
  return page;
}

async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  env.auditing = true;
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, iframes: false, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, TAGS).finally(() => { env.auditing = false; });
  assert.deepEqual(violations, [], `${label}: WCAG 2.2 AA violations`);
}

function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, `console-${name}.png`) });
}

// menu returns the console navigation's links as {label, path}.
function menu(page) {
  return page.locator('nav.side a').evaluateAll((as) => as.map((a) => ({ label: a.textContent.trim(), path: new URL(a.href).pathname })));
}

// signIn fills the sign-in form; with a TOTP secret, it types the current code too.
async function signIn(page, tenant, email, password, secret) {
  await page.goto(`${env.parley.base}/login`);
  await page.getByLabel(/organisation sign-in id/i).fill(tenant);
  await page.getByLabel(/e-mail/i).fill(email);
  await page.getByLabel(/^password/i).fill(password);
  if (secret) {
    // A code is accepted once (replay protection): after the code that turned two-step
    // verification on, wait for the app's next one, as a person would.
    while (Math.floor(Date.now() / 30000) <= (env.usedStep.get(secret) ?? -1)) await new Promise((r) => { setTimeout(r, 500); });
    await page.getByLabel(/authentication code/i).fill(totp(secret));
  }
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

// enrolTOTP turns on two-step verification from the page it is on (the account's MFA page) and
// returns the secret, as a person would type the key into their app.
async function enrolTOTP(page) {
  await page.getByRole('button', { name: /set up two-step verification/i }).click();
  const key = (await page.locator('li', { hasText: 'Or type this key' }).locator('code').textContent()).trim();
  env.usedStep.set(key, Math.floor(Date.now() / 30000));
  await page.getByLabel(/code from the app/i).fill(totp(key));
  await page.getByRole('button', { name: /turn on two-step verification/i }).click();
  await page.getByText(/recovery codes/i).first().waitFor();
  return key;
}

describe('the console', { timeout: 900000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.browser = await launchChromium();
  });

  after(async () => {
    if (env.failed) {
      for (const [label, page] of env.pages) await page.screenshot({ path: path.join(artifacts, `console-failure-${label}.png`) }).catch(() => {});
    }
    await env.browser?.close();
    await env.parley?.stop();
  });

  it('takes a newcomer from the setup link to a first chat, and each person to their work', async (t) => {
    try {
      await flow(t);
    } catch (e) {
      env.failed = true;
      throw e;
    }
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

async function flow() {
  const base = env.parley.base;
  const setupLink = env.parley.printed('setup');
  assert.ok(setupLink, `parley serve printed no setup link:\n${env.parley.output.join('\n')}`);

  // 1. Setup, sign-in, the demo site.
  const owner = await newPage('owner');
  await owner.goto(setupLink);
  await owner.getByLabel(/organisation name/i).fill(ORG);
  await owner.getByLabel(/your e-mail address/i).fill(OWNER.email);
  await owner.getByLabel(/^password$/i).fill(OWNER.password);
  await owner.getByLabel(/repeat the password/i).fill(OWNER.password);
  await owner.getByRole('button', { name: /create organisation and owner/i }).click();
  const slug = (await owner.locator('code').first().textContent()).trim();
  env.slug = slug;
  await owner.getByRole('link', { name: /sign in/i }).first().click();
  await signIn(owner, slug, OWNER.email, OWNER.password);
  assert.equal(new URL(owner.url()).pathname, '/overview', 'the owner lands on the overview');
  await owner.getByRole('button', { name: /create a demo site/i }).click();
  await owner.getByText(/the demo site was created/i).waitFor();
  const visitorLink = owner.getByRole('link', { name: /open the visitor page/i });
  const demoURL = new URL(await visitorLink.getAttribute('href'), base).href;
  await shot(owner, 'demo-site');

  // 2. The owner invites the agent, the supervisor and the auditor.
  const invitations = {};
  for (const [key, p] of Object.entries(PEOPLE)) {
    await owner.getByRole('link', { name: 'Users', exact: true }).click();
    await invite(owner, p);
    invitations[key] = await owner.getByLabel('Invitation link').inputValue();
    assert.match(invitations[key], /\/invite\?token=/, `the invitation link of ${p.email} is shown`);
  }

  // 3. The agent accepts, turns on two-step verification and signs in with a code.
  const agent = await newPage('agent');
  await agent.goto(invitations.agent.trim());
  await agent.getByLabel(/^password$/i).fill(PEOPLE.agent.password);
  await agent.getByLabel(/repeat the password/i).fill(PEOPLE.agent.password);
  await agent.getByRole('button', { name: /create my account/i }).click();
  await agent.getByRole('link', { name: /sign in/i }).click();
  await signIn(agent, slug, PEOPLE.agent.email, PEOPLE.agent.password);
  if (!new URL(agent.url()).pathname.startsWith('/account/mfa')) {
    await agent.getByRole('link', { name: PEOPLE.agent.name }).click();
    await agent.getByRole('link', { name: /manage/i }).click();
  }
  const secret = await enrolTOTP(agent);
  await agent.getByRole('button', { name: /sign out/i }).click();
  await signIn(agent, slug, PEOPLE.agent.email, PEOPLE.agent.password, secret);
  assert.equal(new URL(agent.url()).pathname, '/workspace', 'the agent lands in the workspace');
  assert.deepEqual((await menu(agent)).map((l) => l.path), ['/workspace', '/transcripts', '/canned', '/offline'], "the agent's menu");

  // 4. A visitor on the demo page chats with the agent.
  const visitor = await newPage('visitor');
  await visitor.goto(demoURL);
  const launcher = visitor.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await launcher.click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  await frame.getByRole('button', { name: /start/i }).waitFor();
  const name = frame.getByLabel(/name/i);
  if (await name.count()) await name.fill('Vera Visitor');
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await frame.getByRole('button', { name: /start/i }).click();
  const composer = frame.getByRole('textbox', { name: /message/i });
  await composer.fill('Hello, is anyone there?');
  await composer.press('Enter');
  await agent.locator('.cw-offer', { hasText: 'Vera Visitor' }).getByRole('button', { name: /accept/i }).click();
  await agent.locator('.cw-log').getByText('Hello, is anyone there?').waitFor();
  await agent.getByRole('textbox', { name: /message/i }).fill('Hello Vera, Alice here.');
  await agent.getByRole('textbox', { name: /message/i }).press('Enter');
  await frame.locator('.msg-agent .text', { hasText: 'Hello Vera, Alice here.' }).waitFor();
  await shot(agent, 'workspace-chat');

  // 5. The owner changes the password policy and bans an address.
  await owner.getByRole('link', { name: 'Security policy', exact: true }).click();
  await changePasswordPolicy(owner);
  await owner.getByRole('link', { name: 'Bans', exact: true }).click();
  await banAddress(owner, '203.0.113.66');

  // Every page of the owner's menu, at 1280×800 and at 390 px.
  const links = await menu(owner);
  assert.ok(links.length >= 12, `the owner's menu: ${JSON.stringify(links)}`);
  for (const { label, path: p } of links) {
    await owner.getByRole('link', { name: label, exact: true }).first().click();
    await owner.waitForURL((u) => u.pathname === p);
    await shot(owner, p.slice(1).replace(/\//g, '-'));
    await axe(owner, `${label} (${p})`);
  }
  await owner.setViewportSize(PHONE);
  for (const { path: p } of links) {
    await owner.goto(base + p);
    const { scroll, inner, wide } = await owner.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
      // The elements reaching past the viewport, to say what to fix.
      wide: [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}`),
    }));
    assert.ok(scroll <= inner, `${p} at 390 px scrolls sideways (${scroll} > ${inner}): ${wide.join(', ')}`);
  }
  await owner.setViewportSize(DESKTOP);

  // 6. The auditor sees the audit log and its integrity, and nothing else.
  const auditor = await newPage('auditor');
  await auditor.goto(invitations.auditor.trim());
  await auditor.getByLabel(/^password$/i).fill(PEOPLE.auditor.password);
  await auditor.getByLabel(/repeat the password/i).fill(PEOPLE.auditor.password);
  await auditor.getByRole('button', { name: /create my account/i }).click();
  await auditor.getByRole('link', { name: /sign in/i }).click();
  await signIn(auditor, slug, PEOPLE.auditor.email, PEOPLE.auditor.password);
  if (new URL(auditor.url()).pathname.startsWith('/account/mfa')) {
    const s = await enrolTOTP(auditor);
    await auditor.getByRole('button', { name: /sign out/i }).click();
    await signIn(auditor, slug, PEOPLE.auditor.email, PEOPLE.auditor.password, s);
  }
  assert.equal(new URL(auditor.url()).pathname, '/audit', 'the auditor lands on the audit log');
  const auditorMenu = (await menu(auditor)).map((l) => l.path);
  // The auditor reads (audit.*, access_review.*, evidence.*, keys.view): the Compliance section
  // only, exactly five areas — audit log, integrity, access review, evidence reports and key
  // status; no chat, no administration, no roles or security settings.
  assert.deepEqual(auditorMenu, ['/audit', '/integrity', '/access-review', '/evidence', '/keys'], "the auditor's menu");
  assert.deepEqual(await auditor.locator('nav.side .nav-title').allTextContents(), ['Compliance'], "the auditor's menu sections");
  assert.ok(auditorMenu.includes('/audit'));
  await auditor.getByText(/chain/i).first().waitFor();
  await shot(auditor, 'auditor-audit');
  for (const p of ['/overview', '/users', '/sites', '/workspace', '/bans', '/roles', '/security', '/redaction']) {
    const r = await auditor.request.get(base + p);
    assert.equal(r.status(), 403, `the auditor opening ${p}`);
  }
}

// The forms of other pages, filled as a person would; they live here so one place knows the labels.
async function invite(page, p) {
  await page.getByLabel('E-mail address', { exact: true }).fill(p.email);
  await page.getByLabel('Name', { exact: true }).fill(p.name);
  await page.getByLabel('Role', { exact: true }).selectOption(p.role);
  await page.getByRole('button', { name: 'Invite', exact: true }).click();
  await page.getByRole('heading', { name: /invitation ready/i }).waitFor();
}

// changePasswordPolicy first asks for less than PCI DSS allows and reads the field's error, then
// sets a 14-character minimum.
async function changePasswordPolicy(page) {
  const len = page.getByLabel('Minimum length', { exact: true });
  await len.fill('8');
  env.expectRefusal = true;
  await page.getByRole('button', { name: /save password policy/i }).click();
  await page.locator('.field-error').first().waitFor();
  env.expectRefusal = false;
  assert.match(await page.locator('.field-error').first().textContent(), /12/, 'the minimum-length field says why');
  await page.getByLabel('Minimum length', { exact: true }).fill('14');
  await page.getByRole('button', { name: /save password policy/i }).click();
  await page.getByRole('status').first().waitFor();
  assert.equal(await page.getByLabel('Minimum length', { exact: true }).inputValue(), '14');
}

async function banAddress(page, ip) {
  await page.getByLabel('What to ban').selectOption('ip');
  await page.getByLabel('IP address, network or visitor id').fill(ip);
  await page.getByLabel(/^reason/i).fill('Abusive messages');
  await page.getByRole('button', { name: 'Add ban', exact: true }).click();
  await page.getByRole('button', { name: `Lift the ban on ${ip}` }).waitFor();
}
