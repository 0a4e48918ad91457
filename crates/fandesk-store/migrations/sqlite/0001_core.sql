-- The chat core (issue 2). Times are microseconds since the Unix epoch (UTC).
CREATE TABLE members (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE fans (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    -- Set only for identity-verified fans (HMAC of external_id), so it is trustworthy.
    external_id TEXT UNIQUE,
    timezone TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

-- Bearer tokens, stored as SHA-256 hex; exactly one of member_id / fan_id is set.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    member_id TEXT REFERENCES members(id),
    fan_id TEXT REFERENCES fans(id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((member_id IS NULL) <> (fan_id IS NULL))
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    fan_id TEXT NOT NULL REFERENCES fans(id),
    status TEXT NOT NULL,
    assignee_id TEXT REFERENCES members(id),
    escalated BOOLEAN NOT NULL DEFAULT FALSE,
    priority BIGINT NOT NULL DEFAULT 0,
    -- Last assigned positions of the full and the public timeline (dense sequences).
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_public_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_message_at BIGINT
);
-- A fan has at most one conversation that is not resolved.
CREATE UNIQUE INDEX conversations_one_active_per_fan ON conversations (fan_id) WHERE status <> 'resolved';
CREATE INDEX conversations_by_status ON conversations (status, updated_at);
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, updated_at);
CREATE INDEX conversations_by_fan ON conversations (fan_id, created_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq BIGINT NOT NULL,
    public_seq BIGINT,
    author_id TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_name TEXT NOT NULL,
    client_msg_id TEXT,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL,
    automated BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((visibility = 'public') = (public_seq IS NOT NULL))
);
CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_public_seq ON messages (conversation_id, public_seq) WHERE public_seq IS NOT NULL;
-- Idempotency: one message per (author, client_msg_id) in a conversation; client_msg_id
-- first so a batch look-up by IN (…) uses the index.
CREATE UNIQUE INDEX messages_idempotency ON messages (client_msg_id, author_id, conversation_id) WHERE client_msg_id IS NOT NULL;
