package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cashier"
)

const idempotencyColumns = "scope, key, request_hash, done, status, body, created_at"

func scanIdempotency(s interface{ Scan(...any) error }) (cashier.IdempotencyRecord, error) {
	var r cashier.IdempotencyRecord
	err := s.Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Done, &r.Status, &r.Body, &r.CreatedAt)
	if len(r.Body) == 0 {
		r.Body = nil
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, err
}

// claimAttempts bounds the retries of a claim whose rival row vanished
// (dropped or purged) between the insert and the read.
const claimAttempts = 3

// ClaimIdempotencyKey inserts an unfinished record for (rec.Scope, rec.Key)
// unless the primary key already holds one. Of two racing claims the second
// insert waits for the first transaction (PostgreSQL, on the unique index) or
// runs after it (SQLite, one writer at a time), and then does nothing: exactly
// one claims. The loser reads the winner's record, which it can see once the
// winner committed (each statement reads the latest committed data).
func (t *tx) ClaimIdempotencyKey(ctx context.Context, rec *cashier.IdempotencyRecord) (*cashier.IdempotencyRecord, bool, error) {
	if rec.Scope == "" || rec.Key == "" {
		return nil, false, cashier.Errorf(cashier.EINVALID, "idempotency key and scope are required")
	}
	for range claimAttempts {
		n, err := t.exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, done, status, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, false, 0, []byte{}, dbTime(rec.CreatedAt))
		if err != nil {
			return nil, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n > 0 {
			return nil, true, nil
		}
		existing, err := t.idempotencyKey(ctx, rec.Scope, rec.Key)
		if err == nil {
			return existing, false, nil
		}
		if cashier.ErrorCode(err) != cashier.ENOTFOUND {
			return nil, false, err
		}
	}
	return nil, false, errors.New("claim idempotency key: the existing record keeps vanishing")
}

func (t *tx) idempotencyKey(ctx context.Context, scope, key string) (*cashier.IdempotencyRecord, error) {
	r, err := scanIdempotency(t.queryRow(ctx, "SELECT "+idempotencyColumns+" FROM idempotency_keys WHERE scope = ? AND key = ?",
		scope, key))
	if err != nil {
		return nil, notFound(err, "idempotency key", scope+"/"+key)
	}
	return &r, nil
}

// FinishIdempotencyKey stores the response of the request that claimed the
// key; a missing record is ENOTFOUND.
func (t *tx) FinishIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	ok, err := t.changed(ctx, "UPDATE idempotency_keys SET done = ?, status = ?, body = ? WHERE scope = ? AND key = ?",
		true, status, body, scope, key)
	if err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	if !ok {
		return cashier.Errorf(cashier.ENOTFOUND, "idempotency key %s/%s not found", scope, key)
	}
	return nil
}

// DropIdempotencyKey deletes the record, if there is one.
func (t *tx) DropIdempotencyKey(ctx context.Context, scope, key string, createdAt time.Time) (bool, error) {
	q, args := "DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", []any{scope, key}
	if !createdAt.IsZero() {
		q += " AND done = FALSE AND created_at = ?"
		args = append(args, dbTime(createdAt))
	}
	n, err := t.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("drop idempotency key: %w", err)
	}
	return n > 0, nil
}

func (t *tx) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.exec(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", dbTime(before))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}
