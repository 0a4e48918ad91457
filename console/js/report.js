// The weekly report viewer (owner, supervisors, escalation leads; docs/api.md › Metrics
// and reports): one ISO week's overall, per-agent and per-shift tables with the week
// before and the change, the FRT distribution, volume by hour and the daily trends as our
// own SVG charts, and downloads of the same report as HTML, CSV and JSON. The screen
// opens on the current week so far (week to date), which always holds the latest
// activity; "Previous week" steps back to complete weeks.

import { api, query } from './api.js';
import { barChart, lineChart } from './chart.js';
import { h, replace } from './dom.js';
import { browserZone, isoWeek, percent, seconds } from './period.js';

const WEEK = /^\d{4}-W\d{2}$/;

/** The ISO week `delta` weeks from `week` (`YYYY-Www`). */
export function shiftWeek(week, delta) {
  const [year, number] = week.split('-W').map(Number);
  // Thursday of week `number` lies in `year` by definition.
  const jan4 = new Date(year, 0, 4);
  const monday = new Date(year, 0, 4 - ((jan4.getDay() + 6) % 7) + (number - 1) * 7);
  monday.setDate(monday.getDate() + delta * 7);
  return isoWeek(monday);
}

function signed(value, format) {
  if (typeof value !== 'number') return '—';
  const text = format(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

function rowCells(row) {
  const now = row.this_week;
  const before = row.previous_week;
  return [
    h('th', { scope: 'row' }, row.name),
    h('td', {}, String(now.volume ?? 0)),
    h('td', {}, seconds(now.first_response_secs?.mean)),
    h('td', {}, seconds(now.first_response_secs?.p90)),
    h('td', {}, percent(now.resolution_rate)),
    h('td', {}, percent(now.reply_rate)),
    h('td', {}, String(now.pending ?? 0)),
    h('td', {}, String(now.sla_breaches ?? 0)),
    h('td', { class: 'muted' }, `${before.volume ?? 0} / ${seconds(before.first_response_secs?.mean)}`),
    h('td', {}, `${signed(row.delta.volume, String)} / ${signed(row.delta.frt_mean_secs, seconds)}`),
  ];
}

function table(caption, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'agents report-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['', 'Openings', 'FRT mean', 'FRT p90', 'Resolution', 'Reply rate', 'Pending', 'SLA breaches', 'Week before (openings / FRT)', 'Change']
      .map((name) => h('th', { scope: 'col' }, name || h('span', { class: 'sr-only' }, 'Group'))))),
    h('tbody', {}, rows.length
      ? rows.map((row) => h('tr', { class: 'report-row' }, rowCells(row)))
      : h('tr', {}, h('td', { colspan: '10', class: 'muted' }, 'None this week.')))));
}

export function mountReport(root, ctx) {
  const zone = browserZone();
  const thisWeek = isoWeek(new Date());
  const week = h('input', { type: 'text', name: 'week', value: thisWeek, pattern: '\\d{4}-W\\d{2}', size: '9', 'aria-describedby': 'report-week-hint', autocomplete: 'off' });
  const notice = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const heading = h('p', { class: 'report-heading', role: 'status' });
  const downloads = h('p', { class: 'report-downloads' });
  const content = h('div', { class: 'report-content' });
  const step = (delta) => h('button', { type: 'button', onclick: () => { week.value = shiftWeek(WEEK.test(week.value) ? week.value : thisWeek, delta); load(); } },
    delta < 0 ? 'Previous week' : 'Next week');
  const form = h('form', { class: 'metrics-filters', onsubmit: (event) => { event.preventDefault(); load(); } },
    h('label', {}, 'ISO week', week),
    h('div', { class: 'charter-actions' },
      step(-1), step(1),
      h('button', { type: 'button', onclick: () => { week.value = thisWeek; load(); } }, 'This week'),
      h('button', { type: 'submit', class: 'primary' }, 'Show')));
  replace(root, h('div', { class: 'metrics-screen report-screen' },
    h('section', { class: 'panel' },
      h('h2', {}, 'Weekly report'),
      h('p', { class: 'muted small' }, 'Also: ', h('a', { href: '#/metrics' }, 'Metrics'), ' · ', h('a', { href: '#/review' }, 'Message review')),
      form,
      h('p', { id: 'report-week-hint', class: 'muted small' }, `Weeks run Monday to Sunday in ${zone || 'the creator’s time zone'}; this week is counted so far.`),
      notice, heading, downloads, content)));

  const state = { closed: false, ticket: 0 };

  function link(format, label) {
    const href = `/api/v1/reports/weekly${query({ week: week.value, format, tz: zone })}`;
    return h('a', { href, download: `fandesk-report-${week.value}.${format}`, class: 'button', dataset: { format } }, label);
  }

  async function load() {
    notice.hidden = true;
    if (!WEEK.test(week.value)) {
      notice.hidden = false;
      notice.textContent = 'A week looks like 2026-W47.';
      return;
    }
    state.ticket += 1;
    const ticket = state.ticket;
    heading.textContent = 'Loading…';
    try {
      const report = await api('GET', `/reports/weekly${query({ week: week.value, format: 'json', tz: zone })}`);
      if (state.closed || ticket !== state.ticket) return;
      paint(report);
    } catch (error) {
      if (state.closed || ticket !== state.ticket) return;
      heading.textContent = '';
      notice.hidden = false;
      notice.textContent = error.message;
      replace(content);
      replace(downloads);
    }
  }

  function paint(report) {
    const partial = report.week === thisWeek;
    heading.textContent = `${report.week}${partial ? ' (so far)' : ''} · ${new Date(report.from).toLocaleDateString()} – ${new Date(Date.parse(report.to) - 1).toLocaleDateString()} · ${report.time_zone}`;
    replace(downloads, 'Download: ', link('html', 'HTML'), ' ', link('csv', 'CSV'), ' ', link('json', 'JSON'));
    const hours = report.volume_by_hour || [];
    replace(content,
      table('Overall', [report.overall]),
      table('Per agent', report.agents || []),
      table('Per shift', report.shifts || []),
      h('div', { class: 'metrics-charts' },
        barChart({ title: 'First-response time distribution', series: [{ name: 'openings', className: 'series-a' }],
          rows: (report.frt_distribution || []).map((bucket) => ({ label: bucket.label, values: [bucket.count] })) }),
        lineChart({ title: 'Openings by hour of day', series: [{ name: 'openings', className: 'series-a' }],
          points: hours.map((count, hour) => ({ label: `${hour}h`, values: [count] })) }),
        lineChart({ title: 'Daily resolution and reply rates', series: [{ name: 'resolution', className: 'series-a' }, { name: 'reply rate', className: 'series-b' }], max: 1, format: percent,
          points: (report.daily || []).map((day) => ({ label: day.date.slice(5), values: [day.resolution_rate ?? null, day.reply_rate ?? null] })) })));
  }

  load();
  return {
    unmount() {
      state.closed = true;
    },
  };
}
