// Bot flows in the console and on the fan page (docs/api.md › Flows): the owner's flow
// editor shows a bad flow's error inline with its line and key and saves nothing, then
// saves a good flow, previews it as a tree and activates it; a fan who writes is greeted
// with quick-reply buttons, presses one, gets the answer, gives an email and is handed
// off; the agent sees the hand-off note, the fan never does. Screenshots in
// tests/browser/artifacts/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, fanSend, fanStart, launchBrowser, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ada@example.com', name: 'Ada Agent', role: 'agent', password: 'agent-password-1' };

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('bot flows', () => {
  test('the editor shows a bad flow inline, then saves, previews and activates a good one', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Flows' }).click();
    const source = page.locator('textarea.flow-source');
    await page.waitForFunction(() => document.querySelector('textarea.flow-source')?.value.includes('start: greet'));
    const good = await source.inputValue();

    // A choice pointing at no step: refused inline with its line and key, nothing saved.
    const bad = good.replace('next: orders', 'next: nowhere');
    await source.fill(bad);
    await page.locator('form.flow-form button[type=submit]').click();
    const error = page.locator('.flow-error');
    await error.waitFor({ state: 'visible' });
    const line = bad.split('\n').findIndex((text) => text.includes('next: nowhere')) + 1;
    assert.equal(await error.textContent(), `line ${line}: steps.greet.menu[0].next: there is no step named "nowhere"`);
    assert.equal(await error.getAttribute('data-field'), 'steps.greet.menu[0].next');
    // The caret is put on the offending line.
    assert.equal(await page.evaluate(() => {
      const area = document.querySelector('textarea.flow-source');
      return area.value.slice(area.selectionStart, area.selectionEnd);
    }), '        next: nowhere');
    assert.deepEqual((await call(server.url, 'GET', '/flows', { token: team.ownerToken })).flows, []);
    await screenshot(page, 'flows-error');

    // The good flow: saved as version 1, drawn as a tree, then activated.
    await source.fill(good);
    await page.locator('form.flow-form button[type=submit]').click();
    await page.locator('.flow-list button', { hasText: 'Welcome' }).waitFor();
    assert.equal(await error.isHidden(), true);
    await page.locator('.flow-tree strong', { hasText: 'ask_email' }).first().waitFor();
    assert.match(await page.locator('.flow-tree').textContent(), /“Where is my order\?” → orders/);
    await page.locator('button', { hasText: 'Activate version 1' }).click();
    await page.locator('.flow-status', { hasText: 'Active: new conversations start version 1' }).waitFor();
    const [flow] = (await call(server.url, 'GET', '/flows', { token: team.ownerToken })).flows;
    assert.equal(flow.active, true);
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'flows-active');
  });

  test('a fan is greeted with quick replies, presses one, gives an email and is handed off', async () => {
    const fan = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await fanStart(fan, server.url, 'Quinn Quick');
    await fanSend(fan, 'hi');
    const button = fan.locator('.quick-replies button', { hasText: 'Where is my order?' });
    await button.waitFor({ timeout: 15_000 });
    await fan.locator('.msg-automated', { hasText: 'Hi! What can we help you with?' }).first().waitFor();
    await screenshot(fan, 'flows-quick-replies');
    await button.click();
    await fan.locator('.msg-mine .msg-body', { hasText: 'orders' }).waitFor();
    await fan.locator('.msg-automated', { hasText: 'What is your email address?' }).waitFor({ timeout: 15_000 });
    assert.equal(await fan.locator('.quick-replies').isHidden(), true);
    await fanSend(fan, 'quinn@example.com');
    await fan.locator('.msg-automated', { hasText: 'A person will take it from here.' }).waitFor({ timeout: 15_000 });

    // The agent finds the conversation handed off, with the note and what was collected.
    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    const item = agent.locator('.conv-item', { hasText: 'Quinn Quick' });
    await item.first().waitFor({ timeout: 20_000 });
    await item.first().click();
    await agent.locator('.msg-body', { hasText: 'Collected by the flow: email: quinn@example.com' }).waitFor();
    await screenshot(agent, 'flows-handoff-note');
    // The fan never sees it.
    assert.equal(await fan.locator('text=Asked about an order').count(), 0);
    assert.deepEqual(fan.problems, []);
    assert.deepEqual(agent.problems, []);
  });
});
