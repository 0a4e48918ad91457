// The data screen in headless Chromium against real servers (README › Export and import;
// docs/export.md): the owner downloads the export (notes included), uploads it into
// another server and sees what was inserted and skipped, uploads it again and sees it all
// skipped, and gets the line number of a malformed file; an agent has no data screen.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };
const NOTE = 'Internal: refund approved by Sam';

let source;
let target;
let browser;

before(async () => {
  source = await startServer();
  target = await startServer();
  await createTeam(source.url, { agent: AGENT });
  const fan = await call(source.url, 'POST', '/fan-sessions', { body: { display_name: 'Export Fan' } });
  const conversation = await call(source.url, 'POST', '/conversations', { token: fan.token });
  const agent = await login(source.url, AGENT.email, AGENT.password);
  await call(source.url, 'POST', `/conversations/${conversation.id}/messages`, {
    token: fan.token, body: { client_msg_id: 'd-1', body: 'Can I get a refund?' },
  });
  await call(source.url, 'POST', `/conversations/${conversation.id}/messages`, {
    token: agent, body: { client_msg_id: 'd-2', body: NOTE, visibility: 'internal' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await source?.stop();
  await target?.stop();
});

/** The counts the screen shows after an import, by key. */
async function shownCounts(page) {
  const counts = {};
  for (const cell of await page.locator('.import-counts td').all()) {
    counts[await cell.getAttribute('data-count')] = Number(await cell.textContent());
  }
  return counts;
}

describe('data screen', () => {
  test('the owner exports from one server and imports into another, once', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, source.url, OWNER.email, OWNER.password);
    await page.locator('.views a', { hasText: 'Data' }).click();
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download export' }).click();
    const download = await downloading;
    const file = join(tmpdir(), `fandesk-browser-export-${process.pid}.jsonl`);
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n');
    const header = JSON.parse(lines[0]);
    assert.equal(header.type, 'header');
    assert.equal(header.counts.message, 2);
    assert.ok(text.includes(NOTE), 'the export holds internal notes');
    await screenshot(page, 'data-export');
    await page.context().close();

    const other = await newPage(browser);
    await consoleLogin(other, target.url, OWNER.email, OWNER.password);
    await other.goto(`${target.url}/#/data`);
    await other.setInputFiles('input[name=file]', file);
    await other.getByRole('button', { name: 'Import' }).click();
    await other.locator('.import-counts').waitFor();
    assert.deepEqual(await shownCounts(other), {
      fans: 1, conversations: 1, messages: 2, members: 1, metric_rows: header.counts.metric_opening, channel_rows: 0, skipped: 1,
    });
    await screenshot(other, 'data-imported');

    // Again: everything is already there.
    await other.getByRole('button', { name: 'Import' }).click();
    await other.locator('.import-result h3').waitFor();
    await other.locator('.import-counts td[data-count="skipped"]', { hasText: String(lines.length - 1) }).waitFor();
    const again = await shownCounts(other);
    assert.equal(again.fans + again.conversations + again.messages, 0);

    // A malformed line: its number is shown, nothing is written.
    const broken = join(tmpdir(), `fandesk-browser-broken-${process.pid}.jsonl`);
    writeFileSync(broken, `${lines[0]}\n{"type":"fan","id":1}\n`);
    await other.setInputFiles('input[name=file]', broken);
    await other.getByRole('button', { name: 'Import' }).click();
    const error = other.locator('.import-form .form-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /line 2/);
    assert.deepEqual(other.problems, []);
    await other.context().close();
  });

  test('only the owner gets the data screen', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, source.url, AGENT.email, AGENT.password);
    assert.equal(await page.locator('.views a', { hasText: 'Data' }).count(), 0);
    await page.goto(`${source.url}/#/data`);
    await page.waitForSelector('.conn-live');
    assert.equal(await page.locator('.data').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
