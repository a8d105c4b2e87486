package sqlstore

import (
	"context"
	"fmt"

	"cashier"
)

func (t *tx) Stats(ctx context.Context) (*cashier.Stats, error) {
	st := &cashier.Stats{}
	for _, c := range []struct {
		into  *map[string]int64
		query string
	}{
		{&st.Orders, "SELECT status, COUNT(*) FROM orders GROUP BY status"},
		{&st.Payments, "SELECT status, COUNT(*) FROM payments GROUP BY status"},
		{&st.Refunds, "SELECT status, COUNT(*) FROM refunds GROUP BY status"},
		{&st.Inbound, "SELECT outcome, COUNT(*) FROM inbound_messages GROUP BY outcome"},
		{&st.Jobs, "SELECT state, COUNT(*) FROM river_job GROUP BY state"},
	} {
		m, err := t.counts(ctx, c.query)
		if err != nil {
			return nil, err
		}
		*c.into = m
	}
	// Every state of River's jobs is reported, at 0 when none is in it, so
	// that a graph of scheduled or retryable jobs never loses its series.
	for _, state := range []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"} {
		st.Jobs[state] += 0
	}
	return st, nil
}

func (t *tx) counts(ctx context.Context, query string) (map[string]int64, error) {
	rows, err := t.query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		m[k] = n
	}
	return m, rows.Err()
}
