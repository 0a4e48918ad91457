// The audit log screen in headless Chromium against a real server (README › Web console;
// docs/api.md › Supervision), at desktop size and on a 390×844 phone: a member's role
// change and a supervisor's monitor are listed with who did what; the action, who and
// conversation filters narrow the list on the server; an agent gets no audit screen.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sue@example.com', name: 'Sue Supervisor', role: 'supervisor', password: 'super-password-1' };
const AGENT = { email: 'art@example.com', name: 'Art Agent', role: 'agent', password: 'agent-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let team;
let conversation;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { supervisor: SUPERVISOR, agent: AGENT });
  await call(server.url, 'PATCH', `/members/${team.agent.id}`, { token: team.ownerToken, body: { role: 'escalation_lead' } });
  const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Audited Fan' } });
  conversation = (await call(server.url, 'POST', '/conversations', { token: fan.token, body: {} })).id;
  const supervisor = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
  await call(server.url, 'POST', `/conversations/${conversation}/monitor`, { token: supervisor });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('audit log screen', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`the owner reads and filters the audit log (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, OWNER.email, OWNER.password);
      const link = page.locator('.views a', { hasText: 'Audit' });
      await link.scrollIntoViewIfNeeded();
      await link.click();
      const member = page.locator('.audit-row[data-action=member_update]');
      const monitor = page.locator('.audit-row[data-action=monitor]');
      await member.first().waitFor();
      await monitor.first().waitFor();
      assert.match(await member.first().textContent(), /role agent → escalation_lead/);
      assert.match(await monitor.first().locator('.audit-who').textContent(), /Sue Supervisor/);

      await page.selectOption('select[name=action]', 'member_update');
      await monitor.first().waitFor({ state: 'detached' });
      assert.ok(await member.count() >= 1);

      await page.selectOption('select[name=action]', '');
      await page.fill('input[name=conversation_id]', conversation);
      await page.getByRole('button', { name: 'Filter' }).click();
      await member.first().waitFor({ state: 'detached' });
      assert.equal(await monitor.count(), 1);

      await page.getByRole('button', { name: 'Clear' }).click();
      await member.first().waitFor();
      if (viewport) {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= viewport.width, `page ${width} px wide`);
      }
      await screenshot(page, `audit-${size}`);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('a supervisor reads it too; an agent has no audit screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await page.goto(`${server.url}/#/audit`);
    await page.locator('.audit-row[data-action=monitor]').first().waitFor();
    await page.context().close();

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    assert.equal(await agent.locator('.views a', { hasText: 'Audit' }).count(), 0);
    await agent.goto(`${server.url}/#/audit`);
    await agent.waitForSelector('.conn-live');
    assert.equal(await agent.locator('.audit-screen').count(), 0);
    assert.deepEqual(agent.problems, []);
    await agent.context().close();
  });
});
