-- node_heartbeats: when each node last wrote its viewings. An open viewing ends, for the
-- figures, at the later of its own `seen_at` (its join) and its node's heartbeat, so a node
-- marks all of its open viewings seen by writing one row a second instead of one per
-- viewer (a premiere's 10,000 viewers were 10,000 row updates a second on the writer).
CREATE TABLE node_heartbeats (
    node TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
