// The team screen in headless Chromium against a real server (README › Web console;
// docs/api.md › Members), at desktop size and on a 390×844 phone: the owner adds a member,
// changes their role, sets a new password (the old one stops working), deactivates them
// (their open console is logged out, login is refused) and reactivates them; the last
// owner's own demotion is refused beside their card; a supervisor sees the team read-only
// and sets capacity; an agent gets no team screen. No horizontal overflow on the phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const NEW = { email: 'nico@example.com', name: 'Nico New', password: 'first-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { supervisor: SUPERVISOR, agent: AGENT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function loginStatus(email, password) {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  return response.status;
}

async function noOverflow(page, width) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scroll <= width, `page ${scroll} px wide in a ${width} px screen`);
}

const card = (page, name) => page.locator('.member-card', { hasText: name });

describe('team screen', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`the owner adds, promotes, resets, deactivates and reactivates a member (${size})`, async () => {
      const person = { ...NEW, email: `${size}-${NEW.email}`, name: `${NEW.name} ${size}` };
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, OWNER.email, OWNER.password);
      const link = page.locator('.views a', { hasText: 'Team' });
      await link.scrollIntoViewIfNeeded();
      await link.click();
      await card(page, AGENT.name).waitFor();
      if (viewport) await noOverflow(page, viewport.width);

      await page.fill('.team-form input[name=email]', person.email);
      await page.fill('.team-form input[name=name]', person.name);
      await page.selectOption('.team-form select[name=role]', 'agent');
      await page.fill('.team-form input[name=password]', person.password);
      await page.getByRole('button', { name: 'Add member' }).click();
      const added = card(page, person.name);
      await added.waitFor();
      assert.equal(await added.getAttribute('data-role'), 'agent');
      assert.equal(await loginStatus(person.email, person.password), 200);
      // The same email again: the server's refusal shows on the form.
      await page.fill('.team-form input[name=email]', person.email);
      await page.fill('.team-form input[name=name]', 'Someone else');
      await page.fill('.team-form input[name=password]', 'whatever-password');
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.locator('.team-form .form-error', { hasText: 'exists' }).waitFor();

      // Promoted to supervisor.
      await added.locator('select[name=member_role]').selectOption('supervisor');
      await page.locator(`.member-card[data-role=supervisor]`, { hasText: person.name }).waitFor();
      const listed = (await call(server.url, 'GET', '/members', { token: team.ownerToken })).members;
      assert.equal(listed.find((member) => member.email === person.email).role, 'supervisor');

      // A new password: the old one stops working.
      await card(page, person.name).getByRole('button', { name: 'Reset password' }).click();
      await page.fill('dialog input[name=new_password]', 'second-password-2');
      await page.locator('dialog').getByRole('button', { name: 'Set password' }).click();
      await page.locator('dialog').waitFor({ state: 'detached' });
      assert.equal(await loginStatus(person.email, person.password), 401);
      assert.equal(await loginStatus(person.email, 'second-password-2'), 200);

      // Their own console is open; deactivating them logs it out.
      const theirs = await newPage(browser);
      await consoleLogin(theirs, server.url, person.email, 'second-password-2');
      await card(page, person.name).getByRole('button', { name: 'Deactivate' }).click();
      await page.locator('dialog').getByRole('button', { name: 'Deactivate' }).click();
      await page.locator('.member-card.inactive', { hasText: person.name }).waitFor();
      await theirs.locator('form.login .form-error', { hasText: 'session ended' }).waitFor({ timeout: 20_000 });
      assert.equal(await loginStatus(person.email, 'second-password-2'), 401);
      await theirs.context().close();
      if (viewport) await noOverflow(page, viewport.width);
      await screenshot(page, `team-${size}`);

      // Reactivated: they log in again.
      await card(page, person.name).getByRole('button', { name: 'Reactivate' }).click();
      await page.locator('.member-card:not(.inactive)', { hasText: person.name }).waitFor();
      assert.equal(await loginStatus(person.email, 'second-password-2'), 200);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('the last owner cannot demote themselves: the refusal shows on their card', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.goto(`${server.url}/#/team`);
    const own = page.locator('.member-card', { hasText: '(you)' });
    await own.waitFor();
    await own.locator('select[name=member_role]').selectOption('agent');
    const error = own.locator('.member-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /active owner/);
    assert.equal(await own.locator('select[name=member_role]').inputValue(), 'owner', 'the picker shows the stored role');
    const me = await call(server.url, 'GET', '/me', { token: team.ownerToken });
    assert.equal(me.role, 'owner');
    assert.deepEqual(page.problems.filter((problem) => !/409/.test(problem)), []);
    await page.context().close();
  });

  test('a supervisor sees the team read-only and sets capacity; an agent has no team screen', async () => {
    const page = await newPage(browser, { viewport: PHONE });
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await page.goto(`${server.url}/#/team`);
    const agent = card(page, AGENT.name);
    await agent.waitFor();
    assert.equal(await page.locator('.team-form').count(), 0, 'no add form');
    assert.equal(await page.locator('select[name=member_role]').count(), 0, 'no role pickers');
    assert.equal(await page.getByRole('button', { name: 'Deactivate' }).count(), 0);
    await agent.locator('input[name=max_concurrent]').fill('2');
    await agent.getByRole('button', { name: 'Save' }).click();
    await page.locator('.toast', { hasText: 'up to 2' }).waitFor();
    const { agents } = await call(server.url, 'GET', '/desk/agents', { token: team.ownerToken });
    assert.equal(agents.find((row) => row.id === team.agent.id).max_concurrent, 2);
    await noOverflow(page, PHONE.width);
    assert.deepEqual(page.problems, []);
    await page.context().close();

    const agentPage = await newPage(browser);
    await consoleLogin(agentPage, server.url, AGENT.email, AGENT.password);
    assert.equal(await agentPage.locator('.views a', { hasText: 'Team' }).count(), 0);
    await agentPage.goto(`${server.url}/#/team`);
    await agentPage.waitForSelector('.conn-live');
    assert.equal(await agentPage.locator('.team-screen').count(), 0);
    assert.deepEqual(agentPage.problems, []);
    await agentPage.context().close();
  });
});
