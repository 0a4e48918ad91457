// Telling a member something happened while they look elsewhere: the unread count in the
// tab title, an optional short tone (made with WebAudio, no audio file), and desktop
// notifications once the member allowed them — for a conversation newly assigned to
// them, a whisper addressed to them, and (for those who watch alerts) a new alert. The
// two switches live in the top bar and are remembered per browser.

import { h } from './dom.js';

const SOUND = 'fandesk.notify.sound';
const WATCHES_ALERTS = ['owner', 'supervisor', 'escalation_lead'];

const remembered = {
  get: (key) => { try { return localStorage.getItem(key) === '1'; } catch { return false; } },
  set: (key, on) => { try { localStorage.setItem(key, on ? '1' : '0'); } catch { /* storage off */ } },
};

/** `(3) Inbox · fandesk` for 3 unread; the base title alone for none. */
export function titleWith(unread, base) {
  return unread > 0 ? `(${unread > 99 ? '99+' : unread}) ${base}` : base;
}

export class Notifier {
  constructor(ctx) {
    this.ctx = ctx;
    this.baseTitle = document.title || 'fandesk';
    this.unread = 0;
    this.sound = remembered.get(SOUND);
    this.audio = null;
    this.assigned = new Set();
    this.stops = [];
    this.soundButton = h('button', {
      type: 'button',
      class: 'notify-sound',
      'aria-pressed': String(this.sound),
      title: 'Play a short tone for new assignments, whispers and alerts',
      onclick: () => this.setSound(!this.sound),
    }, 'Sound');
    this.desktopButton = h('button', {
      type: 'button',
      class: 'notify-desktop',
      onclick: () => this.askDesktop(),
    }, 'Desktop alerts');
    this.paintDesktop();
  }

  /** The top-bar switches. */
  controls() {
    return h('span', { class: 'notify-controls', role: 'group', 'aria-label': 'Notifications' }, this.soundButton, this.desktopButton);
  }

  start() {
    const { live, me } = this.ctx;
    this.stops.push(live.subscribe('inbox', (event) => {
      if (event.kind !== 'conversation.updated') return;
      const conversation = event.conversation;
      const mine = conversation.assignee_id === me.id && conversation.status !== 'resolved';
      if (mine && !this.assigned.has(conversation.id)) {
        this.assigned.add(conversation.id);
        const name = this.ctx.directory.fanName(conversation.fan_id) || 'a fan';
        this.announce('New conversation assigned to you', `From ${name}`, `#/inbox/${conversation.id}`);
      } else if (!mine) this.assigned.delete(conversation.id);
    }));
    if (WATCHES_ALERTS.includes(me.role)) {
      this.stops.push(live.subscribe('alerts', (event) => {
        if (event.kind === 'alert.raised') this.announce(`New alert: ${(event.alert?.kind || 'alert').replaceAll('_', ' ')}`, event.alert?.excerpt || '', '#/dashboard');
      }));
    }
  }

  /** Conversations already assigned when the inbox loads are not news. */
  knowAssigned(ids) {
    for (const id of ids) this.assigned.add(id);
  }

  /** A message the inbox saw on a conversation's topic: a whisper to me is news. */
  message(conversationId, message) {
    if (message?.whisper_to === this.ctx.me.id && message.author?.id !== this.ctx.me.id) {
      this.announce(`Whisper from ${message.author?.name || 'the team'}`, message.body || '', `#/inbox/${conversationId}`);
    }
  }

  setUnread(count) {
    this.unread = count;
    document.title = titleWith(count, this.baseTitle);
  }

  setSound(on) {
    this.sound = on;
    remembered.set(SOUND, on);
    this.soundButton.setAttribute('aria-pressed', String(on));
    if (on) this.tone();
  }

  async askDesktop() {
    if (!('Notification' in window)) return;
    try {
      await Notification.requestPermission();
    } catch { /* the browser refused to ask */ }
    this.paintDesktop();
  }

  paintDesktop() {
    const supported = 'Notification' in window;
    const permission = supported ? Notification.permission : 'unsupported';
    this.desktopButton.disabled = permission !== 'default';
    this.desktopButton.textContent = permission === 'granted'
      ? 'Desktop alerts on'
      : permission === 'denied' ? 'Desktop alerts blocked' : supported ? 'Desktop alerts' : 'No desktop alerts';
    this.desktopButton.title = permission === 'default'
      ? 'Ask the browser to show desktop notifications'
      : permission === 'denied' ? 'Allow notifications for this site in the browser settings' : '';
  }

  announce(title, body, hash) {
    this.last = { title, body, hash };
    if (this.sound) this.tone();
    if (!('Notification' in window) || Notification.permission !== 'granted' || document.hasFocus()) return;
    try {
      const note = new Notification(title, { body: body.slice(0, 140), tag: hash });
      note.onclick = () => {
        window.focus();
        this.ctx.navigate(hash);
        note.close();
      };
    } catch { /* some browsers only notify from a service worker */ }
  }

  /** Two short sine tones, quiet. */
  tone() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      this.audio ??= new Context();
      const start = this.audio.currentTime;
      for (const [offset, frequency] of [[0, 880], [0.16, 1320]]) {
        const oscillator = this.audio.createOscillator();
        const gain = this.audio.createGain();
        oscillator.type = 'sine';
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.12, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.14);
        oscillator.connect(gain).connect(this.audio.destination);
        oscillator.start(start + offset);
        oscillator.stop(start + offset + 0.15);
      }
      this.tones = (this.tones || 0) + 1;
    } catch { /* audio unavailable */ }
  }

  stop() {
    for (const stop of this.stops) stop();
    this.stops = [];
    this.setUnread(0);
  }
}
