-- +goose Up
CREATE TABLE packages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL,
    price            BIGINT  NOT NULL CHECK (price > 0),
    apple_product_id TEXT    NOT NULL DEFAULT '',
    gold             BIGINT  NOT NULL DEFAULT 0,
    diamond          BIGINT  NOT NULL DEFAULT 0,
    active           BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE coupons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT      NOT NULL,
    name       TEXT      NOT NULL,
    discount   BIGINT    NOT NULL CHECK (discount > 0),
    min_amount BIGINT    NOT NULL DEFAULT 0 CHECK (min_amount >= 0),
    expires_at TIMESTAMP NULL,
    status     TEXT      NOT NULL,
    order_id   BIGINT    NOT NULL DEFAULT 0
);
CREATE INDEX coupons_user ON coupons (user_id, id);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT      NOT NULL,
    kind            TEXT      NOT NULL,
    status          TEXT      NOT NULL,
    source          TEXT      NOT NULL DEFAULT '',
    subject         TEXT      NOT NULL DEFAULT '',
    amount          BIGINT    NOT NULL CHECK (amount > 0),
    discount        BIGINT    NOT NULL DEFAULT 0 CHECK (discount >= 0),
    payable         BIGINT    NOT NULL CHECK (payable > 0),
    paid_amount     BIGINT    NOT NULL DEFAULT 0,
    refunded_amount BIGINT    NOT NULL DEFAULT 0 CHECK (refunded_amount <= paid_amount),
    coupon_id       BIGINT    NOT NULL DEFAULT 0,
    cost_order_id   BIGINT    NOT NULL DEFAULT 0,
    cost_credit     BIGINT    NOT NULL DEFAULT 0,
    cost_claimed_by BIGINT    NOT NULL DEFAULT 0,
    remarks         TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    paid_at         TIMESTAMP NULL,
    closed_at       TIMESTAMP NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_pending_expiry ON orders (expires_at) WHERE status = 'pending';

CREATE TABLE order_items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   BIGINT NOT NULL REFERENCES orders (id),
    package_id BIGINT NOT NULL DEFAULT 0,
    name       TEXT   NOT NULL,
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    count      BIGINT NOT NULL CHECK (count > 0)
);
CREATE INDEX order_items_order ON order_items (order_id);

CREATE TABLE payments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id         BIGINT    NOT NULL REFERENCES orders (id),
    out_trade_no     TEXT      NOT NULL UNIQUE,
    channel          TEXT      NOT NULL,
    gateway          TEXT      NOT NULL DEFAULT '',
    amount           BIGINT    NOT NULL CHECK (amount > 0),
    status           TEXT      NOT NULL,
    credential       TEXT      NOT NULL DEFAULT '',
    channel_trade_no TEXT      NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    paid_at          TIMESTAMP NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT      NOT NULL,
    method       TEXT      NOT NULL,
    path         TEXT      NOT NULL,
    query        TEXT      NOT NULL DEFAULT '',
    headers      TEXT      NOT NULL DEFAULT '{}',
    body         BLOB      NOT NULL,
    remote_addr  TEXT      NOT NULL DEFAULT '',
    received_at  TIMESTAMP NOT NULL,
    outcome      TEXT      NOT NULL,
    detail       TEXT      NOT NULL DEFAULT '',
    out_trade_no TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX inbound_out_trade_no ON inbound_messages (out_trade_no);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    type       TEXT      NOT NULL,
    order_id   BIGINT    NOT NULL DEFAULT 0,
    payload    TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_order ON events (order_id);

-- +goose Down
DROP TABLE events;
DROP TABLE inbound_messages;
DROP TABLE payments;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE coupons;
DROP TABLE packages;
