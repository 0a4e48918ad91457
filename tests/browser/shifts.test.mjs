// The shifts screen and clock-in in headless Chromium against a real server (README › Web
// console; docs/api.md › Agent desk), at desktop size and on a 390×844 phone: with no
// shift every hour of the week is highlighted uncovered; the owner adds a staffed shift
// and its hours turn covered in the week grid, edits it (longer hours covered), is refused
// on a bad field, and deletes it; an agent reads the schedule without editing it, and
// clocks in and out from the top bar, which shows the state the server holds. No
// horizontal overflow on the phone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT });
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

async function openShifts(page) {
  const link = page.locator('.views a', { hasText: 'Shifts' });
  await link.scrollIntoViewIfNeeded();
  await link.click();
  await page.locator('.coverage-grid').waitFor();
}

/** The grid cell of the first day shown, at `hour`. */
async function mondayCell(page, hour) {
  const monday = await page.locator('.coverage-grid td').first().getAttribute('data-date');
  return page.locator(`.coverage-grid td[data-date="${monday}"][data-hour="${hour}"]`);
}

async function isGap(page, hour) {
  return (await (await mondayCell(page, hour)).getAttribute('class')).includes('gap');
}

describe('shifts screen', () => {
  for (const [size, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    test(`the owner edits the schedule and the week grid follows (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, OWNER.email, OWNER.password);
      await openShifts(page);
      await page.locator('.shifts-list td', { hasText: 'No shift yet' }).waitFor();
      assert.equal(await page.locator('.coverage-grid td.gap').count(), 7 * 24, 'every hour uncovered');
      if (viewport) await noOverflow(page, viewport.width);

      // A shift without days is refused on its field.
      const name = `Mornings ${size}`;
      await page.fill('.shift-form input[name=shift_name]', name);
      await page.fill('.shift-form input[name=start]', '08:00');
      await page.fill('.shift-form input[name=end]', '12:00');
      await page.getByRole('button', { name: 'Add shift' }).click();
      await page.locator('.shift-form .field-error', { hasText: /weekdays|day/ }).waitFor();

      for (const day of ['mon', 'tue', 'wed', 'thu', 'fri']) await page.check(`.shift-form input[name=weekdays][value=${day}]`);
      await page.check(`.shift-form input[name=member_ids][value="${team.agent.id}"]`);
      await page.getByRole('button', { name: 'Add shift' }).click();
      const row = page.locator('.shift-row', { hasText: name });
      await row.waitFor();
      assert.match(await row.textContent(), /08:00–12:00/);
      assert.match(await row.textContent(), /Ana Agent/);
      await page.waitForFunction(() => document.querySelectorAll('.coverage-grid td.gap').length === 7 * 24 - 5 * 4);
      assert.equal(await isGap(page, 7), true);
      assert.equal(await isGap(page, 8), false);
      assert.equal(await isGap(page, 11), false);
      assert.equal(await isGap(page, 12), true);
      if (viewport) await noOverflow(page, viewport.width);
      await screenshot(page, `shifts-${size}`);

      // Edited: until 14:00.
      await row.getByRole('button', { name: 'Edit' }).click();
      await page.fill('.shift-form input[name=end]', '14:00');
      await page.getByRole('button', { name: 'Save shift' }).click();
      await page.locator('.shift-row', { hasText: '08:00–14:00' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.coverage-grid td.gap').length === 7 * 24 - 5 * 6);
      assert.equal(await isGap(page, 13), false);
      const owner = await login(server.url, OWNER.email, OWNER.password);
      const { shifts } = await call(server.url, 'GET', '/shifts', { token: owner });
      assert.deepEqual(shifts.map((shift) => [shift.name, shift.end, shift.member_ids]), [[name, '14:00', [team.agent.id]]]);

      // The next week is shown on request, then deleted: every hour uncovered again.
      const first = await page.locator('.coverage-grid td').first().getAttribute('data-date');
      await page.getByRole('button', { name: 'Next week' }).click();
      await page.waitForFunction((date) => document.querySelector('.coverage-grid td').dataset.date !== date, first);
      await page.locator('.shift-row', { hasText: name }).getByRole('button', { name: 'Delete' }).click();
      await page.locator('dialog').getByRole('button', { name: 'Delete' }).click();
      await page.locator('.shifts-list td', { hasText: 'No shift yet' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.coverage-grid td.gap').length === 7 * 24);
      assert.deepEqual((await call(server.url, 'GET', '/shifts', { token: owner })).shifts, []);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });

    test(`an agent reads the schedule and clocks in and out (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, AGENT.email, AGENT.password);
      const button = page.locator('#bar .clock-button');
      await page.waitForFunction(() => document.querySelector('#bar .clock-button') && !document.querySelector('#bar .clock-button').disabled);
      assert.equal((await button.textContent()).trim(), 'Clock in');
      assert.match(await page.locator('#bar .clock-state').textContent(), /Off shift/);
      if (viewport) {
        const bar = await page.$eval('#bar', (element) => ({ scroll: element.scrollWidth, client: element.clientWidth }));
        assert.ok(bar.scroll <= bar.client, `top bar ${bar.scroll} px in ${bar.client}`);
        assert.ok(await button.isVisible(), 'the clock button is on screen');
      }

      await button.click();
      await page.waitForFunction(() => document.querySelector('#bar .clock-button').textContent.trim() === 'Clock out');
      assert.match(await page.locator('#bar .clock-state').textContent(), /On shift/);
      const agentToken = await login(server.url, AGENT.email, AGENT.password);
      const agents = async () => (await call(server.url, 'GET', '/desk/agents', { token: agentToken })).agents;
      assert.equal((await agents()).find((agent) => agent.id === team.agent.id).clocked_in, true);

      // A reload shows the state the server holds.
      await page.reload();
      await page.waitForSelector('.conn-live', { timeout: 15_000 });
      await page.waitForFunction(() => document.querySelector('#bar .clock-button')?.textContent.trim() === 'Clock out');
      await page.locator('#bar .clock-button').click();
      await page.waitForFunction(() => document.querySelector('#bar .clock-button').textContent.trim() === 'Clock in');
      const mine = (await agents()).find((agent) => agent.id === team.agent.id);
      assert.equal(mine.on_shift, false);

      // The schedule, read-only.
      await openShifts(page);
      assert.equal(await page.locator('.shift-form').count(), 0);
      assert.equal(await page.locator('.shifts-list button', { hasText: 'Edit' }).count(), 0);
      if (viewport) await noOverflow(page, viewport.width);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }
});
