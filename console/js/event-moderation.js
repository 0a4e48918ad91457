// An event's moderation view on the events screen (owner, supervisors; docs/api.md ›
// Events, › Rooms): live over the console's WebSocket — the room `room:{room_id}` (its
// messages, deletions, `room.updated`, viewer counts, time-outs) and the questions on
// `event:{id}` (the team sees every state, hidden included) — with answer / pin / hide,
// delete and time out, and the room's slow mode. Nothing is polled: a timer only
// recounts "messages in the last minute" from what arrived.

import { api } from './api.js';
import { h, replace, toast } from './dom.js';

/** Room entries replayed when the view opens. */
const BACKLOG = 200;
const RECOUNT_MS = 5_000;
const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 120, 300];

export class EventModeration {
  constructor(root, event, live) {
    this.root = root;
    this.event = event;
    this.live = live;
    this.room = null;
    this.messages = new Map();
    this.questions = new Map();
    this.pending = false;
    this.stops = [];
    this.recount = setInterval(() => this.schedule(), RECOUNT_MS);
    this.start();
  }

  async start() {
    try {
      this.room = await api('GET', `/rooms/${this.event.room_id}`);
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    if (this.closed) return;
    const roomTopic = `room:${this.room.id}`;
    this.stops.push(this.live.subscribe(roomTopic, (event) => this.onRoom(event), {
      afterSeq: Math.max(0, this.room.last_seq - BACKLOG),
    }));
    if (this.event.qa) {
      this.stops.push(this.live.subscribe(`event:${this.event.id}`, (entry) => this.onQuestion(entry), { afterSeq: 0 }));
    }
    this.schedule();
  }

  destroy() {
    this.closed = true;
    clearInterval(this.recount);
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  onRoom(event) {
    if (event.kind === 'message.created') {
      this.messages.set(event.message.id, event.message);
    } else if (event.kind === 'message.deleted') {
      const message = this.messages.get(event.message_id);
      if (message) this.messages.set(message.id, { ...message, deleted: true, deleted_by: event.deleted_by });
    } else if (event.kind === 'room.updated') {
      this.room = { ...this.room, ...event.room };
    } else if (event.kind === 'viewers') {
      this.room = { ...this.room, viewers: { current: event.current, peak: event.peak, unique: event.unique } };
    } else if (event.kind === 'fan.timed_out') {
      const name = [...this.messages.values()].find((message) => message.author.id === event.fan_id)?.author.name || 'A fan';
      toast(`${name} is timed out until ${new Date(event.until).toLocaleTimeString()}`);
      return;
    } else if (event.kind === 'subscribed') {
      // Ephemeral state is not replayed: read the room again after every (re)subscription.
      api('GET', `/rooms/${this.event.room_id}`).then((room) => { this.room = room; this.schedule(); }).catch(() => {});
      return;
    } else {
      return;
    }
    this.schedule();
  }

  onQuestion(entry) {
    if (entry.kind === 'question.created' || entry.kind === 'question.updated') {
      const known = this.questions.get(entry.question.id);
      this.questions.set(entry.question.id, { ...entry.question, upvotes: Math.max(entry.question.upvotes, known?.upvotes ?? 0) });
      this.schedule();
    }
  }

  /** One repaint per frame however many events arrive. */
  schedule() {
    if (this.pending || this.closed) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      if (!this.closed) this.render();
    });
  }

  async act(question, what) {
    try {
      const changed = await api('POST', `/events/${this.event.id}/questions/${question.id}/${what}`);
      this.onQuestion({ kind: 'question.updated', question: changed });
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async remove(message) {
    try {
      await api('POST', `/rooms/${this.event.room_id}/messages/${message.id}/delete`);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async timeOut(message) {
    try {
      await api('POST', `/rooms/${this.event.room_id}/timeouts`, { fan_id: message.author.id, seconds: 300 });
      toast(`${message.author.name} is timed out for 5 minutes`);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async setSlowMode(seconds) {
    try {
      this.room = await api('POST', `/rooms/${this.event.room_id}/slow-mode`, { slow_mode_secs: seconds });
      toast(seconds ? `Slow mode: one message every ${seconds} s` : 'Slow mode is off');
      this.schedule();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  slowModeControl() {
    const current = this.room.slow_mode_secs;
    const choices = SLOW_MODE_CHOICES.includes(current) ? SLOW_MODE_CHOICES : [...SLOW_MODE_CHOICES, current].sort((a, b) => a - b);
    const select = h('select', { name: 'slow_mode_secs', 'aria-label': 'Slow mode' },
      choices.map((secs) => h('option', { value: String(secs), selected: secs === current }, secs ? `${secs} s` : 'off')));
    return h('form', { class: 'slow-mode', onsubmit: (submitted) => { submitted.preventDefault(); this.setSlowMode(Number(select.value)); } },
      h('label', {}, 'Slow mode ', select), ' ',
      h('button', { type: 'submit' }, 'Set'));
  }

  render() {
    const event = this.event;
    const room = this.room;
    if (!room) return;
    const messages = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    const questions = [...this.questions.values()].sort((a, b) => b.upvotes - a.upvotes || Date.parse(a.created_at) - Date.parse(b.created_at));
    const minuteAgo = Date.now() - 60_000;
    const rate = messages.filter((message) => Date.parse(message.created_at) >= minuteAgo).length;
    const focused = this.root.contains(document.activeElement) && document.activeElement.name === 'slow_mode_secs';
    replace(this.root,
      h('h2', {}, `Moderate: ${event.title}`),
      h('p', { class: 'muted small' }, `${event.label} · `, h('a', { href: `/events/${event.id}`, target: '_blank', rel: 'noopener' }, 'fans’ page')),
      h('p', { class: 'event-figures' },
        h('span', { dataset: { figure: 'viewers' } }, `Viewers now ${room.viewers.current} (peak ${room.viewers.peak})`), ' · ',
        h('span', { dataset: { figure: 'rate' } }, `${rate} messages in the last minute`), ' · ',
        h('span', { dataset: { figure: 'slow' } }, room.slow_mode_secs ? `slow mode ${room.slow_mode_secs} s` : 'slow mode off')),
      focused ? this.slowForm : (this.slowForm = this.slowModeControl()),
      h('h3', {}, 'Questions'),
      event.qa ? h('ul', { class: 'questions' }, questions.map((question) => h('li', { dataset: { state: question.state, id: question.id } },
        h('span', { class: 'chip' }, `▲ ${question.upvotes}`), ' ',
        h('span', { class: 'question-body' }, question.body), ' ',
        h('span', { class: 'muted small' }, `${question.author_name} · ${question.state}`), ' ',
        h('button', { type: 'button', onclick: () => this.act(question, 'answer') }, 'Answer'),
        h('button', { type: 'button', onclick: () => this.act(question, 'pin') }, 'Pin'),
        h('button', { type: 'button', onclick: () => this.act(question, 'hide') }, 'Hide'))))
        : h('p', { class: 'muted' }, 'This event does not take questions.'),
      h('h3', {}, 'Chat'),
      h('ul', { class: 'event-chat' }, messages.map((message) => h('li', { dataset: { id: message.id } },
        h('strong', {}, message.author.name), ' ',
        message.deleted ? h('em', {}, '(deleted)') : message.body, ' ',
        !message.deleted && h('button', { type: 'button', onclick: () => this.remove(message) }, 'Delete'),
        message.author.kind === 'fan' && h('button', { type: 'button', onclick: () => this.timeOut(message) }, 'Time out')))));
  }
}

