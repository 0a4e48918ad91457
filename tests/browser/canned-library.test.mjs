// The canned-response library screen in headless Chromium against a real server (README ›
// Web console; docs/api.md › Canned responses), at desktop size and on a 390×844 phone:
// a supervisor adds a template, is refused on an unknown variable (named on the template
// field), edits the template, sees its use counted in the health view after a message is
// sent from it, sees the size warning of a small library, and deletes the template. An
// agent gets no library screen. No horizontal overflow on the phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;

before(async () => {
  server = await startServer();
  await createTeam(server.url, { supervisor: SUPERVISOR, agent: AGENT });
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

/** A fan's conversation, and a supervisor's message in it made from `templateId`. */
async function sendFrom(templateId, body) {
  const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Canned Fan' } });
  const conversation = await call(server.url, 'POST', '/conversations', { token: fan.token });
  const supervisor = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
  await call(server.url, 'POST', `/conversations/${conversation.id}/messages`, {
    token: supervisor, body: { client_msg_id: `c-${Date.now()}`, body, template_id: templateId },
  });
}

describe('canned-response library', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`a supervisor adds, edits, follows and deletes a template (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
      const link = page.locator('.views a', { hasText: 'Canned' });
      await link.scrollIntoViewIfNeeded();
      await link.click();
      await page.locator('.canned-list td', { hasText: 'No template yet.' }).waitFor();
      await page.locator('.canned-size-warning').waitFor();
      if (viewport) await noOverflow(page, viewport.width);

      const shortcut = `thanks${size}`;
      await page.fill('.canned-form input[name=shortcut]', shortcut);
      await page.fill('.canned-form input[name=title]', 'Thanks');
      await page.fill('.canned-form textarea[name=body]', 'Hi {{ fan.nickname }}!');
      await page.getByRole('button', { name: 'Add template' }).click();
      const bodyError = page.locator('.canned-form .field-error:visible');
      await bodyError.waitFor();
      assert.match(await bodyError.textContent(), /body|variable|nickname/);

      await page.fill('.canned-form textarea[name=body]', 'Hi {{ fan.first_name | default: "there" }}!\nThanks for writing.');
      await page.getByRole('button', { name: 'Add template' }).click();
      const row = page.locator('.canned-row', { hasText: `/${shortcut}` });
      await row.waitFor();
      assert.equal(await page.locator('.canned-form .field-error:visible').count(), 0);

      await row.getByRole('button', { name: 'Edit' }).click();
      await page.fill('.canned-form input[name=title]', 'Thank you');
      await page.getByRole('button', { name: 'Save template' }).click();
      await page.locator('.canned-row .canned-title', { hasText: 'Thank you' }).waitFor();

      // Used once (the first line edited, as the first-line rule asks): the health view counts it.
      const id = await page.locator('.canned-row', { hasText: `/${shortcut}` }).getAttribute('data-id');
      await sendFrom(id, 'Hello Canned Fan!\nThanks for writing.');
      await page.reload();
      await page.waitForSelector('.conn-live', { timeout: 15_000 });
      const health = page.locator('.health-row', { hasText: `/${shortcut}` });
      await health.waitFor();
      assert.equal((await health.locator('td').nth(1).textContent()).trim(), '1');
      assert.match(await page.locator('.canned-size-warning').textContent(), /\d/);
      assert.match(await page.locator('.canned-health').textContent(), /Over-used/);
      if (viewport) await noOverflow(page, viewport.width);
      await screenshot(page, `canned-library-${size}`);

      await page.locator('.canned-row', { hasText: `/${shortcut}` }).getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.locator('.canned-list td', { hasText: 'No template yet.' }).waitFor();
      const supervisor = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
      assert.deepEqual((await call(server.url, 'GET', '/canned-responses', { token: supervisor })).canned_responses, []);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('an agent has no library screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    assert.equal(await page.locator('.views a', { hasText: 'Canned' }).count(), 0);
    await page.evaluate(() => { location.hash = '#/canned'; });
    await page.locator('.inbox').waitFor();
    assert.equal(await page.locator('.canned-screen').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
