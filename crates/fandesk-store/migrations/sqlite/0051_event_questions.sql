-- An event's questions (Q&A), their upvotes (one row per question and fan, so a repeated
-- upvote changes nothing) and the event's timeline: one entry per change of a question,
-- numbered densely by `seq` from `events.last_seq` (topic `event:{id}`). Every entry is
-- seen by fans too (a hidden question's entries are shown to them as its removal, without
-- its text), so one sequence serves every audience. Times are microseconds since the Unix
-- epoch (UTC).
ALTER TABLE events ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE event_questions (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events(id),
    fan_id TEXT NOT NULL REFERENCES fans(id),
    author_name TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    upvotes BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (state IN ('open', 'answered', 'pinned', 'hidden')),
    UNIQUE (event_id, fan_id, client_msg_id)
);
CREATE INDEX event_questions_by_event ON event_questions (event_id, created_at);

CREATE TABLE event_question_upvotes (
    question_id TEXT NOT NULL REFERENCES event_questions(id),
    fan_id TEXT NOT NULL REFERENCES fans(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (question_id, fan_id)
);

CREATE TABLE event_entries (
    event_id TEXT NOT NULL REFERENCES events(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    question_id TEXT NOT NULL REFERENCES event_questions(id),
    created_at BIGINT NOT NULL,
    CHECK (kind IN ('question.created', 'question.updated')),
    PRIMARY KEY (event_id, seq)
);
