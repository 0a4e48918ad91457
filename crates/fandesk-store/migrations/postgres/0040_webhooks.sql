-- Outgoing webhooks (docs/api.md › Webhooks). Times are microseconds since the Unix epoch.
-- A webhook is never deleted, only marked so: its delivery log keeps its rows.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    -- Subscribed event names, space-separated (`message.created alert.raised`).
    events TEXT NOT NULL,
    -- The HMAC-SHA256 key of `X-Fandesk-Signature`; never shown again after creation.
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);

-- One row per event sent to one webhook: its id is the `X-Fandesk-Delivery` header, the
-- same on every attempt. The attempts themselves are a job on the jobs table.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event TEXT NOT NULL,
    -- `pending` (attempts left), `delivered` (a 2xx), `failed` (gave up), `cancelled`
    -- (the webhook was deleted first).
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- The HTTP status of the last attempt, or why it got none (refused address, timeout).
    last_status_code BIGINT,
    last_error TEXT,
    last_attempt_at BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_last_attempt ON webhook_deliveries (webhook_id, last_attempt_at);
