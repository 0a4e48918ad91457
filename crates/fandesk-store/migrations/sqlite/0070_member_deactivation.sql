-- A deactivated member cannot log in and holds no session; their conversations and
-- messages stay (docs/product.md › Roles › Managing the team). NULL while active.
ALTER TABLE members ADD COLUMN deactivated_at BIGINT;
