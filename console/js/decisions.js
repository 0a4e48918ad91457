// The decision log screen (docs/api.md › Team channels › The decision log): decisions and
// actions from every channel the member reads, filtered by kind, status, channel, owner
// and day; an entry marked done or open again; the filtered log downloaded as Markdown or
// CSV (the export routes, through the session cookie).

import { api, query } from './api.js';
import { h, replace, toast } from './dom.js';

export function mountDecisions(root, ctx) {
  const select = (name, label, options) => h('label', {}, label,
    h('select', { name }, options.map(([value, text]) => h('option', { value }, text))));
  const kind = select('kind', 'Kind', [['', 'All'], ['decision', 'Decisions'], ['action', 'Actions']]);
  const status = select('status', 'Status', [['', 'All'], ['open', 'Open'], ['done', 'Done']]);
  const channel = h('select', { name: 'channel_id' }, h('option', { value: '' }, 'All'));
  const owner = h('select', { name: 'owner' }, h('option', { value: '' }, 'Anyone'),
    [...ctx.directory.members.values()].map((member) => h('option', { value: member.id }, member.name)));
  const date = h('input', { type: 'date', name: 'date' });
  const body = h('tbody');
  const exportLink = (format, text) => h('a', { class: 'button', dataset: { format }, download: `decisions.${format}` }, text);
  const markdown = exportLink('md', 'Export Markdown');
  const csv = exportLink('csv', 'Export CSV');
  const form = h('form', { class: 'decision-filters', onchange: () => refresh(), onsubmit: (event) => { event.preventDefault(); refresh(); } },
    kind, status, h('label', {}, 'Channel', channel), h('label', {}, 'Owner', owner), h('label', {}, 'Day', date), markdown, csv);

  replace(root, h('section', { class: 'panel decisions' },
    h('h2', {}, 'Decision log'), form,
    h('div', { class: 'table-wrap' }, h('table', { class: 'agents decision-table' },
      h('thead', {}, h('tr', {}, ['When', 'Kind', 'Text', 'Owner', 'Channel', 'Status', ''].map((title) => h('th', {}, title || h('span', { class: 'sr-only' }, 'Actions'))))),
      body))));

  function filters() {
    return {
      kind: form.querySelector('[name="kind"]').value,
      status: form.querySelector('[name="status"]').value,
      channel_id: channel.value,
      owner: owner.value,
      date: date.value,
    };
  }

  async function loadChannels() {
    try {
      const [active, archived] = await Promise.all([api('GET', '/channels'), api('GET', '/channels?archived=true')]);
      replace(channel, h('option', { value: '' }, 'All'),
        [...active.channels, ...archived.channels].map((item) => h('option', { value: item.id }, `# ${item.name}`)));
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async function setStatus(item, next) {
    try {
      await api('PATCH', `/decisions/${encodeURIComponent(item.id)}`, { status: next });
      refresh();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async function refresh() {
    const current = filters();
    markdown.setAttribute('href', `/api/v1/decisions/export${query({ ...current, format: 'md' })}`);
    csv.setAttribute('href', `/api/v1/decisions/export${query({ ...current, format: 'csv' })}`);
    let items;
    try {
      items = (await api('GET', `/decisions${query(current)}`)).items;
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    replace(body, items.length ? items.map((item) => h('tr', { dataset: { kind: item.kind, status: item.status } },
      h('td', {}, new Date(item.created_at).toLocaleString()),
      h('td', {}, h('span', { class: `chip chip-${item.kind}` }, item.kind)),
      h('td', {}, item.text),
      h('td', {}, item.owner_name || '—'),
      h('td', {}, `# ${item.channel_name}`),
      h('td', {}, item.status),
      h('td', {}, h('button', { type: 'button', class: 'small', onclick: () => setStatus(item, item.status === 'done' ? 'open' : 'done') },
        item.status === 'done' ? 'Reopen' : 'Mark done'))))
      : h('tr', {}, h('td', { colspan: '7', class: 'muted' }, 'Nothing logged yet: start a channel message with DECISION: or ACTION:.')));
  }

  loadChannels();
  refresh();
  return { unmount() {} };
}
