-- +goose Up
-- owner: the API client that started the order (empty when the API ran
-- without keys). The API filters every read by it, so the list is served
-- by (owner, accepted_at, order_id) and (owner, state, accepted_at, order_id).
ALTER TABLE orders ADD COLUMN owner text NOT NULL DEFAULT '';
UPDATE orders SET owner = COALESCE(snapshot->>'owner', '');
CREATE INDEX orders_owner_accepted_idx ON orders (owner, accepted_at DESC, order_id DESC);
CREATE INDEX orders_owner_state_accepted_idx ON orders (owner, state, accepted_at DESC, order_id DESC);

-- +goose Down
DROP INDEX orders_owner_state_accepted_idx;
DROP INDEX orders_owner_accepted_idx;
ALTER TABLE orders DROP COLUMN owner;
