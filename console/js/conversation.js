// One conversation on screen for the team: header with state and actions, the live
// timeline (REST history, then the `conversation:{id}` topic resumed from the last seq),
// "also viewing" / typing indicators when the server sends presence events, and the
// composer. Used by the inbox (work mode) and the dashboard (monitor mode).

import { api, ApiError, fetchMessages, newClientMsgId, postMessage } from './api.js';
import { Composer } from './composer.js';
import { openReassign, openSnooze, statusText } from './conv-actions.js';
import { LaterList } from './later.js';
import { mountVoice } from './voice.js';
import { h, replace, toast } from './dom.js';
import { mood, roleName } from './format.js';
import { Timeline } from './timeline.js';

const SUPERVISORS = ['owner', 'supervisor'];

export class ConversationPane {
  /**
   * `onChanged(conversation)` tells the lists about a new state. `monitor`: the composer
   * opens as a whisper / internal note; a public reply is an explicit switch.
   */
  constructor(root, ctx, { onChanged = () => {}, onFan = () => {}, monitor = false } = {}) {
    this.ctx = ctx;
    this.monitor = monitor;
    this.onChanged = onChanged;
    this.onFan = onFan;
    this.conversation = null;
    this.stop = null;
    this.viewers = new Map();
    this.header = h('header', { class: 'conv-header' });
    this.presence = h('div', { class: 'conv-presence', 'aria-live': 'polite' });
    this.scroller = h('div', { class: 'timeline', tabindex: '-1' });
    this.composerRoot = h('div', { class: 'composer-root' });
    this.laterRoot = h('div', { class: 'later-root' });
    this.voiceRoot = h('div', { class: 'voice-root', hidden: true });
    this.placeholder = h('div', { class: 'conv-placeholder' }, h('p', {}, 'Pick a conversation from the list.'),
      h('p', { class: 'muted' }, 'Shortcuts: j / k next and previous, r reply, d resolve, e escalate, ? help.'));
    this.body = h('div', { class: 'conv-body', hidden: true }, this.header, this.presence, this.scroller, this.laterRoot, this.voiceRoot, this.composerRoot);
    root.replaceChildren(this.placeholder, this.body);
    this.timeline = new Timeline(this.scroller, {
      audience: 'team',
      selfId: ctx.me.id,
      memberName: (id) => ctx.directory.memberName(id),
    });
    this.composer = new Composer(this.composerRoot, {
      features: ctx.features,
      conversationId: () => this.conversation?.id,
      onSend: (input) => this.send(input),
      onLater: (input) => this.sendLater(input),
      publicLabel: monitor ? 'Reply to fan' : 'Reply',
      onTyping: () => {
        if (this.conversation) this.ctx.live.typing(`conversation:${this.conversation.id}`);
      },
    });
    this.presenceTimer = setInterval(() => this.paintPresence(), 5000);
    this.later = ctx.features.replyLater ? new LaterList(this.laterRoot, { toast }) : null;
    if (ctx.features.charter) mountVoice(this.voiceRoot);
  }

  get id() {
    return this.conversation?.id ?? null;
  }

  destroy() {
    this.later?.destroy();
    this.close();
    clearInterval(this.presenceTimer);
  }

  close() {
    if (this.stop) this.stop();
    this.stop = null;
    this.conversation = null;
    this.viewers.clear();
    this.body.hidden = true;
    this.placeholder.hidden = false;
    this.later?.show(null);
  }

  async open(id, { whisper = this.monitor } = {}) {
    if (this.stop) this.stop();
    this.stop = null;
    this.viewers.clear();
    this.paintPresence();
    this.timeline.clear();
    this.composer.reset();
    let conversation;
    try {
      conversation = await api('GET', `/conversations/${encodeURIComponent(id)}`);
    } catch (error) {
      toast(`Cannot open the conversation: ${error.message}`, 'error');
      return;
    }
    this.conversation = conversation;
    this.placeholder.hidden = true;
    this.body.hidden = false;
    this.paintHeader();
    await this.loadHistory();
    const topic = `conversation:${id}`;
    this.stop = this.ctx.live.subscribe(topic, (event) => this.onEvent(id, event), { afterSeq: this.timeline.lastSeq });
    if (whisper) this.composer.setMode('internal');
    else this.composer.setMode('public');
    this.onFan(conversation);
    this.later?.show(id);
  }

  async loadHistory() {
    const id = this.conversation.id;
    try {
      const messages = await fetchMessages(id, this.timeline.lastSeq);
      if (this.conversation?.id !== id) return;
      for (const message of messages) {
        this.ctx.directory.noteMessage(message);
        this.timeline.add(message);
      }
      this.paintHeader();
      this.timeline.scrollToEnd();
    } catch (error) {
      toast(`Cannot load the messages: ${error.message}`, 'error');
    }
  }

  async refresh() {
    if (!this.conversation) return;
    try {
      this.setConversation(await api('GET', `/conversations/${encodeURIComponent(this.conversation.id)}`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.close();
    }
  }

  setConversation(conversation) {
    if (!this.conversation || conversation.id !== this.conversation.id) return;
    this.conversation = conversation;
    this.paintHeader();
    this.onChanged(conversation);
  }

  onEvent(id, event) {
    if (this.conversation?.id !== id) return;
    switch (event.kind) {
      case 'message.created':
        this.ctx.directory.noteMessage(event.message);
        this.timeline.add(event.message);
        if (event.message.author?.kind === 'fan') this.viewers.delete(`typing:${event.message.author.id}`);
        break;
      case 'conversation.updated':
        this.setConversation(event.conversation);
        break;
      case 'presence':
      case 'typing':
        if (event.member_id !== this.ctx.me.id) {
          const key = `${event.kind}:${event.member_id ?? event.fan_id ?? ''}`;
          // A supervisor who monitors also subscribes ("viewing"): keep saying monitoring.
          const previous = this.viewers.get(key);
          const keepMonitoring = event.state === 'viewing' && previous?.state === 'monitoring';
          const state = keepMonitoring ? 'monitoring' : event.state;
          this.viewers.set(key, { ...event, state, at: Date.now() });
          this.paintPresence();
        }
        break;
      case 'subscribed':
        // Ephemeral state changes are not replayed after a reconnect: refetch.
        this.refresh();
        break;
      case 'resync':
        this.open(id);
        break;
      default:
        break;
    }
  }

  paintPresence() {
    const now = Date.now();
    const parts = [];
    for (const [key, viewer] of this.viewers) {
      const typing = viewer.kind === 'typing';
      if (now - viewer.at > (typing ? 6000 : 10 * 60_000) || viewer.state === 'left') {
        this.viewers.delete(key);
        continue;
      }
      const name = viewer.name || this.ctx.directory.memberName(viewer.member_id) || 'Someone';
      parts.push(typing ? `${name} is typing…` : `${name} is ${viewer.state === 'monitoring' ? 'monitoring' : 'also viewing'}`);
    }
    this.presence.hidden = parts.length === 0;
    this.presence.textContent = parts.join(' · ');
  }

  fanName() {
    return this.ctx.directory.fanName(this.conversation.fan_id) || 'Fan';
  }

  paintHeader() {
    const conversation = this.conversation;
    if (!conversation) return;
    const { me, directory } = this.ctx;
    const assignee = directory.memberName(conversation.assignee_id);
    const resolved = conversation.status === 'resolved';
    const supervisor = SUPERVISORS.includes(me.role);
    const mine = conversation.assignee_id === me.id;
    const chips = [h('span', { class: `chip chip-${conversation.status}` }, statusText(conversation))];
    if (conversation.escalated) {
      chips.push(h('span', { class: 'chip chip-escalated' }, `escalated${conversation.escalated_to ? ` to ${directory.memberName(conversation.escalated_to) || 'lead'}` : ''}`));
    }
    const feeling = mood(conversation.sentiment);
    if (feeling) chips.push(h('span', { class: `chip chip-${feeling}` }, `sentiment ${feeling}`));
    // Who may reply, resolve and escalate here (the server's rule): supervisors, the
    // assignee, anyone while unassigned, the lead of an escalated conversation. Anyone
    // else — an observer after a take-over included — gets the buttons disabled, with why.
    const mayWork = supervisor || mine || !conversation.assignee_id
      || (me.role === 'escalation_lead' && conversation.escalated);
    const blocked = mayWork ? '' : this.blockedReason(assignee);
    this.mayWork = mayWork;
    const action = (label, title, handler, kind = '', needsWork = false) => {
      const refused = needsWork && !mayWork;
      return h('button', { type: 'button', class: kind, title: refused ? blocked : title, disabled: refused, onclick: handler }, label);
    };
    const actions = [];
    if (!resolved && !conversation.assignee_id && me.role !== 'bot') {
      actions.push(action('Assign to me', 'Pick from the queue', () => this.assignToMe(), 'primary'));
    }
    if (!resolved && supervisor && !mine) actions.push(action('Take over', 'Become the assignee', () => this.act('takeover')));
    if (!resolved && mine && conversation.observer_id) {
      actions.push(action('Hand back', `Give back to ${directory.memberName(conversation.observer_id) || 'the agent'}`, () => this.act('handback')));
    }
    if (!resolved && !conversation.escalated) actions.push(action('Escalate', 'Shortcut: e', () => this.escalate(), '', true));
    // Reassign to a named agent: supervisors, or the lead of an escalated conversation.
    const leadHere = me.role === 'escalation_lead' && conversation.escalated;
    if (!resolved && (supervisor || leadHere)) {
      actions.push(action('Reassign', 'Give it to a named member', () => openReassign(this.fanName(), directory, conversation.assignee_id, (body) => this.act('assign', body))));
    }
    // Snooze: the assignee, supervisors, the lead of an escalated one (the server's rule).
    if (!resolved && (supervisor || mine || leadHere)) {
      actions.push(action(conversation.status === 'snoozed' ? 'Snooze again' : 'Snooze', 'Set aside until a time', () => openSnooze(this.fanName(), (body) => this.act('snooze', body))));
    }
    actions.push(resolved
      ? action('Reopen', 'Reopen the conversation', () => this.act('reopen'))
      : action('Resolve', 'Shortcut: d', () => this.resolve(), '', true));
    replace(
      this.header,
      h('div', { class: 'conv-title' },
        h('h2', {}, this.fanName()),
        h('div', { class: 'conv-chips' }, chips,
          h('span', { class: 'muted' }, assignee ? `assigned to ${assignee}` : 'unassigned'),
          conversation.observer_id ? h('span', { class: 'muted' }, `· observer ${directory.memberName(conversation.observer_id) || ''}`) : null)),
      h('div', { class: 'conv-actions' }, actions),
      blocked && !resolved ? h('p', { class: 'conv-blocked' }, blocked) : null,
    );
    const whisperTarget = conversation.assignee_id && !mine
      ? { id: conversation.assignee_id, name: assignee || roleName('agent') }
      : null;
    this.composer.setWhisperTarget(whisperTarget);
    if (resolved) this.composer.setEnabled(false, 'This conversation is resolved. Reopen it to reply.');
    else this.composer.setEnabled(mayWork, blocked);
  }

  /** Why this member may not reply or resolve here. */
  blockedReason(assignee) {
    const owner = assignee || 'another member';
    return this.conversation.observer_id === this.ctx.me.id
      ? `${owner} took over this conversation: you are observing. Reply and Resolve are theirs until they hand it back.`
      : `Assigned to ${owner}: only they can reply or resolve.`;
  }

  async act(action, body) {
    if (!this.conversation) return;
    try {
      const updated = await api('POST', `/conversations/${encodeURIComponent(this.conversation.id)}/${action}`, body);
      this.setConversation(updated);
      return updated;
    } catch (error) {
      toast(error.message, 'error');
      return null;
    }
  }

  assignToMe() {
    return this.act('assign', { member_id: this.ctx.me.id });
  }

  resolve() {
    if (!this.mayWork) return null;
    if (this.conversation && this.conversation.status !== 'resolved') return this.act('resolve');
    return null;
  }

  /** Asks for a reason (required by the API) and escalates. */
  escalate() {
    if (!this.conversation || this.conversation.escalated || !this.mayWork) return;
    const reason = h('textarea', { rows: '3', required: true, maxlength: '500', 'aria-label': 'Reason' });
    const dialog = h('dialog', { class: 'dialog' },
      h('form', { method: 'dialog', onsubmit: async (event) => {
        event.preventDefault();
        const done = await this.act('escalate', { reason: reason.value.trim() || 'Needs a lead' });
        if (done) toast('Escalated');
        dialog.close();
      } },
      h('h3', {}, `Escalate ${this.fanName()}`),
      h('label', {}, 'Why does this need an escalation lead?', reason),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Escalate'))));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    reason.focus();
  }

  focusComposer() {
    this.composer.focus();
  }

  /** Reply later: scheduled now, posted by the server at `input.send_at`. */
  async sendLater(input) {
    const id = this.conversation.id;
    await postMessage(id, { client_msg_id: newClientMsgId(), ...input });
    if (this.conversation?.id === id) await this.later?.reload();
  }

  async send(input) {
    const id = this.conversation.id;
    const clientMsgId = newClientMsgId();
    this.timeline.addPending(clientMsgId, input.body, { internal: input.visibility === 'internal' });
    try {
      const message = await postMessage(id, { client_msg_id: clientMsgId, ...input });
      if (this.conversation?.id === id) this.timeline.add(message);
    } catch (error) {
      // The composer gets the draft back and shows why.
      this.timeline.dropPending(clientMsgId);
      throw error;
    }
    // A public reply claims an unassigned conversation: the header follows.
    if (!this.conversation.assignee_id && input.visibility === 'public') this.refresh();
  }
}
