-- +goose Up
-- verified: false for a message that failed verification (forged, or
-- malformed): only the first few KiB of its body are kept, and it is purged
-- after the retention period. body_size: the size of the body as received.
ALTER TABLE inbound_messages ADD COLUMN verified BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE inbound_messages ADD COLUMN body_size BIGINT NOT NULL DEFAULT 0;
UPDATE inbound_messages SET body_size = octet_length(body);
CREATE INDEX inbound_unverified ON inbound_messages (received_at) WHERE NOT verified;

-- +goose Down
DROP INDEX inbound_unverified;
ALTER TABLE inbound_messages DROP COLUMN body_size;
ALTER TABLE inbound_messages DROP COLUMN verified;
