// Canned messages and the offline-message inbox as agents and owners use them, against a real
// `parley serve`, through links, buttons and forms only (no injected script, no database write):
//   1. with nobody online, a visitor leaves an offline message through the widget (a card number
//      in it);
//   2. the agent signs in, opens "Canned messages" from the navigation, adds a personal text
//      with a placeholder (a card number in it is refused and not shown back), finds it by
//      search and edits it;
//   3. the agent opens "Offline messages" from the navigation, opens the message (card number
//      masked), marks it handled with a note, and finds it under "Handled";
//   4. the owner adds a shared text, which the agent then sees.
// Each page is checked with axe-core's WCAG 2.2 AA rules and screenshotted (artifacts/canned-*.png).
// Run: cd web/e2e && node --test browser/canned.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, freePort, hostPage, launchChromium, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, sri, stopAll, watchPage } from '../lib/checks.mjs';

const CARD = '4111 1111 1111 1111';
const TENANT = 'Canned Bank';

const env = { problems: [], pages: new Map() };

function watch(page, label) {
  watchPage(page, label, { problems: env.problems, pages: env.pages, state: env, refusal: /status of 4\d\d/ });
}

async function newPage(label) {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, label);
  return page;
}

// axe checks the page with axe-core's WCAG 2.2 AA rules.
function axe(page, label) {
  return assertAccessible(page, label, env);
}

function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, `canned-${name}.png`) });
}

// nav follows a link of the console's navigation.
function nav(page, label, pathname) {
  return followLink(page, page.locator('nav.side').getByRole('link', { name: label, exact: true }), pathname);
}

describe('canned messages and the offline inbox', { timeout: 600000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    env.owner = await env.parley.createUser(TENANT, 'owner@canned.test', 'owner');
    env.agent = await env.parley.createUser(TENANT, 'agent@canned.test', 'agent');
    const hostPort = await freePort();
    const siteKey = await env.parley.createSite(env.owner.tenant, 'Canned Insurance', [`http://127.0.0.1:${hostPort}`]);
    env.host = await hostPage(env.parley.base, siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')), hostPort);
    env.browser = await launchChromium();
  });

  after(() => stopAll(env));

  it('lets an agent keep canned messages and answer offline messages, reached from the navigation', async (t) => {
    await guarded(t, flow, { problems: env.problems, pages: env.pages, prefix: 'canned' });
    assert.deepEqual(env.problems, [], 'script errors, CSP violations or failed requests');
  });
});

async function flow() {
  const base = env.parley.base;

  // 1. Nobody is online: the visitor leaves an offline message.
  const visitor = await newPage('visitor');
  await visitor.goto(env.host.url('/'));
  await visitor.locator('button.pw-launcher').click();
  const frame = visitor.frameLocator('iframe.pw-frame');
  const send = frame.getByRole('button', { name: /send message/i });
  await send.waitFor();
  await frame.getByLabel(/name/i).fill('Katherine Johnson');
  await frame.getByLabel(/e-mail/i).fill('katherine@example.com');
  await frame.getByLabel(/your message/i).fill(`Please call me back about card ${CARD}.`);
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  const posted = visitor.waitForResponse((r) => r.url().endsWith('/offline') && r.request().method() === 'POST');
  await send.click();
  assert.equal((await posted).status(), 201);
  await visitor.close();

  // 2. The agent keeps a personal canned message.
  const agent = await newPage('agent');
  await signIn(agent, base, env.agent);
  await nav(agent, 'Canned messages', '/canned');
  await agent.getByRole('heading', { name: 'Canned messages', level: 1 }).waitFor();
  await axe(agent, 'canned messages (empty)');
  assert.equal(await agent.getByRole('radio', { name: /shared/i }).count(), 0, 'an agent is not offered shared texts');
  await agent.getByLabel('Shortcut', { exact: true }).fill('/card');
  await agent.getByLabel('Title', { exact: true }).fill('Card');
  await agent.getByLabel('Text', { exact: true }).fill(`Pay with ${CARD}`);
  env.expectRefusal = true;
  await agent.getByRole('button', { name: 'Add message' }).click();
  await agent.locator('#canned-body-error').waitFor();
  env.expectRefusal = false;
  assert.ok(!(await agent.content()).includes(CARD), 'the refused card number is not shown back');
  await axe(agent, 'canned messages (card number refused)');
  await shot(agent, 'refused');

  await agent.getByLabel('Shortcut', { exact: true }).fill('/thanks');
  await agent.getByLabel('Title', { exact: true }).fill('Thanks for waiting');
  await agent.getByLabel('Text', { exact: true }).fill('Thanks for waiting, {visitor_name}. I am looking into it now.');
  await agent.getByRole('button', { name: 'Add message' }).click();
  await agent.getByText('The canned message was added.').waitFor();
  await agent.getByLabel(/search shortcuts/i).fill('waiting');
  await agent.getByRole('button', { name: 'Search' }).click();
  await agent.getByRole('cell', { name: '/thanks', exact: true }).waitFor();
  await agent.getByRole('link', { name: 'Edit /thanks' }).click();
  await agent.getByRole('heading', { name: 'Edit /thanks' }).waitFor();
  await axe(agent, 'edit canned message');
  await agent.getByLabel('Text', { exact: true }).fill('Thank you for waiting, {visitor_name}. I am on it.');
  await agent.getByRole('button', { name: 'Save changes' }).click();
  await agent.getByText('The canned message was changed.').waitFor();
  await agent.getByText('Thank you for waiting, {visitor_name}. I am on it.').waitFor();
  await shot(agent, 'list');

  // 3. The agent answers the offline message.
  await nav(agent, 'Offline messages', '/offline');
  await agent.getByRole('heading', { name: 'Offline messages', level: 1 }).waitFor();
  assert.ok(!(await agent.content()).includes('Katherine'), 'the list shows no personal data');
  await axe(agent, 'offline inbox');
  await shot(agent, 'offline-inbox');
  await agent.getByRole('link', { name: /open the message/i }).first().click();
  await agent.getByText('Katherine Johnson').waitFor();
  const opened = await agent.content();
  assert.ok(!opened.includes(CARD) && opened.includes('1111'), 'the card number is masked');
  await axe(agent, 'offline message');
  await shot(agent, 'offline-message');
  await agent.getByLabel(/note of the answer given/i).fill('Called back on the phone; explained the refund.');
  await agent.getByRole('button', { name: 'Mark handled' }).click();
  await agent.getByText('The message was marked handled.').waitFor();
  await agent.getByRole('link', { name: 'Handled', exact: true }).click();
  await agent.getByRole('cell', { name: /^Handled/ }).waitFor();
  await agent.getByRole('link', { name: 'New', exact: true }).click();
  await agent.getByText('No new offline messages.').waitFor();
  await axe(agent, 'offline inbox (new, empty)');

  // 4. The owner adds a shared text; the agent sees it.
  const owner = await newPage('owner');
  await signIn(owner, base, env.owner);
  await nav(owner, 'Canned messages', '/canned');
  await owner.getByRole('radio', { name: /everyone in the organisation/i }).check();
  await owner.getByLabel('Shortcut', { exact: true }).fill('/hours');
  await owner.getByLabel('Title', { exact: true }).fill('Opening hours');
  await owner.getByLabel('Text', { exact: true }).fill('We answer chats from 8:00 to 18:00, {visitor_name}.');
  await owner.getByRole('button', { name: 'Add message' }).click();
  await owner.getByText('The canned message was added.').waitFor();
  await axe(owner, 'canned messages (owner)');
  await nav(agent, 'Canned messages', '/canned');
  await agent.getByRole('cell', { name: '/hours', exact: true }).waitFor();
  assert.equal(await agent.getByRole('link', { name: 'Edit /hours' }).count(), 0, 'the agent may not edit the shared text');
  await shot(agent, 'shared');
}
