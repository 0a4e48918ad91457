// Where the charter shows outside its own screen, in headless Chromium against a real
// server (README › Web console): the creator's voice (`[voice]`) beside an agent's
// composer, and "Charter review due" on the supervisor dashboard. When the review falls
// due is the server's rule, tested on a manual clock in the end-to-end tests (a real
// server's charter is days from due); here the dashboard gets the server's own answer
// with only `review_due` turned on, and must show nothing with the real answer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, fanSend, fanStart, launchBrowser, newPage, screenshot, startServer } from './harness.mjs';

const AGENT = { email: 'val@example.com', name: 'Val Agent', role: 'agent', password: 'agent-password-1' };
const SUPERVISOR = { email: 'sue@example.com', name: 'Sue Supervisor', role: 'supervisor', password: 'super-password-1' };
const VOICE = `[voice]
tone = "warm, playful, never corporate"
phrases_to_use = ["you legend", "see you at the show"]
phrases_to_avoid = ["per our policy", "unfortunately"]
emoji = "one heart at most, never 🔥"
sign_off = "— Mo & the crew"
`;

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, supervisor: SUPERVISOR });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the charter beside the work', () => {
  test('an agent sees the creator\'s voice beside the composer', async () => {
    const current = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
    // The written charter has an empty [voice] section: it is replaced by this one.
    const toml = current.toml.replace(/\[voice\][\s\S]*?(?=\n\[)/, VOICE);
    assert.notEqual(toml, current.toml);
    await call(server.url, 'PUT', '/charter', { token: team.ownerToken, body: { toml, base_version: current.version } });
    const fan = await newPage(browser);
    await fanStart(fan, server.url, 'Nia Voice');
    await fanSend(fan, 'Are there tickets left?');

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await agent.locator('.conv-item', { hasText: 'Nia Voice' }).first().click();
    await agent.waitForSelector('.composer-input');
    const voice = agent.locator('.voice-root .voice');
    await voice.locator('summary', { hasText: 'Creator’s voice · warm, playful, never corporate' }).waitFor();
    await voice.locator('summary').click();
    const row = (kind) => voice.locator(`.voice-${kind} dd`).textContent();
    assert.equal(await row('use'), 'you legend · see you at the show');
    assert.equal(await row('avoid'), 'per our policy · unfortunately');
    assert.equal(await row('emoji'), 'one heart at most, never 🔥');
    assert.equal(await row('sign-off'), '— Mo & the crew');
    // Beside the composer: right above it, in the same conversation pane.
    const order = await agent.evaluate(() => {
      const voiceRoot = document.querySelector('.voice-root');
      return voiceRoot.nextElementSibling?.classList.contains('composer-root');
    });
    assert.equal(order, true);
    await screenshot(agent, 'charter-voice');
    assert.deepEqual(agent.problems, []);
    await agent.close();
    await fan.close();
  });

  test('the dashboard says when the charter review is due, and nothing before', async () => {
    const page = await newPage(browser);
    // A supervisor lands on the dashboard.
    const read = page.waitForResponse((response) => response.url().endsWith('/api/v1/charter'));
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await page.locator('.kpis').waitFor();
    assert.equal(new URL(page.url()).hash, '#/dashboard');
    assert.equal((await (await read).json()).review_due, false);
    await page.waitForTimeout(200);
    assert.ok(await page.locator('.charter-due').isHidden(), 'not due on a fresh charter');

    // The server's answer, with only the flag and the date of a review that fell due.
    await page.route('**/api/v1/charter', async (route) => {
      const response = await route.fetch();
      const charter = await response.json();
      await route.fulfill({ response, json: { ...charter, review_due: true, review_due_at: '2026-03-01T09:00:00Z' } });
    });
    await page.reload();
    const notice = page.locator('.charter-due');
    await notice.locator('strong', { hasText: 'Charter review due' }).waitFor();
    assert.match(await notice.textContent(), /since .*2026.* \(never reviewed\)\./);
    await notice.locator('a', { hasText: 'Review the charter' }).click();
    await page.locator('.review-due').waitFor();
    assert.equal(new URL(page.url()).hash, '#/charter');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
