// The fan's event page (/events/{id}; docs/api.md › Events): the event's title and label
// ("Premiere · pre-recorded" or "Live") always in view; before the start a countdown on
// the server's clock; a premiere's video playing from the server's position, so every
// viewer sees the same moment whenever they join (re-seeked when it drifts); the room's
// chat and the Q&A beside it; after the end the video from the start with the chat
// replay following it. The fan session is the one /chat uses.

import { api, ApiError } from './api.js';
import { $, append, h, replace } from './dom.js';
import { forgetSession, loadSession, showWelcome } from './fan-session.js';
import { Live } from './live.js';
import { ChatReplay, EventChat } from './watch-chat.js';
import { EventQuestions } from './watch-qa.js';
import { ServerClock, countdownText, parseTime, phaseAt, positionAt } from './watch-clock.js';

const main = $('#event');
const eventId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const TICK_MS = 250;
/** How far playback may stray from the server's position before it is re-seeked. */
const DRIFT_SECS = 1;
/** How often the event (and the clock) is read again. */
const REFRESH_MS = 30_000;

class EventPage {
  constructor(session) {
    this.session = session;
    this.token = session.token;
    this.clock = new ServerClock();
    this.event = null;
    this.phase = null;
    this.muted = false;
    this.live = new Live({
      token: this.token,
      onState: (state) => {
        this.conn.className = `conn conn-${state}`;
        this.conn.textContent = state === 'live' ? 'connected' : state === 'connecting' ? 'connecting…' : 'reconnecting…';
      },
      onUnauthorized: () => this.startOver('Your session expired. Please join again.'),
    });
    this.conn = h('span', { class: 'conn conn-connecting' }, 'connecting…');
  }

  /** `GET /events/{id}`, teaching the clock with its `server_time`. */
  async fetchEvent() {
    const sentAt = Date.now();
    const event = await api('GET', `/events/${encodeURIComponent(eventId)}`, undefined, { token: this.token });
    this.clock.sample(event.server_time, sentAt, Date.now());
    return event;
  }

  async start() {
    let room;
    try {
      this.event = await this.fetchEvent();
      room = await api('GET', `/rooms/${encodeURIComponent(this.event.room_id)}`, undefined, { token: this.token });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.startOver('Your session expired. Please join again.');
      const text = error instanceof ApiError && error.status === 404 ? 'This event does not exist.' : error.message;
      replace(main, h('p', { class: 'form-error', role: 'alert' }, text));
      return;
    }
    document.title = this.event.title;
    this.render(room);
    this.live.start();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.refresher = setInterval(() => this.refresh(), REFRESH_MS);
    this.tick();
  }

  render(room) {
    const event = this.event;
    this.title = h('h1', { class: 'event-title' }, event.title);
    this.status = h('p', { class: 'event-status', 'aria-live': 'polite' });
    this.position = h('span', { class: 'event-position muted small' });
    this.viewers = h('span', { class: 'event-viewers muted small' });
    this.countdown = h('div', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
    this.stage = h('div', { class: 'stage' });
    if (event.kind === 'premiere' && event.media_url) {
      this.video = h('video', { class: 'event-video', src: event.media_url, preload: 'auto', playsinline: true });
      this.video.addEventListener('loadedmetadata', () => this.tick());
      this.sound = h('button', { type: 'button', class: 'sound', hidden: true, onclick: () => this.toggleSound() }, 'Unmute');
      this.play = h('button', { type: 'button', class: 'primary play', hidden: true, onclick: () => this.resume() }, 'Play');
      append(this.stage, [this.video, this.countdown, h('div', { class: 'stage-controls' }, this.play, this.sound)]);
    } else {
      const link = event.media_url
        ? h('a', { href: event.media_url, target: '_blank', rel: 'noopener noreferrer' }, 'Open the live stream')
        : h('span', {}, 'Follow along in the chat and the questions.');
      append(this.stage, [h('div', { class: 'stage-live' }, link), this.countdown]);
    }
    this.chat = new EventChat({
      room, live: this.live, token: this.token, fan: this.session.fan, clock: this.clock,
      onViewers: (counts) => { this.viewers.textContent = `${counts.current} watching`; },
    });
    this.viewers.textContent = `${room.viewers.current} watching`;
    this.side = h('div', { class: 'watch-side' }, this.chat.element);
    if (event.qa) {
      this.qa = new EventQuestions({ event, live: this.live, token: this.token });
      this.side.append(this.qa.element);
    }
    replace(main,
      h('header', { class: 'watch-head' },
        h('div', {},
          h('p', { class: 'event-label' }, event.label),
          this.title,
          h('p', { class: 'muted small' }, 'Watching as ', h('strong', {}, this.session.fan.display_name), ' · ', this.viewers)),
        this.conn),
      h('div', { class: 'watch-body' },
        h('div', { class: 'watch-main' }, this.stage, h('div', { class: 'watch-under' }, this.status, this.position)),
        this.side));
  }

  /**
   * Reads the event again (every 30 s, and when it starts): a new title, start or video
   * address edited by the team is taken up without a reload. A video from another origin
   * than the page was opened with stays blocked by its content policy until a reload.
   */
  async refresh() {
    try {
      const event = await this.fetchEvent();
      this.event = event;
      this.title.textContent = event.title;
      if (this.video && event.media_url && this.video.getAttribute('src') !== event.media_url) {
        this.video.src = event.media_url;
      }
    } catch {
      // The page keeps counting on the clock it has; the next refresh tries again.
    }
  }

  /** Every quarter second: the phase, the countdown, playback kept on the server's position. */
  tick() {
    const now = this.clock.now();
    const phase = phaseAt(this.event, now);
    if (phase !== this.phase) this.enter(phase);
    const position = positionAt(this.event, now);
    this.chat.paint();
    if (phase === 'scheduled') {
      const text = `Starts in ${countdownText(-position)}`;
      if (this.countdown.textContent !== text) this.countdown.textContent = text;
    } else if (phase === 'live') {
      const text = `${countdownText(position)} in`;
      if (this.position.textContent !== text) this.position.textContent = text;
      if (this.video) this.follow(position);
    } else if (this.replay && this.video) {
      this.replay.follow(this.video.currentTime);
    }
  }

  /** Keeps the video at `position` while the premiere is on (no pausing a premiere). */
  follow(position) {
    const video = this.video;
    if (video.readyState < HTMLMediaElement.HAVE_METADATA || video.seeking) return;
    const end = Number.isFinite(video.duration) ? video.duration : Infinity;
    if (position >= end) return;
    if (Math.abs(video.currentTime - position) > DRIFT_SECS) video.currentTime = position;
    if (video.paused && this.play.hidden && !this.starting) this.resume();
  }

  /** Plays with sound if the browser lets us, else muted with an "Unmute" button. */
  async resume() {
    const video = this.video;
    this.starting = true;
    this.play.hidden = true;
    video.muted = this.muted;
    let playing = await video.play().then(() => true, () => false);
    if (!playing && !video.muted) {
      this.muted = true;
      video.muted = true;
      playing = await video.play().then(() => true, () => false);
    }
    this.starting = false;
    // Not even muted: the browser wants a click first.
    this.play.hidden = playing;
    this.sound.hidden = !playing;
    this.sound.textContent = video.muted ? 'Unmute' : 'Mute';
  }

  toggleSound() {
    this.muted = !this.video.muted;
    this.video.muted = this.muted;
    this.sound.textContent = this.muted ? 'Unmute' : 'Mute';
  }

  enter(phase) {
    this.phase = phase;
    main.dataset.phase = phase;
    this.countdown.hidden = phase !== 'scheduled';
    this.position.hidden = phase !== 'live';
    if (phase === 'scheduled') {
      this.status.textContent = `Starts at ${new Date(parseTime(this.event.starts_at)).toLocaleString()}`;
    } else if (phase === 'live') {
      this.status.textContent = this.event.kind === 'premiere' ? 'Premiere now playing' : 'Live now';
      this.refresh();
    } else if (phase === 'ended') {
      this.status.textContent = 'This event has ended. Watch it again with the chat as it happened.';
      if (this.video) {
        this.video.controls = true;
        this.play.hidden = true;
        this.sound.hidden = true;
        this.video.pause();
      }
      this.replay = new ChatReplay({ eventId: this.event.id, token: this.token });
      this.side.prepend(this.replay.element);
      this.replay.load().then(() => this.replay.follow(this.video ? this.video.currentTime : Infinity));
    }
  }

  startOver(notice) {
    clearInterval(this.timer);
    clearInterval(this.refresher);
    this.live.stop();
    forgetSession();
    welcome(notice);
  }
}

function welcome(notice = '') {
  showWelcome(main, {
    heading: 'Join the event',
    lead: 'Pick a name to watch, chat and ask questions.',
    button: 'Join',
    notice,
    onSession: (session) => new EventPage(session).start(),
  });
}

const session = loadSession();
if (session) new EventPage(session).start();
else welcome();
