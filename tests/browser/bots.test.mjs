// The bot rules in the console (docs/product.md › Bots): an agent watching a conversation
// sees the bot's replies marked "Bot" and "Automated" and, live, the hand-off entry when
// the bot uses up the charter's exchanges; the fan sees the automated label and never the
// hand-off. Screenshot in tests/browser/artifacts/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, fanSend, fanStart, launchBrowser, login, newPage, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ada@example.com', name: 'Ada Agent', role: 'agent', password: 'agent-password-1' };
const BOT = { email: 'helper@example.com', name: 'Helper Bot', role: 'bot', password: 'bot-password-123' };

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, bot: BOT });
  // One exchange per opening, so the first answer hands off.
  const charter = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
  const toml = charter.toml.replace('max_exchanges = 3', 'max_exchanges = 1');
  assert.notEqual(toml, charter.toml);
  await call(server.url, 'PUT', '/charter', { token: team.ownerToken, body: { toml, base_version: charter.version } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('bot rules', () => {
  test('the team timeline marks bot messages and shows the hand-off live; the fan sees neither mark', async () => {
    const fan = await newPage(browser, { viewport: { width: 820, height: 900 } });
    const fanFrames = [];
    fan.on('websocket', (socket) => socket.on('framereceived', (frame) => fanFrames.push(String(frame.payload))));
    await fanStart(fan, server.url, 'Bea Botfan');
    await fanSend(fan, 'Where is my order?');
    const conversation = await fan.evaluate(() => JSON.parse(localStorage.getItem('fandesk.fan')).conversation_id);

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    const item = agent.locator('.conv-item', { hasText: 'Bea Botfan' });
    await item.first().waitFor({ timeout: 20_000 });
    await item.first().click();
    await agent.locator('.msg-fan .msg-body', { hasText: 'Where is my order?' }).waitFor();

    // The bot answers while the agent watches: its reply and the hand-off arrive live.
    const botToken = await login(server.url, BOT.email, BOT.password);
    const send = (id, body) => fetch(`${server.url}/api/v1/conversations/${conversation}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${botToken}` },
      body: JSON.stringify({ client_msg_id: id, body }),
    });
    assert.equal((await send('bot-1', 'It left the warehouse yesterday.')).status, 201);
    const reply = agent.locator('.msg-automated', { hasText: 'It left the warehouse yesterday.' });
    await reply.waitFor({ timeout: 10_000 });
    assert.equal(await reply.locator('.badge-bot').textContent(), 'Bot');
    assert.equal(await reply.locator('.badge-auto').textContent(), 'Automated');
    const handoff = agent.locator('.msg-handoff');
    await handoff.waitFor({ timeout: 10_000 });
    assert.match(await handoff.textContent(), /Hand-off\s*Handed to a human after 1 automated exchange with Helper Bot/);
    // In timeline order: the hand-off right after the bot's reply.
    const order = await agent.locator('.timeline-list > li').evaluateAll((items) => items.map((li) => li.className));
    const at = order.findIndex((name) => name.includes('msg-handoff'));
    assert.ok(at > 0 && order[at - 1].includes('msg-automated'), JSON.stringify(order));

    // Refused from now on, with the rule's code.
    const refused = await send('bot-2', 'Anything else?');
    assert.equal(refused.status, 422);
    assert.equal((await refused.json()).error.code, 'bot_rule_violation');

    // The fan: the reply labelled Automated, no "Bot" badge, no hand-off anywhere.
    const seen = fan.locator('.msg-automated', { hasText: 'It left the warehouse yesterday.' });
    await seen.waitFor({ timeout: 10_000 });
    assert.equal(await seen.locator('.badge-auto').textContent(), 'Automated');
    assert.equal(await fan.locator('.badge-bot, .msg-handoff').count(), 0);
    assert.ok(!fanFrames.some((frame) => frame.includes('Handed to a human') || frame.includes('bot_handoff')));
    await screenshot(agent, 'bot-handoff');

    // After a reload the team timeline still shows both marks (history over REST).
    await agent.reload();
    await agent.waitForSelector('.conn-live', { timeout: 15_000 });
    await agent.locator('.conv-item', { hasText: 'Bea Botfan' }).first().click();
    await agent.locator('.msg-handoff').waitFor({ timeout: 10_000 });
    assert.equal(await agent.locator('.msg-automated .badge-bot').count(), 1);
    assert.deepEqual(agent.problems, []);
    assert.deepEqual(fan.problems, []);
    await agent.context().close();
    await fan.context().close();
  });
});
