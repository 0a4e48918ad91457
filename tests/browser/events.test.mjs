// The events screen in headless Chromium against a real server (README › Premieres and
// live events): the owner schedules a live event with Q&A from the form, sees it listed
// with its label and status, opens its moderation view, answers and hides fans'
// questions (a hidden one is gone for fans through the API), and deletes a chat message;
// the view follows the event live over the WebSocket (nothing is polled), and a slow-mode
// change made there reaches a fan's event page at once.

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

/** `Date` as the value of a datetime-local input (local time, minutes). */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

describe('events screen', () => {
  test('the owner schedules an event and moderates its questions and chat', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Events' }).click();
    await page.locator('.events-new h2', { hasText: 'Schedule an event' }).waitFor();

    // Starts in two minutes: the chat is already open (15 minutes before).
    const form = page.locator('.event-form');
    await form.locator('input[name="title"]').fill('Ask the band');
    await form.locator('select[name="kind"]').selectOption('live');
    await form.locator('input[name="starts_at"]').fill(localInput(new Date(Date.now() + 2 * 60_000)));
    await form.locator('input[name="duration_mins"]').fill('45');
    await form.locator('input[name="qa"]').check();
    await form.locator('button[type="submit"]').click();
    const row = page.locator('.events-list tbody tr', { hasText: 'Ask the band' });
    await row.waitFor();
    assert.match(await row.textContent(), /Live/);
    assert.match(await row.textContent(), /scheduled/);
    const events = (await call(server.url, 'GET', '/events', { token: team.ownerToken })).events;
    const event = events.find((item) => item.title === 'Ask the band');
    assert.equal(event.qa, true);
    assert.equal(event.duration_secs, 2700);

    // Fans ask and chat through the API.
    const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Ada' } });
    const ask = (key, body) => call(server.url, 'POST', `/events/${event.id}/questions`, { token: fan.token, body: { client_msg_id: key, body } });
    const good = await ask('q1', 'Will you tour next year?');
    const rude = await ask('q2', 'CANARY rude question');
    await call(server.url, 'POST', `/rooms/${event.room_id}/messages`, { token: fan.token, body: { client_msg_id: 'm1', body: 'spam spam spam' } });

    // The moderation view shows both questions and the chat.
    await row.locator('button', { hasText: 'Moderate' }).click();
    const detail = page.locator('.event-detail');
    const question = (text) => detail.locator('.questions li', { hasText: text });
    await question('Will you tour next year?').waitFor();
    await question('CANARY rude question').waitFor();
    await detail.locator('.event-chat li', { hasText: 'spam spam spam' }).waitFor();
    await detail.locator('[data-figure="rate"]', { hasText: '1 messages in the last minute' }).waitFor();
    await detail.locator('[data-figure="viewers"]', { hasText: 'Viewers now 0' }).waitFor();
    await screenshot(page, 'events-moderation');

    await question('Will you tour next year?').locator('button', { hasText: 'Answer' }).click();
    await detail.locator('.questions li[data-state="answered"]', { hasText: 'Will you tour' }).waitFor();
    await question('CANARY rude question').locator('button', { hasText: 'Hide' }).click();
    await detail.locator('.questions li[data-state="hidden"]', { hasText: 'CANARY' }).waitFor();
    const fanView = await call(server.url, 'GET', `/events/${event.id}/questions`, { token: fan.token });
    assert.deepEqual(fanView.questions.map((q) => q.id), [good.id]);
    assert.ok(!JSON.stringify(fanView).includes('CANARY'));
    assert.ok(rude.id);

    await detail.locator('.event-chat li', { hasText: 'spam spam spam' }).locator('button', { hasText: 'Delete' }).click();
    await detail.locator('.event-chat li', { hasText: '(deleted)' }).waitFor();
    await page.close();
  });

  test('the moderation view is live, and its slow mode reaches the fans at once', async () => {
    const event = await call(server.url, 'POST', '/events', {
      token: team.ownerToken,
      body: { title: 'Live session', kind: 'live', starts_at: new Date(Date.now() + 60_000).toISOString(), duration_secs: 1800, qa: true },
    });
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Events' }).click();
    const row = page.locator('.events-list tbody tr', { hasText: 'Live session' });
    await row.locator('button', { hasText: 'Moderate' }).click();
    const detail = page.locator('.event-detail');
    await detail.locator('[data-figure="slow"]', { hasText: 'slow mode off' }).waitFor();
    // Count the reads the view used to poll (messages, questions): it must not any more.
    let reads = 0;
    page.on('request', (request) => {
      if (request.method() === 'GET' && /\/api\/v1\/.*\/(messages|questions)(\?|$)/.test(request.url())) reads += 1;
    });

    // A fan on the event's page, and another through the API: both show up live.
    const fanPage = await newPage(browser);
    await fanPage.goto(`${server.url}/events/${event.id}`);
    await fanPage.fill('input[name=display_name]', 'Hal');
    await fanPage.click('form.welcome button[type=submit]');
    await fanPage.waitForSelector('.conn-live', { timeout: 15_000 });
    assert.equal(await fanPage.locator('.event-label').textContent(), 'Live');
    await fanPage.fill('.event-composer input', 'hello from the page');
    await fanPage.press('.event-composer input', 'Enter');
    await detail.locator('.event-chat li', { hasText: 'hello from the page' }).waitFor();
    const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Ivy' } });
    await call(server.url, 'POST', `/events/${event.id}/questions`, { token: fan.token, body: { client_msg_id: 'live-q', body: 'Any new songs?' } });
    await detail.locator('.questions li', { hasText: 'Any new songs?' }).waitFor();
    await detail.locator('[data-figure="viewers"]', { hasText: 'Viewers now 1' }).waitFor();

    // The team answers in the console: the fan's page shows it live.
    await detail.locator('.questions li', { hasText: 'Any new songs?' }).locator('button', { hasText: 'Answer' }).click();
    await fanPage.locator('.qa-item', { hasText: 'Any new songs?' }).locator('.qa-state', { hasText: 'Answered' }).waitFor();

    // Slow mode from the console: the figure, and the fan's page, follow.
    await detail.locator('select[name="slow_mode_secs"]').selectOption('10');
    await detail.locator('.slow-mode button', { hasText: 'Set' }).click();
    await detail.locator('[data-figure="slow"]', { hasText: 'slow mode 10 s' }).waitFor();
    await fanPage.locator('.chat-rules', { hasText: 'Slow mode: one message every 10 s.' }).waitFor();
    assert.equal(reads, 0, 'the moderation view read nothing over REST while it followed the event');
    assert.deepEqual(page.problems, []);
    assert.deepEqual(fanPage.problems, []);
    await fanPage.close();
    await page.close();
  });
});
