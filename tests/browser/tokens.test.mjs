// The API tokens section of the team screen in headless Chromium against a real server
// (README › Web console; docs/api.md › API tokens), at desktop size and on a 390×844 phone:
// the owner creates an agent token, sees its secret once, the token opens the API as an
// agent (and no more), the list shows it without its secret and with its last use, and
// revoking it makes the next request a 401. A supervisor's team screen has no tokens.
// No horizontal overflow on the phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;

before(async () => {
  server = await startServer();
  await createTeam(server.url, { supervisor: SUPERVISOR });
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

async function status(path, token) {
  const response = await fetch(`${server.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return response.status;
}

async function openTeam(page) {
  const link = page.locator('.views a', { hasText: 'Team' });
  await link.scrollIntoViewIfNeeded();
  await link.click();
  await page.locator('.team-screen').waitFor();
}

describe('API tokens', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`the owner creates a token, sees it once, and revokes it (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, OWNER.email, OWNER.password);
      await openTeam(page);
      const section = page.locator('.team-tokens');
      await section.locator('h2', { hasText: 'API tokens' }).waitFor();
      if (viewport) await noOverflow(page, viewport.width);

      // A blank name is refused on its field; nothing is created.
      const name = `CRM ${size}`;
      await section.locator('input[name=token_name]').fill('   ');
      await section.locator('select[name=token_role]').selectOption('agent');
      await section.getByRole('button', { name: 'Create token' }).click();
      const nameError = section.locator('.token-form .field-error').first();
      await nameError.waitFor({ state: 'visible' });
      assert.match(await nameError.textContent(), /name/);

      await section.locator('input[name=token_name]').fill(name);
      await section.getByRole('button', { name: 'Create token' }).click();
      const value = section.locator('.token-reveal .secret-value');
      await value.waitFor();
      const secret = (await value.textContent()).trim();
      assert.match(secret, /^fdt_[0-9a-f]{64}$/);
      assert.equal(await nameError.isHidden(), true);
      const card = section.locator('.token-card', { hasText: name });
      await card.waitFor();
      assert.match(await card.textContent(), /agent/i);
      assert.match(await card.textContent(), /never used/);
      assert.match(await card.locator('.token-prefix').textContent(), new RegExp(`^${secret.slice(0, 12)}`));
      if (viewport) await noOverflow(page, viewport.width);
      await screenshot(page, `tokens-secret-${size}`);

      // The token opens the API as an agent, and no more.
      const me = await call(server.url, 'GET', '/me', { token: secret });
      assert.equal(me.role, 'agent');
      assert.equal(me.name, name);
      assert.equal(await status('/conversations', secret), 200);
      assert.equal(await status('/audit', secret), 403);

      // Shown once: gone after "I have stored it", and never in the list.
      await section.getByRole('button', { name: 'I have stored it' }).click();
      assert.equal(await section.locator('.token-reveal').isHidden(), true);
      assert.ok(!(await page.locator('body').textContent()).includes(secret.slice(12)), 'shown once, then gone');
      const owner = await call(server.url, 'POST', '/auth/login', { body: OWNER });
      const { tokens } = await call(server.url, 'GET', '/api-tokens', { token: owner.token });
      assert.ok(!JSON.stringify(tokens).includes(secret.slice(12)), 'the API never lists the secret');

      // After a reload the last use shows; revoking asks first, then the token is refused.
      await page.reload();
      await page.waitForSelector('.conn-live', { timeout: 15_000 });
      await page.locator('.team-tokens .token-card', { hasText: name }).waitFor();
      const used = page.locator('.team-tokens .token-card', { hasText: name });
      assert.match(await used.textContent(), /last used/);
      await used.getByRole('button', { name: 'Revoke' }).click();
      await page.locator('dialog').getByRole('button', { name: 'Revoke' }).click();
      await page.locator('.team-tokens .token-card.token-revoked', { hasText: name }).waitFor();
      assert.equal(await page.locator('.team-tokens .token-card', { hasText: name }).getByRole('button', { name: 'Revoke' }).count(), 0);
      assert.equal(await status('/me', secret), 401);
      if (viewport) await noOverflow(page, viewport.width);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('a supervisor sees the team but no tokens', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await openTeam(page);
    await page.locator('.member-card').first().waitFor();
    assert.equal(await page.locator('.team-tokens').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
