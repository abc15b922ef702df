-- +goose Up
-- orders: the current state of each order, written only by the projector.
-- last_seq guards every update, so a replayed or reordered event never moves
-- an order backwards.
CREATE TABLE orders (
    order_id        text PRIMARY KEY,
    workflow_id     text NOT NULL,
    payment_id      text NOT NULL,
    state           text NOT NULL,
    step            text NOT NULL DEFAULT '',
    terminal        boolean NOT NULL DEFAULT false,
    amount_cents    bigint NOT NULL DEFAULT 0,
    items           jsonb NOT NULL DEFAULT '[]',
    address         jsonb NOT NULL DEFAULT '{}',
    manual_review   boolean NOT NULL DEFAULT false,
    payment_status  text NOT NULL DEFAULT '',
    tracking_number text NOT NULL DEFAULT '',
    failure_reason  text NOT NULL DEFAULT '',
    snapshot        jsonb NOT NULL,
    last_seq        bigint NOT NULL,
    last_event_type text NOT NULL,
    accepted_at     timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    completed_at    timestamptz
);
-- Keyset pagination of GET /orders?status=...: (state, accepted_at, order_id).
CREATE INDEX orders_state_accepted_idx ON orders (state, accepted_at DESC, order_id DESC);
CREATE INDEX orders_accepted_idx ON orders (accepted_at DESC, order_id DESC);

-- events: append-only audit log, one row per event ID.
CREATE TABLE events (
    event_id     text PRIMARY KEY,
    order_id     text NOT NULL REFERENCES orders (order_id),
    seq          bigint NOT NULL,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}',
    snapshot     jsonb NOT NULL,
    projected_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, seq)
);

-- payments: one row per payment_id; the charge is an idempotent upsert.
CREATE TABLE payments (
    payment_id   text PRIMARY KEY,
    order_id     text NOT NULL,
    amount_cents bigint NOT NULL,
    status       text NOT NULL CHECK (status IN ('charged', 'refunded')),
    charge_calls integer NOT NULL DEFAULT 1,
    charged_at   timestamptz NOT NULL DEFAULT now(),
    refunded_at  timestamptz
);
CREATE INDEX payments_order_idx ON payments (order_id);

-- +goose Down
DROP TABLE payments;
DROP TABLE events;
DROP TABLE orders;
