// Accessibility basics of the console and the fan page in headless Chromium: text
// contrast of at least 4.5:1 (muted text, chips, timers), a late timer that pulses without
// fading its text, the Reply / Internal toggle announcing its state with aria-pressed, the
// canned picker's option announced with aria-activedescendant, and on every page exactly
// one h1 and landmarks that have names.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, consoleLogin, createTeam, fanSend, fanStart, launchBrowser, newPage, startServer } from './harness.mjs';

const AGENT = { email: 'ada@example.com', name: 'Ada Agent', role: 'agent', password: 'agent-password-1' };
const SUPERVISOR = { email: 'sid@example.com', name: 'Sid Supervisor', role: 'supervisor', password: 'super-password-1' };

let server;
let browser;

before(async () => {
  server = await startServer();
  const team = await createTeam(server.url, { agent: AGENT, supervisor: SUPERVISOR });
  for (const [shortcut, title] of [['thanks', 'Thank you'], ['track', 'Tracking link']]) {
    await call(server.url, 'POST', '/canned-responses', {
      token: team.ownerToken, body: { shortcut, title, body: `${title}, {{ fan.first_name | default: "there" }}!\nAnything else?` },
    });
  }
  const session = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Cleo Contrast' } });
  const { id } = await call(server.url, 'POST', '/conversations', { token: session.token, body: {} });
  await call(server.url, 'POST', `/conversations/${id}/messages`, {
    token: session.token, body: { client_msg_id: 'a11y-1', body: 'Can you read this?' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * For each element matching `selectors` (first few of each), its text colour against the
 * first opaque background behind it, as a WCAG contrast ratio.
 */
function contrasts(page, selectors) {
  return page.evaluate((list) => {
    const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (value) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element) => {
      for (let node = element; node; node = node.parentElement) {
        const colour = rgb(getComputedStyle(node).backgroundColor);
        if (colour.length === 3 || colour[3] === 1) return colour.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const found = [];
    for (const selector of list) {
      for (const element of [...document.querySelectorAll(selector)].slice(0, 5)) {
        if (!element.textContent.trim() || element.getClientRects().length === 0) continue;
        const fore = luminance(rgb(getComputedStyle(element).color));
        const back = luminance(background(element));
        const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
        found.push({ selector, text: element.textContent.trim().slice(0, 30), ratio: Math.round(ratio * 100) / 100 });
      }
    }
    return found;
  }, selectors);
}

function assertReadable(found, minimum = 4.5) {
  assert.ok(found.length > 0, 'something was measured');
  const poor = found.filter((item) => item.ratio < minimum);
  assert.deepEqual(poor, [], `contrast under ${minimum}:1`);
}

/** One h1, and every nav / aside / header landmark named, navs by different names. */
async function assertStructure(page, where) {
  const shape = await page.evaluate(() => {
    const named = (element) => Boolean(element.getAttribute('aria-label') || element.getAttribute('aria-labelledby'));
    const landmarks = [...document.querySelectorAll('nav, aside, body > header')];
    return {
      h1: document.querySelectorAll('h1').length,
      main: document.querySelectorAll('main').length,
      unnamed: landmarks.filter((element) => !named(element)).map((element) => element.outerHTML.slice(0, 60)),
      navs: [...document.querySelectorAll('nav')].map((element) => element.getAttribute('aria-label')),
    };
  });
  assert.equal(shape.h1, 1, `${where}: one h1`);
  assert.equal(shape.main, 1, `${where}: one main`);
  assert.deepEqual(shape.unnamed, [], `${where}: unnamed landmarks`);
  assert.equal(new Set(shape.navs).size, shape.navs.length, `${where}: navigation names differ`);
}

describe('accessibility basics', () => {
  test('the login page, the inbox and the dashboard: one h1, named landmarks, readable text', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/`);
    await page.locator('form.login').waitFor();
    await assertStructure(page, 'login');
    assertReadable(await contrasts(page, ['.login label', '.login .muted']));

    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    const item = page.locator('.conv-item', { hasText: 'Cleo Contrast' });
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    await page.locator('.conv-header h2', { hasText: 'Cleo Contrast' }).waitFor();
    await assertStructure(page, 'inbox');
    assertReadable(await contrasts(page, ['.conv-item .timer', '.chip', '.count', '.msg-fan .msg-meta', '.conv-chips .muted', '.composer-hint']));
    assert.equal(await page.locator('h1').textContent(), 'Inbox');

    // The Reply / Internal toggle says which one is on.
    const reply = page.locator('.conv-pane .composer-modes .mode', { hasText: 'Reply' });
    const internal = page.locator('.conv-pane .composer-modes .mode', { hasText: 'Internal note' });
    assert.equal(await reply.getAttribute('aria-pressed'), 'true');
    assert.equal(await internal.getAttribute('aria-pressed'), 'false');
    await internal.click();
    assert.equal(await reply.getAttribute('aria-pressed'), 'false');
    assert.equal(await internal.getAttribute('aria-pressed'), 'true');
    assertReadable(await contrasts(page, ['.composer-modes .mode', '.composer-hint']));

    // The canned picker: the textarea keeps the focus and names the highlighted option.
    const input = page.locator('.conv-pane .composer-input');
    await reply.click();
    await input.click();
    await input.pressSequentially('/t');
    await page.locator('.picker-item', { hasText: 'Thank you' }).waitFor();
    const active = () => input.getAttribute('aria-activedescendant');
    const selectedId = () => page.locator('.picker-item.selected').getAttribute('id');
    assert.equal(await input.getAttribute('aria-controls'), await page.locator('.picker').getAttribute('id'));
    assert.ok(await active(), 'an option is active');
    assert.equal(await active(), await selectedId());
    const first = await active();
    await input.press('ArrowDown');
    assert.notEqual(await active(), first);
    assert.equal(await active(), await selectedId());
    assert.equal(await page.locator(`#${await active()}`).getAttribute('role'), 'option');
    await input.press('Escape');
    assert.equal(await active(), null);
    assert.deepEqual(page.problems, []);
    await page.context().close();

    const supervisor = await newPage(browser);
    await consoleLogin(supervisor, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await supervisor.locator('.panel-waiting .waiting-item').first().waitFor({ timeout: 20_000 });
    await assertStructure(supervisor, 'dashboard');
    assert.equal(await supervisor.locator('h1').textContent(), 'Dashboard');
    assertReadable(await contrasts(supervisor, ['.kpi-label', '.panel-waiting .timer', '.chip', '.waiting-item .muted', '.agents th', '.agent-role']));
    assert.deepEqual(supervisor.problems, []);
    await supervisor.context().close();
  });

  test('timer chips keep their contrast in every state, the late pulse included', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/`);
    await page.locator('form.login').waitFor();
    // The chips as the lists draw them, in each state.
    const found = await page.evaluate(() => {
      const holder = document.createElement('div');
      for (const state of ['ok', 'warn', 'late', 'none']) {
        const chip = document.createElement('span');
        chip.className = `timer timer-${state}`;
        chip.textContent = '0:42';
        holder.append(chip);
      }
      document.body.append(holder);
      const pulse = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
        .find((rule) => rule instanceof CSSKeyframesRule && rule.name === 'pulse');
      return { pulse: pulse ? pulse.cssText : null };
    });
    assert.ok(found.pulse, 'the late timer pulses');
    assert.doesNotMatch(found.pulse, /opacity/, 'the pulse does not fade the text');
    assertReadable(await contrasts(page, ['.timer-ok', '.timer-warn', '.timer-late', '.timer-none']));
    await page.context().close();
  });

  test('the fan page: one h1 before and after starting, readable text', async () => {
    const fan = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await fan.goto(`${server.url}/chat`);
    await fan.locator('form.welcome').waitFor();
    await assertStructure(fan, 'fan welcome');
    await fanStart(fan, server.url, 'Fay Fan');
    await fanSend(fan, 'Hello!');
    await assertStructure(fan, 'fan chat');
    assert.ok(await fan.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no horizontal overflow on a phone');
    assertReadable(await contrasts(fan, ['.chat-head p', '.msg-meta', '.chat-notice']));
    assert.deepEqual(fan.problems, []);
    await fan.context().close();
  });
});
