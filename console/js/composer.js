// The message composer: public reply or internal note (a whisper when addressed), Enter
// to send, and the canned-response picker on `/` (docs/product.md › Canned responses). An
// inserted template's first line stays highlighted until the agent edits it, because the
// server refuses an unedited first line (`canned_first_line_unedited`); the server's
// answer is shown as it is, so the rule's `warn`/`off` modes (FANDESK_CANNED_FIRST_LINE)
// work without console changes.

import { api, ApiError } from './api.js';
import { firstArray } from './directory.js';
import { h, replace } from './dom.js';

const firstLine = (text) => text.split('\n', 1)[0].trim();
let composers = 0;

export class Composer {
  /**
   * `onSend({body, visibility, template_id, to})` resolves when committed and rejects
   * with an ApiError; `conversationId()` names the conversation templates render for;
   * `onTyping()` is called on every keystroke that writes a message (not a `/` command).
   */
  constructor(root, { features, onSend, onLater = null, conversationId, onTyping = () => {}, publicLabel = 'Reply' }) {
    this.features = features;
    this.onSend = onSend;
    this.onLater = onLater;
    this.onTyping = onTyping;
    this.conversationId = conversationId;
    this.visibility = 'public';
    this.whisperTo = null;
    this.defaultWhisper = null;
    this.template = null;
    this.canned = null;
    this.choices = [];
    this.selected = 0;

    this.mirror = h('div', { class: 'composer-mirror', 'aria-hidden': 'true' });
    // The picker's options are announced through the textarea's aria-activedescendant.
    composers += 1;
    this.pickerId = `canned-picker-${composers}`;
    this.placeholder = features.canned ? 'Reply… (type / for canned responses)' : 'Reply…';
    this.disabledReason = '';
    this.input = h('textarea', {
      class: 'composer-input',
      rows: '3',
      placeholder: this.placeholder,
      'aria-label': 'Message',
      'aria-controls': this.pickerId,
      'aria-autocomplete': features.canned ? 'list' : null,
      oninput: () => this.changed(),
      onkeydown: (event) => this.keydown(event),
      onscroll: () => {
        this.mirror.scrollTop = this.input.scrollTop;
      },
    });
    this.picker = h('ul', { class: 'picker', role: 'listbox', id: this.pickerId, 'aria-label': 'Canned responses', hidden: true });
    this.error = h('div', { class: 'composer-error', role: 'alert', hidden: true });
    this.hint = h('span', { class: 'composer-hint' });
    this.publicButton = h('button', { type: 'button', class: 'mode', 'aria-pressed': 'false', onclick: () => this.setMode('public') }, publicLabel);
    this.internalButton = h(
      'button',
      { type: 'button', class: 'mode', 'aria-pressed': 'false', onclick: () => this.setMode('internal') },
      'Internal note',
    );
    this.sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send');
    // Reply later: a public reply with a send time is scheduled instead of sent.
    this.laterInput = h('input', {
      type: 'datetime-local',
      class: 'later-at',
      'aria-label': 'Send at',
      hidden: true,
      oninput: () => this.updateHint(),
    });
    this.laterButton = features.replyLater && onLater
      ? h('button', { type: 'button', class: 'link later-toggle', 'aria-expanded': 'false', onclick: () => this.toggleLater() }, 'Send later')
      : null;
    this.form = h(
      'form',
      // The server checks what is sent (a send time to the second included).
      { class: 'composer', novalidate: '', onsubmit: (event) => { event.preventDefault(); this.submit(); } },
      h('div', { class: 'composer-modes' }, this.publicButton, this.internalButton),
      h('div', { class: 'composer-field' }, this.mirror, this.input, this.picker),
      this.error,
      h('div', { class: 'composer-bar' }, this.hint, this.laterButton, this.laterInput, this.sendButton),
    );
    root.replaceChildren(this.form);
    this.setMode('public');
  }

  focus() {
    this.input.focus();
  }

  /** Whom an internal message is addressed to by default ({id, name}, or null). */
  setWhisperTarget(to) {
    this.defaultWhisper = to;
    if (this.visibility === 'internal') this.setMode('internal');
  }

  /** `public`, or `internal` addressed to `to` ({id, name}): a whisper. */
  setMode(visibility, to = undefined) {
    this.visibility = visibility;
    const target = to === undefined ? this.defaultWhisper ?? null : to;
    this.whisperTo = visibility === 'internal' ? target : null;
    this.form.classList.toggle('composer-internal', visibility === 'internal');
    this.publicButton.classList.toggle('active', visibility === 'public');
    this.internalButton.classList.toggle('active', visibility === 'internal');
    this.publicButton.setAttribute('aria-pressed', String(visibility === 'public'));
    this.internalButton.setAttribute('aria-pressed', String(visibility === 'internal'));
    this.internalButton.textContent = this.whisperTo ? `Whisper to ${this.whisperTo.name}` : 'Internal note';
    this.updateHint();
  }

  /** Enables the composer, or disables it saying `why` (placeholder and hint). */
  setEnabled(enabled, why = '') {
    this.input.disabled = !enabled;
    this.sendButton.disabled = !enabled;
    this.publicButton.disabled = !enabled;
    this.internalButton.disabled = !enabled;
    if (this.laterButton) this.laterButton.disabled = !enabled;
    this.disabledReason = enabled ? '' : why;
    this.input.placeholder = enabled ? this.placeholder : why;
    this.updateHint();
  }

  /** Shows or hides the send-time field (public replies only). */
  toggleLater(open = this.laterInput.hidden) {
    if (!this.laterButton) return;
    this.laterInput.hidden = !open;
    if (!open) this.laterInput.value = '';
    this.laterButton.setAttribute('aria-expanded', String(open));
    this.laterButton.textContent = open ? 'Send now' : 'Send later';
    if (open) this.laterInput.focus();
    this.updateHint();
  }

  /** The chosen send time as an RFC 3339 instant, when a later send applies. */
  laterAt() {
    if (!this.laterButton || this.laterInput.hidden || !this.laterInput.value || this.visibility !== 'public') return null;
    const at = new Date(this.laterInput.value);
    return Number.isNaN(at.getTime()) ? null : at.toISOString();
  }

  reset() {
    this.toggleLater(false);
    this.input.value = '';
    this.template = null;
    this.showError(null);
    this.closePicker();
    this.changed();
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
  }

  updateHint() {
    let text = this.visibility === 'internal' ? 'Team only — the fan never sees this.' : 'Enter to send · Shift+Enter for a new line';
    if (this.disabledReason) text = this.disabledReason;
    if (this.template && this.templateUnedited()) text = 'Personalise the highlighted first line before sending.';
    else if (this.template) text = `From “${this.template.title}” · first line edited`;
    if (this.laterButton) this.laterButton.hidden = this.visibility !== 'public';
    const later = this.laterAt();
    if (later && !this.disabledReason) text = `Sends at ${new Date(later).toLocaleString()} as your reply`;
    this.sendButton.textContent = later ? 'Schedule' : 'Send';
    this.hint.textContent = text;
  }

  templateUnedited() {
    return this.template && firstLine(this.input.value) === this.template.firstLine;
  }

  changed() {
    if (this.template && this.input.value.trim() === '') this.template = null;
    this.paintMirror();
    this.updateHint();
    const value = this.input.value;
    if (this.features.canned && value.startsWith('/') && !value.includes('\n')) this.openPicker(value.slice(1));
    else this.closePicker();
    if (value.trim() !== '' && !value.startsWith('/')) this.onTyping();
  }

  /** Draws the highlight of an unedited template first line behind the textarea. */
  paintMirror() {
    const value = this.input.value;
    const unedited = this.templateUnedited();
    this.input.classList.toggle('has-template', Boolean(unedited));
    if (!unedited) {
      replace(this.mirror);
      return;
    }
    const lineEnd = value.indexOf('\n');
    const head = lineEnd === -1 ? value : value.slice(0, lineEnd);
    const rest = lineEnd === -1 ? '' : value.slice(lineEnd);
    // A trailing newline needs a character after it to take up its line.
    replace(this.mirror, h('mark', { class: 'first-line' }, head), `${rest}\u200b`);
    this.mirror.scrollTop = this.input.scrollTop;
  }

  keydown(event) {
    if (!this.picker.hidden) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.selected = (this.selected + step + this.choices.length) % Math.max(1, this.choices.length);
        this.paintPicker();
        return;
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && this.choices.length) {
        event.preventDefault();
        this.insert(this.choices[this.selected]);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        this.closePicker();
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    } else if (event.key === 'Escape') {
      this.input.blur();
    }
  }

  /** The library, fetched once (every keystroke shares the one request). */
  loadCanned() {
    if (!this.canned) {
      this.canned = api('GET', '/canned-responses').then(firstArray).catch((error) => {
        this.showError(`Canned responses are unavailable: ${error.message}`);
        return [];
      });
    }
    return this.canned;
  }

  async openPicker(filter) {
    const call = (this.pickerCall = (this.pickerCall || 0) + 1);
    const all = await this.loadCanned();
    // Only the latest keystroke's list counts.
    if (call !== this.pickerCall || this.input.value !== `/${filter}`) return;
    const needle = filter.trim().toLowerCase();
    this.choices = all
      .filter((item) => !needle || `${item.shortcut} ${item.title}`.toLowerCase().includes(needle))
      .sort((a, b) => Number(!String(a.shortcut).startsWith(needle)) - Number(!String(b.shortcut).startsWith(needle)))
      .slice(0, 8);
    this.selected = 0;
    this.picker.hidden = false;
    this.paintPicker();
  }

  paintPicker() {
    if (!this.choices.length) {
      this.input.removeAttribute('aria-activedescendant');
      replace(this.picker, h('li', { class: 'picker-empty' }, 'No canned response matches.'));
      return;
    }
    this.input.setAttribute('aria-activedescendant', `${this.pickerId}-${this.selected}`);
    replace(
      this.picker,
      this.choices.map((item, index) =>
        h(
          'li',
          {
            role: 'option',
            id: `${this.pickerId}-${index}`,
            class: index === this.selected ? 'picker-item selected' : 'picker-item',
            'aria-selected': String(index === this.selected),
            onmousedown: (event) => {
              event.preventDefault();
              this.insert(item);
            },
          },
          h('span', { class: 'picker-shortcut' }, `/${item.shortcut}`),
          h('span', { class: 'picker-title' }, item.title),
          h('span', { class: 'picker-preview' }, firstLine(item.body || '')),
        ),
      ),
    );
  }

  closePicker() {
    this.pickerCall = (this.pickerCall || 0) + 1;
    this.picker.hidden = true;
    this.input?.removeAttribute('aria-activedescendant');
    this.choices = [];
  }

  /** Renders the template for this conversation and puts it in the composer. */
  async insert(item) {
    this.closePicker();
    try {
      const rendered = await api('POST', `/canned-responses/${encodeURIComponent(item.id)}/render`, {
        conversation_id: this.conversationId(),
      });
      this.input.value = rendered.body;
      this.template = { id: item.id, title: item.title, firstLine: firstLine(rendered.body) };
      this.showError(null);
    } catch (error) {
      this.input.value = '';
      this.template = null;
      this.showError(error instanceof ApiError ? `${item.title}: ${error.message}` : String(error));
    }
    this.changed();
    this.input.focus();
    this.input.setSelectionRange(0, firstLine(this.input.value).length);
  }

  async submit() {
    const body = this.input.value;
    if (!body.trim() || this.input.disabled) return;
    const template = this.template;
    const input = { body, visibility: this.visibility };
    if (template) input.template_id = template.id;
    if (this.whisperTo) input.to = this.whisperTo.id;
    const sendAt = this.laterAt();
    this.showError(null);
    this.input.value = '';
    this.template = null;
    this.changed();
    try {
      if (sendAt) {
        await this.onLater({ ...input, send_at: sendAt });
        this.toggleLater(false);
      } else await this.onSend(input);
    } catch (error) {
      // Give the draft back exactly as it was, template state included.
      if (!this.input.value) {
        this.input.value = body;
        this.template = template;
        this.changed();
      }
      const message = error instanceof ApiError ? error.message : String(error);
      if (error?.code === 'canned_first_line_unedited') {
        this.showError(`Not sent: the first line is still the template's. ${message}`);
        this.input.focus();
        this.input.setSelectionRange(0, firstLine(body).length);
      } else this.showError(`Not sent: ${message}`);
    }
  }
}
