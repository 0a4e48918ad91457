// The team console's entry point: login (the session lives in an HttpOnly cookie the
// page cannot read), the top bar, feature detection from the OpenAPI document, the one
// WebSocket connection, and hash routing between the inbox, the dashboard and the settings
// screens (team with its API tokens, audit log, charter, webhooks, bot flows, events,
// scheduled messages, data, shifts and coverage, canned responses, rules), team channels,
// the decision log and the fan directory, the supervisors' metrics, message review and
// weekly report; clock-in and clock-out in the top bar; notifications (tab title, tone,
// desktop) through `notify.js`.

import { api, ApiError } from './api.js';
import { Directory } from './directory.js';
import { $, h, replace, toast } from './dom.js';
import { roleName } from './format.js';
import { Live } from './live.js';
import { mountDashboard } from './dashboard.js';
import { mountInbox } from './inbox.js';
import { mountCharter } from './charter.js';
import { mountWebhooks } from './webhooks.js';
import { flowsAllowed, mountFlows } from './flows.js';
import { mountEvents } from './events.js';
import { mountScheduled } from './scheduled.js';
import { mountData } from './data.js';
import { mountChannels } from './channels.js';
import { mountDecisions } from './decisions.js';
import { mountTeam, teamAllowed } from './team.js';
import { auditAllowed, mountAudit } from './audit.js';
import { metricsAllowed, mountMetrics } from './metrics.js';
import { mountReview, reviewAllowed } from './review.js';
import { mountReport } from './report.js';
import { fansAllowed, mountFans } from './fans.js';
import { Notifier } from './notify.js';
import { mountShifts } from './shifts.js';
import { clockAllowed, clockControl } from './clock-in.js';
import { cannedLibraryAllowed, mountCannedLibrary } from './canned-library.js';
import { mountRules, rulesAllowed } from './rules.js';

const SUPERVISING = ['owner', 'supervisor', 'escalation_lead'];
// The session cookie is HttpOnly: the page cannot see it. This flag remembers that a
// login happened in this browser, so a fresh visit shows the form without asking
// `/me` first (which would answer 401 and log a console error on every login page).
const SIGNED_IN = 'fandesk.signed_in';
const signedIn = {
  get: () => { try { return localStorage.getItem(SIGNED_IN) === '1'; } catch { return true; } },
  set: (on) => { try { if (on) localStorage.setItem(SIGNED_IN, '1'); else localStorage.removeItem(SIGNED_IN); } catch { /* storage off */ } },
};
/** The settings screens: who may open them, how they mount, and their page title. */
const ADMIN_SCREENS = {
  team: { allowed: (ctx) => teamAllowed(ctx.me), mount: mountTeam, title: 'Team' },
  audit: { allowed: (ctx) => auditAllowed(ctx.me), mount: mountAudit, title: 'Audit log' },
  charter: { allowed: (ctx) => ctx.features.charter, mount: mountCharter, title: 'Charter' },
  webhooks: { allowed: (ctx) => ctx.features.webhooks && ctx.me.role === 'owner', mount: mountWebhooks, title: 'Webhooks' },
  flows: { allowed: (ctx) => ctx.features.flows && flowsAllowed(ctx.me), mount: mountFlows, title: 'Bot flows' },
  events: { allowed: (ctx) => ctx.features.events && ['owner', 'supervisor'].includes(ctx.me.role), mount: mountEvents, title: 'Events' },
  scheduled: { allowed: (ctx) => ctx.features.scheduled && ['owner', 'supervisor'].includes(ctx.me.role), mount: mountScheduled, title: 'Scheduled messages' },
  data: { allowed: (ctx) => ctx.features.data && ctx.me.role === 'owner', mount: mountData, title: 'Data' },
  channels: { allowed: (ctx) => ctx.features.channels, mount: mountChannels, title: 'Channels' },
  decisions: { allowed: (ctx) => ctx.features.channels, mount: mountDecisions, title: 'Decision log' },
  metrics: { allowed: metricsAllowed, mount: mountMetrics, title: 'Metrics' },
  review: { allowed: (ctx) => ctx.features.review && reviewAllowed(ctx), mount: mountReview, title: 'Message review' },
  report: { allowed: (ctx) => ctx.features.report && metricsAllowed(ctx), mount: mountReport, title: 'Weekly report' },
  fans: { allowed: fansAllowed, mount: mountFans, title: 'Fans' },
  shifts: { allowed: (ctx) => ctx.features.coverage, mount: mountShifts, title: 'Shifts' },
  canned: { allowed: (ctx) => ctx.features.cannedHealth && cannedLibraryAllowed(ctx.me), mount: mountCannedLibrary, title: 'Canned responses' },
  rules: { allowed: (ctx) => ctx.features.rules && rulesAllowed(ctx.me), mount: mountRules, title: 'Rules' },
};
const main = $('#main');
const bar = $('#bar');

/** What this server offers beyond the chat core, read from its OpenAPI document. */
async function detectFeatures() {
  try {
    const paths = Object.keys((await api('GET', '/openapi.json')).paths || {});
    const has = (path) => paths.includes(`/api/v1${path}`);
    return {
      queue: has('/queue'),
      canned: has('/canned-responses') && has('/canned-responses/{id}/render'),
      fans: has('/fans/{id}'),
      shifts: has('/shifts'),
      deskAgents: has('/desk/agents'),
      metrics: has('/metrics/summary'),
      charter: has('/charter'),
      webhooks: has('/webhooks'),
      apiTokens: has('/api-tokens'),
      coverage: has('/shifts') && has('/coverage'),
      clock: has('/shifts/clock-in') && has('/shifts/clock-out') && has('/desk/agents'),
      cannedHealth: has('/canned-responses') && has('/canned-responses/health'),
      rules: has('/keyword-rules') && has('/restricted-rules'),
      flows: has('/flows') && has('/flows/{id}/activate'),
      events: has('/events') && has('/events/{id}/questions'),
      data: has('/export') && has('/import'),
      replyLater: has('/conversations/{id}/scheduled-replies'),
      scheduled: has('/scheduled-messages') && has('/scheduled-messages/preview'),
      channels: has('/channels') && has('/decisions'),
      review: has('/review/messages'),
      report: has('/reports/weekly'),
      inbox: has('/inbox/summaries') && has('/conversations/{id}/read'),
      fanDirectory: has('/fans'),
    };
  } catch {
    return { queue: false, canned: false, fans: false, shifts: false, deskAgents: false, metrics: false };
  }
}

function showLogin(notice = '') {
  replace(bar, h('span', { class: 'brand' }, 'fandesk'));
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: !notice }, notice);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', {
    class: 'login',
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      try {
        await api('POST', '/auth/login', { email: email.value, password: password.value, cookie: true });
        signedIn.set(true);
        await boot();
      } catch (failure) {
        error.hidden = false;
        error.textContent = failure instanceof ApiError && failure.status === 401
          ? 'Wrong email or password.'
          : failure.message;
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h1', {}, 'Sign in to fandesk'),
  h('label', {}, 'Email', email),
  h('label', {}, 'Password', password),
  error,
  button,
  h('p', { class: 'muted small' }, 'Fans chat at ', h('a', { href: '/chat' }, '/chat'), '.'));
  replace(main, h('div', { class: 'login-wrap' }, form));
  email.focus();
}

function showHelp() {
  const rows = [
    ['j / k', 'next / previous conversation'],
    ['r', 'reply (focus the composer)'],
    ['d', 'resolve'],
    ['e', 'escalate'],
    ['/', 'canned responses (in the composer)'],
    ['Enter / Shift+Enter', 'send / new line'],
    ['Esc', 'leave the composer'],
  ];
  const dialog = h('dialog', { class: 'dialog' },
    h('h3', {}, 'Keyboard shortcuts'),
    h('table', { class: 'shortcuts' }, rows.map(([keys, what]) => h('tr', {}, h('td', {}, h('kbd', {}, keys)), h('td', {}, what)))),
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, 'Close')));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

let current = null;
let live = null;
let notifier = null;

async function boot() {
  if (!signedIn.get()) {
    showLogin();
    return;
  }
  let me;
  try {
    me = await api('GET', '/me');
  } catch (error) {
    const ended = error instanceof ApiError && error.status === 401;
    if (ended) signedIn.set(false);
    showLogin(ended ? 'Your session ended. Please log in again.' : error.message);
    return;
  }
  if (me.kind !== 'member') {
    showLogin('This page is for the team. Fans chat at /chat.');
    return;
  }
  const features = await detectFeatures();
  const directory = new Directory(features);
  await directory.loadMembers().catch(() => []);
  const status = h('span', { class: 'conn conn-connecting', title: 'Live connection' }, 'connecting');
  live = new Live({
    onState: (state) => {
      status.className = `conn conn-${state}`;
      status.textContent = state === 'live' ? 'live' : state === 'connecting' ? 'connecting…' : 'reconnecting…';
    },
    onUnauthorized: () => {
      signedIn.set(false);
      teardown();
      showLogin('Your session ended. Please log in again.');
    },
    onError: (frame) => {
      if (frame.code !== 'invalid_request') console.warn('live error', frame);
    },
  });
  const ctx = { me, features, directory, live, navigate, showHelp };
  notifier = new Notifier(ctx);
  ctx.notify = notifier;
  const links = [h('a', { href: '#/inbox', dataset: { view: 'inbox' } }, 'Inbox')];
  if (SUPERVISING.includes(me.role)) links.push(h('a', { href: '#/dashboard', dataset: { view: 'dashboard' } }, 'Dashboard'));
  if (features.channels) {
    links.push(h('a', { href: '#/channels', dataset: { view: 'channels' } }, 'Channels'));
    links.push(h('a', { href: '#/decisions', dataset: { view: 'decisions' } }, 'Decisions'));
  }
  if (metricsAllowed({ me, features })) links.push(h('a', { href: '#/metrics', dataset: { view: 'metrics' } }, 'Metrics'));
  if (fansAllowed(ctx)) links.push(h('a', { href: '#/fans', dataset: { view: 'fans' } }, 'Fans'));
  if (teamAllowed(me)) links.push(h('a', { href: '#/team', dataset: { view: 'team' } }, 'Team'));
  if (auditAllowed(me)) links.push(h('a', { href: '#/audit', dataset: { view: 'audit' } }, 'Audit'));
  if (features.charter) links.push(h('a', { href: '#/charter', dataset: { view: 'charter' } }, 'Charter'));
  if (features.webhooks && me.role === 'owner') links.push(h('a', { href: '#/webhooks', dataset: { view: 'webhooks' } }, 'Webhooks'));
  if (features.flows && flowsAllowed(me)) links.push(h('a', { href: '#/flows', dataset: { view: 'flows' } }, 'Flows'));
  if (features.events && ['owner', 'supervisor'].includes(me.role)) links.push(h('a', { href: '#/events', dataset: { view: 'events' } }, 'Events'));
  if (features.scheduled && ['owner', 'supervisor'].includes(me.role)) links.push(h('a', { href: '#/scheduled', dataset: { view: 'scheduled' } }, 'Scheduled'));
  if (features.data && me.role === 'owner') links.push(h('a', { href: '#/data', dataset: { view: 'data' } }, 'Data'));
  if (features.coverage) links.push(h('a', { href: '#/shifts', dataset: { view: 'shifts' } }, 'Shifts'));
  if (features.cannedHealth && cannedLibraryAllowed(me)) links.push(h('a', { href: '#/canned', dataset: { view: 'canned' } }, 'Canned'));
  if (features.rules && rulesAllowed(me)) links.push(h('a', { href: '#/rules', dataset: { view: 'rules' } }, 'Rules'));
  replace(bar,
    h('span', { class: 'brand' }, 'fandesk'),
    h('nav', { class: 'views', 'aria-label': 'Views' }, links),
    h('span', { class: 'spacer' }),
    features.clock && clockAllowed(me) ? clockControl(me) : null,
    status,
    h('span', { class: 'who' }, me.name, h('span', { class: 'role' }, roleName(me.role))),
    h('button', { type: 'button', class: 'ghost', title: 'Keyboard shortcuts', onclick: showHelp }, '?'),
    h('button', { type: 'button', class: 'ghost', onclick: logout }, 'Log out'));
  live.start();
  notifier.start();
  window.onhashchange = () => route(ctx);
  if (!location.hash) history.replaceState(null, '', SUPERVISING.includes(me.role) && me.role !== 'escalation_lead' ? '#/dashboard' : '#/inbox');
  route(ctx);
}

function navigate(hash) {
  location.hash = hash;
}

function route(ctx) {
  const [, view = 'inbox', id] = location.hash.split('/');
  for (const link of bar.querySelectorAll('[data-view]')) link.classList.toggle('active', link.dataset.view === view);
  if (current?.view === 'inbox' && view === 'inbox' && id) {
    current.mounted.select(id);
    return;
  }
  current?.mounted.unmount();
  main.replaceChildren();
  const admin = ADMIN_SCREENS[view];
  const settings = admin && admin.allowed(ctx);
  const dashboard = !settings && view === 'dashboard' && SUPERVISING.includes(ctx.me.role);
  const mounted = settings
    ? admin.mount(main, ctx)
    : dashboard
      ? mountDashboard(main, ctx)
      : mountInbox(main, ctx, { conversationId: id });
  // One h1 per page, for screen readers: the view's name.
  main.prepend(h('h1', { class: 'sr-only' }, settings ? admin.title : dashboard ? 'Dashboard' : 'Inbox'));
  current = { view, mounted };
}

function teardown() {
  current?.mounted.unmount();
  current = null;
  notifier?.stop();
  notifier = null;
  live?.stop();
  live = null;
  window.onhashchange = null;
}

async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toast(error.message, 'error');
  }
  signedIn.set(false);
  teardown();
  history.replaceState(null, '', '/');
  showLogin('You are logged out.');
}

boot();
