// "Charter review due" on the supervisor dashboard (docs/product.md › Charter): when
// `review.every_days` have passed since the last review (the server's `review_due`), a
// notice with the date it fell due, who reviewed it last, and a link to the charter,
// where it is marked reviewed. Nothing is shown while the review is not due.

import { api } from './api.js';
import { h, replace } from './dom.js';

/** Fills `root` (hidden until needed) from `GET /charter`. */
export async function mountCharterDue(root) {
  let charter;
  try {
    charter = await api('GET', '/charter');
  } catch {
    root.hidden = true;
    return;
  }
  if (!charter.review_due) {
    root.hidden = true;
    return;
  }
  const since = new Date(charter.review_due_at).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
  const last = charter.last_review
    ? `last reviewed by ${charter.last_review.reviewed_by_name} on ${new Date(charter.last_review.reviewed_at).toLocaleDateString()}`
    : 'never reviewed';
  root.hidden = false;
  replace(root,
    h('strong', {}, 'Charter review due'),
    ` since ${since} (${last}). `,
    h('a', { href: '#/charter' }, 'Review the charter'));
}
