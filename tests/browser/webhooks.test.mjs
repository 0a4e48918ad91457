// The webhooks screen in headless Chromium against a real server (README › Web console;
// docs/api.md › Webhooks), with a receiver on 127.0.0.1 started here — the server is told
// it may reach it with FANDESK_WEBHOOK_ALLOW_HOSTS, as the SSRF guard refuses loopback
// otherwise. An internal address is refused inline on the URL field; a webhook is added
// with a generated secret shown once; a fan message is delivered signed with it, the
// receiver's first 500 shows in the delivery log as pending and the retry as delivered,
// with the delivery id the receiver saw; deleting the webhook empties the list.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };

let server;
let browser;
let receiver;

/** An HTTP receiver on 127.0.0.1:0 that records every request and answers 500 to the first `failures` of `event`. */
async function startReceiver({ event, failures = 0 } = {}) {
  const received = [];
  let left = failures;
  const http = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body });
      if (left > 0 && request.headers['x-fandesk-event'] === event) {
        left -= 1;
        response.writeHead(500).end('not now');
      } else response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}`,
    received,
    close: () => new Promise((resolve) => http.close(resolve)),
  };
}

before(async () => {
  receiver = await startReceiver({ event: 'message.created', failures: 1 });
  server = await startServer({ env: { FANDESK_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } });
  await createTeam(server.url, { agent: AGENT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
});

async function until(predicate, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhooks screen', () => {
  test('the owner adds a webhook, sees its secret once, follows a delivery through a retry, and deletes it', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Webhooks' }).click();
    await page.locator('.webhooks-list td', { hasText: 'No webhook yet.' }).waitFor();

    // The SSRF guard's refusal is shown on the URL field; nothing is created.
    await page.fill('input[name=url]', 'http://169.254.169.254/latest');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const urlError = page.locator('.webhook-form .field-error').first();
    await urlError.waitFor({ state: 'visible' });
    assert.ok((await urlError.textContent()).length > 0);
    assert.equal(await page.locator('.secret-reveal').isHidden(), true);
    const owner = await call(server.url, 'POST', '/auth/login', { body: OWNER });
    assert.deepEqual((await call(server.url, 'GET', '/webhooks', { token: owner.token })).webhooks, []);

    // No event ticked: refused on the events.
    await page.fill('input[name=url]', `${receiver.url}/hook`);
    await page.uncheck('input[name=events][value="message.created"]');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('.webhook-form .field-error', { hasText: /event/ }).waitFor();

    // Added with a generated secret, shown once.
    await page.check('input[name=events][value="message.created"]');
    await page.check('input[name=events][value="conversation.updated"]');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secretValue = page.locator('.secret-reveal .secret-value');
    await secretValue.waitFor();
    const secret = await secretValue.textContent();
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(await page.locator('.webhook-form .field-error:visible').count(), 0);
    const row = page.locator('.webhook-row', { hasText: `${receiver.url}/hook` });
    await row.waitFor();
    assert.match(await row.textContent(), /conversation\.updated/);
    assert.match(await row.textContent(), /no delivery yet/);
    const [webhook] = (await call(server.url, 'GET', '/webhooks', { token: owner.token })).webhooks;
    assert.deepEqual([...webhook.events].sort(), ['conversation.updated', 'message.created']);
    assert.ok(!JSON.stringify(webhook).includes(secret), 'the API never shows the secret');
    await screenshot(page, 'webhooks-secret');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    assert.equal(await page.locator('.secret-reveal').isHidden(), true);
    assert.ok(!(await page.locator('body').textContent()).includes(secret), 'shown once, then gone');

    // A fan's message is delivered, signed with that secret; the first answer is a 500.
    const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Hook Fan' } });
    const conversation = await call(server.url, 'POST', '/conversations', { token: fan.token });
    await call(server.url, 'POST', `/conversations/${conversation.id}/messages`, {
      token: fan.token, body: { client_msg_id: 'hook-1', body: 'Does the webhook see me?' },
    });
    const isMessage = (request) => request.headers['x-fandesk-event'] === 'message.created';
    await until(() => receiver.received.some(isMessage), 'the first delivery');
    const first = receiver.received.find(isMessage);
    const deliveryId = first.headers['x-fandesk-delivery'];
    const expected = createHmac('sha256', secret).update(`${first.headers['x-fandesk-timestamp']}.${first.body}`).digest('hex');
    assert.equal(first.headers['x-fandesk-signature'], `sha256=${expected}`);
    assert.equal(JSON.parse(first.body).data.message.body, 'Does the webhook see me?');

    // The delivery log: pending after the 500, with its id and one attempt …
    await row.getByRole('button', { name: 'Deliveries' }).click();
    const delivery = page.locator(`.delivery-row[data-id="${deliveryId}"]`);
    await delivery.waitFor();
    await page.locator('.webhooks-log .delivery-id', { hasText: deliveryId }).waitFor();
    assert.equal(await delivery.getAttribute('data-status'), 'pending');
    assert.equal(await delivery.locator('.delivery-attempts').textContent(), '1');
    assert.match(await delivery.locator('.delivery-answer').textContent(), /HTTP 500/);
    await delivery.locator('.next-attempt', { hasText: 'next attempt' }).waitFor();
    await screenshot(page, 'webhooks-pending');
    // … then delivered by the retry (10 s later), the log following on its own.
    await page.locator(`.delivery-row[data-id="${deliveryId}"][data-status="delivered"]`).waitFor({ timeout: 40_000 });
    assert.equal(await delivery.locator('.delivery-attempts').textContent(), '2');
    const retries = receiver.received.filter((request) => request.headers['x-fandesk-delivery'] === deliveryId);
    assert.equal(retries.length, 2, 'the same delivery id on the retry');
    await row.locator('.delivery-delivered').waitFor({ timeout: 10_000 });
    await screenshot(page, 'webhooks-log');

    // Deleted: the list is empty again and the log closes.
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.locator('dialog .primary', { hasText: 'Delete' }).click();
    await page.locator('.webhooks-list td', { hasText: 'No webhook yet.' }).waitFor();
    assert.equal(await page.locator('.webhooks-log').isHidden(), true);
    assert.deepEqual((await call(server.url, 'GET', '/webhooks', { token: owner.token })).webhooks, []);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('only the owner gets the webhooks screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, AGENT.email, AGENT.password);
    assert.equal(await page.locator('.views a', { hasText: 'Webhooks' }).count(), 0);
    await page.goto(`${server.url}/#/webhooks`);
    await page.waitForSelector('.conn-live');
    assert.equal(await page.locator('.webhooks').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
