// Browser test of the agent workspace with two agents and a supervisor against a real
// `parley serve`, through the UI only: the owner sets the Cards department to automatic routing on
// the Routing page (when the server has it); each person signs in through the sign-in page and
// opens the workspace from the navigation; a visitor starts a chat from the demo page; it is
// offered to one agent (automatic) or to all (manual pick) and accepted; the agent sees the
// visitor panel; a second chat opens as a second tab and raises an unread count; the agent adds a
// canned message on its page and inserts it with "/" (when the server has canned messages); the
// supervisor finds the chat in the live chats, monitors it, whispers (the visitor's page never
// shows the whisper) and joins; the chat is transferred to the other agent with a note only
// agents see (when the server has the agent roster); the two agents chat with each other in the
// team panel (one writes, the other sees it live and answers); a second visitor opens the demo
// page, an agent invites them from the workspace's visitor list, the widget shows the invitation,
// the visitor accepts and the chat is at once that agent's, whose message reaches the visitor;
// the agent who has Ada's chat ends it. axe-core checks the
// workspace with chats open, and at 390 px nothing scrolls sideways. Screenshots go to
// artifacts/ and, for the documentation, to docs/screenshots/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, followLink, guarded, startVisitorChat, stopAll, watchPage } from '../lib/checks.mjs';
const TENANT = 'Workspace Bank';
const WHISPER = 'Offer the fee refund, quietly';
const docs = path.join(repoRoot, 'docs/screenshots');

const env = {};
const problems = [];
const pages = new Map();

function watch(page, label) {
  watchPage(page, label, { problems, pages, state: env });
}

function shot(page, name, docName) {
  const out = [page.screenshot({ path: path.join(artifacts, `workspace-${name}.png`) })];
  if (docName) out.push(page.screenshot({ path: path.join(docs, docName) }));
  return Promise.all(out);
}

// axe checks the page with axe-core's WCAG 2.2 AA rules.
function axe(page, label) {
  return assertAccessible(page, label, env);
}

// desk signs a console user in and opens the workspace from the navigation.
async function desk(account, label) {
  const ctx = await env.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  watch(page, label);
  await signIn(page, env.parley.base, account);
  await openWorkspace(page, env.parley.base);
  await page.locator('.cw-conn', { hasText: /connected/i }).waitFor();
  return page;
}

// startChat opens the demo page as a new visitor and starts a chat with a first message.
async function startChat(name, email, text) {
  const ctx = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await ctx.newPage();
  watch(page, `visitor ${name}`);
  await page.goto(`${env.parley.base}/demo?site=${env.siteKey}`);
  const launcher = page.locator('button.pw-launcher');
  await launcher.waitFor({ state: 'visible' });
  await launcher.click();
  const frame = page.frameLocator('iframe.pw-frame');
  const composer = await startVisitorChat(frame, { name, email, department: 'Cards' });
  await composer.fill(text);
  await composer.press('Enter');
  await frame.locator('.msg-own .st', { hasText: /sent|read/i }).waitFor();
  return { page, frame, composer };
}

// take waits for the chat of visitor name to reach one of desks: offered to one of them alone
// (automatic routing), to every one (manual pick; the first desk accepts), or already theirs.
// Resolves the desk that has it, its tab and how many desks were offered it.
async function take(desks, name) {
  const tabs = desks.map((d) => d.getByRole('tab', { name: new RegExp(name) }));
  const offers = desks.map((d) => d.locator('.cw-offer', { hasText: name }));
  await Promise.race([...tabs.map((tab) => tab.waitFor()), ...offers.map((o) => o.waitFor())]);
  for (let i = 0; i < desks.length; i++) {
    if (await tabs[i].count()) return { desk: desks[i], tab: tabs[i], offered: 0 };
  }
  await desks[0].waitForTimeout(300); // a broadcast reaches every desk within this
  const counts = await Promise.all(offers.map((o) => o.count()));
  const i = counts.findIndex((n) => n > 0);
  await offers[i].getByRole('button', { name: /accept/i }).click();
  await tabs[i].waitFor();
  return { desk: desks[i], tab: tabs[i], offered: counts.filter((n) => n > 0).length };
}

// setStatus picks online or away in a desk's status selector, when the server has statuses.
async function setStatus(page, status) {
  const select = page.getByLabel(/your status/i);
  if (!(await select.count())) return false;
  await select.selectOption(status);
  return true;
}

describe('agent workspace: two agents and a supervisor', { timeout: 900000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    fs.mkdirSync(docs, { recursive: true });
    env.parley = await startParley();
    const owner = await env.parley.createUser(TENANT, 'owner@ws.test', 'owner', 'Olivia Owner');
    env.owner = owner;
    env.alice = await env.parley.createUser(TENANT, 'alice@ws.test', 'agent', 'Alice Agent');
    env.bob = await env.parley.createUser(TENANT, 'bob@ws.test', 'agent', 'Bob Agent');
    env.sam = await env.parley.createUser(TENANT, 'sam@ws.test', 'supervisor', 'Sam Supervisor');
    env.siteKey = await env.parley.createSite(owner.tenant, 'Acme Insurance', [env.parley.base]);
    // A department, as organisations have: transfers list agents by the departments they serve.
    const dept = await env.parley.command(['department', 'create', '--tenant', owner.tenant, '--name', 'Cards']);
    assert.equal(dept.code, 0, `parley department create: ${dept.stderr}`);
    env.browser = await launchChromium();
  }, { timeout: 900000 });
  after(() => stopAll(env), { timeout: 60000 });
  it('assign, tabs, visitor panel, canned, transfer with a note, monitor, whisper, join, team chat, invitation, end', { timeout: 600000 }, (t) => guarded(t, workday, { problems, pages, prefix: 'workspace' }));
});

// automatic sets the Cards department to automatic routing on the Routing page, reached from the
// owner's navigation, when the server has it. Resolves whether it did.
async function automatic() {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  watch(page, 'owner');
  await signIn(page, env.parley.base, env.owner);
  const link = page.locator('nav a[href="/routing"]');
  if (!(await link.count())) {
    await ctx.close();
    pages.delete('owner');
    return false;
  }
  await followLink(page, link.first(), '/routing');
  await page.getByLabel(/routing mode/i).first().selectOption('automatic');
  await page.getByRole('button', { name: /^save cards$/i }).click();
  await page.getByLabel(/routing mode/i).first().waitFor();
  assert.equal(await page.getByLabel(/routing mode/i).first().inputValue(), 'automatic');
  await shot(page, 'routing');
  await ctx.close();
  pages.delete('owner');
  return true;
}

async function workday(t) {
  env.automatic = await automatic();
  if (!env.automatic) t.diagnostic('automatic assignment: no routing page on this server yet; chats are picked by hand');
  const alice = await desk(env.alice, 'alice');
  const bob = await desk(env.bob, 'bob');
  const sam = await desk(env.sam, 'sam');
  // Sam supervises: the live chats are part of his workspace, not of the agents'.
  await sam.getByRole('heading', { name: /live chats/i }).waitFor();
  assert.equal(await alice.getByRole('heading', { name: /live chats/i }).count(), 0, 'agents see no live chats list');
  // Sam takes no chats in this test: he steps away if the server has statuses, so routing
  // leaves him out; otherwise the queue offers him chats he simply does not take.
  await setStatus(sam, 'away');

  // --- a visitor starts a chat; an agent takes it ----------------------------------------------
  const ada = await startChat('Ada Lovelace', 'ada@example.com', 'Hello, my card was declined at checkout.');
  const got = await take([alice, bob], 'Ada Lovelace');
  if (env.automatic) assert.equal(got.offered, 1, 'automatic routing offers the chat to one agent');
  const first = got.desk; // the agent who has Ada's chat
  const other = first === alice ? bob : alice;
  const firstName = first === alice ? env.alice.name : env.bob.name;
  const otherName = first === alice ? env.bob.name : env.alice.name;
  const adaTab = got.tab;
  const log = first.locator('.cw-log');
  await log.getByText('my card was declined').waitFor();
  await ada.frame.getByText(/joined/i).waitFor();
  // The visitor panel: name, the e-mail masked (agents lack visitor.view_pii), the page trail.
  const panel = first.locator('.cw-vp');
  await panel.getByText('Ada Lovelace').waitFor();
  await panel.getByText('a•••@example.com').waitFor();
  await panel.locator('.cw-trail').getByText(/demo/i).first().waitFor();
  assert.ok(!(await panel.textContent()).includes('ada@example.com'), 'the e-mail is masked for an agent');
  const reply = first.getByRole('textbox', { name: /^message$/i });
  await reply.fill('Hello Ada, let me look at that.');
  await reply.press('Enter');
  await ada.frame.locator('.msg-agent .text', { hasText: 'let me look at that' }).waitFor();
  await shot(first, 'visitor-panel', 'workspace-visitor-panel.png');

  // --- a second chat for the same agent: a second tab, and an unread count on the first -------
  // (the other agent steps away meanwhile, so automatic routing cannot give it to them)
  const stepped = await setStatus(other, 'away');
  const grace = await startChat('Grace Hopper', 'grace@example.com', 'Can I raise my card limit?');
  const { tab: graceTab } = await take([first], 'Grace Hopper');
  if (stepped) await setStatus(other, 'online');
  await graceTab.click();
  assert.equal(await graceTab.getAttribute('aria-selected'), 'true');
  await log.getByText('raise my card limit').waitFor();
  await ada.composer.fill('Are you still there?');
  await ada.composer.press('Enter');
  await adaTab.locator('.cw-unread', { hasText: '1' }).waitFor();
  await shot(first, 'tabs', 'workspace-tabs.png');
  // The keyboard moves between tabs; the unread count clears once the chat is shown.
  await graceTab.focus();
  await first.keyboard.press('ArrowLeft');
  assert.equal(await adaTab.getAttribute('aria-selected'), 'true');
  await log.getByText('Are you still there?').waitFor();
  await adaTab.locator('.cw-unread').waitFor({ state: 'detached' });
  await axe(first, 'workspace with two chats');

  // --- canned message (when the server has them): the agent adds one on the canned messages
  // page, reached from the console's navigation, then inserts it with "/" ------------------------
  if ((await first.locator('[data-chat-workspace]').getAttribute('data-apis')).includes('canned') && await first.getByRole('button', { name: /canned/i }).count()) {
    const manage = await first.context().newPage();
    watch(manage, 'canned page');
    await manage.goto(`${env.parley.base}/workspace`);
    await followLink(manage, manage.locator('nav a[href="/canned"]').first(), '/canned');
    const personal = manage.getByLabel(/only me/i);
    if (await personal.count()) await personal.check();
    await manage.getByLabel(/^shortcut$/i).fill('fee');
    await manage.getByLabel(/^title$/i).fill('Fee refund');
    await manage.getByLabel(/^text$/i).fill('Hi {visitor_name}, I have asked for the fee to be refunded.');
    await manage.getByRole('button', { name: /add message/i }).click();
    await manage.getByText('Fee refund').first().waitFor();
    await manage.close();
    pages.delete('canned page');
    await reply.fill('/fee');
    await first.getByRole('option', { name: /fee refund/i }).waitFor();
    await shot(first, 'canned');
    await reply.press('Enter');
    assert.equal(await reply.inputValue(), 'Hi Ada Lovelace, I have asked for the fee to be refunded.', 'the canned text with the visitor name filled in');
    await reply.press('Enter');
    await ada.frame.locator('.msg-agent .text', { hasText: 'fee to be refunded' }).waitFor();
  } else {
    t.diagnostic('canned messages: not on this server yet');
  }

  // --- the supervisor monitors and whispers; the visitor never sees it ------------------------
  const liveRow = sam.locator('.cw-live-item', { hasText: firstName }).first();
  await liveRow.waitFor();
  await shot(sam, 'supervisor');
  await liveRow.getByRole('button', { name: /monitor/i }).click();
  const samTab = sam.getByRole('tab', { name: /monitoring.*(Ada|Grace)/i }).first();
  await samTab.waitFor();
  const monitored = /Ada/.test(await samTab.textContent()) ? ada : grace;
  const whisper = sam.getByRole('textbox', { name: /whisper to the agent/i });
  await whisper.fill(WHISPER);
  await whisper.press('Enter');
  await sam.locator('.cw-whisper .cw-text', { hasText: WHISPER }).waitFor();
  const monitoredTab = first.getByRole('tab', { name: new RegExp(monitored === ada ? 'Ada' : 'Grace') });
  await monitoredTab.click();
  await log.locator('.cw-whisper', { hasText: WHISPER }).waitFor();
  // The agent answers after the whisper: once the visitor has that answer, anything stored
  // before it has been delivered to the visitor too, had it been for them.
  await reply.fill('I have good news about the fee.');
  await reply.press('Enter');
  await monitored.frame.locator('.msg-agent .text', { hasText: 'good news about the fee' }).waitFor();
  const visitorText = await monitored.page.frames().find((f) => f.url().includes('/widget/v1/frame')).content();
  assert.ok(!visitorText.includes(WHISPER) && !/whisper/i.test(visitorText.replace(/<script[\s\S]*?<\/script>/g, '')), "the visitor's page never shows the whisper");
  await shot(sam, 'monitor-whisper', 'workspace-supervisor.png');

  // --- the supervisor joins: the visitor sees him ----------------------------------------------
  await sam.getByRole('button', { name: /^join chat$/i }).click();
  await monitored.frame.getByText(/Sam Supervisor/).first().waitFor();
  const samReply = sam.getByRole('textbox', { name: /^message$/i });
  await samReply.fill('I am the team lead, happy to help.');
  await samReply.press('Enter');
  await monitored.frame.locator('.msg-agent .text', { hasText: 'team lead' }).waitFor();
  await log.getByText('I am the team lead, happy to help.').waitFor();
  await shot(monitored.page, 'visitor-after-join');

  // --- transfer Ada's chat to Bob with a note (when the server has the roster) ----------------
  await adaTab.click();
  await first.getByRole('button', { name: /^transfer$/i }).click();
  const dialog = first.getByRole('dialog', { name: /transfer/i });
  await dialog.waitFor();
  const target = dialog.getByRole('combobox', { name: /transfer to/i });
  const otherOption = target.locator('option', { hasText: otherName });
  if (await otherOption.waitFor({ state: 'attached', timeout: 5000 }).then(() => true, () => false)) {
    await target.selectOption({ label: await otherOption.textContent() });
    const note = dialog.getByLabel(/note for the agents/i);
    if (await note.count()) await note.fill('Card declined at checkout; she is a returning customer.');
    await shot(first, 'transfer-dialog');
    await dialog.getByRole('button', { name: /^transfer$/i }).click();
    const { tab: otherTab } = await take([other], 'Ada Lovelace');
    await otherTab.click();
    if (await note.count()) await other.locator('.cw-note', { hasText: 'returning customer' }).waitFor();
    const adaText = await ada.page.frames().find((f) => f.url().includes('/widget/v1/frame')).content();
    assert.ok(!adaText.includes('returning customer'), 'the visitor never sees the transfer note');
    await shot(other, 'transferred-with-note');
    env.adaDesk = other;
  } else {
    t.diagnostic('transfer: the agent roster is not on this server yet');
    await dialog.getByRole('button', { name: /cancel/i }).click();
    env.adaDesk = first;
  }

  // --- agent-to-agent chat: Alice writes to Bob from the team panel; Bob sees it live and answers
  const team = alice.getByRole('region', { name: /^team$/i });
  await team.getByRole('button', { name: /chat with bob agent/i }).click();
  const aliceBox = alice.getByRole('textbox', { name: /write to bob agent/i });
  await aliceBox.fill('Can you cover the Cards queue after lunch?');
  await aliceBox.press('Enter');
  await team.locator('.wt-msg.wt-mine:not(.wt-pending)', { hasText: /cover the Cards queue/ }).waitFor();
  const bobTeam = bob.getByRole('region', { name: /^team$/i });
  await bobTeam.locator('.wt-unread', { hasText: '1' }).waitFor();
  await bobTeam.getByRole('button', { name: /chat with alice agent/i }).click();
  await bobTeam.locator('.wt-msg.wt-theirs', { hasText: /cover the Cards queue/ }).waitFor();
  const bobBox = bob.getByRole('textbox', { name: /write to alice agent/i });
  await bobBox.fill('Sure, I will take it.');
  await bobTeam.getByRole('button', { name: /^send$/i }).click();
  await team.locator('.wt-msg.wt-theirs', { hasText: 'Sure, I will take it.' }).waitFor();
  await team.scrollIntoViewIfNeeded();
  await shot(alice, 'team', 'workspace-team.png');

  // --- proactive invitation: a visitor browses the demo page; an agent invites them from the
  // workspace's visitor list; the visitor accepts and the chat is at once that agent's ----------
  // (the visitor's browser speaks British English, which tells their row from Ada's and Grace's)
  const vctx = await env.browser.newContext({ viewport: { width: 1000, height: 800 }, locale: 'en-GB' });
  const guest = await vctx.newPage();
  watch(guest, 'visitor invited');
  await guest.goto(`${env.parley.base}/demo?site=${env.siteKey}`);
  await guest.locator('button.pw-launcher').waitFor({ state: 'visible' });
  const inviteTabs = first.getByRole('tab').filter({ hasNotText: /Ada Lovelace|Grace Hopper/ });
  assert.equal(await inviteTabs.count(), 0, 'no other chat before the invitation');
  const visitors = first.getByRole('region', { name: /visitors on the sites/i });
  const row = visitors.locator('li.wt-visitor', { hasText: /acme insurance/i }).filter({ hasText: 'en-GB' }).first();
  await row.waitFor({ timeout: 30000 });
  await row.getByRole('textbox', { name: /invitation note/i }).fill('Hello! Can I help you with your card?');
  await row.getByRole('button', { name: /^invite$/i }).click();
  await row.getByRole('status').filter({ hasText: /invitation sent/i }).waitFor();
  const guestFrame = guest.frameLocator('iframe.pw-frame');
  await guestFrame.getByRole('heading', { name: new RegExp(`${firstName} invites you to chat`, 'i') }).waitFor({ timeout: 30000 });
  await guestFrame.getByText('Hello! Can I help you with your card?').waitFor();
  await shot(guest, 'visitor-invitation');
  await guestFrame.getByRole('button', { name: /start chat/i }).click();
  await row.getByRole('status').filter({ hasText: /accepted/i }).waitFor();
  // The chat is the inviting agent's: a tab of its own in their chats, offered to no one else.
  await inviteTabs.first().waitFor();
  assert.equal(await other.locator('.cw-offer').count(), 0, 'the invited chat is offered to no other agent');
  await inviteTabs.first().click();
  await reply.fill('Welcome! How can I help with your card?');
  await reply.press('Enter');
  await guestFrame.getByText('Welcome! How can I help with your card?').waitFor();
  await shot(first, 'invited-chat');

  // --- end -------------------------------------------------------------------------------------
  const endDesk = env.adaDesk;
  await endDesk.getByRole('tab', { name: /Ada Lovelace/ }).click();
  await endDesk.getByRole('button', { name: /^end chat$/i }).click();
  await ada.frame.getByText(/how was your chat|how did we do/i).waitFor();
  await endDesk.locator('.cw-log').getByText(/ended/i).waitFor();
  await endDesk.getByRole('button', { name: /close tab/i }).waitFor();

  // At a phone's width the workspace takes one column: nothing scrolls sideways.
  await first.setViewportSize({ width: 390, height: 844 });
  const { scroll, inner } = await first.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `workspace at 390 px: scrollWidth ${scroll} > innerWidth ${inner}`);
  await shot(first, 'phone');
  assert.deepEqual(problems, [], 'no script errors, CSP violations or failed requests');
}
