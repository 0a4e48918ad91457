// An event's figures on the events screen in headless Chromium against a real server
// (README › Premieres and live events › Figures): a fan watches a short live event on its
// page, the moderation view counts them live, and after the end the figures panel shows
// the final numbers — one viewer watching the whole event, the retention and messages
// charts drawn as SVG, the question answered, the conversion recorded for the event —
// and the fan panel beside that fan's conversation shows what they watched and bought.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, {});
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event figures', () => {
  test('a watched event shows its live count, then its final figures and charts', async () => {
    // A 10-second live event starting in 4 seconds.
    const startsAt = new Date(Date.now() + 4_000);
    const event = await call(server.url, 'POST', '/events', {
      token: team.ownerToken,
      body: { title: 'Quick live', kind: 'live', starts_at: startsAt.toISOString(), duration_secs: 10, qa: true },
    });

    // A fan opens the event's page before the start and stays.
    const fanPage = await newPage(browser);
    await fanPage.goto(`${server.url}/events/${event.id}`);
    await fanPage.fill('input[name=display_name]', 'Vi');
    await fanPage.click('form.welcome button[type=submit]');
    await fanPage.locator('.event-title', { hasText: 'Quick live' }).waitFor();
    await fanPage.waitForSelector('.conn-live', { timeout: 15_000 });

    // The owner's moderation view counts the viewer live.
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Events' }).click();
    const row = page.locator('.events-list tbody tr', { hasText: 'Quick live' });
    await row.locator('button', { hasText: 'Moderate' }).click();
    const detail = page.locator('.event-detail');
    await detail.locator('[data-figure="viewers"]', { hasText: 'Viewers now 1' }).waitFor();
    const figures = page.locator('.event-metrics');
    await figures.locator('h2', { hasText: 'Figures' }).waitFor();

    // During the event: another fan chats and asks; the team answers.
    await sleep(Math.max(0, startsAt.getTime() - Date.now()) + 1_000);
    const other = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Bo' } });
    await call(server.url, 'POST', `/rooms/${event.room_id}/messages`, { token: other.token, body: { client_msg_id: 'm1', body: 'hello!' } });
    const question = await call(server.url, 'POST', `/events/${event.id}/questions`, { token: other.token, body: { client_msg_id: 'q1', body: 'Encore?' } });
    await call(server.url, 'POST', `/events/${event.id}/questions/${question.id}/answer`, { token: team.ownerToken });
    const viewer = await fanPage.evaluate(() => JSON.parse(localStorage.getItem('fandesk.fan')));
    await call(server.url, 'POST', '/conversions', {
      token: team.ownerToken,
      body: { fan_id: viewer.fan.id, event_id: event.id, kind: 'ticket', value_cents: 1999 },
    });

    // After the end: reopen the event; the figures are final.
    await sleep(Math.max(0, startsAt.getTime() + 10_000 - Date.now()) + 1_500);
    await row.locator('button', { hasText: 'Moderate' }).click();
    await figures.locator('[data-metrics-status="ended"]').waitFor();
    const value = (name) => figures.locator(`[data-metric="${name}"] .metric-value`).textContent();
    assert.equal(await value('unique_viewers'), '1');
    assert.equal(await value('peak_concurrent'), '1');
    assert.equal(await value('avg_watch_secs'), '10 s');
    assert.equal(await value('questions'), '1 of 1');
    assert.match(await value('conversions'), /^1 · .*19\.99/);
    const retention = figures.locator('svg[data-chart="retention"]');
    await retention.waitFor();
    assert.equal(await retention.locator('circle').count(), 1);
    assert.equal(await retention.locator('circle').getAttribute('data-share'), '1');
    assert.equal(await figures.locator('svg[data-chart="messages"] rect').count(), 1);
    await figures.scrollIntoViewIfNeeded();
    await screenshot(page, 'event-figures');

    // The same numbers through the API.
    const metrics = await call(server.url, 'GET', `/events/${event.id}/metrics`, { token: team.ownerToken });
    assert.deepEqual(
      [metrics.unique_viewers, metrics.retention_by_minute, metrics.messages_per_minute, metrics.conversions],
      [1, [1], [1], { count: 1, value_cents: 1999 }],
    );

    // The viewer writes in; the fan panel beside the conversation shows the event watched
    // and the ticket bought.
    const conversation = await call(server.url, 'POST', '/conversations', { token: viewer.token, body: {} });
    await call(server.url, 'POST', `/conversations/${conversation.id}/messages`, {
      token: viewer.token, body: { client_msg_id: 'c1', body: 'Loved the live!' },
    });
    await page.locator('.views a', { hasText: 'Inbox' }).click();
    const item = page.locator('.conv-item', { hasText: 'Vi' });
    await item.first().waitFor({ timeout: 20_000 });
    await item.first().click();
    const activity = page.locator('.fan-panel .fan-activity');
    await activity.locator('li', { hasText: 'Quick live' }).waitFor();
    assert.match(await activity.locator('li', { hasText: 'Quick live' }).textContent(), /Quick live · 10 s watched/);
    assert.match(await activity.locator('li', { hasText: 'ticket' }).textContent(), /ticket · .*19\.99/);
    await fanPage.context().close();
    await page.context().close();
  });
});
