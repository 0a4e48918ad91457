// The inbox's basics against a real server, on a desktop and on a 390×844 phone: search by
// message text (internal notes included) and filters, last-message previews and unread
// counts that the server keeps per member (opening a conversation reads it), the unread
// count in the tab title, the sound and desktop notifications for an assignment and a
// whisper, and the fan directory with a fan's resolved history.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, fanSend, fanStart, inView, launchBrowser, login, newPage, overflowsHorizontally, startServer } from './harness.mjs';

const AGENT = { email: 'ines@example.com', name: 'Ines Agent', role: 'agent', password: 'agent-password-1' };
const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const PHONE = { width: 390, height: 844 };

let server;
let browser;
let team;
let sent = 0;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, supervisor: SUPERVISOR });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fan (through the API) who opened a conversation and wrote `text`. */
async function fanWrites(name, text) {
  const session = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: name } });
  const { id } = await call(server.url, 'POST', '/conversations', { token: session.token, body: {} });
  await say(session.token, id, text);
  return { id, token: session.token, fanId: session.fan.id };
}

async function say(token, conversation, text, extra = {}) {
  sent += 1;
  await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
    token, body: { client_msg_id: `inbox-${sent}`, body: text, ...extra },
  });
}

const item = (page, list, name) => page.locator(`ul[aria-label="${list}"] .conv-item`, { hasText: name });

/**
 * A browser context whose page is never focused, where notifications are allowed and
 * recorded in `window.__notes`, and tones are counted in `window.__tones`.
 */
async function notifyingContext() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  await context.grantPermissions(['notifications'], { origin: server.url });
  await context.addInitScript(() => {
    window.__notes = [];
    window.__tones = 0;
    document.hasFocus = () => false;
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, options) { window.__notes.push({ title, body: options?.body }); }
      close() {}
    };
    const Real = window.AudioContext;
    window.AudioContext = class extends Real {
      createOscillator() {
        window.__tones += 1;
        return super.createOscillator();
      }
    };
  });
  return context;
}

describe('inbox basics', () => {
  test('previews, unread counts kept by the server, the tab title and search', async () => {
    const zed = await fanWrites('Zed Parcel', 'My parcel is lost somewhere');
    const yara = await fanWrites('Yara Quiet', 'Hello, a question about tickets');
    await say(team.ownerToken, yara.id, 'refund approved quietly', { visibility: 'internal' });

    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    const zedItem = item(page, 'Queue', 'Zed Parcel');
    await zedItem.locator('.ci-preview', { hasText: 'My parcel is lost somewhere' }).waitFor({ timeout: 20_000 });
    assert.equal(await zedItem.locator('.unread-badge').textContent(), '1');
    const yaraItem = item(page, 'Queue', 'Yara Quiet');
    await yaraItem.locator('.ci-preview', { hasText: 'Note · ' }).waitFor();
    assert.match(await yaraItem.locator('.ci-preview').textContent(), /refund approved quietly/);
    assert.equal(await yaraItem.locator('.unread-badge').textContent(), '2');
    await page.waitForFunction(() => /^\(3\) /.test(document.title));

    // Opening reads it: the badge goes, the title counts the rest, and it stays read.
    await zedItem.click();
    await page.locator('.conv-header h2', { hasText: 'Zed Parcel' }).waitFor();
    await page.waitForFunction(() => /^\(2\) /.test(document.title));
    const agentToken = await login(server.url, AGENT.email, AGENT.password);
    await page.waitForFunction(async ({ id, token }) => {
      const response = await fetch(`/api/v1/inbox/summaries?ids=${id}`, { headers: { Authorization: `Bearer ${token}` } });
      return (await response.json()).summaries[0].unread === 0;
    }, { id: zed.id, token: agentToken });
    await page.reload();
    await page.waitForSelector('.conn-live');
    await item(page, 'Queue', 'Zed Parcel').locator('.ci-preview').waitFor({ timeout: 20_000 });
    assert.equal(await item(page, 'Queue', 'Zed Parcel').locator('.unread-badge').count(), 0);

    // A new fan message on another conversation: unread again, live.
    await say(yara.token, yara.id, 'Are you there?');
    await item(page, 'Queue', 'Yara Quiet').locator('.ci-preview', { hasText: 'Are you there?' }).waitFor({ timeout: 15_000 });
    assert.equal(await item(page, 'Queue', 'Yara Quiet').locator('.unread-badge').textContent(), '3');

    // Search: an internal note's text finds its conversation; filters narrow it.
    await page.fill('#inbox-search-q', 'REFUND approved');
    await page.locator('.inbox-search button[type=submit]').click();
    const results = page.locator('ul[aria-label="Search results"] .conv-item');
    await page.locator('.search-summary', { hasText: '1 conversation found.' }).waitFor();
    assert.match(await results.first().textContent(), /Yara Quiet/);
    await page.locator('.search-more summary').click();
    await page.selectOption('select[name=status]', 'resolved');
    await page.locator('.inbox-search button[type=submit]').click();
    await page.locator('.search-summary', { hasText: 'No conversation matches.' }).waitFor();
    await page.selectOption('select[name=status]', '');
    await page.fill('#inbox-search-q', '');
    await page.fill('input[name=fan_name]', 'zed');
    await page.locator('.inbox-search button[type=submit]').click();
    await page.locator('.search-summary', { hasText: '1 conversation found.' }).waitFor();
    await results.first().click();
    await page.locator('.conv-header h2', { hasText: 'Zed Parcel' }).waitFor();
    await page.locator('.inbox-search button', { hasText: 'Clear' }).click();
    assert.equal(await results.count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('an assignment and a whisper notify: tone, desktop notification, title', async () => {
    const { id } = await fanWrites('Nora Notify', 'Anyone?');
    const context = await notifyingContext();
    const page = await context.newPage();
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    await item(page, 'Queue', 'Nora Notify').waitFor({ timeout: 20_000 });
    const sound = page.locator('.notify-sound');
    assert.equal(await sound.getAttribute('aria-pressed'), 'false');
    await sound.click();
    assert.equal(await sound.getAttribute('aria-pressed'), 'true');
    const tonesBefore = await page.evaluate(() => window.__tones);
    assert.ok(tonesBefore > 0, 'switching the sound on plays it once');
    assert.equal(await page.locator('.notify-desktop').textContent(), 'Desktop alerts on');

    const supervisorToken = await login(server.url, SUPERVISOR.email, SUPERVISOR.password);
    await call(server.url, 'POST', `/conversations/${id}/assign`, { token: supervisorToken, body: { member_id: team.agent.id } });
    await page.waitForFunction(() => window.__notes.some((note) => note.title === 'New conversation assigned to you'), null, { timeout: 15_000 });
    assert.ok((await page.evaluate(() => window.__tones)) > tonesBefore, 'a tone for the assignment');
    await item(page, 'My conversations', 'Nora Notify').waitFor();
    await say(supervisorToken, id, 'Offer the voucher', { visibility: 'internal', to: team.agent.id });
    await page.waitForFunction(() => window.__notes.some((note) => note.title === 'Whisper from Sam Supervisor' && note.body === 'Offer the voucher'), null, { timeout: 15_000 });
    // The sound switch is remembered in this browser.
    await page.reload();
    await page.waitForSelector('.conn-live');
    assert.equal(await page.locator('.notify-sound').getAttribute('aria-pressed'), 'true');
    await context.close();
  });

  test('a supervisor is notified of a new alert', async () => {
    await call(server.url, 'POST', '/keyword-rules', { token: team.ownerToken, body: { name: 'money back', patterns: ['chargeback'] } });
    const context = await notifyingContext();
    const page = await context.newPage();
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await page.evaluate(() => { location.hash = '#/dashboard'; });
    await page.locator('.panel-alerts').waitFor();
    await fanWrites('Cora Chargeback', 'I will file a chargeback today');
    await page.waitForFunction(() => window.__notes.some((note) => note.title === 'New alert: keyword' && /chargeback/.test(note.body)), null, { timeout: 15_000 });
    await context.close();
  });

  test('the fan directory finds a fan by name or tag and lists their resolved history', async () => {
    const first = await fanWrites('Dora Directory', 'First visit');
    await call(server.url, 'POST', `/conversations/${first.id}/resolve`, { token: team.ownerToken });
    const { id: second } = await call(server.url, 'POST', '/conversations', { token: first.token, body: {} });
    await say(first.token, second, 'Back again');
    await call(server.url, 'PATCH', `/fans/${first.fanId}`, { token: team.ownerToken, body: { tags: ['vip'] } });

    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await page.locator('nav.views a', { hasText: 'Fans' }).click();
    await page.locator('h1', { hasText: 'Fans' }).waitFor();
    await page.fill('#fans-q', 'dora');
    await page.locator('.fans-search button[type=submit]').click();
    const fan = page.locator('.fan-item', { hasText: 'Dora Directory' });
    await page.locator('.fans-directory [role=status]', { hasText: 'Fans 1–1.' }).waitFor();
    await fan.waitFor();
    assert.equal(await page.locator('.fan-item').count(), 1);
    assert.match(await fan.textContent(), /2 conversations/);
    await page.fill('#fans-q', '');
    await page.fill('#fans-tag', 'VIP');
    await page.locator('.fans-search button[type=submit]').click();
    await page.locator('.fans-directory [role=status]', { hasText: 'Fans 1–1' }).waitFor();
    await fan.click();
    const history = page.locator('.history-list .conv-item');
    await page.locator('.fan-history', { hasText: '2 in all, 1 resolved.' }).waitFor();
    assert.equal(await history.count(), 2);
    await history.filter({ hasText: 'resolved' }).locator('.ci-preview', { hasText: 'First visit' }).waitFor();
    await history.filter({ hasText: 'resolved' }).click();
    await page.locator('.conv-header h2', { hasText: 'Dora Directory' }).waitFor();
    assert.match(page.url(), new RegExp(`#/inbox/${first.id}$`));
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('on a 390×844 phone: inbox, conversation, dashboard, fans and fan chat fit, actions in view', async () => {
    await fanWrites('Pip Phone', 'Typing from my phone');
    const page = await newPage(browser, { viewport: PHONE });
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    const pip = item(page, 'Queue', 'Pip Phone');
    await pip.waitFor({ timeout: 20_000 });
    assert.equal(await overflowsHorizontally(page), false, 'inbox: no horizontal overflow');
    assert.ok(await inView(page.locator('.inbox-search button[type=submit]')), 'inbox: Search in view');
    await pip.click();
    await page.locator('.conv-header h2', { hasText: 'Pip Phone' }).waitFor();
    assert.equal(await overflowsHorizontally(page), false, 'conversation: no horizontal overflow');
    const input = page.locator('.conv-pane .composer-input');
    const resolve = page.locator('.conv-actions button', { hasText: 'Resolve' });
    assert.ok(await inView(input), 'conversation: the composer in view');
    assert.ok(await inView(resolve), 'conversation: Resolve in view');
    await input.fill('Hello from a phone');
    await input.press('Enter');
    await page.locator('.msg-mine .msg-body', { hasText: 'Hello from a phone' }).waitFor();
    assert.ok(await inView(page.locator('.conv-pane .composer button.primary')), 'conversation: Send in view');
    assert.equal(await overflowsHorizontally(page), false, 'conversation: no horizontal overflow after a reply');
    await page.evaluate(() => { location.hash = '#/fans'; });
    await page.locator('.fan-item').first().waitFor();
    assert.equal(await overflowsHorizontally(page), false, 'fans: no horizontal overflow');
    await page.context().close();

    const supervisor = await newPage(browser, { viewport: PHONE });
    await consoleLogin(supervisor, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await supervisor.evaluate(() => { location.hash = '#/dashboard'; });
    await supervisor.locator('.panel-waiting').waitFor();
    assert.equal(await overflowsHorizontally(supervisor), false, 'dashboard: no horizontal overflow');
    assert.ok(await inView(supervisor.locator('nav.views')), 'dashboard: the views in view');
    await supervisor.context().close();

    const fan = await newPage(browser, { viewport: PHONE });
    await fanStart(fan, server.url, 'Phoebe Phone');
    await fanSend(fan, 'Hi from the fan page');
    assert.equal(await overflowsHorizontally(fan), false, 'fan chat: no horizontal overflow');
    assert.ok(await inView(fan.locator('.chat-composer textarea')), 'fan chat: the composer in view');
    assert.ok(await inView(fan.locator('.chat-composer button[type=submit], .chat-composer button').first()), 'fan chat: Send in view');
    assert.deepEqual(fan.problems, []);
    await fan.context().close();
  });
});
