-- +goose Up
CREATE TABLE products (
    id     BIGSERIAL PRIMARY KEY,
    name   TEXT    NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE standards (
    id         BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    name       TEXT   NOT NULL,
    price      BIGINT NOT NULL CHECK (price > 0),
    stock      BIGINT NOT NULL DEFAULT 0 CHECK (stock >= 0)
);
CREATE INDEX standards_product ON standards (product_id, id);

CREATE TABLE schemes (
    id      BIGSERIAL PRIMARY KEY,
    user_id TEXT   NOT NULL,
    name    TEXT   NOT NULL,
    price   BIGINT NOT NULL CHECK (price > 0)
);
CREATE INDEX schemes_user ON schemes (user_id, id);

-- One line per user and standard; the unique index also serves the lookups by user.
CREATE TABLE cart_items (
    id          BIGSERIAL PRIMARY KEY,
    user_id     TEXT      NOT NULL,
    product_id  BIGINT    NOT NULL,
    standard_id BIGINT    NOT NULL REFERENCES standards (id),
    count       BIGINT    NOT NULL CHECK (count > 0),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, standard_id)
);

CREATE TABLE addresses (
    id         BIGSERIAL PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    phone      TEXT    NOT NULL DEFAULT '',
    region     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    is_default BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX addresses_user ON addresses (user_id, id);
-- At most one default address per user.
CREATE UNIQUE INDEX addresses_user_default ON addresses (user_id) WHERE is_default;

-- The shipping address snapshot as JSON, '' for none.
ALTER TABLE orders ADD COLUMN address TEXT NOT NULL DEFAULT '';

ALTER TABLE order_items ADD COLUMN product_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN standard_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN scheme_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_items ADD COLUMN delivery_time TIMESTAMPTZ NULL;
ALTER TABLE order_items ADD COLUMN remarks TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE order_items DROP COLUMN remarks;
ALTER TABLE order_items DROP COLUMN delivery_time;
ALTER TABLE order_items DROP COLUMN scheme_id;
ALTER TABLE order_items DROP COLUMN standard_id;
ALTER TABLE order_items DROP COLUMN product_id;
ALTER TABLE orders DROP COLUMN address;
DROP TABLE addresses;
DROP TABLE cart_items;
DROP TABLE schemes;
DROP TABLE standards;
DROP TABLE products;
