// Browser test of team chat and proactive invitations against a real `parley serve`, through the
// UI only: two agents sign in through the sign-in page and open the workspace; Ann picks Ben in
// the team panel and writes, Ben sees the unread count, opens the thread and answers, Ann sees
// the answer live; after a reload Ben finds the thread's history. A visitor opens a customer's page that embeds the widget; Ann sees the visitor
// in the workspace's visitor list and clicks Invite with a note; the widget opens with the
// invitation, the visitor clicks "Start chat", and the chat is at once Ann's: her message reaches
// the visitor. axe-core checks the workspace with the team panel and the widget's invitation. Screenshots go to artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, hostPage, freePort, launchChromium, openWorkspace, repoRoot, signIn, startParley } from '../lib/parley.mjs';
import { assertAccessible, guarded, sri, stopAll, watchPage } from '../lib/checks.mjs';
const TENANT = 'Team Bank';
const CARD = '4111 1111 1111 1111';

const env = {};
const problems = [];
const pages = new Map();

function shot(page, name) {
  return page.screenshot({ path: path.join(artifacts, `team-${name}.png`) }).catch(() => {});
}

function watch(page, label) {
  watchPage(page, label, { problems, pages, state: env });
}

// axe checks the page (or frame) with axe-core's WCAG 2.2 AA rules.
function axe(page, label) {
  return assertAccessible(page, label, env);
}

describe('team chat and invitations', { timeout: 900000 }, () => {
  before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    env.parley = await startParley();
    const owner = await env.parley.createUser(TENANT, 'owner@team.test', 'owner', 'Olga Owner');
    env.ann = await env.parley.createUser(TENANT, 'ann@team.test', 'agent', 'Ann Agent');
    env.ben = await env.parley.createUser(TENANT, 'ben@team.test', 'agent', 'Ben Agent');
    const hostPort = await freePort();
    const siteKey = await env.parley.createSite(owner.tenant, 'Acme Insurance', [`http://127.0.0.1:${hostPort}`]);
    env.host = await hostPage(env.parley.base, siteKey, sri(path.join(repoRoot, 'web/widget/v1/widget.js')), hostPort);
    env.browser = await launchChromium();
  }, { timeout: 900000 });
  after(() => stopAll(env), { timeout: 60000 });

  it('two agents chat, and a visitor accepts an invitation', { timeout: 300000 }, (t) => guarded(t, async () => {
    const base = env.parley.base;
    const desks = {};
    for (const who of ['ann', 'ben']) {
      const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await ctx.newPage();
      watch(page, who);
      await signIn(page, base, env[who]);
      await openWorkspace(page, base);
      await page.locator('.cw-conn', { hasText: /connected/i }).waitFor();
      desks[who] = page;
    }
    const { ann, ben } = desks;

    // Ann writes to Ben from the team panel.
    const team = ann.getByRole('region', { name: /^team$/i });
    await team.getByRole('button', { name: /chat with ben agent/i }).click();
    const annBox = ann.getByRole('textbox', { name: /write to ben agent/i });
    await annBox.fill(`Can you take the loans chat? My card ${CARD} is not for here.`);
    await annBox.press('Enter');
    await team.locator('.wt-msg.wt-mine:not(.wt-pending)', { hasText: /take the loans chat/ }).waitFor();
    const shown = await team.locator('.wt-msg.wt-mine .wt-text').first().textContent();
    assert.ok(!shown.includes(CARD), `the card number is masked: ${shown}`);

    // Ben sees an unread count, opens the thread and answers.
    const benTeam = ben.getByRole('region', { name: /^team$/i });
    await benTeam.locator('.wt-unread', { hasText: '1' }).waitFor();
    await benTeam.getByRole('button', { name: /chat with ann agent/i }).click();
    await benTeam.locator('.wt-msg.wt-theirs', { hasText: /take the loans chat/ }).waitFor();
    const benBox = ben.getByRole('textbox', { name: /write to ann agent/i });
    await benBox.fill('Sure, send it over.');
    await benTeam.getByRole('button', { name: /^send$/i }).click();
    await team.locator('.wt-msg.wt-theirs', { hasText: 'Sure, send it over.' }).waitFor();
    await shot(ann, 'ann-thread');
    await shot(ben, 'ben-thread');

    // The thread's history survives a reload: Ben opens the workspace again and finds both.
    await ben.reload();
    await ben.locator('.cw-conn', { hasText: /connected/i }).waitFor();
    await benTeam.getByRole('button', { name: /chat with ann agent/i }).click();
    await benTeam.locator('.wt-msg.wt-theirs', { hasText: /take the loans chat/ }).waitFor();
    await benTeam.locator('.wt-msg.wt-mine', { hasText: 'Sure, send it over.' }).waitFor();
    await axe(ann, 'workspace with the team panel');

    // A visitor opens the customer's page; Ann invites them from the visitor list.
    const vctx = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const visitor = await vctx.newPage();
    watch(visitor, 'visitor');
    await visitor.goto(env.host.url('/account'));
    await visitor.locator('button.pw-launcher').waitFor({ state: 'visible' });
    const visitors = ann.getByRole('region', { name: /visitors on the sites/i });
    const row = visitors.locator('li.wt-visitor', { hasText: /acme insurance/i }).first();
    await row.waitFor({ timeout: 30000 });
    await row.getByRole('textbox', { name: /invitation note/i }).fill('Hello! Can I help you with your policy?');
    await row.getByRole('button', { name: /^invite$/i }).click();
    await row.getByRole('status').filter({ hasText: /invitation sent/i }).waitFor();

    const frame = visitor.frameLocator('iframe.pw-frame');
    await frame.getByRole('heading', { name: /ann agent invites you to chat/i }).waitFor({ timeout: 30000 });
    await frame.getByText('Hello! Can I help you with your policy?').waitFor();
    await shot(visitor, 'visitor-invitation');
    const inFrame = visitor.frames().find((f) => f.url().includes('/widget/v1/frame'));
    assert.ok(inFrame, 'the chat frame is loaded');
    await axe(inFrame, 'widget invitation');
    await frame.getByRole('button', { name: /start chat/i }).click();

    // The chat is Ann's at once: it appears in her chats; her message reaches the visitor.
    await row.getByRole('status').filter({ hasText: /accepted/i }).waitFor();
    const reply = ann.getByRole('textbox', { name: /^message$/i });
    await reply.waitFor();
    await reply.fill('Welcome! I am Ann.');
    await reply.press('Enter');
    await frame.getByText('Welcome! I am Ann.').waitFor();
    await shot(visitor, 'visitor-chat');
    await shot(ann, 'ann-invited-chat');
    assert.deepEqual(problems, [], 'no script errors, failed requests or CSP violations');
  }, { problems, pages, prefix: 'team' }));
});
