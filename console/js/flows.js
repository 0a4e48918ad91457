// The bot flows screen (owners and supervisors; docs/api.md › Flows): the flows with the
// active one marked, an editor for a flow's YAML or JSON with the server's validation
// error shown inline (line and key), a preview of the flow as a tree from its start step,
// its versions, and activating or deactivating it.

import { api, ApiError } from './api.js';
import { h, replace, toast } from './dom.js';
import { when } from './charter.js';

/** A starting point for a new flow. */
const TEMPLATE = `name: Welcome
start: greet
steps:
  greet:
    say: Hi! What can we help you with?
    menu:
      - label: Where is my order?
        value: orders
        next: orders
      - label: Something else
        next: ask_email
  orders:
    say: Orders ship within two days.
    next: ask_email
  ask_email:
    say: What is your email address?
    collect:
      attribute: email
      next: handoff
  handoff:
    say: A person will take it from here.
    handoff: Asked about an order
`;

export function flowsAllowed(me) {
  return ['owner', 'supervisor'].includes(me.role);
}

/** What a step does, in a few words. */
function action(step) {
  if (step.menu) return 'menu';
  if (step.collect) return `collect ${step.collect.attribute}`;
  if (step.branch) return 'branch';
  if (step.handoff !== undefined) return 'hand off';
  if (step.end) return 'end';
  return 'then';
}

/** Where a step goes next, each with why. */
function edges(step) {
  if (step.menu) return step.menu.map((choice) => [`“${choice.label}”`, choice.next]);
  if (step.collect) return [['once valid', step.collect.next]];
  if (step.branch) {
    const rules = step.branch.map((rule) => {
      const [key, value] = Object.entries(rule.when)[0] || ['', ''];
      return [`if ${key} ${value}`, rule.next];
    });
    return [...rules, ['otherwise', step.otherwise]];
  }
  if (step.next) return [['then', step.next]];
  return [];
}

/** The flow as a tree from its start step; a step already drawn is named, not repeated. */
function tree(document) {
  const drawn = new Set();
  const node = (id, label) => {
    const step = document.steps[id];
    const head = h('span', { class: 'flow-step' }, label ? h('span', { class: 'muted' }, `${label} → `) : null,
      h('strong', {}, id), ' ', h('span', { class: 'chip' }, step ? action(step) : 'missing'));
    if (!step || drawn.has(id)) return h('li', {}, head, drawn.has(id) ? h('span', { class: 'muted' }, ' (above)') : null);
    drawn.add(id);
    const children = edges(step).map(([why, next]) => node(next, why));
    return h('li', {}, head,
      step.say ? h('p', { class: 'flow-say' }, step.say) : null,
      step.handoff ? h('p', { class: 'flow-note muted' }, `Note for the team: ${step.handoff}`) : null,
      children.length ? h('ul', {}, children) : null);
  };
  return h('ul', { class: 'flow-tree', 'aria-label': 'Flow preview' }, node(document.start));
}

export function mountFlows(root) {
  const state = { flows: [], current: null };
  const listBody = h('ul', { class: 'flow-list' });
  const format = h('select', { name: 'format', 'aria-label': 'Format' },
    h('option', { value: 'yaml' }, 'YAML'), h('option', { value: 'json' }, 'JSON'));
  const source = h('textarea', { name: 'source', rows: '22', spellcheck: 'false', class: 'flow-source', 'aria-label': 'Flow document' });
  const error = h('p', { class: 'form-error flow-error', role: 'alert', hidden: true });
  const title = h('h3', {}, 'New flow');
  const saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const activateButton = h('button', { type: 'button', hidden: true, onclick: () => setActive(true) }, 'Activate');
  const deactivateButton = h('button', { type: 'button', hidden: true, onclick: () => setActive(false) }, 'Deactivate');
  const status = h('p', { class: 'muted flow-status' });
  const versions = h('ul', { class: 'flow-versions' });
  const preview = h('div', { class: 'flow-preview' }, h('p', { class: 'muted' }, 'Save the flow to see its preview.'));

  const form = h('form', { class: 'flow-form', onsubmit: (event) => save(event) },
    h('div', { class: 'panel-head' }, title,
      h('div', { class: 'charter-actions' }, format, saveButton, activateButton, deactivateButton)),
    status,
    source,
    error);
  replace(root,
    h('div', { class: 'admin flows' },
      h('h2', {}, 'Bot flows'),
      h('p', { class: 'muted' }, 'New conversations start the active flow: it greets, offers quick replies, collects an attribute and hands off to the queue with a note. Its messages are automated and follow the bot rules.'),
      h('div', { class: 'flows-grid' },
        h('section', { class: 'panel' },
          h('div', { class: 'panel-head' }, h('h3', {}, 'Flows'),
            h('button', { type: 'button', onclick: () => edit(null) }, 'New flow')),
          listBody),
        h('section', { class: 'panel' }, form,
          h('h4', {}, 'Versions'), versions),
        h('section', { class: 'panel' }, h('h3', {}, 'Preview'), preview))));

  function showError(failure) {
    if (!failure) {
      error.hidden = true;
      error.textContent = '';
      return;
    }
    // The server's sentence names the line and the key ("line 9: steps.greet.next: …").
    const details = failure instanceof ApiError ? failure.details || {} : {};
    error.hidden = false;
    error.textContent = failure.message;
    error.dataset.field = details.field || '';
    error.dataset.line = details.line || '';
    if (details.line) {
      // Put the caret on the offending line.
      const lines = source.value.split('\n');
      const offset = lines.slice(0, details.line - 1).reduce((sum, line) => sum + line.length + 1, 0);
      source.focus();
      source.setSelectionRange(offset, offset + (lines[details.line - 1] || '').length);
    }
  }

  function paintList() {
    replace(listBody, state.flows.length === 0
      ? h('li', { class: 'muted' }, 'No flow yet.')
      : state.flows.map((flow) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => open(flow.id) }, flow.name),
        ' ', flow.active ? h('span', { class: 'chip chip-active' }, `active · v${flow.active_version}`) : null,
        h('span', { class: 'muted small' }, ` ${flow.latest_version} version${flow.latest_version === 1 ? '' : 's'}`))));
  }

  function paint(detail) {
    state.current = detail;
    if (!detail) {
      title.textContent = 'New flow';
      status.textContent = 'Write the flow, then save it. It starts no conversation until activated.';
      activateButton.hidden = true;
      deactivateButton.hidden = true;
      replace(versions);
      replace(preview, h('p', { class: 'muted' }, 'Save the flow to see its preview.'));
      return;
    }
    title.textContent = detail.name;
    status.textContent = detail.active
      ? `Active: new conversations start version ${detail.active_version}. Showing version ${detail.version}.`
      : `Not active. Showing version ${detail.version}.`;
    activateButton.hidden = detail.active && detail.active_version === detail.version;
    activateButton.textContent = `Activate version ${detail.version}`;
    deactivateButton.hidden = !detail.active;
    format.value = detail.format;
    source.value = detail.source;
    replace(versions, detail.versions.map((version) => h('li', {},
      h('button', { type: 'button', class: 'link', onclick: () => open(detail.id, version.version) }, `Version ${version.version}`),
      h('span', { class: 'muted small' }, ` ${version.format} · ${when(version.created_at)}`),
      detail.active_version === version.version ? h('span', { class: 'chip chip-active' }, 'active') : null)));
    replace(preview, tree(detail.document));
  }

  async function refreshList() {
    state.flows = (await api('GET', '/flows')).flows;
    paintList();
  }

  async function open(id, version) {
    showError(null);
    try {
      const path = version ? `/flows/${encodeURIComponent(id)}?version=${version}` : `/flows/${encodeURIComponent(id)}`;
      paint(await api('GET', path));
    } catch (failure) {
      toast(failure.message, 'error');
    }
  }

  function edit(detail) {
    showError(null);
    paint(detail);
    if (!detail) {
      format.value = 'yaml';
      source.value = TEMPLATE;
    }
    source.focus();
  }

  async function save(event) {
    event.preventDefault();
    showError(null);
    saveButton.disabled = true;
    const body = { source: source.value, format: format.value };
    try {
      const current = state.current;
      const saved = current
        ? await api('POST', `/flows/${encodeURIComponent(current.id)}/versions`, { ...body, base_version: current.latest_version })
        : await api('POST', '/flows', body);
      paint(saved);
      toast(`Saved version ${saved.version}`);
      await refreshList();
    } catch (failure) {
      showError(failure);
    } finally {
      saveButton.disabled = false;
    }
  }

  async function setActive(active) {
    const current = state.current;
    if (!current) return;
    try {
      if (active) await api('POST', `/flows/${encodeURIComponent(current.id)}/activate`, { version: current.version });
      else await api('POST', `/flows/${encodeURIComponent(current.id)}/deactivate`);
      await open(current.id, current.version);
      await refreshList();
      toast(active ? 'Activated: new conversations start this flow' : 'Deactivated');
    } catch (failure) {
      toast(failure.message, 'error');
    }
  }

  edit(null);
  refreshList().catch((failure) => toast(failure.message, 'error'));
  return { unmount() {} };
}
