// The events screen (owner, supervisors; docs/api.md › Events): the events with their
// status and label, a form to schedule one (title, kind, start, duration, video URL,
// Q&A), and an event's moderation view (event-moderation.js), live over the console's
// WebSocket, with its figures (event-metrics.js: live so far, final after the end). Statuses move on by the clock (scheduled → live → ended), recomputed here
// every few seconds without asking the server.

import { api, ApiError } from './api.js';
import { h, replace, toast } from './dom.js';
import { EventMetricsPanel } from './event-metrics.js';
import { EventModeration } from './event-moderation.js';
import { ServerClock, phaseAt } from './watch-clock.js';

const STATUS_EVERY_MS = 5_000;

function localInputToIso(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function mountEvents(root, ctx) {
  const state = { events: [], moderation: null, metrics: null, timer: null, clock: new ServerClock() };
  const title = h('input', { type: 'text', name: 'title', required: true, maxlength: '200', autocomplete: 'off' });
  const kind = h('select', { name: 'kind' },
    h('option', { value: 'premiere' }, 'Premiere (pre-recorded)'),
    h('option', { value: 'live' }, 'Live'));
  const starts = h('input', { type: 'datetime-local', name: 'starts_at', required: true });
  const duration = h('input', { type: 'number', name: 'duration_mins', min: '1', max: '1440', value: '30', required: true });
  const media = h('input', { type: 'text', name: 'media_url', inputmode: 'url', placeholder: 'https://cdn.example.com/film.webm', autocomplete: 'off' });
  const qa = h('input', { type: 'checkbox', name: 'qa' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'event-form', onsubmit: (event) => create(event) },
    h('h2', {}, 'Schedule an event'),
    h('label', {}, 'Title', title),
    h('label', {}, 'Kind', kind),
    h('label', {}, 'Starts', starts),
    h('label', {}, 'Duration (minutes)', duration),
    h('label', {}, 'Video URL (required for a premiere)', media),
    h('label', { class: 'check' }, qa, 'Take questions (Q&A)'),
    formError,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Schedule')));
  const listBody = h('tbody');
  const detail = h('section', { class: 'panel event-detail', hidden: true });
  const figures = h('section', { class: 'panel event-metrics', hidden: true, 'aria-label': 'Event figures' });

  replace(root, h('div', { class: 'events' },
    h('section', { class: 'panel events-list' },
      h('h2', {}, 'Events'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Title'), h('th', {}, 'Label'), h('th', {}, 'Status'), h('th', {}, 'Starts'), h('th', {}, 'Q&A'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          listBody))),
    h('section', { class: 'panel events-new' }, form),
    detail,
    figures));

  async function refresh() {
    try {
      const sentAt = Date.now();
      state.events = (await api('GET', '/events')).events;
      if (state.events[0]) state.clock.sample(state.events[0].server_time, sentAt, Date.now());
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    paintList();
  }

  /** Each row's status as the server's clock has it now (rows stay; only the text moves). */
  function paintStatuses() {
    const now = state.clock.now();
    listBody.querySelectorAll('td.event-status-cell').forEach((cell, index) => {
      const status = phaseAt(state.events[index], now);
      if (cell.textContent !== status) cell.textContent = status;
    });
  }

  function paintList() {
    replace(listBody, state.events.map((event) => h('tr', {},
      h('td', {}, event.title),
      h('td', {}, h('span', { class: 'chip' }, event.label)),
      h('td', { class: 'event-status-cell' }, event.status),
      h('td', {}, new Date(event.starts_at).toLocaleString()),
      h('td', {}, event.qa ? 'on' : 'off'),
      h('td', {}, h('button', { type: 'button', onclick: () => select(event.id) }, 'Moderate')))));
  }

  async function create(event) {
    event.preventDefault();
    formError.hidden = true;
    const body = {
      title: title.value,
      kind: kind.value,
      starts_at: localInputToIso(starts.value),
      duration_secs: Math.round(Number(duration.value) * 60),
      qa: qa.checked,
    };
    if (media.value.trim()) body.media_url = media.value.trim();
    try {
      const created = await api('POST', '/events', body);
      toast(`Scheduled “${created.title}”`);
      form.reset();
      await refresh();
      select(created.id);
    } catch (error) {
      formError.textContent = error instanceof ApiError ? error.message : String(error);
      formError.hidden = false;
    }
  }

  function select(id) {
    const event = state.events.find((item) => item.id === id);
    if (!event) return;
    state.moderation?.destroy();
    state.metrics?.destroy();
    detail.hidden = false;
    figures.hidden = false;
    state.moderation = new EventModeration(detail, event, ctx.live);
    state.metrics = new EventMetricsPanel(figures, event);
  }

  refresh();
  state.timer = setInterval(paintStatuses, STATUS_EVERY_MS);
  return {
    unmount() {
      clearInterval(state.timer);
      state.moderation?.destroy();
      state.metrics?.destroy();
    },
  };
}

