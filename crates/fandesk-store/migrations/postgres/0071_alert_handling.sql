-- Alerts are acknowledged ("someone is on it") or dismissed ("nothing to do") by a
-- supervisor, lead or the owner; who did it and when are kept (docs/api.md › Alerts).
ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE alerts ADD COLUMN handled_by TEXT REFERENCES members(id);
ALTER TABLE alerts ADD COLUMN handled_at BIGINT;
CREATE INDEX alerts_by_state ON alerts (state, created_at);
