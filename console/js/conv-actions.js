// Two team actions on a conversation, as dialogs the conversation header opens: Snooze
// (set it aside until a time — it comes back as open then, or as soon as the fan writes;
// docs/api.md › Snooze) and Reassign to a named agent (supervisors, the owner, the lead of
// an escalated conversation; `POST …/assign`).

import { h } from './dom.js';
import { clock } from './format.js';

/** The longest snooze the server accepts, in milliseconds (30 days). */
const MAX_SNOOZE_MS = 30 * 24 * 3600 * 1000;

/** `YYYY-MM-DDTHH:MM` of a Date in local time, the value of a datetime-local input. */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The quick choices: in an hour, tomorrow 09:00, next Monday 09:00. */
function presets(now = new Date()) {
  const hour = new Date(now.getTime() + 3600_000);
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0);
  const daysToMonday = (8 - now.getDay()) % 7 || 7;
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() + daysToMonday, 9, 0);
  return [['In 1 hour', hour], ['Tomorrow 9:00', tomorrow], ['Next Monday 9:00', monday]];
}

function dialog(title, fields, submitLabel, onSubmit) {
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const box = h('dialog', { class: 'dialog' },
    h('form', {
      method: 'dialog',
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        const problem = await onSubmit();
        if (problem) {
          error.hidden = false;
          error.textContent = problem;
        } else box.close();
      },
    },
    h('h3', {}, title),
    fields,
    error,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', onclick: () => box.close() }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, submitLabel))));
  box.addEventListener('close', () => box.remove());
  document.body.append(box);
  box.showModal();
  return box;
}

/** Opens the Snooze dialog; `act(body)` posts `…/snooze` and resolves to the conversation or null. */
export function openSnooze(fanName, act) {
  const now = new Date();
  const input = h('input', {
    type: 'datetime-local', name: 'until', required: true,
    min: localInput(now), max: localInput(new Date(now.getTime() + MAX_SNOOZE_MS)),
    value: localInput(presets(now)[0][1]),
  });
  const quick = h('div', { class: 'snooze-presets', role: 'group', 'aria-label': 'Quick choices' },
    presets(now).map(([label, at]) => h('button', { type: 'button', onclick: () => { input.value = localInput(at); } }, label)));
  dialog(`Snooze ${fanName}`, [
    h('p', { class: 'muted small' }, 'It leaves the lists until then and comes back open — sooner if the fan writes. The fan is not told.'),
    quick,
    h('label', {}, 'Until', input),
  ], 'Snooze', async () => {
    const until = new Date(input.value);
    if (Number.isNaN(until.getTime())) return 'Pick a date and a time.';
    if (until <= new Date()) return 'Pick a time in the future.';
    if (until.getTime() - Date.now() > MAX_SNOOZE_MS) return 'At most 30 days ahead.';
    const done = await act({ until: until.toISOString() });
    return done ? null : 'Not snoozed (see the message below).';
  });
  input.focus();
}

/** Opens the Reassign dialog listing the human members; `act(body)` posts `…/assign`. */
export function openReassign(fanName, directory, currentId, act) {
  const select = h('select', { name: 'member_id', required: true },
    [...directory.members.values()]
      .filter((member) => member.role !== 'bot' && member.id !== currentId && member.active !== false)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((member) => h('option', { value: member.id }, `${member.name} (${member.role.replace('_', ' ')})`)));
  dialog(`Reassign ${fanName}`, [h('label', {}, 'Give it to', select)], 'Reassign', async () => {
    if (!select.value) return 'Pick a member.';
    const done = await act({ member_id: select.value });
    return done ? null : 'Not reassigned (see the message below).';
  });
  select.focus();
}

/** The status chip's words: "snoozed until Tue 09:00" for a snoozed conversation. */
export function statusText(conversation) {
  return conversation.status === 'snoozed' && conversation.snoozed_until
    ? `snoozed until ${clock(conversation.snoozed_until)}`
    : conversation.status;
}
