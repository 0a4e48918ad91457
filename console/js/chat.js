// The fan chat page (/chat): a fan session kept in localStorage, the fan's conversation
// continued after a reload with its history, real-time replies over the WebSocket with
// resume, automated replies labelled "Automated" (docs/product.md › Principles), and a
// bot flow's quick replies as buttons under its newest message (pressing one sends its
// text, docs/api.md › Flows). A
// conversation is only opened when the fan first writes, so visitors who never write
// do not fill the team's queue.

import { api, ApiError, fetchMessages, newClientMsgId, postMessage } from './api.js';
import { $, h, replace } from './dom.js';
import { forgetSession, loadSession, saveSession, showWelcome as welcome } from './fan-session.js';
import { Live } from './live.js';
import { Timeline } from './timeline.js';

const main = $('#chat');

function showWelcome(notice = '') {
  welcome(main, {
    heading: 'Say hi 👋',
    lead: 'The team usually answers within a minute.',
    button: 'Start chatting',
    notice,
    onSession: () => start(),
  });
}

class Chat {
  constructor(session) {
    this.session = session;
    this.token = session.token;
    this.conversation = null;
    this.stop = null;
    this.status = h('span', { class: 'conn conn-connecting' }, 'connecting…');
    this.scroller = h('div', { class: 'timeline chat-timeline' });
    this.notice = h('p', { class: 'chat-notice', hidden: true });
    this.quickReplies = h('div', { class: 'quick-replies', role: 'group', 'aria-label': 'Quick replies', hidden: true });
    this.latest = null;
    this.input = h('textarea', { rows: '2', placeholder: 'Write a message…', 'aria-label': 'Message', maxlength: '4000', oninput: () => {
      // The team sees "… is typing"; the fan never sees the team's typing events.
      if (this.conversation && this.input.value.trim() !== '') this.live.typing(`conversation:${this.conversation.id}`);
    }, onkeydown: (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    } });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    replace(main,
      h('header', { class: 'chat-head' },
        h('div', {}, h('h1', {}, 'Chat with the team'),
          h('p', { class: 'muted small' }, 'You are chatting as ', h('strong', { class: 'fan-self' }, session.fan.display_name), ' · ',
            h('button', { type: 'button', class: 'link', onclick: () => this.startOver() }, 'not you?'))),
        this.status),
      this.scroller,
      this.quickReplies,
      this.notice,
      h('form', { class: 'chat-composer', onsubmit: (event) => { event.preventDefault(); this.submit(); } },
        this.input, h('button', { type: 'submit', class: 'primary' }, 'Send')),
      this.error);
    this.timeline = new Timeline(this.scroller, { audience: 'fan', selfId: session.fan.id });
    this.live = new Live({
      token: this.token,
      onState: (state) => {
        this.status.className = `conn conn-${state}`;
        this.status.textContent = state === 'live' ? 'connected' : state === 'connecting' ? 'connecting…' : 'reconnecting…';
      },
      onUnauthorized: () => this.startOver('Your chat session expired. Please start again.'),
    });
  }

  async start() {
    try {
      this.conversation = await this.findConversation();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.startOver('Your chat session expired. Please start again.');
      this.showError(error.message);
    }
    if (this.conversation) await this.follow(this.conversation);
    this.live.start();
    this.input.focus();
  }

  /** The stored conversation, else the fan's latest one (an open one first). */
  async findConversation() {
    if (this.session.conversation_id) {
      try {
        return await api('GET', `/conversations/${encodeURIComponent(this.session.conversation_id)}`, undefined, { token: this.token });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
      }
    }
    const { conversations } = await api('GET', '/conversations?limit=20', undefined, { token: this.token });
    return conversations.find((c) => c.status !== 'resolved') || conversations[0] || null;
  }

  async follow(conversation) {
    if (this.stop) this.stop();
    this.conversation = conversation;
    this.session.conversation_id = conversation.id;
    saveSession(this.session);
    this.paintStatus();
    const messages = await fetchMessages(conversation.id, 0, { token: this.token });
    messages.forEach((message) => this.add(message));
    this.timeline.scrollToEnd();
    this.stop = this.live.subscribe(`conversation:${conversation.id}`, (event) => this.onEvent(conversation.id, event), {
      afterSeq: this.timeline.lastSeq,
    });
  }

  onEvent(id, event) {
    if (this.conversation?.id !== id) return;
    if (event.kind === 'message.created') this.add(event.message);
    else if (event.kind === 'conversation.updated') {
      this.conversation = { ...this.conversation, ...event.conversation };
      this.paintStatus();
    } else if (event.kind === 'subscribed') {
      api('GET', `/conversations/${encodeURIComponent(id)}`, undefined, { token: this.token })
        .then((conversation) => { this.conversation = conversation; this.paintStatus(); })
        .catch(() => {});
    } else if (event.kind === 'resync') {
      this.timeline.clear();
      this.latest = null;
      this.follow(this.conversation);
    }
  }

  /** Adds a message; the newest one's quick replies become the buttons. */
  add(message) {
    this.timeline.add(message);
    if (this.latest && message.seq < this.latest.seq) return;
    this.latest = message;
    const replies = message.quick_replies || [];
    this.quickReplies.hidden = replies.length === 0;
    replace(this.quickReplies, replies.map((reply) => h('button', {
      type: 'button',
      class: 'quick-reply',
      onclick: () => {
        this.input.value = reply.value;
        this.submit();
      },
    }, reply.label)));
  }

  paintStatus() {
    const resolved = this.conversation?.status === 'resolved';
    this.notice.hidden = !resolved;
    this.notice.textContent = resolved ? 'This conversation is closed. Write again any time to start a new one.' : '';
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
  }

  async submit() {
    const body = this.input.value.trim();
    if (!body) return;
    this.input.value = '';
    this.quickReplies.hidden = true;
    this.showError(null);
    const clientMsgId = newClientMsgId();
    this.timeline.addPending(clientMsgId, body);
    try {
      if (!this.conversation || this.conversation.status === 'resolved') await this.openConversation();
      let message;
      try {
        message = await postMessage(this.conversation.id, { client_msg_id: clientMsgId, body }, { token: this.token });
      } catch (error) {
        // Resolved meanwhile: continue in a new conversation.
        if (!(error instanceof ApiError) || error.code !== 'conflict') throw error;
        await this.openConversation();
        message = await postMessage(this.conversation.id, { client_msg_id: clientMsgId, body }, { token: this.token });
      }
      this.add(message);
    } catch (error) {
      this.timeline.failPending(clientMsgId, error.message);
      if (!this.input.value) this.input.value = body;
      if (error instanceof ApiError && error.status === 401) this.startOver('Your chat session expired. Please start again.');
    }
  }

  async openConversation() {
    const conversation = await api('POST', '/conversations', {}, { token: this.token });
    if (conversation.id !== this.conversation?.id) {
      this.timeline.clear();
      this.latest = null;
      await this.follow(conversation);
    }
  }

  startOver(notice = '') {
    if (this.stop) this.stop();
    this.live.stop();
    forgetSession();
    showWelcome(notice);
  }
}

function start() {
  const session = loadSession();
  if (!session) {
    showWelcome();
    return;
  }
  new Chat(session).start();
}

start();
