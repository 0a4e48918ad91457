// End-to-end tests of the console and the fan page in headless Chromium (README › Web
// console): live delivery agent ↔ fan, the canned first-line rule, whispers that never
// reach the fan (DOM and raw WebSocket frames), history after a reload, resume after a
// server restart, XSS payloads rendered as text, automated replies labelled, and the
// security headers and CSRF rule. Screenshots land in tests/browser/artifacts/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, fanSend, fanStart, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const BOT = { email: 'bot@example.com', name: 'Greeter Bot', role: 'bot', password: 'bot-password-123' };

let server;
let browser;
let team;
let canned = null;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { agent: AGENT, supervisor: SUPERVISOR, bot: BOT });
  const paths = Object.keys((await call(server.url, 'GET', '/openapi.json')).paths);
  if (paths.includes('/api/v1/canned-responses/{id}/render')) {
    canned = await call(server.url, 'POST', '/canned-responses', {
      token: team.ownerToken,
      body: { shortcut: 'hello', title: 'Warm greeting', body: 'Hi {{ fan.first_name | default: "there" }}! Thanks for writing.\nHow can I help you today?' },
    });
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The conversation id the fan page keeps in localStorage. */
const fanConversation = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('fandesk.fan')).conversation_id);

/** Opens a conversation in the agent's inbox by the fan's name. */
async function openFromList(page, name) {
  const item = page.locator('.conv-item', { hasText: name });
  await item.first().waitFor({ timeout: 20_000 });
  await item.first().click();
  await page.locator('.conv-header h2', { hasText: name }).waitFor();
}

describe('console', () => {
  test('an agent gets a fan message live, is held to the canned first-line rule, and the fan sees the reply', async () => {
    const fan = await newPage(browser, { viewport: { width: 820, height: 900 } });
    const fanFrames = [];
    fan.on('websocket', (socket) => socket.on('framereceived', (frame) => fanFrames.push(String(frame.payload))));
    await fanStart(fan, server.url, 'Ann Example');
    await fanSend(fan, 'Hi! Is the merch drop still on Friday?');

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await openFromList(agent, 'Ann Example');
    await agent.locator('.msg-fan .msg-body', { hasText: 'merch drop' }).waitFor();
    // The queue timer runs against the 60 s / 30 s targets.
    assert.match(await agent.locator('.conv-item.selected .timer').getAttribute('class'), /timer-(ok|warn|late)/);

    // Live, without any reload: the fan writes again.
    await fanSend(fan, 'Also, do you ship to Canada?');
    await agent.locator('.msg-fan .msg-body', { hasText: 'ship to Canada' }).waitFor({ timeout: 10_000 });

    // Typing: the fan's draft shows on the agent's screen as "… is typing"; the agent's
    // own typing is team-only and never reaches the fan's socket.
    await fan.locator('.chat-composer textarea').pressSequentially('One more thing', { delay: 20 });
    await agent.locator('.conv-presence', { hasText: 'Ann Example is typing' }).waitFor({ timeout: 10_000 });
    await fan.locator('.chat-composer textarea').fill('');

    const input = agent.locator('.composer-input');
    await input.pressSequentially('Let me check', { delay: 20 });
    await input.fill('');
    if (canned) {
      await input.click();
      await input.pressSequentially('/hel');
      await agent.locator('.picker-item', { hasText: 'Warm greeting' }).waitFor();
      await input.press('Enter');
      await agent.locator('.composer-mirror mark.first-line', { hasText: 'Hi Ann! Thanks for writing.' }).waitFor();
      assert.match(await input.inputValue(), /^Hi Ann! Thanks for writing\.\nHow can I help you today\?$/);
      await input.press('Enter');
      const error = agent.locator('.composer-error');
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /first line/i);
      // Refused: the draft is back, still highlighted, and nothing reached the fan.
      assert.match(await input.inputValue(), /^Hi Ann! Thanks for writing\./);
      await agent.locator('.composer-mirror mark.first-line').waitFor();
      // Personalise the first line: the highlight goes, and the server takes it.
      await input.press('Home');
      await input.press('Shift+End');
      await input.pressSequentially('Hi Ann, yes: Friday at 6 pm!');
      assert.equal(await agent.locator('.composer-mirror mark').count(), 0);
      await input.press('Enter');
    } else {
      await input.fill('Hi Ann, yes: Friday at 6 pm!');
      await input.press('Enter');
    }
    await agent.locator('.msg-teamside .msg-body', { hasText: 'Friday at 6 pm' }).waitFor();
    await fan.locator('.msg-teamside .msg-body', { hasText: 'Hi Ann, yes: Friday at 6 pm!' }).waitFor({ timeout: 10_000 });
    assert.equal(await fan.locator('.msg-body', { hasText: 'Thanks for writing' }).count(), 0);
    assert.ok(fanFrames.some((frame) => frame.includes('Friday at 6 pm')), 'the fan page received frames');
    assert.deepEqual(fanFrames.filter((frame) => frame.includes('"typing"') || frame.includes('"presence"')), []);
    // The reply claimed the conversation: it is now the agent's.
    await agent.locator('.conv-chips', { hasText: 'assigned to Ana Agent' }).waitFor();
    await screenshot(agent, 'inbox');
    await screenshot(fan, 'fan-page');
    assert.deepEqual(agent.problems, []);
    assert.deepEqual(fan.problems, []);
    await agent.context().close();
    await fan.context().close();
  });

  test('a supervisor whispers from the dashboard; the agent sees it inline, the fan never does', async () => {
    const fan = await newPage(browser, { viewport: { width: 820, height: 900 } });
    const frames = [];
    fan.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await fanStart(fan, server.url, 'Whisper Fan');
    await fanSend(fan, 'Hello, I have a question about my order');
    const conversation = await fanConversation(fan);
    const agentToken = await login(server.url, AGENT.email, AGENT.password);
    await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
      token: agentToken, body: { client_msg_id: 'w-1', body: 'Sure, which order?' },
    });
    await fan.locator('.msg-body', { hasText: 'which order?' }).waitFor();
    await fanSend(fan, 'The one from last week, it never arrived');

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await openFromList(agent, 'Whisper Fan');

    const supervisor = await newPage(browser);
    await consoleLogin(supervisor, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await supervisor.locator('.panel-waiting .waiting-item', { hasText: 'Whisper Fan' }).waitFor({ timeout: 20_000 });
    await supervisor.locator('.panel-waiting .waiting-item', { hasText: 'Whisper Fan' }).getByRole('button', { name: 'Whisper' }).click();
    const composer = supervisor.locator('.panel-monitor .composer-input');
    await supervisor.locator('.panel-monitor .mode.active', { hasText: 'Whisper to Ana Agent' }).waitFor();
    const secret = 'WHISPER-7f3a: offer the express reshipment';
    await composer.fill(secret);
    // The agent sees the supervisor typing (team-only, like the whisper itself).
    await agent.locator('.conv-presence', { hasText: 'Sam Supervisor is typing' }).waitFor({ timeout: 5_000 });
    await composer.press('Enter');
    await supervisor.locator('.panel-monitor .msg-internal .msg-body', { hasText: secret }).waitFor();

    // The agent is told who else is here (collision view), then sees the whisper inline,
    // marked internal and addressed.
    await agent.locator('.conv-presence', { hasText: 'Sam Supervisor is monitoring' }).waitFor({ timeout: 10_000 });
    const inline = agent.locator('.msg-internal', { hasText: secret });
    await inline.waitFor({ timeout: 10_000 });
    assert.match(await inline.locator('.badge-internal').textContent(), /Whisper to Ana Agent/);

    // A public reply after the whisper reaches the fan, so the fan's socket was live.
    await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
      token: agentToken, body: { client_msg_id: 'w-2', body: 'We are reshipping it today.' },
    });
    await fan.locator('.msg-body', { hasText: 'reshipping it today' }).waitFor();
    assert.ok(frames.some((frame) => frame.includes('reshipping it today')), 'the fan page received frames');
    assert.equal(await fan.locator('body', { hasText: 'WHISPER-7f3a' }).count(), 0);
    assert.ok(!(await fan.content()).includes('WHISPER-7f3a'));
    assert.deepEqual(frames.filter((frame) => frame.includes('WHISPER-7f3a') || frame.includes('"internal"') || frame.includes('"typing"')), []);
    // The fan's sequence is dense: no gap reveals the whisper.
    const seqs = frames.map((frame) => JSON.parse(frame)).filter((frame) => frame.type === 'event' && typeof frame.seq === 'number').map((frame) => frame.seq);
    assert.deepEqual(seqs, seqs.map((_, index) => seqs[0] + index));

    await supervisor.getByRole('button', { name: 'Close' }).click();
    await supervisor.waitForTimeout(500);
    await screenshot(supervisor, 'dashboard');
    for (const page of [agent, supervisor, fan]) assert.deepEqual(page.problems, []);
    await Promise.all([agent, supervisor, fan].map((page) => page.context().close()));
  });

  test('a reload restores the fan’s conversation and history; automated replies are labelled', async () => {
    const fan = await newPage(browser, { viewport: { width: 820, height: 900 } });
    await fanStart(fan, server.url, 'Reload Fan');
    await fanSend(fan, 'first message');
    const conversation = await fanConversation(fan);
    const botToken = await login(server.url, BOT.email, BOT.password);
    await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
      token: botToken, body: { client_msg_id: 'b-1', body: 'Hi! A human will be with you shortly.' },
    });
    const automated = fan.locator('.msg-automated', { hasText: 'A human will be with you shortly' });
    await automated.waitFor();
    assert.equal(await automated.locator('.badge-auto').textContent(), 'Automated');
    await fanSend(fan, 'second message');
    const before = await fan.locator('.timeline-list > li').allTextContents();

    await fan.reload();
    await fan.locator('.msg-body', { hasText: 'second message' }).waitFor();
    await fan.waitForSelector('.conn-live');
    assert.equal(await fanConversation(fan), conversation);
    assert.deepEqual(await fan.locator('.timeline-list > li').allTextContents(), before);
    assert.equal(await fan.locator('.msg-automated .badge-auto').count(), 1);
    await fan.context().close();
  });

  test('after a server restart the console resumes: nothing lost, nothing twice', async () => {
    const fanSession = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Resume Fan' } });
    const { id } = await call(server.url, 'POST', '/conversations', { token: fanSession.token, body: {} });
    const say = (key, text) => call(server.url, 'POST', `/conversations/${id}/messages`, { token: fanSession.token, body: { client_msg_id: key, body: text } });
    await say('r-1', 'before the restart');

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await openFromList(agent, 'Resume Fan');
    await agent.locator('.msg-body', { hasText: 'before the restart' }).waitFor();

    server = await server.restart();
    await say('r-2', 'after the restart, one');
    await say('r-3', 'after the restart, two');
    await agent.locator('.conn-live').waitFor({ timeout: 30_000 });
    await agent.locator('.msg-body', { hasText: 'after the restart, two' }).waitFor({ timeout: 15_000 });
    const bodies = await agent.locator('.msg-fan .msg-body').allTextContents();
    assert.deepEqual(bodies, ['before the restart', 'after the restart, one', 'after the restart, two']);
    assert.deepEqual(agent.problems.filter((problem) => !/WebSocket/.test(problem)), []);
    await agent.context().close();
  });

  test('XSS payloads in a fan name and message render as text', async () => {
    const payloadName = '<img src=x onerror="window.__xss=1">Eve';
    const payloadBody = '<script>window.__xss=2</script><b>bold?</b> <img src=x onerror="window.__xss=3">';
    const fan = await newPage(browser, { viewport: { width: 820, height: 900 } });
    await fanStart(fan, server.url, payloadName);
    await fanSend(fan, payloadBody);
    assert.equal(await fan.locator('.fan-self').textContent(), payloadName);

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await agent.evaluate(() => { location.hash = '#/inbox'; });
    await openFromList(agent, 'Eve');
    const body = agent.locator('.msg-fan .msg-body').last();
    await body.waitFor();
    assert.equal(await body.textContent(), payloadBody);
    assert.equal(await agent.locator('.conv-header h2').textContent(), payloadName);
    for (const page of [agent, fan]) {
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('main img, main script, main b').count(), 0);
    }
    await Promise.all([agent, fan].map((page) => page.context().close()));
  });
});

describe('serving and sessions', () => {
  test('pages carry a strict CSP and nosniff; assets have their types', async () => {
    for (const [path, type] of [['/', 'text/html'], ['/chat', 'text/html'], ['/console/app.css', 'text/css'], ['/console/js/app.js', 'text/javascript']]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.ok(response.headers.get('content-type').startsWith(type), path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      const policy = response.headers.get('content-security-policy');
      assert.match(policy, /default-src 'self'/);
      assert.match(policy, /script-src 'self';/);
      assert.match(policy, new RegExp(`connect-src 'self' ws://${server.url.slice(7)} wss://`));
      assert.ok(!policy.includes('unsafe'), policy);
    }
    assert.equal((await fetch(`${server.url}/console/nope.js`)).status, 404);
  });

  test('the session cookie is HttpOnly and SameSite=Strict, and cross-site writes are refused', async () => {
    const host = server.url.slice(7);
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: server.url },
      body: JSON.stringify({ email: OWNER.email, password: OWNER.password, cookie: true }),
    });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.ok(body.token && body.member, 'the JSON answer is unchanged');
    const setCookie = response.headers.get('set-cookie');
    assert.match(setCookie, /^fandesk_session=fdk_[0-9a-f]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    const cookie = setCookie.split(';')[0];
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: cookie } });
    assert.equal(me.status, 200);
    const write = (headers) => fetch(`${server.url}/api/v1/keyword-rules`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie, ...headers },
      body: JSON.stringify({ name: `r${Math.random().toString(36).slice(2, 8)}`, patterns: ['zzz'] }),
    });
    assert.equal((await write({ Origin: 'http://evil.example' })).status, 403);
    assert.equal((await write({})).status, 403);
    assert.equal((await write({ Origin: `http://${host}` })).status, 201);
    assert.equal((await write({ 'X-Requested-With': 'fandesk' })).status, 201);
    // A cross-site page cannot ask for the cookie either.
    const crossLogin = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: JSON.stringify({ email: OWNER.email, password: OWNER.password, cookie: true }),
    });
    assert.equal(crossLogin.status, 403);
    const logout = await fetch(`${server.url}/api/v1/auth/logout`, { method: 'POST', headers: { Cookie: cookie, Origin: server.url } });
    assert.equal(logout.status, 204);
    assert.match(logout.headers.get('set-cookie'), /fandesk_session=; .*Max-Age=0/);
    assert.equal((await fetch(`${server.url}/api/v1/me`, { headers: { Cookie: cookie } })).status, 401);
  });
});
