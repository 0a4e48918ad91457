// Message review (owner, supervisors, escalation leads; docs/api.md › Supervision): the
// team's messages newest first, narrowed to an agent, a local day and one shift of that
// day, with each public human reply's reply time and, above the list, the reply times of
// what is loaded per agent (count, mean, p50, p90 by nearest rank). "Older messages"
// pages backwards with `before`.

import { api, query } from './api.js';
import { h, replace, toast } from './dom.js';
import { clock } from './format.js';
import { metricsAllowed } from './metrics.js';
import { dayStart, dayText, nextDay, seconds } from './period.js';

const PAGE = 100;

export function reviewAllowed(ctx) {
  return metricsAllowed(ctx);
}

/** The instant a wall-clock `HH:MM` on `day` (`YYYY-MM-DD`) is in IANA `zone`. */
export function zonedInstant(day, time, zone) {
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (instant) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    }).formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
    const seen = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute));
    return seen - instant;
  };
  let instant = wall - offsetAt(wall);
  instant = wall - offsetAt(instant);
  return new Date(instant);
}

/** Nearest-rank percentile of sorted numbers (docs/metrics.md › Percentiles). */
function nearestRank(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

export function mountReview(root, ctx) {
  const agent = h('select', { name: 'agent_id' }, h('option', { value: '' }, 'Every agent'),
    [...ctx.directory.members.values()]
      .filter((member) => member.role !== 'bot')
      .map((member) => h('option', { value: member.id }, member.name)));
  const day = h('input', { type: 'date', name: 'day', value: dayText(new Date()) });
  const shift = h('select', { name: 'shift' }, h('option', { value: '' }, 'Whole day'));
  const list = h('tbody');
  const stats = h('tbody');
  const more = h('button', { type: 'button', onclick: () => load(false) }, 'Older messages');
  const caption = h('p', { class: 'muted small', role: 'status' });
  const form = h('form', { class: 'metrics-filters', onsubmit: (event) => { event.preventDefault(); load(true); } },
    h('label', {}, 'Agent', agent),
    h('label', {}, 'Day', day),
    h('label', {}, 'Shift', shift),
    h('div', { class: 'charter-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  for (const control of [agent, day, shift]) control.addEventListener('change', () => load(true));
  replace(root, h('div', { class: 'metrics-screen review-screen' },
    h('section', { class: 'panel' },
      h('h2', {}, 'Message review'),
      h('p', { class: 'muted small' }, 'Also: ', h('a', { href: '#/metrics' }, 'Metrics'), ' · ', h('a', { href: '#/report' }, 'Weekly report')),
      form, caption,
      h('h3', {}, 'Reply times of the messages below'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'agents review-stats' },
        h('thead', {}, h('tr', {}, ['Agent', 'Messages', 'Replies timed', 'Mean', 'p50', 'p90'].map((name) => h('th', { scope: 'col' }, name)))),
        stats)),
      h('h3', {}, 'Messages'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'agents review-table' },
        h('thead', {}, h('tr', {}, ['When', 'Agent', 'Message', 'Reply time', 'Conversation'].map((name) => h('th', { scope: 'col' }, name)))),
        list)),
      h('div', { class: 'dialog-actions' }, more))));

  const state = { closed: false, ticket: 0, messages: [], exhausted: false, shifts: [] };

  async function loadShifts() {
    if (!ctx.features.shifts) return;
    try {
      const { shifts } = await api('GET', '/shifts');
      state.shifts = shifts || [];
      for (const one of state.shifts) shift.append(h('option', { value: one.id }, `${one.name} (${one.start}–${one.end})`));
    } catch {
      // Without shifts the day is the finest period.
    }
  }

  /** [from, to) of the chosen day, or of the chosen shift on that day. */
  function period() {
    const start = dayStart(day.value);
    if (!start) return [undefined, undefined];
    const chosen = state.shifts.find((one) => one.id === shift.value);
    if (!chosen) return [start, nextDay(start)];
    const zone = chosen.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
    const from = zonedInstant(day.value, chosen.start, zone);
    let to = zonedInstant(day.value, chosen.end, zone);
    if (to <= from) to = zonedInstant(dayText(nextDay(start)), chosen.end, zone);
    return [from, to];
  }

  async function load(fresh) {
    state.ticket += 1;
    const ticket = state.ticket;
    if (fresh) {
      state.messages = [];
      state.exhausted = false;
    }
    const [from, to] = period();
    try {
      const { messages } = await api('GET', `/review/messages${query({
        agent_id: agent.value || undefined,
        from: from?.toISOString(),
        to: to?.toISOString(),
        before: state.messages.at(-1)?.created_at,
        limit: PAGE,
      })}`);
      if (state.closed || ticket !== state.ticket) return;
      state.messages.push(...messages);
      state.exhausted = messages.length < PAGE;
      paint(from, to);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function paint(from, to) {
    more.hidden = state.exhausted;
    caption.textContent = from
      ? `${clock(from.toISOString())} to ${clock(to.toISOString())}: ${state.messages.length} messages${state.exhausted ? '' : ' so far'}`
      : `${state.messages.length} messages`;
    const byAgent = new Map();
    for (const message of state.messages) {
      const key = message.author?.id ?? '';
      const entry = byAgent.get(key) ?? { name: message.author?.name ?? key, count: 0, replies: [] };
      entry.count += 1;
      if (typeof message.reply_ms === 'number') entry.replies.push(message.reply_ms / 1000);
      byAgent.set(key, entry);
    }
    replace(stats, byAgent.size === 0
      ? h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No team messages in this period.'))
      : [...byAgent.values()].map((entry) => {
        const sorted = [...entry.replies].sort((a, b) => a - b);
        const mean = sorted.length ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : null;
        return h('tr', { class: 'review-agent' },
          h('th', { scope: 'row' }, entry.name),
          h('td', {}, String(entry.count)),
          h('td', {}, String(sorted.length)),
          h('td', {}, seconds(mean)),
          h('td', {}, seconds(nearestRank(sorted, 0.5))),
          h('td', {}, seconds(nearestRank(sorted, 0.9))));
      }));
    replace(list, state.messages.length === 0
      ? h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'Nothing to review.'))
      : state.messages.map((message) => h('tr', { class: 'review-row', dataset: { id: message.id } },
        h('td', {}, clock(message.created_at)),
        h('td', {}, message.author?.name ?? ''),
        h('td', { class: 'review-body' },
          message.visibility === 'internal' ? h('span', { class: 'chip' }, 'internal') : null,
          message.automated ? h('span', { class: 'chip' }, 'automated') : null,
          ' ', message.body.length > 240 ? `${message.body.slice(0, 239)}…` : message.body),
        h('td', { class: 'review-reply' }, typeof message.reply_ms === 'number' ? seconds(message.reply_ms / 1000) : '—'),
        h('td', {}, h('a', { href: `#/inbox/${encodeURIComponent(message.conversation_id)}` }, 'Open')))));
  }

  loadShifts().then(() => load(true));
  return {
    unmount() {
      state.closed = true;
    },
  };
}
