-- +goose Up
-- The rows are the schedule of an order's background work: a pending order
-- is closed once expires_at passes, and an attempt is asked about from its
-- poll_at on. A sweep turns what is due into River jobs in batches, so that
-- creating an order writes no job. expiry_scheduled says the sweep has seen
-- the order past its expiry (and made its job if it was still pending);
-- orders made before this migration have their jobs already. The index
-- leaves status out so that paying an order changes no indexed column.
-- An event not yet dispatched has no webhook deliveries scheduled yet: the
-- sweep schedules them (the outbox relay), so that paying an order reads no
-- endpoints and inserts no delivery job.
ALTER TABLE orders ADD COLUMN expiry_scheduled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE orders SET expiry_scheduled = TRUE;
DROP INDEX orders_pending_expiry;
CREATE INDEX orders_expiry_due ON orders (expires_at) WHERE NOT expiry_scheduled;
ALTER TABLE payments ADD COLUMN poll_at TIMESTAMPTZ NULL;
CREATE INDEX payments_poll_due ON payments (poll_at) WHERE poll_at IS NOT NULL;
ALTER TABLE events ADD COLUMN dispatched BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX events_undispatched ON events (created_at) WHERE NOT dispatched;
-- Room on each page for the new versions of its rows: paying an order and
-- its attempt then updates them in place (HOT), without new index entries
-- or new pages. An attempt's row is large (its credential) and changes two
-- or three times: half of each page is left free.
ALTER TABLE orders SET (fillfactor = 70);
ALTER TABLE payments SET (fillfactor = 50);

-- +goose Down
ALTER TABLE payments RESET (fillfactor);
ALTER TABLE orders RESET (fillfactor);
DROP INDEX events_undispatched;
ALTER TABLE events DROP COLUMN dispatched;
DROP INDEX payments_poll_due;
ALTER TABLE payments DROP COLUMN poll_at;
DROP INDEX orders_expiry_due;
CREATE INDEX orders_pending_expiry ON orders (expires_at) WHERE status = 'pending';
ALTER TABLE orders DROP COLUMN expiry_scheduled;
