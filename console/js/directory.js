// Who is who: team members by id, and fans' names and profiles, fetched once and cached.
// A fan's name comes from the fan profile API when the server has it, else from the
// conversation's own messages (the author of a fan message carries the fan's name).

import { api, query } from './api.js';

export class Directory {
  constructor(features) {
    this.features = features;
    this.members = new Map();
    this.fanNames = new Map();
    this.profiles = new Map();
    this.lookups = new Map();
  }

  async loadMembers() {
    const { members } = await api('GET', '/members');
    this.members = new Map(members.map((member) => [member.id, member]));
    return members;
  }

  memberName(id) {
    return id ? this.members.get(id)?.name ?? null : null;
  }

  /** Learns names from anything that carries them. */
  noteMessage(message) {
    if (message?.author?.kind === 'fan' && message.author.name) this.fanNames.set(message.author.id, message.author.name);
  }

  noteConversation(conversation) {
    const name = conversation.fan_name ?? conversation.fan?.display_name;
    if (name && conversation.fan_id) this.fanNames.set(conversation.fan_id, name);
  }

  fanName(fanId) {
    return this.fanNames.get(fanId) ?? null;
  }

  /** The fan's profile (fan profile API), or null when the server has none. */
  async profile(fanId, { fresh = false } = {}) {
    if (!this.features.fans) return null;
    if (!fresh && this.profiles.has(fanId)) return this.profiles.get(fanId);
    const profile = await api('GET', `/fans/${encodeURIComponent(fanId)}`);
    this.profiles.set(fanId, profile);
    if (profile.display_name) this.fanNames.set(fanId, profile.display_name);
    return profile;
  }

  /** Resolves a conversation's fan name (cached; one request per fan at most). */
  async resolveFanName(conversation) {
    const known = this.fanName(conversation.fan_id);
    if (known) return known;
    if (!this.lookups.has(conversation.fan_id)) {
      this.lookups.set(conversation.fan_id, this.lookupName(conversation));
    }
    return this.lookups.get(conversation.fan_id);
  }

  async lookupName(conversation) {
    try {
      if (this.features.fans) return (await this.profile(conversation.fan_id)).display_name ?? null;
      const page = await api(
        'GET',
        `/conversations/${encodeURIComponent(conversation.id)}/messages${query({ after_seq: 0, limit: 20 })}`,
      );
      page.messages.forEach((message) => this.noteMessage(message));
      return this.fanName(conversation.fan_id);
    } catch {
      this.lookups.delete(conversation.fan_id);
      return null;
    }
  }
}

/** The first array in a JSON object (list endpoints name their arrays differently). */
export function firstArray(data) {
  if (Array.isArray(data)) return data;
  for (const value of Object.values(data || {})) if (Array.isArray(value)) return value;
  return [];
}
