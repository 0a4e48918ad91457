// The supervisor's screens and the new conversation actions in headless Chromium against
// a real server (README › Web console; docs/api.md › Snooze, Supervision, Metrics and
// reports), at desktop size and on a 390×844 phone with no horizontal overflow: an agent
// snoozes a conversation with the time picker (the inbox shows it snoozed; the fan's
// message wakes it); a supervisor reassigns one to a named agent and edits the fan's tags;
// the metrics screen per agent, shift and day with its SVG charts, reached from the
// dashboard; the message review with reply times; the weekly report with its HTML, CSV and
// JSON downloads. An agent gets none of the supervisor screens.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const AGENT = { email: 'ada@example.com', name: 'Ada Agent', role: 'agent', password: 'agent-password-1' };
const OTHER = { email: 'bo@example.com', name: 'Bo Backup', role: 'agent', password: 'agent-password-2' };
const PHONE = { width: 390, height: 844 };
const SIZES = [['desktop', undefined], ['phone', PHONE]];

let server;
let browser;
let team;
let tokens;

/** A fan with a conversation the agent answered; returns `{ id, fan, fanToken }`. */
async function answeredConversation(name) {
  const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: name } });
  const id = (await call(server.url, 'POST', '/conversations', { token: fan.token, body: {} })).id;
  const say = (token, body) => call(server.url, 'POST', `/conversations/${id}/messages`, {
    token, body: { client_msg_id: `c-${Math.random().toString(16).slice(2)}`, body },
  });
  await say(fan.token, `Hello from ${name}`);
  try {
    await call(server.url, 'POST', `/conversations/${id}/assign`, { token: team.ownerToken, body: { member_id: team.agent.id } });
  } catch (error) {
    if (!/already assigned/.test(error.message)) throw error;
  }
  await say(tokens.agent, `Hi ${name}, on it`);
  return { id, fan: fan.fan_id ?? fan.id, fanToken: fan.token, say };
}

async function noOverflow(page, viewport) {
  if (!viewport) return;
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= viewport.width, `page ${width} px wide`);
}

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { supervisor: SUPERVISOR, agent: AGENT, other: OTHER });
  tokens = {
    agent: await login(server.url, AGENT.email, AGENT.password),
    supervisor: await login(server.url, SUPERVISOR.email, SUPERVISOR.password),
  };
  await call(server.url, 'POST', '/shifts', {
    token: team.ownerToken,
    body: { name: 'Around the clock', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '00:00' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('snooze, reassign and fan tags', () => {
  for (const [size, viewport] of SIZES) {
    test(`an agent snoozes with the time picker and the fan's message wakes it (${size})`, async () => {
      const conversation = await answeredConversation(`Snoozy ${size}`);
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, AGENT.email, AGENT.password);
      await page.goto(`${server.url}/#/inbox/${conversation.id}`);
      const snooze = page.locator('.conv-actions button', { hasText: /^Snooze$/ });
      await snooze.waitFor();
      await snooze.click();
      const dialog = page.locator('dialog[open]');
      await dialog.getByRole('button', { name: 'Tomorrow 9:00' }).click();
      const chosen = await dialog.locator('input[name=until]').inputValue();
      assert.match(chosen, /^\d{4}-\d{2}-\d{2}T09:00$/);
      await dialog.getByRole('button', { name: 'Snooze' }).click();
      await dialog.waitFor({ state: 'detached' });
      const chip = page.locator('.conv-chips .chip-snoozed');
      await chip.waitFor();
      assert.match(await chip.textContent(), /snoozed until/);
      // The inbox lists it as snoozed.
      await page.locator(`.conv-item[data-id="${conversation.id}"] .chip-snoozed`).waitFor();
      const stored = await call(server.url, 'GET', `/conversations/${conversation.id}`, { token: tokens.agent });
      assert.equal(stored.status, 'snoozed');
      assert.equal(new Date(stored.snoozed_until).getHours(), 9);
      // The fan still sees an open conversation; their message wakes it.
      const fanView = await call(server.url, 'GET', `/conversations/${conversation.id}`, { token: conversation.fanToken });
      assert.deepEqual(Object.keys(fanView).sort(), ['created_at', 'id', 'status']);
      assert.equal(fanView.status, 'open');
      await conversation.say(conversation.fanToken, 'Actually, one more thing');
      await page.locator('.conv-chips .chip-open').waitFor();
      await noOverflow(page, viewport);
      await screenshot(page, `snooze-${size}`);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });

    test(`a supervisor reassigns to a named agent and edits the fan's tags (${size})`, async () => {
      const conversation = await answeredConversation(`Tagged ${size}`);
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
      await page.goto(`${server.url}/#/inbox/${conversation.id}`);
      const reassign = page.locator('.conv-actions button', { hasText: 'Reassign' });
      await reassign.waitFor();
      await reassign.click();
      const dialog = page.locator('dialog[open]');
      await dialog.locator('select[name=member_id]').selectOption(team.other.id);
      await dialog.getByRole('button', { name: 'Reassign' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.locator('.conv-chips', { hasText: 'assigned to Bo Backup' }).waitFor();
      const stored = await call(server.url, 'GET', `/conversations/${conversation.id}`, { token: tokens.supervisor });
      assert.equal(stored.assignee_id, team.other.id);

      if (viewport) await page.locator('.fan-toggle').click();
      const tags = page.locator('.fan-panel input[name=tags]');
      await tags.waitFor();
      await tags.fill('VIP, merch , merch');
      await page.locator('.fan-panel .tags-editor button[type=submit]').click();
      await page.locator('.fan-panel .tags li', { hasText: 'merch' }).waitFor();
      const profile = await call(server.url, 'GET', `/fans/${stored.fan_id}`, { token: tokens.supervisor });
      assert.deepEqual([...profile.tags].sort(), ['merch', 'vip']);
      await noOverflow(page, viewport);
      await screenshot(page, `reassign-tags-${size}`);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }
});

describe('metrics, message review and the weekly report', () => {
  for (const [size, viewport] of SIZES) {
    test(`a supervisor reads metrics per agent, shift and day from the dashboard (${size})`, async () => {
      await answeredConversation(`Measured ${size}`);
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
      await page.goto(`${server.url}/#/dashboard`);
      const link = page.locator('.dashboard-links a', { hasText: 'Metrics by agent' });
      await link.scrollIntoViewIfNeeded();
      await link.click();
      const agentRow = page.locator('.metrics-table .metrics-row', { hasText: 'Ada Agent' });
      await agentRow.waitFor();
      const cells = await agentRow.locator('td').allTextContents();
      assert.ok(Number(cells[0]) >= 1, `openings ${cells[0]}`);
      assert.match(cells[2], /\d+ s|min/, `FRT p50 ${cells[2]}`);
      assert.ok(await page.locator('.metrics-charts svg.chart').count() >= 3);
      assert.ok(await page.locator('svg.chart rect.chart-bar').count() > 3);
      assert.match(await page.locator('.metrics-note').textContent(), /pending/);

      await page.selectOption('select[name=group_by]', 'shift');
      await page.locator('.metrics-table .metrics-row', { hasText: 'Around the clock' }).waitFor();
      await page.selectOption('select[name=group_by]', 'day');
      const today = await page.evaluate(() => {
        const d = new Date();
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      });
      await page.locator('.metrics-table .metrics-row', { hasText: today }).waitFor();
      await page.locator('svg.chart circle.dot').first().waitFor();
      assert.ok(await page.locator('svg.chart polyline').count() >= 2, 'one line per series');
      await noOverflow(page, viewport);
      await screenshot(page, `metrics-${size}`);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });

    test(`message review with reply times, and the weekly report with downloads (${size})`, async () => {
      const page = await newPage(browser, viewport ? { viewport } : {});
      await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
      await page.goto(`${server.url}/#/review`);
      const reply = page.locator('.review-row', { hasText: 'on it' }).first();
      await reply.waitFor();
      assert.match(await reply.locator('.review-reply').textContent(), /\d+ s|min/);
      await page.locator('.review-agent', { hasText: 'Ada Agent' }).waitFor();
      await page.selectOption('select[name=agent_id]', team.other.id);
      await page.locator('.review-stats td.muted', { hasText: 'No team messages' }).waitFor();
      await noOverflow(page, viewport);
      await screenshot(page, `review-${size}`);

      await page.locator('a', { hasText: 'Weekly report' }).first().click();
      const heading = page.locator('.report-heading');
      await heading.filter({ hasText: 'so far' }).waitFor();
      await page.locator('.report-table .report-row', { hasText: 'Ada Agent' }).waitFor();
      assert.ok(await page.locator('.report-content svg.chart').count() >= 3);
      const download = page.waitForEvent('download');
      await page.locator('.report-downloads a[data-format=html]').click();
      assert.match((await download).suggestedFilename(), /^fandesk-report-\d{4}-W\d{2}\.html$/);
      for (const [format, type, needle] of [['csv', 'text/csv', 'Ada Agent'], ['json', 'application/json', '"agents"'], ['html', 'text/html', '<svg']]) {
        const href = await page.locator(`.report-downloads a[data-format=${format}]`).getAttribute('href');
        const answer = await page.evaluate(async (url) => {
          const response = await fetch(url, { credentials: 'same-origin' });
          return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
        }, href);
        assert.equal(answer.status, 200, format);
        assert.ok(answer.type.startsWith(type), `${format}: ${answer.type}`);
        assert.ok(answer.text.includes(needle), `${format} holds ${needle}`);
      }
      const shown = await page.locator('input[name=week]').inputValue();
      await page.getByRole('button', { name: 'Previous week' }).click();
      const previous = await page.locator('input[name=week]').inputValue();
      assert.notEqual(previous, shown);
      await heading.filter({ hasText: `${previous} · ` }).waitFor();
      assert.doesNotMatch(await heading.textContent(), /so far/);
      await noOverflow(page, viewport);
      await screenshot(page, `report-${size}`);
      assert.deepEqual(page.problems, []);
      await page.context().close();
    });
  }

  test('an agent has no metrics, review or report screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    assert.equal(await page.locator('.views a', { hasText: 'Metrics' }).count(), 0);
    for (const view of ['metrics', 'review', 'report']) {
      await page.goto(`${server.url}/#/${view}`);
      await page.waitForSelector('.conn-live');
      assert.equal(await page.locator('.metrics-screen').count(), 0, view);
    }
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
