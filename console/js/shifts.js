// The shifts screen (docs/api.md › Agent desk): every shift with its days, local hours and
// members, and a week grid of coverage — each local hour of the week that no staffed
// shift fully covers is highlighted, with its uncovered minutes. The owner and
// supervisors create, edit and delete shifts (`ManageShifts`); everyone else reads.

import { api, deleteAfterConfirm, query, showFieldError } from './api.js';
import { h, replace, toast } from './dom.js';

export const WEEKDAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];
const MANAGERS = ['owner', 'supervisor'];

/** Whether `me` may change shifts (the capability table's `ManageShifts`). */
export function shiftsEditable(me) {
  return MANAGERS.includes(me.role);
}

/** `YYYY-MM-DD` plus `days` (calendar arithmetic in UTC, so no zone shifts it). */
export function addDays(date, days) {
  const [year, month, day] = date.split('-').map(Number);
  const moved = new Date(Date.UTC(year, month - 1, day + days));
  return moved.toISOString().slice(0, 10);
}

/**
 * The coverage answer as a grid: `{ days: [date…7], gaps: Map('date hour' → minutes) }`,
 * keyed by the local date and hour of each uncovered hour (`local_start` on the creator's
 * clock).
 */
export function coverageGrid(coverage) {
  const days = Array.from({ length: 7 }, (_, index) => addDays(coverage.week_start, index));
  const gaps = new Map();
  for (const hour of coverage.uncovered_hours) {
    const key = `${hour.local_start.slice(0, 10)} ${Number(hour.local_start.slice(11, 13))}`;
    gaps.set(key, (gaps.get(key) || 0) + hour.uncovered_minutes);
  }
  return { days, gaps };
}

function fieldError() {
  return h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
}

export function mountShifts(root, ctx) {
  const editable = shiftsEditable(ctx.me);
  const state = { shifts: [], editing: null, week: null, closed: false };
  const listBody = h('tbody');
  const grid = h('div', { class: 'coverage-grid-wrap table-wrap' });
  const weekLabel = h('span', { class: 'coverage-week' });
  const summary = h('p', { class: 'muted small coverage-summary', role: 'status' });

  const name = h('input', { type: 'text', name: 'shift_name', autocomplete: 'off', required: true });
  const dayBoxes = WEEKDAYS.map(([value]) => h('input', { type: 'checkbox', name: 'weekdays', value }));
  const start = h('input', { type: 'time', name: 'start', required: true, value: '09:00' });
  const end = h('input', { type: 'time', name: 'end', required: true, value: '17:00' });
  const memberBoxes = h('div', { class: 'shift-members' });
  const errors = { name: fieldError(), weekdays: fieldError(), start: fieldError(), end: fieldError(), member_ids: fieldError() };
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const formTitle = h('h2', {}, 'Add a shift');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Add shift');
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => edit(null) }, 'Cancel');
  const form = editable
    ? h('form', { class: 'shift-form', onsubmit: (event) => submit(event) },
      formTitle,
      h('label', {}, 'Name', name), errors.name,
      h('fieldset', { class: 'shift-days' }, h('legend', {}, 'Days it starts on'),
        WEEKDAYS.map(([, label], index) => h('label', { class: 'check' }, dayBoxes[index], label))),
      errors.weekdays,
      h('div', { class: 'shift-times' }, h('label', {}, 'Start', start), h('label', {}, 'End', end)),
      errors.start, errors.end,
      h('p', { class: 'muted small' }, 'Local times in the team’s time zone; an end at or before the start is the next day.'),
      h('fieldset', { class: 'shift-members-box' }, h('legend', {}, 'Who works it'), memberBoxes),
      errors.member_ids,
      formError,
      h('div', { class: 'dialog-actions' }, cancel, save))
    : null;

  replace(root, h('div', { class: 'shifts-screen' },
    h('section', { class: 'panel shifts-list' },
      h('h2', {}, 'Shifts'),
      editable ? null : h('p', { class: 'muted small' }, 'The owner and supervisors edit the schedule.'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Days'), h('th', {}, 'Hours'), h('th', {}, 'Members'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          listBody))),
    form ? h('section', { class: 'panel shifts-new' }, form) : null,
    h('section', { class: 'panel coverage' },
      h('div', { class: 'panel-head' }, h('h2', {}, 'Coverage'),
        h('div', { class: 'charter-actions' },
          h('button', { type: 'button', 'aria-label': 'Previous week', onclick: () => moveWeek(-7) }, '‹'),
          weekLabel,
          h('button', { type: 'button', 'aria-label': 'Next week', onclick: () => moveWeek(7) }, '›'))),
      summary,
      grid)));

  function humans() {
    return [...ctx.directory.members.values()].filter((member) => member.role !== 'bot' && member.active !== false);
  }

  function paintMemberBoxes(selected = []) {
    replace(memberBoxes, humans().map((member) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'member_ids', value: member.id, checked: selected.includes(member.id) }),
      member.name)));
  }

  function edit(shift) {
    state.editing = shift;
    if (!form) return;
    for (const element of [...Object.values(errors), formError]) element.hidden = true;
    name.value = shift ? shift.name : '';
    for (const box of dayBoxes) box.checked = shift ? shift.weekdays.includes(box.value) : false;
    start.value = shift ? shift.start : '09:00';
    end.value = shift ? shift.end : '17:00';
    paintMemberBoxes(shift ? shift.member_ids : []);
    formTitle.textContent = shift ? `Edit ${shift.name}` : 'Add a shift';
    save.textContent = shift ? 'Save shift' : 'Add shift';
    cancel.hidden = !shift;
    if (shift) name.focus();
  }

  async function submit(event) {
    event.preventDefault();
    for (const element of [...Object.values(errors), formError]) {
      element.hidden = true;
      element.textContent = '';
    }
    const body = {
      name: name.value,
      weekdays: dayBoxes.filter((box) => box.checked).map((box) => box.value),
      start: start.value,
      end: end.value,
      member_ids: [...memberBoxes.querySelectorAll('input:checked')].map((box) => box.value),
    };
    save.disabled = true;
    try {
      if (state.editing) {
        await api('PATCH', `/shifts/${encodeURIComponent(state.editing.id)}`, body);
        toast(`${body.name.trim()} saved`);
      } else {
        await api('POST', '/shifts', body);
        toast(`${body.name.trim()} added`);
      }
      edit(null);
      await refresh();
    } catch (error) {
      showFieldError(error, errors, formError);
    } finally {
      save.disabled = false;
    }
  }

  function confirmDelete(shift) {
    deleteAfterConfirm({
      title: 'Delete shift?',
      text: `“${shift.name}” leaves the schedule; its hours may become uncovered.`,
      path: `/shifts/${encodeURIComponent(shift.id)}`,
      deleted: `${shift.name} deleted`,
      onDeleted: () => { if (state.editing?.id === shift.id) edit(null); },
      refresh,
    });
  }

  function paintList() {
    if (state.shifts.length === 0) {
      replace(listBody, h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No shift yet: every hour is uncovered.')));
      return;
    }
    const memberName = (id) => ctx.directory.memberName(id) || id;
    replace(listBody, state.shifts.map((shift) => h('tr', { class: 'shift-row', dataset: { id: shift.id } },
      h('td', { class: 'shift-name' }, shift.name),
      h('td', {}, WEEKDAYS.filter(([value]) => shift.weekdays.includes(value)).map(([, label]) => label).join(' ')),
      h('td', {}, `${shift.start}–${shift.end}`, h('span', { class: 'muted small' }, ` ${shift.time_zone}`)),
      h('td', {}, shift.member_ids.length ? shift.member_ids.map(memberName).join(', ') : h('span', { class: 'muted' }, 'nobody')),
      h('td', {}, editable
        ? h('div', { class: 'quick-actions' },
          h('button', { type: 'button', onclick: () => edit(shift) }, 'Edit'),
          h('button', { type: 'button', class: 'danger', onclick: () => confirmDelete(shift) }, 'Delete'))
        : null))));
  }

  function paintCoverage(coverage) {
    const { days, gaps } = coverageGrid(coverage);
    state.week = coverage.week_start;
    weekLabel.textContent = `${days[0]} – ${days[6]}`;
    summary.textContent = coverage.uncovered_minutes_total === 0
      ? `Every hour of this week is covered (${coverage.time_zone}).`
      : `${coverage.uncovered_hours.length} hours of this week not fully covered, highlighted below (${coverage.time_zone}).`;
    const dayName = (date) => WEEKDAYS[(new Date(`${date}T12:00:00Z`).getUTCDay() + 6) % 7][1];
    replace(grid, h('table', { class: 'coverage-grid', 'aria-label': 'Coverage by hour' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Hour'), days.map((date) => h('th', { scope: 'col' }, dayName(date), h('span', { class: 'muted small' }, ` ${date.slice(5)}`))))),
      h('tbody', {}, Array.from({ length: 24 }, (_, hour) => h('tr', {},
        h('th', { scope: 'row' }, `${String(hour).padStart(2, '0')}:00`),
        days.map((date) => {
          const minutes = gaps.get(`${date} ${hour}`);
          return minutes
            ? h('td', { class: 'gap', dataset: { date, hour: String(hour) }, title: `${minutes} min uncovered` }, `${minutes}′`)
            : h('td', { class: 'covered', dataset: { date, hour: String(hour) } }, '');
        }))))));
  }

  async function loadCoverage(week) {
    try {
      const coverage = await api('GET', `/coverage${query({ week })}`);
      if (!state.closed) paintCoverage(coverage);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function moveWeek(days) {
    if (state.week) loadCoverage(addDays(state.week, days));
  }

  async function refresh() {
    try {
      const { shifts } = await api('GET', '/shifts');
      if (state.closed) return;
      state.shifts = shifts;
      paintList();
      await loadCoverage(state.week || undefined);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  if (editable) paintMemberBoxes();
  refresh();
  return {
    unmount() {
      state.closed = true;
    },
  };
}
