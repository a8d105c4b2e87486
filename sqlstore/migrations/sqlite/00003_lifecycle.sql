-- +goose Up
-- A refund of all or part of a paid payment. The order's refunded_amount is
-- the sum of its pending and succeeded refunds, kept by the guarded
-- ReserveRefund and ReleaseRefund updates.
CREATE TABLE refunds (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id          BIGINT    NOT NULL REFERENCES orders (id),
    payment_id        BIGINT    NOT NULL REFERENCES payments (id),
    out_refund_no     TEXT      NOT NULL UNIQUE,
    amount            BIGINT    NOT NULL CHECK (amount > 0),
    reason            TEXT      NOT NULL DEFAULT '',
    status            TEXT      NOT NULL,
    channel_refund_no TEXT      NOT NULL DEFAULT '',
    detail            TEXT      NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    settled_at        TIMESTAMP NULL
);
CREATE INDEX refunds_order ON refunds (order_id);

-- events: the event types the endpoint wants, as a JSON array; [] for all.
CREATE TABLE webhook_endpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT      NOT NULL,
    secret     TEXT      NOT NULL,
    events     TEXT      NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT      NOT NULL,
    endpoint_id BIGINT    NOT NULL,
    attempt     INTEGER   NOT NULL,
    status_code INTEGER   NOT NULL DEFAULT 0,
    error       TEXT      NOT NULL DEFAULT '',
    duration_ms BIGINT    NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id);

-- The primary key is what lets exactly one of two racing requests claim a key.
CREATE TABLE idempotency_keys (
    scope        TEXT      NOT NULL,
    key          TEXT      NOT NULL,
    request_hash TEXT      NOT NULL,
    done         BOOLEAN   NOT NULL DEFAULT FALSE,
    status       INTEGER   NOT NULL DEFAULT 0,
    body         BLOB      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE refunds;
