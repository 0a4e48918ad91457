-- Failed logins per account (the email as typed, trimmed and lowercased, whether or not a
-- member has it), shared by every node: the login backoff holds across the cluster and
-- across restarts. A successful login deletes its row; old rows are purged.
CREATE TABLE login_failures (
    account TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL
);
