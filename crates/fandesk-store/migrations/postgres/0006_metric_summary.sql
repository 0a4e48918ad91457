-- Reply-rate counters per author and UTC hour (issue 6 › Benchmark: the summary reads
-- these instead of one row per team message). Maintained in the same group-commit
-- transaction as `metric_team_messages`: `sent` counts the author's public human team
-- messages sent in the hour, `answered` those the fan answered within 24 h. A summary
-- reads the counters for whole hours whose every reply window is over and that no shift or
-- day boundary cuts, and the rows for the rest, so its numbers stay exactly those of the
-- rows. Times are microseconds since the Unix epoch (UTC); `hour` is the hour's start.
CREATE TABLE metric_reply_hours (
    hour BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    sent BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    PRIMARY KEY (hour, author_id)
);

-- The rows written before this migration.
INSERT INTO metric_reply_hours (hour, author_id, sent, answered)
    SELECT sent_at - ((sent_at % 3600000000) + 3600000000) % 3600000000, author_id, COUNT(*),
           SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END)
    FROM metric_team_messages
    GROUP BY sent_at - ((sent_at % 3600000000) + 3600000000) % 3600000000, author_id;

-- A resolution's `superseded_at` is when the conversation was next resolved (NULL: not
-- since), set by the batch that commits that next resolution. A period counts a
-- conversation once, by its last resolution in the period: the one resolved in it whose
-- next resolution is not (`superseded_at IS NULL OR superseded_at >= to`) — no window
-- function over the period's rows.
ALTER TABLE metric_resolutions ADD COLUMN superseded_at BIGINT;
CREATE INDEX metric_resolutions_by_conversation ON metric_resolutions (conversation_id, resolved_at);
UPDATE metric_resolutions SET superseded_at = (
    SELECT MIN(later.resolved_at) FROM metric_resolutions later
    WHERE later.conversation_id = metric_resolutions.conversation_id
      AND (later.resolved_at > metric_resolutions.resolved_at
           OR (later.resolved_at = metric_resolutions.resolved_at AND later.id > metric_resolutions.id)));
-- Covers the summary's read, so a week's resolutions come from the index alone.
DROP INDEX metric_resolutions_by_time;
CREATE INDEX metric_resolutions_by_time ON metric_resolutions
    (resolved_at, superseded_at, assignee_id, escalated, public_messages);
