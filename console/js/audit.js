// The audit log screen (owner and supervisors; docs/api.md › Supervision): every
// supervisory action and every change of a team member, newest first — who did it, what,
// on which conversation or member, when — filtered by action, by who acted and by
// conversation (the server filters, so a filter reaches back past the first page), with
// "Older entries" paging backwards.

import { api, query } from './api.js';
import { h, replace, toast } from './dom.js';
import { when } from './charter.js';

/** The audited actions and how the screen names them (docs/api.md › Supervision). */
export const AUDIT_ACTIONS = [
  ['monitor', 'Monitored'],
  ['whisper', 'Whispered'],
  ['takeover', 'Took over'],
  ['handback', 'Handed back'],
  ['reassign', 'Reassigned'],
  ['escalate', 'Escalated'],
  ['member_update', 'Changed a member'],
  ['alert_acknowledge', 'Acknowledged an alert'],
  ['alert_dismiss', 'Dismissed an alert'],
  ['api_token_create', 'Created an API token'],
  ['api_token_revoke', 'Revoked an API token'],
];
const PAGE = 50;

/** Whether `me` may open the audit log (the capability table's `ReadAudit`). */
export function auditAllowed(me) {
  return me.role === 'owner' || me.role === 'supervisor';
}

function detailText(entry) {
  const details = entry.details || {};
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join(' · ');
}

export function mountAudit(root, ctx) {
  const state = { entries: [], closed: false, exhausted: false, ticket: 0 };
  const action = h('select', { name: 'action' },
    h('option', { value: '' }, 'Every action'),
    AUDIT_ACTIONS.map(([value, label]) => h('option', { value }, label)));
  const actor = h('select', { name: 'actor_id' }, h('option', { value: '' }, 'Anyone'),
    [...ctx.directory.members.values()]
      .filter((member) => member.role !== 'bot')
      .map((member) => h('option', { value: member.id }, member.name)));
  const conversation = h('input', { type: 'text', name: 'conversation_id', placeholder: 'Conversation id', autocomplete: 'off', spellcheck: 'false' });
  const body = h('tbody');
  const more = h('button', { type: 'button', onclick: () => load(false) }, 'Older entries');
  const count = h('p', { class: 'muted small audit-count', role: 'status' });

  const filters = h('form', { class: 'audit-filters', onsubmit: (event) => { event.preventDefault(); load(true); } },
    h('label', {}, 'Action', action),
    h('label', {}, 'Who', actor),
    h('label', {}, 'Conversation', conversation),
    h('div', { class: 'charter-actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Filter'),
      h('button', {
        type: 'button',
        onclick: () => {
          action.value = '';
          actor.value = '';
          conversation.value = '';
          load(true);
        },
      }, 'Clear')));
  action.addEventListener('change', () => load(true));
  actor.addEventListener('change', () => load(true));

  replace(root, h('div', { class: 'audit-screen' },
    h('section', { class: 'panel audit-log' },
      h('h2', {}, 'Audit log'),
      filters,
      count,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents audit-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'Action'), h('th', {}, 'On'), h('th', {}, 'Details'))),
          body)),
      h('div', { class: 'dialog-actions' }, more))));

  function label(name) {
    return AUDIT_ACTIONS.find(([value]) => value === name)?.[1] ?? name;
  }

  function paint() {
    if (state.closed) return;
    more.hidden = state.exhausted;
    count.textContent = state.entries.length === 0 ? '' : `${state.entries.length} entries${state.exhausted ? '' : ' so far'}`;
    if (state.entries.length === 0) {
      replace(body, h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'Nothing audited matches.')));
      return;
    }
    replace(body, state.entries.map((entry) => h('tr', { class: 'audit-row', dataset: { action: entry.action } },
      h('td', { class: 'audit-when' }, when(entry.created_at)),
      h('td', { class: 'audit-who' }, entry.actor_name),
      h('td', {}, h('span', { class: 'chip' }, label(entry.action))),
      h('td', { class: 'audit-on' }, entry.conversation_id
        ? h('a', { href: `#/inbox/${encodeURIComponent(entry.conversation_id)}` }, entry.conversation_id)
        : entry.details?.member_name ?? '—'),
      h('td', { class: 'audit-details muted small' }, detailText(entry)))));
  }

  async function load(fresh) {
    // Only the latest request counts: an answer to an earlier filter arriving late is dropped.
    state.ticket += 1;
    const ticket = state.ticket;
    if (fresh) {
      state.entries = [];
      state.exhausted = false;
    }
    const before = state.entries.at(-1)?.created_at;
    try {
      const { entries } = await api('GET', `/audit${query({
        limit: PAGE,
        before,
        action: action.value || undefined,
        actor_id: actor.value || undefined,
        conversation_id: conversation.value.trim() || undefined,
      })}`);
      if (state.closed || ticket !== state.ticket) return;
      state.entries.push(...entries);
      state.exhausted = entries.length < PAGE;
      paint();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  load(true);
  return {
    unmount() {
      state.closed = true;
    },
  };
}
