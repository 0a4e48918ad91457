-- Scripted bot flows (docs/api.md › Flows). Times are microseconds since the Unix epoch.
-- A flow keeps every uploaded version; at most one flow is active, and new conversations
-- start its active version.
CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    latest_version BIGINT NOT NULL,
    -- The version new conversations start, on the active flow only.
    active_version BIGINT,
    -- 1 on the active flow, NULL on every other: the unique constraint allows one.
    active_slot BIGINT UNIQUE CHECK (active_slot = 1)
);

CREATE TABLE flow_versions (
    flow_id TEXT NOT NULL REFERENCES flows(id),
    version BIGINT NOT NULL,
    -- `yaml` or `json`: how `source` is written.
    format TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, version)
);

-- The flow a conversation runs, pinned to the version active when it opened.
CREATE TABLE conversation_flows (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    flow_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- `starting` (not greeted yet), `waiting` (at `waiting_at`), `done`.
    state TEXT NOT NULL,
    waiting_at TEXT,
    -- The `seq` of the last fan message the flow answered: none is answered twice.
    last_input_seq BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- The buttons under a flow's message, as a JSON array of {label, value}.
ALTER TABLE messages ADD COLUMN quick_replies TEXT;
