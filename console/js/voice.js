// The creator's voice beside the conversation composer (docs/api.md › Charter, `[voice]`):
// the tone, the phrases to use and to avoid, emoji habits and the sign-off, as the
// charter in force says them, so an agent answers in the creator's words. Read once per
// console session and again after this console saves the charter; nothing is shown when
// `[voice]` is empty.

import { api } from './api.js';
import { h, replace } from './dom.js';

let cached = null;

/** The charter's `voice` settings, read once and shared by every conversation pane. */
function loadVoice() {
  cached ??= api('GET', '/charter').then((charter) => charter.settings?.voice ?? null).catch(() => {
    cached = null;
    return null;
  });
  return cached;
}

/** Forgets the voice read, after the charter changed in this console. */
export function forgetVoice() {
  cached = null;
}

function isEmpty(voice) {
  return !voice || (!voice.tone && !voice.emoji && !voice.sign_off
    && !(voice.phrases_to_use?.length) && !(voice.phrases_to_avoid?.length));
}

/** Fills `root` with the voice, collapsed to one line until opened. */
export async function mountVoice(root) {
  const voice = await loadVoice();
  if (isEmpty(voice)) {
    root.hidden = true;
    return;
  }
  const rows = [];
  const row = (label, value, kind) => value && rows.push(h('div', { class: `voice-row voice-${kind}` }, h('dt', {}, label), h('dd', {}, value)));
  row('Tone', voice.tone, 'tone');
  if (voice.phrases_to_use?.length) row('Say', voice.phrases_to_use.join(' · '), 'use');
  if (voice.phrases_to_avoid?.length) row('Never say', voice.phrases_to_avoid.join(' · '), 'avoid');
  row('Emoji', voice.emoji, 'emoji');
  row('Sign-off', voice.sign_off, 'sign-off');
  root.hidden = false;
  replace(root, h('details', { class: 'voice' },
    h('summary', {}, 'Creator’s voice', voice.tone ? h('span', { class: 'muted small' }, ` · ${voice.tone}`) : null),
    h('dl', {}, rows)));
}
