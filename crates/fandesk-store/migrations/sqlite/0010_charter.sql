-- The team's communication charter (docs/product.md › Charter): every saved version of the
-- TOML document, numbered 1, 2, … (the newest is in force), and the review sign-offs.
-- Member ids are kept as text with the name at the time, like the audit log, so history
-- outlives a member.
CREATE TABLE charter_versions (
    version BIGINT PRIMARY KEY,
    toml TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL for a version the server wrote itself (the seed of a fresh charter).
    created_by TEXT,
    created_by_name TEXT NOT NULL
);

CREATE TABLE charter_reviews (
    id TEXT PRIMARY KEY,
    -- The version that was reviewed.
    version BIGINT NOT NULL REFERENCES charter_versions(version),
    reviewed_at BIGINT NOT NULL,
    reviewed_by TEXT NOT NULL,
    reviewed_by_name TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX charter_reviews_by_time ON charter_reviews (reviewed_at);
