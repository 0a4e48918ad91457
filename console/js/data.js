// The data screen (owner; docs/export.md): download the workspace's fans and conversations
// as JSON lines, and upload such a file to import it, with what was inserted and skipped.
// A refused file shows the server's reason, which names the line.

import { ApiError } from './api.js';
import { h, replace } from './dom.js';

/** Posts `file` as the body of `POST /api/v1/import`; resolves to the counts. */
export async function importFile(file) {
  let response;
  try {
    response = await fetch('/api/v1/import', {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-ndjson', 'X-Requested-With': 'fandesk' },
      body: file,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || `http_${response.status}`,
      error.message || response.statusText || 'Import failed', error.details || {});
  }
  return data;
}

const COUNTS = [
  ['fans', 'Fans'],
  ['conversations', 'Conversations'],
  ['messages', 'Messages'],
  ['members', 'Members created'],
  ['metric_rows', 'Metric rows'],
  ['channel_rows', 'Channel rows'],
  ['skipped', 'Skipped (already here)'],
];

export function mountData(root) {
  const file = h('input', { type: 'file', name: 'file', accept: '.jsonl,.ndjson,application/x-ndjson' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Import');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const result = h('div', { class: 'import-result', role: 'status' });

  async function upload(event) {
    event.preventDefault();
    error.hidden = true;
    replace(result);
    const chosen = file.files && file.files[0];
    if (!chosen) {
      error.textContent = 'Choose a file written by an export first.';
      error.hidden = false;
      return;
    }
    button.disabled = true;
    replace(result, h('p', { class: 'muted' }, `Importing ${chosen.name}…`));
    try {
      const counts = await importFile(chosen);
      replace(result,
        h('h3', {}, `Imported ${chosen.name}`),
        h('table', { class: 'agents import-counts' },
          h('tbody', {}, COUNTS.map(([key, label]) => h('tr', {},
            h('th', { scope: 'row' }, label),
            h('td', { dataset: { count: key } }, String(counts[key] ?? 0)))))));
    } catch (failure) {
      replace(result);
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  replace(root, h('div', { class: 'data' },
    h('section', { class: 'panel' },
      h('h2', {}, 'Export'),
      h('p', {}, 'Every fan and conversation of this workspace — messages, notes and whispers included — with the team members (no passwords) and the metric history, as one JSON-lines file.'),
      h('p', {}, h('a', { class: 'button primary', href: '/api/v1/export', download: 'fandesk-export.jsonl' }, 'Download export'))),
    h('section', { class: 'panel' },
      h('form', { class: 'import-form', onsubmit: upload },
        h('h2', {}, 'Import'),
        h('p', {}, 'Adds the fans and conversations of an export to this workspace. Rows already here are skipped, so importing a file twice changes nothing. Team members are matched by email; others are added without a password and cannot log in.'),
        h('label', {}, 'Export file', file),
        error,
        h('div', { class: 'dialog-actions' }, button)),
      result)));
  return { unmount() {} };
}
