-- Premieres and live events. Each owns one room (its chat). The status (scheduled, live,
-- ended) is computed from starts_at and duration_secs, never stored. Times are
-- microseconds since the Unix epoch (UTC).
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL UNIQUE REFERENCES rooms(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    media_url TEXT,
    qa BOOLEAN NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (kind IN ('premiere', 'live')),
    CHECK (kind = 'live' OR media_url IS NOT NULL)
);
CREATE INDEX events_by_start ON events (starts_at);
