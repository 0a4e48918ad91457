// What a new user ran into, each driven in headless Chromium against a real server: the
// reply rate's pending messages on the dashboard.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, launchBrowser, login, newPage, startServer } from './harness.mjs';

const AGENT = { email: 'nia@example.com', name: 'Nia Agent', role: 'agent', password: 'agent-password-1' };
const CAPPED = { email: 'cap@example.com', name: 'Cal Capped', role: 'agent', password: 'agent-password-2' };
const SUPERVISOR = { email: 'sue@example.com', name: 'Sue Supervisor', role: 'supervisor', password: 'super-password-1' };
const PHONE = { width: 390, height: 844 };
const RESOLVED = 'This conversation is resolved. Reopen it to reply.';

let server;
let browser;
let team;
let fans = 0;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, capped: CAPPED, supervisor: SUPERVISOR });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fan (through the API) who opened a conversation and wrote `text`. */
async function fanWrites(name, text) {
  fans += 1;
  const session = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: name } });
  const { id } = await call(server.url, 'POST', '/conversations', { token: session.token, body: {} });
  await call(server.url, 'POST', `/conversations/${id}/messages`, {
    token: session.token, body: { client_msg_id: `fan-${fans}`, body: text },
  });
  return { id, token: session.token };
}

/** A public reply through the API (it claims an unassigned conversation). */
async function replyAs(token, conversation, text) {
  fans += 1;
  await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
    token, body: { client_msg_id: `team-${fans}`, body: text },
  });
}

async function openById(page, id, name) {
  await page.evaluate((target) => { location.hash = `#/inbox/${target}`; }, id);
  await page.locator('.conv-header h2', { hasText: name }).waitFor();
}

const placeholder = (page) => page.locator('.conv-pane .composer-input').getAttribute('placeholder');

describe('new-user bugs', () => {
  test('the dashboard shows the reply rate’s pending messages and says why', async () => {
    const { id } = await fanWrites('Penny Pending', 'Do you have my size?');
    await replyAs(await login(server.url, AGENT.email, AGENT.password), id, 'Checking the stock now.');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    const pending = page.locator('.panel-metrics .reply-rate .pending');
    await pending.waitFor({ timeout: 20_000 });
    // Every team message of this test server is younger than 24 h: all pending, no rate.
    assert.match(await pending.textContent(), /· [1-9]\d* pending$/);
    assert.match(await page.locator('.panel-metrics .reply-rate').textContent(), /^— · /);
    assert.match(await page.locator('.panel-metrics .metrics-note').textContent(), /24-hour answer window has closed/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
