// Conversation lists shared by the inbox and the dashboard: fetching "mine" and the
// queue (the desk's `GET /queue` when the server has it, else unassigned open
// conversations), ordering, and the list items with live first-response timers.

import { api, query } from './api.js';
import { firstArray } from './directory.js';
import { h } from './dom.js';
import { duration, secondsSince, timerLevel } from './format.js';

/**
 * A queue entry of the desk's `GET /queue` (or a `queue.updated` event) as a
 * conversation-like object the lists share: `priority` is the entry's current score and
 * the timer runs from `waiting_since` while a fan message waits for a human.
 */
export function normalize(entry) {
  if (!entry.conversation_id) return entry;
  return {
    id: entry.conversation_id,
    fan_id: entry.fan_id,
    fan_name: entry.fan_name,
    status: entry.status,
    assignee_id: entry.assignee_id ?? null,
    escalated: entry.escalated,
    priority: entry.score ?? entry.priority,
    awaiting_since: entry.awaiting_reply ? entry.waiting_since : null,
    sla_breached: entry.sla_breached,
    reasons: (entry.inputs || []).filter((input) => input.name !== 'waiting').map((input) => input.reason),
    updated_at: entry.waiting_since,
    created_at: entry.waiting_since,
  };
}

export const active = (conversation) => conversation.status !== 'resolved';

/** Waiting longest first, then the most recently active. */
export function byUrgency(a, b) {
  if (a.awaiting_since && b.awaiting_since) return Date.parse(a.awaiting_since) - Date.parse(b.awaiting_since);
  if (a.awaiting_since) return -1;
  if (b.awaiting_since) return 1;
  return Date.parse(b.updated_at) - Date.parse(a.updated_at);
}

/**
 * Highest priority first, then waiting longest (docs/product.md › Routing, priority and
 * shifts).
 */
export function byPriority(a, b) {
  return (b.priority ?? 0) - (a.priority ?? 0) || byUrgency(a, b);
}

export async function fetchMine(me) {
  const { conversations } = await api('GET', `/conversations${query({ assignee_id: me.id, limit: 200 })}`);
  return conversations.filter(active).sort(byUrgency);
}

export async function fetchQueue(features) {
  if (features.queue) {
    const queue = await api('GET', '/queue');
    // The server orders its queue by score; keep that order.
    return (queue.entries || firstArray(queue)).map(normalize).filter(active);
  }
  const { conversations } = await api('GET', `/conversations${query({ unassigned: true, status: 'open', limit: 200 })}`);
  return conversations.sort(byPriority);
}

/** A timer element that `tickTimers` keeps current. */
export function timer(since) {
  if (!since) return h('span', { class: 'timer timer-none' }, '—');
  const seconds = secondsSince(since);
  return h('span', { class: `timer timer-${timerLevel(seconds)}`, dataset: { since }, title: 'Waiting for a first response' }, duration(seconds));
}

/** Updates every timer under `root` (called each second). */
export function tickTimers(root) {
  const now = Date.now();
  for (const element of root.querySelectorAll('[data-since]')) {
    const seconds = secondsSince(element.dataset.since, now);
    element.textContent = duration(seconds);
    element.className = `timer timer-${timerLevel(seconds)}`;
  }
}
