// The charter screen in headless Chromium against a real server (README › Charter): an
// unknown key is refused with an inline error naming the key and its line and nothing is
// saved; a good save is in force at once (the settings in force and GET /charter); the
// history lists the version with who saved it; the diff shows the change; a save on a
// stale version is explained as a conflict and can be compared and saved over; another
// member reads the charter without editing it and a supervisor marks it reviewed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, consoleLogin, createTeam, launchBrowser, login, newPage, OWNER, screenshot, startServer,
} from './harness.mjs';

const SUPERVISOR = { email: 'sam@example.com', name: 'Sam Supervisor', role: 'supervisor', password: 'super-password-1' };
const AGENT = { email: 'ana@example.com', name: 'Ana Agent', role: 'agent', password: 'agent-password-1' };

let server;
let browser;
let team;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, { supervisor: SUPERVISOR, agent: AGENT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text, needle) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;

const setting = (page, key) => page.locator(`.charter-settings dd[data-key="${key}"]`);

async function openCharter(page) {
  await page.locator('.views a', { hasText: 'Charter' }).click();
  await page.locator('.charter-doc h2', { hasText: /version \d+/ }).waitFor();
  await page.waitForFunction(() => document.querySelector('.charter-editor')?.value.includes('[response]'));
}

describe('charter screen', () => {
  test('the owner is told which key on which line is wrong, saves a good version live, and reads history and diff', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, OWNER.email, OWNER.password);
    await openCharter(page);
    const me = await call(server.url, 'GET', '/me', { token: team.ownerToken });
    const editor = page.locator('.charter-editor');
    const seeded = await editor.inputValue();
    assert.match(seeded, /^first_response_target_secs = 60$/m);
    assert.equal(await setting(page, 'response.first_response_target_secs').textContent(), '60');
    await page.locator('.charter-doc h2', { hasText: 'version 1' }).waitFor();

    // An unknown key: refused inline, naming it and its line; nothing saved.
    const bad = seeded.replace(/^limit = (\d+)$/m, 'limit = $1\ncolour = "red"');
    await editor.fill(bad);
    await page.locator('.charter-dirty').waitFor({ state: 'visible' });
    await page.locator('.charter-save').click();
    const line = lineOf(bad, 'colour = "red"');
    const error = page.locator('.charter-error[data-field="channels.colour"]');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-line'), String(line));
    assert.match(await error.textContent(), new RegExp(`channels\\.colour line ${line}, column \\d+: `));
    await page.locator(`.gutter-error[data-line="${line}"]`).waitFor();
    assert.equal((await call(server.url, 'GET', '/charter', { token: team.ownerToken })).version, 1);
    // Clicking the error selects the line in the editor.
    await error.click();
    assert.equal(await page.evaluate(() => {
      const area = document.querySelector('.charter-editor');
      return area.value.slice(area.selectionStart, area.selectionEnd);
    }), 'colour = "red"');
    await screenshot(page, 'charter-error');

    // A good save: in force at once, on the screen and through the API.
    const good = seeded.replace(/^first_response_target_secs = 60$/m, 'first_response_target_secs = 45');
    await editor.fill(good);
    await page.locator('.charter-save').click();
    await page.locator('.charter-doc h2', { hasText: 'version 2' }).waitFor();
    assert.equal(await page.locator('.charter-errors').isHidden(), true);
    await page.locator('.charter-settings dd[data-key="response.first_response_target_secs"]', { hasText: /^45$/ }).waitFor();
    const current = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
    assert.equal(current.version, 2);
    assert.equal(current.settings.response.first_response_target_secs, 45);
    assert.equal(current.updated_by, me.id);
    assert.equal(await page.locator('.charter-dirty').isHidden(), true);

    // The history lists it with who saved it; its changes show the edit.
    const row = page.locator('.charter-versions tr[data-version="2"]');
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(me.name));
    assert.match(await page.locator('.charter-versions tr[data-version="1"]').textContent(), /v1/);
    await row.getByRole('button', { name: 'Changes' }).click();
    await page.locator('.charter-diff h3', { hasText: 'Changes from v1 to v2' }).waitFor();
    await page.locator('.diff-insert .diff-text', { hasText: 'first_response_target_secs = 45' }).waitFor();
    await page.locator('.diff-delete .diff-text', { hasText: 'first_response_target_secs = 60' }).waitFor();
    assert.equal(await page.locator('.diff-insert').count(), 1);
    assert.equal(await page.locator('.diff-delete').count(), 1);
    await screenshot(page, 'charter-diff');

    // Someone saves version 3 while the owner edits: the screen says so at once, the save
    // on version 2 is refused as a conflict, the change can be compared and saved over.
    const mine = good.replace(/^max_exchanges = \d+$/m, 'max_exchanges = 2');
    await editor.fill(mine);
    const theirs = good.replace(/^every_days = \d+$/m, 'every_days = 30');
    await call(server.url, 'PUT', '/charter', { token: team.ownerToken, body: { toml: theirs, base_version: 2 } });
    await page.locator('.charter-stale', { hasText: 'Version 3 was saved' }).waitFor({ timeout: 10_000 });
    assert.equal(await editor.inputValue(), mine, 'the draft is kept');
    await page.locator('.charter-save').click();
    const conflict = page.locator('.charter-conflict');
    await conflict.waitFor({ state: 'visible' });
    assert.match(await conflict.textContent(), /version 3 was saved while you were editing version 2/);
    assert.equal(await editor.inputValue(), mine, 'the draft survives the conflict');
    await conflict.getByRole('button', { name: 'Show what changed in v3' }).click();
    await page.locator('.charter-diff h3', { hasText: 'Changes from v2 to v3' }).waitFor();
    await page.locator('.diff-insert .diff-text', { hasText: 'every_days = 30' }).waitFor();
    await conflict.getByRole('button', { name: 'Save my text over v3' }).click();
    await page.locator('.charter-doc h2', { hasText: 'version 4' }).waitFor();
    assert.equal(await conflict.isHidden(), true);
    await setting(page, 'bots.max_exchanges').filter({ hasText: /^2$/ }).waitFor();
    const saved = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
    assert.equal(saved.version, 4);
    assert.equal(saved.settings.bots.max_exchanges, 2);
    assert.equal(saved.toml, mine);

    // A version loaded from the history becomes the draft of the next one.
    await page.locator('.charter-versions tr[data-version="1"]').getByRole('button', { name: 'Load into editor' }).click();
    await page.waitForFunction((text) => document.querySelector('.charter-editor').value === text, seeded);
    await page.locator('.charter-revert').click();
    assert.equal(await editor.inputValue(), mine);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('a supervisor reads the charter without editing it and marks it reviewed; an agent only reads', async () => {
    const page = await newPage(browser);
    await consoleLogin(page, server.url, SUPERVISOR.email, SUPERVISOR.password);
    await openCharter(page);
    assert.equal(await page.locator('.charter-editor').getAttribute('readonly'), '');
    assert.equal(await page.locator('.charter-save').count(), 0);
    assert.equal(await page.locator('.views a', { hasText: 'Webhooks' }).count(), 0);
    const before = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
    await page.locator('.review-due time').waitFor();
    assert.equal(await page.locator('.review-due time').getAttribute('datetime'), before.review_due_at);
    await page.fill('input[name=review_note]', 'Quarterly look: targets still fit');
    await page.getByRole('button', { name: 'Mark reviewed' }).click();
    await page.locator('.charter-reviews li', { hasText: 'Sam Supervisor' }).waitFor();
    await page.locator('.charter-reviews li', { hasText: 'Quarterly look: targets still fit' }).waitFor();
    await page.locator('.charter-review', { hasText: 'Last reviewed by Sam Supervisor' }).waitFor();
    const reviews = await call(server.url, 'GET', '/charter/reviews', { token: team.ownerToken });
    assert.equal(reviews.reviews[0].reviewed_by, team.supervisor.id);
    assert.equal(reviews.reviews[0].version, before.version);
    const after = await call(server.url, 'GET', '/charter', { token: team.ownerToken });
    assert.equal(await page.locator('.review-due time').getAttribute('datetime'), after.review_due_at);
    await screenshot(page, 'charter-review');
    assert.deepEqual(page.problems, []);
    await page.context().close();

    const agent = await newPage(browser);
    await consoleLogin(agent, server.url, AGENT.email, AGENT.password);
    await openCharter(agent);
    assert.equal(await agent.locator('.charter-editor').getAttribute('readonly'), '');
    assert.equal(await agent.locator('.charter-review-form').count(), 0);
    assert.equal(await agent.locator('.views a', { hasText: 'Webhooks' }).count(), 0);
    // The owner's screen is the only one that edits: an agent's token is refused by the API too.
    const agentToken = await login(server.url, AGENT.email, AGENT.password);
    await assert.rejects(call(server.url, 'PUT', '/charter', { token: agentToken, body: { toml: '', base_version: after.version } }), /403/);
    assert.deepEqual(agent.problems, []);
    await agent.context().close();
  });
});
