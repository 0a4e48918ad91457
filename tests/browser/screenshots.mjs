// Takes the README's screenshots (docs/*.png) from a running `fandesk demo`: the agent
// inbox with a canned response inserted, the supervisor dashboard while monitoring, and
// the fan chat page. Run with `npm run screenshots` after building the binary.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { call, launchBrowser, login, newPage, repoRoot, startServer } from './harness.mjs';

const PASSWORD = 'fandesk-demo';
const docs = join(repoRoot, 'docs');
mkdirSync(docs, { recursive: true });

const server = await startServer({ args: ['demo', '--fan-messages-per-minute', '0'] });
const browser = await launchBrowser();
try {
  const signIn = async (email) => {
    const page = await newPage(browser, { viewport: { width: 1440, height: 900 } });
    await page.goto(`${server.url}/`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('.conn-live');
    return page;
  };

  // The fan page: a fan writes, the bot greets (automated), an agent answers.
  const fan = await newPage(browser, { viewport: { width: 900, height: 760 } });
  await fan.goto(`${server.url}/chat`);
  await fan.fill('input[name=display_name]', 'Robin Fairweather');
  await fan.click('form.welcome button[type=submit]');
  await fan.waitForSelector('.conn-live');
  await fan.fill('.chat-composer textarea', 'Hi! Will the tour hoodie come back in size M?');
  await fan.press('.chat-composer textarea', 'Enter');
  await fan.waitForSelector('.msg-mine:not(.msg-pending)');
  const conversation = await fan.evaluate(() => JSON.parse(localStorage.getItem('fandesk.fan')).conversation_id);
  const owner = await login(server.url, 'owner@demo.test', PASSWORD);
  const bot = await call(server.url, 'POST', '/members', { token: owner, body: { email: 'bot@demo.test', name: 'Greeter', role: 'bot', password: PASSWORD } });
  const botToken = await login(server.url, 'bot@demo.test', PASSWORD);
  await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
    token: botToken, body: { client_msg_id: 'shot-bot', body: 'Thanks for your message! A person from the team will answer in a minute.' },
  });
  const ana = await login(server.url, 'ana@demo.test', PASSWORD);
  const anaId = (await call(server.url, 'GET', '/me', { token: ana })).id;
  await call(server.url, 'POST', `/conversations/${conversation}/assign`, { token: owner, body: { member_id: anaId } }).catch(() => {});
  await call(server.url, 'POST', `/conversations/${conversation}/messages`, {
    token: ana, body: { client_msg_id: 'shot-ana', body: 'Hi Robin! Yes — size M is back on Friday at 6 pm CET. Want me to set a reminder for you?' },
  });
  await fan.waitForSelector('text=size M is back');
  await fan.screenshot({ path: join(docs, 'fan-chat.png') });
  void bot;

  // The inbox: Ana's conversation with a canned response inserted, first line highlighted.
  const inbox = await signIn('ana@demo.test');
  await inbox.evaluate((id) => { location.hash = `#/inbox/${id}`; }, conversation);
  await inbox.waitForSelector('.msg-body >> text=size M is back');
  await inbox.waitForTimeout(1500);
  await inbox.click('.composer-input');
  await inbox.keyboard.type('/sh');
  await inbox.waitForSelector('.picker-item');
  await inbox.keyboard.press('Enter');
  await inbox.waitForSelector('.composer-mirror mark.first-line');
  await inbox.keyboard.press('End');
  await inbox.screenshot({ path: join(docs, 'console-inbox.png') });

  // The dashboard, monitoring a waiting fan with the whisper composer open.
  const dashboard = await signIn('sam@demo.test');
  await dashboard.waitForSelector('.panel-waiting .waiting-item');
  await dashboard.waitForTimeout(1500);
  await dashboard.locator('.panel-waiting .waiting-item').first().getByRole('button', { name: 'Whisper' }).click();
  await dashboard.waitForSelector('.panel-monitor .msg');
  await dashboard.fill('.panel-monitor .composer-input', 'This fan is a VIP — offer the express shipping upgrade.');
  await dashboard.waitForTimeout(500);
  await dashboard.screenshot({ path: join(docs, 'console-dashboard.png') });
  console.log('screenshots written to docs/');
} finally {
  await browser.close();
  await server.stop();
}
