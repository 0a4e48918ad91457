// The team channels screen (docs/api.md › Team channels): the channels with their unread
// counts (the last `seq` each one showed in this browser is remembered), the archived ones
// apart, a form to create one (owner, supervisors); a channel's view with its purpose and
// pinned guideline, its messages live on `channel:{id}` (resumed by the live client with
// `after_seq`), threads with their replies and summary, and a composer that says what a
// `DECISION:` or `ACTION:` prefix will log.

import { api, ApiError, newClientMsgId, query } from './api.js';
import { h, replace, toast } from './dom.js';

const MANAGERS = ['owner', 'supervisor'];
const READ_KEY = 'fandesk.channels.read';

/** The last `seq` shown per channel, kept in this browser. */
const readMarks = {
  all() {
    try { return JSON.parse(localStorage.getItem(READ_KEY) || '{}'); } catch { return {}; }
  },
  get(id) { return Number(this.all()[id] || 0); },
  set(id, seq) {
    const marks = this.all();
    if ((marks[id] || 0) >= seq) return;
    marks[id] = seq;
    try { localStorage.setItem(READ_KEY, JSON.stringify(marks)); } catch { /* storage off */ }
  },
};

/** What the composer's prefix will do, in words (mirrors the server's tag rule). */
export function tagHint(text) {
  const start = text.trimStart();
  const upper = start.slice(0, 9).toUpperCase();
  if (upper.startsWith('DECISION:')) return 'Logged as a decision in the decision log.';
  if (upper.startsWith('ACTION:')) return 'Logged as an action owned by you.';
  if (upper.startsWith('ACTION(@')) {
    const close = start.indexOf('):');
    if (close < 0) return 'Close the owner with "):", e.g. ACTION(@Ana Silva): book the studio';
    return `Logged as an action owned by ${start.slice(8, close).trim() || '…'}.`;
  }
  return 'Start with DECISION: or ACTION(@Name): to log it in the decision log.';
}

function messageItem(message, { onThread, replies = 0, rootText = null } = {}) {
  const tags = message.tags.map((tag) => h('span', { class: `chip chip-${tag}` }, tag));
  return h('li', { class: `channel-message${message.author.kind === 'system' ? ' system' : ''}`, dataset: { id: message.id, seq: String(message.seq) } },
    h('div', { class: 'meta' },
      h('strong', {}, message.author.name), ' ',
      h('time', { datetime: message.created_at }, new Date(message.created_at).toLocaleString()), ' ', tags),
    message.summary_of ? h('p', { class: 'muted small' }, 'Summary of the thread', rootText ? ` “${rootText}”` : '') : null,
    h('p', { class: 'body' }, message.body),
    onThread ? h('button', { type: 'button', class: 'small', onclick: () => onThread(message) },
      replies ? `${replies} ${replies === 1 ? 'reply' : 'replies'}` : 'Reply in thread') : null);
}

function composer({ label, placeholder, onSend, hints = true }) {
  const text = h('textarea', { rows: '2', name: 'body', 'aria-label': label, placeholder });
  const hint = h('p', { class: 'muted small tag-hint', 'aria-live': 'polite' }, hints ? tagHint('') : '');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const send = h('button', { type: 'submit', class: 'primary' }, label);
  text.addEventListener('input', () => { if (hints) hint.textContent = tagHint(text.value); });
  const form = h('form', {
    class: 'channel-composer',
    onsubmit: async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      error.hidden = true;
      send.disabled = true;
      try {
        await onSend(text.value);
        text.value = '';
        if (hints) hint.textContent = tagHint('');
      } catch (failure) {
        error.hidden = false;
        error.textContent = failure.message;
      } finally {
        send.disabled = false;
      }
    },
  }, text, hint, error, h('div', { class: 'dialog-actions' }, send));
  return form;
}

export function mountChannels(root, ctx) {
  const manager = MANAGERS.includes(ctx.me.role);
  const state = { channels: [], archived: [], showArchived: false, current: null, messages: [], thread: null, stop: null };
  const list = h('ul', { class: 'channel-list' });
  const archivedToggle = h('button', { type: 'button', class: 'small', onclick: () => { state.showArchived = !state.showArchived; refresh(); } }, 'Show archived');
  const view = h('section', { class: 'panel channel-view', 'aria-label': 'Channel' }, h('p', { class: 'muted' }, 'Choose a channel.'));
  const threadPanel = h('section', { class: 'panel channel-thread', hidden: true, 'aria-label': 'Thread' });
  const side = h('section', { class: 'panel channels-side' }, h('h2', {}, 'Channels'), list, archivedToggle, manager ? createForm() : null);
  replace(root, h('div', { class: 'channels' }, side, view, threadPanel));

  function createForm() {
    const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '80', autocomplete: 'off' });
    const purpose = h('input', { type: 'text', name: 'purpose', required: true, maxlength: '500', autocomplete: 'off' });
    const guideline = h('textarea', { name: 'guideline', rows: '2' });
    const kind = h('select', { name: 'kind' }, h('option', { value: 'open' }, 'Open'), h('option', { value: 'announcements' }, 'Announcements'));
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    return h('form', {
      class: 'channel-form',
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        try {
          const created = await api('POST', '/channels', { name: name.value, purpose: purpose.value, guideline: guideline.value, kind: kind.value });
          name.value = ''; purpose.value = ''; guideline.value = '';
          await refresh();
          open(created.id);
        } catch (failure) {
          error.hidden = false;
          error.textContent = failure instanceof ApiError && failure.details.limit
            ? `${failure.message} (limit ${failure.details.limit})` : failure.message;
        }
      },
    }, h('h3', {}, 'New channel'), h('label', {}, 'Name', name), h('label', {}, 'Purpose', purpose),
    h('label', {}, 'Pinned guideline', guideline), h('label', {}, 'Kind', kind), error,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create')));
  }

  async function refresh() {
    try {
      state.channels = (await api('GET', '/channels')).channels;
      state.archived = state.showArchived ? (await api('GET', '/channels?archived=true')).channels : [];
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    archivedToggle.textContent = state.showArchived ? 'Hide archived' : 'Show archived';
    const item = (channel) => {
      const unread = Math.max(0, channel.last_seq - readMarks.get(channel.id));
      const current = state.current?.id === channel.id;
      return h('li', {},
        h('button', { type: 'button', class: `channel-link${current ? ' active' : ''}`, 'aria-current': current ? 'true' : null, dataset: { channel: channel.name }, onclick: () => open(channel.id) },
          `# ${channel.name}`, unread && !current ? h('span', { class: 'badge', title: 'unread' }, String(unread)) : null));
    };
    replace(list, state.channels.map(item),
      state.archived.length ? h('li', { class: 'muted small' }, 'Archived') : null, state.archived.map(item));
  }

  async function open(id) {
    state.stop?.();
    state.thread = null;
    threadPanel.hidden = true;
    let channel;
    try {
      channel = await api('GET', `/channels/${encodeURIComponent(id)}`);
      state.messages = (await api('GET', `/channels/${encodeURIComponent(id)}/messages${query({ limit: 200 })}`)).messages;
    } catch (error) {
      toast(error.message, 'error');
      return;
    }
    state.current = channel;
    const last = state.messages.at(-1)?.seq ?? 0;
    state.stop = ctx.live.subscribe(`channel:${id}`, (event) => {
      if (event.kind !== 'message.created' || state.current?.id !== id) return;
      if (state.messages.some((message) => message.id === event.message.id)) return;
      state.messages.push(event.message);
      render();
    }, { afterSeq: last });
    render();
    refresh();
  }

  async function post(body, extra = {}) {
    const id = state.current.id;
    const sent = await api('POST', `/channels/${encodeURIComponent(id)}/messages`, { client_msg_id: newClientMsgId(), body, ...extra });
    if (!state.messages.some((message) => message.id === sent.id)) state.messages.push(sent);
    render();
  }

  async function setArchived(archived) {
    try {
      state.current = await api('POST', `/channels/${encodeURIComponent(state.current.id)}/${archived ? 'archive' : 'restore'}`);
      render();
      refresh();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function render() {
    const channel = state.current;
    if (!channel) return;
    state.messages.sort((a, b) => a.seq - b.seq);
    readMarks.set(channel.id, state.messages.at(-1)?.seq ?? 0);
    const byId = new Map(state.messages.map((message) => [message.id, message]));
    const replies = (root) => state.messages.filter((message) => message.thread_root_id === root.id);
    const roots = state.messages.filter((message) => !message.thread_root_id);
    const mayPost = !channel.archived && (channel.kind === 'open' || MANAGERS.includes(ctx.me.role));
    replace(view,
      h('header', { class: 'channel-head' },
        h('h2', {}, `# ${channel.name} `, h('span', { class: 'chip' }, channel.kind), channel.archived ? h('span', { class: 'chip' }, 'archived') : null),
        h('p', { class: 'muted' }, channel.purpose),
        channel.guideline ? h('p', { class: 'guideline', role: 'note' }, h('strong', {}, 'Pinned: '), channel.guideline) : null,
        manager ? h('button', { type: 'button', class: 'small', onclick: () => setArchived(!channel.archived) }, channel.archived ? 'Restore' : 'Archive') : null),
      h('ol', { class: 'channel-messages', 'aria-live': 'polite' }, roots.map((message) => messageItem(message, {
        onThread: (root) => { state.thread = root.id; render(); },
        replies: replies(message).length,
        rootText: message.summary_of ? byId.get(message.summary_of)?.body : null,
      }))),
      mayPost ? composer({ label: 'Send', placeholder: `Message # ${channel.name}`, onSend: (body) => post(body) })
        : h('p', { class: 'muted' }, channel.archived ? 'This channel is archived: restore it to post.' : 'Only the owner and supervisors post here.'));
    const root = state.thread && byId.get(state.thread);
    threadPanel.hidden = !root;
    if (!root) return;
    replace(threadPanel,
      h('h2', {}, 'Thread'),
      h('button', { type: 'button', class: 'small', onclick: () => { state.thread = null; render(); } }, 'Close thread'),
      h('ol', { class: 'channel-messages' }, messageItem(root), replies(root).map((message) => messageItem(message))),
      mayPost ? composer({ label: 'Reply', placeholder: 'Reply in the thread', onSend: (body) => post(body, { thread_root_id: root.id }) }) : null,
      mayPost ? composer({
        label: 'Post summary',
        placeholder: 'Sum the thread up for the channel',
        onSend: async (body) => {
          const sent = await api('POST', `/channels/${encodeURIComponent(channel.id)}/threads/${encodeURIComponent(root.id)}/summary`, { body, client_msg_id: newClientMsgId() });
          if (!state.messages.some((message) => message.id === sent.id)) state.messages.push(sent);
          render();
        },
      }) : null);
  }

  refresh().then(() => { if (state.channels[0]) open(state.channels[0].id); });
  return { unmount() { state.stop?.(); } };
}
