-- How far each team member has read each conversation (the inbox's unread state): the
-- highest timeline `seq` they have seen. Only moves forward; not part of the timeline and
-- not exported (a member's reading position is not workspace data).
CREATE TABLE conversation_reads (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    member_id TEXT NOT NULL REFERENCES members(id),
    last_read_seq BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, member_id)
);
