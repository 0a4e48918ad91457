// The fan's event page in headless Chromium against a real server (README › Premieres and
// live events): a premiere's countdown (and, a day ahead, a chat that says when it opens), then its video playing at the server's position —
// also for a fan who joins late, and for one whose own clock is an hour wrong; the chat
// with its rules said plainly (slow mode, a time-out); the Q&A live (ask, upvote once,
// top/new, the team's answer and pin arriving, a hidden question gone — and never in the
// page's WebSocket frames after a reload); after the end, the chat replay following the
// video. The video is recorded by the browser at test time and served from a server of
// the test's own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createTeam, launchBrowser, newPage, screenshot, startServer } from './harness.mjs';
import { recordClip, serveClip } from './media.mjs';

/** How far (seconds) playback may be from where the server says it stands. */
const TOLERANCE_SECS = 1.5;

let server;
let browser;
let team;
let clip;

before(async () => {
  server = await startServer();
  team = await createTeam(server.url, {});
  browser = await launchBrowser();
  const recorder = await browser.newPage();
  clip = await serveClip(await recordClip(recorder, 25));
  await recorder.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await clip?.close();
});

async function createEvent(fields) {
  return call(server.url, 'POST', '/events', {
    token: team.ownerToken,
    body: { kind: 'premiere', duration_secs: 600, media_url: clip.url, qa: true, ...fields },
  });
}

function startsIn(seconds) {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

/** Opens the event's page as a new fan (a browser context of its own). */
async function joinAs(name, event, { clockSkewMs = 0 } = {}) {
  const page = await newPage(browser);
  if (clockSkewMs) {
    await page.addInitScript((skew) => {
      const realNow = Date.now.bind(Date);
      Date.now = () => realNow() + skew;
    }, clockSkewMs);
  }
  await page.goto(`${server.url}/events/${event.id}`);
  await page.fill('input[name=display_name]', name);
  await page.click('form.welcome button[type=submit]');
  await page.locator('.event-title', { hasText: event.title }).waitFor();
  await page.waitForSelector('.conn-live', { timeout: 15_000 });
  return page;
}

/** Waits for the video to play, then how far it is from the real position (seconds). */
async function playbackError(page, event) {
  await page.waitForFunction(() => {
    const video = document.querySelector('video.event-video');
    return video && !video.paused && video.currentTime > 0.2;
  }, undefined, { timeout: 20_000 });
  // Let a seek on joining settle, then compare with the test's own (true) clock.
  await page.waitForTimeout(1500);
  const currentTime = await page.evaluate(() => document.querySelector('video.event-video').currentTime);
  const expected = (Date.now() - Date.parse(event.starts_at)) / 1000;
  return Math.abs(currentTime - expected);
}

describe('the fan event page', () => {
  test('counts down, then plays in sync; a late fan and a fan with a wrong clock join at the same point', async () => {
    const event = await createEvent({ title: 'Album premiere', starts_at: startsIn(8), slow_mode_secs: 30 });
    const headers = (await fetch(`${server.url}/events/${event.id}`)).headers;
    assert.match(headers.get('content-security-policy'), new RegExp(`media-src 'self' ${new URL(clip.url).origin};`));

    const page = await joinAs('Ada', event);
    assert.equal(await page.locator('.event-label').textContent(), 'Premiere · pre-recorded');
    await page.locator('.countdown', { hasText: /Starts in 0:0\d/ }).waitFor();
    assert.equal(await page.evaluate(() => document.querySelector('video.event-video').paused), true);
    await screenshot(page, 'watch-countdown');
    await page.waitForSelector('main[data-phase="live"]', { timeout: 20_000 });
    assert.ok(await page.locator('.countdown').isHidden());
    const error = await playbackError(page, event);
    assert.ok(error <= TOLERANCE_SECS, `playback ${error.toFixed(2)} s from the server's position`);

    // Joining later, and with a client clock an hour fast: the same point of the video.
    const late = await joinAs('Bea', event);
    const lateError = await playbackError(late, event);
    assert.ok(lateError <= TOLERANCE_SECS, `late joiner ${lateError.toFixed(2)} s off`);
    const skewed = await joinAs('Cy', event, { clockSkewMs: 3_600_000 });
    const skewError = await playbackError(skewed, event);
    assert.ok(skewError <= TOLERANCE_SECS, `skewed clock ${skewError.toFixed(2)} s off`);
    await screenshot(late, 'watch-playing');

    // Slow mode, said before and after a message.
    await page.locator('.chat-rules', { hasText: 'Slow mode: one message every 30 s.' }).waitFor();
    await page.fill('.event-composer input', 'First!');
    await page.press('.event-composer input', 'Enter');
    await page.locator('.msg-mine:not(.msg-pending) .msg-body', { hasText: 'First!' }).waitFor();
    await late.locator('.msg .msg-body', { hasText: 'First!' }).waitFor();
    await page.locator('.chat-rules', { hasText: /Next message in \d+ s/ }).waitFor();
    assert.equal(await page.locator('.event-composer button').isDisabled(), true);
    // A second tab of the same fan does not know the wait: the server's refusal is shown.
    const tab = await page.context().newPage();
    await tab.goto(`${server.url}/events/${event.id}`);
    await tab.waitForSelector('.conn-live', { timeout: 15_000 });
    await tab.fill('.event-composer input', 'Second!');
    await tab.press('.event-composer input', 'Enter');
    await tab.locator('.chat-error', { hasText: /Slow mode is on \(one message every 30 s\): wait \d+ s\./ }).waitFor();
    for (const each of [page, late, skewed]) assert.deepEqual(each.problems, []);
    await Promise.all([page, late, skewed].map((each) => each.context().close()));
  });

  test('a video address edited during the countdown plays at the start, without a reload', async () => {
    const event = await createEvent({ title: 'Re-cut premiere', starts_at: startsIn(6), media_url: `${clip.url}?cut=old` });
    const page = await joinAs('Dee', event);
    await page.locator('.countdown', { hasText: /Starts in 0:0\d/ }).waitFor();
    await call(server.url, 'PATCH', `/events/${event.id}`, { token: team.ownerToken, body: { media_url: clip.url } });
    await page.waitForSelector('main[data-phase="live"]', { timeout: 20_000 });
    const error = await playbackError(page, event);
    assert.ok(error <= TOLERANCE_SECS, `playback ${error.toFixed(2)} s from the server's position`);
    assert.equal(await page.evaluate(() => document.querySelector('video.event-video').getAttribute('src')), clip.url);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('chat and questions live: time-outs, upvotes, the team answers, pins and hides', async () => {
    const event = await createEvent({ title: 'Studio Q&A', starts_at: startsIn(-5) });
    const page = await joinAs('Dee', event);
    await page.waitForSelector('main[data-phase="live"]');
    const other = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Eli' } });

    // Chat both ways; a time-out is explained, and lifted.
    await page.fill('.event-composer input', 'hello room');
    await page.press('.event-composer input', 'Enter');
    await page.locator('.msg-mine:not(.msg-pending) .msg-body', { hasText: 'hello room' }).waitFor();
    await call(server.url, 'POST', `/rooms/${event.room_id}/messages`, { token: other.token, body: { client_msg_id: 'e1', body: 'hi from Eli' } });
    await page.locator('.msg .msg-body', { hasText: 'hi from Eli' }).waitFor();
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('fandesk.fan')).fan.id);
    await call(server.url, 'POST', `/rooms/${event.room_id}/timeouts`, { token: team.ownerToken, body: { fan_id: me, seconds: 300 } });
    await page.fill('.event-composer input', 'let me talk');
    await page.press('.event-composer input', 'Enter');
    await page.locator('.chat-error', { hasText: /^You are timed out of this chat until \d\d:\d\d/ }).waitFor();
    await call(server.url, 'POST', `/rooms/${event.room_id}/timeouts`, { token: team.ownerToken, body: { fan_id: me, seconds: 0 } });

    // Questions: mine from the page, two from another fan, live.
    const ask = async (text) => {
      await page.fill('.qa-ask input', text);
      await page.click('.qa-ask button');
      await page.locator('.qa-item .qa-body', { hasText: text }).waitFor();
    };
    await ask('Which synth is on track two?');
    const askOther = (key, body) => call(server.url, 'POST', `/events/${event.id}/questions`, { token: other.token, body: { client_msg_id: key, body } });
    const canary = await askOther('q1', 'CANARY-7f3 please hide me');
    await page.waitForTimeout(1100);
    const tour = await askOther('q2', 'Will you tour?');
    await page.locator('.qa-item .qa-body', { hasText: 'Will you tour?' }).waitFor();
    await page.locator('.qa-item .qa-body', { hasText: 'CANARY-7f3' }).waitFor();

    // Upvote once: the count moves, the button stays pressed and disabled.
    const item = (text) => page.locator('.qa-item', { hasText: text });
    await item('Will you tour?').locator('.qa-upvote').click();
    await item('Will you tour?').locator('.qa-upvote', { hasText: '▲ 1' }).waitFor();
    assert.equal(await item('Will you tour?').locator('.qa-upvote').getAttribute('aria-pressed'), 'true');
    assert.equal(await item('Will you tour?').locator('.qa-upvote').isDisabled(), true);
    const bodies = () => page.locator('.qa-item .qa-body').allTextContents();
    assert.equal((await bodies())[0], 'Will you tour?', 'top: most upvoted first');
    await page.click('.qa-order[data-order="new"]');
    assert.deepEqual(await bodies(), ['Will you tour?', 'CANARY-7f3 please hide me', 'Which synth is on track two?']);
    await page.click('.qa-order[data-order="top"]');

    // The team answers, pins and hides: each arrives live.
    const mine = (await call(server.url, 'GET', `/events/${event.id}/questions?order=new`, { token: team.ownerToken })).questions
      .find((question) => question.body.startsWith('Which synth'));
    const act = (question, what) => call(server.url, 'POST', `/events/${event.id}/questions/${question.id}/${what}`, { token: team.ownerToken });
    await act(mine, 'answer');
    await item('Which synth').locator('.qa-state', { hasText: 'Answered' }).waitFor();
    await act(mine, 'pin');
    await item('Which synth').locator('.qa-state', { hasText: 'Pinned' }).waitFor();
    assert.equal((await bodies())[0], 'Which synth is on track two?', 'pinned first');
    await act(canary, 'hide');
    await page.locator('.qa-item', { hasText: 'CANARY-7f3' }).waitFor({ state: 'detached' });
    await screenshot(page, 'watch-questions');

    // After a reload, nothing the page receives holds the hidden question's text.
    const frames = [];
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => frames.push(String(frame.payload))));
    await page.reload();
    await item('Will you tour?').locator('.qa-upvote[aria-pressed="true"]', { hasText: '▲ 1' }).waitFor();
    await item('Which synth').locator('.qa-state', { hasText: 'Pinned' }).waitFor();
    await page.locator('.msg .msg-body', { hasText: 'hi from Eli' }).waitFor();
    assert.ok(frames.some((frame) => frame.includes('question.removed') && frame.includes(canary.id)), 'the hidden question arrives as question.removed');
    assert.ok(frames.some((frame) => frame.includes('Will you tour?')), 'frames were captured');
    assert.ok(!frames.some((frame) => frame.includes('CANARY')), 'no frame holds the hidden text');
    assert.ok(!(await page.content()).includes('CANARY'));
    assert.ok(tour.id);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('before the chat opens: a long countdown, the chat says when it opens, posting is off', async () => {
    const event = await createEvent({ title: 'Next week', starts_at: startsIn(26 * 3600 + 30) });
    const page = await joinAs('Jo', event);
    await page.locator('.countdown', { hasText: /^Starts in 1 d 2:00:\d\d$/ }).waitFor();
    await page.locator('.chat-rules', { hasText: /^The chat opens at / }).waitFor();
    assert.equal(await page.locator('.event-composer input').isDisabled(), true);
    assert.equal(await page.locator('.event-composer button').isDisabled(), true);
    // Asking is refused by the server until then, and said so.
    await page.fill('.qa-ask input', 'Too early?');
    await page.click('.qa-ask button');
    await page.locator('.qa-error', { hasText: /./ }).waitFor();
    assert.equal(await page.locator('.qa-item').count(), 0);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });

  test('after the end: the video from the start with the chat replay following it', async () => {
    const event = await createEvent({ title: 'Short film', starts_at: startsIn(-4), duration_secs: 7 });
    const fan = await call(server.url, 'POST', '/fan-sessions', { body: { display_name: 'Flo' } });
    await call(server.url, 'POST', `/rooms/${event.room_id}/messages`, { token: fan.token, body: { client_msg_id: 'r1', body: 'what a scene' } });
    const wait = Date.parse(event.ends_at) - Date.now() + 300;
    await new Promise((done) => setTimeout(done, Math.max(0, wait)));

    const page = await joinAs('Gus', event);
    await page.waitForSelector('main[data-phase="ended"]');
    await page.locator('.event-status', { hasText: 'This event has ended' }).waitFor();
    assert.equal(await page.evaluate(() => document.querySelector('video.event-video').controls), true);
    const line = page.locator('.replay-item', { hasText: 'what a scene' });
    await line.waitFor({ state: 'attached' });
    const offset = Number(await line.getAttribute('data-offset'));
    assert.ok(offset > 3 && offset < 7, `offset ${offset}`);
    assert.ok(await line.isHidden(), 'not yet at that point of the video');
    await page.evaluate(() => { document.querySelector('video.event-video').currentTime = 6.5; });
    await line.waitFor({ state: 'visible' });
    assert.match(await line.locator('.replay-at').textContent(), /^0:0[3-6]$/);
    await screenshot(page, 'watch-replay');
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
});
