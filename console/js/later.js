// "Reply later" beside the composer: the conversation's replies scheduled for later, each
// with its send time and a Cancel button while pending (docs/api.md › Reply later). The
// list reloads when opened, after the member schedules or cancels, and shortly after the
// earliest pending reply is due, so a sent reply leaves it without a page reload.

import { api } from './api.js';
import { h } from './dom.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export class LaterList {
  /** `toast(text, kind)` reports failures. */
  constructor(root, { toast }) {
    this.toast = toast;
    this.conversationId = null;
    this.timer = null;
    this.list = h('ul', { class: 'later-list' });
    this.section = h(
      'section',
      { class: 'later', 'aria-label': 'Replies scheduled for later', hidden: true },
      h('h3', { class: 'later-title' }, 'Scheduled replies'),
      this.list,
    );
    root.replaceChildren(this.section);
  }

  /** Shows the replies of `conversationId` (null: none). */
  async show(conversationId) {
    this.conversationId = conversationId;
    clearTimeout(this.timer);
    if (!conversationId) {
      this.section.hidden = true;
      return;
    }
    await this.reload();
  }

  async reload() {
    const id = this.conversationId;
    if (!id) return;
    let replies;
    try {
      replies = (await api('GET', `/conversations/${encodeURIComponent(id)}/scheduled-replies`)).scheduled_replies;
    } catch (error) {
      this.toast(`Cannot load the scheduled replies: ${error.message}`, 'error');
      return;
    }
    if (this.conversationId !== id) return;
    const shown = replies.filter((reply) => reply.status === 'pending' || reply.status === 'failed');
    this.list.replaceChildren(...shown.map((reply) => this.item(reply)));
    this.section.hidden = shown.length === 0;
    const next = replies
      .filter((reply) => reply.status === 'pending')
      .map((reply) => Date.parse(reply.send_at))
      .sort((a, b) => a - b)[0];
    clearTimeout(this.timer);
    if (next !== undefined) {
      // Shortly after it is due (at most a day ahead: timers do not take longer waits).
      const wait = Math.min(Math.max(next - Date.now(), 0) + 2000, 86_400_000);
      this.timer = setTimeout(() => this.reload(), wait);
    }
  }

  item(reply) {
    const when = timeFormat.format(new Date(reply.send_at));
    if (reply.status === 'failed') {
      return h(
        'li',
        { class: 'later-item later-failed' },
        h('span', { class: 'later-when' }, `Not sent (${when})`),
        h('span', { class: 'later-body' }, reply.body),
        h('span', { class: 'later-why' }, reply.failure || ''),
      );
    }
    const cancel = h('button', {
      type: 'button',
      class: 'link',
      onclick: async () => {
        cancel.disabled = true;
        try {
          await api('DELETE', `/scheduled-replies/${encodeURIComponent(reply.scheduled_id)}`);
        } catch (error) {
          this.toast(`Cannot cancel: ${error.message}`, 'error');
        }
        await this.reload();
      },
    }, 'Cancel');
    return h(
      'li',
      { class: 'later-item' },
      h('span', { class: 'later-when' }, `Sends ${when}`),
      h('span', { class: 'later-body' }, reply.body),
      cancel,
    );
  }

  destroy() {
    clearTimeout(this.timer);
  }
}
