// The fan panel beside a conversation (docs/product.md › Conversations): name, local time,
// tags, lifetime spend, notes, first/last seen — from the fan profile API when the
// server has it —, the events the fan watched and what they bought (the fan's activity),
// and the conversation's own facts (priority, sentiment, age).

import { api } from './api.js';
import { h, replace, toast } from './dom.js';
import { ago, localTime, money, mood } from './format.js';

export class FanPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.conversation = null;
    this.profile = null;
    this.activity = null;
    this.clockTimer = setInterval(() => this.tick(), 15_000);
    this.clear();
  }

  destroy() {
    clearInterval(this.clockTimer);
  }

  clear() {
    this.conversation = null;
    replace(this.root, h('p', { class: 'muted' }, 'The fan’s profile shows here.'));
  }

  async show(conversation) {
    const switched = this.conversation?.fan_id !== conversation.fan_id;
    this.conversation = conversation;
    if (switched) {
      this.profile = null;
      this.activity = null;
      if (this.ctx.features.fans) {
        try {
          this.profile = await this.ctx.directory.profile(conversation.fan_id, { fresh: true });
        } catch (error) {
          toast(`Fan profile unavailable: ${error.message}`, 'error');
        }
        try {
          this.activity = await api('GET', `/fans/${encodeURIComponent(conversation.fan_id)}/activity`);
        } catch {
          this.activity = null; // an older server: no activity to show
        }
      }
    }
    this.paint();
  }

  tick() {
    const field = this.root.querySelector('[data-local-time]');
    if (field && this.profile?.timezone) field.textContent = localTime(this.profile.timezone) || '';
  }

  paint() {
    const conversation = this.conversation;
    if (!conversation) return;
    const profile = this.profile;
    const name = profile?.display_name || this.ctx.directory.fanName(conversation.fan_id) || 'Fan';
    const rows = [];
    const row = (label, value, attrs = {}) => {
      if (value === null || value === undefined || value === '') return;
      rows.push(h('dt', {}, label), h('dd', attrs, value));
    };
    if (profile) {
      const zone = profile.timezone;
      row('Local time', zone ? `${localTime(zone) || '?'} (${zone})` : 'unknown', { dataset: { localTime: '' } });
      const spend = profile.lifetime_spend_cents ?? profile.lifetime_spend;
      row('Lifetime spend', typeof spend === 'number' ? money(spend) : null);
      row('First seen', profile.first_seen_at || profile.created_at ? ago(profile.first_seen_at || profile.created_at) : null);
      row('Last seen', profile.last_seen_at ? ago(profile.last_seen_at) : null);
      row('External id', profile.external_id);
      for (const [key, value] of Object.entries(profile.attributes || {})) row(key, value);
    }
    row('Priority', String(conversation.priority ?? 0));
    row('Sentiment', mood(conversation.sentiment) ? `${mood(conversation.sentiment)} (${conversation.sentiment.toFixed(2)})` : 'no fan messages yet');
    row('Opened', ago(conversation.created_at));
    const tags = profile?.tags ?? [];
    const sections = [
      h('h2', { class: 'fan-name' }, name),
      tags.length ? h('ul', { class: 'tags' }, tags.map((tag) => h('li', { class: `tag tag-${tag === 'vip' ? 'vip' : 'plain'}` }, tag))) : null,
      h('dl', { class: 'facts' }, rows),
    ];
    if (profile && this.ctx.me.role !== 'bot') sections.push(this.tagsEditor(profile));
    if (this.activity) sections.push(this.activityBox(this.activity));
    if (profile) sections.push(this.notesEditor(profile));
    else {
      sections.push(h('p', { class: 'muted small' },
        'Time zone, tags, spend and notes appear here once the server offers fan profiles.'));
    }
    replace(this.root, sections);
  }

  /** Tags as one comma-separated field (at most 20, each 1–32 of a-z 0-9 _ -). */
  tagsEditor(profile) {
    const input = h('input', {
      type: 'text', name: 'tags', class: 'tags-input', autocomplete: 'off', spellcheck: 'false',
      'aria-label': 'Tags, separated by commas', placeholder: 'vip, merch, refund',
    });
    input.value = (profile.tags || []).join(', ');
    const status = h('span', { class: 'muted small', role: 'status' });
    const form = h('form', {
      class: 'tags-editor',
      onsubmit: async (event) => {
        event.preventDefault();
        const tags = [...new Set(input.value.split(',').map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
        try {
          const updated = await api('PATCH', `/fans/${encodeURIComponent(profile.id)}`, { tags });
          this.profile = { ...profile, ...updated };
          this.ctx.directory.profiles.set(profile.id, this.profile);
          this.paint();
          toast('Tags saved');
        } catch (error) {
          status.textContent = `Not saved: ${error.message}`;
        }
      },
    }, input, h('button', { type: 'submit' }, 'Save tags'), status);
    return h('div', { class: 'notes-box' }, h('h3', {}, 'Tags'), form);
  }

  /** Events watched (minutes) and conversions (kind, value, when). */
  activityBox(activity) {
    const watched = activity.events.map((event) => h('li', { dataset: { eventId: event.event_id } },
      `${event.title} · ${event.watch_secs < 60 ? `${Math.round(event.watch_secs)} s` : `${Math.round(event.watch_secs / 60)} min`} watched`));
    const bought = activity.conversions.map((conversion) => h('li', { dataset: { conversionId: conversion.id } },
      `${conversion.kind} · ${money(conversion.value_cents)} · ${ago(conversion.created_at)}`));
    return h('div', { class: 'fan-activity' },
      h('h3', {}, 'Watched and bought'),
      watched.length ? h('ul', { class: 'plain' }, watched) : h('p', { class: 'muted small' }, 'No events watched.'),
      bought.length
        ? [h('ul', { class: 'plain' }, bought), h('p', { class: 'small' }, `Total ${money(activity.value_cents)}`)]
        : h('p', { class: 'muted small' }, 'No conversions.'));
  }

  notesEditor(profile) {
    const notes = h('textarea', { rows: '4', class: 'notes', 'aria-label': 'Notes about this fan' });
    notes.value = profile.notes || '';
    const status = h('span', { class: 'muted small' });
    const save = async () => {
      if (notes.value === (profile.notes || '')) return;
      try {
        const updated = await api('PATCH', `/fans/${encodeURIComponent(profile.id)}`, { notes: notes.value });
        this.profile = { ...profile, ...updated };
        this.ctx.directory.profiles.set(profile.id, this.profile);
        status.textContent = 'Saved';
      } catch (error) {
        status.textContent = `Not saved: ${error.message}`;
      }
    };
    notes.addEventListener('blur', save);
    return h('div', { class: 'notes-box' }, h('h3', {}, 'Notes'), notes, status);
  }
}
