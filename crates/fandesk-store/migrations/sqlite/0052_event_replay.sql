-- An event's chat replay reads its room's messages by the time they were sent.
CREATE INDEX room_events_by_time ON room_events (room_id, created_at);
