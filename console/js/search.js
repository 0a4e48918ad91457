// The inbox's search: message text (public and internal), fan name, tag, status and
// assignee, through `GET /conversations`. Results are listed under the form with each
// conversation's last message; picking one opens it in the inbox's pane.

import { api, query } from './api.js';
import { h, replace } from './dom.js';
import { ago } from './format.js';

/** A one-line "who: text" preview of a summary's last message (or null). */
export function previewLine(summary) {
  const last = summary?.last_message;
  if (!last) return null;
  const who = last.author_kind === 'fan' ? '' : `${last.author_name}: `;
  const note = last.visibility === 'internal' ? 'Note · ' : '';
  return h('span', { class: `ci-preview${last.visibility === 'internal' ? ' ci-internal' : ''}` }, `${note}${who}${last.preview}`);
}

/** The summaries of `ids` by conversation id (empty when the server has no inbox API). */
export async function fetchSummaries(ctx, ids) {
  if (!ctx.features.inbox || !ids.length) return new Map();
  const unique = [...new Set(ids)].slice(0, 200);
  const { summaries } = await api('GET', `/inbox/summaries${query({ ids: unique.join(',') })}`);
  return new Map(summaries.map((summary) => [summary.conversation_id, summary]));
}

export function mountSearch(ctx, { onOpen }) {
  const text = h('input', { type: 'search', name: 'q', placeholder: 'Message text', autocomplete: 'off' });
  const fan = h('input', { type: 'search', name: 'fan_name', placeholder: 'Fan name', autocomplete: 'off' });
  const tag = h('input', { type: 'text', name: 'tag', placeholder: 'tag', autocomplete: 'off', pattern: '[A-Za-z0-9_-]{1,32}' });
  const status = h('select', { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    ['open', 'pending', 'resolved'].map((value) => h('option', { value }, value)));
  const assignee = h('select', { name: 'assignee_id' },
    h('option', { value: '' }, 'Anyone'),
    h('option', { value: ctx.me.id }, 'Me'),
    [...ctx.directory.members.values()]
      .filter((member) => member.id !== ctx.me.id && member.role !== 'bot')
      .map((member) => h('option', { value: member.id }, member.name)));
  const results = h('ul', { class: 'conv-list search-results', 'aria-label': 'Search results' });
  const summary = h('p', { class: 'muted small search-summary', role: 'status' });
  const clear = h('button', { type: 'button', hidden: true, onclick: () => reset() }, 'Clear');
  const more = h('details', { class: 'search-more' },
    h('summary', {}, 'Filters'),
    h('div', { class: 'search-filters' },
      h('label', {}, 'Fan', fan),
      h('label', {}, 'Tag', tag),
      h('label', {}, 'Status', status),
      h('label', {}, 'Assignee', assignee)));
  const form = h('form', {
    class: 'inbox-search',
    role: 'search',
    'aria-label': 'Search conversations',
    onsubmit: (event) => {
      event.preventDefault();
      run();
    },
  },
  h('div', { class: 'search-row' },
    h('label', { class: 'sr-only', for: 'inbox-search-q' }, 'Search messages'),
    Object.assign(text, { id: 'inbox-search-q' }),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    clear),
  more, summary, results);

  function filters() {
    const params = {
      q: text.value.trim(),
      fan_name: fan.value.trim(),
      tag: tag.value.trim().toLowerCase(),
      status: status.value,
      assignee_id: assignee.value,
    };
    return Object.fromEntries(Object.entries(params).filter(([, value]) => value));
  }

  async function run() {
    const params = filters();
    if (!Object.keys(params).length) {
      reset();
      return;
    }
    summary.textContent = 'Searching…';
    clear.hidden = false;
    try {
      const { conversations } = await api('GET', `/conversations${query({ ...params, limit: 50 })}`);
      const previews = await fetchSummaries(ctx, conversations.map((conversation) => conversation.id)).catch(() => new Map());
      conversations.forEach((conversation) => ctx.directory.noteConversation(conversation));
      summary.textContent = conversations.length
        ? `${conversations.length} conversation${conversations.length === 1 ? '' : 's'} found.`
        : 'No conversation matches.';
      replace(results, conversations.map((conversation) => item(conversation, previews.get(conversation.id))));
    } catch (error) {
      summary.textContent = `Search failed: ${error.message}`;
      replace(results);
    }
  }

  function item(conversation, found) {
    const name = h('span', { class: 'ci-name' }, ctx.directory.fanName(conversation.fan_id) || 'Fan');
    ctx.directory.resolveFanName(conversation).then((known) => {
      if (known) name.textContent = known;
    });
    return h('li', {},
      h('button', { type: 'button', class: 'conv-item', dataset: { id: conversation.id }, onclick: () => onOpen(conversation.id) },
        h('span', { class: 'ci-top' }, name, h('span', { class: 'muted small' }, ago(conversation.updated_at))),
        previewLine(found),
        h('span', { class: 'ci-sub' }, h('span', { class: `chip chip-${conversation.status}` }, conversation.status))));
  }

  function reset() {
    form.reset();
    summary.textContent = '';
    clear.hidden = true;
    replace(results);
  }

  return form;
}
