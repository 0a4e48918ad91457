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
