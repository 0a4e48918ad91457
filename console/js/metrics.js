// The metrics screen (owner, supervisors, escalation leads; docs/metrics.md): for a
// chosen period, per agent, per shift or per local day — first-response time (mean, p50,
// p90), resolution rate, reply rate with its pending count, average conversation length
// and SLA breaches — as a table and as our own SVG charts. The numbers are the server's
// (`GET /metrics/summary`); nothing is recomputed here.

import { api, query } from './api.js';
import { barChart, lineChart } from './chart.js';
import { h, replace } from './dom.js';
import { browserZone, dayStart, dayText, nextDay, percent, seconds, weekStart } from './period.js';

export const METRICS_ROLES = ['owner', 'supervisor', 'escalation_lead'];

/** Whether `me` may open the metrics screens (the capability table's `ReadMetrics`). */
export function metricsAllowed(ctx) {
  return ctx.features.metrics && METRICS_ROLES.includes(ctx.me.role);
}

const GROUPINGS = [['agent', 'Per agent'], ['shift', 'Per shift'], ['day', 'Per day']];

/** The presets of the period picker: [label, () => [first day, last day]]. */
const PRESETS = [
  ['Last 7 days', () => { const end = new Date(); const start = new Date(end); start.setDate(start.getDate() - 6); return [start, end]; }],
  ['This week', () => [weekStart(new Date()), new Date()]],
  ['Last week', () => { const start = weekStart(new Date()); start.setDate(start.getDate() - 7); const end = new Date(start); end.setDate(end.getDate() + 6); return [start, end]; }],
  ['Last 30 days', () => { const end = new Date(); const start = new Date(end); start.setDate(start.getDate() - 29); return [start, end]; }],
];

function groupLabel(group, grouping) {
  if (grouping === 'agent') return group.name || group.key || 'Not answered by a human';
  if (grouping === 'shift') return group.key || 'Outside every shift';
  return group.key || '—';
}

export function mountMetrics(root, ctx) {
  const [first, last] = PRESETS[0][1]();
  const from = h('input', { type: 'date', name: 'from', required: true, value: dayText(first) });
  const to = h('input', { type: 'date', name: 'to', required: true, value: dayText(last) });
  const grouping = h('select', { name: 'group_by' }, GROUPINGS.map(([value, label]) => h('option', { value }, label)));
  const notice = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const body = h('tbody');
  const charts = h('div', { class: 'metrics-charts' });
  const caption = h('p', { class: 'muted small', role: 'status' });
  const presets = h('div', { class: 'metrics-presets', role: 'group', 'aria-label': 'Period presets' },
    PRESETS.map(([label, range]) => h('button', {
      type: 'button',
      onclick: () => {
        const [start, end] = range();
        from.value = dayText(start);
        to.value = dayText(end);
        load();
      },
    }, label)));
  const form = h('form', { class: 'metrics-filters', onsubmit: (event) => { event.preventDefault(); load(); } },
    h('label', {}, 'From', from),
    h('label', {}, 'To (inclusive)', to),
    h('label', {}, 'Group', grouping),
    h('div', { class: 'charter-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  grouping.addEventListener('change', () => load());
  replace(root, h('div', { class: 'metrics-screen' },
    h('section', { class: 'panel' },
      h('h2', {}, 'Metrics'),
      h('p', { class: 'muted small' }, 'Also: ',
        h('a', { href: '#/review' }, 'Message review'), ' · ',
        h('a', { href: '#/report' }, 'Weekly report')),
      form, presets, notice, caption,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'agents metrics-table' },
          h('thead', {}, h('tr', {},
            ['Group', 'Openings', 'FRT mean', 'FRT p50', 'FRT p90', 'Resolution rate', 'Reply rate', 'Pending', 'Avg. length', 'SLA breaches']
              .map((name) => h('th', { scope: 'col' }, name)))),
          body)),
      h('p', { class: 'muted small metrics-note' },
        'FRT: time from the fan’s first message of an opening to the first human public reply. ',
        'Resolution rate: resolved without escalation ÷ resolved. ',
        'Reply rate: the team’s public replies the fan answered within 24 hours ÷ those whose 24 hours are over; ',
        'the younger ones are “pending”, answered or not, and count once their window closes. ',
        'Average length: public messages per conversation resolved in the period.')),
    h('section', { class: 'panel' }, h('h2', {}, 'Charts'), charts)));

  const state = { closed: false, ticket: 0 };

  async function load() {
    const start = dayStart(from.value);
    const end = dayStart(to.value);
    notice.hidden = true;
    if (!start || !end || end < start) {
      notice.hidden = false;
      notice.textContent = 'Pick a first and a last day, the last not before the first.';
      return;
    }
    state.ticket += 1;
    const ticket = state.ticket;
    const by = grouping.value;
    caption.textContent = 'Loading…';
    try {
      const summary = await api('GET', `/metrics/summary${query({
        from: start.toISOString(), to: nextDay(end).toISOString(), group_by: by, tz: browserZone(),
      })}`);
      if (state.closed || ticket !== state.ticket) return;
      paint(summary.groups || [], by);
      caption.textContent = `${from.value} to ${to.value}, ${GROUPINGS.find(([value]) => value === by)[1].toLowerCase()}: ${(summary.groups || []).length} groups`;
    } catch (error) {
      if (state.closed || ticket !== state.ticket) return;
      caption.textContent = '';
      notice.hidden = false;
      notice.textContent = error.message;
      replace(body);
      replace(charts);
    }
  }

  function paint(groups, by) {
    if (!groups.length) {
      replace(body, h('tr', {}, h('td', { colspan: '10', class: 'muted' }, 'Nothing happened in this period.')));
      replace(charts, h('p', { class: 'muted' }, 'No data to chart.'));
      return;
    }
    replace(body, groups.map((group) => {
      const frt = group.first_response_secs || {};
      return h('tr', { class: 'metrics-row', dataset: { key: group.key ?? '' } },
        h('th', { scope: 'row' }, groupLabel(group, by)),
        h('td', {}, String(group.volume ?? 0)),
        h('td', {}, seconds(frt.mean)),
        h('td', {}, seconds(frt.p50)),
        h('td', {}, seconds(frt.p90)),
        h('td', {}, percent(group.resolution_rate)),
        h('td', { class: 'reply-rate' }, percent(group.reply_rate)),
        h('td', {}, String(group.pending ?? 0)),
        h('td', {}, typeof group.mean_conversation_length === 'number' ? group.mean_conversation_length.toFixed(1) : '—'),
        h('td', {}, String(group.sla_breaches ?? 0)));
    }));
    const labels = groups.map((group) => groupLabel(group, by));
    const frtSeries = [
      { name: 'mean', className: 'series-a' },
      { name: 'p50', className: 'series-b' },
      { name: 'p90', className: 'series-c' },
    ];
    const rateSeries = [
      { name: 'resolution rate', className: 'series-a' },
      { name: 'reply rate', className: 'series-b' },
    ];
    const frtValues = groups.map((group) => {
      const frt = group.first_response_secs || {};
      return [frt.mean ?? null, frt.p50 ?? null, frt.p90 ?? null];
    });
    const rateValues = groups.map((group) => [group.resolution_rate ?? null, group.reply_rate ?? null]);
    const byDay = by === 'day';
    replace(charts,
      byDay
        ? lineChart({ title: 'First-response time by day', series: frtSeries, points: labels.map((label, i) => ({ label: label.slice(5), values: frtValues[i] })), format: seconds })
        : barChart({ title: 'First-response time', series: frtSeries, rows: labels.map((label, i) => ({ label, values: frtValues[i] })), format: seconds }),
      byDay
        ? lineChart({ title: 'Resolution and reply rates by day', series: rateSeries, max: 1, points: labels.map((label, i) => ({ label: label.slice(5), values: rateValues[i] })), format: percent })
        : barChart({ title: 'Resolution and reply rates', series: rateSeries, rows: labels.map((label, i) => ({ label, values: rateValues[i] })), format: percent }),
      barChart({ title: 'Openings and SLA breaches', series: [{ name: 'openings', className: 'series-a' }, { name: 'SLA breaches', className: 'series-c' }],
        rows: labels.map((label, i) => ({ label, values: [groups[i].volume ?? 0, groups[i].sla_breaches ?? 0] })) }));
  }

  load();
  return {
    unmount() {
      state.closed = true;
    },
  };
}
