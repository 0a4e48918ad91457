// The fan directory: fans by name or tag, most recently seen first, a page at a time
// (`GET /fans`); a fan's history lists every conversation they had, resolved ones
// included (`GET /conversations?fan_id=`), each opening in the inbox.

import { api, query } from './api.js';
import { h, replace } from './dom.js';
import { ago } from './format.js';
import { fetchSummaries, previewLine } from './search.js';

const PAGE = 25;

export const fansAllowed = (ctx) => Boolean(ctx.features.fanDirectory);

export function mountFans(root, ctx) {
  const name = h('input', { type: 'search', name: 'q', id: 'fans-q', placeholder: 'Name', autocomplete: 'off' });
  const tag = h('input', { type: 'text', name: 'tag', id: 'fans-tag', placeholder: 'vip', autocomplete: 'off' });
  const list = h('ul', { class: 'fan-list', 'aria-label': 'Fans' });
  const status = h('p', { class: 'muted small', role: 'status' });
  const previous = h('button', { type: 'button', disabled: true, onclick: () => load(Math.max(0, state.offset - PAGE)) }, 'Previous');
  const next = h('button', { type: 'button', disabled: true, onclick: () => load(state.next) }, 'Next');
  const history = h('section', { class: 'fan-history', 'aria-label': 'Fan history' },
    h('p', { class: 'muted' }, 'Pick a fan to see their conversations.'));
  const form = h('form', {
    class: 'fans-search',
    role: 'search',
    'aria-label': 'Search fans',
    onsubmit: (event) => {
      event.preventDefault();
      load(0);
    },
  },
  h('label', { for: 'fans-q' }, 'Name'), name,
  h('label', { for: 'fans-tag' }, 'Tag'), tag,
  h('button', { type: 'submit', class: 'primary' }, 'Search'));
  replace(root, h('div', { class: 'admin fans-screen' },
    h('h2', {}, 'Fans'),
    form,
    h('div', { class: 'fans-layout' },
      h('section', { class: 'fans-directory', 'aria-label': 'Fan directory' },
        status, list, h('div', { class: 'pager' }, previous, next)),
      history)));

  const state = { offset: 0, next: null, selected: null, closed: false };

  async function load(offset) {
    status.textContent = 'Loading…';
    const params = { q: name.value.trim(), tag: tag.value.trim().toLowerCase(), limit: PAGE, offset };
    try {
      const page = await api('GET', `/fans${query(Object.fromEntries(Object.entries(params).filter(([, value]) => value !== '')))}`);
      if (state.closed) return;
      state.offset = offset;
      state.next = page.next_offset;
      previous.disabled = offset === 0;
      next.disabled = page.next_offset === null || page.next_offset === undefined;
      status.textContent = page.fans.length
        ? `Fans ${offset + 1}–${offset + page.fans.length}${page.next_offset ? ', more on the next page' : ''}.`
        : 'No fan matches.';
      replace(list, page.fans.map(fanItem));
    } catch (error) {
      status.textContent = `Cannot load the fans: ${error.message}`;
    }
  }

  function fanItem(fan) {
    return h('li', {},
      h('button', {
        type: 'button',
        class: `fan-item${fan.id === state.selected ? ' selected' : ''}`,
        dataset: { id: fan.id },
        'aria-current': fan.id === state.selected ? 'true' : null,
        onclick: () => showHistory(fan),
      },
      h('span', { class: 'fan-name' }, fan.display_name),
      h('span', { class: 'muted small' }, `${fan.conversation_count} conversation${fan.conversation_count === 1 ? '' : 's'} · seen ${ago(fan.last_seen_at)}`),
      fan.tags.length ? h('span', { class: 'ci-sub' }, fan.tags.map((value) => h('span', { class: 'chip' }, value))) : null));
  }

  async function showHistory(fan) {
    state.selected = fan.id;
    for (const button of list.querySelectorAll('.fan-item')) {
      const on = button.dataset.id === fan.id;
      button.classList.toggle('selected', on);
      if (on) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    ctx.directory.fanNames.set(fan.id, fan.display_name);
    replace(history, h('h3', {}, `${fan.display_name}'s conversations`), h('p', { class: 'muted small' }, 'Loading…'));
    try {
      const { conversations } = await api('GET', `/conversations${query({ fan_id: fan.id, limit: 200 })}`);
      const previews = await fetchSummaries(ctx, conversations.map((conversation) => conversation.id)).catch(() => new Map());
      if (state.closed || state.selected !== fan.id) return;
      const resolved = conversations.filter((conversation) => conversation.status === 'resolved').length;
      replace(history,
        h('h3', {}, `${fan.display_name}'s conversations`),
        h('p', { class: 'muted small' }, `${conversations.length} in all, ${resolved} resolved.`),
        h('ul', { class: 'conv-list history-list', 'aria-label': `Conversations of ${fan.display_name}` },
          conversations.map((conversation) => h('li', {},
            h('a', { class: 'conv-item', href: `#/inbox/${conversation.id}`, dataset: { id: conversation.id } },
              h('span', { class: 'ci-top' },
                h('span', { class: 'ci-name' }, new Date(conversation.created_at).toLocaleString()),
                h('span', { class: `chip chip-${conversation.status}` }, conversation.status)),
              previewLine(previews.get(conversation.id)))))));
    } catch (error) {
      replace(history, h('p', { class: 'form-error', role: 'alert' }, `Cannot load the history: ${error.message}`));
    }
  }

  load(0);
  return {
    unmount() {
      state.closed = true;
    },
  };
}
