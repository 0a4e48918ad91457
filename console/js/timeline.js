// A conversation's timeline on screen: messages keyed by id and kept in `seq` order, so a
// replay after a reconnect, a REST answer and the live event of the same message end up
// as one item. Local "sending…" items are keyed by client_msg_id until confirmed.
// All text goes in through dom.js (text nodes only).

import { h } from './dom.js';
import { clock } from './format.js';

export class Timeline {
  /**
   * `audience`: `team` (internal messages, system entries, annotations) or `fan`.
   * `selfId`: the viewer's author id (own messages align right).
   * `memberName(id)`: a team member's name for whisper addressees.
   */
  constructor(container, { audience, selfId, memberName = () => null }) {
    this.container = container;
    this.audience = audience;
    this.selfId = selfId;
    this.memberName = memberName;
    this.items = new Map();
    this.pending = new Map();
    this.list = h('ol', { class: 'timeline-list', 'aria-live': 'polite' });
    this.empty = h('p', { class: 'timeline-empty' }, 'No messages yet.');
    container.replaceChildren(this.empty, this.list);
  }

  clear() {
    this.items.clear();
    this.pending.clear();
    this.list.replaceChildren();
    this.empty.hidden = false;
  }

  /** The highest seq shown. */
  get lastSeq() {
    let last = 0;
    for (const item of this.items.values()) last = Math.max(last, item.seq);
    return last;
  }

  /** Adds a committed message unless it is already shown. Returns whether it was new. */
  add(message) {
    if (this.items.has(message.id)) return false;
    const stick = this.nearBottom();
    if (message.client_msg_id && this.pending.has(message.client_msg_id)) {
      this.pending.get(message.client_msg_id).remove();
      this.pending.delete(message.client_msg_id);
    }
    const element = this.render(message);
    this.items.set(message.id, { seq: message.seq, element });
    // Usually the newest: walk back from the end to the first item with a lower seq.
    let before = null;
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      if (node.dataset.pending) {
        before = node;
        continue;
      }
      if (Number(node.dataset.seq) < message.seq) break;
      before = node;
    }
    this.list.insertBefore(element, before);
    this.empty.hidden = true;
    if (stick) this.scrollToEnd();
    return true;
  }

  /** Shows a room message as removed by a moderator; false when it is not shown. */
  markDeleted(id) {
    const item = this.items.get(id);
    if (!item) return false;
    item.element.classList.add('msg-deleted');
    const body = item.element.querySelector('.msg-body');
    if (body) body.textContent = 'Message removed by a moderator';
    return true;
  }

  /** Shows a message being sent. */
  addPending(clientMsgId, body, { internal = false } = {}) {
    const element = h(
      'li',
      { class: `msg msg-mine msg-pending${internal ? ' msg-internal' : ''}`, dataset: { pending: clientMsgId } },
      h('div', { class: 'msg-meta' }, h('span', { class: 'msg-state' }, 'Sending…')),
      h('p', { class: 'msg-body' }, body),
    );
    this.pending.set(clientMsgId, element);
    this.list.append(element);
    this.empty.hidden = true;
    this.scrollToEnd();
  }

  /** Marks a pending message as refused, with the server's reason. */
  failPending(clientMsgId, reason) {
    const element = this.pending.get(clientMsgId);
    if (!element) return;
    element.classList.add('msg-failed');
    element.querySelector('.msg-state').textContent = `Not sent: ${reason}`;
    setTimeout(() => {
      element.remove();
      this.pending.delete(clientMsgId);
    }, 6000);
  }

  dropPending(clientMsgId) {
    this.pending.get(clientMsgId)?.remove();
    this.pending.delete(clientMsgId);
  }

  nearBottom() {
    const scroller = this.container;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  scrollToEnd() {
    this.container.scrollTop = this.container.scrollHeight;
  }

  render(message) {
    const author = message.author || {};
    const internal = message.visibility === 'internal';
    const dataset = { seq: String(message.seq), id: message.id };
    if (author.kind === 'system' && message.event === 'bot_handoff') {
      // The bot rules handed the conversation to a human (docs/product.md › Bots).
      return h(
        'li',
        { class: 'msg msg-system msg-handoff', dataset },
        h('span', { class: 'badge badge-handoff' }, 'Hand-off'),
        ' ',
        h('span', {}, message.body),
        ' · ',
        clock(message.created_at),
      );
    }
    if (author.kind === 'system') {
      return h('li', { class: 'msg msg-system', dataset }, h('span', {}, message.body), ' · ', clock(message.created_at));
    }
    const mine = author.id === this.selfId;
    const side = author.kind === 'fan' ? 'msg-fan' : 'msg-teamside';
    const classes = ['msg', side];
    if (mine) classes.push('msg-mine');
    if (internal) classes.push('msg-internal');
    if (message.automated) classes.push('msg-automated');
    const badges = [];
    if (internal) {
      const to = message.whisper_to ? this.memberName(message.whisper_to) || 'a team member' : null;
      badges.push(h('span', { class: 'badge badge-internal' }, to ? `Whisper to ${to}` : 'Internal'));
    }
    if (author.kind === 'bot' && this.audience === 'team') badges.push(h('span', { class: 'badge badge-bot' }, 'Bot'));
    if (message.automated) badges.push(h('span', { class: 'badge badge-auto' }, 'Automated'));
    const meta = h(
      'div',
      { class: 'msg-meta' },
      h('span', { class: 'msg-author' }, author.name || 'Unknown'),
      ...badges,
      h('time', { datetime: message.created_at }, clock(message.created_at)),
    );
    const notes = [];
    if (this.audience === 'team') {
      if (message.flag) notes.push(h('span', { class: 'note note-warn' }, `Restricted word: ${message.flag}`));
      if (typeof message.reply_ms === 'number') {
        notes.push(h('span', { class: 'note' }, `replied after ${Math.round(message.reply_ms / 1000)} s`));
      }
      if (typeof message.sentiment === 'number' && message.sentiment <= -0.35) {
        notes.push(h('span', { class: 'note note-neg' }, 'negative'));
      }
      // A flow's buttons, as the fan saw them (the fan page draws them as buttons).
      if (message.quick_replies?.length) {
        notes.push(h('span', { class: 'note' }, `Quick replies: ${message.quick_replies.map((reply) => reply.label).join(' · ')}`));
      }
    }
    return h(
      'li',
      { class: classes.join(' '), dataset },
      meta,
      h('p', { class: 'msg-body' }, message.body),
      notes.length ? h('div', { class: 'msg-notes' }, notes) : null,
    );
  }
}
