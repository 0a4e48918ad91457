-- Integration API tokens (docs/api.md › API tokens): long-lived bearer tokens the owner
-- creates for outside systems. Only the SHA-256 of the secret is kept; `prefix` is its
-- first characters, shown so the owner can tell tokens apart. A token acts with `role`
-- (never owner) on behalf of `created_by`. Revoked tokens stay listed.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
