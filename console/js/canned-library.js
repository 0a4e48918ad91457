// The canned-response library (docs/api.md › Canned responses; owner and supervisors,
// `ManageCanned`): every template with its shortcut and use count, a form to add or edit
// one (the server checks the template and names the field at fault), deleting one, and
// the library's health — the size warning outside the recommended range, stale templates
// (not edited for months), and templates one agent leans on too much.

import { api, deleteAfterConfirm, showFieldError } from './api.js';
import { h, replace, toast } from './dom.js';
import { when } from './charter.js';

/** Whether `me` may edit the library (the capability table's `ManageCanned`). */
export function cannedLibraryAllowed(me) {
  return me.role === 'owner' || me.role === 'supervisor';
}

function fieldError() {
  return h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
}

export function mountCannedLibrary(root) {
  const state = { templates: [], editing: null, closed: false };
  const listBody = h('tbody');
  const health = h('div', { class: 'canned-health-body' });

  const shortcut = h('input', { type: 'text', name: 'shortcut', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'thanks' });
  const title = h('input', { type: 'text', name: 'title', autocomplete: 'off', required: true });
  const body = h('textarea', { name: 'body', rows: '5', required: true, placeholder: 'Hi {{ fan.first_name | default: "there" }}, …' });
  const errors = { shortcut: fieldError(), title: fieldError(), body: fieldError() };
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const formTitle = h('h2', {}, 'Add a template');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Add template');
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => edit(null) }, 'Cancel');

  replace(root, h('div', { class: 'canned-screen' },
    h('section', { class: 'panel canned-list' },
      h('h2', {}, 'Canned responses'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Shortcut'), h('th', {}, 'Title'), h('th', {}, 'Uses'), h('th', {}, 'Edited'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          listBody))),
    h('section', { class: 'panel canned-new' },
      h('form', { class: 'canned-form', onsubmit: (event) => submit(event) },
        formTitle,
        h('label', {}, 'Shortcut (typed after /)', shortcut), errors.shortcut,
        h('label', {}, 'Title', title), errors.title,
        h('label', {}, 'Template', body), errors.body,
        h('p', { class: 'muted small' }, 'Variables: {{ fan.name }}, {{ fan.first_name }}, {{ agent.name }}, {{ creator.name }}, {{ fan.attributes.KEY }}; a default as {{ fan.first_name | default: "there" }}.'),
        formError,
        h('div', { class: 'dialog-actions' }, cancel, save))),
    h('section', { class: 'panel canned-health' }, h('h2', {}, 'Library health'), health)));

  function edit(template) {
    state.editing = template;
    for (const element of [...Object.values(errors), formError]) element.hidden = true;
    shortcut.value = template ? template.shortcut : '';
    title.value = template ? template.title : '';
    body.value = template ? template.body : '';
    formTitle.textContent = template ? `Edit /${template.shortcut}` : 'Add a template';
    save.textContent = template ? 'Save template' : 'Add template';
    cancel.hidden = !template;
    if (template) title.focus();
  }

  async function submit(event) {
    event.preventDefault();
    for (const element of [...Object.values(errors), formError]) {
      element.hidden = true;
      element.textContent = '';
    }
    const fields = { shortcut: shortcut.value.trim(), title: title.value, body: body.value };
    save.disabled = true;
    try {
      if (state.editing) await api('PATCH', `/canned-responses/${encodeURIComponent(state.editing.id)}`, fields);
      else await api('POST', '/canned-responses', fields);
      toast(`/${fields.shortcut} saved`);
      edit(null);
      await refresh();
    } catch (error) {
      showFieldError(error, errors, formError);
    } finally {
      save.disabled = false;
    }
  }

  function confirmDelete(template) {
    deleteAfterConfirm({
      title: 'Delete template?',
      text: `/${template.shortcut} leaves the picker; messages already sent stay.`,
      path: `/canned-responses/${encodeURIComponent(template.id)}`,
      deleted: `/${template.shortcut} deleted`,
      onDeleted: () => { if (state.editing?.id === template.id) edit(null); },
      refresh,
    });
  }

  function paintList() {
    if (state.templates.length === 0) {
      replace(listBody, h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No template yet.')));
      return;
    }
    replace(listBody, state.templates.map((template) => h('tr', { class: 'canned-row', dataset: { id: template.id } },
      h('td', {}, h('code', {}, `/${template.shortcut}`)),
      h('td', { class: 'canned-title' }, template.title),
      h('td', {}, String(template.uses)),
      h('td', {}, when(template.updated_at)),
      h('td', {}, h('div', { class: 'quick-actions' },
        h('button', { type: 'button', onclick: () => edit(template) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: () => confirmDelete(template) }, 'Delete'))))));
  }

  function paintHealth(report) {
    const percent = (share) => `${Math.round(share * 100)} %`;
    replace(health,
      report.size_warning
        ? h('p', { class: 'canned-size-warning', role: 'status' }, report.size_warning)
        : h('p', { class: 'muted small canned-size-ok' }, `${report.templates} templates: within the recommended ${report.recommended_min}–${report.recommended_max}.`),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents canned-health-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Template'), h('th', {}, 'Uses'), h('th', {}, 'First line unedited'), h('th', {}, 'Last used'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
          h('tbody', {}, report.entries.map((entry) => h('tr', { class: 'health-row', dataset: { id: entry.id } },
            h('td', {}, h('code', {}, `/${entry.shortcut}`), ' ', entry.title),
            h('td', {}, String(entry.uses)),
            h('td', {}, String(entry.unedited_uses)),
            h('td', {}, entry.last_used_at ? when(entry.last_used_at) : 'never'),
            h('td', {}, entry.stale ? h('span', { class: 'chip delivery-pending canned-stale', title: `Not edited for more than ${report.stale_after_days} days` }, 'stale') : null)))))),
      h('h3', {}, `Over-used (over ${percent(report.overuse_share)} of an agent’s messages in ${report.overuse_window_days} days)`),
      report.overused.length
        ? h('ul', { class: 'canned-overused' }, report.overused.map((item) => h('li', {},
          h('code', {}, `/${item.shortcut}`), ` — ${item.member_name}: ${item.uses} of ${item.messages} messages (${percent(item.share)})`)))
        : h('p', { class: 'muted small' }, 'None.'));
  }

  async function refresh() {
    try {
      const [list, report] = await Promise.all([api('GET', '/canned-responses'), api('GET', '/canned-responses/health')]);
      if (state.closed) return;
      state.templates = list.canned_responses;
      paintList();
      paintHealth(report);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  refresh();
  return {
    unmount() {
      state.closed = true;
    },
  };
}
