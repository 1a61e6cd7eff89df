// Helpers of the browser tests: build the parley binary, run `parley serve --migrate` on a free
// loopback port with a fresh data directory (SQLite and the local dev key provider), create
// accounts and sites through the binary's own commands, and launch Debian's Chromium.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

/** repoRoot is the Go module's root (web/e2e/lib → ../../..). */
export const repoRoot = path.resolve(here, '../../..');

/** artifacts is where screenshots go (git-ignored). */
export const artifacts = path.resolve(here, '../artifacts');

/** chromiumPath is Debian's Chromium, or PARLEY_TEST_CHROMIUM. */
export const chromiumPath = process.env.PARLEY_TEST_CHROMIUM || '/usr/bin/chromium';

/** CHROMIUM_ARGS are the launch flags: headless, no sandbox (root in CI), no background traffic. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** launchChromium starts Chromium; playwright gives each launch a fresh temporary profile. */
export async function launchChromium() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium, or set PARLEY_TEST_CHROMIUM`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
}

/** freePort asks the kernel for an unused loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** buildParley compiles ./cmd/parley into dir (or returns PARLEY_BIN when set). */
export async function buildParley(dir) {
  if (process.env.PARLEY_BIN) return process.env.PARLEY_BIN;
  const bin = path.join(dir, 'parley');
  await run(process.env.GO || 'go', ['build', '-o', bin, './cmd/parley'], { cwd: repoRoot, timeout: 15 * 60 * 1000, maxBuffer: 16 << 20 });
  return bin;
}

// childEnv is the test's environment without any PARLEY_ or VAULT_ setting of the caller, so the
// server runs on SQLite in its own data directory with the local dev key provider.
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PARLEY_') && !k.startsWith('VAULT_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Parley is one running `parley serve`: base URL, its output lines, and the commands that share
 * its configuration.
 */
export class Parley {
  constructor(bin, dataDir, port) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.env = childEnv({ PARLEY_ADDR: `127.0.0.1:${port}`, PARLEY_DATA_DIR: dataDir, PARLEY_PUBLIC_URL: this.base, PARLEY_LOG_LEVEL: 'warn' });
    this.output = [];
    this.proc = null;
  }

  /** start runs serve --migrate and waits until /readyz answers 200. */
  async start() {
    this.proc = spawn(this.bin, ['serve', '--migrate'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (d) => this.output.push(...d.split('\n').filter(Boolean)));
    }
    const exited = new Promise((resolve) => { this.proc.once('exit', (code) => resolve(code)); });
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const code = await Promise.race([exited, new Promise((r) => { setTimeout(() => r(undefined), 200); })]);
      if (code !== undefined) throw new Error(`parley serve exited with ${code}:\n${this.output.join('\n')}`);
      if ((await this.status('/readyz')) === 200) return;
    }
    throw new Error(`parley serve was not ready within 60 s:\n${this.output.join('\n')}`);
  }

  /** stop ends the server and waits for it. */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((resolve) => { this.proc.once('exit', resolve); });
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await done;
    clearTimeout(t);
  }

  status(p) {
    return new Promise((resolve) => {
      const req = http.get(this.base + p, (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', () => resolve(0));
      req.setTimeout(2000, () => { req.destroy(); resolve(0); });
    });
  }

  /** command runs `parley args…` with the server's configuration and stdin; resolves {code, stdout, stderr}. */
  command(args, stdin = '') {
    return new Promise((resolve) => {
      const p = spawn(this.bin, args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('exit', (code) => resolve({ code, stdout, stderr }));
      p.stdin.end(stdin);
    });
  }

  /** createUser creates the tenant (if new) and a user; resolves {email, password, tenant (sign-in id), name}. */
  async createUser(tenantName, email, role, name = 'Alice Agent') {
    const password = `${randomBytes(12).toString('base64url')}aA1!`;
    const r = await this.command(['user', 'create', '--tenant', tenantName, '--email', email, '--role', role, '--name', name, '--password-stdin'], `${password}\n`);
    if (r.code !== 0) throw new Error(`parley user create failed (${r.code}): ${r.stderr}`);
    // "created user E (SLUG) with role …": the organisation's sign-in id.
    const slug = /sign-in id ([^\s)]+)/.exec(r.stdout) || /created user \S+ \(([^)\s]+)\)/.exec(r.stdout);
    return { email, password, tenant: slug ? slug[1] : tenantName, name, output: r.stdout };
  }

  /**
   * createSite creates a website for the widget with `parley site create` (audited, as an
   * operator does) for the organisation whose sign-in id is tenant, and resolves its public key.
   * It rejects when the command fails.
   */
  async createSite(tenant, name, origins) {
    const args = ['site', 'create', '--tenant', tenant, '--name', name];
    for (const o of origins) args.push('--origin', o);
    const r = await this.command(args);
    const key = /\bsite_[a-z2-7]{10,64}\b/.exec(r.stdout);
    if (r.code === 0 && key) return key[0];
    throw new Error(`parley site create: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
  }

  /** setupLink returns the one-time setup link serve printed (a fresh installation), or null. */
  setupLink() {
    return this.printed('setup');
  }

  /** printed returns the first URL serve printed on a line that starts with label (e.g. "demo"). */
  printed(label) {
    const re = new RegExp(`^\\s*${label}[^:]*:\\s*(https?://\\S+)`, 'i');
    for (const line of this.output) {
      const m = re.exec(line);
      if (m) return m[1];
    }
    return null;
  }
}

/**
 * signIn signs account ({tenant, email, password}) in through the console's sign-in page, as a
 * person does, and resolves once the browser has left /login.
 */
export async function signIn(page, base, account) {
  await page.goto(`${base}/login`);
  await page.getByLabel(/organisation sign-in id/i).fill(account.tenant);
  await page.getByLabel(/e-mail address/i).fill(account.email);
  await page.getByLabel(/^password$/i).fill(account.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: /sign in/i }).click(),
  ]);
}

/**
 * openWorkspace opens the agent workspace from a signed-in console page: through the
 * navigation's "Workspace" link when the page shows one, else at /workspace, the path the
 * navigation links to. It resolves once the workspace module is mounted.
 */
export async function openWorkspace(page, base) {
  const link = page.getByRole('link', { name: /^workspace$/i });
  if (await link.count()) {
    await Promise.all([page.waitForURL((u) => u.pathname === '/workspace'), link.first().click()]);
  } else {
    await page.goto(`${base}/workspace`);
  }
  await page.locator('[data-chat-workspace]').waitFor({ state: 'attached' });
}

/** startParley builds the binary and starts a server in a fresh temporary directory. */
export async function startParley() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const bin = await buildParley(dir);
  const p = new Parley(bin, dataDir, await freePort());
  p.tmp = dir;
  await p.start();
  return p;
}

/**
 * hostPage serves a customer's page on another origin (127.0.0.1:port): it embeds the loader from
 * parleyBase with the given site key and SRI value. Resolves {origin, url(path), close()}.
 */
export async function hostPage(parleyBase, siteKey, integrity, port) {
  const origin = `http://127.0.0.1:${port}`;
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, origin);
    if (u.pathname !== '/' && u.pathname !== '/account') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      // The customer's own strict policy: Parley's origin allowed for the loader, its styles and frame.
      'Content-Security-Policy': `default-src 'self'; script-src 'self' ${parleyBase}; style-src 'self' ${parleyBase}; frame-src ${parleyBase}; connect-src 'self'`,
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme Insurance · My account</title></head>
<body><h1>Acme Insurance</h1><p>Customer page on ${origin}.</p>
<script src="${parleyBase}/widget/v1/widget.js" data-site="${siteKey}" integrity="${integrity}" crossorigin="anonymous" async></script>
</body></html>`);
  });
  await new Promise((resolve) => { srv.listen(port, '127.0.0.1', resolve); });
  return { origin, url: (p) => origin + p, close: () => new Promise((resolve) => { srv.close(resolve); srv.closeAllConnections(); }) };
}
