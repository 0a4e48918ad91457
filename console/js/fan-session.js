// The fan's session, shared by the fans' pages (/chat and an event's page): the token and
// the fan kept in localStorage, and the welcome form that creates a session
// (`POST /fan-sessions` with a display name and the browser's time zone).

import { api } from './api.js';
import { h, replace } from './dom.js';

const STORE_KEY = 'fandesk.fan';

/** The stored session `{token, fan, conversation_id}`, or null. */
export function loadSession() {
  try {
    const session = JSON.parse(localStorage.getItem(STORE_KEY));
    return session?.token && session?.fan ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  localStorage.setItem(STORE_KEY, JSON.stringify(session));
}

export function forgetSession() {
  localStorage.removeItem(STORE_KEY);
}

/**
 * Shows the welcome form in `root`: a name, then a new fan session, saved, handed to
 * `onSession(session)`. `notice` (e.g. "your session expired") is shown as an error.
 */
export function showWelcome(root, { heading, lead, button: buttonText, notice = '', onSession }) {
  const name = h('input', { name: 'display_name', required: true, maxlength: '100', autocomplete: 'nickname', 'aria-label': 'Your name' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: !notice }, notice);
  const button = h('button', { type: 'submit', class: 'primary' }, buttonText);
  const form = h('form', {
    class: 'welcome',
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        const created = await api('POST', '/fan-sessions', { display_name: name.value, timezone });
        const session = { token: created.token, fan: created.fan, conversation_id: null };
        saveSession(session);
        onSession(session);
      } catch (failure) {
        error.hidden = false;
        error.textContent = failure.message;
        button.disabled = false;
      }
    },
  },
  h('h1', {}, heading),
  h('p', {}, lead),
  h('label', {}, 'Your name', name),
  error,
  button);
  replace(root, form);
  name.focus();
}
