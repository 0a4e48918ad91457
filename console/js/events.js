// The events screen (owner, supervisors; docs/api.md › Events): the events with their
// status and label, a form to schedule one (title, kind, start, duration, video URL,
// Q&A), and an event's moderation view: viewers now and at peak and the chat's messages
// in the last minute, its questions with answer / pin / hide, and its chat with delete
// and time out (the room's routes). The view refreshes every 3 seconds over REST.

import { api, ApiError, query } from './api.js';
import { h, replace, toast } from './dom.js';

const POLL_MS = 3_000;

function localInputToIso(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function mountEvents(root, ctx) {
  const state = { events: [], selected: null, timer: null, closed: false };
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

  replace(root, h('div', { class: 'events' },
    h('section', { class: 'panel events-list' },
      h('h2', {}, 'Events'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Title'), h('th', {}, 'Label'), h('th', {}, 'Status'), h('th', {}, 'Starts'), h('th', {}, 'Q&A'), h('th', {}, ''))),
          listBody))),
    h('section', { class: 'panel events-new' }, form),
    detail));

  async function refresh() {
    try {
      state.events = (await api('GET', '/events')).events;
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    replace(listBody, state.events.map((event) => h('tr', {},
      h('td', {}, event.title),
      h('td', {}, h('span', { class: 'chip' }, event.label)),
      h('td', {}, event.status),
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

  async function select(id) {
    state.selected = id;
    clearTimeout(state.timer);
    await renderDetail();
  }

  async function renderDetail() {
    if (state.closed || !state.selected) return;
    const event = state.events.find((item) => item.id === state.selected);
    if (!event) return;
    let questions = [];
    let messages = [];
    let room = null;
    try {
      room = await api('GET', `/rooms/${event.room_id}`);
      if (event.qa) questions = (await api('GET', `/events/${event.id}/questions${query({ order: 'top' })}`)).questions;
      messages = (await api('GET', `/rooms/${event.room_id}/messages`)).messages;
    } catch (error) {
      toast(error.message, 'error');
    }
    const act = async (question, what) => {
      try {
        await api('POST', `/events/${event.id}/questions/${question.id}/${what}`);
      } catch (error) {
        toast(error.message, 'error');
      }
      renderDetail();
    };
    const remove = async (message) => {
      try {
        await api('POST', `/rooms/${event.room_id}/messages/${message.id}/delete`);
      } catch (error) {
        toast(error.message, 'error');
      }
      renderDetail();
    };
    const timeOut = async (message) => {
      try {
        await api('POST', `/rooms/${event.room_id}/timeouts`, { fan_id: message.author.id, seconds: 300 });
        toast(`${message.author.name} is timed out for 5 minutes`);
      } catch (error) {
        toast(error.message, 'error');
      }
    };
    const minuteAgo = Date.now() - 60_000;
    const rate = messages.filter((message) => new Date(message.created_at).getTime() >= minuteAgo).length;
    detail.hidden = false;
    replace(detail,
      h('h2', {}, `Moderate: ${event.title}`),
      h('p', { class: 'muted small' }, `${event.label} · ${event.status}`),
      room && h('p', { class: 'event-figures' },
        h('span', { dataset: { figure: 'viewers' } }, `Viewers now ${room.viewers.current} (peak ${room.viewers.peak})`), ' · ',
        h('span', { dataset: { figure: 'rate' } }, `${rate} messages in the last minute`), ' · ',
        h('span', {}, room.slow_mode_secs ? `slow mode ${room.slow_mode_secs} s` : 'slow mode off')),
      h('h3', {}, 'Questions'),
      event.qa ? h('ul', { class: 'questions' }, questions.map((question) => h('li', { dataset: { state: question.state } },
        h('span', { class: 'chip' }, `▲ ${question.upvotes}`), ' ',
        h('span', { class: 'question-body' }, question.body), ' ',
        h('span', { class: 'muted small' }, `${question.author_name} · ${question.state}`), ' ',
        h('button', { type: 'button', onclick: () => act(question, 'answer') }, 'Answer'),
        h('button', { type: 'button', onclick: () => act(question, 'pin') }, 'Pin'),
        h('button', { type: 'button', onclick: () => act(question, 'hide') }, 'Hide'))))
        : h('p', { class: 'muted' }, 'This event does not take questions.'),
      h('h3', {}, 'Chat'),
      h('ul', { class: 'event-chat' }, messages.map((message) => h('li', {},
        h('strong', {}, message.author.name), ' ',
        message.deleted ? h('em', {}, '(deleted)') : message.body, ' ',
        !message.deleted && h('button', { type: 'button', onclick: () => remove(message) }, 'Delete'),
        message.author.kind === 'fan' && h('button', { type: 'button', onclick: () => timeOut(message) }, 'Time out')))));
    state.timer = setTimeout(renderDetail, POLL_MS);
  }

  refresh();
  return {
    unmount() {
      state.closed = true;
      clearTimeout(state.timer);
    },
  };
}

