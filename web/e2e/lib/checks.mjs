// Steps and checks the browser tests share: axe-core's WCAG 2.2 AA audit of a page, the
// Subresource Integrity value of a served file, following a link of the console's navigation,
// reporting a failed test, and stopping what a test started.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { artifacts } from './parley.mjs';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG_TAGS are axe-core's rule tags up to WCAG 2.2 level AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** sri is the Subresource Integrity value (sha384) of file, as an integrity attribute holds it. */
export function sri(file) {
  return `sha384-${createHash('sha384').update(fs.readFileSync(file)).digest('base64')}`;
}

/**
 * watchPage records the script errors and console errors of page on problems, each starting with
 * label, and adds page to pages (label → page) when given. It skips favicon errors, and the
 * errors axe-core causes while state.auditing. With refusal (a RegExp), a console error whose
 * text matches it is skipped while state.expectRefusal: a form refused on purpose answers with
 * an error status, and the page shows why.
 */
export function watchPage(page, label, { problems, pages, state = {}, refusal } = {}) {
  pages?.set(label, page);
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url || '';
    if (/favicon/i.test(where) || (state.auditing && where === '')) return;
    if (refusal && refusal.test(m.text()) && state.expectRefusal) return;
    problems.push(`${label} console: ${m.text()} ${where}`);
  });
}

/**
 * assertAccessible runs axe-core's WCAG 2.2 AA rules on target (a page or a frame), injecting
 * axe-core first when the document has none, and fails listing the violations. state.auditing
 * is true while axe-core runs, so that a test's console watcher can ignore the errors it causes.
 * With iframes false (the default) the frames of the document are not audited with it.
 */
export async function assertAccessible(target, label, state, { iframes = false } = {}) {
  const loaded = await target.evaluate(() => typeof window.axe === 'object').catch(() => false);
  if (!loaded) await target.evaluate(axeSource);
  state.auditing = true;
  const violations = await target.evaluate(async ({ tags, frames }) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, iframes: frames, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`).join('\n')}`);
  }, { tags: WCAG_TAGS, frames: iframes }).finally(() => { state.auditing = false; });
  assert.deepEqual(violations, [], `${label}: WCAG 2.2 AA violations`);
}

/**
 * followLink clicks link (a locator, e.g. an entry of the console's navigation) and resolves
 * once the page has reached pathname.
 */
export async function followLink(page, link, pathname) {
  await Promise.all([page.waitForURL((u) => u.pathname === pathname), link.click()]);
}

/**
 * startVisitorChat fills the widget's pre-chat form in frame (the widget's frame locator) as a
 * visitor does, once its Start button shows: the name, e-mail and department (chosen by its
 * label) that are given, where the form asks for them, and the consent box when there is one;
 * then it starts the chat and resolves the message box.
 */
export async function startVisitorChat(frame, { name, email, department } = {}) {
  const start = frame.getByRole('button', { name: /start/i });
  await start.waitFor();
  for (const [label, value] of [[/name/i, name], [/e-mail/i, email]]) {
    if (value === undefined) continue;
    const field = frame.getByLabel(label);
    if (await field.count()) await field.fill(value);
  }
  if (department !== undefined) {
    const field = frame.getByLabel(/department/i);
    if (await field.count()) await field.selectOption({ label: department });
  }
  const consent = frame.locator('input[type=checkbox]');
  if (await consent.count()) await consent.check();
  await start.click();
  return frame.getByRole('textbox', { name: /message/i });
}

/**
 * guarded runs body(t). When it throws, it screenshots each page of pages (label → page) to
 * artifacts/<prefix>-failure-<label>.png (the whole page with fullPage), reports the problems
 * seen (script errors, console errors) as the test's diagnostics, and throws again.
 */
export async function guarded(t, body, { problems = [], pages = new Map(), prefix = 'test', fullPage = false } = {}) {
  try {
    await body(t);
  } catch (err) {
    for (const [label, page] of pages) {
      await page.screenshot({ path: path.join(artifacts, `${prefix}-failure-${label}.png`), fullPage }).catch(() => {});
    }
    const say = typeof t?.diagnostic === 'function' ? (m) => t.diagnostic(m) : (m) => console.error(m);
    for (const p of problems) say(p);
    throw err;
  }
}

/** stopAll closes what a test started: env.browser, env.host (hostPage) and env.parley. */
export async function stopAll(env) {
  await env.browser?.close();
  await env.host?.close();
  await env.parley?.stop();
}
