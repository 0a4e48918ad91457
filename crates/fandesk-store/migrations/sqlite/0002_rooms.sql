-- Live rooms (issue 7). Times are microseconds since the Unix epoch (UTC).
CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    -- The stored state; a scheduled room whose opens_at has passed counts as open.
    state TEXT NOT NULL,
    opens_at BIGINT,
    -- Per-fan minimum interval between messages; 0 = off.
    slow_mode_secs BIGINT NOT NULL DEFAULT 0,
    -- Last assigned position of the room's timeline (dense; messages and deletions).
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX rooms_by_created ON rooms (created_at);

-- The room's timeline. kind 'message' is a chat message; kind 'deletion' records that a
-- moderator removed message target_id, and takes its own seq so resuming clients replay it.
CREATE TABLE room_events (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_name TEXT NOT NULL,
    client_msg_id TEXT,
    body TEXT NOT NULL,
    automated BOOLEAN NOT NULL,
    target_id TEXT,
    -- Set on a message when it is deleted (the body stays for the team's review).
    deleted_at BIGINT,
    deleted_by TEXT,
    created_at BIGINT NOT NULL,
    CHECK ((kind = 'deletion') = (target_id IS NOT NULL))
);
CREATE UNIQUE INDEX room_events_seq ON room_events (room_id, seq);
-- Idempotency: one message per (author, client_msg_id) in a room; client_msg_id first so a
-- batch look-up by IN (…) uses the index.
CREATE UNIQUE INDEX room_events_idempotency ON room_events (client_msg_id, author_id, room_id) WHERE client_msg_id IS NOT NULL;
-- A message is deleted at most once.
CREATE UNIQUE INDEX room_events_one_deletion ON room_events (target_id) WHERE target_id IS NOT NULL;

-- What a room remembers about a fan: the last message (slow mode) and a timeout.
CREATE TABLE room_fans (
    room_id TEXT NOT NULL REFERENCES rooms(id),
    fan_id TEXT NOT NULL REFERENCES fans(id),
    last_message_at BIGINT,
    timed_out_until BIGINT,
    timed_out_by TEXT,
    PRIMARY KEY (room_id, fan_id)
);
