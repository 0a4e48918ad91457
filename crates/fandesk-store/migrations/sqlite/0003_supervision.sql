-- Supervision and signals (issue 4): takeover/escalation state, reply times, sentiment,
-- the audit log, alerts and the editable keyword / restricted-word rules.
ALTER TABLE conversations ADD COLUMN escalated_to TEXT REFERENCES members(id);
ALTER TABLE conversations ADD COLUMN observer_id TEXT REFERENCES members(id);
-- When the oldest fan message not yet answered by a human arrived (reply times, FRT).
ALTER TABLE conversations ADD COLUMN awaiting_since BIGINT;
-- Rolling sentiment of the fan's messages, −1 … 1 (team-only): the score, how many fan
-- messages carried sentiment, and whether it turned negative and has not recovered.
ALTER TABLE conversations ADD COLUMN sentiment DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sentiment_messages BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sentiment_negative BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE messages ADD COLUMN whisper_to TEXT REFERENCES members(id);
-- For a human team member's public reply: milliseconds since the fan's oldest unanswered
-- message (message review).
ALTER TABLE messages ADD COLUMN reply_ms BIGINT;
ALTER TABLE messages ADD COLUMN sentiment DOUBLE PRECISION;
-- A restricted-word rule in `warn` mode that this team message matched.
ALTER TABLE messages ADD COLUMN flag TEXT;
CREATE INDEX messages_by_author ON messages (author_id, created_at);
CREATE INDEX messages_by_kind ON messages (author_kind, created_at);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id),
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (created_at);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id),
    rule TEXT,
    excerpt TEXT,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (created_at);
CREATE INDEX alerts_by_conversation_rule ON alerts (conversation_id, rule, created_at);

CREATE TABLE keyword_rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- Whitespace-separated words; any of them matches (with inflections).
    patterns TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO keyword_rules (id, name, patterns, created_at) VALUES
    ('kw_cancel', 'cancel', 'cancel', 0),
    ('kw_refund', 'refund', 'refund', 0),
    ('kw_complaint', 'complaint', 'complaint complain', 0);

CREATE TABLE restricted_rules (
    id TEXT PRIMARY KEY,
    pattern TEXT NOT NULL UNIQUE,
    -- `block` refuses the message; `warn` sends it and flags it to supervisors.
    action TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
