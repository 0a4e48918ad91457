// The rules screen (docs/api.md › Keyword and restricted-word rules; owner and
// supervisors, `ManageRules`): keyword rules — a name and the words that raise a keyword
// alert, inflections included — and restricted words team members must not send, each
// blocked or sent with a warning to supervisors. Rules are added and deleted (a change is a
// new rule); the server checks every word and names the field at fault.

import { api, ApiError } from './api.js';
import { h, replace, toast } from './dom.js';

/** Whether `me` may edit the rules (the capability table's `ManageRules`). */
export function rulesAllowed(me) {
  return me.role === 'owner' || me.role === 'supervisor';
}

/** The words of a keyword rule as typed: one per line or comma-separated, blanks dropped. */
export function splitPatterns(text) {
  return text.split(/[\n,]/).map((word) => word.trim()).filter(Boolean);
}

function fieldError() {
  return h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
}

export function mountRules(root) {
  const state = { closed: false };
  const keywordList = h('ul', { class: 'rule-list keyword-rules', 'aria-label': 'Keyword rules' });
  const restrictedList = h('ul', { class: 'rule-list restricted-rules', 'aria-label': 'Restricted words' });

  const ruleName = h('input', { type: 'text', name: 'rule_name', autocomplete: 'off', required: true, placeholder: 'refund' });
  const patterns = h('textarea', { name: 'patterns', rows: '3', required: true, placeholder: 'refund, chargeback, money back' });
  const keywordErrors = { name: fieldError(), patterns: fieldError() };
  const keywordError = h('p', { class: 'form-error', role: 'alert', hidden: true });

  const word = h('input', { type: 'text', name: 'pattern', autocomplete: 'off', required: true });
  const action = h('select', { name: 'action' },
    h('option', { value: 'block' }, 'Block: refuse the message'),
    h('option', { value: 'warn', selected: true }, 'Warn: send it, alert supervisors'));
  const restrictedErrors = { pattern: fieldError(), action: fieldError() };
  const restrictedError = h('p', { class: 'form-error', role: 'alert', hidden: true });

  replace(root, h('div', { class: 'rules-screen' },
    h('section', { class: 'panel rules-keywords' },
      h('h2', {}, 'Keyword alerts'),
      h('p', { class: 'muted small' }, 'A fan message with one of these words (or an inflection: refunds, refunded) raises an alert for supervisors.'),
      keywordList,
      h('form', { class: 'rule-form keyword-form', onsubmit: (event) => addKeyword(event) },
        h('h3', {}, 'Add a keyword rule'),
        h('label', {}, 'Name', ruleName), keywordErrors.name,
        h('label', {}, 'Words (comma or one per line)', patterns), keywordErrors.patterns,
        keywordError,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add rule')))),
    h('section', { class: 'panel rules-restricted' },
      h('h2', {}, 'Restricted words'),
      h('p', { class: 'muted small' }, 'Words the team must not send to fans.'),
      restrictedList,
      h('form', { class: 'rule-form restricted-form', onsubmit: (event) => addRestricted(event) },
        h('h3', {}, 'Add a restricted word'),
        h('label', {}, 'Word or phrase', word), restrictedErrors.pattern,
        h('label', {}, 'What happens', action), restrictedErrors.action,
        restrictedError,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add word'))))));

  function clear(errors, general) {
    for (const element of [...Object.values(errors), general]) {
      element.hidden = true;
      element.textContent = '';
    }
  }

  function show(error, errors, general) {
    const field = error instanceof ApiError ? String(error.details.field || '').replace(/\[\d+\]$/, '') : '';
    const shown = errors[field] || general;
    shown.textContent = error.message;
    shown.hidden = false;
  }

  async function addKeyword(event) {
    event.preventDefault();
    clear(keywordErrors, keywordError);
    try {
      await api('POST', '/keyword-rules', { name: ruleName.value, patterns: splitPatterns(patterns.value) });
      toast('Keyword rule added');
      ruleName.value = '';
      patterns.value = '';
      await refresh();
    } catch (error) {
      show(error, keywordErrors, keywordError);
    }
  }

  async function addRestricted(event) {
    event.preventDefault();
    clear(restrictedErrors, restrictedError);
    try {
      await api('POST', '/restricted-rules', { pattern: word.value, action: action.value });
      toast('Restricted word added');
      word.value = '';
      await refresh();
    } catch (error) {
      show(error, restrictedErrors, restrictedError);
    }
  }

  async function remove(path, what) {
    try {
      await api('DELETE', path);
      toast(`${what} deleted`);
    } catch (error) {
      toast(error.message, 'error');
    }
    await refresh();
  }

  function deleteButton(label, path, what) {
    return h('button', { type: 'button', class: 'danger', 'aria-label': label, onclick: () => remove(path, what) }, 'Delete');
  }

  async function refresh() {
    try {
      const [keywords, restricted] = await Promise.all([api('GET', '/keyword-rules'), api('GET', '/restricted-rules')]);
      if (state.closed) return;
      replace(keywordList, keywords.rules.length
        ? keywords.rules.map((rule) => h('li', { class: 'rule-card', dataset: { id: rule.id } },
          h('div', { class: 'rule-what' }, h('strong', {}, rule.name),
            h('span', { class: 'rule-words' }, rule.patterns.map((pattern) => h('span', { class: 'chip' }, pattern)))),
          deleteButton(`Delete rule ${rule.name}`, `/keyword-rules/${encodeURIComponent(rule.id)}`, rule.name)))
        : h('li', { class: 'muted small' }, 'No keyword rule.'));
      replace(restrictedList, restricted.rules.length
        ? restricted.rules.map((rule) => h('li', { class: 'rule-card', dataset: { id: rule.id } },
          h('div', { class: 'rule-what' }, h('strong', {}, rule.pattern),
            h('span', { class: rule.action === 'block' ? 'chip delivery-failed' : 'chip delivery-pending' }, rule.action)),
          deleteButton(`Delete word ${rule.pattern}`, `/restricted-rules/${encodeURIComponent(rule.id)}`, rule.pattern)))
        : h('li', { class: 'muted small' }, 'No restricted word.'));
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
