// The agent inbox: my conversations and the queue (live timers against the 60 s / 30 s
// targets), the selected conversation, and the fan panel. The `inbox` topic and each
// listed conversation's topic trigger a (debounced) refetch of the lists; a slow poll
// covers changes no event announces. Each item shows its last message and the member's
// unread count (kept by the server per member; opening a conversation marks it read), the
// total goes to the tab title, and the search form sits above the lists. Keyboard: j/k next/previous, r reply, d resolve,
// e escalate, ? help.

import { ConversationPane } from './conversation.js';
import { h, replace, typingTarget } from './dom.js';
import { statusText } from './conv-actions.js';
import { FanPanel } from './fanpanel.js';
import { mood } from './format.js';
import { active, byPriority, fetchMine, fetchQueue, normalize, tickTimers, timer } from './lists.js';
import { api } from './api.js';
import { fetchSummaries, mountSearch, previewLine } from './search.js';

const POLL_MS = 10_000;
const MAX_WATCHED = 60;

export function mountInbox(root, ctx, { conversationId } = {}) {
  const mineList = h('ul', { class: 'conv-list', 'aria-label': 'My conversations' });
  const queueList = h('ul', { class: 'conv-list', 'aria-label': 'Queue' });
  const mineCount = h('span', { class: 'count' }, '0');
  const queueCount = h('span', { class: 'count' }, '0');
  const queueNote = h('p', { class: 'muted small', hidden: ctx.features.queue }, 'Unassigned open conversations, highest priority first.');
  const paneRoot = h('section', { class: 'conv-pane', 'aria-label': 'Conversation' });
  const fanRoot = h('aside', { class: 'fan-panel', 'aria-label': 'Fan profile' });
  const fanToggle = h('button', { type: 'button', class: 'fan-toggle', onclick: () => layout.classList.toggle('show-fan') }, 'Fan profile');
  const layout = h('div', { class: 'inbox' },
    h('nav', { class: 'lists', 'aria-label': 'Conversation lists' },
      mountSearch(ctx, { onOpen: (id) => select(id) }),
      ctx.notify?.controls(),
      h('h2', {}, 'My conversations ', mineCount), mineList,
      h('h2', {}, 'Queue ', queueCount), queueNote, queueList),
    paneRoot, fanRoot, fanToggle);
  replace(root, layout);

  const state = { mine: [], queue: [], selected: conversationId ?? null, watched: new Map(), summaries: new Map(), loaded: false };
  const fanPanel = new FanPanel(fanRoot, ctx);
  const pane = new ConversationPane(paneRoot, ctx, {
    onChanged: (conversation) => {
      upsert(conversation);
      fanPanel.show(conversation);
    },
    onFan: (conversation) => fanPanel.show(conversation),
  });

  function upsert(conversation) {
    const isMine = conversation.assignee_id === ctx.me.id && active(conversation);
    const inQueue = !conversation.assignee_id && conversation.status === 'open';
    const replaceIn = (list, keep) => {
      const index = list.findIndex((item) => item.id === conversation.id);
      if (index >= 0 && keep) list[index] = { ...list[index], ...conversation };
      else if (index >= 0) list.splice(index, 1);
      else if (keep) list.push(conversation);
    };
    replaceIn(state.mine, isMine);
    replaceIn(state.queue, inQueue);
    paint();
    scheduleRefresh();
  }

  /** The desk's `queue.updated`: the entry, or null once it left the queue. */
  function queueChanged(event) {
    const index = state.queue.findIndex((item) => item.id === event.conversation_id);
    if (event.entry) {
      const conversation = normalize(event.entry);
      ctx.directory.noteConversation(conversation);
      if (index >= 0) state.queue[index] = { ...state.queue[index], ...conversation };
      else state.queue.push(conversation);
      state.queue.sort(byPriority);
    } else if (index >= 0) state.queue.splice(index, 1);
    paint();
    watch();
  }

  let refreshTimer = null;
  function scheduleRefresh(delay = 800) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, delay);
  }

  async function refresh() {
    clearTimeout(refreshTimer);
    try {
      const [mine, queue] = await Promise.all([fetchMine(ctx.me), fetchQueue(ctx.features)]);
      state.mine = mine;
      state.queue = queue;
      mine.concat(queue).forEach((conversation) => ctx.directory.noteConversation(conversation));
      if (!state.loaded) ctx.notify?.knowAssigned(mine.map((conversation) => conversation.id));
      state.loaded = true;
      state.summaries = await fetchSummaries(ctx, ordered()).catch(() => state.summaries);
      paint();
      watch();
    } catch (error) {
      console.warn('inbox refresh failed', error);
    }
    if (!state.closed) refreshTimer = setTimeout(refresh, POLL_MS);
  }

  /** Follows the listed conversations' topics, so a fan's message shows at once. */
  function watch() {
    const wanted = new Set(state.mine.concat(state.queue).slice(0, MAX_WATCHED).map((c) => `conversation:${c.id}`));
    for (const [topic, stop] of state.watched) {
      if (!wanted.has(topic)) {
        stop();
        state.watched.delete(topic);
      }
    }
    for (const topic of wanted) {
      if (state.watched.has(topic)) continue;
      const id = topic.slice('conversation:'.length);
      state.watched.set(topic, ctx.live.subscribe(topic, (event) => {
        if (event.kind === 'message.created') {
          ctx.notify?.message(id, event.message);
          if (id === state.selected && document.visibilityState === 'visible') markRead(id);
        }
        if (event.kind === 'message.created' || event.kind === 'conversation.updated') scheduleRefresh(400);
      }));
    }
  }

  function item(conversation) {
    const name = ctx.directory.fanName(conversation.fan_id);
    const nameNode = h('span', { class: 'ci-name' }, name || 'Fan');
    if (!name) {
      ctx.directory.resolveFanName(conversation).then((found) => {
        if (found) nameNode.textContent = found;
      });
    }
    const feeling = mood(conversation.sentiment);
    const summary = state.summaries.get(conversation.id);
    const unread = conversation.id === state.selected ? 0 : summary?.unread ?? 0;
    return h('li', {},
      h('button', {
        type: 'button',
        class: `conv-item${conversation.id === state.selected ? ' selected' : ''}${unread ? ' unread' : ''}`,
        dataset: { id: conversation.id },
        'aria-current': conversation.id === state.selected ? 'true' : null,
        onclick: () => select(conversation.id),
      },
      h('span', { class: 'ci-top' }, nameNode,
        unread ? h('span', { class: 'unread-badge', title: `${unread} unread`, 'aria-label': `${unread} unread` }, String(unread)) : null,
        timer(conversation.awaiting_since)),
      previewLine(summary),
      h('span', { class: 'ci-sub' },
        h('span', { class: 'chip chip-priority', title: (conversation.reasons || []).join('\n') || 'Priority score' }, `P${conversation.priority ?? 0}`),
        (conversation.reasons || []).some((reason) => /vip/i.test(reason)) ? h('span', { class: 'chip chip-vip' }, 'VIP') : null,
        conversation.escalated ? h('span', { class: 'chip chip-escalated' }, 'escalated') : null,
        conversation.status !== 'open' ? h('span', { class: `chip chip-${conversation.status}` }, statusText(conversation)) : null,
        feeling === 'negative' ? h('span', { class: 'chip chip-negative' }, 'negative') : null)));
  }

  function paint() {
    replace(mineList, state.mine.length ? state.mine.map(item) : h('li', { class: 'empty' }, 'Nothing assigned to you.'));
    replace(queueList, state.queue.length ? state.queue.map(item) : h('li', { class: 'empty' }, 'The queue is empty.'));
    mineCount.textContent = String(state.mine.length);
    queueCount.textContent = String(state.queue.length);
    // The tab title counts unread messages of my conversations and the queue.
    let unread = 0;
    for (const id of new Set(ordered())) if (id !== state.selected) unread += state.summaries.get(id)?.unread ?? 0;
    ctx.notify?.setUnread(unread);
    tickTimers(layout);
  }

  function select(id) {
    state.selected = id;
    if (location.hash !== `#/inbox/${id}`) history.replaceState(null, '', `#/inbox/${id}`);
    paint();
    pane.open(id);
    markRead(id);
  }

  /** Tells the server this member read the conversation up to its last entry. */
  const reading = new Map();
  function markRead(id) {
    if (!ctx.features.inbox || reading.has(id)) return;
    reading.set(id, setTimeout(async () => {
      reading.delete(id);
      try {
        const summary = await api('POST', `/conversations/${encodeURIComponent(id)}/read`, {});
        state.summaries.set(id, summary);
        paint();
      } catch (error) {
        console.warn('marking read failed', error);
      }
    }, 300));
  }

  function ordered() {
    return state.mine.concat(state.queue).map((conversation) => conversation.id);
  }

  function step(delta) {
    const ids = ordered();
    if (!ids.length) return;
    const index = ids.indexOf(state.selected);
    const next = index === -1 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, index + delta));
    select(ids[next]);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typingTarget(event.target)) return;
    if (document.querySelector('dialog[open]')) return;
    const actions = {
      j: () => step(1),
      k: () => step(-1),
      r: () => pane.focusComposer(),
      d: () => pane.resolve(),
      e: () => pane.escalate(),
      '?': () => ctx.showHelp(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  document.addEventListener('keydown', onKey);
  const stopInbox = ctx.live.subscribe('inbox', (event) => {
    if (event.kind === 'conversation.updated') upsert(event.conversation);
    else if (event.kind === 'queue.updated') queueChanged(event);
    else if (event.kind === 'subscribed') scheduleRefresh(0);
  });
  const ticker = setInterval(() => tickTimers(layout), 1000);
  refresh();
  if (state.selected) {
    pane.open(state.selected);
    markRead(state.selected);
  }

  return {
    select,
    unmount() {
      state.closed = true;
      document.removeEventListener('keydown', onKey);
      stopInbox();
      for (const stop of state.watched.values()) stop();
      clearInterval(ticker);
      clearTimeout(refreshTimer);
      for (const timer of reading.values()) clearTimeout(timer);
      ctx.notify?.setUnread(0);
      pane.destroy();
      fanPanel.destroy();
    },
  };
}
