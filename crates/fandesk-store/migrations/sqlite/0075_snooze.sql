-- A snoozed conversation's wake-up time (docs/api.md › Snooze); NULL unless the
-- conversation is snoozed. Microseconds since the epoch, like every other time.
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
