// The supervisor dashboard (docs/product.md › Metrics and reports, Supervision): waiting
// fans with timers, the live alerts feed from the `alerts` topic with one-click
// monitor / whisper / take over and acknowledge / dismiss (with who did it), agents with their load, a sentiment overview, and the
// day's metrics when the server has the metrics API. Monitoring opens the conversation
// in a side pane here; the fan sees none of it.

import { api, query } from './api.js';
import { mountCharterDue } from './charter-due.js';
import { ConversationPane } from './conversation.js';
import { firstArray } from './directory.js';
import { h, replace, toast } from './dom.js';
import { ago, clock, duration, mood, roleName, secondsSince } from './format.js';
import { active, byUrgency, tickTimers, timer } from './lists.js';

const POLL_MS = 10_000;
const ALERT_LABELS = {
  keyword: 'Keyword',
  sla_breach: 'SLA breach',
  negative_sentiment: 'Negative sentiment',
  engagement_anomaly: 'Engagement anomaly',
  restricted_word: 'Restricted word',
  escalation_off_shift: 'Escalation off shift',
};

export function mountDashboard(root, ctx) {
  const kpis = h('section', { class: 'kpis', 'aria-label': 'Now' });
  const waitingList = h('ul', { class: 'conv-list' });
  const alertsList = h('ul', { class: 'alerts', 'aria-live': 'polite' });
  const agentsBody = h('tbody');
  const sentiment = h('div', { class: 'sentiment' });
  const metrics = h('div', { class: 'metrics' });
  const monitorRoot = h('div', { class: 'monitor-pane' });
  const monitor = h('section', { class: 'panel panel-monitor', hidden: true },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Monitoring'),
      h('button', { type: 'button', onclick: () => closeMonitor() }, 'Close')),
    monitorRoot);
  const charterDue = h('p', { class: 'charter-due', role: 'status', hidden: true });
  const layout = h('div', { class: 'dashboard' },
    charterDue,
    kpis,
    h('section', { class: 'panel panel-waiting' }, h('h2', {}, 'Waiting fans'), waitingList),
    h('section', { class: 'panel panel-alerts' }, h('h2', {}, 'Alerts ', h('span', { class: 'live-dot', title: 'live' })), alertsList),
    h('section', { class: 'panel panel-agents' }, h('h2', {}, 'Agents'),
      h('table', { class: 'agents' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Open'), h('th', {}, 'Waiting'), h('th', {}, 'Shift'))),
        agentsBody)),
    h('section', { class: 'panel panel-sentiment' }, h('h2', {}, 'Sentiment of open conversations'), sentiment),
    h('section', { class: 'panel panel-metrics', hidden: !ctx.features.metrics }, h('h2', {}, 'Today'), metrics,
      h('p', { class: 'small dashboard-links' },
        h('a', { href: '#/metrics' }, 'Metrics by agent, shift and day'), ' · ',
        h('a', { href: '#/review' }, 'Message review'), ' · ',
        h('a', { href: '#/report' }, 'Weekly report'))),
    monitor);
  replace(root, layout);
  if (ctx.features.charter) mountCharterDue(charterDue);

  const state = { open: [], alerts: new Map(), conversations: new Map(), closed: false, shifts: null, agents: null };
  const pane = new ConversationPane(monitorRoot, ctx, { onChanged: () => scheduleRefresh(), monitor: true });

  let refreshTimer = null;
  function scheduleRefresh(delay = 800) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, delay);
  }

  async function refresh() {
    clearTimeout(refreshTimer);
    try {
      const { conversations } = await api('GET', `/conversations${query({ status: 'open', limit: 200 })}`);
      state.open = conversations.filter(active);
      state.open.forEach((conversation) => ctx.directory.noteConversation(conversation));
      if (ctx.features.shifts && !state.shifts) state.shifts = await loadShifts();
      if (ctx.features.deskAgents) state.agents = (await api('GET', '/desk/agents')).agents;
      paint();
    } catch (error) {
      console.warn('dashboard refresh failed', error);
    }
    if (!state.closed) refreshTimer = setTimeout(refresh, POLL_MS);
  }

  async function loadShifts() {
    try {
      return firstArray(await api('GET', '/shifts'));
    } catch {
      return [];
    }
  }

  async function loadAlerts() {
    try {
      const { alerts } = await api('GET', '/alerts');
      alerts.forEach((alert) => state.alerts.set(alert.id, alert));
      paintAlerts();
    } catch (error) {
      replace(alertsList, h('li', { class: 'empty' }, `Alerts unavailable: ${error.message}`));
    }
  }

  async function loadMetrics() {
    if (!ctx.features.metrics) return;
    const from = new Date();
    from.setHours(0, 0, 0, 0);
    try {
      const summary = await api('GET', `/metrics/summary${query({ from: from.toISOString(), to: new Date().toISOString(), group_by: 'none' })}`);
      const group = summary.groups?.[0];
      if (!group) return;
      const frt = group.first_response_secs || {};
      const pct = (value) => (typeof value === 'number' ? `${Math.round(value * 100)} %` : '—');
      replace(metrics, h('dl', { class: 'facts' },
        h('dt', {}, 'First response p50 / p90'), h('dd', {}, `${frt.p50 != null ? duration(frt.p50) : '—'} / ${frt.p90 != null ? duration(frt.p90) : '—'}`),
        h('dt', {}, 'Resolution rate'), h('dd', {}, pct(group.resolution_rate)),
        h('dt', {}, 'Reply rate'), h('dd', { class: 'reply-rate' }, pct(group.reply_rate),
          typeof group.pending === 'number'
            ? h('span', { class: 'pending', title: 'Team messages younger than 24 h: counted once their answer window closes' }, ` · ${group.pending} pending`)
            : null),
        h('dt', {}, 'SLA breaches'), h('dd', {}, String(group.sla_breaches ?? 0))),
        typeof group.pending === 'number'
          ? h('p', { class: 'muted small metrics-note' }, 'The reply rate counts team messages whose 24-hour answer window has closed; younger ones are pending, answered or not.')
          : null);
    } catch {
      // Metrics are a bonus on this page; the live panels work without them.
    }
  }

  function kpi(label, value, level = '') {
    return h('div', { class: `kpi ${level}` }, h('span', { class: 'kpi-value' }, value), h('span', { class: 'kpi-label' }, label));
  }

  function paint() {
    const waiting = state.open.filter((conversation) => conversation.awaiting_since).sort(byUrgency);
    const longest = waiting.length ? secondsSince(waiting[0].awaiting_since) : 0;
    const dayAgo = Date.now() - 86_400_000;
    const alertsToday = [...state.alerts.values()].filter((alert) => Date.parse(alert.created_at) > dayAgo && (alert.state || 'open') === 'open').length;
    const humans = [...ctx.directory.members.values()].filter((member) => member.role !== 'bot');
    replace(kpis,
      kpi('fans waiting', String(waiting.length), waiting.length > 5 ? 'kpi-warn' : ''),
      kpi('longest wait', duration(longest), longest >= 60 ? 'kpi-late' : longest >= 30 ? 'kpi-warn' : ''),
      kpi('open conversations', String(state.open.length)),
      kpi('unassigned', String(state.open.filter((c) => !c.assignee_id).length)),
      kpi('open alerts in 24 h', String(alertsToday), alertsToday ? 'kpi-warn' : ''),
      kpi('team members', String(humans.length)));
    replace(waitingList, waiting.length ? waiting.map(waitingItem) : h('li', { class: 'empty' }, 'Nobody is waiting.'));
    paintAgents(humans);
    paintSentiment();
    tickTimers(layout);
  }

  function waitingItem(conversation) {
    const nameNode = h('span', { class: 'ci-name' }, ctx.directory.fanName(conversation.fan_id) || 'Fan');
    if (!ctx.directory.fanName(conversation.fan_id)) {
      ctx.directory.resolveFanName(conversation).then((name) => { if (name) nameNode.textContent = name; });
    }
    const assignee = ctx.directory.memberName(conversation.assignee_id);
    return h('li', { class: 'waiting-item' },
      h('span', { class: 'ci-top' }, nameNode, timer(conversation.awaiting_since)),
      h('span', { class: 'ci-sub' }, h('span', { class: 'chip chip-priority' }, `P${conversation.priority ?? 0}`),
        h('span', { class: 'muted' }, assignee ? assignee : 'unassigned')),
      actions(conversation.id));
  }

  function actions(conversationId) {
    return h('span', { class: 'quick-actions' },
      h('button', { type: 'button', onclick: () => openMonitor(conversationId, false) }, 'Monitor'),
      h('button', { type: 'button', onclick: () => openMonitor(conversationId, true) }, 'Whisper'),
      h('button', { type: 'button', onclick: () => takeOver(conversationId) }, 'Take over'));
  }

  function paintAgents(humans) {
    const load = new Map();
    const waiting = new Map();
    for (const conversation of state.open) {
      if (!conversation.assignee_id) continue;
      load.set(conversation.assignee_id, (load.get(conversation.assignee_id) || 0) + 1);
      if (conversation.awaiting_since) waiting.set(conversation.assignee_id, (waiting.get(conversation.assignee_id) || 0) + 1);
    }
    // The desk's view of each member (on shift, load against capacity) when available.
    const desk = new Map((state.agents || []).map((agent) => [agent.id, agent]));
    const shiftNames = (id) => (state.shifts || []).filter((shift) => (shift.member_ids || []).includes(id)).map((shift) => shift.name);
    const order = { agent: 0, escalation_lead: 1, supervisor: 2, owner: 3 };
    humans.sort((a, b) => (order[a.role] ?? 9) - (order[b.role] ?? 9) || a.name.localeCompare(b.name));
    replace(agentsBody, humans.map((member) => {
      const agent = desk.get(member.id);
      const open = agent ? agent.active_conversations : load.get(member.id) || 0;
      const limited = agent && agent.max_concurrent > 0 && member.role === 'agent';
      const capacity = limited ? ` / ${agent.max_concurrent}` : '';
      const over = limited && open > agent.max_concurrent;
      const names = shiftNames(member.id).join(', ');
      const shift = agent
        ? h('span', { class: agent.on_shift ? 'on-shift' : 'off-shift', title: names || 'no scheduled shift' }, agent.on_shift ? 'on' : 'off')
        : names || '—';
      return h('tr', {},
        h('td', {}, h('span', { class: 'agent-name' }, member.name), h('span', { class: 'agent-role' }, roleName(member.role))),
        h('td', {}, h('span', { class: over ? 'load load-over' : 'load', title: over ? 'Over capacity' : null }, `${open}${capacity}`)),
        h('td', {}, String(waiting.get(member.id) || 0)),
        h('td', {}, shift));
    }));
  }

  function paintSentiment() {
    const counts = { negative: 0, neutral: 0, positive: 0 };
    for (const conversation of state.open) {
      const feeling = mood(conversation.sentiment);
      if (feeling) counts[feeling] += 1;
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    replace(sentiment, Object.entries(counts).map(([feeling, count]) => {
      const bar = h('span', { class: `meter meter-${feeling}` });
      bar.style.width = `${Math.round((count / total) * 100)}%`;
      return h('div', { class: 'sentiment-row' }, h('span', { class: 'sentiment-label' }, feeling), h('span', { class: 'meter-track' }, bar), h('span', { class: 'sentiment-count' }, String(count)));
    }));
  }

  function paintAlerts() {
    const alerts = [...state.alerts.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)).slice(0, 100);
    replace(alertsList, alerts.length ? alerts.map(alertItem) : h('li', { class: 'empty' }, 'No alerts in the last 24 hours.'));
  }

  /** The fan an alert is about, looked up once per conversation. */
  function alertFan(conversationId, node) {
    const known = state.open.find((conversation) => conversation.id === conversationId);
    const lookup = known
      ? Promise.resolve(known)
      : (state.conversations.get(conversationId) ?? api('GET', `/conversations/${encodeURIComponent(conversationId)}`).catch(() => null));
    state.conversations.set(conversationId, lookup);
    lookup.then((conversation) => conversation && ctx.directory.resolveFanName(conversation))
      .then((name) => { if (name) node.textContent = name; });
  }

  function alertItem(alert) {
    const fan = h('span', { class: 'alert-fan' });
    if (alert.conversation_id) alertFan(alert.conversation_id, fan);
    // What matched comes first (the words as the fan wrote them); the rule's name after.
    const word = typeof alert.details?.word === 'string' ? alert.details.word : null;
    const rule = alert.rule ? alert.rule.replace('_', ' ') : null;
    const alertState = alert.state || 'open';
    return h('li', { class: `alert alert-${alert.kind} alert-state-${alertState}`, dataset: { id: alert.id, state: alertState } },
      h('div', { class: 'alert-head' },
        h('span', { class: 'badge badge-alert' }, ALERT_LABELS[alert.kind] || alert.kind),
        word ? h('span', { class: 'alert-match' }, `“${word}”`) : null,
        rule ? h('span', { class: word ? 'alert-rule alert-rule-minor' : 'alert-rule' }, word ? `rule ${rule}` : rule) : null,
        fan,
        h('time', { datetime: alert.created_at, title: clock(alert.created_at) }, ago(alert.created_at))),
      alert.excerpt ? h('p', { class: 'alert-excerpt' }, highlight(alert.excerpt, word)) : null,
      h('div', { class: 'alert-foot' },
        alert.conversation_id && alertState !== 'dismissed' ? actions(alert.conversation_id) : null,
        handling(alert, alertState)));
  }

  /** Who handled the alert, or the buttons to acknowledge / dismiss it. */
  function handling(alert, alertState) {
    const who = alert.handled_by_name || alert.handled_by;
    const note = alertState === 'open' ? null
      : h('span', { class: 'alert-handled' },
        `${alertState === 'acknowledged' ? 'Acknowledged' : 'Dismissed'} by ${who}`,
        alert.handled_at ? h('time', { datetime: alert.handled_at, title: clock(alert.handled_at) }, ` ${ago(alert.handled_at)}`) : null);
    return h('span', { class: 'alert-handling' },
      note,
      alertState === 'open' ? h('button', { type: 'button', onclick: () => handleAlert(alert.id, 'acknowledge') }, 'Acknowledge') : null,
      alertState !== 'dismissed' ? h('button', { type: 'button', onclick: () => handleAlert(alert.id, 'dismiss') }, 'Dismiss') : null);
  }

  async function handleAlert(id, action) {
    try {
      const alert = await api('POST', `/alerts/${encodeURIComponent(id)}/${action}`);
      state.alerts.set(alert.id, alert);
      paintAlerts();
      paint();
    } catch (error) {
      toast(`Cannot ${action} the alert: ${error.message}`, 'error');
      loadAlerts();
    }
  }

  /** `text` with the first occurrence of `word` (any case) marked. */
  function highlight(text, word) {
    const lower = text.toLowerCase();
    // Offsets hold only when lower-casing keeps the length (it does for nearly all text).
    const at = word && lower.length === text.length ? lower.indexOf(word.toLowerCase()) : -1;
    if (at < 0) return text;
    return [text.slice(0, at), h('mark', {}, text.slice(at, at + word.length)), text.slice(at + word.length)];
  }

  async function openMonitor(conversationId, whisper) {
    try {
      await api('POST', `/conversations/${encodeURIComponent(conversationId)}/monitor`);
    } catch (error) {
      toast(`Cannot monitor: ${error.message}`, 'error');
      return;
    }
    monitor.hidden = false;
    layout.classList.add('monitoring');
    // Monitoring speaks to the team only until the supervisor switches to a public reply.
    await pane.open(conversationId, { whisper: true });
    if (whisper) pane.focusComposer();
    // On a phone the pane moves to the top of the dashboard: bring it into view.
    if (window.matchMedia('(max-width: 760px)').matches) monitor.scrollIntoView({ block: 'start' });
  }

  function closeMonitor() {
    pane.close();
    monitor.hidden = true;
    layout.classList.remove('monitoring');
  }

  async function takeOver(conversationId) {
    try {
      await api('POST', `/conversations/${encodeURIComponent(conversationId)}/takeover`);
      ctx.navigate(`#/inbox/${conversationId}`);
    } catch (error) {
      toast(`Cannot take over: ${error.message}`, 'error');
    }
  }

  const stopAlerts = ctx.live.subscribe('alerts', (event) => {
    if (event.kind === 'alert.raised') {
      state.alerts.set(event.alert.id, event.alert);
      paintAlerts();
      paint();
      const item = alertsList.querySelector(`[data-id="${CSS.escape(event.alert.id)}"]`);
      item?.classList.add('alert-new');
    } else if (event.kind === 'alert.updated') {
      state.alerts.set(event.alert.id, event.alert);
      paintAlerts();
      paint();
    } else if (event.kind === 'subscribed') loadAlerts();
  });
  const stopInbox = ctx.live.subscribe('inbox', (event) => {
    if (event.kind === 'conversation.updated' || event.kind === 'subscribed') scheduleRefresh();
  });
  const ticker = setInterval(() => tickTimers(layout), 1000);
  refresh();
  loadAlerts();
  loadMetrics();

  return {
    unmount() {
      state.closed = true;
      stopAlerts();
      stopInbox();
      clearInterval(ticker);
      clearTimeout(refreshTimer);
      pane.destroy();
    },
  };
}
