// Our own SVG charts for the metrics and report screens (no chart library): horizontal
// grouped bars and a daily line. Built with createElementNS and attributes only (the
// Content-Security-Policy refuses inline styles); colours come from classes in
// admin.css. Every chart has a <title> and an aria-label; the table beside it carries
// the same numbers for screen readers.

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * Horizontal bars: one row per `rows[i].label`, one bar per series (`series[j]`:
 * `{name, className}`) with `rows[i].values[j]` (a number or null, drawn as "—").
 * `format(value)` labels each bar. The SVG scales to its container's width.
 */
export function barChart({ title, series, rows, format = String }) {
  const width = 640;
  const labelWidth = 150;
  const barHeight = 14;
  const gap = 4;
  const rowHeight = series.length * (barHeight + gap) + 10;
  const legendHeight = 22;
  const height = legendHeight + Math.max(1, rows.length) * rowHeight + 4;
  const max = Math.max(0, ...rows.flatMap((row) => row.values.filter((value) => typeof value === 'number')));
  const scale = (value) => (max > 0 ? ((width - labelWidth - 70) * value) / max : 0);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'xMinYMin meet',
  }, s('title', {}, title));
  series.forEach((one, index) => {
    const x = labelWidth + index * 150;
    svg.append(s('rect', { x, y: 4, width: 12, height: 12, class: `chart-bar ${one.className}` }),
      s('text', { x: x + 16, y: 14, class: 'chart-legend' }, one.name));
  });
  rows.forEach((row, rowIndex) => {
    const top = legendHeight + rowIndex * rowHeight;
    svg.append(s('text', { x: labelWidth - 6, y: top + rowHeight / 2, class: 'chart-label', 'text-anchor': 'end' },
      row.label.length > 22 ? `${row.label.slice(0, 21)}…` : row.label));
    series.forEach((one, index) => {
      const value = row.values[index];
      const y = top + index * (barHeight + gap);
      const w = typeof value === 'number' ? Math.max(1, scale(value)) : 0;
      svg.append(s('rect', { x: labelWidth, y, width: w, height: barHeight, class: `chart-bar ${one.className}` },
        s('title', {}, `${row.label} · ${one.name}: ${typeof value === 'number' ? format(value) : '—'}`)));
      svg.append(s('text', { x: labelWidth + w + 4, y: y + barHeight - 3, class: 'chart-value' },
        typeof value === 'number' ? format(value) : '—'));
    });
  });
  return svg;
}

/** A line per series over `points` (`{label, values:[…]}`), values 0…`max`. */
export function lineChart({ title, series, points, max = null, format = String }) {
  const width = 640;
  const height = 200;
  const left = 44;
  const bottom = 24;
  const top = 24;
  const numbers = points.flatMap((point) => point.values.filter((value) => typeof value === 'number'));
  const ceiling = max ?? Math.max(1, ...numbers);
  const x = (index) => left + (points.length <= 1 ? 0 : ((width - left - 10) * index) / (points.length - 1));
  const y = (value) => height - bottom - ((height - bottom - top) * value) / ceiling;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title },
    s('title', {}, title),
    s('line', { x1: left, y1: y(0), x2: width - 10, y2: y(0), class: 'axis' }),
    s('text', { x: left - 4, y: y(ceiling) + 4, class: 'chart-value', 'text-anchor': 'end' }, format(ceiling)),
    s('text', { x: left - 4, y: y(0), class: 'chart-value', 'text-anchor': 'end' }, format(0)));
  series.forEach((one, index) => {
    const lx = left + index * 150;
    svg.append(s('rect', { x: lx, y: 2, width: 12, height: 12, class: `chart-bar ${one.className}` }),
      s('text', { x: lx + 16, y: 12, class: 'chart-legend' }, one.name));
    const drawn = points.map((point, at) => [at, point.values[index]]).filter(([, value]) => typeof value === 'number');
    if (drawn.length) {
      svg.append(s('polyline', { points: drawn.map(([at, value]) => `${x(at)},${y(value)}`).join(' '), class: `line ${one.className}` }));
      for (const [at, value] of drawn) {
        svg.append(s('circle', { cx: x(at), cy: y(value), r: 3, class: `dot ${one.className}` },
          s('title', {}, `${points[at].label} · ${one.name}: ${format(value)}`)));
      }
    }
  });
  const step = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((point, at) => {
    if (at % step === 0) svg.append(s('text', { x: x(at), y: height - 6, class: 'chart-value', 'text-anchor': 'middle' }, point.label));
  });
  return svg;
}
