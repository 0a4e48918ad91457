// An event's figures on the events screen (docs/api.md › Events › Metrics; definitions
// in docs/metrics.md › Events): unique viewers, peak, average watch time, questions and
// conversions, the retention by minute as a line chart and the chat's messages per
// minute as bars, both drawn as our own SVG. Read from the server, which computes them
// from stored rows: while the event is live they are re-read every 15 s; once it has
// ended they are final.

import { api, ApiError } from './api.js';
import { h, replace, svg } from './dom.js';
import { money } from './format.js';

const LIVE_REFRESH_MS = 15_000;
const WIDTH = 480;
const HEIGHT = 140;
const PAD = 28;

function duration(secs) {
  const whole = Math.round(secs);
  const minutes = Math.floor(whole / 60);
  return minutes ? `${minutes} min ${whole % 60} s` : `${whole} s`;
}

/** The chart's frame: axes, and the x labels every few minutes. */
function frame(count, title, top) {
  const x = (index) => PAD + (count <= 1 ? 0 : (index * (WIDTH - 2 * PAD)) / (count - 1));
  const step = Math.max(1, Math.ceil(count / 8));
  const labels = [];
  for (let index = 0; index < count; index += step) {
    labels.push(svg('text', { x: x(index), y: HEIGHT - 6, 'text-anchor': 'middle', class: 'axis' }, `${index}′`));
  }
  return {
    x,
    parts: [
      svg('title', {}, title),
      svg('line', { x1: PAD, y1: HEIGHT - PAD, x2: WIDTH - PAD, y2: HEIGHT - PAD, class: 'chart-axis' }),
      svg('line', { x1: PAD, y1: PAD / 2, x2: PAD, y2: HEIGHT - PAD, class: 'chart-axis' }),
      svg('text', { x: 2, y: PAD / 2 + 4, class: 'axis' }, top),
      ...labels,
    ],
  };
}

/** Retention by minute (shares 0–1) as a line with a point per minute. */
export function retentionChart(shares) {
  const { x, parts } = frame(shares.length, 'Retention by minute', '100%');
  const y = (share) => HEIGHT - PAD - share * (HEIGHT - 1.5 * PAD);
  const points = shares.map((share, index) => `${x(index).toFixed(1)},${y(share).toFixed(1)}`).join(' ');
  return svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'metrics-chart', role: 'img', 'aria-label': 'Retention by minute', 'data-chart': 'retention' },
    ...parts,
    svg('polyline', { points, class: 'chart-line' }),
    ...shares.map((share, index) => svg('circle', { cx: x(index), cy: y(share), r: 2.5, class: 'chart-point', 'data-share': share },
      svg('title', {}, `minute ${index}: ${Math.round(share * 100)}%`))));
}

/** Messages per minute as bars. */
export function messagesChart(counts) {
  const most = Math.max(1, ...counts);
  const { x, parts } = frame(counts.length, 'Chat messages per minute', String(most));
  const width = Math.min(40, Math.max(2, (WIDTH - 2 * PAD) / Math.max(1, counts.length) - 2));
  const height = (count) => (count / most) * (HEIGHT - 1.5 * PAD);
  return svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'metrics-chart', role: 'img', 'aria-label': 'Chat messages per minute', 'data-chart': 'messages' },
    ...parts,
    ...counts.map((count, index) => svg('rect', {
      x: Math.min(WIDTH - PAD - width, x(index)), y: HEIGHT - PAD - height(count), width, height: height(count), class: 'chart-bar',
    }, svg('title', {}, `minute ${index}: ${count}`))));
}

export class EventMetricsPanel {
  constructor(root, event) {
    this.root = root;
    this.event = event;
    this.timer = null;
    this.closed = false;
    replace(root, h('h2', {}, 'Figures'), h('p', { class: 'muted' }, 'Loading…'));
    this.load();
  }

  destroy() {
    this.closed = true;
    clearTimeout(this.timer);
  }

  async load() {
    let metrics;
    try {
      metrics = await api('GET', `/events/${encodeURIComponent(this.event.id)}/metrics`);
    } catch (error) {
      if (this.closed) return;
      const refused = error instanceof ApiError && error.status === 403;
      replace(this.root, h('h2', {}, 'Figures'),
        h('p', { class: 'muted' }, refused ? 'Figures are for the owner, supervisors and escalation leads.' : error.message));
      return;
    }
    if (this.closed) return;
    this.render(metrics);
    if (metrics.status !== 'ended') this.timer = setTimeout(() => this.load(), LIVE_REFRESH_MS);
  }

  render(metrics) {
    const figure = (name, label, value) => h('div', { class: 'metric-figure', dataset: { metric: name } },
      h('span', { class: 'metric-value' }, value), h('span', { class: 'metric-label' }, label));
    const when = {
      scheduled: 'Nothing to count before the start.',
      live: 'So far (live; refreshed every 15 s).',
      ended: 'Final figures.',
    }[metrics.status] || '';
    const retention = metrics.retention_by_minute;
    replace(this.root,
      h('h2', {}, 'Figures'),
      h('p', { class: 'muted small', dataset: { metricsStatus: metrics.status } }, when),
      h('div', { class: 'metric-figures' },
        figure('unique_viewers', 'unique viewers', String(metrics.unique_viewers)),
        figure('peak_concurrent', 'peak at once', String(metrics.peak_concurrent)),
        figure('avg_watch_secs', 'average watch', duration(metrics.avg_watch_secs)),
        figure('questions', 'questions answered', `${metrics.questions.answered} of ${metrics.questions.asked}`),
        figure('conversions', 'conversions', `${metrics.conversions.count} · ${money(metrics.conversions.value_cents)}`)),
      h('h3', {}, 'Retention by minute'),
      retention.length
        ? retentionChart(retention)
        : h('p', { class: 'muted small' }, 'No one was watching at the start.'),
      h('h3', {}, 'Chat messages per minute'),
      metrics.messages_per_minute.length
        ? messagesChart(metrics.messages_per_minute)
        : h('p', { class: 'muted small' }, 'The event has not started.'));
  }
}
