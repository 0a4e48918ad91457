// The API tokens section of the team screen (owner; docs/api.md › API tokens): every
// integration token with its role, prefix, creator, last use, expiry and status; a form to
// create one, whose secret is shown once (the server keeps only its hash); revoking one.

import { api, showFieldError } from './api.js';
import { h, replace, toast } from './dom.js';
import { roleName } from './format.js';
import { when } from './charter.js';

/** The roles a token may act as (never the owner's). */
export const TOKEN_ROLES = ['supervisor', 'escalation_lead', 'agent', 'bot'];

/** Mounts the section into `root` (an empty panel); returns `{ unmount }`. */
export function mountTokens(root, ctx) {
  const state = { tokens: [], closed: false };
  const name = h('input', { type: 'text', name: 'token_name', autocomplete: 'off', required: true, placeholder: 'CRM sync' });
  const role = h('select', { name: 'token_role' }, TOKEN_ROLES.map((value) => h('option', { value, selected: value === 'bot' }, roleName(value))));
  const expires = h('input', { type: 'date', name: 'token_expires' });
  const errors = {
    name: h('p', { class: 'form-error field-error', role: 'alert', hidden: true }),
    role: h('p', { class: 'form-error field-error', role: 'alert', hidden: true }),
    expires_at: h('p', { class: 'form-error field-error', role: 'alert', hidden: true }),
  };
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create token');
  const reveal = h('div', { class: 'secret-reveal token-reveal', role: 'status', hidden: true });
  const list = h('ul', { class: 'token-list', 'aria-label': 'API tokens' });

  replace(root,
    h('h2', {}, 'API tokens'),
    h('p', { class: 'muted small' }, 'For outside systems. A token acts with the role you choose, on your behalf, until it expires or you revoke it.'),
    reveal,
    list,
    h('form', { class: 'token-form', onsubmit: (event) => create(event) },
      h('h3', {}, 'New token'),
      h('label', {}, 'Name', name), errors.name,
      h('label', {}, 'Acts as', role), errors.role,
      h('label', {}, 'Expires (optional)', expires), errors.expires_at,
      formError,
      h('div', { class: 'dialog-actions' }, button)));

  async function create(event) {
    event.preventDefault();
    for (const element of [...Object.values(errors), formError]) {
      element.hidden = true;
      element.textContent = '';
    }
    const body = { name: name.value, role: role.value };
    // A date means the end of that day on this computer's clock.
    if (expires.value) body.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
    button.disabled = true;
    try {
      const created = await api('POST', '/api-tokens', body);
      showSecret(created);
      name.value = '';
      expires.value = '';
      await refresh();
    } catch (error) {
      showFieldError(error, errors, formError);
    } finally {
      button.disabled = false;
    }
  }

  function showSecret(created) {
    const value = h('code', { class: 'secret-value' }, created.token);
    replace(reveal,
      h('p', {}, h('strong', {}, `Token “${created.name}” created. `), 'Copy it now: it is not shown again.'),
      h('div', { class: 'secret-row' }, value,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(created.token);
              toast('Token copied');
            } catch {
              window.getSelection()?.selectAllChildren(value);
            }
          },
        }, 'Copy'),
        h('button', { type: 'button', class: 'primary', onclick: () => { replace(reveal); reveal.hidden = true; } }, 'I have stored it')),
      h('p', { class: 'muted small' }, 'Send it as Authorization: Bearer <token>.'));
    reveal.hidden = false;
  }

  function revoke(token) {
    const dialog = h('dialog', { class: 'dialog' },
      h('h3', {}, 'Revoke token?'),
      h('p', { class: 'muted small' }, `“${token.name}” stops working at once; what uses it gets 401.`),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', {
          type: 'button',
          class: 'primary danger',
          onclick: async () => {
            dialog.close();
            try {
              await api('DELETE', `/api-tokens/${encodeURIComponent(token.id)}`);
              toast(`${token.name} revoked`);
            } catch (error) {
              toast(error.message, 'error');
            }
            await refresh();
          },
        }, 'Revoke')));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  function card(token) {
    const creator = ctx.directory.memberName(token.created_by) || token.created_by;
    const statusClass = { active: 'delivery-delivered', expired: 'delivery-pending', revoked: 'delivery-cancelled' }[token.status] || '';
    return h('li', { class: `token-card token-${token.status}`, dataset: { id: token.id } },
      h('div', { class: 'member-who' },
        h('strong', { class: 'token-name' }, token.name),
        h('code', { class: 'muted small token-prefix' }, `${token.prefix}…`),
        h('span', { class: 'muted small' }, `by ${creator}, ${when(token.created_at)}`)),
      h('div', { class: 'member-state' },
        h('span', { class: 'role' }, roleName(token.role)),
        h('span', { class: `chip token-status ${statusClass}` }, token.status)),
      h('div', { class: 'token-times muted small' },
        h('span', {}, token.last_used_at ? `last used ${when(token.last_used_at)}` : 'never used'),
        h('span', {}, token.revoked_at ? `revoked ${when(token.revoked_at)}` : token.expires_at ? `expires ${when(token.expires_at)}` : 'no expiry')),
      token.status === 'active'
        ? h('div', { class: 'quick-actions' }, h('button', { type: 'button', class: 'danger', onclick: () => revoke(token) }, 'Revoke'))
        : null);
  }

  async function refresh() {
    try {
      const { tokens } = await api('GET', '/api-tokens');
      if (state.closed) return;
      state.tokens = tokens;
      replace(list, tokens.length ? tokens.map(card) : h('li', { class: 'muted small' }, 'No token yet.'));
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  refresh();
  return {
    unmount() {
      state.closed = true;
    },
  };
}
