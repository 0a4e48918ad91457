// Team channels and the decision log in headless Chromium against a real server (README ›
// Team channels and the decision log): the owner creates a channel from the form, talks
// in it, answers a message in a thread, sees an agent's message arrive live and another
// channel's unread count, posts a DECISION: with the composer's hint, and finds it in the
// decision log, marks an action done there, and the export links carry the filters.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, {
    agent: { email: 'ana@example.com', name: 'Ana Silva', role: 'agent', password: 'agent-password-1' },
  });
  team.agentToken = (await call(server.url, 'POST', '/auth/login', { body: { email: 'ana@example.com', password: 'agent-password-1' } })).token;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('channels screen', () => {
  test('a channel conversation with a thread and a decision that shows in the decision log', async () => {
    const side = await call(server.url, 'POST', '/channels', { token: team.ownerToken, body: { name: 'vip', purpose: 'Our top fans' } });
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Channels' }).click();

    // Create a channel from the form: it opens with its purpose and pinned guideline.
    const form = page.locator('.channel-form');
    await form.locator('input[name="name"]').fill('ops');
    await form.locator('input[name="purpose"]').fill('Running the floor');
    await form.locator('textarea[name="guideline"]').fill('Decisions start with DECISION:');
    await form.locator('button[type="submit"]').click();
    const view = page.locator('.channel-view');
    await view.locator('h2', { hasText: '# ops' }).waitFor();
    await view.locator('.guideline', { hasText: 'Decisions start with DECISION:' }).waitFor();
    const channels = (await call(server.url, 'GET', '/channels', { token: team.ownerToken })).channels;
    const ops = channels.find((channel) => channel.name === 'ops');

    // Talk; an agent's message arrives live; another channel counts as unread.
    const composer = view.locator('.channel-composer').first();
    await composer.locator('textarea').fill('Which venue for the meet-up?');
    await composer.locator('button[type="submit"]').click();
    const root = view.locator('.channel-message', { hasText: 'Which venue for the meet-up?' });
    await root.waitFor();
    await call(server.url, 'POST', `/channels/${ops.id}/messages`, { token: team.agentToken, body: { client_msg_id: 'a1', body: 'I can call them' } });
    await view.locator('.channel-message', { hasText: 'I can call them' }).waitFor();
    await call(server.url, 'POST', `/channels/${side.id}/messages`, { token: team.agentToken, body: { client_msg_id: 'a2', body: 'New VIP today' } });
    await page.locator('.views a', { hasText: 'Decisions' }).click();
    await page.locator('.views a', { hasText: 'Channels' }).click();
    await page.locator('.channel-link[data-channel="vip"] .badge', { hasText: '1' }).waitFor();
    await page.locator('.channel-link[data-channel="ops"]').click();

    // A thread on the first message, then its summary back in the channel.
    await root.locator('button', { hasText: 'Reply in thread' }).click();
    const thread = page.locator('.channel-thread');
    await thread.locator('textarea[aria-label="Reply"]').fill('The hall on Main Street');
    await thread.locator('button', { hasText: 'Reply' }).click();
    await thread.locator('.channel-message', { hasText: 'The hall on Main Street' }).waitFor();
    await root.locator('button', { hasText: '1 reply' }).waitFor();

    // The composer says what a prefix will log; the decision is tagged.
    const text = view.locator('.channel-composer textarea').first();
    await text.fill('DECISION: the meet-up is at the hall');
    await view.locator('.tag-hint', { hasText: 'Logged as a decision' }).waitFor();
    await view.locator('.channel-composer button[type="submit"]').first().click();
    await view.locator('.channel-message', { hasText: 'the meet-up is at the hall' }).locator('.chip-decision').waitFor();
    await text.fill('ACTION(@Ana Silva): book the hall');
    await view.locator('.tag-hint', { hasText: 'owned by Ana Silva' }).waitFor();
    await view.locator('.channel-composer button[type="submit"]').first().click();
    await view.locator('.channel-message', { hasText: 'book the hall' }).locator('.chip-action').waitFor();
    await screenshot(page, 'channels-thread');

    // The decision log lists both; the action is marked done; exports carry the filters.
    await page.locator('.views a', { hasText: 'Decisions' }).click();
    const rows = page.locator('.decision-table tbody tr');
    await rows.filter({ hasText: 'the meet-up is at the hall' }).waitFor();
    const action = rows.filter({ hasText: 'book the hall' });
    assert.match(await action.textContent(), /Ana Silva/);
    await action.locator('button', { hasText: 'Mark done' }).click();
    await page.locator('.decision-table tbody tr[data-status="done"]', { hasText: 'book the hall' }).waitFor();
    await page.locator('.decision-filters select[name="kind"]').selectOption('decision');
    await page.locator('.decision-table tbody tr[data-kind="decision"]').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.decision-table tbody tr[data-kind="action"]').length === 0);
    const href = await page.locator('.decision-filters a[data-format="csv"]').getAttribute('href');
    assert.match(href, /format=csv/);
    assert.match(href, /kind=decision/);
    const log = await call(server.url, 'GET', '/decisions?kind=action', { token: team.ownerToken });
    assert.equal(log.items[0].status, 'done');
    await screenshot(page, 'decision-log');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
