// The WebSocket client (docs/api.md › WebSocket): one connection, many topics,
// reconnect with backoff, and resume. For each tracked topic it remembers the last
// timeline `seq` delivered and resubscribes with `after_seq` after a drop, so the server
// replays exactly what was missed; anything at or below that `seq` is dropped here too,
// so nothing on screen is lost or shown twice. Ephemeral events are not replayed: each
// handler gets `{kind:"subscribed"}` after every (re)subscription to refetch state.

const PING_EVERY_MS = 25_000;
const PONG_GRACE_MS = 10_000;
// Typing indicators expire after 6 s in the console; refresh them well before that.
const TYPING_EVERY_MS = 3_000;

export class Live {
  /**
   * `token`: a bearer token sent in a `hello` frame (fan page); without it the session
   * cookie authenticates the upgrade (team console).
   * `onState(state)`: `connecting`, `live` or `offline`.
   * `onUnauthorized()`: the session ended (close code 4001 or a refused hello).
   */
  constructor({ token = null, onState = () => {}, onUnauthorized = () => {}, onError = () => {} } = {}) {
    this.token = token;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.onError = onError;
    this.topics = new Map();
    this.typingSent = new Map();
    this.socket = null;
    this.ready = false;
    this.stopped = true;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.state = 'offline';
    window.addEventListener('online', () => this.reconnectNow());
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.socket) this.socket.close(1000, 'bye');
    this.socket = null;
    this.setState('offline');
  }

  /**
   * Follows `topic` with `handler(event, frame)`; returns a function that stops it. With
   * a numeric `afterSeq` the topic becomes tracked: stored events after it are replayed
   * (to every handler of the topic), and resumes continue from the last one delivered.
   * Without it, only live events arrive (lists that refetch on `subscribed`). Several
   * handlers may share a topic: the server holds one subscription per topic.
   */
  subscribe(topic, handler, { afterSeq } = {}) {
    let entry = this.topics.get(topic);
    const fresh = !entry;
    if (!entry) {
      entry = { handlers: new Set(), tracked: false, lastSeq: 0 };
      this.topics.set(topic, entry);
    }
    entry.handlers.add(handler);
    const track = typeof afterSeq === 'number' && (!entry.tracked || afterSeq < entry.lastSeq);
    if (track) {
      entry.tracked = true;
      entry.lastSeq = afterSeq;
    }
    if (this.ready && (fresh || track)) this.sendSubscribe(topic);
    return () => this.unsubscribe(topic, handler);
  }

  unsubscribe(topic, handler) {
    const entry = this.topics.get(topic);
    if (!entry) return;
    entry.handlers.delete(handler);
    if (entry.handlers.size > 0) return;
    this.topics.delete(topic);
    if (this.ready) this.send({ type: 'unsubscribe', topic });
  }

  /** The last `seq` delivered on a tracked topic. */
  lastSeq(topic) {
    return this.topics.get(topic)?.lastSeq ?? 0;
  }

  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Tells the others on `topic` that this user is typing (a team-only `typing` event on
   * the server). Called on every keystroke; sends at most one frame per topic every
   * TYPING_EVERY_MS, and nothing while offline (typing is ephemeral, never queued).
   */
  typing(topic) {
    const now = Date.now();
    if (now - (this.typingSent.get(topic) ?? 0) < TYPING_EVERY_MS) return;
    if (this.send({ type: 'typing', topic })) this.typingSent.set(topic, now);
  }

  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    clearTimeout(this.retryTimer);
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(4000, 'reconnect');
    else this.connect();
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  connect() {
    if (this.stopped) return;
    this.setState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
    this.socket = socket;
    this.ready = false;
    socket.addEventListener('open', () => {
      this.lastFrameAt = Date.now();
      if (this.token) this.send({ type: 'hello', token: this.token });
      else this.onReady();
    });
    socket.addEventListener('message', (message) => this.receive(message.data));
    socket.addEventListener('close', (event) => this.closed(socket, event));
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.heartbeat(), PING_EVERY_MS);
  }

  onReady() {
    this.ready = true;
    this.attempt = 0;
    this.setState('live');
    for (const topic of this.topics.keys()) this.sendSubscribe(topic);
  }

  sendSubscribe(topic) {
    const entry = this.topics.get(topic);
    const frame = { type: 'subscribe', topic };
    if (entry.tracked) frame.after_seq = entry.lastSeq;
    this.send(frame);
  }

  heartbeat() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    // A silent network drop leaves the socket "open": no answer to a ping means dead.
    if (Date.now() - this.lastFrameAt > PING_EVERY_MS + PONG_GRACE_MS) {
      this.socket.close(4000, 'no pong');
      return;
    }
    this.send({ type: 'ping' });
  }

  receive(data) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.onReady();
        break;
      case 'subscribed':
        this.dispatch(this.topics.get(frame.topic), { kind: 'subscribed' }, frame);
        break;
      case 'event': {
        const entry = this.topics.get(frame.topic);
        if (!entry) return;
        if (typeof frame.seq === 'number') {
          if (entry.tracked && frame.seq <= entry.lastSeq) return;
          if (entry.tracked) entry.lastSeq = frame.seq;
        }
        this.dispatch(entry, frame.event, frame);
        break;
      }
      case 'resync': {
        // The resume point is older than retained history: start the topic over.
        const entry = this.topics.get(frame.topic);
        if (entry) {
          entry.tracked = false;
          entry.lastSeq = 0;
        }
        this.dispatch(entry, { kind: 'resync' }, frame);
        break;
      }
      case 'error':
        if (!this.ready && frame.code === 'unauthorized') {
          this.stopped = true;
          this.onUnauthorized();
        } else this.onError(frame);
        break;
      default:
        break;
    }
  }

  dispatch(entry, event, frame) {
    if (!entry) return;
    for (const handler of [...entry.handlers]) {
      try {
        handler(event, frame);
      } catch (error) {
        console.error('live handler failed', error);
      }
    }
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.ready = false;
    this.socket = null;
    clearInterval(this.pingTimer);
    if (event.code === 4001) {
      this.stopped = true;
      this.setState('offline');
      this.onUnauthorized();
      return;
    }
    if (this.stopped) return;
    this.setState('offline');
    // 4008 (too slow) resumes at once; anything else backs off, with jitter so a
    // restarted server is not hit by every console in the same millisecond.
    const base = event.code === 4008 ? 100 : Math.min(10_000, 500 * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }
}
