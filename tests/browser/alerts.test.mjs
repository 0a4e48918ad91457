// Acknowledging and dismissing alerts on the supervisor dashboard, in headless Chromium
// against a real server (docs/api.md › Alerts): a supervisor acknowledges a keyword alert,
// the owner's dashboard shows who did it live, the owner dismisses it, both screens say
// so, and the audit log lists both actions — at desktop size and on a 390×844 phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sue@example.com', name: 'Sue Supervisor', role: 'supervisor', password: 'super-password-1' };
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

/** A fan says a word of a default keyword rule; the alert follows. */
async function fanWrites(name, body) {
  const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: name } });
  const conversation = await call(server.url, 'POST', '/conversations', { token: fan.token, body: {} });
  await call(server.url, 'POST', `/conversations/${conversation.id}/messages`, {
    token: fan.token, body: { client_msg_id: `c-${Date.now()}-${Math.random()}`, body },
  });
}

describe('alert handling on the dashboard', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`acknowledged by one supervisor, dismissed by another, seen live (${size})`, async () => {
      const text = `I will cancel my ${size} membership`;
      const sue = await newPage(browser, viewport ? { viewport } : {});
      const owner = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(sue, server.url, SUPERVISOR.email, SUPERVISOR.password);
      await consoleLogin(owner, server.url, OWNER.email, OWNER.password);
      await owner.goto(`${server.url}/#/dashboard`);
      await sue.goto(`${server.url}/#/dashboard`);
      await fanWrites(`Fan ${size}`, text);

      const mine = sue.locator('.alert', { hasText: text });
      const theirs = owner.locator('.alert', { hasText: text });
      await mine.waitFor({ timeout: 20_000 });
      await theirs.waitFor({ timeout: 20_000 });
      assert.equal(await mine.getAttribute('data-state'), 'open');

      await mine.getByRole('button', { name: 'Acknowledge' }).click();
      await sue.locator('.alert[data-state=acknowledged]', { hasText: text }).waitFor();
      // The owner's dashboard hears it live (alert.updated), with who did it.
      const acknowledged = owner.locator('.alert[data-state=acknowledged]', { hasText: text });
      await acknowledged.waitFor();
      assert.match(await acknowledged.locator('.alert-handled').textContent(), /Acknowledged by Sue Supervisor/);
      assert.equal(await acknowledged.getByRole('button', { name: 'Acknowledge' }).count(), 0);

      await acknowledged.getByRole('button', { name: 'Dismiss' }).click();
      const dismissed = sue.locator('.alert[data-state=dismissed]', { hasText: text });
      await dismissed.waitFor();
      assert.match(await dismissed.locator('.alert-handled').textContent(), /Dismissed by /);
      assert.equal(await dismissed.getByRole('button').count(), 0, 'a dismissed alert offers nothing more');

      if (viewport) {
        const width = await sue.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= viewport.width, `page ${width} px wide`);
      }
      await screenshot(sue, `alerts-${size}`);

      await owner.goto(`${server.url}/#/audit`);
      await owner.locator('.audit-row[data-action=alert_acknowledge]').first().waitFor();
      await owner.locator('.audit-row[data-action=alert_dismiss]').first().waitFor();
      assert.match(await owner.locator('.audit-row[data-action=alert_acknowledge] .audit-who').first().textContent(), /Sue Supervisor/);
      assert.deepEqual(sue.problems, []);
      assert.deepEqual(owner.problems, []);
      await sue.context().close();
      await owner.context().close();
    });
  }
});
