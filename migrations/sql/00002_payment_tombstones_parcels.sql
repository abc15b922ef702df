-- +goose Up
-- A refund that finds no charge leaves a tombstone ('voided'), so a charge
-- attempt that commits after it (it timed out, then landed) cannot take the
-- money of a cancelled order: the charge upsert finds the row and refuses.
ALTER TABLE payments ALTER COLUMN charged_at DROP NOT NULL;
ALTER TABLE payments ALTER COLUMN charged_at DROP DEFAULT;
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('charged', 'refunded', 'voided'));

-- parcels: the simulated carrier's own record, one row per idempotency key
-- (one per order), so a repeated or retried dispatch returns the parcel the
-- carrier already took instead of shipping a second one.
CREATE TABLE parcels (
    idempotency_key text PRIMARY KEY,
    order_id        text NOT NULL,
    carrier         text NOT NULL,
    tracking_number text NOT NULL UNIQUE,
    address         jsonb NOT NULL,
    dispatch_calls  integer NOT NULL DEFAULT 1,
    dispatched_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parcels_order_idx ON parcels (order_id);

-- +goose Down
DROP TABLE parcels;
DELETE FROM payments WHERE status = 'voided';
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('charged', 'refunded'));
UPDATE payments SET charged_at = now() WHERE charged_at IS NULL;
ALTER TABLE payments ALTER COLUMN charged_at SET DEFAULT now();
ALTER TABLE payments ALTER COLUMN charged_at SET NOT NULL;
