// The scheduled-messages screen in headless Chromium against a real server (README ›
// Scheduled messages): the owner writes a message for every fan at 09:00 in each fan's
// own time zone and sees the recipient count and the per-zone preview before scheduling;
// the message is listed with its progress, its recipients are pending with their zones,
// and Cancel stops it. A second message to the VIP fans "now" is delivered: the list shows
// it sent, and the VIP fan has it in their conversation, labelled automated.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let team;
const fans = {};

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, {});
  browser = await launchBrowser();
  for (const [name, timezone] of [['Aiko', 'Asia/Tokyo'], ['Nina', 'America/New_York'], ['Sam', null]]) {
    const body = { display_name: name };
    if (timezone) body.timezone = timezone;
    const session = await call(server.url, 'POST', '/fan-sessions', { body });
    fans[name] = { token: session.token, id: session.fan.id };
  }
  await call(server.url, 'PATCH', `/fans/${fans.Aiko.id}`, { token: team.ownerToken, body: { tags: ['vip'] } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('scheduled messages screen', () => {
  test('the owner previews, schedules, follows and cancels a message', async () => {
    const page = await newPage(browser);
    page.on('dialog', (dialog) => dialog.accept());
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Scheduled' }).click();
    const form = page.locator('.schedule-form');
    await form.locator('h2', { hasText: 'Schedule a message' }).waitFor();

    // Every fan at 09:00 on a date a week ahead, in each fan's time zone.
    const date = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    await form.locator('textarea[name="body"]').fill('New album out Friday!');
    await form.locator('select[name="audience"]').selectOption('all');
    await form.locator('select[name="timing"]').selectOption('local');
    await form.locator('input[name="local_date"]').fill(date);
    await form.locator('input[name="local_time"]').fill('09:00');
    const preview = form.locator('.schedule-preview');
    // The preview follows the form: each zone's row at 09:00 on that date, its own clock.
    for (const zone of ['Asia/Tokyo', 'America/New_York', 'UTC']) {
      await preview.locator(`tr[data-zone="${zone}"]`, { hasText: `${date} 09:00` }).waitFor();
    }
    await preview.locator('[data-figure="recipients"]', { hasText: '3 fans' }).waitFor();
    await screenshot(page, 'scheduled-composer');
    await form.locator('button[type="submit"]').click();

    const row = page.locator('.scheduled-list tbody tr', { hasText: 'New album out Friday!' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'scheduled');
    assert.match(await row.textContent(), /0 \/ 3 sent/);
    // Its recipients: pending, each in their zone.
    const detail = page.locator('.scheduled-detail');
    await detail.locator(`tr[data-fan="${fans.Aiko.id}"]`, { hasText: 'Asia/Tokyo' }).waitFor();
    assert.equal(await detail.locator('tbody tr[data-status="pending"]').count(), 3);

    await row.locator('button', { hasText: 'Cancel' }).click();
    await page.locator('.scheduled-list tbody tr[data-status="cancelled"]', { hasText: 'New album out Friday!' }).waitFor();
    const listed = (await call(server.url, 'GET', '/scheduled-messages', { token: team.ownerToken })).scheduled_messages;
    assert.equal(listed[0].status, 'cancelled');
    assert.equal(listed[0].cancelled, 3);

    // The VIP fans, now: delivered, shown as sent.
    await form.locator('textarea[name="body"]').fill('VIP early access is open');
    await form.locator('select[name="audience"]').selectOption('vip');
    await form.locator('select[name="timing"]').selectOption('at');
    const now = new Date(Date.now() - 60_000);
    const pad = (n) => String(n).padStart(2, '0');
    await form.locator('input[name="at"]').fill(`${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}`);
    await preview.locator('[data-figure="recipients"]', { hasText: '1 fan' }).waitFor();
    await form.locator('button[type="submit"]').click();
    await page.locator('.scheduled-list tbody tr[data-status="sent"]', { hasText: 'VIP early access is open' }).waitFor({ timeout: 15_000 });
    await detail.locator(`tr[data-fan="${fans.Aiko.id}"][data-status="sent"]`).waitFor();

    const conversations = (await call(server.url, 'GET', '/conversations', { token: fans.Aiko.token })).conversations;
    assert.equal(conversations.length, 1);
    const history = (await call(server.url, 'GET', `/conversations/${conversations[0].id}/messages`, { token: fans.Aiko.token })).messages;
    const copies = history.filter((message) => message.body === 'VIP early access is open');
    assert.equal(copies.length, 1);
    assert.equal(copies[0].automated, true);
    const others = (await call(server.url, 'GET', '/conversations', { token: fans.Nina.token })).conversations;
    assert.equal(others.length, 0, 'only the VIP fan got it');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
