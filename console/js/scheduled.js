// The scheduled-messages screen (owner, supervisors; docs/api.md › Scheduled messages): a
// composer — the message, its audience (everyone, the VIP fans, fans with tags, fans by
// id), an instant or a wall-clock time in each fan's own zone, optional quiet hours — with
// a live preview from the server (how many fans, and when each time zone gets it); the
// messages with their progress and Cancel; and one message's recipients with their due
// time and status. The list refreshes every 5 seconds over REST.

import { api, ApiError, query } from './api.js';
import { h, replace, toast } from './dom.js';

const POLL_MS = 5_000;
const PREVIEW_DELAY_MS = 400;

function localInputToIso(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Comma- or space-separated words. */
function words(text) {
  return text.split(/[\s,]+/).map((word) => word.trim()).filter(Boolean);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

const OPEN = ['scheduled', 'sending'];

export function mountScheduled(root) {
  const state = { timer: null, previewTimer: null, previewSeq: 0, selected: null, closed: false };
  const body = h('textarea', { name: 'body', rows: '3', required: true, maxlength: '4000' });
  const audience = h('select', { name: 'audience' },
    h('option', { value: 'all' }, 'Every fan'),
    h('option', { value: 'vip' }, 'VIP fans'),
    h('option', { value: 'tags' }, 'Fans with any of these tags'),
    h('option', { value: 'fan_ids' }, 'These fans (ids)'));
  const audienceWords = h('input', { type: 'text', name: 'audience_words', autocomplete: 'off', placeholder: 'tour, early-bird', hidden: true });
  const timing = h('select', { name: 'timing' },
    h('option', { value: 'local' }, 'At a local time in each fan’s time zone'),
    h('option', { value: 'at' }, 'At one instant for everyone'));
  const localDate = h('input', { type: 'date', name: 'local_date', 'aria-label': 'Local date' });
  const localTime = h('input', { type: 'time', name: 'local_time', value: '09:00', 'aria-label': 'Local time' });
  const at = h('input', { type: 'datetime-local', name: 'at', hidden: true, 'aria-label': 'Instant' });
  const quiet = h('input', { type: 'checkbox', name: 'quiet' });
  const quietStart = h('input', { type: 'time', name: 'quiet_start', value: '22:00', disabled: true, 'aria-label': 'Quiet hours from' });
  const quietEnd = h('input', { type: 'time', name: 'quiet_end', value: '08:00', disabled: true, 'aria-label': 'Quiet hours to' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const preview = h('div', { class: 'schedule-preview', 'aria-live': 'polite' });
  const localFields = h('span', { class: 'schedule-local' }, localDate, localTime);
  const form = h('form', { class: 'event-form schedule-form', onsubmit: (event) => create(event), oninput: () => previewSoon() },
    h('h2', {}, 'Schedule a message'),
    h('label', {}, 'Message', body),
    h('label', {}, 'Audience', audience),
    audienceWords,
    h('label', {}, 'When', timing),
    localFields,
    at,
    h('label', { class: 'check' }, quiet, 'Quiet hours (a due time inside them moves to their end)'),
    h('span', { class: 'schedule-quiet' }, 'from ', quietStart, ' to ', quietEnd),
    preview,
    formError,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Schedule')));
  audience.addEventListener('change', () => {
    audienceWords.hidden = !['tags', 'fan_ids'].includes(audience.value);
    audienceWords.placeholder = audience.value === 'tags' ? 'tour, early-bird' : 'fan ids, comma-separated';
  });
  timing.addEventListener('change', () => {
    const local = timing.value === 'local';
    localFields.hidden = !local;
    at.hidden = local;
    previewSoon();
  });
  quiet.addEventListener('change', () => {
    quietStart.disabled = !quiet.checked;
    quietEnd.disabled = !quiet.checked;
  });
  const tomorrow = new Date(Date.now() + 86_400_000);
  localDate.value = tomorrow.toISOString().slice(0, 10);

  const listBody = h('tbody');
  const detail = h('section', { class: 'panel scheduled-detail', hidden: true });
  replace(root, h('div', { class: 'scheduled' },
    h('section', { class: 'panel scheduled-new' }, form),
    h('section', { class: 'panel scheduled-list' },
      h('h2', {}, 'Scheduled messages'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'Status'), h('th', {}, 'Progress'), h('th', {}, 'First due'), h('th', {}, 'Last due'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          listBody))),
    detail));

  /** The request the form describes. */
  function request() {
    const audienceBody = {};
    if (audience.value === 'all') audienceBody.all = true;
    else if (audience.value === 'vip') audienceBody.vip = true;
    else audienceBody[audience.value] = words(audienceWords.value);
    const asked = { body: body.value, audience: audienceBody };
    if (timing.value === 'local') asked.local = { date: localDate.value, time: localTime.value };
    else asked.at = localInputToIso(at.value);
    if (quiet.checked) asked.quiet_hours = { start: quietStart.value, end: quietEnd.value };
    return asked;
  }

  function previewSoon() {
    clearTimeout(state.previewTimer);
    state.previewTimer = setTimeout(showPreview, PREVIEW_DELAY_MS);
  }

  async function showPreview() {
    const asked = request();
    if (!asked.body.trim()) asked.body = 'preview';
    const seq = ++state.previewSeq;
    try {
      const found = await api('POST', '/scheduled-messages/preview', asked);
      if (seq !== state.previewSeq || state.closed) return;
      replace(preview,
        h('p', { dataset: { figure: 'recipients' } }, `${found.recipients} ${found.recipients === 1 ? 'fan' : 'fans'}`),
        h('table', { class: 'agents schedule-zones' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Time zone'), h('th', {}, 'Fans'), h('th', {}, 'Their time'), h('th', {}, 'Your time'))),
          h('tbody', {}, found.zones.map((zone) => h('tr', { dataset: { zone: zone.time_zone } },
            h('td', {}, zone.time_zone),
            h('td', {}, String(zone.recipients)),
            h('td', {}, zone.local_due.replace('T', ' ')),
            h('td', {}, when(zone.due_at)))))));
    } catch (error) {
      if (seq !== state.previewSeq || state.closed) return;
      replace(preview, h('p', { class: 'muted', dataset: { figure: 'recipients' } },
        error instanceof ApiError ? `No preview: ${error.message}` : String(error)));
    }
  }

  async function refresh() {
    if (state.closed) return;
    clearTimeout(state.timer);
    try {
      const listed = (await api('GET', `/scheduled-messages${query({ limit: 50 })}`)).scheduled_messages;
      replace(listBody, listed.map((message) => h('tr', { dataset: { id: message.id, status: message.status } },
        h('td', { class: 'scheduled-body' }, message.body),
        h('td', {}, h('span', { class: 'chip' }, message.status)),
        h('td', {},
          h('progress', { max: String(Math.max(message.recipients, 1)), value: String(message.sent) }),
          ` ${message.sent} / ${message.recipients} sent`,
          message.cancelled ? ` · ${message.cancelled} cancelled` : '',
          message.failed ? ` · ${message.failed} failed` : ''),
        h('td', {}, when(message.first_due_at)),
        h('td', {}, when(message.last_due_at)),
        h('td', {},
          h('button', { type: 'button', onclick: () => select(message.id) }, 'Recipients'),
          OPEN.includes(message.status) && h('button', { type: 'button', class: 'danger', onclick: () => cancel(message) }, 'Cancel')))));
    } catch (error) {
      toast(error.message, 'error');
    }
    if (state.selected) await renderDetail();
    state.timer = setTimeout(refresh, POLL_MS);
  }

  async function create(event) {
    event.preventDefault();
    formError.hidden = true;
    try {
      const created = await api('POST', '/scheduled-messages', request());
      toast(`Scheduled for ${created.recipients} ${created.recipients === 1 ? 'fan' : 'fans'}`);
      body.value = '';
      state.selected = created.id;
      await refresh();
    } catch (error) {
      formError.textContent = error instanceof ApiError ? error.message : String(error);
      formError.hidden = false;
    }
  }

  async function cancel(message) {
    if (!window.confirm(`Cancel “${message.body.slice(0, 60)}” for the ${message.pending} fans still pending?`)) return;
    try {
      await api('DELETE', `/scheduled-messages/${message.id}`);
      toast('Cancelled');
    } catch (error) {
      toast(error.message, 'error');
    }
    refresh();
  }

  async function select(id) {
    state.selected = id;
    await renderDetail();
  }

  async function renderDetail() {
    let deliveries = [];
    try {
      deliveries = (await api('GET', `/scheduled-messages/${state.selected}/deliveries${query({ limit: 200 })}`)).deliveries;
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    if (state.closed) return;
    detail.hidden = false;
    replace(detail,
      h('h2', {}, 'Recipients'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents scheduled-deliveries' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Fan'), h('th', {}, 'Time zone'), h('th', {}, 'Due'), h('th', {}, 'Status'), h('th', {}, 'Conversation'))),
          h('tbody', {}, deliveries.map((row) => h('tr', { dataset: { fan: row.fan_id, status: row.status } },
            h('td', {}, row.fan_id),
            h('td', {}, row.time_zone),
            h('td', {}, when(row.due_at)),
            h('td', {}, h('span', { class: 'chip' }, row.status)),
            h('td', {}, row.conversation_id ? h('a', { href: `#/inbox/${row.conversation_id}` }, 'Open') : '—')))))),
      deliveries.length === 200 && h('p', { class: 'muted small' }, 'The first 200 recipients by fan id.'));
  }

  refresh();
  showPreview();
  return {
    unmount() {
      state.closed = true;
      clearTimeout(state.timer);
      clearTimeout(state.previewTimer);
    },
  };
}
