// axe-core on every page of the console and the fan pages, as the owner (who sees every
// settings screen) and as a fan: the login page, the inbox, an open conversation, the
// dashboard, each settings screen, the fan directory, the fan chat before and after
// starting, and an event's page. Every page must have no violation at all.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeViolations, call, consoleLogin, fanSend, fanStart, launchBrowser, login, newPage, OWNER, startServer } from './harness.mjs';

const SCREENS = ['team', 'audit', 'charter', 'webhooks', 'flows', 'events', 'scheduled', 'data', 'channels', 'decisions', 'fans',
  'shifts', 'canned', 'rules', 'metrics'];
/** Screens reached from another screen's links, not from the top bar: the element they render. */
const LINKED_SCREENS = { review: '.review-screen', report: '.report-screen' };

let server;
let browser;
let event;

before(async () => {
  server = await startServer();
  const owner = await login(server.url, OWNER.email, OWNER.password);
  const session = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Axel Audit' } });
  const { id } = await call(server.url, 'POST', '/conversations', { token: session.token, body: {} });
  await call(server.url, 'POST', `/conversations/${id}/messages`, {
    token: session.token, body: { client_msg_id: 'axe-1', body: 'Is this page accessible?' },
  });
  const startsAt = new Date(Date.now() + 3600_000).toISOString();
  event = await call(server.url, 'POST', '/events', {
    token: owner, body: { title: 'Axe live', kind: 'live', starts_at: startsAt, duration_secs: 3600 },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every page's violations, gathered so one run names them all. */
let found = {};

async function check(page, where) {
  const violations = await axeViolations(page);
  if (violations.length) found[where] = violations;
}

function assertClean() {
  const report = found;
  found = {};
  assert.deepEqual(report, {}, 'axe violations by page');
}

describe('axe-core', () => {
  test('the console: login, inbox, conversation, dashboard and every settings screen', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/`);
    await page.locator('form.login').waitFor();
    await check(page, 'login');

    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    const item = page.locator('.lists .conv-item', { hasText: 'Axel Audit' }).first();
    await item.waitFor({ timeout: 20_000 });
    await check(page, 'inbox');
    await page.fill('#inbox-search-q', 'accessible');
    await page.locator('.inbox-search button[type=submit]').click();
    await page.locator('.search-summary', { hasText: '1 conversation found.' }).waitFor();
    await page.locator('.search-more summary').click();
    await check(page, 'inbox search');
    await item.click();
    await page.locator('.conv-header h2', { hasText: 'Axel Audit' }).waitFor();
    await page.locator('.msg-body', { hasText: 'Is this page accessible?' }).waitFor();
    await check(page, 'conversation');

    await page.evaluate(() => { location.hash = '#/dashboard'; });
    await page.locator('.panel-waiting').waitFor();
    await check(page, 'dashboard');

    for (const screen of SCREENS) {
      await page.evaluate((name) => { location.hash = `#/${name}`; }, screen);
      await page.locator(`nav.views a[data-view="${screen}"].active`).waitFor();
      // Let the screen's first fetch land.
      await page.waitForLoadState('networkidle').catch(() => {});
      await page.waitForTimeout(300);
      await check(page, `#/${screen}`);
    }
    for (const [screen, selector] of Object.entries(LINKED_SCREENS)) {
      await page.evaluate((name) => { location.hash = `#/${name}`; }, screen);
      await page.locator(selector).waitFor();
      await page.waitForLoadState('networkidle').catch(() => {});
      await page.waitForTimeout(300);
      await check(page, `#/${screen}`);
    }
    await page.evaluate(() => { location.hash = '#/fans'; });
    await page.locator('nav.views a[data-view="fans"].active').waitFor();
    // A fan's history in the directory.
    await page.locator('.fan-item', { hasText: 'Axel Audit' }).click();
    await page.locator('.history-list .conv-item').first().waitFor();
    await check(page, '#/fans history');
    assertClean();
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('the fan pages: chat before and after starting, and an event page', async () => {
    const fan = await newPage(browser);
    await fan.goto(`${server.url}/chat`);
    await fan.locator('form.welcome').waitFor();
    await check(fan, '/chat welcome');
    await fanStart(fan, server.url, 'Ava Axe');
    await fanSend(fan, 'Hello axe');
    await check(fan, '/chat');
    await fan.context().close();

    const viewer = await newPage(browser);
    await viewer.goto(`${server.url}/events/${event.id}`);
    await viewer.locator('form.welcome').waitFor();
    await check(viewer, 'event welcome');
    await viewer.fill('input[name=display_name]', 'Eve Axe');
    await viewer.click('form.welcome button[type=submit]');
    await viewer.locator('.event-title', { hasText: 'Axe live' }).waitFor();
    await viewer.waitForSelector('.conn-live', { timeout: 15_000 });
    await check(viewer, 'event page');
    await viewer.context().close();
    assertClean();
  });
});
