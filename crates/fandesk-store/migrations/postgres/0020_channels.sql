-- Team channels (docs/product.md › Team channels), their messages and the decision log.
-- A channel's messages are numbered densely by `seq` from `channels.last_seq` (topic
-- `channel:{id}`); `member_ids` is a JSON array of member ids, empty for the whole team.
-- `active_at` is when the channel was last in use (created, restored, or a member's
-- message): the archiving sweep warns `archive_after_days - 7` days after it and archives
-- at `archive_after_days`; `warned_at` is set by the warning and cleared by the next
-- member message. Times are microseconds since the Unix epoch (UTC).
CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    guideline TEXT NOT NULL,
    kind TEXT NOT NULL,
    member_ids TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT,
    active_at BIGINT NOT NULL,
    warned_at BIGINT,
    archived_at BIGINT,
    CHECK (kind IN ('open', 'announcements'))
);
CREATE INDEX channels_by_state ON channels (archived_at, name);

-- `author_kind` is `member` or `system` (the archive warning, `author_id` "system").
-- A thread's replies name their root; a summary names the thread it sums up.
CREATE TABLE channel_messages (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels(id),
    seq BIGINT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    client_msg_id TEXT,
    body TEXT NOT NULL,
    thread_root_id TEXT REFERENCES channel_messages(id),
    summary_of TEXT REFERENCES channel_messages(id),
    tag TEXT,
    created_at BIGINT NOT NULL,
    CHECK (author_kind IN ('member', 'system')),
    CHECK (tag IN ('decision', 'action')),
    UNIQUE (channel_id, seq),
    UNIQUE (channel_id, author_id, client_msg_id)
);
CREATE INDEX channel_messages_by_thread ON channel_messages (thread_root_id, seq);

-- One row per tagged message: a decision, or an action with its owner and status.
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    owner_id TEXT REFERENCES members(id),
    status TEXT NOT NULL,
    channel_id TEXT NOT NULL REFERENCES channels(id),
    message_id TEXT NOT NULL UNIQUE REFERENCES channel_messages(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (kind IN ('decision', 'action')),
    CHECK (status IN ('open', 'done'))
);
CREATE INDEX decisions_by_time ON decisions (created_at, id);
