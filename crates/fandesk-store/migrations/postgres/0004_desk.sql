-- The agent desk (issue 3). Times are microseconds since the Unix epoch (UTC).

-- Fan profiles (PRODUCT.md › C1): tags and attributes as JSON text (a sorted array of
-- lowercase tags; an object of string values), lifetime spend in the platform's minor unit.
ALTER TABLE fans ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE fans ADD COLUMN lifetime_spend_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fans ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE fans ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- Routing (PRODUCT.md › C2). `priority` (0001) holds the score without its waiting term;
-- these are its inputs as JSON ("why is this first?"). The queue adds waiting live.
ALTER TABLE conversations ADD COLUMN priority_inputs TEXT NOT NULL DEFAULT '[]';
-- Start of the current opening (creation or reopen): FRT, the SLA timer and the off-hours
-- reply count once per opening (PRODUCT.md › Metric definitions).
ALTER TABLE conversations ADD COLUMN opened_at BIGINT;
ALTER TABLE conversations ADD COLUMN off_hours_replied_at BIGINT;
CREATE INDEX conversations_by_priority ON conversations (status, assignee_id, priority);

-- Per-agent ceiling of automatically assigned conversations; 0 takes none.
ALTER TABLE members ADD COLUMN max_concurrent BIGINT NOT NULL DEFAULT 5;

-- Automatic assignments, for "assigned today" (spreads work) and the record of why.
CREATE TABLE desk_assignments (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX desk_assignments_by_member ON desk_assignments (member_id, created_at);

-- Named shifts in the creator's time zone: weekdays as 'mon tue …', local 'HH:MM' times.
CREATE TABLE shifts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    weekdays TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE shift_members (
    shift_id TEXT NOT NULL REFERENCES shifts(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id),
    PRIMARY KEY (shift_id, member_id)
);
-- The last clock-in or clock-out of each member.
CREATE TABLE member_clock (
    member_id TEXT PRIMARY KEY REFERENCES members(id),
    clocked_in BOOLEAN NOT NULL,
    at BIGINT NOT NULL
);

-- Canned responses (PRODUCT.md › C3).
CREATE TABLE canned_responses (
    id TEXT PRIMARY KEY,
    shortcut TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One row per message sent from a template; counted only when the message exists.
CREATE TABLE canned_uses (
    message_id TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    -- Sent with the template's first line unedited (allowed in `warn` mode).
    unedited BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX canned_uses_by_template ON canned_uses (template_id, created_at);

-- Timers that survive restarts (SLA first response, …): one row per `job_key`, claimed when
-- due with a lease so a crashed worker's job runs again, marked done when handled.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    job_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    claimed_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE done_at IS NULL;
