// Test harness: a real `fandesk serve` on port 0 with its own data directory, REST
// helpers to set up a workspace, and headless Debian Chromium driven by playwright-core
// (Debian's packaged browser, never one downloaded by the test tooling).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const artifacts = resolve(here, 'artifacts');
export const binary = process.env.FANDESK_BIN || join(repoRoot, 'target', 'debug', 'fandesk');
export const OWNER = { email: 'owner@example.com', password: 'owner-password-1' };

/**
 * Starts `fandesk <args>` (default `serve`) and resolves once it prints its
 * `listening on ADDR` line. Returns `{url, stdout, stop}`.
 */
export async function startServer({ args = ['serve'], env = {}, dataDir = mkdtempSync(join(tmpdir(), 'fandesk-browser-')), listen = '127.0.0.1:0' } = {}) {
  const child = spawn(binary, [...args, '--listen', listen, '--data-dir', join(dataDir, 'data')], {
    env: {
      ...process.env,
      FANDESK_OWNER_EMAIL: OWNER.email,
      FANDESK_OWNER_PASSWORD: OWNER.password,
      FANDESK_LOG: process.env.FANDESK_LOG || 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolveUrl(`http://${match[1]}`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${stderr}`));
    });
  });
  const halt = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
  return {
    url,
    get stdout() {
      return stdout;
    },
    /** Stops the process and starts it again on the same address and data. */
    async restart() {
      await halt();
      return startServer({ args, env, dataDir, listen: url.replace('http://', '') });
    },
    async stop() {
      await halt();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the server's API. */
export async function call(url, method, path, { token, body } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return data;
}

export async function login(url, email, password) {
  return (await call(url, 'POST', '/auth/login', { body: { email, password } })).token;
}

/** Creates team members (the owner's token) and returns them by role name given. */
export async function createTeam(url, people) {
  const owner = await login(url, OWNER.email, OWNER.password);
  const team = { ownerToken: owner };
  for (const [key, person] of Object.entries(people)) {
    const member = await call(url, 'POST', '/members', { token: owner, body: person });
    team[key] = { ...person, id: member.id };
  }
  return team;
}

/** Headless Debian Chromium. Playwright gives each launch a fresh --user-data-dir. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** A new page that fails the test on any script error or CSP violation. */
export async function newPage(browser, { viewport = { width: 1366, height: 850 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      page.problems.push(`console: ${message.text()}`);
    }
  });
  return page;
}

/** Logs in through the console's form. */
export async function consoleLogin(page, url, email, password) {
  await page.goto(`${url}/`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('.conn-live', { timeout: 15_000 });
}

/** Opens /chat as a new fan named `name`. */
export async function fanStart(page, url, name) {
  await page.goto(`${url}/chat`);
  await page.fill('input[name=display_name]', name);
  await page.click('form.welcome button[type=submit]');
  await page.waitForSelector('.chat-composer textarea');
  await page.waitForSelector('.conn-live', { timeout: 15_000 });
}

export async function fanSend(page, text) {
  await page.fill('.chat-composer textarea', text);
  await page.press('.chat-composer textarea', 'Enter');
  await page.waitForSelector(`.msg-mine:not(.msg-pending) .msg-body >> text=${JSON.stringify(text)}`);
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

let axeSource = null;

/**
 * Runs axe-core (npm `axe-core`) on the page as it is now and returns its violations as
 * `{id, impact, help, targets}` (an empty array when there are none). The script is
 * evaluated through the DevTools protocol, so the page's Content-Security-Policy stays
 * as served. `disable`: rule ids to skip, each with a reason at the call site.
 */
export async function axeViolations(page, { disable = [] } = {}) {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  return page.evaluate(async (skip) => {
    const rules = Object.fromEntries(skip.map((id) => [id, { enabled: false }]));
    const result = await window.axe.run(document, { resultTypes: ['violations'], rules });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ')),
    }));
  }, disable);
}

/** Whether the page is wider than the viewport (a horizontal scroll bar on a phone). */
export async function overflowsHorizontally(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/**
 * Whether the element is entirely inside the viewport once the layout settles: the
 * console re-renders a header when the server's answer arrives, so a check made between
 * two renders can see a detached or half-laid-out element. Asks again until it is in view
 * or `timeout` ms have passed.
 */
export async function inView(locator, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const visible = await locator.evaluate((element) => {
      const box = element.getBoundingClientRect();
      return element.isConnected && box.width > 0 && box.top >= 0 && box.left >= 0
        && box.bottom <= window.innerHeight + 1 && box.right <= window.innerWidth + 1;
    });
    if (visible || Date.now() >= deadline) return visible;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
