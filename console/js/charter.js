// The charter screen (README › Charter; docs/api.md › Charter): the TOML document in an
// editor (the owner saves, everyone else reads), saved on top of the version it was read
// from, the server's errors shown inline by key and line, a conflict explained with the
// changes that caused it, the settings in force, the version history with diffs between
// any two versions, and the review due date with "mark reviewed".

import { api, ApiError, query } from './api.js';
import { h, replace, toast } from './dom.js';
import { forgetVoice } from './voice.js';

const REVIEWERS = ['owner', 'supervisor'];
/** Unchanged lines kept around each change in a diff. */
const CONTEXT = 3;

/** Date and time of an RFC 3339 timestamp, in the browser's words. */
export function when(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** `{a: {b: 1}}` → `[['a.b', '1']]`; lists are written as JSON. */
export function flatten(value, prefix = '') {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
  }
  return [[prefix, typeof value === 'string' ? value : JSON.stringify(value)]];
}

/** A diff's lines with long unchanged stretches folded to `{skip: n}`. */
export function foldDiff(lines, context = CONTEXT) {
  const near = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.tag === 'equal') return;
    for (let i = Math.max(0, index - context); i <= Math.min(lines.length - 1, index + context); i += 1) near[i] = true;
  });
  const out = [];
  let skipped = 0;
  lines.forEach((line, index) => {
    if (line.tag === 'equal' && !near[index]) {
      skipped += 1;
      return;
    }
    if (skipped) out.push({ skip: skipped });
    skipped = 0;
    out.push(line);
  });
  if (skipped) out.push({ skip: skipped });
  return out;
}

export function mountCharter(root, ctx) {
  const canEdit = ctx.me.role === 'owner';
  const canReview = REVIEWERS.includes(ctx.me.role);
  const state = { charter: null, base: 0, versions: [], saving: false, closed: false, conflict: null };

  const title = h('h2', {}, 'Charter');
  const meta = h('p', { class: 'muted small charter-meta' });
  const reviewBox = h('div', { class: 'charter-review' });
  const gutter = h('div', { class: 'charter-gutter', 'aria-hidden': 'true' });
  const editor = h('textarea', {
    class: 'charter-editor',
    name: 'charter',
    spellcheck: 'false',
    wrap: 'off',
    'aria-label': 'Charter (TOML)',
    readonly: !canEdit,
    oninput: () => {
      paintGutter();
      paintDirty();
    },
    onscroll: () => {
      gutter.scrollTop = editor.scrollTop;
    },
  });
  const errors = h('ul', { class: 'charter-errors', role: 'alert', hidden: true });
  const conflictBox = h('div', { class: 'charter-conflict', role: 'alert', hidden: true });
  const staleBox = h('div', { class: 'charter-stale', role: 'status', hidden: true });
  const dirtyMark = h('span', { class: 'muted small charter-dirty', hidden: true }, 'Unsaved changes');
  const saveButton = h('button', { type: 'button', class: 'primary charter-save', onclick: () => save(state.base) }, 'Save');
  const revertButton = h('button', { type: 'button', class: 'charter-revert', onclick: () => revert() }, 'Discard changes');
  const actions = canEdit
    ? h('div', { class: 'charter-actions' }, saveButton, revertButton, dirtyMark)
    : h('p', { class: 'muted small' }, 'Only the owner edits the charter; you can read it, its history and its changes.');
  const settingsList = h('dl', { class: 'facts charter-settings' });
  const versionsBody = h('tbody');
  const fromSelect = h('select', { name: 'from', 'aria-label': 'From version' });
  const toSelect = h('select', { name: 'to', 'aria-label': 'To version' });
  const diffBox = h('div', { class: 'charter-diff', hidden: true });
  const reviewsList = h('ul', { class: 'charter-reviews' });

  const layout = h('div', { class: 'charter' },
    h('section', { class: 'panel charter-doc' },
      h('div', { class: 'charter-head' }, h('div', {}, title, meta), reviewBox),
      conflictBox,
      staleBox,
      h('div', { class: 'charter-field' }, gutter, editor),
      errors,
      actions),
    h('section', { class: 'panel charter-side' },
      h('h2', {}, 'In force'),
      settingsList,
      h('h2', { class: 'charter-subhead' }, 'History'),
      h('table', { class: 'agents charter-versions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Saved by'), h('th', {}, 'When'), h('th', {}, h('span', { class: 'sr-only' }, 'Actions')))),
        versionsBody),
      h('form', {
        class: 'charter-compare',
        onsubmit: (event) => {
          event.preventDefault();
          showDiff(Number(fromSelect.value), Number(toSelect.value));
        },
      }, h('label', {}, 'From ', fromSelect), h('label', {}, 'to ', toSelect), h('button', { type: 'submit' }, 'Compare')),
      diffBox,
      h('h2', { class: 'charter-subhead' }, 'Reviews'),
      reviewsList));
  replace(root, layout);

  const dirty = () => state.charter !== null && editor.value !== state.charter.toml;

  function paintGutter(marked = new Map()) {
    const count = editor.value.split('\n').length;
    const numbers = [];
    for (let line = 1; line <= count; line += 1) {
      const problem = marked.get(line);
      numbers.push(h('span', { class: problem ? 'gutter-line gutter-error' : 'gutter-line', title: problem || null, dataset: { line: String(line) } }, String(line)));
    }
    replace(gutter, numbers);
    gutter.scrollTop = editor.scrollTop;
  }

  function paintDirty() {
    if (!canEdit) return;
    dirtyMark.hidden = !dirty();
    revertButton.disabled = !dirty();
  }

  function paintCharter() {
    const charter = state.charter;
    title.textContent = `Charter · version ${charter.version}`;
    replace(meta, 'Saved by ', h('strong', {}, charter.updated_by_name), ` · ${when(charter.updated_at)}`);
    const due = h('p', { class: charter.review_due ? 'review-due review-overdue' : 'review-due' },
      charter.review_due ? 'Review overdue since ' : 'Next review due ',
      h('time', { datetime: charter.review_due_at }, when(charter.review_due_at)));
    const last = charter.last_review
      ? h('p', { class: 'muted small' }, `Last reviewed by ${charter.last_review.reviewed_by_name}, ${when(charter.last_review.reviewed_at)} (version ${charter.last_review.version})`)
      : h('p', { class: 'muted small' }, 'Not reviewed yet.');
    replace(reviewBox, due, last, canReview ? reviewForm() : null);
    replace(settingsList, flatten(charter.settings).map(([key, value]) => [
      h('dt', { dataset: { key } }, key),
      h('dd', { dataset: { key } }, value === '' ? '—' : value),
    ]));
  }

  function reviewForm() {
    const note = h('input', { type: 'text', name: 'review_note', maxlength: '2000', placeholder: 'Note (optional)', 'aria-label': 'Review note' });
    const button = h('button', { type: 'submit' }, 'Mark reviewed');
    return h('form', {
      class: 'charter-review-form',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        try {
          const text = note.value.trim();
          await api('POST', '/charter/reviews', text ? { note: text } : {});
          toast(`Review of version ${state.charter.version} recorded`);
          await load({ keepText: dirty() });
        } catch (error) {
          toast(error.message, 'error');
        } finally {
          button.disabled = false;
        }
      },
    }, note, button);
  }

  function paintVersions() {
    replace(versionsBody, state.versions.map((version) => h('tr', { dataset: { version: String(version.version) } },
      h('td', {}, `v${version.version}`, version.version === state.charter?.version ? h('span', { class: 'chip chip-open' }, 'in force') : null),
      h('td', {}, version.updated_by_name),
      h('td', {}, h('time', { datetime: version.updated_at }, when(version.updated_at))),
      h('td', {}, h('div', { class: 'charter-version-actions' },
        version.version > 1
          ? h('button', { type: 'button', class: 'link', onclick: () => showDiff(version.version - 1, version.version) }, 'Changes')
          : null,
        canEdit && version.version !== state.charter?.version
          ? h('button', { type: 'button', class: 'link', onclick: () => loadIntoEditor(version.version) }, 'Load into editor')
          : null)))));
    const options = (selected) => state.versions.map((version) => h('option', { value: String(version.version), selected: version.version === selected }, `v${version.version}`));
    const newest = state.versions[0]?.version ?? 1;
    replace(fromSelect, options(Math.max(1, newest - 1)));
    replace(toSelect, options(newest));
  }

  function paintReviews(reviews) {
    replace(reviewsList, reviews.length === 0
      ? h('li', { class: 'empty' }, 'No review recorded yet.')
      : reviews.slice(0, 10).map((review) => h('li', {},
        h('strong', {}, review.reviewed_by_name), ` reviewed version ${review.version}, ${when(review.reviewed_at)}`,
        review.note ? h('p', { class: 'muted small' }, review.note) : null)));
  }

  function showErrors(list) {
    const marked = new Map();
    for (const problem of list) {
      if (problem.line && !marked.has(problem.line)) marked.set(problem.line, `${problem.field}: ${problem.message}`);
    }
    paintGutter(marked);
    replace(errors, list.map((problem) => h('li', {},
      h('button', {
        type: 'button',
        class: 'charter-error',
        dataset: { field: problem.field || '', line: problem.line ? String(problem.line) : '' },
        onclick: () => problem.line && selectLine(problem.line),
      },
      h('code', {}, problem.field || 'charter'),
      problem.line ? ` line ${problem.line}${problem.column ? `, column ${problem.column}` : ''}: ` : ': ',
      problem.message))));
    errors.hidden = list.length === 0;
  }

  function selectLine(line) {
    const lines = editor.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
    editor.focus();
    editor.setSelectionRange(start, start + (lines[line - 1] || '').length);
    // Bring the line into view, a few lines below the top.
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (line - 4) * lineHeight);
    gutter.scrollTop = editor.scrollTop;
  }

  function clearNotices() {
    showErrors([]);
    conflictBox.hidden = true;
    staleBox.hidden = true;
    state.conflict = null;
  }

  async function load({ keepText = false } = {}) {
    const [charter, versions, reviews] = await Promise.all([
      api('GET', '/charter'),
      api('GET', '/charter/versions'),
      api('GET', '/charter/reviews'),
    ]);
    if (state.closed) return;
    const text = editor.value;
    state.charter = charter;
    state.versions = versions.versions;
    if (!keepText) {
      state.base = charter.version;
      editor.value = charter.toml;
      clearNotices();
    } else editor.value = text;
    paintCharter();
    paintVersions();
    paintReviews(reviews.reviews);
    if (!keepText) paintGutter();
    paintDirty();
  }

  async function save(base) {
    if (!canEdit || state.saving) return;
    state.saving = true;
    saveButton.disabled = true;
    try {
      const saved = await api('PUT', '/charter', { toml: editor.value, base_version: base });
      forgetVoice();
      toast(`Version ${saved.version} saved and in force`);
      await load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        conflictBox.hidden = true;
        const list = Array.isArray(error.details.errors) && error.details.errors.length
          ? error.details.errors
          : [{ field: error.details.field, line: error.details.line, column: error.details.column, message: error.message }];
        showErrors(list);
      } else if (error instanceof ApiError && error.status === 409) {
        showConflict(base, error.details.current_version);
      } else {
        toast(error.message, 'error');
      }
    } finally {
      state.saving = false;
      saveButton.disabled = false;
      paintDirty();
    }
  }

  /** A save refused because `current` was saved since `base` was read. */
  function showConflict(base, current) {
    state.conflict = { base, current };
    staleBox.hidden = true;
    replace(conflictBox,
      h('p', {}, h('strong', {}, 'Not saved: '),
        `version ${current} was saved while you were editing version ${base}. `,
        'Your text is still in the editor.'),
      h('div', { class: 'charter-actions' },
        h('button', { type: 'button', onclick: () => showDiff(base, current) }, `Show what changed in v${current}`),
        h('button', { type: 'button', onclick: () => load().catch((failure) => toast(failure.message, 'error')) }, `Discard my text and load v${current}`),
        h('button', { type: 'button', class: 'primary', onclick: () => save(current) }, `Save my text over v${current}`)));
    conflictBox.hidden = false;
    load({ keepText: true }).catch(() => {});
  }

  async function showDiff(from, to) {
    try {
      const diff = await api('GET', `/charter/diff${query({ from, to })}`);
      const items = foldDiff(diff.lines).map((line) => {
        if (line.skip) return h('li', { class: 'diff-line diff-skip' }, `… ${line.skip} unchanged line${line.skip === 1 ? '' : 's'}`);
        const sign = line.tag === 'insert' ? '+' : line.tag === 'delete' ? '−' : ' ';
        return h('li', { class: `diff-line diff-${line.tag}` },
          h('span', { class: 'diff-no' }, line.old_line ?? ''),
          h('span', { class: 'diff-no' }, line.new_line ?? ''),
          h('span', { class: 'diff-sign' }, sign),
          h('span', { class: 'diff-text' }, line.text));
      });
      const changed = diff.lines.some((line) => line.tag !== 'equal');
      replace(diffBox,
        h('div', { class: 'panel-head' }, h('h3', {}, `Changes from v${from} to v${to}`),
          h('button', { type: 'button', onclick: () => { diffBox.hidden = true; } }, 'Close')),
        changed ? h('ol', { class: 'diff' }, items) : h('p', { class: 'muted small' }, 'No difference.'));
      diffBox.hidden = false;
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  async function loadIntoEditor(version) {
    try {
      const document = await api('GET', `/charter/versions/${version}`);
      editor.value = document.toml;
      showErrors([]);
      paintDirty();
      toast(`Version ${version} is in the editor: save to make it the next version`);
    } catch (error) {
      toast(error.message, 'error');
    }
  }

  function revert() {
    if (!state.charter) return;
    editor.value = state.charter.toml;
    state.base = state.charter.version;
    clearNotices();
    paintGutter();
    paintDirty();
  }

  /** Another version came into force (this node or another). */
  function onLive(event) {
    if (state.closed || state.saving) return;
    if (event.kind === 'subscribed' || (event.kind === 'charter.updated' && event.version > (state.charter?.version ?? 0))) {
      if (!dirty() && !state.conflict) {
        load().catch((error) => console.warn('charter reload failed', error));
        return;
      }
      load({ keepText: true }).then(() => {
        if (state.conflict || state.charter.version === state.base) return;
        replace(staleBox,
          h('p', {}, `Version ${state.charter.version} was saved by ${state.charter.updated_by_name} while you were editing version ${state.base}; saving now would be refused.`),
          h('button', { type: 'button', onclick: () => showDiff(state.base, state.charter.version) }, 'Show what changed'));
        staleBox.hidden = false;
      }).catch((error) => console.warn('charter reload failed', error));
    }
  }

  const unsubscribe = ctx.live.subscribe('charter', onLive);
  load().catch((error) => {
    replace(root, h('p', { class: 'loading' }, `The charter cannot be loaded: ${error.message}`));
  });

  return {
    unmount() {
      state.closed = true;
      unsubscribe();
    },
  };
}
