// What a new user ran into, each driven in headless Chromium against a real server: the
// composer's placeholder after resolve / reopen / switching, an observer's disabled Reply
// and Resolve (with the reason), Monitor opening as a whisper, the phone layout (top bar,
// Monitor in view, the closed fan drawer), alerts naming the matched words, no `/me` call
// on the login page, over-capacity agents marked, and the reply rate's pending messages.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, startServer } from './harness.mjs';

const AGENT = { email: 'nia@example.com', name: 'Nia Agent', role: 'agent', password: 'agent-password-1' };
const CAPPED = { email: 'cap@example.com', name: 'Cal Capped', role: 'agent', password: 'agent-password-2' };
const SUPERVISOR = { email: 'sue@example.com', name: 'Sue Supervisor', role: 'supervisor', password: 'super-password-1' };
const PHONE = { width: 390, height: 844 };
const RESOLVED = 'This conversation is resolved. Reopen it to reply.';

let server;
let browser;
let team;
let fans = 0;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, capped: CAPPED, supervisor: SUPERVISOR });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fan (through the API) who opened a conversation and wrote `text`. */
async function fanWrites(name, text) {
  fans += 1;
  const session = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: name } });
  const { id } = await call(server.url, 'POST', '/conversations', { token: session.token, body: {} });
  await call(server.url, 'POST', `/conversations/${id}/messages`, {
    token: session.token, body: { client_msg_id: `fan-${fans}`, body: text },
  });
  return { id, token: session.token };
}

/** A public reply through the API (it claims an unassigned conversation). */
async function replyAs(token, conversation, text) {
  fans += 1;
  await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
    token, body: { client_msg_id: `team-${fans}`, body: text },
  });
}

async function openById(page, id, name) {
  await page.evaluate((target) => { location.hash = `#/inbox/${target}`; }, id);
  await page.locator('.conv-header h2', { hasText: name }).waitFor();
}

const placeholder = (page) => page.locator('.conv-pane .composer-input').getAttribute('placeholder');

describe('new-user bugs', () => {
  test('the composer gets its placeholder back after a reopen and on another conversation', async () => {
    const first = await fanWrites('Pia Placeholder', 'Where is my ticket?');
    const second = await fanWrites('Quin Placeholder', 'Hello there');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await openById(page, first.id, 'Pia Placeholder');
    const fresh = await placeholder(page);
    assert.match(fresh, /^Reply…/);

    await page.locator('.conv-actions button', { hasText: 'Resolve' }).click();
    await page.locator('.conv-chips .chip-resolved').waitFor();
    assert.equal(await placeholder(page), RESOLVED);
    assert.equal(await page.locator('.conv-pane .composer-input').isDisabled(), true);

    await page.locator('.conv-actions button', { hasText: 'Reopen' }).click();
    await page.locator('.conv-chips .chip-open').waitFor();
    assert.equal(await placeholder(page), fresh);
    assert.equal(await page.locator('.conv-pane .composer-input').isDisabled(), false);

    await page.locator('.conv-actions button', { hasText: 'Resolve' }).click();
    await page.locator('.conv-chips .chip-resolved').waitFor();
    await openById(page, second.id, 'Quin Placeholder');
    assert.equal(await placeholder(page), fresh);
    assert.equal(await page.locator('.conv-pane .composer-input').isDisabled(), false);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('after a take-over the observer gets Reply and Resolve disabled, with the reason', async () => {
    const { id } = await fanWrites('Otto Observed', 'My order has not arrived');
    const agentToken = await login(server.url, AGENT.email, AGENT.password);
    await replyAs(agentToken, id, 'Let me look into it.');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await openById(page, id, 'Otto Observed');
    const resolve = page.locator('.conv-actions button', { hasText: 'Resolve' });
    assert.equal(await resolve.isDisabled(), false);

    // The supervisor takes over; the agent's open conversation follows live.
    const supervisorToken = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
    await call(server.url, 'POST', `/conversations/${id}/takeover`, { token: supervisorToken });
    await page.locator('.conv-blocked', { hasText: 'Sue Supervisor took over' }).waitFor({ timeout: 10_000 });
    assert.equal(await resolve.isDisabled(), true);
    assert.match(await resolve.getAttribute('title'), /took over this conversation/);
    assert.equal(await page.locator('.conv-actions button', { hasText: 'Escalate' }).isDisabled(), true);
    const input = page.locator('.conv-pane .composer-input');
    assert.equal(await input.isDisabled(), true);
    assert.match(await input.getAttribute('placeholder'), /you are observing/);
    assert.equal(await page.locator('.conv-pane .composer-modes .mode', { hasText: 'Reply' }).isDisabled(), true);
    assert.match(await page.locator('.conv-pane .composer-hint').textContent(), /you are observing/);
    // Nothing was attempted, so nothing failed.
    assert.equal(await page.locator('.toast-error').count(), 0);

    // Handed back: the agent may work again.
    await call(server.url, 'POST', `/conversations/${id}/handback`, { token: supervisorToken });
    await page.locator('.conv-blocked').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await resolve.isDisabled(), false);
    assert.equal(await input.isDisabled(), false);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('Monitor opens as an internal note; a public reply is an explicit switch', async () => {
    const fan = await fanWrites('Mona Monitored', 'Is anyone there?');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    const item = page.locator('.panel-waiting .waiting-item', { hasText: 'Mona Monitored' });
    await item.waitFor({ timeout: 20_000 });
    await item.getByRole('button', { name: 'Monitor' }).click();
    const internal = page.locator('.panel-monitor .composer-modes .mode', { hasText: 'Internal note' });
    await page.locator('.panel-monitor .conv-header h2', { hasText: 'Mona Monitored' }).waitFor();
    await internal.waitFor();
    assert.equal(await internal.getAttribute('aria-pressed'), 'true');
    assert.match(await internal.getAttribute('class'), /active/);
    const publicMode = page.locator('.panel-monitor .composer-modes .mode', { hasText: 'Reply to fan' });
    assert.equal(await publicMode.getAttribute('aria-pressed'), 'false');

    // One Enter while monitoring stays with the team.
    const composer = page.locator('.panel-monitor .composer-input');
    await composer.fill('MONITOR-NOTE: watching this one');
    await composer.press('Enter');
    await page.locator('.panel-monitor .msg-internal .msg-body', { hasText: 'MONITOR-NOTE' }).waitFor();
    const seen = await call(server.url, 'GET', `/conversations/${fan.id}/messages`, { token: fan.token });
    assert.ok(!JSON.stringify(seen).includes('MONITOR-NOTE'), 'the fan never gets the note');

    await publicMode.click();
    assert.equal(await publicMode.getAttribute('aria-pressed'), 'true');
    assert.equal(await internal.getAttribute('aria-pressed'), 'false');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('on a 390×844 phone: the top bar fits, Monitor is in view, the closed fan drawer stays out', async () => {
    await fanWrites('Phil Phone', 'Writing from my phone');
    const page = await newPage(browser, { viewport: PHONE });
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await page.locator('.panel-waiting .waiting-item').first().waitFor({ timeout: 20_000 });
    const bar = await page.$eval('#bar', (element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
    assert.ok(bar.scroll <= bar.client, `top bar ${bar.scroll} px in ${bar.client}`);
    const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(await pageWidth() <= PHONE.width, 'no horizontal overflow on the dashboard');

    await page.locator('.panel-waiting .waiting-item', { hasText: 'Phil Phone' }).getByRole('button', { name: 'Monitor' }).click();
    await page.locator('.panel-monitor .conv-header h2', { hasText: 'Phil Phone' }).waitFor();
    const place = await page.$eval('.panel-monitor', (element) => {
      const dashboard = element.closest('.dashboard');
      const box = element.getBoundingClientRect();
      return {
        top: box.top,
        inDashboard: box.top - dashboard.getBoundingClientRect().top + dashboard.scrollTop,
        right: box.right,
      };
    });
    assert.ok(place.inDashboard < PHONE.height, `Monitor starts ${place.inDashboard} px down the dashboard`);
    assert.ok(place.top >= 0 && place.top < PHONE.height / 2, `Monitor at ${place.top} px on screen`);
    assert.ok(place.right <= PHONE.width, 'Monitor fits the width');
    assert.ok(await pageWidth() <= PHONE.width, 'no horizontal overflow while monitoring');
    assert.deepEqual(page.problems, []);
    await page.context().close();

    // The agent's inbox: the fan drawer is out of sight until asked for.
    const agent = await newPage(browser, { viewport: PHONE });
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await agent.evaluate(() => { location.hash = '#/inbox'; });
    await agent.locator('.inbox').waitFor();
    const drawer = () => agent.$eval('.fan-panel', (element) => {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return { left: box.left, right: box.right, visibility: style.visibility, shadow: style.boxShadow };
    });
    const closed = await drawer();
    assert.equal(closed.visibility, 'hidden');
    assert.equal(closed.shadow, 'none');
    assert.ok(closed.left >= PHONE.width, `closed drawer starts at ${closed.left}`);
    assert.ok(await agent.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
    // A conversation open on the phone: no horizontal overflow, the composer on screen.
    const phil = await fanWrites('Phil Again', 'Still on my phone');
    await openById(agent, phil.id, 'Phil Again');
    assert.ok(await agent.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
    const composer = await agent.locator('.conv-pane .composer-input').boundingBox();
    assert.ok(composer && composer.y + composer.height <= PHONE.height, 'the composer is on screen');
    await agent.locator('.fan-toggle').click();
    await agent.waitForFunction(() => {
      const element = document.querySelector('.fan-panel');
      return getComputedStyle(element).visibility === 'visible' && element.getBoundingClientRect().right <= innerWidth + 0.5;
    });
    assert.deepEqual(agent.problems, []);
    await agent.context().close();

    // The owner has the most views: the links scroll inside the bar, the page does not.
    const owner = await newPage(browser, { viewport: PHONE });
    await consoleLogin(owner, server.url, OWNER.email, OWNER.password);
    const ownerBar = await owner.$eval('#bar', (element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
    assert.ok(ownerBar.scroll <= ownerBar.client, `owner's top bar ${ownerBar.scroll} px in ${ownerBar.client}`);
    assert.ok(await owner.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
    const last = owner.locator('#bar .views a').last();
    await last.scrollIntoViewIfNeeded();
    const box = await last.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, 'every view link can be reached');
    await owner.context().close();
  });

  test('an alert shows the words that matched, not only the rule’s name', async () => {
    await call(server.url, 'POST', '/keyword-rules', { token: team.ownerToken, body: { name: 'purchase', patterns: ['order'] } });
    await fanWrites('Rita Received', 'I never received my order');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    const alert = page.locator('.alert-keyword', { hasText: 'received my order' });
    await alert.waitFor({ timeout: 20_000 });
    assert.equal(await alert.locator('.alert-match').textContent(), '“order”');
    assert.equal(await alert.locator('.alert-rule').textContent(), 'rule purchase');
    assert.equal(await alert.locator('.alert-excerpt mark').textContent(), 'order');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the login page does not ask /me, so no 401 is logged', async () => {
    const page = await newPage(browser);
    const calls = [];
    const logged = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/api/v1/me') calls.push(response.status());
    });
    page.on('console', (message) => logged.push(message.text()));
    await page.goto(`${server.url}/`);
    await page.locator('form.login').waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(calls, [], 'no /me call before a login');
    assert.deepEqual(logged.filter((text) => /401/.test(text)), []);

    await page.fill('input[name=email]', AGENT.email);
    await page.fill('input[name=password]', AGENT.password);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('.conn-live', { timeout: 15_000 });
    assert.deepEqual(calls, [200]);
    // A reload keeps the session; logging out returns to the form without a 401.
    await page.reload();
    await page.waitForSelector('.conn-live', { timeout: 15_000 });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('form.login').waitFor();
    await page.reload();
    await page.locator('form.login').waitFor();
    await page.waitForTimeout(300);
    assert.deepEqual(calls, [200, 200]);
    assert.deepEqual(logged.filter((text) => /401/.test(text)), []);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('an agent over capacity gets a warning colour', async () => {
    const supervisorToken = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
    await call(server.url, 'PUT', `/members/${team.capped.id}/capacity`, { token: supervisorToken, body: { max_concurrent: 1 } });
    const capped = await login(server.url, CAPPED.email, CAPPED.password);
    for (const name of ['Cora One', 'Cora Two']) {
      const { id } = await fanWrites(name, 'Question about tickets');
      await replyAs(capped, id, 'On it!');
    }
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    const row = page.locator('.agents tr', { hasText: 'Cal Capped' });
    await row.locator('.load', { hasText: '2 / 1' }).waitFor({ timeout: 20_000 });
    assert.match(await row.locator('.load').getAttribute('class'), /load-over/);
    const colour = await row.locator('.load').evaluate((element) => getComputedStyle(element).color);
    assert.equal(colour, 'rgb(185, 28, 28)');
    // Within capacity: no warning.
    const calm = page.locator('.agents tr', { hasText: 'Nia Agent' }).locator('.load');
    assert.doesNotMatch(await calm.getAttribute('class'), /load-over/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the dashboard shows the reply rate’s pending messages and says why', async () => {
    const { id } = await fanWrites('Penny Pending', 'Do you have my size?');
    await replyAs(await login(server.url, AGENT.email, AGENT.password), id, 'Checking the stock now.');
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    const pending = page.locator('.panel-metrics .reply-rate .pending');
    await pending.waitFor({ timeout: 20_000 });
    // Every team message of this test server is younger than 24 h: all pending, no rate.
    assert.match(await pending.textContent(), /· [1-9]\d* pending$/);
    assert.match(await page.locator('.panel-metrics .reply-rate').textContent(), /^— · /);
    assert.match(await page.locator('.panel-metrics .metrics-note').textContent(), /24-hour answer window has closed/);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
