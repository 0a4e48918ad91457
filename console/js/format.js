// Small formatting helpers: times, durations, money, and the first-response timer
// colours against the first-response targets (docs/product.md › SLA: 60 s target, 30 s
// stretch).

export const FRT_TARGET_SECS = 60;
export const FRT_STRETCH_SECS = 30;

/** `m:ss` (or `h:mm:ss`) of a number of seconds. */
export function duration(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Seconds since an RFC 3339 time. */
export function secondsSince(iso, now = Date.now()) {
  return (now - Date.parse(iso)) / 1000;
}

/** `ok` under the stretch target, `warn` until the target, `late` past it. */
export function timerLevel(seconds) {
  if (seconds < FRT_STRETCH_SECS) return 'ok';
  if (seconds < FRT_TARGET_SECS) return 'warn';
  return 'late';
}

/** Clock time of a message, with the date when it is not today. */
export function clock(iso) {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** "3 min ago" style age. */
export function ago(iso) {
  const seconds = secondsSince(iso);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** The local time of a fan in `timeZone` (IANA), or null when unknown. */
export function localTime(timeZone) {
  if (!timeZone) return null;
  try {
    return new Date().toLocaleTimeString([], { timeZone, hour: '2-digit', minute: '2-digit', weekday: 'short' });
  } catch {
    return null;
  }
}

/** Money from minor units. */
export function money(cents, currency = 'USD') {
  if (typeof cents !== 'number') return null;
  try {
    return new Intl.NumberFormat([], { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)}`;
  }
}

/** A sentiment score −1…1 as a word. */
export function mood(score) {
  if (typeof score !== 'number') return null;
  if (score <= -0.35) return 'negative';
  if (score < 0.2) return 'neutral';
  return 'positive';
}

/** Human words for role names. */
export function roleName(role) {
  return (role || '').replace('_', ' ');
}
