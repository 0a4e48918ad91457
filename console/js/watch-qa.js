// An event's questions on the fan's event page (docs/api.md › Events › Q&A): ask, upvote
// once, order by top or new, answered and pinned marked. The list is the replay of the
// `event:{id}` timeline followed live (each entry carries the question as it is now), so
// a team's answer or pin shows at once, and a hidden question — which fans only ever
// receive as `question.removed`, without its text — leaves the list.

import { api, ApiError, newClientMsgId, postRetrying, query } from './api.js';
import { h, replace } from './dom.js';

const STATE_LABEL = { answered: 'Answered', pinned: 'Pinned' };

/** Pinned first; then `top` (most upvotes, then the oldest) or `new` (newest first). */
export function ordered(questions, order) {
  const time = (question) => Date.parse(question.created_at);
  return [...questions].sort((a, b) => {
    const pinned = Number(b.state === 'pinned') - Number(a.state === 'pinned');
    if (pinned !== 0) return pinned;
    if (order === 'new') return time(b) - time(a) || (b.id < a.id ? -1 : 1);
    return b.upvotes - a.upvotes || time(a) - time(b) || (a.id < b.id ? -1 : 1);
  });
}

export class EventQuestions {
  constructor({ event, live, token }) {
    this.event = event;
    this.token = token;
    this.questions = new Map();
    this.upvoted = new Set();
    this.order = 'top';
    this.input = h('input', { type: 'text', name: 'question', maxlength: '500', autocomplete: 'off', 'aria-label': 'Your question', placeholder: 'Ask the creator something…' });
    this.ask = h('button', { type: 'submit', class: 'primary' }, 'Ask');
    this.error = h('p', { class: 'form-error qa-error', role: 'alert', hidden: true });
    this.orderButtons = ['top', 'new'].map((order) => h('button', {
      type: 'button',
      class: 'qa-order',
      dataset: { order },
      'aria-pressed': String(order === this.order),
      onclick: () => { this.order = order; this.render(); },
    }, order === 'top' ? 'Top' : 'New'));
    this.list = h('ul', { class: 'qa-list', 'aria-live': 'polite' });
    this.empty = h('p', { class: 'muted small qa-empty' }, 'No questions yet.');
    this.element = h('section', { class: 'panel event-qa-panel', 'aria-label': 'Questions' },
      h('div', { class: 'qa-head' }, h('h2', {}, 'Questions'), h('div', { class: 'qa-orders', role: 'group', 'aria-label': 'Order' }, this.orderButtons)),
      h('form', { class: 'qa-ask', onsubmit: (submitted) => { submitted.preventDefault(); this.submit(); } }, this.input, this.ask),
      this.error,
      this.empty,
      this.list);
    this.stop = live.subscribe(`event:${event.id}`, (entry) => this.onEntry(entry), { afterSeq: 0 });
    this.render();
  }

  destroy() {
    this.stop();
  }

  onEntry(entry) {
    if (entry.kind === 'question.created' || entry.kind === 'question.updated') {
      this.upsert(entry.question);
    } else if (entry.kind === 'question.removed') {
      this.questions.delete(entry.question_id);
      this.render();
    } else if (entry.kind === 'subscribed') {
      this.refreshUpvoted();
    } else if (entry.kind === 'resync') {
      this.questions.clear();
      this.render();
    }
  }

  /** Which questions this fan has upvoted: only the REST answer says. */
  async refreshUpvoted() {
    try {
      const { questions } = await api('GET', `/events/${encodeURIComponent(this.event.id)}/questions${query({ order: 'new', limit: 200 })}`, undefined, { token: this.token });
      for (const question of questions) if (question.upvoted) this.upvoted.add(question.id);
      this.render();
    } catch {
      // The list stays as the live timeline left it; the upvote buttons answer anyway.
    }
  }

  upsert(question) {
    if (question.upvoted) this.upvoted.add(question.id);
    const known = this.questions.get(question.id);
    // Live and REST answers may cross: counts only grow.
    const upvotes = Math.max(question.upvotes, known?.upvotes ?? 0);
    this.questions.set(question.id, { ...question, upvotes });
    this.render();
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
  }

  async submit() {
    const body = this.input.value.trim();
    if (!body) return;
    this.ask.disabled = true;
    this.showError(null);
    try {
      const question = await postRetrying(`/events/${encodeURIComponent(this.event.id)}/questions`,
        { client_msg_id: newClientMsgId(), body }, { token: this.token });
      this.input.value = '';
      this.upsert(question);
    } catch (error) {
      this.showError(error instanceof ApiError && error.code === 'rate_limited'
        ? `Slow mode is on: ${error.message}.`
        : error.message);
    }
    this.ask.disabled = false;
  }

  async upvote(question) {
    this.upvoted.add(question.id);
    this.render();
    try {
      this.upsert(await api('POST', `/events/${encodeURIComponent(this.event.id)}/questions/${encodeURIComponent(question.id)}/upvote`, undefined, { token: this.token }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) this.upvoted.delete(question.id);
      this.showError(error.message);
      this.render();
    }
  }

  render() {
    for (const button of this.orderButtons) button.setAttribute('aria-pressed', String(button.dataset.order === this.order));
    const questions = ordered(this.questions.values(), this.order);
    this.empty.hidden = questions.length > 0;
    replace(this.list, questions.map((question) => {
      const mine = this.upvoted.has(question.id);
      return h('li', { class: `qa-item qa-${question.state}`, dataset: { id: question.id, state: question.state } },
        h('button', {
          type: 'button',
          class: 'qa-upvote',
          'aria-pressed': String(mine),
          'aria-label': `Upvote (${question.upvotes})`,
          disabled: mine,
          onclick: () => this.upvote(question),
        }, `▲ ${question.upvotes}`),
        h('div', { class: 'qa-text' },
          h('p', { class: 'qa-body' }, question.body),
          h('p', { class: 'muted small' }, question.author_name,
            STATE_LABEL[question.state] && h('span', { class: `chip qa-state qa-state-${question.state}` }, STATE_LABEL[question.state]))));
    }));
  }
}
