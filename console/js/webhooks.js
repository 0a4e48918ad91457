// The webhooks screen (owner; docs/api.md › Webhooks): the subscribed URLs with their
// events and last delivery, a form to add one (its secret generated here and shown once,
// since the server never shows it again), deleting one, and each webhook's delivery log
// with status, attempts and the delivery id receivers deduplicate by.

import { api, deleteAfterConfirm, query, showFieldError } from './api.js';
import { h, replace, toast } from './dom.js';
import { when } from './charter.js';

/** Every event a webhook can subscribe to, with what it carries (docs/api.md › Webhooks). */
export const WEBHOOK_EVENTS = [
  ['message.created', 'Public messages, from fans and the team'],
  ['message.created.internal', 'Internal messages: notes, whispers, status entries'],
  ['conversation.updated', 'Opened, claimed, assigned, resolved, reopened, escalated…'],
  ['alert.raised', 'Supervisor alerts'],
  ['decision.created', 'Decisions and actions logged by the team'],
];
const LOG_POLL_MS = 5_000;

/** 32 random bytes as hex: a signing secret for a new webhook. */
export function newSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function statusChip(delivery) {
  if (!delivery) return h('span', { class: 'chip' }, 'no delivery yet');
  return h('span', { class: `chip delivery-${delivery.status}` }, delivery.status);
}

export function mountWebhooks(root, ctx) {
  const state = { webhooks: [], selected: null, closed: false, pollTimer: null };

  const url = h('input', { type: 'text', name: 'url', inputmode: 'url', placeholder: 'http://receiver.example.com/fandesk', required: true, autocomplete: 'off' });
  const urlError = h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
  const eventBoxes = WEBHOOK_EVENTS.map(([name]) => h('input', { type: 'checkbox', name: 'events', value: name, checked: name === 'message.created' }));
  const eventsError = h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
  const secret = h('input', { type: 'text', name: 'secret', autocomplete: 'off', spellcheck: 'false', placeholder: 'Leave empty to generate one' });
  const secretError = h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const createButton = h('button', { type: 'submit', class: 'primary' }, 'Add webhook');
  const reveal = h('div', { class: 'secret-reveal', role: 'status', hidden: true });
  const listBody = h('tbody');
  const logTitle = h('h2', {}, 'Delivery log');
  const logBody = h('tbody');
  const logPanel = h('section', { class: 'panel webhooks-log', hidden: true },
    h('div', { class: 'panel-head' }, logTitle,
      h('div', { class: 'charter-actions' },
        h('button', { type: 'button', onclick: () => refreshLog() }, 'Refresh'),
        h('button', { type: 'button', onclick: () => closeLog() }, 'Close'))),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'agents deliveries' },
        h('thead', {}, h('tr', {},
          h('th', {}, 'Delivery id'), h('th', {}, 'Event'), h('th', {}, 'Status'), h('th', {}, 'Attempts'),
          h('th', {}, 'Last answer'), h('th', {}, 'Last attempt'), h('th', {}, 'Delivered'), h('th', {}, 'Created'))),
        logBody)));

  const fieldErrors = { url: urlError, events: eventsError, secret: secretError };
  const form = h('form', { class: 'webhook-form', onsubmit: (event) => create(event) },
    h('h2', {}, 'Add a webhook'),
    h('label', {}, 'URL', url),
    urlError,
    h('fieldset', { class: 'webhook-events' }, h('legend', {}, 'Events'),
      WEBHOOK_EVENTS.map(([name, what], index) => h('label', { class: 'check' }, eventBoxes[index], h('code', {}, name), h('span', { class: 'muted small' }, what)))),
    eventsError,
    h('label', {}, 'Signing secret', secret),
    secretError,
    h('p', { class: 'muted small' }, 'Each delivery is signed with HMAC-SHA256 of this secret (header X-Fandesk-Signature). It is shown once, right after the webhook is added.'),
    formError,
    h('div', { class: 'dialog-actions' }, createButton));

  replace(root, h('div', { class: 'webhooks' },
    h('section', { class: 'panel webhooks-list' },
      h('h2', {}, 'Webhooks'),
      reveal,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'URL'), h('th', {}, 'Events'), h('th', {}, 'Added'), h('th', {}, 'Last delivery'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          listBody))),
    h('section', { class: 'panel webhooks-new' }, form),
    logPanel));

  function clearErrors() {
    for (const element of [...Object.values(fieldErrors), formError]) {
      element.hidden = true;
      element.textContent = '';
    }
  }

  async function create(event) {
    event.preventDefault();
    clearErrors();
    const events = eventBoxes.filter((box) => box.checked).map((box) => box.value);
    const signing = secret.value || newSecret();
    createButton.disabled = true;
    try {
      const webhook = await api('POST', '/webhooks', { url: url.value.trim(), events, secret: signing });
      showSecret(webhook, signing);
      url.value = '';
      secret.value = '';
      await refresh();
    } catch (error) {
      showFieldError(error, fieldErrors, formError);
    } finally {
      createButton.disabled = false;
    }
  }

  function showSecret(webhook, signing) {
    const value = h('code', { class: 'secret-value' }, signing);
    replace(reveal,
      h('p', {}, h('strong', {}, 'Webhook added. '), 'Store its signing secret now: it is not shown again.'),
      h('div', { class: 'secret-row' }, value,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(signing);
              toast('Secret copied');
            } catch {
              window.getSelection()?.selectAllChildren(value);
            }
          },
        }, 'Copy'),
        h('button', { type: 'button', class: 'primary', onclick: () => { replace(reveal); reveal.hidden = true; } }, 'I have stored it')),
      h('p', { class: 'muted small' }, `For ${webhook.url}`));
    reveal.hidden = false;
  }

  function paintList() {
    if (state.webhooks.length === 0) {
      replace(listBody, h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No webhook yet.')));
      return;
    }
    replace(listBody, state.webhooks.map((webhook) => h('tr', {
      class: webhook.id === state.selected?.id ? 'webhook-row selected' : 'webhook-row',
      dataset: { id: webhook.id },
    },
    h('td', { class: 'webhook-url' }, webhook.url),
    h('td', {}, webhook.events.map((name) => h('code', { class: 'event-name' }, name))),
    h('td', {}, when(webhook.created_at), h('span', { class: 'muted small' }, ` by ${ctx.directory.memberName(webhook.created_by) || webhook.created_by}`)),
    h('td', {}, statusChip(webhook.last_delivery),
      webhook.last_delivery ? h('span', { class: 'muted small' }, ` ${webhook.last_delivery.event}`) : null),
    h('td', {}, h('div', { class: 'quick-actions' },
      h('button', { type: 'button', onclick: () => openLog(webhook) }, 'Deliveries'),
      h('button', { type: 'button', class: 'danger', onclick: () => confirmDelete(webhook) }, 'Delete'))))));
  }

  async function refresh() {
    try {
      state.webhooks = (await api('GET', '/webhooks')).webhooks;
      if (state.closed) return;
      if (state.selected && !state.webhooks.some((webhook) => webhook.id === state.selected.id)) closeLog();
      paintList();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function confirmDelete(webhook) {
    deleteAfterConfirm({
      title: 'Delete this webhook?',
      detail: h('p', { class: 'webhook-url' }, webhook.url),
      text: 'Nothing more is sent to it; deliveries still pending are cancelled.',
      cancel: 'Keep it',
      path: `/webhooks/${encodeURIComponent(webhook.id)}`,
      deleted: 'Webhook deleted',
      refresh,
    });
  }

  function openLog(webhook) {
    state.selected = webhook;
    replace(logTitle, 'Delivery log · ', h('span', { class: 'webhook-url' }, webhook.url));
    logPanel.hidden = false;
    paintList();
    refreshLog();
  }

  function closeLog() {
    state.selected = null;
    clearTimeout(state.pollTimer);
    logPanel.hidden = true;
    paintList();
  }

  async function refreshLog() {
    clearTimeout(state.pollTimer);
    const webhook = state.selected;
    if (!webhook || state.closed) return;
    try {
      const { deliveries } = await api('GET', `/webhooks/${encodeURIComponent(webhook.id)}/deliveries${query({ limit: 50 })}`);
      if (state.selected !== webhook || state.closed) return;
      replace(logBody, deliveries.length === 0
        ? h('tr', {}, h('td', { colspan: '8', class: 'muted' }, 'Nothing delivered yet.'))
        : deliveries.map((delivery) => h('tr', { class: 'delivery-row', dataset: { id: delivery.id, status: delivery.status } },
          h('td', {}, h('code', { class: 'delivery-id' }, delivery.id)),
          h('td', {}, h('code', {}, delivery.event)),
          h('td', {}, statusChip(delivery),
            delivery.status === 'pending' && delivery.next_attempt_at
              ? h('span', { class: 'muted small next-attempt' }, ` next attempt ${when(delivery.next_attempt_at)}`)
              : null),
          h('td', { class: 'delivery-attempts' }, String(delivery.attempts)),
          h('td', { class: 'delivery-answer' },
            delivery.last_status_code ? `HTTP ${delivery.last_status_code}` : '',
            delivery.last_error ? h('span', { class: 'muted small' }, ` ${delivery.last_error}`) : null,
            !delivery.last_status_code && !delivery.last_error ? '—' : null),
          h('td', {}, when(delivery.last_attempt_at)),
          h('td', {}, when(delivery.delivered_at)),
          h('td', {}, when(delivery.created_at)))));
      // The log moves while deliveries are pending: keep it fresh while it is open.
      state.pollTimer = setTimeout(refreshLog, LOG_POLL_MS);
      refresh();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  refresh();
  return {
    unmount() {
      state.closed = true;
      clearTimeout(state.pollTimer);
    },
  };
}
