-- Event metrics and conversions. Times are microseconds since the Unix epoch (UTC).
--
-- room_viewings: one row per time a fan watched a room through one node (from the first
-- subscription to the last one closing). Written in batches by the node serving the fan;
-- `seen_at` is moved forward by that node while the viewing is open, so a node that died
-- leaves a viewing that ends at its last sign of life instead of one that never ends.
CREATE TABLE room_viewings (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id),
    fan_id TEXT NOT NULL REFERENCES fans(id),
    node TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    left_at BIGINT,
    seen_at BIGINT NOT NULL,
    CHECK (left_at IS NULL OR left_at >= joined_at)
);
CREATE INDEX room_viewings_by_room ON room_viewings (room_id, joined_at);
CREATE INDEX room_viewings_by_fan ON room_viewings (fan_id, joined_at);
CREATE INDEX room_viewings_open ON room_viewings (node) WHERE left_at IS NULL;

-- conversions: a fan bought or signed up for something. `agent_id` and `reply_at` name
-- the human team member whose public reply to the fan came last within 24 h before it,
-- and when (its shift is found from that instant); both NULL when there is none.
-- `event_id` names an event without a foreign key: conversions travel in the export,
-- events do not.
CREATE TABLE conversions (
    id TEXT PRIMARY KEY,
    fan_id TEXT NOT NULL REFERENCES fans(id),
    event_id TEXT,
    kind TEXT NOT NULL,
    value_cents BIGINT NOT NULL,
    client_id TEXT,
    recorded_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    agent_id TEXT REFERENCES members(id),
    reply_at BIGINT,
    CHECK (value_cents >= 0),
    CHECK ((agent_id IS NULL) = (reply_at IS NULL))
);
CREATE UNIQUE INDEX conversions_client_id ON conversions (recorded_by, client_id);
CREATE INDEX conversions_by_time ON conversions (created_at);
CREATE INDEX conversions_by_fan ON conversions (fan_id, created_at);
CREATE INDEX conversions_by_event ON conversions (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX metric_team_messages_by_conversation ON metric_team_messages (conversation_id, sent_at);
