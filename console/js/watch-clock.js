// The event page's clock and playback arithmetic (docs/api.md › Events): the server's
// time estimated from `server_time` (each answer's round trip halved, the quickest
// answer trusted most), so a countdown and a premiere's playback position are the same
// for every viewer whatever their own clock says; and the phase of an event at an
// instant. Pure functions and one small class: no DOM.

/** Milliseconds since the epoch of an RFC 3339 time, whatever its fraction's length. */
export function parseTime(iso) {
  const trimmed = String(iso).replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(trimmed);
}

export class ServerClock {
  constructor(now = () => Date.now()) {
    this.local = now;
    this.offsetMs = 0;
    this.rttMs = Infinity;
    this.samples = 0;
  }

  /**
   * Learns from one answer: `serverIso` was the server's time somewhere between
   * `sentAt` and `receivedAt` (local); the midpoint is the best guess. A sample taken
   * over a much slower round trip than the best one is ignored (it says less).
   */
  sample(serverIso, sentAt, receivedAt) {
    const server = parseTime(serverIso);
    if (!Number.isFinite(server)) return;
    const rtt = Math.max(0, receivedAt - sentAt);
    if (this.samples > 0 && rtt > this.rttMs * 2 + 50) return;
    this.offsetMs = server - (sentAt + receivedAt) / 2;
    this.rttMs = Math.min(this.rttMs, rtt);
    this.samples += 1;
  }

  /** The server's time now, in milliseconds since the epoch. */
  now() {
    return this.local() + this.offsetMs;
  }
}

/** `scheduled`, `live` or `ended` at `nowMs` (the server's rule: `ends_at` exclusive). */
export function phaseAt(event, nowMs) {
  if (nowMs < parseTime(event.starts_at)) return 'scheduled';
  if (nowMs < parseTime(event.ends_at)) return 'live';
  return 'ended';
}

/** Seconds of video since `starts_at` at `nowMs` (negative before the start). */
export function positionAt(event, nowMs) {
  return (nowMs - parseTime(event.starts_at)) / 1000;
}

/** "2 d 3:04:05", "1:04:05", "4:05" — a countdown of whole seconds, rounded up. */
export function countdownText(seconds) {
  const total = Math.max(0, Math.ceil(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  const clock = hours > 0 || days > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
  return days > 0 ? `${days} d ${clock}` : clock;
}

/** "-0:12" before the start, "3:04" after: where a replayed message falls in the video. */
export function offsetText(seconds) {
  const sign = seconds < 0 ? '-' : '';
  const total = Math.floor(Math.abs(seconds));
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${sign}${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${sign}${minutes}:${secs}`;
}
