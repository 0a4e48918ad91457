// An event's chat on the fan's event page (docs/api.md › Rooms, › Events › Replay): the
// room's live timeline on `room:{room_id}` (the last 200 entries replayed, then live, with
// resume), posting through the REST mirror with a retried idempotency key, the room's
// rules said plainly (when the chat opens, slow mode with the wait before the next
// message, a time-out, a closed room), viewer counts; and after the event the chat
// replay, shown up to the video's current time.

import { api, ApiError, newClientMsgId, postRetrying, query } from './api.js';
import { h, replace } from './dom.js';
import { clock } from './format.js';
import { Timeline } from './timeline.js';
import { offsetText, parseTime } from './watch-clock.js';

/** Entries replayed when the page opens: enough to follow the conversation. */
const BACKLOG = 200;

/** What a refused post says to the fan, by the API's error code. */
function refusal(error, room) {
  if (!(error instanceof ApiError)) return String(error);
  if (error.code === 'rate_limited') {
    const wait = /wait (\d+) s/.exec(error.message)?.[1];
    return `Slow mode is on (one message every ${room.slow_mode_secs} s)${wait ? `: wait ${wait} s` : ''}.`;
  }
  if (error.code === 'forbidden') {
    const until = Date.parse(/until (\S+?)\.?$/.exec(error.message)?.[1] ?? '');
    return Number.isFinite(until)
      ? `You are timed out of this chat until ${new Date(until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`
      : `You cannot post here right now: ${error.message}.`;
  }
  if (error.code === 'conflict') return 'The chat is not open.';
  return error.message;
}

export class EventChat {
  /** `room`: the room as `GET /rooms/{id}` answers; `clock`: the server clock. */
  constructor({ room, live, token, fan, clock: serverClock, onViewers = () => {} }) {
    this.room = room;
    this.live = live;
    this.token = token;
    this.clock = serverClock;
    this.onViewers = onViewers;
    this.cooldownUntil = 0;
    this.rules = h('p', { class: 'chat-rules muted small', 'aria-live': 'polite' });
    this.scroller = h('div', { class: 'timeline event-timeline' });
    this.input = h('input', { type: 'text', name: 'chat', maxlength: '4000', autocomplete: 'off', 'aria-label': 'Chat message', placeholder: 'Say something…' });
    this.send = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.error = h('p', { class: 'form-error chat-error', role: 'alert', hidden: true });
    this.element = h('section', { class: 'panel event-chat-panel', 'aria-label': 'Chat' },
      h('h2', {}, 'Chat'),
      this.rules,
      this.scroller,
      h('form', { class: 'event-composer', onsubmit: (event) => { event.preventDefault(); this.submit(); } }, this.input, this.send),
      this.error);
    this.timeline = new Timeline(this.scroller, { audience: 'fan', selfId: fan.id });
    this.stop = live.subscribe(`room:${room.id}`, (event) => this.onEvent(event), {
      afterSeq: Math.max(0, room.last_seq - BACKLOG),
    });
    this.paint();
  }

  destroy() {
    this.stop();
  }

  onEvent(event) {
    if (event.kind === 'message.created') {
      this.timeline.add(event.message);
      if (event.message.deleted) this.timeline.markDeleted(event.message.id);
    } else if (event.kind === 'message.deleted') {
      this.timeline.markDeleted(event.message_id);
    } else if (event.kind === 'room.updated') {
      this.room = { ...this.room, ...event.room };
      this.paint();
    } else if (event.kind === 'viewers') {
      this.onViewers(event);
    } else if (event.kind === 'subscribed') {
      api('GET', `/rooms/${encodeURIComponent(this.room.id)}`, undefined, { token: this.token })
        .then((room) => { this.room = room; this.onViewers(room.viewers); this.paint(); })
        .catch(() => {});
    }
  }

  /** The room's state now: a scheduled room opens by itself at `opens_at`. */
  state() {
    const { state, opens_at: opensAt } = this.room;
    if (state === 'scheduled' && opensAt && parseTime(opensAt) <= this.clock.now()) return 'open';
    return state;
  }

  /** Called every tick: the opening time and the slow-mode wait count down. */
  paint() {
    const state = this.state();
    const parts = [];
    if (state === 'scheduled') {
      parts.push(this.room.opens_at ? `The chat opens at ${clock(this.room.opens_at)}.` : 'The chat is not open yet.');
    } else if (state === 'closed') {
      parts.push('The chat is closed.');
    }
    if (state !== 'closed' && this.room.slow_mode_secs > 0) {
      parts.push(`Slow mode: one message every ${this.room.slow_mode_secs} s.`);
    }
    const wait = Math.ceil((this.cooldownUntil - Date.now()) / 1000);
    if (state === 'open' && wait > 0) parts.push(`Next message in ${wait} s.`);
    const text = parts.join(' ');
    if (this.rules.textContent !== text) this.rules.textContent = text;
    this.rules.hidden = !text;
    const closed = state !== 'open';
    this.input.disabled = closed;
    this.send.disabled = closed || wait > 0;
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
  }

  async submit() {
    const body = this.input.value.trim();
    if (!body || this.send.disabled) return;
    this.input.value = '';
    this.showError(null);
    const clientMsgId = newClientMsgId();
    this.timeline.addPending(clientMsgId, body);
    try {
      const message = await postRetrying(`/rooms/${encodeURIComponent(this.room.id)}/messages`,
        { client_msg_id: clientMsgId, body }, { token: this.token });
      this.timeline.add(message);
      if (this.room.slow_mode_secs > 0) this.cooldownUntil = Date.now() + this.room.slow_mode_secs * 1000;
    } catch (error) {
      const reason = refusal(error, this.room);
      this.timeline.failPending(clientMsgId, reason);
      this.showError(reason);
      if (!this.input.value) this.input.value = body;
    }
    this.paint();
  }
}

/** The chat as it happened, by video time, beside the video after the event. */
export class ChatReplay {
  constructor({ eventId, token }) {
    this.eventId = eventId;
    this.token = token;
    this.items = [];
    this.shownUpTo = null;
    this.list = h('ol', { class: 'replay-list' });
    this.status = h('p', { class: 'muted small replay-status' }, 'Loading the chat replay…');
    this.scroller = h('div', { class: 'replay-scroll' }, this.status, this.list);
    this.element = h('section', { class: 'panel event-replay-panel', 'aria-label': 'Chat replay' },
      h('h2', {}, 'Chat replay'),
      h('p', { class: 'muted small' }, 'The chat as it happened, following the video.'),
      this.scroller);
  }

  async load() {
    try {
      const { messages } = await api('GET', `/events/${encodeURIComponent(this.eventId)}/replay${query({ limit: 1000 })}`, undefined, { token: this.token });
      this.items = messages.map((message) => ({
        offset: message.offset_secs,
        element: h('li', { class: 'replay-item', dataset: { offset: String(message.offset_secs), id: message.id } },
          h('span', { class: 'replay-at' }, offsetText(message.offset_secs)), ' ',
          h('strong', { class: 'replay-author' }, message.author.name), ' ',
          h('span', { class: 'replay-body' }, message.body)),
      }));
      replace(this.list, this.items.map((item) => item.element));
      this.status.textContent = messages.length ? '' : 'Nobody chatted during this event.';
      this.status.hidden = messages.length > 0;
    } catch (error) {
      this.status.textContent = `The chat replay could not be loaded: ${error.message}`;
    }
    this.shownUpTo = null;
  }

  /** Shows the messages sent up to `seconds` of video (the countdown chat before 0). */
  follow(seconds) {
    const last = this.items.findLastIndex((item) => item.offset <= seconds);
    if (last === this.shownUpTo) return;
    this.shownUpTo = last;
    this.items.forEach((item, index) => {
      item.element.hidden = index > last;
      item.element.classList.toggle('replay-now', index === last);
    });
    if (last >= 0) this.scroller.scrollTop = this.items[last].element.offsetTop;
  }
}
