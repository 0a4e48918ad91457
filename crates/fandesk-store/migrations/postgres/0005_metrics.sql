-- Metrics maintained at write time (issue 6; PRODUCT.md › Metric definitions). The rows are
-- `fandesk_analytics` records, written by the group-commit transaction that commits the
-- events they fold (and by the conversation's creation), so summaries never scan messages.
-- Times are microseconds since the Unix epoch (UTC).

-- One row per conversation opening (creation, reopen, bot hand-off) and its first response.
CREATE TABLE metric_openings (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    number BIGINT NOT NULL,
    -- created | reopened | handoff
    kind TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    -- The fan message that counts for this opening.
    first_fan_at BIGINT,
    -- When the FRT clock started; the opening belongs to this instant's period, day, shift.
    clock_at BIGINT,
    -- First public reply of any kind (automated included) after the clock started.
    first_touch_at BIGINT,
    -- First public human reply after the clock started, by whom, and the FRT.
    replied_at BIGINT,
    replier_id TEXT,
    frt_ms BIGINT,
    breached BOOLEAN NOT NULL DEFAULT FALSE,
    -- The conversation's current opening, which later events update.
    latest BOOLEAN NOT NULL
);
CREATE INDEX metric_openings_latest ON metric_openings (conversation_id) WHERE latest;
-- Covers the summary query, so a week's openings are read from the index alone.
CREATE INDEX metric_openings_by_clock ON metric_openings (clock_at, replier_id, frt_ms, first_touch_at, breached)
    WHERE clock_at IS NOT NULL;

-- One row per public message of a human team member: answered by the fan within 24 h?
CREATE TABLE metric_team_messages (
    message_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author_id TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    -- The fan's next public message, set only when it came within 24 h.
    answered_at BIGINT
);
CREATE INDEX metric_team_messages_by_time ON metric_team_messages (sent_at, author_id, answered_at);
CREATE INDEX metric_team_messages_waiting ON metric_team_messages (conversation_id, sent_at)
    WHERE answered_at IS NULL;

-- One row per resolution: escalated by then, who held it, public messages by then.
CREATE TABLE metric_resolutions (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    resolved_at BIGINT NOT NULL,
    escalated BOOLEAN NOT NULL,
    assignee_id TEXT,
    public_messages BIGINT NOT NULL
);
CREATE INDEX metric_resolutions_by_time ON metric_resolutions (resolved_at);

-- The first-response target a reply is judged against when it is committed.
CREATE TABLE metric_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    sla_target_ms BIGINT NOT NULL
);
INSERT INTO metric_settings (id, sla_target_ms) VALUES (1, 60000);

-- Conversations older than this migration get their current opening, so later events have
-- one to update; their earlier history is not measured.
INSERT INTO metric_openings (id, conversation_id, number, kind, opened_at, latest)
    SELECT id || '#1', id, 1, 'created', created_at, TRUE FROM conversations;
