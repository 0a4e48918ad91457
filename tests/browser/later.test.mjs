// Reply later in headless Chromium against a real server (README › Web console;
// docs/api.md › Reply later): an agent schedules a reply a few seconds ahead from the
// composer's "Send later", sees it pending with its send time, and the server sends it
// at that time as the agent's own (human) reply — the fan sees it without an "Automated"
// label, and the pending list empties. A second reply scheduled for later is cancelled
// and never reaches the fan.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  consoleLogin, createTeam, fanSend, fanStart, launchBrowser, newPage, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'lee@example.com', name: 'Lee Agent', role: 'agent', password: 'agent-password-1' };

let server;
let browser;

before(async () => {
  server = await startServer();
  await createTeam(server.url, { agent: AGENT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The browser's local date-time `ms` from now, as a datetime-local input takes it. */
function localInput(page, ms) {
  return page.evaluate((ahead) => {
    const at = new Date(Date.now() + ahead);
    const pad = (n) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  }, ms);
}

describe('reply later', () => {
  test('a scheduled reply is sent at its time; a cancelled one never is', async () => {
    const fan = await newPage(browser);
    await fanStart(fan, server.url, 'Lou Later');
    await fanSend(fan, 'When do you open?');

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await agent.locator('.conv-item', { hasText: 'Lou Later' }).first().click();
    await agent.waitForSelector('.composer-input');

    // One for a few seconds from now.
    await agent.click('button.later-toggle');
    assert.equal(await agent.getAttribute('button.later-toggle', 'aria-expanded'), 'true');
    await agent.fill('input.later-at', await localInput(agent, 4_000));
    await agent.fill('.composer-input', 'We open at nine tomorrow!');
    assert.equal((await agent.textContent('.composer button.primary')).trim(), 'Schedule');
    await agent.click('.composer button.primary');
    const pending = agent.locator('.later-item', { hasText: 'We open at nine tomorrow!' });
    await pending.waitFor({ timeout: 10_000 });
    assert.match(await pending.locator('.later-when').textContent(), /^Sends /);
    // Nothing went out yet.
    assert.equal(await fan.locator('.msg-body', { hasText: 'We open at nine tomorrow!' }).count(), 0);
    await screenshot(agent, 'reply-later-pending');

    // Another for later, cancelled.
    await agent.click('button.later-toggle');
    await agent.fill('input.later-at', await localInput(agent, 600_000));
    await agent.fill('.composer-input', 'Never mind this one');
    await agent.click('.composer button.primary');
    const cancelled = agent.locator('.later-item', { hasText: 'Never mind this one' });
    await cancelled.waitFor({ timeout: 10_000 });
    await cancelled.locator('button', { hasText: 'Cancel' }).click();
    await cancelled.waitFor({ state: 'detached', timeout: 10_000 });

    // At its time: the agent's own reply reaches the fan, not labelled automated.
    const arrived = fan.locator('.msg', { hasText: 'We open at nine tomorrow!' });
    await arrived.waitFor({ timeout: 20_000 });
    assert.equal(await arrived.locator('.badge-auto').count(), 0);
    await agent.locator('.timeline .msg-body', { hasText: 'We open at nine tomorrow!' }).waitFor({ timeout: 10_000 });
    await pending.waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await agent.locator('.later').isHidden(), true);
    assert.equal(await fan.locator('.msg-body', { hasText: 'Never mind this one' }).count(), 0);

    assert.deepEqual(agent.problems, []);
    assert.deepEqual(fan.problems, []);
    await agent.context().close();
    await fan.context().close();
  });
});
