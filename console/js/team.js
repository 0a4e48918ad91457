// The team screen (docs/api.md › Members; docs/product.md › Roles › Managing the team):
// every member with their role, whether they may log in, and their load against their
// ceiling of automatic assignments. The owner adds members, changes roles and names,
// deactivates and reactivates, and sets new passwords; supervisors see the team and set
// capacity (the capability table: `ManageMembers` is the owner's, `ManageCapacity` the
// owner's and supervisors'). The server decides; this screen only hides what it would
// refuse, and shows its refusals (the last active owner stays an owner) beside the member.
// Below the team, the owner manages integration API tokens (tokens.js).

import { api, showFieldError } from './api.js';
import { confirmDialog, h, replace, toast } from './dom.js';
import { roleName } from './format.js';
import { when } from './charter.js';
import { mountTokens } from './tokens.js';

export const ROLES = ['owner', 'supervisor', 'escalation_lead', 'agent', 'bot'];
const MANAGES_CAPACITY = ['owner', 'supervisor'];

/** Whether `me` may open the team screen at all. */
export function teamAllowed(me) {
  return MANAGES_CAPACITY.includes(me.role);
}

function field(label, input, error) {
  return [h('label', {}, label, input), error];
}

function fieldError() {
  return h('p', { class: 'form-error field-error', role: 'alert', hidden: true });
}

export function mountTeam(root, ctx) {
  const owner = ctx.me.role === 'owner';
  const capacity = MANAGES_CAPACITY.includes(ctx.me.role) && ctx.features.deskAgents;
  const state = { members: [], desk: new Map(), closed: false };
  const list = h('ul', { class: 'team-list', 'aria-label': 'Team members' });

  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', required: true });
  const role = h('select', { name: 'role' }, ROLES.map((value) => h('option', { value, selected: value === 'agent' }, roleName(value))));
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
  const errors = { email: fieldError(), name: fieldError(), role: fieldError(), password: fieldError() };
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const addButton = h('button', { type: 'submit', class: 'primary' }, 'Add member');
  const form = owner
    ? h('form', { class: 'team-form', onsubmit: (event) => create(event) },
      h('h2', {}, 'Add a member'),
      field('Email', email, errors.email),
      field('Name', name, errors.name),
      field('Role', role, errors.role),
      field('Password', password, errors.password),
      h('p', { class: 'muted small' }, 'At least 8 characters. Give it to them yourself; they log in with this email and password.'),
      formError,
      h('div', { class: 'dialog-actions' }, addButton))
    : null;

  // The owner's integration API tokens (tokens.js), under the team.
  const tokensPanel = owner && ctx.features.apiTokens ? h('section', { class: 'panel team-tokens', 'aria-label': 'API tokens' }) : null;
  replace(root, h('div', { class: 'team-screen' },
    h('section', { class: 'panel team-members' },
      h('h2', {}, 'Team'),
      owner ? null : h('p', { class: 'muted small team-readonly' }, 'Only the owner adds members and changes roles. You can set how many conversations each is assigned automatically.'),
      list),
    form ? h('section', { class: 'panel team-new' }, form) : null,
    tokensPanel));
  const tokens = tokensPanel ? mountTokens(tokensPanel, ctx) : null;

  async function create(event) {
    event.preventDefault();
    for (const element of [...Object.values(errors), formError]) {
      element.hidden = true;
      element.textContent = '';
    }
    addButton.disabled = true;
    try {
      const member = await api('POST', '/members', { email: email.value, name: name.value, role: role.value, password: password.value });
      toast(`${member.name} added`);
      for (const input of [email, name, password]) input.value = '';
      await refresh();
    } catch (error) {
      showFieldError(error, errors, formError);
    } finally {
      addButton.disabled = false;
    }
  }

  /** PATCHes `member`; on a refusal the message shows on their card. */
  async function change(member, body, done) {
    try {
      const changed = await api('PATCH', `/members/${encodeURIComponent(member.id)}`, body);
      toast(done(changed));
      await refresh();
    } catch (failure) {
      // Repaint first, so the role picker shows what the server still holds.
      paint();
      const error = list.querySelector(`[data-id="${CSS.escape(member.id)}"] .member-error`);
      if (error) {
        error.textContent = failure.message;
        error.hidden = false;
      } else toast(failure.message, 'error');
    }
  }

  function confirm(title, text, action, danger) {
    confirmDialog({ title, text, confirm: title.replace(/\?$/, ''), danger, onConfirm: action });
  }

  function resetPassword(member) {
    const input = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', minlength: '8', required: true });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const dialog = h('dialog', { class: 'dialog' },
      h('form', {
        class: 'password-form',
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api('PATCH', `/members/${encodeURIComponent(member.id)}`, { password: input.value });
            dialog.close();
            toast(`New password set for ${member.name}; their sessions ended`);
          } catch (failure) {
            error.textContent = failure.message;
            error.hidden = false;
          }
        },
      },
      h('h3', {}, `New password for ${member.name}`),
      h('label', {}, 'Password', input),
      h('p', { class: 'muted small' }, 'At least 8 characters. Their open sessions end; tell them the new one yourself.'),
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Set password'))));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  }

  function capacityControl(member) {
    const desk = state.desk.get(member.id);
    if (!capacity || !desk || !member.active) return null;
    const input = h('input', { type: 'number', name: 'max_concurrent', min: '0', max: '100', value: String(desk.max_concurrent), 'aria-label': `Capacity of ${member.name}` });
    return h('form', {
      class: 'capacity-form',
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api('PUT', `/members/${encodeURIComponent(member.id)}/capacity`, { max_concurrent: Number(input.value) });
          toast(`${member.name} takes up to ${input.value} at once`);
          await refresh();
        } catch (error) {
          toast(error.message, 'error');
        }
      },
    },
    h('span', { class: 'muted small' }, `${desk.active_conversations} open · up to`),
    input,
    h('button', { type: 'submit' }, 'Save'));
  }

  function card(member) {
    const self = member.id === ctx.me.id;
    const roleSelect = owner
      ? h('select', {
        name: 'member_role',
        'aria-label': `Role of ${member.name}`,
        onchange: (event) => change(member, { role: event.target.value }, (changed) => `${changed.name} is now ${roleName(changed.role)}`),
      }, ROLES.map((value) => h('option', { value, selected: value === member.role }, roleName(value))))
      : h('span', { class: 'role' }, roleName(member.role));
    const actions = owner
      ? h('div', { class: 'quick-actions' },
        h('button', { type: 'button', onclick: () => rename(member) }, 'Rename'),
        h('button', { type: 'button', onclick: () => resetPassword(member) }, 'Reset password'),
        member.active
          ? h('button', {
            type: 'button',
            class: 'danger',
            onclick: () => confirm('Deactivate?', `${member.name} is logged out everywhere and cannot log in; their conversations stay as they are.`,
              () => change(member, { active: false }, (changed) => `${changed.name} deactivated`), true),
          }, 'Deactivate')
          : h('button', { type: 'button', onclick: () => change(member, { active: true }, (changed) => `${changed.name} reactivated`) }, 'Reactivate'))
      : null;
    return h('li', { class: member.active ? 'member-card' : 'member-card inactive', dataset: { id: member.id, role: member.role } },
      h('div', { class: 'member-who' },
        h('strong', { class: 'member-name' }, member.name, self ? h('span', { class: 'muted small' }, ' (you)') : null),
        h('span', { class: 'member-email muted small' }, member.email),
        h('span', { class: 'muted small' }, `since ${when(member.created_at)}`)),
      h('div', { class: 'member-state' },
        roleSelect,
        h('span', { class: member.active ? 'chip member-status' : 'chip member-status delivery-cancelled' }, member.active ? 'active' : 'deactivated')),
      capacityControl(member),
      actions,
      h('p', { class: 'form-error member-error', role: 'alert', hidden: true }));
  }

  function rename(member) {
    const input = h('input', { type: 'text', name: 'new_name', value: member.name, required: true });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const dialog = h('dialog', { class: 'dialog' },
      h('form', {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api('PATCH', `/members/${encodeURIComponent(member.id)}`, { name: input.value });
            dialog.close();
            await refresh();
          } catch (failure) {
            error.textContent = failure.message;
            error.hidden = false;
          }
        },
      },
      h('h3', {}, `Rename ${member.name}`),
      h('label', {}, 'Name', input),
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Save'))));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  function paint() {
    if (state.closed) return;
    replace(list, state.members.map(card));
  }

  async function refresh() {
    try {
      const [{ members }, agents] = await Promise.all([
        api('GET', '/members'),
        capacity ? api('GET', '/desk/agents').then((reply) => reply.agents) : Promise.resolve([]),
      ]);
      state.members = members;
      state.desk = new Map(agents.map((agent) => [agent.id, agent]));
      ctx.directory.members = new Map(members.map((member) => [member.id, member]));
      paint();
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  refresh();
  return {
    unmount() {
      state.closed = true;
      tokens?.unmount();
    },
  };
}
