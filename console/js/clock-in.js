// Clock-in and clock-out in the top bar (docs/api.md › Agent desk): the member's current
// state — on shift (inside a shift or clocked in) or off — and one button to change it.
// Clocking out inside a scheduled shift ends it early; clocking in outside one puts the
// member on shift until they clock out. Bots do not work shifts (`WorkShifts`), so they
// get no control.

import { api } from './api.js';
import { h, replace, toast } from './dom.js';

/** Whether `me` may clock in and out (the capability table's `WorkShifts`). */
export function clockAllowed(me) {
  return me.role !== 'bot';
}

/** The label of the state and of the button that changes it. */
export function clockLabels(view) {
  return view.on_shift
    ? { state: view.clocked_in ? 'On shift (clocked in)' : 'On shift', action: 'Clock out' }
    : { state: 'Off shift', action: 'Clock in' };
}

/** A top-bar control for `me`; returns the element (empty until the state is known). */
export function clockControl(me) {
  const status = h('span', { class: 'chip clock-state', role: 'status' }, '…');
  const button = h('button', { type: 'button', class: 'ghost clock-button', disabled: true }, 'Clock in');
  const root = h('span', { class: 'clock-in' }, status, button);
  let view = null;

  function paint(next) {
    view = next;
    const labels = clockLabels(view);
    status.textContent = labels.state;
    status.classList.toggle('clock-on', view.on_shift);
    button.title = `${labels.state}: ${labels.action.toLowerCase()}`;
    button.textContent = labels.action;
    button.disabled = false;
  }

  button.addEventListener('click', async () => {
    if (!view) return;
    button.disabled = true;
    try {
      paint(await api('POST', view.on_shift ? '/shifts/clock-out' : '/shifts/clock-in'));
      toast(view.on_shift ? 'You are on shift' : 'You are off shift');
    } catch (error) {
      button.disabled = false;
      toast(error.message, 'error');
    }
  });

  api('GET', '/desk/agents')
    .then(({ agents }) => {
      const mine = agents.find((agent) => agent.id === me.id);
      if (mine) paint({ member_id: mine.id, clocked_in: mine.clocked_in, on_shift: mine.on_shift });
      else replace(root);
    })
    .catch(() => replace(root));
  return root;
}
