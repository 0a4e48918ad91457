// REST calls to /api/v1 with the API's error shape (docs/api.md › Errors) turned into
// ApiError. The team
// console authenticates with its HttpOnly session cookie; the fan page passes a bearer
// token. Every call carries `X-Requested-With`, which the server's CSRF rule accepts
// for cookie-authenticated writes (cross-site forms cannot set it).

import { confirmDialog, toast } from './dom.js';

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Lost connection or a server restart: worth retrying with the same idempotency key. */
  get retryable() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** `method path` with an optional JSON body; resolves to the decoded JSON (or null). */
export async function api(method, path, body, { token } = {}) {
  const headers = { Accept: 'application/json', 'X-Requested-With': 'fandesk' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      error.code || `http_${response.status}`,
      error.message || response.statusText || 'Request failed',
      error.details || {},
    );
  }
  return data;
}

/** Builds a query string from the defined entries of `params`. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A fresh idempotency key for a message (docs/api.md › Conversations and messages). */
export function newClientMsgId() {
  if (crypto.randomUUID) return `c-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * POSTs `input` to `path`, retrying network failures with the same body — so with the
 * same `client_msg_id` — so a commit whose answer was lost is returned, not duplicated
 * (docs/product.md › Principles).
 */
export async function postRetrying(path, input, options = {}) {
  const delays = [500, 1000, 2000, 4000, 8000];
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api('POST', path, input, options);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.retryable || attempt >= delays.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}

/** Posts a message in a conversation (retried, see `postRetrying`). */
export function postMessage(conversationId, input, options = {}) {
  return postRetrying(`/conversations/${encodeURIComponent(conversationId)}/messages`, input, options);
}

/** Fetches the whole timeline after `afterSeq`, page by page. */
export async function fetchMessages(conversationId, afterSeq = 0, options = {}) {
  const all = [];
  let after = afterSeq;
  for (;;) {
    const page = await api(
      'GET',
      `/conversations/${encodeURIComponent(conversationId)}/messages${query({ after_seq: after, limit: 200 })}`,
      undefined,
      options,
    );
    all.push(...page.messages);
    if (page.messages.length < 200) return all;
    after = page.messages[page.messages.length - 1].seq;
  }
}

/** Shows a refusal next to the form field it names (`details.field`), else in `fallback`. */
export function showFieldError(error, fields, fallback) {
  const shown = (error instanceof ApiError && fields[error.details.field]) || fallback;
  shown.textContent = error.message;
  shown.hidden = false;
}

/**
 * Asks to confirm deleting the resource at `path`, deletes it, says `deleted` (or the
 * refusal) in a toast, runs `onDeleted` after a success and `refresh` in both cases.
 * `cancel` and `detail` go to the dialog as in `confirmDialog`.
 */
export function deleteAfterConfirm({ title, text, path, deleted, onDeleted = () => {}, refresh, cancel, detail }) {
  confirmDialog({
    title,
    text,
    cancel,
    detail,
    confirm: 'Delete',
    onConfirm: async () => {
      try {
        await api('DELETE', path);
        toast(deleted);
        onDeleted();
      } catch (error) {
        toast(error.message, 'error');
      }
      await refresh();
    },
  });
}
