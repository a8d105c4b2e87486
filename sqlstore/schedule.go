package sqlstore

import (
	"context"
	"fmt"
	"time"

	"cashier"
)

// The guard is repeated outside the subquery: an instance that waited for
// another's row lock re-checks it on the row as the other left it, and skips
// a row the other claimed.

func (t *tx) ClaimDueExpiries(ctx context.Context, now time.Time, limit int) ([]int64, int, error) {
	rows, err := t.query(ctx, `UPDATE orders SET expiry_scheduled = TRUE
		WHERE NOT expiry_scheduled AND id IN (
			SELECT id FROM orders WHERE NOT expiry_scheduled AND expires_at <= ?
			ORDER BY expires_at LIMIT ?)
		RETURNING id, status`, dbTime(now), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("claim due expiries: %w", err)
	}
	defer rows.Close()
	var pending []int64
	claimed := 0
	for rows.Next() {
		var id int64
		var status cashier.OrderStatus
		if err := rows.Scan(&id, &status); err != nil {
			return nil, 0, fmt.Errorf("claim due expiries: %w", err)
		}
		claimed++
		if status == cashier.OrderPending {
			pending = append(pending, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("claim due expiries: %w", err)
	}
	return pending, claimed, nil
}

func (t *tx) ClaimDuePolls(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	return t.claimIDs(ctx, "due polls", `UPDATE payments SET poll_at = NULL
		WHERE poll_at IS NOT NULL AND id IN (
			SELECT id FROM payments WHERE poll_at IS NOT NULL AND poll_at <= ?
			ORDER BY poll_at LIMIT ?)
		RETURNING id`, dbTime(now), limit)
}

func (t *tx) ClaimUndispatchedEvents(ctx context.Context, limit int) ([]cashier.Event, error) {
	rows, err := t.query(ctx, `UPDATE events SET dispatched = TRUE
		WHERE NOT dispatched AND id IN (
			SELECT id FROM events WHERE NOT dispatched ORDER BY created_at LIMIT ?)
		RETURNING id, type`, limit)
	if err != nil {
		return nil, fmt.Errorf("claim undispatched events: %w", err)
	}
	defer rows.Close()
	var events []cashier.Event
	for rows.Next() {
		var e cashier.Event
		if err := rows.Scan(&e.ID, &e.Type); err != nil {
			return nil, fmt.Errorf("claim undispatched events: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim undispatched events: %w", err)
	}
	return events, nil
}

func (t *tx) claimIDs(ctx context.Context, what, query string, args ...any) ([]int64, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", what, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("claim %s: %w", what, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim %s: %w", what, err)
	}
	return ids, nil
}
