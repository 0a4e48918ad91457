-- Scheduled messages and "reply later" (docs/api.md › Scheduled messages). Times are
-- microseconds since the Unix epoch.

-- A message to a segment of fans. `state`: `preparing` while its recipients are being
-- written, then `scheduled`, or `cancelled`; progress is counted from the deliveries.
CREATE TABLE scheduled_messages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    -- The audience as asked: {"fan_ids":[…],"tags":[…],"vip":…,"all":…}.
    audience TEXT NOT NULL,
    -- Exactly one of `at_time` and `local_date` + `local_time` ('YYYY-MM-DD', 'HH:MM').
    at_time BIGINT,
    local_date TEXT,
    local_time TEXT,
    quiet_start TEXT,
    quiet_end TEXT,
    -- The zone of fans who have none (the creator's when it was scheduled).
    default_time_zone TEXT NOT NULL,
    recipients BIGINT NOT NULL,
    state TEXT NOT NULL,
    -- Who scheduled it: the messages are theirs, marked automated.
    created_by TEXT NOT NULL REFERENCES members(id),
    author_name TEXT NOT NULL,
    author_role TEXT NOT NULL,
    first_due_at BIGINT,
    last_due_at BIGINT,
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT
);
CREATE INDEX scheduled_messages_by_creation ON scheduled_messages (created_at);

-- One row per recipient. `conversation_id` is chosen (and the conversation opened when
-- the fan had none) before the message is posted, so a retry posts into the same
-- conversation with the same idempotency key and is answered with the first message.
CREATE TABLE scheduled_deliveries (
    scheduled_id TEXT NOT NULL REFERENCES scheduled_messages(id),
    fan_id TEXT NOT NULL REFERENCES fans(id),
    time_zone TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    -- `pending`, `sent`, `cancelled` or `failed`.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    conversation_id TEXT,
    message_id TEXT,
    sent_at BIGINT,
    PRIMARY KEY (scheduled_id, fan_id)
);
CREATE INDEX scheduled_deliveries_pending ON scheduled_deliveries (scheduled_id, due_at) WHERE status = 'pending';

-- A team member's public reply to send later. The message is posted as theirs with the
-- idempotency key `later-{id}`, so a retry after a crash cannot send it twice.
CREATE TABLE scheduled_replies (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author_id TEXT NOT NULL REFERENCES members(id),
    -- The scheduling request's own idempotency key.
    client_msg_id TEXT NOT NULL,
    body TEXT NOT NULL,
    template_id TEXT,
    canned_unedited BOOLEAN NOT NULL DEFAULT FALSE,
    send_at BIGINT NOT NULL,
    -- `pending`, `sent`, `cancelled` or `failed` (with `failure`: why it could not be
    -- sent, e.g. the conversation was resolved meanwhile).
    status TEXT NOT NULL,
    message_id TEXT,
    failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scheduled_replies_idempotency ON scheduled_replies (client_msg_id, author_id, conversation_id);
CREATE INDEX scheduled_replies_by_conversation ON scheduled_replies (conversation_id, send_at);
