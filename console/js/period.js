// Periods for the supervisor screens (metrics, message review, weekly report): local
// days as `YYYY-MM-DD`, ISO weeks as `YYYY-Www`, and the instants that bound them in the
// browser's time zone.

/** `YYYY-MM-DD` of a Date in local time. */
export function dayText(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Local midnight starting `text` (`YYYY-MM-DD`), or null when it is not a date. */
export function dayStart(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The day after `date` (local midnight, across daylight-saving changes). */
export function nextDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1);
}

/** Monday 00:00 local of the week holding `date`. */
export function weekStart(date) {
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  start.setDate(start.getDate() - ((start.getDay() + 6) % 7));
  return start;
}

/** The ISO week (`YYYY-Www`) holding `date`. */
export function isoWeek(date) {
  const day = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The browser's IANA time zone, or undefined (the server then uses the creator's). */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

/** Seconds as "42 s", "3 min 5 s", "2 h 10 min"; null as "—". */
export function seconds(value) {
  if (typeof value !== 'number' || Number.isNaN(value)) return '—';
  const total = Math.round(value);
  if (total < 60) return `${total} s`;
  if (total < 3600) return `${Math.floor(total / 60)} min${total % 60 ? ` ${total % 60} s` : ''}`;
  return `${Math.floor(total / 3600)} h${Math.floor((total % 3600) / 60) ? ` ${Math.floor((total % 3600) / 60)} min` : ''}`;
}

/** A fraction 0…1 as a whole percentage; null as "—". */
export function percent(value) {
  return typeof value === 'number' ? `${Math.round(value * 100)} %` : '—';
}
