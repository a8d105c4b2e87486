-- +goose Up
-- product_id: the app store product an attempt buys (Apple); the store, not
-- cashier, prices it.
ALTER TABLE payments ADD COLUMN product_id TEXT NOT NULL DEFAULT '';
-- A store transaction (Apple's transactionId, and the originalTransactionId
-- a restore carries) pays at most one attempt, ever: its primary key is the
-- guard, claimed in the transaction that pays.
CREATE TABLE channel_transactions (
    channel        TEXT      NOT NULL,
    transaction_id TEXT      NOT NULL,
    payment_id     BIGINT    NOT NULL REFERENCES payments (id),
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, transaction_id)
);
CREATE INDEX channel_transactions_payment ON channel_transactions (payment_id);

-- +goose Down
DROP TABLE channel_transactions;
ALTER TABLE payments DROP COLUMN product_id;
