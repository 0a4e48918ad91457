// The rules screen in headless Chromium against a real server (README › Web console;
// docs/api.md › Keyword and restricted-word rules), at desktop size and on a 390×844 phone:
// the owner adds a keyword rule (a fan's message with an inflection of its word then
// raises an alert), is refused on a bad word (named on its field), adds a restricted word
// set to block (an agent's message with it is then refused), and deletes both. An agent
// gets no rules screen. No horizontal overflow on the phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const PHONE = { width: 390, height: 844 };

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

async function noOverflow(page, width) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scroll <= width, `page ${scroll} px wide in a ${width} px screen`);
}

async function until(check, what, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('rules screen', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`the owner adds and deletes a keyword rule and a restricted word (${size})`, async () => {
      const owner = await login(server.url, OWNER.email, OWNER.password);
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, OWNER.email, OWNER.password);
      const link = page.locator('.views a', { hasText: 'Rules' });
      await link.scrollIntoViewIfNeeded();
      await link.click();
      await page.locator('.rules-screen .keyword-rules').waitFor();
      if (viewport) await noOverflow(page, viewport.width);

      // A word with no letter or digit is refused on the words field.
      const word = `zorblat${size}`;
      await page.fill('.keyword-form input[name=rule_name]', `Rule ${size}`);
      await page.fill('.keyword-form textarea[name=patterns]', '!!!');
      await page.getByRole('button', { name: 'Add rule' }).click();
      await page.locator('.keyword-form .field-error:visible').waitFor();

      await page.fill('.keyword-form textarea[name=patterns]', `${word}, other${size}`);
      await page.getByRole('button', { name: 'Add rule' }).click();
      const rule = page.locator('.keyword-rules .rule-card', { hasText: `Rule ${size}` });
      await rule.waitFor();
      assert.match(await rule.textContent(), new RegExp(word));
      assert.equal(await page.locator('.keyword-form .field-error:visible').count(), 0);

      // A fan's message with an inflection raises a keyword alert.
      const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Rule Fan' } });
      const conversation = await call(server.url, 'POST', '/conversations', { token: fan.token });
      await call(server.url, 'POST', `/conversations/${conversation.id}/messages`, {
        token: fan.token, body: { client_msg_id: `r-${size}`, body: `Please ${word}s now` },
      });
      await until(async () => {
        const { alerts } = await call(server.url, 'GET', '/alerts?limit=50', { token: owner });
        return alerts.some((alert) => alert.kind === 'keyword' && alert.conversation_id === conversation.id);
      }, 'the keyword alert');

      // A restricted word set to block: the agent's message with it is refused.
      const banned = `verboten${size}`;
      await page.fill('.restricted-form input[name=pattern]', banned);
      await page.selectOption('.restricted-form select[name=action]', 'block');
      await page.getByRole('button', { name: 'Add word' }).click();
      const restricted = page.locator('.restricted-rules .rule-card', { hasText: banned });
      await restricted.waitFor();
      assert.match(await restricted.textContent(), /block/);
      const agent = await login(server.url, AGENT.email, AGENT.password);
      const refused = await fetch(`${server.url}/api/v1/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${agent}` },
        body: JSON.stringify({ client_msg_id: `b-${size}`, body: `That is ${banned}` }),
      });
      assert.equal(refused.status, 422);
      if (viewport) await noOverflow(page, viewport.width);
      await screenshot(page, `rules-${size}`);

      await rule.getByRole('button', { name: /Delete/ }).click();
      await restricted.getByRole('button', { name: /Delete/ }).click();
      await until(async () => (await page.locator('.rule-card', { hasText: size }).count()) === 0, 'both deleted');
      const keywords = await call(server.url, 'GET', '/keyword-rules', { token: owner });
      assert.ok(!keywords.rules.some((item) => item.name === `Rule ${size}`));
      const words = await call(server.url, 'GET', '/restricted-rules', { token: owner });
      assert.ok(!words.rules.some((item) => item.pattern === banned));
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('an agent has no rules screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    assert.equal(await page.locator('.views a', { hasText: 'Rules' }).count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
