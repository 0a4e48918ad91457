// DOM building without HTML strings: every piece of text becomes a text node (or
// textContent), so user data can never be parsed as markup. No innerHTML anywhere.

/**
 * Creates an element. `props`: `class`, `text`, `dataset`, `on<event>` listeners, and
 * plain attributes (never `style`, which the Content-Security-Policy refuses).
 * Children: nodes, strings (as text) or arrays of them; null/false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element (charts): attributes as given, children as in `h`. Like `h`, no
 * markup is ever parsed.
 */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

/** Appends nodes or strings (as text nodes) to `parent`. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all of `parent`'s children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** `document.querySelector` that fails loudly when the page shape changed. */
export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing ${selector}`);
  return found;
}

/** Whether keyboard focus is in a place where typing goes (shortcuts stay off there). */
export function typingTarget(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** A short-lived status message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const item = h('div', { class: `toast toast-${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * A modal asking to confirm a step (destructive unless `danger` is false); `onConfirm` runs
 * once it has closed. `detail` is an optional element shown above `text`.
 */
export function confirmDialog({ title, text, confirm, onConfirm, danger = true, cancel = 'Cancel', detail = null }) {
  const dialog = h('dialog', { class: 'dialog' },
    h('h3', {}, title),
    detail,
    h('p', { class: 'muted small' }, text),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', onclick: () => dialog.close() }, cancel),
      h('button', {
        type: 'button',
        class: danger ? 'primary danger' : 'primary',
        onclick: async () => {
          dialog.close();
          await onConfirm();
        },
      }, confirm)));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
