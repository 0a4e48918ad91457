-- A scheduled message's delivery takes its due recipients 500 at a time in
-- (due_at, fan_id) order. With only (scheduled_id, due_at) indexed, every batch of a
-- segment due at one instant read and sorted all its pending recipients: quadratic in the
-- segment's size (100,000 recipients took minutes). With fan_id in the index the batch is
-- the next 500 entries of the index.
DROP INDEX scheduled_deliveries_pending;
CREATE INDEX scheduled_deliveries_pending ON scheduled_deliveries (scheduled_id, due_at, fan_id) WHERE status = 'pending';
-- A message's progress (recipients pending, sent, cancelled, failed) is counted from the
-- index alone instead of from every recipient's row.
CREATE INDEX scheduled_deliveries_by_status ON scheduled_deliveries (scheduled_id, status);
